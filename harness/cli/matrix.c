/* acme-harness matrix: every chosen client target against every chosen
 * server target. A cell is one run of the client-run engine
 * (runner/clientrun.h) for one scenario kind and challenge: the client's
 * actions against the server target started for the cell (or, for a target
 * marked "reference", the reference server in this process, whose exchanges
 * the engine records), with the cell's own mocks. The main thread starts and
 * stops servers (process.h: main thread only); each cell's client runs on
 * its own thread, at most --jobs at a time. Reports: reports/matrix.c. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/cli/args.h"
#include "harness/cli/cli.h"
#include "harness/cli/matrix_internal.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/self.h"
#include "base/strbuf.h"
#include "harness/client/chaltype.h"
#include "harness/runner/catalog.h"
#include "harness/runner/suite.h"
#include "harness/targets/process.h"
#include "harness/targets/target.h"
#include "harness/targets/vars.h"
#include "mocks/mocks.h"
#include "reports/reports.h"

#define MAX_TARGETS 32
#define MAX_TIMEOUT_S 3600
#define set_reason acmeh_mx_set_reason
/* Bytes of the client's output and of the server's log kept in a transcript. */
#define TAIL_BYTES 8192

static void judge_issue(cell *c);
static const scenario_kind issue_kind = {"issue", "{\"action\": \"issue\"}", {"issue"}, 1, NULL, NULL, judge_issue, NULL};

typedef struct {
  const char *clients_arg, *servers_arg, *kinds_arg, *out;
  double timeout_s;
  int jobs;
} matrix_args;

/* ---- arguments and targets --------------------------------------------- */

static void usage(FILE *f) {
  fputs("usage: acme-harness matrix [--clients A,B,...] [--servers reference,pebble] [--out DIR]\n"
        "                           [--timeout SECONDS] [--jobs N] [--kinds K,...]\n"
        "  every client target against every server target: one cell per server x challenge (issue),\n"
        "  and per server x renew, revoke, ari, profiles (the client's http-01, else its first challenge);\n"
        "  writes DIR/matrix.md, matrix.html, matrix.json and transcripts/ (DIR default ./matrix-out)\n"
        "  --clients   client target names or files (default: every client target in targets)\n"
        "  --servers   server target names or files (default: reference,pebble; pebble-2.6 has ARI)\n"
        "  --timeout   time limit of one cell, seconds (default 120)\n"
        "  --jobs      cells run at once (default 2)\n"
        "  --kinds     column kinds to run, of issue,renew,revoke,ari,profiles (default: all)\n"
        "exit status: 0 every cell passed or was skipped, 1 a cell failed, 2 usage, or a cell could not be run\n"
        "(error), 130 interrupted (what finished is still written)\n",
        f);
}

static int parse(matrix_args *a, int argc, char **argv) {
  static const struct option opts[] = {{"clients", required_argument, 0, 'c'}, {"servers", required_argument, 0, 's'},
                                       {"out", required_argument, 0, 'o'},     {"timeout", required_argument, 0, 't'},
                                       {"jobs", required_argument, 0, 'j'},    {"help", no_argument, 0, 'h'},
                                       {"kinds", required_argument, 0, 'k'},
                                       {0}};
  *a = (matrix_args){.servers_arg = "reference,pebble", .out = "matrix-out", .timeout_s = 120, .jobs = 2};
  for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    int rc = 0;
    switch (ch) {
    case 'c': a->clients_arg = optarg; break;
    case 's': a->servers_arg = optarg; break;
    case 'o': a->out = optarg; break;
    case 't': rc = acmeh_arg_seconds("timeout", optarg, MAX_TIMEOUT_S, &a->timeout_s); break;
    case 'j': rc = acmeh_arg_int("jobs", optarg, 1, 16, &a->jobs); break;
    case 'k': a->kinds_arg = optarg; break;
    case 'h': usage(stdout); return 1;
    default: usage(stderr); return 2;
    }
    if (rc) return 2;
  }
  if (optind < argc) return fprintf(stderr, "acme-harness matrix: unexpected argument '%s'\n", argv[optind]), 2;
  return 0;
}

static void target_free(target_def *t) {
  free(t->name);
  json_decref(t->doc);
}

