#include "harness/cli/serve_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "harness/runner/catalog.h"
#include "harness/runner/suite.h"

/* Live verdicts: how often each per-exchange client check passed and failed. */
#define MAX_LIVE_CHECKS 64
#define MAX_LIVE_JUDGES 16
/* Characters of a verdict message shown on its line. */
#define MAX_VERDICT_CHARS 300

typedef struct {
  const char *id;
  size_t pass, fail;
  char first_failure[120]; /* "#12 POST /new-order" of the first failing exchange */
} live_count;

struct serve_log {
  pthread_mutex_t mu; /* one block at a time: the loop thread and the main thread both print */
  int color, only_failures;
  acmeh_catalog cat; /* for the checks' levels */
  const acmeh_live_judge *judges[MAX_LIVE_JUDGES];
  void *states[MAX_LIVE_JUDGES];
  size_t njudges;
  live_count counts[MAX_LIVE_CHECKS];
  size_t exchanges, valid, invalid;
  char where[120]; /* the exchange being judged, for only_failures lines */
  unsigned long long seen[4]; /* per mock history kind, the last entry printed */
};

static const char *paint(const serve_log *l, const char *code) { return l->color ? code : ""; }

/* Peer-sent text as printed: control bytes shown as '?' (a compound literal
 * holds the copy until the end of the enclosing block). */
#define CLEAN(s) acmeh_term_clean((s), (char[1024]){0}, 1024)

static const char *level_of(const serve_log *l, const char *id) {
  for (size_t i = 0; i < l->cat.n; i++)
    if (strcmp(l->cat.checks[i].id, id) == 0) return l->cat.checks[i].level;
  return "?";
}

serve_log *serve_log_new(int color, int verdicts, int only_failures) {
  serve_log *l = calloc(1, sizeof *l);
  char err[1024];
  if (!l) return NULL;
  if (acmeh_catalog_load(NULL, &l->cat, err, sizeof err) != ACMEH_OK) {
    fprintf(stderr, "acme-harness serve: %s\n", err);
    free(l);
    return NULL;
  }
  pthread_mutex_init(&l->mu, NULL);
  l->color = color, l->only_failures = only_failures;
  for (const acmeh_suite *const *s = acmeh_suites(); verdicts && *s && l->njudges < MAX_LIVE_JUDGES; s++) {
    void *st = (*s)->live ? (*s)->live->create() : NULL;
    if ((*s)->live && !st) return serve_log_free(l), NULL;
    if (st) l->judges[l->njudges] = (*s)->live, l->states[l->njudges++] = st;
  }
  return l;
}

