#include "harness/runner/scenario.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/self.h"
#include "harness/client/chaltype.h"
#include "harness/runner/catalog.h"
#include "harness/runner/suite.h"
#include "harness/server/fault.h"
#include "harness/server/server.h"
#include "harness/targets/process.h"
#include "harness/targets/target.h"
#include "harness/targets/vars.h"

/* Bytes of the client's output kept. */
#define CLIENT_LOG_MAX (64 * 1024)

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
    acmeh_client_run *r = &s->items[i].run;
    free(r->why), json_decref(r->exchanges), json_decref(r->validations), free(r->domain), free(r->domains), free(r->cert_pem), free(r->client_log);
    json_decref(r->suite_data);
    pthread_mutex_destroy(&s->items[i].mu);
  }
  free(s->items);
  json_decref(s->docs);
  free(s);
}

/* ---- one run ---------------------------------------------------------- */

typedef struct {
  pthread_mutex_t mu;
  json_t *exchanges, *validations;
} recorder;

/* On the server's loop thread: keep a reference, nothing more. */
static void record(void *ud, const json_t *exchange) {
  recorder *rec = ud;
  pthread_mutex_lock(&rec->mu);
  json_array_append(rec->exchanges, (json_t *)exchange);
  pthread_mutex_unlock(&rec->mu);
}

static void record_validation(void *ud, const json_t *validation) {
  recorder *rec = ud;
  pthread_mutex_lock(&rec->mu);
  json_array_append(rec->validations, (json_t *)validation);
  pthread_mutex_unlock(&rec->mu);
}

static char *read_file(const char *path, size_t cap) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = malloc(cap + 1);
  size_t n = buf ? fread(buf, 1, cap, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

static int client_can(const json_t *client, const char *key, const char *value) {
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(client, key), i, v) if (json_is_string(v) && strcmp(json_string_value(v), value) == 0) return 1;
  return 0;
}

static int mkdirs(const char *a, const char *b, char *out, size_t len) {
  snprintf(out, len, "%s/%s", a, b);
  return mkdir(out, 0755) == 0 || access(out, W_OK) == 0 ? ACMEH_OK : ACMEH_ENV_IO;
}

/* Where the server validates: the client's own listener when it serves
 * challenges itself, else the mocks the hook publishes into. */
static void validation_ports(const acmeh_env *env, int standalone, int *http01, int *tlsalpn01) {
  *http01 = standalone ? acmeh_free_port() : acmeh_mocks_http01_port(env->mocks);
  *tlsalpn01 = standalone ? acmeh_free_port() : acmeh_mocks_tlsalpn01_port(env->mocks);
}

static void set_run_vars(acmeh_vars *v, const acmeh_env *env, acmeh_server *srv, const scenario *sc, const char *work,
                         const char *client_dir, int http01, int tlsalpn01) {
  char buf[4200];
  acmeh_vars_set(v, "ACME_DIRECTORY", acmeh_server_directory_url(srv));
  acmeh_vars_set(v, "ACME_CA_BUNDLE", acmeh_server_ca_file(srv));
  acmeh_vars_set(v, "DOMAIN", sc->run.domain);
  acmeh_vars_set(v, "DOMAINS", sc->run.domains ? sc->run.domains : sc->run.domain);
  acmeh_vars_set(v, "EMAIL", "acmeh@example.com");
  acmeh_vars_set(v, "WORK_DIR", client_dir);
  acmeh_vars_set(v, "LOG_DIR", work);
  acmeh_vars_set_int(v, "HTTP01_PORT", http01);
  acmeh_vars_set_int(v, "TLSALPN01_PORT", tlsalpn01);
  snprintf(buf, sizeof buf, "127.0.0.1:%d", acmeh_mocks_dns_port(env->mocks));
  acmeh_vars_set(v, "DNS_SERVER", buf);
  snprintf(buf, sizeof buf, "http://127.0.0.1:%d", acmeh_mocks_mgmt_port(env->mocks));
  acmeh_vars_set(v, "ACMEH_MGMT", buf);
  const char *ch = json_string_value(json_object_get(sc->def, "challenge"));
  acmeh_vars_set(v, "CHALLENGE", ch ? ch : "http-01");
  acmeh_vars_set(v, "CHECK_ID", sc->name);
  /* The External Account Binding the scenario's server holds, handed over the
   * way a CA gives it out of band (RFC 8555 §7.3.4): kid and base64url MAC key. */
  const json_t *eab = json_object_get(json_object_get(sc->def, "server"), "eab");
  if (json_string_value(json_object_get(eab, "kid"))) acmeh_vars_set(v, "EAB_KID", json_string_value(json_object_get(eab, "kid")));
  if (json_string_value(json_object_get(eab, "key"))) acmeh_vars_set(v, "EAB_HMAC_KEY", json_string_value(json_object_get(eab, "key")));
  const char *k;
  json_t *x;
  json_object_foreach(json_object_get(sc->def, "vars"), k, x) if (json_is_string(x)) acmeh_vars_set(v, k, json_string_value(x));
  if (env->client_dir) acmeh_vars_set(v, "TARGET_DIR", env->client_dir);
  if (acmeh_self_exe()) acmeh_vars_set(v, "ACMEH_BIN", acmeh_self_exe());
}

