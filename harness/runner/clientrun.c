#include "harness/runner/clientrun.h"

#include <fcntl.h>
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
#include "harness/runner/suite.h"
#include "harness/server/server.h"
#include "harness/targets/process.h"
#include "harness/targets/target.h"
#include "harness/targets/vars.h"

/* Bytes of the client's output kept. */
#define CLIENT_LOG_MAX (64 * 1024)
/* Actions one run takes at most. */
#define MAX_ACTIONS 8

struct acmeh_clientrun {
  acmeh_clientrun_args a;
  acmeh_client_run *rec;
  const char *actions[MAX_ACTIONS];
  size_t nactions;
  acmeh_mocks *own_mocks, *mocks;
  acmeh_server *srv;         /* the reference server, or NULL */
  acmeh_target_run *tr;      /* a server target, or NULL */
  pthread_mutex_t mu;        /* guards the record's arrays while the server's loop thread appends */
  acmeh_vars vars;
  json_t *states;            /* the suites' scenario_begin states */
  acmeh_scenario_hook_args hook;
  double deadline;
};

/* ---- the record --------------------------------------------------------- */

/* On the server's loop thread: keep a reference, nothing more. */
static void record(void *ud, const json_t *exchange) {
  acmeh_clientrun *r = ud;
  pthread_mutex_lock(&r->mu);
  json_array_append(r->rec->exchanges, (json_t *)exchange);
  pthread_mutex_unlock(&r->mu);
}

static void record_validation(void *ud, const json_t *validation) {
  acmeh_clientrun *r = ud;
  pthread_mutex_lock(&r->mu);
  json_array_append(r->rec->validations, (json_t *)validation);
  pthread_mutex_unlock(&r->mu);
}

/* The first `cap` bytes of regular file `path`, NUL-terminated (malloc'd), or
 * NULL. Opened without blocking and read only when regular: a client may
 * leave a FIFO or a device at its cert_path. */
static char *read_file(const char *path, size_t cap) {
  int fd = path ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) close(fd), fd = -1;
  FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
  if (!f) {
    if (fd >= 0) close(fd);
    return NULL;
  }
  char *buf = malloc(cap + 1);
  size_t n = buf ? fread(buf, 1, cap, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

void acmeh_client_run_clear(acmeh_client_run *r) {
  free(r->why), free(r->domain), free(r->domains), free(r->cert_pem), free(r->first_cert_pem), free(r->client_log);
  free(r->directory_url), free(r->server_log);
  json_decref(r->exchanges), json_decref(r->validations), json_decref(r->mock_history), json_decref(r->suite_data);
  *r = (acmeh_client_run){.name = r->name, .def = r->def};
}

/* ---- start ---------------------------------------------------------------- */

static int lists(const json_t *list, const char *value) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) if (json_is_string(v) && strcmp(json_string_value(v), value) == 0) return 1;
  return 0;
}

static int unsupported(acmeh_client_run *rec, const char *fmt, const char *a, const char *b) {
  rec->unsupported = 1;
  if (asprintf(&rec->why, fmt, a, b) < 0) rec->why = NULL;
  return ACMEH_UNSUPPORTED;
}

/* The actions in order: the arguments', else "actions": [..] or "action" (default "issue"). */
static void resolve_actions(acmeh_clientrun *r) {
  const acmeh_clientrun_args *a = &r->a;
  size_t i;
  json_t *x;
  for (i = 0; a->actions && i < a->nactions && r->nactions < MAX_ACTIONS; i++) r->actions[r->nactions++] = a->actions[i];
  if (!r->nactions) json_array_foreach(json_object_get(a->def, "actions"), i, x) if (r->nactions < MAX_ACTIONS && json_is_string(x))
      r->actions[r->nactions++] = json_string_value(x);
  const char *one = json_string_value(json_object_get(a->def, "action"));
  if (!r->nactions) r->actions[r->nactions++] = one ? one : "issue";
}

