/* acme-harness run: start mocks and the target, run the selected checks,
 * write reports, stop everything. Usage and environment problems are found
 * before anything starts where possible (exit 2). */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli/args.h"
#include "harness/cli/cli.h"
#include "harness/client/http.h"
#include "base/error.h"
#include "harness/dns/config.h"
#include "harness/runner/catalog.h"
#include "harness/runner/runner.h"
#include "harness/runner/scenario.h"
#include "harness/runner/suite.h"
#include "harness/targets/process.h"
#include "harness/cli/mocks_target.h"
#include "harness/client/challtestsrv.h"
#include "harness/targets/target.h"
#include "reports/reports.h"
#include "harness/client/tkauth.h"

#define MAX_IDS 128
/* Longest per-check budget accepted, in seconds. */
#define MAX_TIMEOUT_S 3600

typedef struct {
  const char *server, *server_url, *client, *ca, *junit, *json, *transcripts, *expect, *run_dir;
  const char *dnsup_server, *dnsup_zone, *tsig_key; /* reference client's dns-01 by UPDATE */
  int nameserver;                                   /* --nameserver: server is a nameserver target */
  const char *ids[MAX_IDS];
  size_t nids;
  int dns_port, http01_port, tlsalpn01_port, mgmt_port, strict, verbose, have_seed, timeout_given;
  int bundle_node_port; /* RFC 9891: the mock bundle node's TCPCL port; 0 = a free one */
  int no_expect, all_transcripts;
  const char *claims_file; /* --claims: what a --server-url server offers (a target's "claims" object) */
  json_t *claims;
  char peer_version[128]; /* the target's "version" command's answer, or "" */
  uint64_t seed;
  char drafts_arg[1024]; /* every --draft, comma-joined */
  json_t *drafts;        /* the revision under test per suite (acmeh_catalog_drafts) */
  int update_on;                /* --dns-update-server: publish TXT records by UPDATE */
  acmeh_dnsupdate_cfg update_cfg;
  acmeh_publisher publisher;    /* where the reference client publishes (acmeh_env.publisher) */
  const char *mocks_target;     /* --mocks: a mock target (challtestsrv) instead of the mocks' ports */
  acmeh_cli_mocks_target ext;   /* that target once started */
  acmeh_run_opts ro;
  acmeh_ta_env ta;              /* --token-authority, --ta-*: acmeh_env.token_authority */
} run_args;

enum { OPT_NAMESERVER = 0x100, OPT_DNSUP_SERVER, OPT_DNSUP_ZONE, OPT_TSIG_KEY, OPT_DRAFT, OPT_NO_EXPECT, OPT_REPORT_TRANSCRIPTS,
       OPT_CLAIMS, OPT_TA, OPT_TA_ACCOUNT, OPT_TA_SECRET, OPT_TA_CA, OPT_TA_MGMT, OPT_MOCKS, OPT_BUNDLE_NODE_PORT };

static const struct option opts[] = {
    {"server", required_argument, 0, 'S'},  {"server-url", required_argument, 0, 'U'},
    {"ca", required_argument, 0, 'A'},      {"dns-port", required_argument, 0, 'D'},
    {"suite", required_argument, 0, 's'},   {"check", required_argument, 0, 'c'},
    {"level", required_argument, 0, 'l'},   {"jobs", required_argument, 0, 'j'},
    {"timeout", required_argument, 0, 't'}, {"junit", required_argument, 0, 'J'},
    {"json", required_argument, 0, 'O'},    {"transcripts", required_argument, 0, 'T'},
    {"expect", required_argument, 0, 'E'},  {"strict", no_argument, 0, 'X'},
    {"seed", required_argument, 0, 'e'},    {"verbose", no_argument, 0, 'v'},
    {"help", no_argument, 0, 'h'},
    {"run-dir", required_argument, 0, 'R'}, {"http01-port", required_argument, 0, 'H'},
    {"tlsalpn01-port", required_argument, 0, 'L'}, {"mgmt-port", required_argument, 0, 'M'},
    {"client", required_argument, 0, 'C'}, {"nameserver", required_argument, 0, OPT_NAMESERVER},
    {"dns-update-server", required_argument, 0, OPT_DNSUP_SERVER}, {"dns-update-zone", required_argument, 0, OPT_DNSUP_ZONE},
    {"tsig-key", required_argument, 0, OPT_TSIG_KEY}, {"draft", required_argument, 0, OPT_DRAFT},
    {"no-expect", no_argument, 0, OPT_NO_EXPECT}, {"report-transcripts", required_argument, 0, OPT_REPORT_TRANSCRIPTS},
    {"claims", required_argument, 0, OPT_CLAIMS}, {"token-authority", required_argument, 0, OPT_TA},
    {"ta-account", required_argument, 0, OPT_TA_ACCOUNT}, {"ta-secret", required_argument, 0, OPT_TA_SECRET},
    {"ta-ca", required_argument, 0, OPT_TA_CA}, {"ta-mgmt", required_argument, 0, OPT_TA_MGMT},
    {"mocks", required_argument, 0, OPT_MOCKS}, {"bundle-node-port", required_argument, 0, OPT_BUNDLE_NODE_PORT}, {0}};