/* Runs the client's action with the variables; fills the run's status fields. */
static int run_client(scenario *sc, const json_t *action, acmeh_vars *v, const char *work, double budget_s) {
  json_t *argv_j = acmeh_vars_expand_json(v, json_object_get(action, "command"));
  json_t *env_j = acmeh_vars_expand_json(v, json_object_get(action, "env"));
  size_t n = json_array_size(argv_j), i;
  const char **argv = calloc(n + 1, sizeof *argv);
  json_t *e;
  const char *k;
  json_array_foreach(argv_j, i, e) argv[i] = json_string_value(e);
  json_object_foreach(env_j, k, e) if (json_is_string(e)) acmeh_vars_set(v, k, json_string_value(e));
  char **envp = acmeh_vars_environ(v), log[4400];
  snprintf(log, sizeof log, "%s/client.log", work);
  json_int_t ms = json_integer_value(json_object_get(action, "timeout_ms"));
  long limit = (long)(budget_s * 1000);
  if (ms > 0 && ms < limit) limit = (long)ms;
  double t0 = acmeh_now_mono();
  int rc = n && argv[0] ? acmeh_proc_run(argv, (const char *const *)envp, work, log, limit, &sc->run.exit_status,
                                         sc->err, sizeof sc->err)
                        : acmeh_msg(sc->err, sizeof sc->err, ACMEH_INTERNAL, "client action has no command");
  sc->run.duration_s += acmeh_now_mono() - t0;
  sc->run.timed_out = rc == ACMEH_PEER_TIMEOUT;
  if (sc->run.timed_out) rc = ACMEH_OK; /* a client that hangs is judged by the checks */
  acmeh_vars_environ_free(envp);
  free(argv);
  json_decref(argv_j), json_decref(env_j);
  return rc;
}

static int unsupported(scenario *sc, const char *fmt, const char *a, const char *b) {
  sc->run.unsupported = 1;
  if (asprintf(&sc->run.why, fmt, a, b) < 0) sc->run.why = NULL;
  return ACMEH_OK;
}

/* The scenario's actions in order: "actions": [..] or "action" (default "issue"). */
static size_t action_names(const json_t *def, const char **names, size_t cap) {
  const json_t *list = json_object_get(def, "actions");
  size_t n = 0, i;
  json_t *a;
  json_array_foreach(list, i, a) if (n < cap && json_is_string(a)) names[n++] = json_string_value(a);
  if (!n) names[n++] = json_string_value(json_object_get(def, "action")) ? json_string_value(json_object_get(def, "action")) : "issue";
  return n;
}

/* Runs the actions one after the other in the same client folder; stops at
 * the first that fails (later ones build on it). */