/* Why the client cannot run the scenario against this server, or ACMEH_OK. */
static int can_run(acmeh_clientrun *r) {
  const char *cname = json_string_value(json_object_get(r->a.client, "name"));
  const char *chal = json_string_value(json_object_get(r->a.def, "challenge"));
  for (size_t i = 0; i < r->nactions; i++)
    if (!json_object_get(json_object_get(r->a.client, "actions"), r->actions[i]))
      return unsupported(r->rec, "%s has no \"%s\" action", cname, r->actions[i]);
  if (chal && !lists(json_object_get(r->a.client, "challenges"), chal)) return unsupported(r->rec, "%s cannot answer %s", cname, chal);
  if (r->a.server && json_array_size(json_object_get(r->a.def, "faults")))
    return unsupported(r->rec, "the scenario's fault rules need the reference server, not %s%s",
                       json_string_value(json_object_get(r->a.server, "name")), "");
  return ACMEH_OK;
}

/* A client that serves http-01 / tls-alpn-01 itself (publishes
 * "http-01-standalone") owns the ports the server validates at. */
static int owns_ports(const acmeh_clientrun *r) {
  const char *pub = json_string_value(json_object_get(r->a.client, "publishes"));
  return pub && strcmp(pub, "http-01-standalone") == 0;
}

/* ... and listens there when its challenge is answered at the client (the
 * challenge table's client_listens; http-01 when the scenario names none). */
static int standalone(const acmeh_clientrun *r) {
  const acmeh_chaltype *t = acmeh_chaltype_find(json_string_value(json_object_get(r->a.def, "challenge")));
  return owns_ports(r) && (!t || t->client_listens);
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
  cfg->pk = json_string_value(json_object_get(srv, "pk")); /* draft-geng-acme-public-key deviations */
  cfg->dns_persist = json_string_value(json_object_get(srv, "dns_persist")); /* server.h's modes */
  cfg->onion = json_string_value(json_object_get(srv, "onion"));                   /* RFC 9799 (server.h) */
  cfg->onion_caa_flag = json_string_value(json_object_get(srv, "onion_caa_flag"));
}

/* The reference server in this process, validating where the client
 * publishes: its own listener when standalone, else the mocks. */
static int start_reference(acmeh_clientrun *r, const char *sdir, char *err, size_t errlen) {
  int sa = owns_ports(r);
  int http01 = sa ? acmeh_free_port() : acmeh_mocks_http01_port(r->mocks);
  int tlsalpn01 = sa ? acmeh_free_port() : acmeh_mocks_tlsalpn01_port(r->mocks);
  acmeh_server_config cfg = {.dns_addr = "127.0.0.1", .dns_port = acmeh_mocks_dns_port(r->mocks),
                             .http01_port = http01, .tlsalpn01_port = tlsalpn01, .run_dir = sdir,
                             .faults = json_object_get(r->a.def, "faults"), .observer = record, .observer_ud = r,
                             .validation_observer = record_validation, .validation_observer_ud = r,
                             .dns_account_scheme = r->a.wire ? r->a.wire->dnsacct_scheme : 0,
                             .dns_persist_rev = r->a.wire ? r->a.wire->persist_rev : 0,
                             .bundle_node_port = acmeh_mocks_bundle_node_port(r->mocks),
                             .device_attest_rev = r->a.wire ? r->a.wire->devattest_rev : 0};
  acmeh_server_eab_key eab;
  server_settings(r->a.def, &cfg, &eab);
  acmeh_vars_set_int(&r->vars, "HTTP01_PORT", http01);
  acmeh_vars_set_int(&r->vars, "TLSALPN01_PORT", tlsalpn01);
  r->rec->observed = 1;
  int rc = acmeh_server_start(&cfg, &r->srv, err, errlen);
  if (rc == ACMEH_OK) r->rec->directory_url = strdup(acmeh_server_directory_url(r->srv));
  return rc;
}

/* A server target takes its validation ports from the mocks it is given. For
 * a standalone client it starts beside stand-in mocks, which then give way to
 * the run's mocks on the same DNS port, leaving the validation ports to the
 * client. Only for mocks the run owns. */
