#include "harness/runner/scenario.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "harness/acme/schema.h"
#include "harness/client/chaltype.h"
#include "harness/runner/catalog.h"
#include "harness/runner/suite.h"
#include "harness/server/fault.h"

typedef struct {
  const char *name;
  const json_t *def;
  pthread_mutex_t mu;
  int done;
  int rc;
  char err[512];
  acmeh_client_run run;
} scenario;

struct acmeh_scenarios {
  json_t *docs;
  scenario *items;
  size_t n;
};

static int all_strings(const json_t *a) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
  return json_is_array(a);
}

int acmeh_scenario_check(const char *path, const char *name, const json_t *d, char *err, size_t errlen) {
  const json_t *ch = json_object_get(d, "challenge"), *acts = json_object_get(d, "actions");
  const json_t *names = json_object_get(d, "names"), *vars = json_object_get(d, "vars"), *faults = json_object_get(d, "faults");
  const char *bad = !json_is_object(d) ? "must be an object"
                    : ch && !acmeh_chaltype_find(json_string_value(ch)) ? "challenge: is no challenge type the harness knows"
                    : json_object_get(d, "action") && !json_is_string(json_object_get(d, "action")) ? "action: must be a string"
                    : acts && (!all_strings(acts) || !json_array_size(acts) || json_array_size(acts) > 8) ? "actions: must be 1 to 8 strings"
                    : names && (!json_is_integer(names) || json_integer_value(names) < 1 || json_integer_value(names) > 8) ? "names: must be 1 to 8"
                    : json_object_get(d, "server") && !json_is_object(json_object_get(d, "server")) ? "server: must be an object"
                    : vars && !json_is_object(vars) ? "vars: must be an object of strings"
                    : json_object_get(d, "identifier") && !json_is_string(json_object_get(d, "identifier")) ? "identifier: must be a string"
                    : json_object_get(d, "timeout_ms") && (!json_is_integer(json_object_get(d, "timeout_ms")) ||
                                                           json_integer_value(json_object_get(d, "timeout_ms")) < 1000)
                        ? "timeout_ms: must be an integer of at least 1000"
                    : NULL;
  if (bad) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: scenario %s: %s", path, name, bad);
  char why[400];
  if (faults && acmeh_faults_validate(faults, why, sizeof why))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: scenario %s: faults: %s", path, name, why);
  return ACMEH_OK;
}

static int add_file(acmeh_scenarios *s, const char *path, char *err, size_t errlen) {
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  if (!json_is_object(doc)) {
    json_decref(doc);
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: %s", path, doc ? "must be an object of scenarios" : je.text);
  }
  json_array_append_new(s->docs, doc);
  const char *name;
  json_t *def;
  json_object_foreach(doc, name, def) {
    int rc = acmeh_scenario_check(path, name, def, err, errlen);
    if (rc) return rc;
    scenario *p = realloc(s->items, (s->n + 1) * sizeof *p);
    if (!p) return ACMEH_NOMEM;
    s->items = p;
    s->items[s->n] = (scenario){.name = name, .def = def};
    s->items[s->n].run.name = name;
    s->items[s->n].run.def = def;
    pthread_mutex_init(&s->items[s->n].mu, NULL);
    s->n++;
  }
  return ACMEH_OK;
}

int acmeh_scenarios_load(const char *data_dir, acmeh_scenarios **out, char *err, size_t errlen) {
  acmeh_scenarios *s = calloc(1, sizeof *s);
  if (!s || !(s->docs = json_array())) return free(s), ACMEH_NOMEM;
  int rc = ACMEH_OK;
  for (const acmeh_suite *const *su = acmeh_suites(); rc == ACMEH_OK && *su; su++) {
    char path[4600];
    acmeh_suite_scenarios_path(*su, data_dir, path, sizeof path);
    if (access(path, R_OK) == 0) rc = add_file(s, path, err, errlen);
  }
  if (rc) acmeh_scenarios_free(s), s = NULL;
  *out = s;
  return rc;
}

void acmeh_scenarios_free(acmeh_scenarios *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) {
    acmeh_client_run_clear(&s->items[i].run);
    pthread_mutex_destroy(&s->items[i].mu);
  }
  free(s->items);
  json_decref(s->docs);
  free(s);
}

