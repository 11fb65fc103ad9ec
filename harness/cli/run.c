#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/runner/runner.h"
#include "harness/targets/process.h"
#include "harness/targets/target.h"
#include "reports/reports.h"

#define MAX_IDS 128

typedef struct {
  const char *server, *server_url, *ca, *junit, *json, *transcripts, *expect, *run_dir;
  const char *ids[MAX_IDS];
  size_t nids;
  int dns_port, http01_port, tlsalpn01_port, strict, verbose, have_seed;
  uint64_t seed;
  acmeh_run_opts ro;
} run_args;

static int parse(run_args *a, int argc, char **argv) {
  static const struct option opts[] = {
      {"server", required_argument, 0, 'S'}, {"server-url", required_argument, 0, 'U'},
      {"ca", required_argument, 0, 'A'},     {"dns-port", required_argument, 0, 'D'},
      {"suite", required_argument, 0, 's'},  {"check", required_argument, 0, 'c'},
      {"level", required_argument, 0, 'l'},  {"jobs", required_argument, 0, 'j'},
      {"timeout", required_argument, 0, 't'}, {"junit", required_argument, 0, 'J'},
      {"json", required_argument, 0, 'O'},   {"transcripts", required_argument, 0, 'T'},
      {"expect", required_argument, 0, 'E'}, {"strict", no_argument, 0, 'X'},
      {"seed", required_argument, 0, 'e'},   {"verbose", no_argument, 0, 'v'},
      {"run-dir", required_argument, 0, 'R'}, {"http01-port", required_argument, 0, 'H'},
      {"tlsalpn01-port", required_argument, 0, 'L'}, {0}};
  a->ro.jobs = 1;
  a->ro.timeout_s = 30;
  for (int ch; (ch = getopt_long(argc, argv, "v", opts, NULL)) != -1;) {
    switch (ch) {
    case 'S': a->server = optarg; break;
    case 'U': a->server_url = optarg; break;
    case 'A': a->ca = optarg; break;
    case 'D': a->dns_port = atoi(optarg); break;
    case 's': a->ro.suite = optarg; break;
    case 'c':
      for (char *t = strtok(optarg, ","); t && a->nids < MAX_IDS; t = strtok(NULL, ",")) a->ids[a->nids++] = t;
      break;
    case 'l': a->ro.level = optarg; break;
    case 'j': a->ro.jobs = atoi(optarg); break;
    case 't': a->ro.timeout_s = atof(optarg); break;
    case 'J': a->junit = optarg; break;
    case 'O': a->json = optarg; break;
    case 'T': a->transcripts = optarg; break;
    case 'E': a->expect = optarg; break;
    case 'X': a->strict = 1; break;
    case 'e': a->seed = strtoull(optarg, NULL, 10), a->have_seed = 1; break;
    case 'v': a->verbose = 1; break;
    case 'R': a->run_dir = optarg; break;
    case 'H': a->http01_port = atoi(optarg); break;
    case 'L': a->tlsalpn01_port = atoi(optarg); break;
    default: return 2;
    }
  }
  if (!a->server == !a->server_url) return fprintf(stderr, "acme-harness run: give exactly one of --server or --server-url\n"), 2;
  if (a->ro.jobs < 1 || a->ro.jobs > 64 || a->ro.timeout_s <= 0)
    return fprintf(stderr, "acme-harness run: --jobs must be 1..64 and --timeout positive\n"), 2;
  a->ro.ids = a->ids, a->ro.nids = a->nids;
  a->ro.role = "server";
  a->ro.live = a->verbose;
  if (!a->have_seed) a->seed = ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid();
  return 0;
}

static int write_reports(run_args *a, acmeh_run_report *rep) {
  char err[512];
  int rc = ACMEH_OK;
  if (a->transcripts && (rc = acmeh_report_transcripts_write(rep, a->transcripts, err, sizeof err)))
    fprintf(stderr, "acme-harness: %s\n", err);
  if (a->junit && (rc = acmeh_report_junit_write(rep, a->junit, err, sizeof err)))
    fprintf(stderr, "acme-harness: %s\n", err);
  if (a->json && (rc = acmeh_report_json_write(rep, a->json, err, sizeof err)))
    fprintf(stderr, "acme-harness: %s\n", err);
  int color = !getenv("NO_COLOR") && isatty(STDOUT_FILENO);
  acmeh_report_summary(rep, stdout, color);
  if (a->junit) printf("junit: %s\n", a->junit);
  if (a->json) printf("json: %s\n", a->json);
  return rc;
}