/* Loads one target and checks its role; 0 or 2 (printed). */
static int load_target(const char *arg, const char *role, target_def *t) {
  char err[1024];
  memset(t, 0, sizeof *t);
  if (acmeh_target_load(arg, &t->doc, err, sizeof err)) return fprintf(stderr, "acme-harness matrix: %s\n", err), 2;
  const char *r = json_string_value(json_object_get(t->doc, "role"));
  if (!r || strcmp(r, role) != 0)
    return fprintf(stderr, "acme-harness matrix: target %s is not a %s target\n", arg, role), json_decref(t->doc), 2;
  const char *name = json_string_value(json_object_get(t->doc, "name"));
  t->name = strdup(name ? name : arg);
  acmeh_target_dir(arg, t->dir, sizeof t->dir);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(t->doc, "requires"), i, p)
    if (json_is_string(p) && !t->missing[0] && !acmeh_proc_in_path(json_string_value(p)))
      snprintf(t->missing, sizeof t->missing, "%s", json_string_value(p));
  t->reference = strcmp(role, "server") == 0 && json_is_true(json_object_get(t->doc, "reference"));
  if (acmeh_target_version(t->doc, t->dir, t->version, sizeof t->version) != ACMEH_OK) t->version[0] = '\0';
  /* A server's program is its command's first word, when that is not the harness itself. */
  const char *cmd0 = t->reference ? NULL : json_string_value(json_array_get(json_object_get(t->doc, "command"), 0));
  if (cmd0 && !strstr(cmd0, "${") && !acmeh_proc_in_path(cmd0)) snprintf(t->missing, sizeof t->missing, "%s", cmd0);
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Names of every client target in targets, sorted; count in *n. */
static size_t default_clients(char **names, size_t cap) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/targets", acmeh_data_dir());
  DIR *d = opendir(dir);
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d)) && n < cap;) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || strstr(e->d_name, ".expect.")) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    json_t *doc = json_load_file(path, 0, NULL);
    const char *role = json_string_value(json_object_get(doc, "role"));
    /* a client that publishes only by DNS UPDATE needs the dnsupdate suite's scenarios */
    int update_only = json_is_true(json_object_get(json_object_get(doc, "claims"), "dns_update_only"));
    if (role && strcmp(role, "client") == 0 && !update_only) names[n++] = strndup(e->d_name, len - 5);
    json_decref(doc);
  }
  if (d) closedir(d);
  qsort(names, n, sizeof *names, by_name);
  return n;
}

/* Loads a comma-separated list (or the defaults) into ts; 0 or 2. */
static int load_targets(const char *list, const char *role, target_def *ts, size_t *n) {
  char *names[MAX_TARGETS];
  size_t k = 0;
  char *copy = list ? strdup(list) : NULL, *save = NULL;
  if (list)
    for (char *t = strtok_r(copy, ",", &save); t && k < MAX_TARGETS; t = strtok_r(NULL, ",", &save)) {
      size_t seen = 0; /* a name given twice would make two cells write one transcript */
      while (seen < k && strcmp(names[seen], t) != 0) seen++;
      if (seen == k) names[k++] = strdup(t);
    }
  else
    k = default_clients(names, MAX_TARGETS);
  free(copy);
  int rc = k ? 0 : (fprintf(stderr, "acme-harness matrix: no %s targets\n", role), 2);
  for (size_t i = 0; i < k; i++) {
    if (!rc && !(rc = load_target(names[i], role, &ts[*n]))) (*n)++;
    free(names[i]);
  }
  return rc;
}

/* ---- one cell --------------------------------------------------------- */

static int target_lists(const json_t *list, const char *value) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) if (json_is_string(v) && strcmp(json_string_value(v), value) == 0) return 1;
  return 0;
}

void acmeh_mx_set_reason(cell *c, acmeh_verdict v, const char *fmt, const char *a, const char *b) {
  c->out->verdict = v;
  free(c->out->reason);
  if (asprintf(&c->out->reason, fmt, a, b) < 0) c->out->reason = NULL;
}

int acmeh_mx_claims(const target_def *t, const char *name) {
  return json_is_true(json_object_get(json_object_get(t->doc, "claims"), name));
}

/* The kind's steps as the client's actions: a client without "renew" whose
 * target claims "renew_by_issue" renews by running "issue" again for the
 * same name. 0, or 1 with the missing action's name in *missing. */
static int resolve_steps(cell *c, const char **missing) {
  const json_t *actions = json_object_get(c->client->doc, "actions");
  for (c->nsteps = 0; c->nsteps < MX_MAX_STEPS && c->col->kind->steps[c->nsteps]; c->nsteps++) {
    const char *s = c->col->kind->steps[c->nsteps];
    if (!json_object_get(actions, s) && strcmp(s, "renew") == 0 && acmeh_mx_claims(c->client, "renew_by_issue")) s = "issue";
    if (!json_object_get(actions, s)) return *missing = s, 1;
    c->actions[c->nsteps] = s;
  }
  return 0;
}