/* ---- one run ---------------------------------------------------------- */

static int run_scenario(scenario *sc, const acmeh_env *env, const char *domain, const char *domains, double budget_s) {
  char work[4200];
  snprintf(work, sizeof work, "%s/%s", env->run_dir, sc->name);
  if (mkdir(work, 0755) != 0 && access(work, W_OK) != 0)
    return acmeh_msg(sc->err, sizeof sc->err, ACMEH_ENV_IO, "cannot make folders under %s", env->run_dir);
  json_int_t ms = json_integer_value(json_object_get(sc->def, "timeout_ms")); /* a client that waits is stopped here */
  if (ms > 0 && ms / 1000.0 < budget_s) budget_s = ms / 1000.0;
  acmeh_clientrun_args a = {.client = env->client, .client_dir = env->client_dir, .mocks = env->mocks, .name = sc->name,
                            .def = sc->def, .domain = domain, .domains = domains, .work = work, .budget_s = budget_s,
                            .wire = &env->wire};
  int rc = acmeh_clientrun_run(&a, &sc->run, sc->err, sizeof sc->err);
  return rc == ACMEH_UNSUPPORTED ? ACMEH_OK : rc; /* the record says why */
}

/* ---- checks' view ------------------------------------------------------ */

static scenario *find(acmeh_scenarios *s, const char *name) {
  for (size_t i = 0; s && i < s->n; i++)
    if (strcmp(s->items[i].name, name) == 0) return &s->items[i];
  return NULL;
}

/* The scenario's names: "c<hash>.<parent>" (the hash of the seed and the
 * scenario's name, so a run is repeatable), and for "names": n the further
 * "c<hash>-<k>.<parent>", all in domains. */
static void pick_domain(const scenario *sc, const acmeh_env *env, char **domain, char **domains) {
  const char *fixed = json_string_value(json_object_get(sc->def, "identifier")); /* e.g. an IP address as typed */
  if (fixed) {
    *domain = strdup(fixed), *domains = strdup(fixed);
    return;
  }
  uint64_t h = env->seed ^ 1469598103934665603ULL;
  for (const char *p = sc->name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  const char *wild = json_is_true(json_object_get(sc->def, "wildcard")) ? "*." : ""; /* "wildcard": true */
  const char *parent = env->domain ? env->domain : "acmeh.example.com";
  unsigned long long label = (unsigned long long)(h & 0xffffffffULL);
  if (asprintf(domain, "%sc%08llx.%s", wild, label, parent) < 0) *domain = NULL;
  json_int_t n = json_integer_value(json_object_get(sc->def, "names"));
  acmeh_strbuf all = {0};
  acmeh_strbuf_printf(&all, "%s", *domain ? *domain : "");
  for (json_int_t k = 2; k <= n && k <= 8; k++) acmeh_strbuf_printf(&all, ",%sc%08llx-%d.%s", wild, label, (int)k, parent);
  *domains = acmeh_strbuf_take(&all);
  char *both[2] = {*domain, *domains};
  for (int k = 0; k < 2 && json_is_true(json_object_get(sc->def, "upper_case")); k++) /* as a user may type them */
    for (char *p = both[k]; p && *p; p++) *p = (char)toupper((unsigned char)*p);
}

/* One line per finished scenario, so that a long client run shows it is alive. */
static void progress(const scenario *sc) {
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  const acmeh_client_run *r = &sc->run;
  pthread_mutex_lock(&mu);
  if (sc->rc) printf("scenario %s: not run: %s\n", sc->name, acmeh_term_clean(sc->err, (char[600]){0}, 600));
  else if (r->unsupported) printf("scenario %s: skipped: %s\n", sc->name, acmeh_term_clean(r->why, (char[600]){0}, 600));
  else printf("scenario %s: client exit %d%s after %.1f s, %zu exchanges\n", sc->name, r->exit_status,
              r->timed_out ? " (stopped at its time limit)" : "", r->duration_s, json_array_size(r->exchanges));
  fflush(stdout);
  pthread_mutex_unlock(&mu);
}

/* The schema kind of a request to server resource `resource` (server.h), or NULL. */
static const char *request_kind(const char *resource) {
  static const char *const kinds[][2] = {{"newAccount", "newAccount"}, {"newOrder", "newOrder"},
                                         {"finalize", "finalize"},     {"challenge", "challengeResponse"},
                                         {"revokeCert", "revokeCert"}, {"keyChange", "keyChange"}};
  for (size_t i = 0; resource && i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i][0], resource) == 0) return kinds[i][1];
  return NULL;
}