static json_t *load_expectations(run_args *a, const json_t *target) {
  if (!a->expect) return target ? acmeh_target_expectations(target) : NULL;
  json_error_t je;
  json_t *e = json_load_file(a->expect, 0, &je);
  if (!json_is_object(e)) fprintf(stderr, "acme-harness: --expect %s: %s\n", a->expect, e ? "not an object" : je.text);
  return e;
}

/* Starts mocks and the target; fills env. Returns 0 or exit status 2. */
static int setup(run_args *a, acmeh_env *env, acmeh_mocks **mocks, json_t **target,
                 acmeh_target_run **tr, char *run_dir) {
  char err[1024];
  acmeh_mocks_config mc = {.dns_port = a->dns_port, .http01_port = a->http01_port,
                           .tlsalpn01_port = a->tlsalpn01_port, .mgmt_port = 0};
  if (acmeh_mocks_start(&mc, mocks, err, sizeof err)) return fprintf(stderr, "acme-harness: mocks: %s\n", err), 2;
  env->mocks = *mocks;
  env->seed = a->seed;
  env->verbose = a->verbose;
  env->domain = "acmeh.example.com";
  if (a->server_url) {
    env->directory_url = a->server_url, env->ca_file = a->ca, env->target_name = a->server_url;
    printf("mock DNS on 127.0.0.1:%d (udp+tcp), http-01 on :%d, tls-alpn-01 on :%d, management API on :%d\n",
           acmeh_mocks_dns_port(*mocks), acmeh_mocks_http01_port(*mocks), acmeh_mocks_tlsalpn01_port(*mocks),
           acmeh_mocks_mgmt_port(*mocks));
    return 0;
  }
  if (acmeh_target_load(a->server, target, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  snprintf(run_dir, 4096, "%s", a->run_dir ? a->run_dir : "/tmp/acme-harness-XXXXXX");
  if (a->run_dir ? mkdir(run_dir, 0755) && access(run_dir, W_OK) : !mkdtemp(run_dir))
    return fprintf(stderr, "acme-harness: cannot create run folder %s\n", run_dir), 2;
  if (acmeh_target_start(*target, run_dir, *mocks, tr, err, sizeof err))
    return fprintf(stderr, "acme-harness: %s\n", err), 2;
  env->directory_url = acmeh_target_directory(*tr);
  env->ca_file = acmeh_target_ca_file(*tr);
  env->target_name = a->server;
  env->claims = json_object_get(*target, "claims");
  fprintf(stderr, "target %s: directory %s, log %s\n", a->server, env->directory_url, acmeh_target_log(*tr));
  return 0;
}

static int execute(run_args *a, acmeh_env *env, const json_t *target) {
  acmeh_catalog cat;
  char err[512];
  if (acmeh_catalog_load(NULL, &cat, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  json_t *exp = load_expectations(a, target);
  a->ro.expectations = exp;
  acmeh_run_report rep;
  printf("acme-harness: target %s, seed %llu, %d job(s)\n", env->target_name, (unsigned long long)a->seed, a->ro.jobs);
  fflush(stdout);
  int rc = acmeh_runner_run(&cat, env, &a->ro, &rep, err, sizeof err);
  int status = 2;
  if (rc) fprintf(stderr, "acme-harness: %s\n", err);
  else {
    rep.tool_version = "0.1.0", rep.target = env->target_name, rep.role = "server";
    status = write_reports(a, &rep) ? 2 : acmeh_runner_exit_status(&rep, a->strict);
    acmeh_run_report_free(&rep);
  }
  json_decref(exp);
  acmeh_catalog_free(&cat);
  return status;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* A run folder holds the target's files and log: worth keeping only when
 * something went wrong, or when the user named it. */
static void tidy_run_dir(const run_args *a, const char *run_dir, int status) {
  if (!*run_dir || a->run_dir) return;
  if (status == 0) nftw(run_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  else fprintf(stderr, "acme-harness: target files and log kept in %s\n", run_dir);
}

int acmeh_cli_run(int argc, char **argv) {
  run_args a = {0};
  if (parse(&a, argc, argv)) return 2;
  acmeh_proc_install_cleanup(acmeh_runner_cancel);
  acmeh_env env = {0};
  acmeh_mocks *mocks = NULL;
  json_t *target = NULL;
  acmeh_target_run *tr = NULL;
  char run_dir[4096] = "";
  int status = setup(&a, &env, &mocks, &target, &tr, run_dir);
  if (status == 0) status = execute(&a, &env, target);
  acmeh_target_stop(tr);
  acmeh_mocks_stop(mocks);
  json_decref(target);
  tidy_run_dir(&a, run_dir, status);
  return status;
}