/* A cell decided before anything starts: 1 when it was (skip or error). */
static int decide_early(cell *c, int interrupted) {
  const char *missing = NULL;
  if (interrupted) return set_reason(c, ACMEH_ERROR, "not run: interrupted%s%s", "", ""), 1;
  int lacks = resolve_steps(c, &missing);
  if (acmeh_mx_claims(c->client, "dns_update_only"))
    return set_reason(c, ACMEH_SKIP, "%s publishes only by DNS UPDATE with a key the dnsupdate suite's scenarios hand out%s",
                      c->client->name, " (acme-harness run --client NAME --suite dnsupdate)"), 1;
  if (c->col->kind->early && c->col->kind->early(c)) return 1; /* "client does not implement ARI" says more */
  if (lacks) return set_reason(c, ACMEH_SKIP, "%s has no \"%s\" action", c->client->name, missing), 1;
  if (c->challenge && !target_lists(json_object_get(c->client->doc, "challenges"), c->challenge))
    return set_reason(c, ACMEH_SKIP, "%s lacks %s", c->client->name, c->challenge), 1;
  const json_t *claimed = json_object_get(json_object_get(c->server->doc, "claims"), "challenges");
  if (c->challenge && claimed && !target_lists(claimed, c->challenge))
    return set_reason(c, ACMEH_SKIP, "%s does not offer %s", c->server->name, c->challenge), 1;
  if (c->client->missing[0]) return set_reason(c, ACMEH_ERROR, "%s is not installed (run ci/setup)", c->client->missing, ""), 1;
  if (c->server->missing[0]) return set_reason(c, ACMEH_ERROR, "%s is not installed (run ci/setup)", c->server->missing, ""), 1;
  return 0;
}

/* The cell's client run, on its own thread. */
static void *client_thread(void *arg) {
  cell *c = arg;
  c->run_rc = acmeh_clientrun_client(c->run, c->err, sizeof c->err);
  atomic_store(&c->done, 1);
  return NULL;
}

/* The kind's between hook (clientrun.h), on the cell's client thread. */
static void kind_between(void *arg, const acmeh_client_run *rec) {
  cell *c = arg;
  (void)rec; /* the same as c->rec */
  c->col->kind->between(c);
}

/* Starts the cell (mocks and server on this thread, client on a new one). 0
 * when it runs; otherwise the cell is decided and nothing is left running. */
static int cell_start(cell *c, double timeout_s, unsigned serial) {
  c->t0 = acmeh_now_mono();
  snprintf(c->domain, sizeof c->domain, "m%u-%04x.acmeh.example.com", serial, (unsigned)(getpid() ^ (serial * 2654435761u)) & 0xffff);
  acmeh_clientrun_args a = {.client = c->client->doc, .client_dir = c->client->dir, .server = c->server->reference ? NULL : c->server->doc,
                            .name = c->col->kind->name, .def = c->def, .actions = c->actions, .nactions = c->nsteps,
                            .domain = c->domain, .work = c->work, .budget_s = timeout_s,
                            .between = c->col->kind->between ? kind_between : NULL, .between_arg = c};
  int rc = mkdir(c->work, 0755) == 0 ? acmeh_clientrun_start(&a, &c->rec, &c->run, c->err, sizeof c->err)
                                     : acmeh_msg(c->err, sizeof c->err, ACMEH_ENV_IO, "cannot create %s", c->work);
  if (rc == ACMEH_OK) {
    c->running = pthread_create(&c->thread, NULL, client_thread, c) == 0;
    if (!c->running) rc = acmeh_msg(c->err, sizeof c->err, ACMEH_INTERNAL, "cannot start a thread");
  }
  if (rc != ACMEH_OK) acmeh_clientrun_finish(c->run), c->run = NULL;
  if (rc == ACMEH_UNSUPPORTED) set_reason(c, ACMEH_SKIP, "%s%s", c->rec.why ? c->rec.why : "the client cannot run it", "");
  else if (rc != ACMEH_OK && acmeh_proc_interrupted()) set_reason(c, ACMEH_ERROR, "interrupted while its server started%s%s", "", "");
  else if (rc != ACMEH_OK) set_reason(c, ACMEH_ERROR, "%s%s", acmeh_err_class(rc) == ACMEH_CLASS_ENV ? "environment: " : "", c->err);
  return rc;
}

/* ---- judging and transcripts ---------------------------------------------- */