static int run_actions(scenario *sc, const acmeh_env *env, const char *const *names, size_t n, acmeh_vars *v,
                       const char *work, double budget_s) {
  const json_t *actions = json_object_get(env->client, "actions");
  double until = acmeh_now_mono() + budget_s;
  int rc = ACMEH_OK;
  for (size_t i = 0; i < n && rc == ACMEH_OK; i++) {
    rc = run_client(sc, json_object_get(actions, names[i]), v, work, until - acmeh_now_mono());
    if (sc->run.exit_status || sc->run.timed_out) break;
  }
  return rc;
}

/* The scenario's "server" settings (ARI policy, profiles, one EAB key in *eab)
 * into cfg; strings stay owned by the scenario document. */
static void server_settings(const json_t *def, acmeh_server_config *cfg, acmeh_server_eab_key *eab) {
  const json_t *srv = json_object_get(def, "server"), *ari = json_object_get(srv, "ari");
  const char *w = json_string_value(json_object_get(ari, "window"));
  cfg->ari.off = json_is_true(json_object_get(ari, "off"));
  cfg->ari.window = w && !strcmp(w, "from_now") ? ACMEH_ARI_WINDOW_FROM_NOW
                    : w && !strcmp(w, "from_not_before") ? ACMEH_ARI_WINDOW_FROM_NOT_BEFORE : ACMEH_ARI_WINDOW_DEFAULT;
  cfg->ari.start_offset = json_number_value(json_object_get(ari, "start_offset"));
  cfg->ari.end_offset = json_number_value(json_object_get(ari, "end_offset"));
  cfg->ari.explanation_url = json_string_value(json_object_get(ari, "explanation_url"));
  cfg->ari.retry_after = (unsigned)json_integer_value(json_object_get(ari, "retry_after"));
  cfg->profiles = json_object_get(srv, "profiles");
  cfg->default_profile = json_string_value(json_object_get(srv, "default_profile"));
  const json_t *e = json_object_get(srv, "eab"); /* {"kid", "key", "required"} */
  *eab = (acmeh_server_eab_key){json_string_value(json_object_get(e, "kid")), json_string_value(json_object_get(e, "key"))};
  if (eab->kid && eab->hmac_key_b64url) cfg->eab_keys = eab, cfg->neab = 1;
  cfg->eab_required = cfg->neab && json_is_true(json_object_get(e, "required"));
  cfg->http01_token = json_string_value(json_object_get(srv, "http01_token"));
}

/* Every suite's scenario_begin, in registry order: {"<suite>": state} of
 * those that returned one. */
static json_t *hooks_begin(const acmeh_scenario_hook_args *a) {
  json_t *states = json_object();
  for (const acmeh_suite *const *s = acmeh_suites(); *s; s++) {
    json_t *st = (*s)->scenario_begin ? (*s)->scenario_begin(a) : NULL;
    if (st) json_object_set_new(states, (*s)->name, st);
  }
  return states;
}

/* Every suite's scenario_end with its state: {"<suite>": what it keeps}. */
static json_t *hooks_end(const acmeh_scenario_hook_args *a, json_t *states) {
  json_t *kept = json_object();
  for (const acmeh_suite *const *s = acmeh_suites(); *s; s++) {
    json_t *st = json_incref(json_object_get(states, (*s)->name));
    json_t *k = (*s)->scenario_end ? (*s)->scenario_end(a, st) : st;
    if (k) json_object_set_new(kept, (*s)->name, k);
  }
  json_decref(states);
  return kept;
}