void serve_log_free(serve_log *l) {
  if (!l) return;
  for (size_t k = 0; k < l->njudges; k++) l->judges[k]->destroy(l->states[k]);
  acmeh_catalog_free(&l->cat);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

/* ---- one exchange ------------------------------------------------------- */

static const char *status_color(int status) {
  return status == 0 || status >= 500 ? "\033[31m" : status >= 400 ? "\033[33m" : "\033[32m";
}

/* A JSON text shown compactly on one line when it parses, else as sent. */
static void print_json_text(const char *label, const char *text) {
  json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  char *compact = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  char show[2001];
  acmeh_term_clean(compact ? compact : text, show, sizeof show);
  size_t n = strlen(compact ? compact : text ? text : "");
  printf("    %-10s %s%s\n", label, show, n > 2000 ? " ..." : "");
  free(compact);
  json_decref(j);
}

static void print_faults(const serve_log *l, const json_t *faults) {
  if (!json_array_size(faults)) return;
  printf("  %sfaults:", paint(l, "\033[35m"));
  size_t i;
  json_t *v;
  json_array_foreach(faults, i, v) printf(" %s", json_string_value(v));
  printf("%s", paint(l, "\033[0m"));
}

static void print_jws(const json_t *jws) {
  if (!json_is_object(jws)) return;
  char *prot = json_dumps(json_object_get(jws, "protected"), JSON_COMPACT | JSON_ENCODE_ANY);
  printf("    %-10s %s\n", "protected", prot ? prot : "null");
  free(prot);
  const char *payload = json_string_value(json_object_get(jws, "payload"));
  print_json_text("payload", payload && !*payload ? "(empty: POST-as-GET)" : payload);
  const char *err = json_string_value(json_object_get(jws, "error"));
  if (err) printf("    %-10s %s\n", "bad JWS", CLEAN(err));
}

static const char *str(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static void print_problem(const json_t *ex) {
  const char *ct = str(json_object_get(ex, "resp_headers"), "content-type");
  if (strncmp(ct, "application/problem+json", 24) != 0) return;
  json_t *p = json_loads(str(ex, "resp_body"), 0, NULL);
  printf("    %-10s %s: %s\n", "problem", json_object_get(p, "type") ? CLEAN(str(p, "type")) : "?", CLEAN(str(p, "detail")));
  json_decref(p);
}

/* One verdict of a live judge (acmeh_live_emit): counted, and printed
 * under its exchange, or (only_failures) once per check on its first failure. */
static void print_verdict(void *ud, const char *id, int pass, const char *message) {
  serve_log *l = ud;
  size_t k = 0;
  while (k < MAX_LIVE_CHECKS && l->counts[k].id && strcmp(l->counts[k].id, id) != 0) k++;
  int first_failure = 0;
  if (k < MAX_LIVE_CHECKS) {
    live_count *c = &l->counts[k];
    c->id = id; /* the rule table's static string */
    first_failure = !pass && !c->fail;
    pass ? c->pass++ : c->fail++;
    if (first_failure) snprintf(c->first_failure, sizeof c->first_failure, "%s", l->where);
  }
  /* One screen line's worth: a peer's 2 KB kid must not flood the terminal (the exchange printed above shows it whole). */
  size_t n = strlen(message);
  int cut = n > MAX_VERDICT_CHARS;
  char shown[MAX_VERDICT_CHARS + 1];
  acmeh_term_clean(message, shown, sizeof shown);
  if (l->only_failures && first_failure)
    printf("%sFAIL%s %s [%s] at %s: %s%s\n", paint(l, "\033[31m"), paint(l, "\033[0m"), id, level_of(l, id), l->where, shown,
           cut ? " ..." : "");
  else if (!l->only_failures)
    printf("  %s [%s] %s%s%s %s%s\n", id, level_of(l, id), paint(l, pass ? "\033[32m" : "\033[31m"), pass ? "pass" : "FAIL",
           paint(l, "\033[0m"), shown, cut ? " ..." : "");
}

static void print_exchange(serve_log *l, const json_t *ex) {
  int status = (int)json_integer_value(json_object_get(ex, "status"));
  const char *method = str(ex, "method");
  char st[32];
  snprintf(st, sizeof st, status ? "%d" : "dropped", status);
  printf("%s#%lld%s +%lld ms %s %s (%s) -> %s%s%s", paint(l, "\033[1m"), (long long)json_integer_value(json_object_get(ex, "seq")),
         paint(l, "\033[0m"), (long long)json_integer_value(json_object_get(ex, "time_ms")), *method ? CLEAN(method) : "(unparsed request)",
         CLEAN(str(ex, "url")), str(ex, "resource"), paint(l, status_color(status)), st, paint(l, "\033[0m"));
  print_faults(l, json_object_get(ex, "faults"));
  printf("\n");
  print_jws(json_object_get(ex, "jws"));
  if (*str(ex, "account")) printf("    %-10s %s\n", "account", CLEAN(str(ex, "account")));
  print_problem(ex);
}

void serve_log_exchange(void *ud, const json_t *ex) {
  serve_log *l = ud;
  pthread_mutex_lock(&l->mu);
  snprintf(l->where, sizeof l->where, "#%lld %s %.80s", (long long)json_integer_value(json_object_get(ex, "seq")),
           CLEAN(str(ex, "method")), CLEAN(str(ex, "url")));
  if (!l->only_failures) print_exchange(l, ex);
  l->exchanges++;
  for (size_t k = 0; k < l->njudges; k++) l->judges[k]->exchange(l->states[k], ex, print_verdict, l);
  fflush(stdout);
  pthread_mutex_unlock(&l->mu);
}

/* ---- validations and mock activity --------------------------------------- */

void serve_log_validation(void *ud, const json_t *v) {
  serve_log *l = ud;
  const char *status = str(v, "status");
  const json_t *err = json_object_get(v, "error");
  pthread_mutex_lock(&l->mu);
  strcmp(status, "valid") == 0 ? l->valid++ : l->invalid++;
  if (!l->only_failures) {
    printf("%svalidation%s %s of %s: %s%s%s", paint(l, "\033[36m"), paint(l, "\033[0m"), str(v, "type"), CLEAN(str(v, "identifier")),
           paint(l, strcmp(status, "valid") == 0 ? "\033[32m" : "\033[31m"), status, paint(l, "\033[0m"));
    printf(" (lookup %lld ms after the response arrived)", (long long)(json_integer_value(json_object_get(v, "started_ms")) -
                                                                      json_integer_value(json_object_get(v, "arrived_ms"))));
    if (json_is_object(err)) printf(": %s: %s", CLEAN(str(err, "type")), CLEAN(str(err, "detail")));
    printf("\n    %-10s %s\n", "challenge", CLEAN(str(v, "challenge")));
    fflush(stdout);
  }
  pthread_mutex_unlock(&l->mu);
}

/* One line per mock history entry (mocks/common/history.h shapes). */
static void print_mock_entry(const serve_log *l, const char *kind, const json_t *e) {
  printf("  %smock %-7s%s ", paint(l, "\033[90m"), kind, paint(l, "\033[0m"));
  if (strcmp(kind, "dns") == 0) {
    long long n = json_integer_value(json_object_get(e, "answers"));
    printf("%s %s %s -> %s, %lld answer%s\n", str(e, "proto"), str(e, "qtype"), CLEAN(str(e, "qname")), str(e, "rcode"), n, n == 1 ? "" : "s");
  } else if (strcmp(kind, "http") == 0) {
    printf("%s http://%s%s\n", CLEAN(str(e, "method")), CLEAN(str(e, "host")), CLEAN(str(e, "path")));
  } else if (strcmp(kind, "tlsalpn") == 0) {
    char *alpn = json_dumps(json_object_get(e, "alpn"), JSON_COMPACT);
    printf("TLS hello for %s offering %s\n", CLEAN(str(e, "sni")), alpn ? CLEAN(alpn) : "[]");
    free(alpn);
  } else {
    printf("%s %s -> %lld\n", CLEAN(str(e, "path")), CLEAN(str(e, "body")), (long long)json_integer_value(json_object_get(e, "status")));
  }
}

void serve_log_mocks(serve_log *l, acmeh_mocks *m) {
  static const char *const kinds[4] = {"mgmt", "dns", "http", "tlsalpn"};
  if (!m || l->only_failures) return;
  for (int k = 0; k < 4; k++) {
    json_t *news = acmeh_mocks_history_since(m, kinds[k], &l->seen[k]), *e;
    size_t i;
    if (!json_array_size(news)) {
      json_decref(news);
      continue;
    }
    pthread_mutex_lock(&l->mu);
    json_array_foreach(news, i, e) print_mock_entry(l, strcmp(kinds[k], "mgmt") == 0 ? "hook" : kinds[k], e);
    fflush(stdout);
    pthread_mutex_unlock(&l->mu);
    json_decref(news);
  }
}

/* ---- at shutdown ----------------------------------------------------------- */

static int by_id(const void *a, const void *b) { return strcmp(((const live_count *)a)->id, ((const live_count *)b)->id); }

void serve_log_summary(serve_log *l) {
  pthread_mutex_lock(&l->mu);
  size_t fails = 0, n = 0;
  while (n < MAX_LIVE_CHECKS && l->counts[n].id) fails += l->counts[n++].fail;
  qsort(l->counts, n, sizeof *l->counts, by_id);
  printf("validations: %zu valid, %zu invalid\n", l->valid, l->invalid);
  if (l->njudges) printf("client checks over %zu exchange(s): %zu failure(s)\n", l->exchanges, fails);
  for (size_t k = 0; k < n; k++) {
    const live_count *c = &l->counts[k];
    printf("  %s [%s] %s%s%s %zu pass, %zu fail", c->id, level_of(l, c->id), paint(l, c->fail ? "\033[31m" : "\033[32m"),
           c->fail ? "FAIL" : "pass", paint(l, "\033[0m"), c->pass, c->fail);
    printf(c->fail ? " (first at %s)\n" : "\n", c->first_failure);
  }
  fflush(stdout);
  pthread_mutex_unlock(&l->mu);
}