/* The client's last words for a one-line reason: the last line that reads
 * like an error (a stack trace ends with a version banner, not the error),
 * else the last non-empty line, at most len-1 bytes. */
static void last_line(const char *path, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  char line[1024], any[1024] = "";
  out[0] = '\0';
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    const char *t = line + strspn(line, " \t");
    if (!*t) continue;
    snprintf(any, sizeof any, "%s", t);
    if (strcasestr(t, "error") || strcasestr(t, "fail")) snprintf(out, len, "%s", t);
  }
  if (f) fclose(f);
  if (!out[0]) snprintf(out, len, "%s", any);
}

X509 *acmeh_mx_pem_cert(const char *pem) {
  BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  return x;
}

void acmeh_mx_check_cert(cell *c, const char *pem, char *why, size_t len) {
  const char *cp = json_string_value(json_object_get(c->client->doc, "cert_path"));
  if (!pem) pem = c->rec.cert_pem;
  X509 *x = acmeh_mx_pem_cert(pem);
  why[0] = '\0';
  if (!cp) snprintf(why, len, "the client target names no cert_path");
  else if (!pem) snprintf(why, len, "the client exited 0 but wrote no certificate at %s", cp);
  else if (!x) snprintf(why, len, "%s holds no PEM certificate", cp);
  else if (X509_check_host(x, c->domain, 0, 0, NULL) != 1) snprintf(why, len, "the certificate does not name %s", c->domain);
  X509_free(x);
}

int acmeh_mx_judge_run(cell *c) {
  char log[4400], tail[300], st[32], what[80] = "";
  snprintf(log, sizeof log, "%s/client.log", c->work);
  last_line(log, tail, sizeof tail);
  snprintf(st, sizeof st, "%d", c->rec.exit_status);
  if (c->nsteps > 1 && c->rec.last_action) snprintf(what, sizeof what, "%s: ", c->rec.last_action);
  if (acmeh_proc_interrupted()) set_reason(c, ACMEH_ERROR, "interrupted before it finished%s%s", "", "");
  else if (c->run_rc) set_reason(c, ACMEH_ERROR, "%scannot run the client: %s", what, c->err);
  else if (c->rec.timed_out) set_reason(c, ACMEH_ERROR, "%sstopped at its time limit before it finished; last output: %s", what, tail);
  else if (c->rec.exit_status == 127) set_reason(c, ACMEH_SKIP, "%sthe client answered 127 (unsupported)%s", what, "");
  else if (c->rec.exit_status) {
    char msg[400];
    snprintf(msg, sizeof msg, "%sexit status %s", what, st);
    set_reason(c, ACMEH_FAIL, "%s; last output: %s", msg, tail);
  } else return 0;
  return 1;
}

/* issue: the client exited 0 and left a certificate for the name. */
static void judge_issue(cell *c) {
  char why[600];
  if (acmeh_mx_judge_run(c)) return;
  acmeh_mx_check_cert(c, NULL, why, sizeof why);
  if (why[0]) set_reason(c, ACMEH_FAIL, "%s%s", why, "");
  else set_reason(c, ACMEH_PASS, "certificate for %s issued%s", c->domain, "");
}

/* Appends the last TAIL_BYTES of file `path` to f. */
static void put_tail(FILE *f, const char *title, const char *path) {
  FILE *in = path ? fopen(path, "r") : NULL;
  fprintf(f, "\n===== %s (%s) =====\n", title, path ? path : "none");
  if (!in) {
    fputs("(not written)\n", f);
    return;
  }
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  if (size > TAIL_BYTES) fseek(in, size - TAIL_BYTES, SEEK_SET), fprintf(f, "[... first %ld bytes left out]\n", size - TAIL_BYTES);
  else fseek(in, 0, SEEK_SET);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) fwrite(buf, 1, n, f);
  fclose(in);
}

static void put_history(FILE *f, const json_t *history, const char *kind, const char *title) {
  json_t *h = json_object_get(history, kind), *e;
  size_t i;
  fprintf(f, "%s: %zu\n", title, json_array_size(h));
  json_array_foreach(h, i, e) {
    char *s = i < 200 ? json_dumps(e, JSON_COMPACT) : NULL;
    if (s) fprintf(f, "  %s\n", s);
    free(s);
  }
}

/* What the reference server saw, one line per exchange ("#N +T ms METHOD URL
 * (resource) -> STATUS", as serve prints them), then each in full. */