static int run_scenario(scenario *sc, const acmeh_env *env, double budget_s) {
  const char *cname = json_string_value(json_object_get(env->client, "name"));
  const char *chal = json_string_value(json_object_get(sc->def, "challenge"));
  const char *names[8];
  size_t n = action_names(sc->def, names, 8);
  for (size_t i = 0; i < n; i++)
    if (!json_object_get(json_object_get(env->client, "actions"), names[i]))
      return unsupported(sc, "%s has no \"%s\" action", cname, names[i]);
  if (chal && !client_can(env->client, "challenges", chal)) return unsupported(sc, "%s cannot answer %s", cname, chal);
  char work[4200], sdir[4300], cdir[4300], log[4400];
  if (mkdirs(env->run_dir, sc->name, work, sizeof work) || mkdirs(work, "server", sdir, sizeof sdir) ||
      mkdirs(work, "client", cdir, sizeof cdir))
    return acmeh_msg(sc->err, sizeof sc->err, ACMEH_ENV_IO, "cannot make folders under %s", env->run_dir);
  const char *pub = json_string_value(json_object_get(env->client, "publishes"));
  int http01, tlsalpn01;
  validation_ports(env, pub && strcmp(pub, "http-01-standalone") == 0, &http01, &tlsalpn01);
  recorder rec = {.exchanges = json_array(), .validations = json_array()};
  pthread_mutex_init(&rec.mu, NULL);
  acmeh_server_config cfg = {.dns_addr = "127.0.0.1", .dns_port = acmeh_mocks_dns_port(env->mocks),
                             .http01_port = http01, .tlsalpn01_port = tlsalpn01, .run_dir = sdir,
                             .faults = json_object_get(sc->def, "faults"), .observer = record, .observer_ud = &rec,
                             .validation_observer = record_validation, .validation_observer_ud = &rec};
  acmeh_server_eab_key eab;
  server_settings(sc->def, &cfg, &eab);
  acmeh_server *srv = NULL;
  sc->run.started_wall = acmeh_now_wall();
  int rc = acmeh_server_start(&cfg, &srv, sc->err, sizeof sc->err);
  acmeh_vars v = {0};
  if (rc == ACMEH_OK) {
    set_run_vars(&v, env, srv, sc, work, cdir, http01, tlsalpn01);
    acmeh_scenario_hook_args hook = {env->mocks, sc->def, sc->run.domain, &v};
    json_t *states = hooks_begin(&hook);
    rc = run_actions(sc, env, names, n, &v, work, budget_s);
    acmeh_server_stop(srv); /* after this no observer call can come */
    sc->run.suite_data = hooks_end(&hook, states);
  }
  sc->run.exchanges = rec.exchanges;
  sc->run.validations = rec.validations;
  pthread_mutex_destroy(&rec.mu);
  snprintf(log, sizeof log, "%s/client.log", work);
  sc->run.client_log = read_file(log, CLIENT_LOG_MAX);
  const char *cp = json_string_value(json_object_get(env->client, "cert_path"));
  char *path = cp ? acmeh_vars_expand(&v, cp) : NULL;
  if (path) sc->run.cert_pem = read_file(path, 1 << 20);
  free(path);
  acmeh_vars_free(&v);
  if (rc == ACMEH_OK && sc->run.exit_status == 127 && !sc->run.timed_out)
    return unsupported(sc, "%s answered 127 (unsupported) for one of its actions", cname, "");
  return rc;
}

/* ---- checks' view ------------------------------------------------------ */

static void note_headers(acmeh_check_ctx *ctx, const json_t *h, const char *prefix) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)h, k, v) acmeh_strbuf_printf(&ctx->transcript, "%s %s: %s\n", prefix, k, json_string_value(v));
}