static int start_target(acmeh_clientrun *r, const char *sdir, char *err, size_t errlen) {
  int rc = acmeh_target_start(r->a.server, sdir, r->mocks, &r->tr, err, errlen);
  if (rc == ACMEH_OK) r->rec->directory_url = strdup(acmeh_target_directory(r->tr));
  if (rc == ACMEH_OK) r->rec->server_log = strdup(acmeh_target_log(r->tr));
  if (rc != ACMEH_OK || !standalone(r) || !r->own_mocks) return rc;
  int dns = acmeh_mocks_dns_port(r->mocks);
  acmeh_vars_set_int(&r->vars, "HTTP01_PORT", acmeh_mocks_http01_port(r->mocks));
  acmeh_vars_set_int(&r->vars, "TLSALPN01_PORT", acmeh_mocks_tlsalpn01_port(r->mocks));
  acmeh_mocks_stop(r->own_mocks);
  acmeh_mocks_config real = {.dns_port = dns};
  r->own_mocks = r->mocks = NULL;
  rc = acmeh_mocks_start(&real, &r->own_mocks, err, errlen);
  r->mocks = r->own_mocks;
  return rc;
}

/* The variables of targets/README.md for the client's commands. */
static void set_vars(acmeh_clientrun *r, const char *cdir) {
  char buf[4200];
  acmeh_vars *v = &r->vars;
  const acmeh_clientrun_args *a = &r->a;
  acmeh_vars_set(v, "ACME_DIRECTORY", acmeh_clientrun_directory(r));
  acmeh_vars_set(v, "ACME_CA_BUNDLE", acmeh_clientrun_ca_file(r));
  acmeh_vars_set(v, "DOMAIN", a->domain);
  acmeh_vars_set(v, "DOMAINS", a->domains ? a->domains : a->domain);
  acmeh_vars_set(v, "EMAIL", "acmeh@example.com");
  acmeh_vars_set(v, "WORK_DIR", cdir);
  acmeh_vars_set(v, "LOG_DIR", a->work);
  if (!acmeh_vars_get(v, "HTTP01_PORT")) acmeh_vars_set_int(v, "HTTP01_PORT", acmeh_mocks_http01_port(r->mocks));
  if (!acmeh_vars_get(v, "TLSALPN01_PORT")) acmeh_vars_set_int(v, "TLSALPN01_PORT", acmeh_mocks_tlsalpn01_port(r->mocks));
  snprintf(buf, sizeof buf, "127.0.0.1:%d", acmeh_mocks_dns_port(r->mocks));
  acmeh_vars_set(v, "DNS_SERVER", buf);
  snprintf(buf, sizeof buf, "http://127.0.0.1:%d", acmeh_mocks_mgmt_port(r->mocks));
  acmeh_vars_set(v, "ACMEH_MGMT", buf);
  const char *ch = json_string_value(json_object_get(a->def, "challenge"));
  acmeh_vars_set(v, "CHALLENGE", ch ? ch : "http-01");
  acmeh_vars_set(v, "CHECK_ID", a->name);
  /* The External Account Binding the scenario's server holds, handed over the
   * way a CA gives it out of band (RFC 8555 §7.3.4): kid and base64url MAC key. */
  const json_t *eab = json_object_get(json_object_get(a->def, "server"), "eab");
  if (json_string_value(json_object_get(eab, "kid"))) acmeh_vars_set(v, "EAB_KID", json_string_value(json_object_get(eab, "kid")));
  if (json_string_value(json_object_get(eab, "key"))) acmeh_vars_set(v, "EAB_HMAC_KEY", json_string_value(json_object_get(eab, "key")));
  const char *k;
  json_t *x;
  json_object_foreach(json_object_get(a->def, "vars"), k, x) if (json_is_string(x)) acmeh_vars_set(v, k, json_string_value(x));
  if (a->client_dir) acmeh_vars_set(v, "TARGET_DIR", a->client_dir);
  if (acmeh_self_exe()) acmeh_vars_set(v, "ACMEH_BIN", acmeh_self_exe());
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

static int mkdirs(const char *a, const char *b, char *out, size_t len) {
  snprintf(out, len, "%s/%s", a, b);
  return mkdir(out, 0755) == 0 || access(out, W_OK) == 0 ? ACMEH_OK : ACMEH_ENV_IO;
}

static int start_server(acmeh_clientrun *r, char *err, size_t errlen) {
  char sdir[4300], cdir[4300];
  if (mkdirs(r->a.work, "server", sdir, sizeof sdir) || mkdirs(r->a.work, "client", cdir, sizeof cdir))
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot make folders under %s", r->a.work);
  int rc = ACMEH_OK;
  if (!r->mocks) {
    acmeh_mocks_config mc = {.mgmt_port = r->a.server && standalone(r) ? -1 : 0};
    rc = acmeh_mocks_start(&mc, &r->own_mocks, err, errlen);
    r->mocks = r->own_mocks;
  }
  r->rec->started_wall = acmeh_now_wall();
  if (rc == ACMEH_OK) rc = r->a.server ? start_target(r, sdir, err, errlen) : start_reference(r, sdir, err, errlen);
  if (rc == ACMEH_OK) set_vars(r, cdir);
  return rc;
}

static void run_free(acmeh_clientrun *r) {
  acmeh_mocks_stop(r->own_mocks);
  acmeh_vars_free(&r->vars);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

int acmeh_clientrun_start(const acmeh_clientrun_args *a, acmeh_client_run *rec, acmeh_clientrun **out, char *err,
                          size_t errlen) {
  *out = NULL;
  acmeh_clientrun *r = calloc(1, sizeof *r);
  if (!r) return ACMEH_NOMEM;
  *r = (acmeh_clientrun){.a = *a, .rec = rec, .mocks = a->mocks, .deadline = acmeh_now_mono() + a->budget_s};
  pthread_mutex_init(&r->mu, NULL);
  rec->name = a->name, rec->def = a->def;
  rec->domain = a->domain ? strdup(a->domain) : NULL;
  rec->domains = strdup(a->domains ? a->domains : a->domain ? a->domain : "");
  rec->exchanges = json_array(), rec->validations = json_array();
  resolve_actions(r);
  int rc = can_run(r);
  if (rc == ACMEH_OK) rc = start_server(r, err, errlen);
  if (rc != ACMEH_OK) {
    acmeh_server_stop(r->srv), acmeh_target_stop(r->tr);
    run_free(r);
    return rc;
  }
  r->hook = (acmeh_scenario_hook_args){r->mocks, a->def, rec->domain, &r->vars};
  r->states = hooks_begin(&r->hook);
  *out = r;
  return ACMEH_OK;
}

const char *acmeh_clientrun_directory(const acmeh_clientrun *r) {
  return r->srv ? acmeh_server_directory_url(r->srv) : acmeh_target_directory(r->tr);
}

const char *acmeh_clientrun_ca_file(const acmeh_clientrun *r) {
  return r->srv ? acmeh_server_ca_file(r->srv) : acmeh_target_ca_file(r->tr);
}

/* ---- the client ------------------------------------------------------------- */

/* Runs one action with the variables until it ends or `limit_ms`. */
static int run_action(acmeh_clientrun *r, const json_t *action, long limit_ms, char *err, size_t errlen) {
  acmeh_vars *v = &r->vars;
  json_t *argv_j = acmeh_vars_expand_json(v, json_object_get(action, "command"));
  json_t *env_j = acmeh_vars_expand_json(v, json_object_get(action, "env"));
  size_t n = json_array_size(argv_j), i;
  const char **argv = calloc(n + 1, sizeof *argv);
  json_t *e;
  const char *k;
  json_array_foreach(argv_j, i, e) argv[i] = json_string_value(e);
  json_object_foreach(env_j, k, e) if (json_is_string(e)) acmeh_vars_set(v, k, json_string_value(e));
  char **envp = acmeh_vars_environ(v), log[4400];
  snprintf(log, sizeof log, "%s/client.log", r->a.work);
  json_int_t ms = json_integer_value(json_object_get(action, "timeout_ms"));
  if (ms > 0 && ms < limit_ms) limit_ms = (long)ms;
  double t0 = acmeh_now_mono();
  int rc = !n || !argv[0] ? acmeh_msg(err, errlen, ACMEH_INTERNAL, "the client action has no command")
           : limit_ms <= 0 ? ACMEH_PEER_TIMEOUT
                           : acmeh_proc_run(argv, (const char *const *)envp, r->a.work, log, limit_ms, &r->rec->exit_status, err, errlen);
  r->rec->duration_s += acmeh_now_mono() - t0;
  r->rec->timed_out = rc == ACMEH_PEER_TIMEOUT;
  if (r->rec->timed_out) rc = ACMEH_OK; /* a client that hangs is judged by the checks */
  acmeh_vars_environ_free(envp);
  free(argv);
  json_decref(argv_j), json_decref(env_j);
  return rc;
}

static char *cert_file(acmeh_clientrun *r) {
  const char *cp = json_string_value(json_object_get(r->a.client, "cert_path"));
  char *path = cp ? acmeh_vars_expand(&r->vars, cp) : NULL;
  char *pem = read_file(path, 1 << 20);
  free(path);
  return pem;
}

int acmeh_clientrun_client(acmeh_clientrun *r, char *err, size_t errlen) {
  const json_t *actions = json_object_get(r->a.client, "actions");
  int rc = ACMEH_OK;
  for (size_t i = 0; i < r->nactions && rc == ACMEH_OK; i++) {
    r->rec->actions_run = i + 1, r->rec->last_action = r->actions[i];
    long left = (long)((r->deadline - acmeh_now_mono()) * 1000);
    rc = run_action(r, json_object_get(actions, r->actions[i]), left, err, errlen);
    if (r->rec->exit_status || r->rec->timed_out) break;
    /* The later actions replace (or delete) the first certificate; judges of
     * renewal and revocation compare with it. */
    if (i == 0 && r->nactions > 1) r->rec->first_cert_pem = cert_file(r);
    if (i == 0 && r->nactions > 1 && r->a.between) r->a.between(r->a.between_arg, r->rec);
  }
  return rc;
}

void acmeh_clientrun_finish(acmeh_clientrun *r) {
  if (!r) return;
  acmeh_client_run *rec = r->rec;
  acmeh_server_stop(r->srv); /* after this no observer call can come */
  acmeh_target_stop(r->tr);
  rec->suite_data = hooks_end(&r->hook, r->states);
  char log[4400];
  snprintf(log, sizeof log, "%s/client.log", r->a.work);
  rec->client_log = read_file(log, CLIENT_LOG_MAX);
  rec->cert_pem = cert_file(r);
  if (r->own_mocks) {
    rec->mock_history = json_object();
    static const char *const kinds[] = {"http", "dns", "tlsalpn"};
    for (size_t i = 0; i < 3; i++) json_object_set_new(rec->mock_history, kinds[i], acmeh_mocks_history(r->own_mocks, kinds[i], NULL));
  }
  if (rec->exit_status == 127 && !rec->timed_out)
    unsupported(rec, "%s answered 127 (unsupported) for its \"%s\" action", json_string_value(json_object_get(r->a.client, "name")),
                rec->last_action ? rec->last_action : "");
  run_free(r);
}

int acmeh_clientrun_run(const acmeh_clientrun_args *a, acmeh_client_run *rec, char *err, size_t errlen) {
  acmeh_clientrun *r = NULL;
  int rc = acmeh_clientrun_start(a, rec, &r, err, errlen);
  if (rc == ACMEH_OK) rc = acmeh_clientrun_client(r, err, errlen);
  acmeh_clientrun_finish(r);
  return rc;
}

/* ---- reading the record -------------------------------------------------------- */

json_t *acmeh_client_run_exchanges(const acmeh_client_run *r, const char *resource) {
  json_t *out = json_array(), *x;
  size_t i;
  json_array_foreach(r->exchanges, i, x) {
    const char *res = json_string_value(json_object_get(x, "resource"));
    if (res && strcmp(res, resource) == 0) json_array_append(out, x);
  }
  return out;
}

json_t *acmeh_client_run_payload(const json_t *exchange) {
  const char *p = json_string_value(json_object_get(json_object_get(exchange, "jws"), "payload"));
  return p ? json_loads(p, JSON_DECODE_ANY, NULL) : NULL;
}

static void note_headers(acmeh_strbuf *t, const json_t *h, const char *prefix) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)h, k, v) acmeh_strbuf_printf(t, "%s %s: %s\n", prefix, k, json_string_value(v));
}