static void put_exchanges(FILE *f, const acmeh_client_run *r) {
  size_t i;
  json_t *x;
  fprintf(f, "\n===== the reference server's exchanges: %zu =====\n", json_array_size(r->exchanges));
  json_array_foreach(r->exchanges, i, x)
    fprintf(f, "#%lld +%lld ms %s %s (%s) -> %lld\n", (long long)json_integer_value(json_object_get(x, "seq")),
            (long long)json_integer_value(json_object_get(x, "time_ms")), json_string_value(json_object_get(x, "method")),
            json_string_value(json_object_get(x, "url")), json_string_value(json_object_get(x, "resource")),
            (long long)json_integer_value(json_object_get(x, "status")));
  acmeh_strbuf t = {0};
  acmeh_client_run_transcript(r, &t);
  fprintf(f, "%s", t.data ? t.data : "");
  acmeh_strbuf_free(&t);
}

static void safe_name(char *out, size_t len, const char *s) {
  size_t i = 0;
  for (; s[i] && i + 1 < len; i++) out[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]) ? s[i] : '_';
  out[i] = '\0';
}

static void transcript_name(const cell *c, char *out, size_t len) {
  char cl[128], sv[128], sc[128];
  safe_name(cl, sizeof cl, c->client->name), safe_name(sv, sizeof sv, c->server->name);
  if (c->col->kind->per_challenge) snprintf(sc, sizeof sc, "%s", c->challenge ? c->challenge : c->col->kind->name);
  else snprintf(sc, sizeof sc, "%s", c->col->kind->name);
  snprintf(out, len, "transcripts/%s--%s--%s.txt", cl, sv, sc);
}

/* ---- per-request client checks ------------------------------------------ */

#define MAX_REQ_CHECKS 64
typedef struct {
  char id[32];
  size_t pass, fail;
  char first[400]; /* the first failure's message */
} req_check;
struct req_checks {
  req_check v[MAX_REQ_CHECKS];
  size_t n;
};

static void on_request_verdict(void *ud, const char *id, int pass, const char *message) {
  struct req_checks *rc = ud;
  size_t i = 0;
  while (i < rc->n && strcmp(rc->v[i].id, id) != 0) i++;
  if (i == rc->n && rc->n == MAX_REQ_CHECKS) return;
  if (i == rc->n) snprintf(rc->v[rc->n++].id, sizeof rc->v[0].id, "%s", id);
  pass ? rc->v[i].pass++ : rc->v[i].fail++;
  if (!pass && !rc->v[i].first[0]) snprintf(rc->v[i].first, sizeof rc->v[i].first, "%s", message ? message : "");
}

/* The client checks `serve` judges live (every suite's live judge) over the
 * exchanges the reference server recorded in this cell: the same rules,
 * judged in every cell instead of one scenario. */
static void judge_requests(cell *c) {
  if (!c->rec.observed || !json_array_size(c->rec.exchanges) || !(c->req = calloc(1, sizeof *c->req))) return;
  for (const acmeh_suite *const *s = acmeh_suites(); *s; s++) {
    const acmeh_live_judge *j = (*s)->live;
    void *st = j ? j->create() : NULL;
    size_t i;
    json_t *x;
    if (st) json_array_foreach(c->rec.exchanges, i, x) j->exchange(st, x, on_request_verdict, c->req);
    if (st) j->destroy(st);
  }
  acmeh_strbuf failed = {0};
  for (size_t i = 0; i < c->req->n; i++)
    if (c->req->v[i].fail) acmeh_strbuf_printf(&failed, "%s%s", failed.len ? "," : "", c->req->v[i].id);
  c->out->checks_judged = c->req->n;
  c->out->checks_failed = acmeh_strbuf_take(&failed);
}

static void put_request_checks(FILE *f, const struct req_checks *rc) {
  fprintf(f, "\n===== per-request client checks over these exchanges: %zu =====\n", rc ? rc->n : 0);
  for (size_t i = 0; rc && i < rc->n; i++)
    if (rc->v[i].fail) fprintf(f, "%s: FAIL on %zu of %zu requests; first: %s\n", rc->v[i].id, rc->v[i].fail, rc->v[i].fail + rc->v[i].pass, rc->v[i].first);
    else fprintf(f, "%s: pass (%zu requests)\n", rc->v[i].id, rc->v[i].pass);
}