/* Logs the payload of every well-formed JWS request of the record against
 * its schema (harness/acme/schema.h), as "scenario NAME": the requests of
 * every scenario the run made, whichever check asked for it first. A
 * POST-as-GET (empty payload) is no object of the kind. */
static void log_request_schemas(acmeh_schema_log *log, const char *name, const acmeh_client_run *run) {
  char origin[160];
  snprintf(origin, sizeof origin, "scenario %s", name);
  size_t i;
  json_t *x;
  json_array_foreach(run->exchanges, i, x) {
    const char *kind = request_kind(json_string_value(json_object_get(x, "resource")));
    const json_t *jws = json_object_get(x, "jws");
    const char *payload = json_string_value(json_object_get(jws, "payload"));
    if (!kind || !payload || !*payload || json_is_string(json_object_get(jws, "error"))) continue;
    json_t *p = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
    if (!p) p = json_string(payload); /* not JSON: shown as the text it is */
    char where[600];
    snprintf(where, sizeof where, "request #%lld %s %.500s", json_integer_value(json_object_get(x, "seq")),
             json_string_value(json_object_get(x, "method")), json_string_value(json_object_get(x, "url")));
    acmeh_schema_log_object(log, origin, kind, p, where);
    json_decref(p);
  }
}

int acmeh_scenario_get(acmeh_check_ctx *ctx, const char *name, const acmeh_client_run **out) {
  scenario *sc = find(ctx->env->scenarios, name);
  *out = NULL; /* a check that goes on after a failure sees no record, not garbage */
  if (!sc) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no scenario named %s", name);
  pthread_mutex_lock(&sc->mu);
  if (!sc->done) {
    char *domain = NULL, *domains = NULL;
    pick_domain(sc, ctx->env, &domain, &domains);
    sc->rc = run_scenario(sc, ctx->env, domain, domains, acmeh_check_time_left(ctx) - 1);
    free(domain), free(domains);
    progress(sc);
    if (sc->rc == ACMEH_OK && sc->run.observed) log_request_schemas(ctx->schema_log, name, &sc->run);
    sc->done = 1;
  }
  pthread_mutex_unlock(&sc->mu);
  *out = &sc->run;
  if (sc->rc) return acmeh_msg(ctx->err, sizeof ctx->err, sc->rc, "scenario %s: %s", name, sc->err);
  if (sc->run.unsupported) return acmeh_check_skip(ctx, "%s", sc->run.why ? sc->run.why : "client cannot run this scenario");
  char *faults = json_dumps(json_object_get(sc->def, "faults"), JSON_COMPACT);
  acmeh_check_note(ctx, "scenario %s: %s; fault rules: %s", name,
                   json_string_value(json_object_get(sc->def, "description")) ? json_string_value(json_object_get(sc->def, "description")) : "",
                   faults ? faults : "[]");
  free(faults);
  acmeh_client_run_transcript(&sc->run, &ctx->transcript);
  /* A client stopped at its time limit did not finish: what it would have done is unknown. */
  if (sc->run.timed_out)
    return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_DEADLINE, "scenario %s: the client was stopped after %.0f s, its time limit, before it finished",
                     name, sc->run.duration_s);
  return ACMEH_OK;
}

int acmeh_scenario_each(acmeh_check_ctx *ctx, acmeh_scenario_fn fn, void *ud, size_t *made) {
  acmeh_scenarios *s = ctx->env->scenarios;
  *made = 0;
  for (size_t i = 0; s && i < s->n; i++) {
    scenario *sc = &s->items[i];
    pthread_mutex_lock(&sc->mu);
    int usable = sc->done && !sc->rc && !sc->run.unsupported;
    pthread_mutex_unlock(&sc->mu);
    if (!usable) continue;
    ++*made;
    int rc = fn(ud, sc->name, &sc->run);
    if (rc) return rc;
  }
  return 0;
}