static void usage(FILE *f) {
  fputs("usage: acme-harness run --server TARGET | --server-url URL [--ca FILE] | --client TARGET [options]\n"
        "  --server TARGET     start a server target (targets/TARGET.json) and test it\n"
        "  --server-url URL    test a running server; --ca FILE verifies its TLS certificate;\n"
        "                      --claims FILE says what it offers (a target's \"claims\": ari, profiles,\n"
        "                      eab, ...), so those checks fail instead of skipping when it stops offering it\n"
        "  --client TARGET     test a client target against the reference server\n"
        "  --nameserver TARGET start a nameserver target (bind, mock-dns) and run the dnsupdate suite on it\n"
        "  --suite S[,S...]    suites to run (`acme-harness list` names them)\n"
        "  --draft SUITE=REV   the spec revision under test, repeatable (default each suite's newest;\n"
        "                      `acme-harness list --revisions`); checks of other revisions are not run\n"
        "  --check ID          globs, repeatable or comma-separated; --level MUST|SHOULD|MAY\n"
        "  --jobs N            checks at once (default 1)\n"
        "  --timeout SECONDS   per check (default 30; 300 for --client)\n"
        "  --junit F, --json F, --transcripts DIR   reports\n"
        "  --report-transcripts failed|all   JUnit/JSON carry the transcripts of failed, errored and\n"
        "                      xpassed checks (default) or of every check\n"
        "  --expect FILE       expected failures (check ID -> reason); default the target's own\n"
        "  --no-expect         no expectations at all: every failure is a plain fail\n"
        "  --strict            SHOULD and MAY failures count too (default: only MUST; JUnit then\n"
        "                      writes an uncounted failure as skipped, saying so)\n"
        "  --seed N, --verbose, --run-dir NEW-DIR\n"
        "  --dns-port P, --http01-port P, --tlsalpn01-port P, --mgmt-port P   mock ports (default free ones)\n"
        "  --mocks TARGET      with --server/--server-url: a mock target (challtestsrv: pebble-challtestsrv)\n"
        "                      stands in for the mocks; the server resolves and validates through it\n"
        "  --bundle-node-port P   the mock bundle node's TCPCLv4 port (bp-nodeid-00, suite dtn; default a free one)\n"
        "  --dns-update-server ADDR:PORT --dns-update-zone ZONE --tsig-key NAME:ALG:BASE64\n"
        "                      the reference client publishes dns-01 by TSIG-signed DNS UPDATE to that\n"
        "                      nameserver (which the server under test must resolve through)\n"
        "  --token-authority URL --ta-account ID --ta-secret S [--ta-ca FILE] [--ta-mgmt URL]\n"
        "                      tkauth-01: where the reference client gets Authority Tokens (POST\n"
        "                      URL/at/account/ID/token, Bearer S; TLS trust FILE); --ta-mgmt: the mock's\n"
        "                      management API, for the checks that need a faulty token\n"
        "exit status: 0 all counted checks passed, 1 a counted check failed or errored or an xpass occurred,\n"
        "  2 usage or environment error, 130 interrupted\n",
        f);
}

/* --server (kind 0), --nameserver (1) and --client (2) name the one target of a run. */
static int one_target(run_args *a, char *v, int kind) {
  if (a->server || a->client)
    return fprintf(stderr, "acme-harness run: give exactly one of --server, --server-url, --nameserver or --client\n"), 2;
  if (kind == 2) a->client = v;
  else a->server = v, a->nameserver = kind == 1;
  return 0;
}