/* Writes the cell's transcript under `out` and links it from the cell. */
static void write_transcript(cell *c, const char *out) {
  char rel[600], path[4800], log[4400];
  transcript_name(c, rel, sizeof rel);
  snprintf(path, sizeof path, "%s/%s", out, rel);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "acme-harness matrix: cannot write %s: %s\n", path, strerror(errno));
    return;
  }
  const acmeh_client_run *r = &c->rec;
  fprintf(f, "cell: client %s x server %s, scenario %s%s%s\nverdict: %s (%.2f s): %s\n", c->client->name, c->server->name,
          c->col->kind->name, c->challenge ? " with " : "", c->challenge ? c->challenge : "",
          acmeh_verdict_name(c->out->verdict), c->out->duration_s, c->out->reason ? c->out->reason : "");
  if (c->t0 > 0) {
    fprintf(f, "domain: %s\nserver directory: %s\nclient actions: ", c->domain, r->directory_url ? r->directory_url : "(server not started)");
    for (size_t i = 0; i < c->nsteps; i++) fprintf(f, "%s%s", i ? ", " : "", c->actions[i]);
    fprintf(f, "\nclient exit status: %d (%s)%s\n", r->exit_status, r->last_action ? r->last_action : "-",
            r->timed_out ? " (killed at its time limit)" : "");
    if (c->probe[0]) fprintf(f, "harness probe: %s\n", c->probe);
    fprintf(f, "\n===== what the harness saw (this cell's mocks) =====\n");
    put_history(f, r->mock_history, "http", "http-01 requests to the mock");
    put_history(f, r->mock_history, "dns", "DNS queries to the mock");
    put_history(f, r->mock_history, "tlsalpn", "tls-alpn-01 handshakes with the mock");
    snprintf(log, sizeof log, "%s/client.log", c->work);
    put_tail(f, "client stdout and stderr, last 8 KiB", log);
    if (r->observed) put_request_checks(f, c->req), put_exchanges(f, r);
    else put_tail(f, "server log, last 8 KiB", r->server_log);
  }
  if (fclose(f) == 0) c->out->transcript = strdup(rel);
}

/* Joins the client, probes, stops the run, judges it, writes its transcript. */
static void cell_finish(cell *c, const char *out) {
  if (c->running) pthread_join(c->thread, NULL);
  if (c->running && c->col->kind->probe && !acmeh_proc_interrupted()) c->col->kind->probe(c);
  acmeh_clientrun_finish(c->run);
  c->run = NULL;
  c->out->duration_s = c->t0 > 0 ? acmeh_now_mono() - c->t0 : 0; /* 0: decided without running */
  if (c->running) c->col->kind->judge(c), judge_requests(c);
  write_transcript(c, out);
  acmeh_client_run_clear(&c->rec);
  free(c->req);
  c->req = NULL;
  c->running = 0;
}

/* ---- the whole matrix ------------------------------------------------------ */

typedef struct {
  target_def clients[MAX_TARGETS], servers[MAX_TARGETS];
  size_t nclients, nservers;
  column_def *cols;
  size_t ncols;
  acmeh_mx_column *mcols;
  acmeh_mx_cell *mcells;
  cell *cells;
  size_t ncells;
  char run_dir[64]; /* "/tmp/acme-harness-matrix-XXXXXX" */
} matrix;

static void add_column(matrix *m, size_t server, const scenario_kind *k, const char *challenge) {
  m->cols[m->ncols] = (column_def){.kind = k, .server = server};
  const char *v = m->servers[server].version;
  m->mcols[m->ncols++] = (acmeh_mx_column){.server = m->servers[server].name, .kind = k->name, .challenge = challenge,
                                           .server_version = v[0] ? v : NULL};
}

/* The kind in column-kind order: issue, then matrix_kinds.c's. */
static const scenario_kind *kind_at(size_t k) { return k ? &acmeh_mx_extra_kinds[k - 1] : &issue_kind; }

/* The challenge of a kind without a column per challenge: the client's
 * http-01 when it lists it (every server offers it), else its first. */
static const char *usual_challenge(const target_def *client) {
  const json_t *list = json_object_get(client->doc, "challenges");
  return target_lists(list, "http-01") || !json_string_value(json_array_get(list, 0)) ? "http-01"
                                                                                    : json_string_value(json_array_get(list, 0));
}

/* 1 when --kinds (NULL: all) names the kind. */
static int kind_chosen(const char *list, const char *name) { return !list || acmeh_list_has(list, name); }