static void transcribe_exchange(acmeh_strbuf *t, const json_t *x) {
  acmeh_strbuf_printf(t, "\n>>> #%lld at %lld ms: %s %s\n", (long long)json_integer_value(json_object_get(x, "seq")),
                      (long long)json_integer_value(json_object_get(x, "time_ms")), json_string_value(json_object_get(x, "method")),
                      json_string_value(json_object_get(x, "url")));
  note_headers(t, json_object_get(x, "req_headers"), ">");
  json_t *jws = json_object_get(x, "jws");
  char *prot = json_dumps(json_object_get(jws, "protected"), JSON_COMPACT);
  if (prot) acmeh_strbuf_printf(t, "  [protected decoded] %s\n", prot);
  const char *payload = json_string_value(json_object_get(jws, "payload"));
  if (payload) acmeh_strbuf_printf(t, "  [payload decoded] %.2000s\n", payload);
  free(prot);
  acmeh_strbuf_printf(t, "<<< %lld\n", (long long)json_integer_value(json_object_get(x, "status")));
  note_headers(t, json_object_get(x, "resp_headers"), "<");
  const char *body = json_string_value(json_object_get(x, "resp_body"));
  if (body && *body) acmeh_strbuf_printf(t, "%.2000s\n", body);
}

static void transcribe_validation(acmeh_strbuf *t, const json_t *x) {
  char *err = json_dumps(json_object_get(x, "error"), JSON_COMPACT | JSON_ENCODE_ANY);
  acmeh_strbuf_printf(t, "\n# validation of %s (%s %s): response arrived at %lld ms, lookup %lld-%lld ms: %s%s%s\n",
                      json_string_value(json_object_get(x, "challenge")), json_string_value(json_object_get(x, "type")),
                      json_string_value(json_object_get(x, "identifier")), (long long)json_integer_value(json_object_get(x, "arrived_ms")),
                      (long long)json_integer_value(json_object_get(x, "started_ms")),
                      (long long)json_integer_value(json_object_get(x, "ended_ms")), json_string_value(json_object_get(x, "status")),
                      err && strcmp(err, "null") ? " " : "", err && strcmp(err, "null") ? err : "");
  free(err);
}

void acmeh_client_run_transcript(const acmeh_client_run *r, acmeh_strbuf *t) {
  acmeh_strbuf_printf(t, "\n# scenario %s: client exit %d%s after %.2f s, %zu exchanges, domain(s) %s\n", r->name, r->exit_status,
                      r->timed_out ? " (killed: timed out)" : "", r->duration_s, json_array_size(r->exchanges),
                      r->domains ? r->domains : r->domain ? r->domain : "-");
  if (!r->observed) acmeh_strbuf_printf(t, "\n# (the server is a target: its exchanges are not visible to the harness)\n");
  size_t i;
  json_t *x;
  json_array_foreach(r->exchanges, i, x) transcribe_exchange(t, x);
  json_array_foreach(r->validations, i, x) transcribe_validation(t, x);
  if (r->client_log) acmeh_strbuf_printf(t, "\n# client output:\n%.8000s\n", r->client_log);
}