/* A target file's "role" (when it has one) must fit the option that named it. */
static int role_fits(const char *name, const json_t *target, const char *want, const char *option) {
  const char *role = json_string_value(json_object_get(target, "role"));
  if (!role || strcmp(role, want) == 0) return 1;
  fprintf(stderr, "acme-harness: target %s is a %s target; %s wants a %s target\n", name, role, option, want);
  return 0;
}

static int parse_opt(run_args *a, int ch, char *v) {
  switch (ch) {
  case 'S': return one_target(a, v, 0);
  case 'U': a->server_url = v; return 0;
  case 'C': return one_target(a, v, 2);
  case 'A': a->ca = v; return 0;
  case 'D': return acmeh_arg_int("dns-port", v, 0, 65535, &a->dns_port);
  case 'H': return acmeh_arg_int("http01-port", v, 0, 65535, &a->http01_port);
  case 'L': return acmeh_arg_int("tlsalpn01-port", v, 0, 65535, &a->tlsalpn01_port);
  case 'M': return acmeh_arg_int("mgmt-port", v, 0, 65535, &a->mgmt_port);
  case OPT_BUNDLE_NODE_PORT: return acmeh_arg_int("bundle-node-port", v, 0, 65535, &a->bundle_node_port);
  case 's': a->ro.suite = v; return 0;
  case 'c': return acmeh_arg_ids("check", v, a->ids, &a->nids, MAX_IDS);
  case 'l': a->ro.level = v; return 0;
  case 'j': return acmeh_arg_int("jobs", v, 1, 64, &a->ro.jobs);
  case 't': a->timeout_given = 1; return acmeh_arg_seconds("timeout", v, MAX_TIMEOUT_S, &a->ro.timeout_s);
  case 'J': a->junit = v; return 0;
  case 'O': a->json = v; return 0;
  case 'T': a->transcripts = v; return 0;
  case 'E': a->expect = v; return 0;
  case 'X': a->strict = 1; return 0;
  case 'e': a->have_seed = 1; return acmeh_arg_u64("seed", v, &a->seed);
  case 'v': a->verbose = 1; return 0;
  case 'R': a->run_dir = v; return 0;
  case OPT_NAMESERVER: return one_target(a, v, 1);
  case OPT_DNSUP_SERVER: a->dnsup_server = v; return 0;
  case OPT_DNSUP_ZONE: a->dnsup_zone = v; return 0;
  case OPT_TSIG_KEY: a->tsig_key = v; return 0;
  case OPT_DRAFT: return acmeh_arg_append("draft", v, a->drafts_arg, sizeof a->drafts_arg);
  case OPT_NO_EXPECT: a->no_expect = 1; return 0;
  case OPT_CLAIMS: a->claims_file = v; return 0;
  case OPT_TA: a->ta.url = v; return 0;
  case OPT_TA_ACCOUNT: a->ta.account = v; return 0;
  case OPT_TA_SECRET: a->ta.secret = v; return 0;
  case OPT_TA_CA: a->ta.ca_file = v; return 0;
  case OPT_TA_MGMT: a->ta.mgmt_url = v; return 0;
  case OPT_MOCKS: a->mocks_target = v; return 0;
  case OPT_REPORT_TRANSCRIPTS:
    if (strcmp(v, "all") && strcmp(v, "failed")) return fprintf(stderr, "acme-harness run: --report-transcripts: all or failed\n"), 2;
    a->all_transcripts = strcmp(v, "all") == 0;
    return 0;
  default: return fprintf(stderr, "acme-harness run: see acme-harness run --help\n"), 2;
  }
}

static int parse(run_args *a, int argc, char **argv) {
  a->ro.jobs = 1;
  a->ro.timeout_s = 30;
  for (int ch; (ch = getopt_long(argc, argv, "hv", opts, NULL)) != -1;) {
    if (ch == 'h') return usage(stdout), 1; /* 1: asked for help, exit 0 */
    if (parse_opt(a, ch, optarg)) return 2;
  }
  if (optind < argc) return fprintf(stderr, "acme-harness run: unexpected argument '%s'\n", argv[optind]), 2;
  if (!!a->server + !!a->server_url + !!a->client != 1)
    return fprintf(stderr, "acme-harness run: give exactly one of --server, --server-url, --nameserver or --client\n"), 2;
  static const char *const levels[] = {"MUST", "SHOULD", "MAY"};
  int level_ok = !a->ro.level;
  for (int i = 0; i < 3 && !level_ok; i++) level_ok = strcmp(a->ro.level, levels[i]) == 0;
  if (!level_ok) return fprintf(stderr, "acme-harness run: --level is MUST, SHOULD or MAY\n"), 2;
  a->ro.ids = a->ids, a->ro.nids = a->nids;
  a->ro.role = a->client ? "client" : a->nameserver ? "nameserver" : "server";
  /* A real client's scenario (up to two issuances) runs inside one check. */
  if (a->client && !a->timeout_given) a->ro.timeout_s = 300;
  a->ro.live = a->verbose;
  if (!a->have_seed) a->seed = ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid();
  return 0;
}