/* 0 when --kinds names at least one kind and nothing else, else 2 (printed). */
static int check_kinds(const char *list) {
  char *copy = list ? strdup(list) : NULL, *save = NULL;
  int rc = 0, n = 0;
  for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !rc; t = strtok_r(NULL, ",", &save), n++) {
    rc = 2;
    for (size_t k = 0; k <= acmeh_mx_nextra_kinds; k++)
      if (strcmp(kind_at(k)->name, t) == 0) rc = 0;
    if (rc) fprintf(stderr, "acme-harness matrix: --kinds: no kind '%s' (issue, renew, revoke, ari, profiles)\n", t);
  }
  free(copy);
  if (list && !n) rc = (fprintf(stderr, "acme-harness matrix: --kinds names no kind\n"), 2);
  return rc;
}

/* Columns (server x kind x challenge) and one cell per client x column. */
static int build(matrix *m, const char *kinds_arg) {
  const char *challenges[16]; /* the challenge table's types some chosen client answers (harness/client/chaltype.h) */
  size_t nc = 0, nk = 1 + acmeh_mx_nextra_kinds;
  for (const acmeh_chaltype *const *t = acmeh_chaltypes(); *t && nc < 16; t++)
    for (size_t i = 0; i < m->nclients; i++)
      if (target_lists(json_object_get(m->clients[i].doc, "challenges"), (*t)->name)) {
        challenges[nc++] = (*t)->name;
        break;
      }
  size_t cap = m->nservers * nk * (nc ? nc : 1);
  m->cols = calloc(cap, sizeof *m->cols), m->mcols = calloc(cap, sizeof *m->mcols);
  if (!m->cols || !m->mcols) return ACMEH_NOMEM;
  for (size_t s = 0; s < m->nservers; s++)
    for (size_t k = 0; k < nk; k++)
      for (size_t ch = 0; kind_chosen(kinds_arg, kind_at(k)->name) && ch < (kind_at(k)->per_challenge ? nc : 1); ch++)
        add_column(m, s, kind_at(k), kind_at(k)->per_challenge ? challenges[ch] : NULL);
  m->ncells = m->nclients * m->ncols;
  m->cells = calloc(m->ncells, sizeof *m->cells), m->mcells = calloc(m->ncells, sizeof *m->mcells);
  if (!m->cells || !m->mcells) return m->ncells = 0, ACMEH_NOMEM;
  for (size_t i = 0; i < m->ncells; i++) {
    cell *c = &m->cells[i];
    c->client = &m->clients[i / m->ncols], c->col = &m->cols[i % m->ncols];
    c->server = &m->servers[c->col->server], c->challenge = m->mcols[i % m->ncols].challenge, c->out = &m->mcells[i];
    if (!c->challenge) c->challenge = usual_challenge(c->client);
    c->def = json_loads(c->col->kind->def, 0, NULL);
    if (!json_is_object(c->def)) return ACMEH_INTERNAL; /* the kinds' definitions are this program's own */
    json_object_set_new(c->def, "challenge", json_string(c->challenge));
    char name[600];
    transcript_name(c, name, sizeof name);
    snprintf(c->work, sizeof c->work, "%s/%s", m->run_dir, name + strlen("transcripts/"));
    c->work[strlen(c->work) - 4] = '\0'; /* no ".txt" */
  }
  return ACMEH_OK;
}

static void print_cell(const cell *c, size_t done, size_t total) {
  printf("[%zu/%zu] %s x %s %s: %s", done, total, c->client->name, c->server->name,
         c->col->kind->per_challenge && c->challenge ? c->challenge : c->col->kind->name,
         acmeh_verdict_name(c->out->verdict));
  if (c->out->verdict != ACMEH_SKIP) printf(" (%.1f s)", c->out->duration_s);
  if (c->out->verdict != ACMEH_PASS && c->out->reason) printf(": %.200s", c->out->reason);
  printf("\n");
  fflush(stdout);
}