/* The record in the transcript: what the client sent, decoded, and what it got. */
static void transcribe(acmeh_check_ctx *ctx, const acmeh_client_run *r) {
  acmeh_check_note(ctx, "scenario %s: client exit %d%s after %.2f s, %zu exchanges, domain(s) %s", r->name, r->exit_status,
                   r->timed_out ? " (killed: timed out)" : "", r->duration_s, json_array_size(r->exchanges),
                   r->domains ? r->domains : r->domain ? r->domain : "-");
  size_t i;
  json_t *x;
  json_array_foreach(r->exchanges, i, x) {
    acmeh_strbuf *t = &ctx->transcript;
    acmeh_strbuf_printf(t, "\n>>> #%lld at %lld ms: %s %s\n", (long long)json_integer_value(json_object_get(x, "seq")),
                        (long long)json_integer_value(json_object_get(x, "time_ms")),
                        json_string_value(json_object_get(x, "method")), json_string_value(json_object_get(x, "url")));
    note_headers(ctx, json_object_get(x, "req_headers"), ">");
    json_t *jws = json_object_get(x, "jws");
    char *prot = json_dumps(json_object_get(jws, "protected"), JSON_COMPACT);
    if (prot) acmeh_strbuf_printf(t, "  [protected decoded] %s\n", prot);
    const char *payload = json_string_value(json_object_get(jws, "payload"));
    if (payload) acmeh_strbuf_printf(t, "  [payload decoded] %.2000s\n", payload);
    free(prot);
    acmeh_strbuf_printf(t, "<<< %lld\n", (long long)json_integer_value(json_object_get(x, "status")));
    note_headers(ctx, json_object_get(x, "resp_headers"), "<");
    const char *body = json_string_value(json_object_get(x, "resp_body"));
    if (body && *body) acmeh_strbuf_printf(t, "%.2000s\n", body);
  }
  json_array_foreach(r->validations, i, x) {
    char *err = json_dumps(json_object_get(x, "error"), JSON_COMPACT | JSON_ENCODE_ANY);
    acmeh_check_note(ctx, "validation of %s (%s %s): response arrived at %lld ms, lookup %lld-%lld ms: %s%s%s",
                     json_string_value(json_object_get(x, "challenge")), json_string_value(json_object_get(x, "type")),
                     json_string_value(json_object_get(x, "identifier")), (long long)json_integer_value(json_object_get(x, "arrived_ms")),
                     (long long)json_integer_value(json_object_get(x, "started_ms")),
                     (long long)json_integer_value(json_object_get(x, "ended_ms")), json_string_value(json_object_get(x, "status")),
                     err && strcmp(err, "null") ? " " : "", err && strcmp(err, "null") ? err : "");
    free(err);
  }
  if (r->client_log) acmeh_check_note(ctx, "client output:\n%.8000s", r->client_log);
}

static scenario *find(acmeh_scenarios *s, const char *name) {
  for (size_t i = 0; s && i < s->n; i++)
    if (strcmp(s->items[i].name, name) == 0) return &s->items[i];
  return NULL;
}

/* The scenario's names: "c<hash>.<parent>" (the hash of the seed and the
 * scenario's name, so a run is repeatable), and for "names": n the further
 * "c<hash>-<k>.<parent>", all in domains. */
static void pick_domain(scenario *sc, const acmeh_env *env) {
  uint64_t h = env->seed ^ 1469598103934665603ULL;
  for (const char *p = sc->name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  const char *wild = json_is_true(json_object_get(sc->def, "wildcard")) ? "*." : ""; /* "wildcard": true */
  const char *parent = env->domain ? env->domain : "acmeh.example.com";
  unsigned long long label = (unsigned long long)(h & 0xffffffffULL);
  if (asprintf(&sc->run.domain, "%sc%08llx.%s", wild, label, parent) < 0) sc->run.domain = NULL;
  json_int_t n = json_integer_value(json_object_get(sc->def, "names"));
  acmeh_strbuf all = {0};
  acmeh_strbuf_printf(&all, "%s", sc->run.domain ? sc->run.domain : "");
  for (json_int_t k = 2; k <= n && k <= 8; k++) acmeh_strbuf_printf(&all, ",%sc%08llx-%d.%s", wild, label, (int)k, parent);
  sc->run.domains = acmeh_strbuf_take(&all);
}

int acmeh_scenario_get(acmeh_check_ctx *ctx, const char *name, const acmeh_client_run **out) {
  scenario *sc = find(ctx->env->scenarios, name);
  *out = NULL; /* a check that goes on after a failure sees no record, not garbage */
  if (!sc) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no scenario named %s", name);
  pthread_mutex_lock(&sc->mu);
  if (!sc->done) {
    pick_domain(sc, ctx->env);
    sc->rc = run_scenario(sc, ctx->env, acmeh_check_time_left(ctx) - 1);
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
  transcribe(ctx, &sc->run);
  /* A client stopped at its time limit did not finish: what it would have done is unknown. */
  if (sc->run.timed_out)
    return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_DEADLINE, "scenario %s: the client was stopped after %.0f s, its time limit, before it finished",
                     name, sc->run.duration_s);
  return ACMEH_OK;
}