/* Fails (2) unless `path` holds at least one PEM certificate. */
static int check_ca(const char *path) {
  FILE *f = fopen(path, "r");
  X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  X509_free(x);
  if (x) return 0;
  fprintf(stderr, "acme-harness: --ca %s: %s\n", path, f ? "no PEM certificate in it" : strerror(errno));
  return 2;
}

static int check_url(const char *u) {
  if ((strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) && strlen(u) < 2048 && !strpbrk(u, " \r\n\t"))
    return 0;
  fprintf(stderr, "acme-harness: --server-url \"%.100s\" is not an http(s):// URL\n", u);
  return 2;
}

/* --dns-update-server/--dns-update-zone/--tsig-key: the reference client
 * publishes dns-01 records by signed UPDATE (harness/dns/update.h). */
static int update_publishing(run_args *a) {
  char err[512];
  if (!a->dnsup_server && !a->dnsup_zone && !a->tsig_key) return 0;
  if (acmeh_dnsupdate_cfg_parse(a->dnsup_server, a->dnsup_zone, a->tsig_key, &a->update_cfg, err, sizeof err))
    return fprintf(stderr, "acme-harness: %s\n", err), 2;
  a->update_on = 1;
  return 0;
}

/* Nothing selected for this role: name the option that runs the checks the
 * selection holds for another role, the usual mistake (--server with dnsupdate). */
static int nothing_selected(const run_args *a, const acmeh_catalog *cat) {
  static const char *const roles[][2] = {{"server", "--server TARGET"}, {"client", "--client TARGET"},
                                         {"nameserver", "--nameserver TARGET"}};
  fprintf(stderr, "acme-harness: no %s check matches the selection", a->ro.role);
  for (size_t r = 0, shown = 0; r < 3; r++) {
    size_t n = 0;
    for (size_t i = 0; i < cat->n && strcmp(roles[r][0], a->ro.role) != 0; i++)
      n += acmeh_catalog_selected(&cat->checks[i], a->ro.suite, a->ids, a->nids, a->ro.level, roles[r][0]);
    if (n) fprintf(stderr, "%s %zu %s check(s): use %s", shown++ ? "," : "; it has", n, roles[r][0], roles[r][1]);
  }
  fputs(" (see acme-harness list)\n", stderr);
  return 2;
}