/* Runs every cell, at most `jobs` at once; a Ctrl-C decides the rest as not run. */
static void run_cells(matrix *m, const matrix_args *a) {
  size_t next = 0, inflight = 0, finished = 0;
  while (next < m->ncells || inflight) {
    while (inflight < (size_t)a->jobs && next < m->ncells) {
      cell *c = &m->cells[next++];
      if (!decide_early(c, acmeh_proc_interrupted()) && cell_start(c, a->timeout_s, (unsigned)next) == ACMEH_OK) {
        inflight++;
        continue;
      }
      cell_finish(c, a->out);
      print_cell(c, ++finished, m->ncells);
    }
    for (size_t i = 0; i < next; i++) {
      cell *c = &m->cells[i];
      if (!c->running || !atomic_load(&c->done)) continue;
      cell_finish(c, a->out);
      inflight--;
      print_cell(c, ++finished, m->ncells);
    }
    if (inflight) acmeh_sleep_ms(20);
  }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void matrix_free(matrix *m) {
  for (size_t i = 0; i < m->ncells; i++)
    free(m->mcells[i].reason), free(m->mcells[i].transcript), free(m->mcells[i].checks_failed), json_decref(m->cells[i].def);
  for (size_t i = 0; i < m->nclients; i++) target_free(&m->clients[i]);
  for (size_t i = 0; i < m->nservers; i++) target_free(&m->servers[i]);
  free(m->cols), free(m->mcols), free(m->cells), free(m->mcells);
}

/* Writes the three reports; the exit status (docs/architecture.md, plus 130 for Ctrl-C). */
static int report(matrix *m, const matrix_args *a, double started, double t0) {
  const char *names[MAX_TARGETS];
  size_t counts[4] = {0};
  for (size_t i = 0; i < m->nclients; i++) names[i] = m->clients[i].name;
  for (size_t i = 0; i < m->ncells; i++) counts[m->mcells[i].verdict & 3]++;
  const char *versions[MAX_TARGETS];
  for (size_t i = 0; i < m->nclients; i++) versions[i] = m->clients[i].version[0] ? m->clients[i].version : NULL;
  acmeh_matrix rep = {.clients = names, .client_versions = versions, .nclients = m->nclients, .columns = m->mcols, .ncolumns = m->ncols,
                      .cells = m->mcells, .started_unix = started, .duration_s = acmeh_now_mono() - t0,
                      .interrupted = acmeh_proc_interrupted()};
  char err[1024];
  if (acmeh_report_matrix_write(&rep, a->out, err, sizeof err)) return fprintf(stderr, "acme-harness matrix: %s\n", err), 2;
  printf("matrix: %zu pass, %zu fail, %zu skip, %zu error in %.1f s; %s/matrix.md, matrix.html, matrix.json, transcripts/\n",
         counts[0], counts[1], counts[2], counts[3], rep.duration_s, a->out);
  /* The transcripts keep the tails of outputs and logs. When every cell
   * passed or was skipped the clients' state and keys are of no further use;
   * otherwise the whole logs the transcripts name stay for debugging. */
  if (counts[1] || counts[3]) printf("matrix: the cells' folders and whole logs are kept in %s\n", m->run_dir);
  else nftw(m->run_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return rep.interrupted ? 130 : counts[1] ? 1 : counts[3] ? 2 : 0;
}

static int make_dirs(matrix *m, const char *out) {
  char t[4200];
  snprintf(t, sizeof t, "%s/transcripts", out);
  struct stat st;
  if ((mkdir(out, 0755) && errno != EEXIST) || (mkdir(t, 0755) && errno != EEXIST))
    return fprintf(stderr, "acme-harness matrix: --out %s: %s\n", out, strerror(errno)), 2;
  if (stat(t, &st) || !S_ISDIR(st.st_mode))
    return fprintf(stderr, "acme-harness matrix: %s exists and is not a folder\n", t), 2;
  snprintf(m->run_dir, sizeof m->run_dir, "/tmp/acme-harness-matrix-XXXXXX");
  if (!mkdtemp(m->run_dir)) return fprintf(stderr, "acme-harness matrix: cannot create a run folder in /tmp\n"), 2;
  return 0;
}

int acmeh_cli_matrix(int argc, char **argv) {
  matrix_args a;
  static matrix m; /* big; one per process */
  int rc = parse(&a, argc, argv);
  if (rc) return rc == 1 ? 0 : rc;
  acmeh_proc_install_cleanup(acmeh_proc_kill_all); /* Ctrl-C: end the version commands and running cells, report the rest */
  double started = acmeh_now_wall(), t0 = acmeh_now_mono();
  rc = load_targets(a.clients_arg, "client", m.clients, &m.nclients); /* runs version commands: Ctrl-C ends them */
  if (!rc) rc = load_targets(a.servers_arg, "server", m.servers, &m.nservers);
  if (!rc) rc = check_kinds(a.kinds_arg);
  if (!rc) rc = make_dirs(&m, a.out);
  if (!rc && build(&m, a.kinds_arg)) rc = (fprintf(stderr, "acme-harness matrix: out of memory\n"), 2);
  if (!rc) {
    printf("matrix: %zu client(s) x %zu column(s), %d job(s), %.0f s per cell\n", m.nclients, m.ncols, a.jobs, a.timeout_s);
    fflush(stdout);
    run_cells(&m, &a);
    rc = report(&m, &a, started, t0);
  }
  matrix_free(&m);
  return rc;
}