/* Everything that can be judged before a target or mock starts. */
static int preflight(run_args *a, const acmeh_catalog *cat) {
  char bad[128];
  if (acmeh_suite_unknown(a->ro.suite, bad, sizeof bad))
    return fprintf(stderr, "acme-harness: --suite: no suite '%s' (acme-harness list --revisions names them)\n", bad), 2;
  char err[600];
  if (acmeh_catalog_drafts(cat, a->drafts_arg, &a->drafts, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  a->ro.drafts = a->drafts;
  size_t n = 0, other_rev = 0;
  for (size_t i = 0; i < cat->n; i++)
    if (acmeh_catalog_selected(&cat->checks[i], a->ro.suite, a->ids, a->nids, a->ro.level, a->ro.role))
      acmeh_catalog_applies(&cat->checks[i], a->drafts) ? n++ : other_rev++;
  if (!n && other_rev)
    return fprintf(stderr, "acme-harness: the %zu selected check(s) apply to other revisions than --draft chose (acme-harness list --revisions)\n", other_rev), 2;
  if (!n) return nothing_selected(a, cat);
  if (a->ca && check_ca(a->ca)) return 2;
  if (a->server_url && check_url(a->server_url)) return 2;
  if (update_publishing(a)) return 2;
  if (a->mocks_target && (a->client || a->nameserver || a->update_on))
    return fputs("acme-harness: --mocks goes with --server or --server-url (not --client, --nameserver, --dns-update-server)\n", stderr), 2;
  if (a->run_dir && mkdir(a->run_dir, 0755) != 0)
    return fprintf(stderr, "acme-harness: --run-dir %s: %s (give a folder that does not exist yet)\n", a->run_dir, strerror(errno)), 2;
  /* Absolute: the paths in it reach clients that run in their own folders. */
  static char abs_run_dir[PATH_MAX];
  if (a->run_dir && realpath(a->run_dir, abs_run_dir)) a->run_dir = abs_run_dir;
  return 0;
}

/* 0, or 2 when `path` is set but is not a JSON object of ID -> reason. */
static int load_expectations(const run_args *a, const json_t *target, json_t **out) {
  *out = NULL;
  char err[600];
  if (!a->expect && target && acmeh_target_expectations(target, out, err, sizeof err))
    return fprintf(stderr, "acme-harness: %s\n", err), 2;
  const char *name = a->expect ? a->expect : json_string_value(json_object_get(target, "expectations"));
  if (*out && acmeh_expectations_check(*out, name, err, sizeof err)) /* a malformed entry must not quietly expect nothing */
    return fprintf(stderr, "acme-harness: %s\n", err), json_decref(*out), *out = NULL, 2;
  if (!a->expect) return 0;
  json_error_t je;
  *out = json_load_file(a->expect, 0, &je);
  if (json_is_object(*out) && acmeh_expectations_check(*out, a->expect, err, sizeof err) == ACMEH_OK) return 0;
  if (json_is_object(*out)) return fprintf(stderr, "acme-harness: %s\n", err), json_decref(*out), *out = NULL, 2;
  fprintf(stderr, "acme-harness: --expect %s: %s\n", a->expect, *out ? "must be a JSON object of check ID -> reason" : je.text);
  json_decref(*out);
  *out = NULL;
  return 2;
}

/* Why claims object c is not one (a wrong type for a known claim), or NULL. */
static const char *claims_problem(const json_t *c) {
  static const char *const flags[] = {"ari", "profiles", "newAuthz", "renew", "revoke", "key_change", "wildcard"};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    if (json_object_get(c, flags[i]) && !json_is_boolean(json_object_get(c, flags[i]))) return flags[i];
  const json_t *eab = json_object_get(c, "eab");
  if (eab && !json_is_boolean(eab) && !json_is_object(eab) && !json_is_array(eab)) return "eab";
  return NULL;
}

/* --claims FILE: a JSON object like a target's "claims" (targets/README.md),
 * or a target file, whose "claims" it takes. 0 or 2 (printed). */
static int load_claims(run_args *a) {
  json_error_t je;
  json_t *doc = json_load_file(a->claims_file, 0, &je);
  const json_t *inner = json_object_get(doc, "claims");
  a->claims = json_is_object(inner) ? json_incref((json_t *)inner) : json_incref(doc);
  json_decref(doc);
  const char *bad = json_is_object(a->claims) ? claims_problem(a->claims) : NULL;
  if (json_is_object(a->claims) && !bad) return 0;
  if (bad) fprintf(stderr, "acme-harness run: --claims %s: %s: wrong type (targets/README.md, \"claims\")\n", a->claims_file, bad);
  else fprintf(stderr, "acme-harness run: --claims %s: %s\n", a->claims_file, a->claims ? "must be a JSON object of claims" : je.text);
  json_decref(a->claims), a->claims = NULL;
  return 2;
}

/* A server named by URL must at least answer HTTP; otherwise nothing can be judged (2). */
static int reach(const acmeh_env *env) {
  acmeh_http_config hc = {.ca_file = env->ca_file, .request_timeout_ms = 3000};
  acmeh_http *h = NULL;
  acmeh_http_resp r = {0};
  char err[600];
  int rc = acmeh_http_new(&hc, &h);
  if (rc == ACMEH_OK) rc = acmeh_http_request(h, "GET", env->directory_url, NULL, NULL, 0, NULL, &r, err, sizeof err);
  acmeh_http_resp_free(&r);
  acmeh_http_free(h);
  /* Only "nobody there" and "cannot verify it" are set-up mistakes; a server
   * that resets, stalls or answers garbage is for the checks to judge. */
  if (rc != ACMEH_PEER_UNREACHABLE && rc != ACMEH_PEER_TLS && rc != ACMEH_ENV_IO && rc != ACMEH_NOMEM) return 0;
  fprintf(stderr, "acme-harness: cannot reach the server under test: %s%s\n", rc == ACMEH_NOMEM ? "out of memory" : err,
          rc == ACMEH_PEER_TLS ? " (does --ca hold the CA that issued its certificate?)" : "");
  return 2;
}

/* A nameserver target (--nameserver): the DNSUP-S checks get its address, zone and keys. */
/* What becomes of the run folder: one the user named is always kept. */
static const char *kept(const run_args *a) { return a->run_dir ? "kept" : "kept if the run fails"; }

static int nameserver_env(run_args *a, acmeh_env *env, const json_t *target, acmeh_target_run *tr) {
  static acmeh_ns_env ns; /* lives as long as the run */
  char err[512];
  if (acmeh_ns_env_from_json(acmeh_target_nameserver(tr), &ns, err, sizeof err))
    return fprintf(stderr, "acme-harness: %s: %s\n", a->server, err), 2;
  env->nameserver = &ns, env->target_name = a->server;
  env->claims = a->claims ? a->claims : json_object_get(target, "claims");
  printf("nameserver %s: %s port %d, zone %s (its log %s is %s)\n", a->server, ns.addr, ns.port, ns.zone,
         acmeh_target_log(tr), kept(a));
  return 0;
}

/* The run folder (--run-dir's, or a new one in /tmp) into run_dir (4096 bytes). */
static int make_run_dir(const run_args *a, char *run_dir) {
  snprintf(run_dir, 4096, "%s", a->run_dir ? a->run_dir : "/tmp/acme-harness-XXXXXX");
  if (!a->run_dir && !mkdtemp(run_dir)) return fprintf(stderr, "acme-harness: cannot create a run folder in /tmp\n"), 2;
  return 0;
}

static int start_target(run_args *a, acmeh_env *env, acmeh_mocks *m, json_t **target, acmeh_target_run **tr,
                        char *run_dir) {
  char err[1024];
  if (acmeh_target_load(a->server, target, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  if (!role_fits(a->server, *target, a->nameserver ? "nameserver" : "server", a->nameserver ? "--nameserver" : "--server"))
    return 2;
  if (!run_dir[0] && make_run_dir(a, run_dir)) return 2;
  if (acmeh_target_start_with(*target, run_dir, m, a->ext.tr ? &a->ext.ports : NULL, a->drafts_arg[0] ? a->drafts_arg : NULL, tr,
                              err, sizeof err))
    return fprintf(stderr, "acme-harness: %s\n", err), 2;
  if (a->nameserver) return nameserver_env(a, env, *target, *tr);
  env->directory_url = acmeh_target_directory(*tr);
  env->ca_file = acmeh_target_ca_file(*tr);
  env->target_name = a->server;
  env->claims = a->claims ? a->claims : json_object_get(*target, "claims"); /* --claims replaces the file's (a client target's own claims still count for client checks) */
  printf("target %s: directory %s (its log %s is %s)\n", a->server, env->directory_url, acmeh_target_log(*tr),
         kept(a));
  return 0;
}

/* Client under test: the client's target file, its programs, a run folder
 * and the scenarios; the reference servers start per scenario. */
/* The target's version (its "version" command) into a->peer_version, printed. */
static void peer_version(run_args *a, const json_t *target) {
  const char *arg = a->server ? a->server : a->client;
  char dir[4096];
  if (!target || !arg) return;
  if (acmeh_target_version(target, acmeh_target_dir(arg, dir, sizeof dir), a->peer_version, sizeof a->peer_version) == ACMEH_UNSUPPORTED)
    a->peer_version[0] = '\0'; /* its file names no version command */
  else printf("target %s: version %s\n", arg, a->peer_version);
}

static int start_client(run_args *a, acmeh_env *env, json_t **target, acmeh_scenarios **sc, char *run_dir) {
  char err[1024];
  if (acmeh_target_load(a->client, target, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  if (!role_fits(a->client, *target, "client", "--client")) return 2;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(*target, "requires"), i, p)
    if (json_is_string(p) && !acmeh_proc_in_path(json_string_value(p)))
      return fprintf(stderr, "acme-harness: %s needs %s, which is not installed (run ci/setup)\n", a->client, json_string_value(p)), 2;
  if (acmeh_scenarios_load(NULL, sc, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  snprintf(run_dir, 4096, "%s", a->run_dir ? a->run_dir : "/tmp/acme-harness-XXXXXX");
  if (!a->run_dir && !mkdtemp(run_dir)) return fprintf(stderr, "acme-harness: cannot create a run folder in /tmp\n"), 2;
  static char dir[4096]; /* lives as long as the run */
  env->client_dir = acmeh_target_dir(a->client, dir, sizeof dir);
  env->client = *target, env->scenarios = *sc, env->run_dir = run_dir, env->target_name = a->client;
  env->claims = a->claims ? a->claims : json_object_get(*target, "claims"); /* --claims replaces the file's (a client target's own claims still count for client checks) */
  printf("client %s: scenarios run in %s (%s)\n", a->client, run_dir, kept(a));
  return 0;
}

/* Starts mocks and the target; fills env. Returns 0 or exit status 2. */
static int setup(run_args *a, acmeh_env *env, acmeh_mocks **mocks, json_t **target, acmeh_target_run **tr,
                 acmeh_scenarios **sc, char *run_dir) {
  char err[1024];
  if (a->claims_file && load_claims(a)) return 2;
  acmeh_mocks_config mc = {.dns_port = a->dns_port, .http01_port = a->http01_port,
                           .tlsalpn01_port = a->tlsalpn01_port, .mgmt_port = a->mgmt_port, .bundle_node_port = a->bundle_node_port};
  if (acmeh_mocks_start(&mc, mocks, err, sizeof err)) return fprintf(stderr, "acme-harness: mocks: %s\n", err), 2;
  env->mocks = *mocks;
  if (a->mocks_target) {
    if (make_run_dir(a, run_dir) || acmeh_cli_mocks_start(a->mocks_target, run_dir, *mocks, &a->ext, &a->publisher)) return 2;
  } else if (!a->update_on) acmeh_publisher_mocks(&a->publisher, *mocks);
  else if (acmeh_publisher_dns_update(&a->publisher, *mocks, &a->update_cfg)) return fputs("acme-harness: out of memory\n", stderr), 2;
  env->publisher = &a->publisher;
  acmeh_suites_wire(a->drafts, &env->wire); /* the reference sides follow the revisions under test */
  env->seed = a->seed;
  env->verbose = a->verbose;
  /* In DNS-UPDATE mode the checks' names live in the updated zone. */
  static char zone[256];
  snprintf(zone, sizeof zone, "%s", a->dnsup_zone ? a->dnsup_zone : "acmeh.example.com");
  if (zone[0] && zone[strlen(zone) - 1] == '.') zone[strlen(zone) - 1] = '\0';
  env->domain = zone;
  if (a->server) return start_target(a, env, *mocks, target, tr, run_dir);
  if (a->client) return start_client(a, env, target, sc, run_dir);
  env->directory_url = a->server_url, env->ca_file = a->ca, env->target_name = a->server_url;
  env->claims = a->claims;
  if (!a->ext.tr) {
    printf("mock DNS on 127.0.0.1:%d (udp+tcp), http-01 on :%d, tls-alpn-01 on :%d, management API on :%d\n",
           acmeh_mocks_dns_port(*mocks), acmeh_mocks_http01_port(*mocks), acmeh_mocks_tlsalpn01_port(*mocks),
           acmeh_mocks_mgmt_port(*mocks));
    printf("mock bundle node (TCPCLv4, RFC 9174) on 127.0.0.1:%d\n", acmeh_mocks_bundle_node_port(*mocks));
  }
  fflush(stdout);
  return reach(env);
}

/* Writes every requested report; returns 2 if any could not be written. */
static int write_reports(const run_args *a, acmeh_run_report *rep) {
  char err[512];
  int failed = 0;
  if (a->transcripts && acmeh_report_transcripts_write(rep, a->transcripts, err, sizeof err))
    failed = 1, fprintf(stderr, "acme-harness: %s\n", err);
  int junit_ok = a->junit && acmeh_report_junit_write(rep, a->junit, err, sizeof err) == ACMEH_OK;
  if (a->junit && !junit_ok) failed = 1, fprintf(stderr, "acme-harness: %s\n", err);
  int json_ok = a->json && acmeh_report_json_write(rep, a->json, err, sizeof err) == ACMEH_OK;
  if (a->json && !json_ok) failed = 1, fprintf(stderr, "acme-harness: %s\n", err);
  acmeh_report_summary(rep, stdout, !getenv("NO_COLOR") && isatty(STDOUT_FILENO));
  if (a->transcripts) printf("transcripts: %s/<check ID>.txt\n", a->transcripts);
  if (junit_ok) printf("junit: %s\n", a->junit);
  if (json_ok) printf("json: %s\n", a->json);
  if (fflush(stdout) != 0) failed = 1;
  return failed ? 2 : 0;
}

static int execute(run_args *a, acmeh_env *env, const acmeh_catalog *cat, const json_t *exp, size_t *abandoned) {
  char err[512];
  acmeh_run_report rep;
  a->ro.expectations = exp;
  printf("acme-harness: target %s, seed %llu, %d job(s)\n", env->target_name, (unsigned long long)a->seed, a->ro.jobs);
  fflush(stdout);
  if (acmeh_runner_run(cat, env, &a->ro, &rep, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  rep.tool_version = ACMEH_VERSION, rep.target = env->target_name, rep.role = a->ro.role;
  rep.strict = a->strict, rep.all_transcripts = a->all_transcripts;
  rep.peer_version = a->peer_version[0] ? a->peer_version : NULL;
  int status = write_reports(a, &rep);
  if (!status) status = rep.interrupted ? 130 : acmeh_runner_exit_status(&rep, a->strict);
  const char *judge = acmeh_runner_unreported_block(&rep, a->strict);
  if (judge)
    printf("note: blocked checks wait on a step that %s judges, which this run did not select: add --check %s to see the failure\n",
           judge, judge);
  if (status == 0 && acmeh_runner_exit_status(&rep, 1))
    printf("note: the failures above are SHOULD/MAY checks and do not change the exit status (--strict counts them)\n");
  *abandoned = rep.abandoned;
  acmeh_run_report_free(&rep);
  return status;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* A run folder holds the target's files and log: worth keeping only when
 * something went wrong and it holds something, or when the user named it. */
static void tidy_run_dir(const run_args *a, const char *run_dir, int status) {
  if (!*run_dir || a->run_dir) return;
  if (status == 0) nftw(run_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  else if (rmdir(run_dir) != 0) /* fails unless empty (a run that stopped before anything started) */
    fprintf(stderr, "acme-harness: target files and log kept in %s\n", run_dir);
}

int acmeh_cli_run(int argc, char **argv) {
  run_args a = {0};
  acmeh_catalog cat;
  char err[512], run_dir[4096] = "";
  int parsed = parse(&a, argc, argv);
  if (parsed) return parsed == 1 ? 0 : 2;
  if (acmeh_catalog_load(NULL, &cat, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  acmeh_env env = {.token_authority = a.ta.url ? &a.ta : NULL};
  acmeh_mocks *mocks = NULL;
  json_t *target = NULL, *exp = NULL;
  acmeh_target_run *tr = NULL;
  acmeh_scenarios *sc = NULL;
  size_t abandoned = 0;
  int status = preflight(&a, &cat);
  if (!status && a.expect && a.no_expect) status = (fputs("acme-harness run: give --expect or --no-expect, not both\n", stderr), 2);
  if (!status && a.expect) status = load_expectations(&a, NULL, &exp); /* before anything starts */
  if (!status) acmeh_proc_install_cleanup(acmeh_runner_cancel), status = setup(&a, &env, &mocks, &target, &tr, &sc, run_dir);
  if (!status && !a.expect && !a.no_expect) status = load_expectations(&a, target, &exp);
  if (!status) peer_version(&a, target);
  if (status && acmeh_proc_interrupted() && !env.target_name) /* Ctrl-C while the target was starting */
    env.target_name = a.server ? a.server : a.client ? a.client : a.server_url;
  if (!status || acmeh_proc_interrupted()) status = execute(&a, &env, &cat, exp, &abandoned); /* 130, reports */
  acmeh_target_stop(tr);
  acmeh_cli_mocks_stop(&a.ext);
  tidy_run_dir(&a, run_dir, status);
  if (abandoned) { /* their threads may still touch these: leave them to process exit */
    fprintf(stderr, "acme-harness: %zu check(s) abandoned past their time budget\n", abandoned);
    return status;
  }
  acmeh_mocks_stop(mocks);
  acmeh_scenarios_free(sc);
  json_decref(exp);
  json_decref(target);
  json_decref(a.drafts), json_decref(a.claims);
  acmeh_publisher_challtestsrv_free(&a.publisher); /* first: it knows its own and leaves state NULL */
  acmeh_publisher_dns_update_free(&a.publisher);
  acmeh_catalog_free(&cat);
  return status;
}
