/* The reference server's lifecycle (config, TLS context, loop thread,
 * thread-pool jobs, stop) and its request routing: which resource a path
 * names, which methods it takes, and the headers every response carries
 * (Link rel="index", Replay-Nonce, Cache-Control on newNonce). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/server/internal.h"
#include "harness/targets/pki.h"
#include "mocks/socks5/socks5.h"

#define NONCE_CAP 100000 /* outstanding nonces remembered; older ones are refused as badNonce */
/* Default caps: far more than any test run keeps in use (a core suite run
 * makes ~200 orders), yet small enough that a server under sustained load
 * levels off within ~2,000 orders (the authorization table, twice the order
 * cap, fills last) instead of growing for 100,000. */
#define DEFAULT_MAX_ACCOUNTS 10000
#define DEFAULT_MAX_ORDERS 1024

/* ---- thread-pool jobs ----------------------------------------------------- */

struct srv_job {
  uv_work_t req;
  acmeh_server *s;
  void (*work)(void *arg);
  void (*done)(acmeh_server *s, void *arg, int cancelled);
  void *arg;
  srv_job *prev, *next;
};

static void job_work(uv_work_t *req) {
  srv_job *j = req->data;
  j->work(j->arg);
}

static void job_after(uv_work_t *req, int status) {
  srv_job *j = req->data;
  acmeh_server *s = j->s;
  if (j->prev) j->prev->next = j->next;
  else s->jobs = j->next;
  if (j->next) j->next->prev = j->prev;
  j->done(s, j->arg, status == UV_ECANCELED || s->stopping);
  free(j);
}

int srv_job_queue(acmeh_server *s, void (*work)(void *arg), void (*done)(acmeh_server *s, void *arg, int cancelled),
                  void *arg) {
  srv_job *j = calloc(1, sizeof *j);
  if (!j) return ACMEH_NOMEM;
  *j = (srv_job){.s = s, .work = work, .done = done, .arg = arg, .next = s->jobs};
  j->req.data = j;
  if (uv_queue_work(&s->loop, &j->req, job_work, job_after) != 0) {
    free(j);
    return ACMEH_INTERNAL;
  }
  if (s->jobs) s->jobs->prev = j;
  s->jobs = j;
  return ACMEH_OK;
}

/* ---- URLs ----------------------------------------------------------------- */

char *srv_url(const acmeh_server *s, const char *kind, const char *id) {
  char *u = NULL;
  if (asprintf(&u, "%s/%s/%s", s->base, kind, id) < 0) return NULL;
  return u;
}

/* ---- routing ---------------------------------------------------------------- */

typedef enum {
  R_NONE, R_DIR, R_NONCE, R_TERMS, R_NEW_ACCOUNT, R_NEW_ORDER, R_NEW_AUTHZ, R_REVOKE, R_KEY_CHANGE,
  R_ACCT, R_ORDER, R_AUTHZ, R_CHAL, R_CERT, R_ISSUER, R_ARI, R_MGMT
} route;

#define MAX_SEG 5

static int split(char *path, char **seg) {
  int n = 0;
  char *save = NULL;
  for (char *p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
    if (n == MAX_SEG) return -1;
    seg[n++] = p;
  }
  return n;
}

static route classify(char **seg, int n) {
  static const struct { const char *name; route r; } single[] = {
      {"dir", R_DIR},           {"nonce", R_NONCE},         {"terms", R_TERMS},
      {"new-account", R_NEW_ACCOUNT}, {"new-order", R_NEW_ORDER}, {"new-authz", R_NEW_AUTHZ},
      {"revoke-cert", R_REVOKE}, {"key-change", R_KEY_CHANGE}};
  if (n == 1)
    for (size_t i = 0; i < sizeof single / sizeof *single; i++)
      if (strcmp(seg[0], single[i].name) == 0) return single[i].r;
  if (n < 2) return R_NONE;
  const char *k = seg[0], *sub = n > 2 ? seg[2] : NULL;
  if (strcmp(k, "acct") == 0 && (n == 2 || (n == 3 && strcmp(sub, "orders") == 0))) return R_ACCT;
  if (strcmp(k, "order") == 0 && (n == 2 || (n == 3 && strcmp(sub, "finalize") == 0))) return R_ORDER;
  if (strcmp(k, "authz") == 0 && n == 2) return R_AUTHZ;
  if (strcmp(k, "chal") == 0 && n == 3) return R_CHAL;
  if (strcmp(k, "cert") == 0 && (n == 2 || (n == 3 && strcmp(sub, "alt") == 0))) return R_CERT;
  if (strcmp(k, "issuer") == 0 && n == 2) return R_ISSUER;
  if (strcmp(k, "renewal-info") == 0 && n == 2) return R_ARI;
  if (strcmp(k, "acmeh") == 0 && n == 2) return R_MGMT;
  return R_NONE;
}

/* server.h's name for what a path addresses. The terms of service belong to
 * the directory's meta and issuer certificates are certificates, so the
 * observer's vocabulary stays the one server.h lists. */
static const char *resource_name(route r, char **seg, int n) {
  const char *sub = n > 2 ? seg[2] : NULL;
  switch (r) {
  case R_DIR: case R_TERMS: return "directory";
  case R_NONCE: return "newNonce";
  case R_NEW_ACCOUNT: return "newAccount";
  case R_NEW_ORDER: return "newOrder";
  case R_NEW_AUTHZ: return "newAuthz";
  case R_REVOKE: return "revokeCert";
  case R_KEY_CHANGE: return "keyChange";
  case R_ACCT: return sub ? "orders" : "account";
  case R_ORDER: return sub ? "finalize" : "order";
  case R_AUTHZ: return "authz";
  case R_CHAL: return "challenge";
  case R_CERT: case R_ISSUER: return "certificate";
  case R_ARI: return "renewalInfo";
  case R_MGMT: return "management";
  default: return "unknown";
  }
}

const char *srv_resource_of(const char *path) {
  char *seg[MAX_SEG];
  char *tmp = strdup(path ? path : "");
  int n = tmp ? split(tmp, seg) : -1;
  const char *name = resource_name(n > 0 ? classify(seg, n) : R_NONE, seg, n);
  free(tmp);
  return name;
}

static json_t *directory(acmeh_server *s) {
  json_t *d = json_object();
  static const struct { const char *key, *path; } res[] = {
      {"newNonce", "nonce"},     {"newAccount", "new-account"}, {"newOrder", "new-order"},
      {"newAuthz", "new-authz"}, {"revokeCert", "revoke-cert"}, {"keyChange", "key-change"}};
  for (size_t i = 0; i < sizeof res / sizeof *res; i++) {
    char *u = NULL;
    if (asprintf(&u, "%s/%s", s->base, res[i].path) >= 0) json_object_set_new(d, res[i].key, json_string(u));
    free(u);
  }
  char *tos = NULL;
  if (asprintf(&tos, "%s/terms", s->base) < 0) tos = NULL;
  json_object_set_new(d, "meta", json_pack("{s:s,s:b}", "termsOfService", tos ? tos : "", "externalAccountRequired",
                                           s->eab_required) /* §7.1.1, §7.3.4 */);
  free(tos);
  srv_ari_directory(s, d);
  srv_profiles_meta(s->profiles, json_object_get(d, "meta"));
  srv_persist01_meta(s, json_object_get(d, "meta"));
  srv_onion_meta(s, json_object_get(d, "meta")); /* RFC 9799 §6.4.1 */
  return d;
}

static void h_terms(srv_resp *rs) {
  rs->status = 200;
  rs->ctype = "text/plain";
  rs->body = strdup("acme-harness reference ACME server: certificates for testing only, trusted by nobody.\n");
  rs->body_len = rs->body ? strlen(rs->body) : 0;
}

/* Resources that plain GET may fetch (RFC 8555 §6.3: directory and newNonce;
 * certificates and issuers are public anyway). */
static int get_allowed(route r) {
  return r == R_DIR || r == R_NONCE || r == R_TERMS || r == R_CERT || r == R_ISSUER || r == R_ARI; /* RFC 9773 §4.1: GET */
}

static void serve_get(srv_req *rq, srv_resp *rs, route r, char **seg, int n) {
  switch (r) {
  case R_DIR:
    srv_json(rs, 200, directory(rq->s));
    rs->is_directory = 1;
    break;
  case R_NONCE: /* §7.2: HEAD 200, GET 204 (POST-as-GET answered like HEAD) */
    rs->status = strcmp(rq->http->method, "GET") == 0 ? 204 : 200;
    rs->gives_nonce = 1;
    break;
  case R_TERMS: h_terms(rs); break;
  case R_CERT: srv_h_cert(rq, rs, seg[1], n > 2 ? seg[2] : NULL); break;
  case R_ISSUER: srv_h_issuer(rq, rs, seg[1]); break;
  case R_ARI: srv_h_renewal_info(rq, rs, seg[1]); break;
  default: srv_problem(rs, 500, "serverInternal", "no GET handler"); break;
  }
}

static srv_auth auth_of(route r) {
  if (r == R_NEW_ACCOUNT) return AUTH_JWK;
  if (r == R_REVOKE || r == R_DIR || r == R_NONCE) return AUTH_EITHER;
  return AUTH_KID;
}

static void serve_post(srv_req *rq, srv_resp *rs, route r, char **seg, int n) {
  if (!srv_jws_verify(rq, rs, auth_of(r))) return;
  const char *sub = n > 2 ? seg[2] : NULL;
  switch (r) {
  case R_DIR:
  case R_NONCE: serve_get(rq, rs, r, seg, n); break;
  case R_NEW_ACCOUNT: srv_h_new_account(rq, rs); break;
  case R_NEW_ORDER: srv_h_new_order(rq, rs); break;
  case R_NEW_AUTHZ: srv_h_new_authz(rq, rs); break;
  case R_REVOKE: srv_h_revoke(rq, rs); break;
  case R_KEY_CHANGE: srv_h_key_change(rq, rs); break;
  case R_ACCT: srv_h_account(rq, rs, seg[1], sub); break;
  case R_ORDER: srv_h_order(rq, rs, seg[1], sub); break;
  case R_AUTHZ: srv_h_authz(rq, rs, seg[1]); break;
  case R_CHAL: srv_h_challenge(rq, rs, seg[1], seg[2]); break;
  case R_CERT: srv_h_cert(rq, rs, seg[1], sub); break;
  case R_ARI: srv_h_renewal_info(rq, rs, seg[1]); break;
  default: srv_problem(rs, 405, "malformed", "this resource takes no POST"); break;
  }
}

static void dispatch(srv_req *rq, srv_resp *rs) {
  char *seg[MAX_SEG];
  char *tmp = strdup(rq->path);
  int n = tmp ? split(tmp, seg) : -1;
  route r = n > 0 ? classify(seg, n) : R_NONE;
  const char *m = rq->http->method;
  int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
  if (r == R_NONE) {
    srv_problem(rs, 404, "malformed", "no such resource");
  } else if (r == R_MGMT) {
    srv_h_mgmt(rq, rs, seg[1]);
  } else if (rq->is_post && r != R_TERMS && r != R_ISSUER) {
    serve_post(rq, rs, r, seg, n);
  } else if (get && get_allowed(r)) {
    serve_get(rq, rs, r, seg, n);
  } else {
    /* §6.3: resources other than directory and newNonce are fetched with POST-as-GET. */
    srv_problem(rs, 405, "malformed", "%s is not allowed here; use POST (POST-as-GET to fetch, RFC 8555 §6.3)", m);
    srv_header(rs, "Allow: %s", get_allowed(r) ? "GET, HEAD" : "POST");
  }
  free(tmp);
}

/* Headers every response gets (RFC 8555 §6.5, §7.1, §7.2). */
static void finish(acmeh_server *s, srv_req *rq, srv_resp *rs, acmeh_httpsrv_resp *out) {
  if (!rs->is_directory) srv_header(rs, "Link: <%s>;rel=\"index\"", s->dir_url);
  if (rq->is_post || rs->gives_nonce) {
    char *nonce = srv_nonce_issue(s->nonces);
    if (nonce) srv_header(rs, "Replay-Nonce: %s", nonce);
    free(nonce);
  }
  if (rs->gives_nonce) srv_header(rs, "Cache-Control: no-store");
  srv_header(rs, "Access-Control-Allow-Origin: *"); /* §6.1: browser-based clients */
  out->status = rs->status ? rs->status : 500;
  out->content_type = rs->ctype;
  out->body = rs->body;
  out->body_len = rs->body_len;
  out->headers = acmeh_strbuf_take(&rs->hdr);
}

/* One line per request on stderr: method, target, status and problem type. */
static void log_request(const srv_req *rq, const acmeh_httpsrv_resp *out) {
  json_t *j = out->content_type && strcmp(out->content_type, "application/problem+json") == 0 && out->body
                  ? json_loadb(out->body, out->body_len, 0, NULL)
                  : NULL;
  const char *type = json_string_value(json_object_get(j, "type"));
  fprintf(stderr, "%s %s -> %d%s%s\n", rq->http->method, rq->http->url, out->status,
          type ? " " : "", type ? type + (strncmp(type, SRV_PROBLEM_NS, strlen(SRV_PROBLEM_NS)) ? 0 : strlen(SRV_PROBLEM_NS)) : "");
  json_decref(j);
}

void srv_respond(acmeh_server *s, srv_req *rq, srv_resp *rs, srv_outcome *oc, acmeh_httpsrv_resp *out) {
  if (s->faults) srv_faults_body(s->faults, rq, rs, oc);
  finish(s, rq, rs, out);
  if (s->faults) srv_faults_after(s->faults, rq, out, oc);
  if (s->log_requests) log_request(rq, out);
  srv_observe(s, rq, out, oc);
}

static void handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *out, void *ud) {
  acmeh_server *s = ud;
  srv_req rq = {.s = s, .http = req, .is_post = strcmp(req->method, "POST") == 0};
  srv_resp rs = {0};
  const char *q = strchr(req->url, '?');
  rq.path = q ? strndup(req->url, (size_t)(q - req->url)) : strdup(req->url);
  rq.query = q ? q + 1 : "";
  if (asprintf(&rq.url, "%s%s", s->base, req->url) < 0) rq.url = NULL;
  rq.resource = srv_resource_of(rq.path);
  srv_outcome oc = {0};
  if (!rq.path || !rq.url) srv_problem(&rs, 500, "serverInternal", "out of memory");
  else if (!s->faults || !srv_faults_before(s->faults, &rq, &rs, &oc)) dispatch(&rq, &rs);
  /* A held order reads "processing" whatever happens, so waiting is pointless. */
  if (!rs.wait.kind || oc.hold || !srv_wait_begin(s, &rq, &rs, &oc)) {
    srv_wait_answer(s, &rs);
    srv_respond(s, &rq, &rs, &oc, out);
  }
  srv_outcome_free(&oc);
  acmeh_jws_parsed_free(&rq.jws);
  acmeh_key_free(rq.jwk);
  json_decref(rq.payload);
  free(rq.path);
  free(rq.url);
  ERR_clear_error();
  srv_store_trim(s);
}

/* Replies to requests the HTTP parser refused (bad framing, 1 MB headers, ...). */
static void on_http_error(int status, acmeh_httpsrv_resp *resp, void *ud) {
  acmeh_server *s = ud;
  srv_resp rs = {0};
  srv_problem(&rs, status, "malformed", "HTTP request refused: %s",
              status == 431 ? "header section too large" : status == 413 ? "body too large"
              : status == 408 ? "not complete in time"
              : status == 414 ? "URL too long" : "not a valid HTTP/1.1 request");
  srv_header(&rs, "Link: <%s>;rel=\"index\"", s->dir_url);
  resp->status = status;
  resp->content_type = rs.ctype;
  resp->body = rs.body;
  resp->body_len = rs.body_len;
  resp->headers = acmeh_strbuf_take(&rs.hdr);
  srv_observe(s, NULL, resp, NULL);
}

/* ---- lifecycle -------------------------------------------------------------- */

static int is_loopback(const char *addr, int *v6) {
  unsigned char a[16];
  *v6 = 0;
  if (inet_pton(AF_INET, addr, a) == 1) return a[0] == 127;
  *v6 = 1;
  return inet_pton(AF_INET6, addr, a) == 1 && memcmp(a, in6addr_loopback.s6_addr, 16) == 0;
}

static int make_tls(acmeh_server *s, const acmeh_server_config *cfg, char *err, size_t errlen) {
  char cert[4096], key[4096];
  if (!cfg->tls_cert_file || !cfg->tls_key_file) {
    int rc = acmeh_pki_make_server_cert(s->run_dir, err, errlen);
    if (rc) return rc;
    snprintf(cert, sizeof cert, "%s/server-cert.pem", s->run_dir);
    snprintf(key, sizeof key, "%s/server-key.pem", s->run_dir);
    if (asprintf(&s->ca_file, "%s/ca.pem", s->run_dir) < 0) return ACMEH_NOMEM;
  } else {
    snprintf(cert, sizeof cert, "%s", cfg->tls_cert_file);
    snprintf(key, sizeof key, "%s", cfg->tls_key_file);
    s->ca_file = cfg->tls_ca_file ? strdup(cfg->tls_ca_file) : NULL;
  }
  s->tls = SSL_CTX_new(TLS_server_method());
  if (!s->tls) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "server: SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(s->tls, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(s->tls, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(s->tls) != 1) {
    ERR_clear_error();
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "server: cannot use TLS certificate %s with key %s", cert, key);
  }
  return ACMEH_OK;
}

static void on_stop(uv_async_t *a) {
  acmeh_server *s = a->data;
  s->stopping = 1;
  srv_dnsq_cancel_all(s);
  srv_wait_stop_all(s);
  acmeh_httpsrv_close(s->http);
  for (srv_job *j = s->jobs; j; j = j->next) uv_cancel((uv_req_t *)&j->req); /* queued ones never start */
  uv_close((uv_handle_t *)&s->stop, NULL);
}

static void *loop_main(void *arg) {
  acmeh_server *s = arg;
  /* Signals belong to the owning thread (serve's SIGINT handling); a peer that
   * hangs up mid-write must give EPIPE here, not kill the process. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE), sigaddset(&set, SIGINT), sigaddset(&set, SIGTERM), sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void free_server(acmeh_server *s) {
  srv_store_free(s);
  srv_nonces_free(s->nonces);
  srv_ca_free(s->ca);
  acmeh_httpsrv_free(s->http);
  SSL_CTX_free(s->tls);
  srv_faults_free(s->faults);
  acmeh_socks5_stop(s->mock_tor);
  srv_ari_free(s->ari);
  srv_profiles_free(s->profiles);
  srv_eab_free(s);
  srv_atc_free(s);
  srv_devattest_free(s);
  free(s->bind), free(s->base), free(s->dir_url), free(s->run_dir), free(s->ca_file), free(s->dns_addr);
  free(s);
}

static int listen_https(acmeh_server *s, const acmeh_server_config *cfg, int v6, char *err, size_t errlen) {
  uv_loop_init(&s->loop);
  uv_async_init(&s->loop, &s->stop, on_stop);
  s->stop.data = s;
  acmeh_httpsrv_opts o = {.max_body = SRV_MAX_BODY, .tls = s->tls, .on_error = on_http_error,
                           .idle_ms = cfg->idle_ms ? cfg->idle_ms : 30000};
  int rc = acmeh_httpsrv_start_opts(&s->loop, s->bind, cfg->port, &o, handle, s, &s->http, err, errlen);
  if (rc) return rc;
  s->port = acmeh_httpsrv_port(s->http);
  if (asprintf(&s->base, v6 ? "https://[%s]:%d" : "https://%s:%d", s->bind, s->port) < 0 ||
      asprintf(&s->dir_url, "%s/dir", s->base) < 0)
    return ACMEH_NOMEM;
  return ACMEH_OK;
}

/* Closes what listen_https opened when the thread never started. */
static void unwind_loop(acmeh_server *s) {
  if (s->http) acmeh_httpsrv_close(s->http);
  uv_close((uv_handle_t *)&s->stop, NULL);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  uv_loop_close(&s->loop);
}

/* The config's fixed http-01 token, kept as given: it is a deviation for
 * client tests, so only what would break the server's own framing (spaces,
 * control bytes, more than the token buffer holds) is refused. */
static int fixed_http01_token(acmeh_server *s, const char *token, char *err, size_t errlen) {
  size_t n = token ? strlen(token) : 0;
  int printable = 1;
  for (size_t i = 0; i < n; i++) printable &= token[i] > ' ' && token[i] <= '~';
  if (token && (n == 0 || n >= sizeof s->http01_token || !printable))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: http01_token must be 1-%zu printable characters without spaces",
                     sizeof s->http01_token - 1);
  if (token) memcpy(s->http01_token, token, n + 1);
  return ACMEH_OK;
}

static int setup(acmeh_server *s, const acmeh_server_config *cfg, char *err, size_t errlen) {
  s->bind = strdup(cfg->bind_addr ? cfg->bind_addr : "127.0.0.1");
  s->run_dir = strdup(cfg->run_dir);
  s->dns_addr = strdup(cfg->dns_addr ? cfg->dns_addr : "127.0.0.1");
  s->dns_port = cfg->dns_port ? cfg->dns_port : 53;
  s->http01_port = cfg->http01_port ? cfg->http01_port : 80;
  s->tlsalpn01_port = cfg->tlsalpn01_port ? cfg->tlsalpn01_port : 443;
  s->log_requests = cfg->log_requests;
  s->observer = cfg->observer;
  s->observer_ud = cfg->observer_ud;
  s->validation_observer = cfg->validation_observer;
  s->validation_observer_ud = cfg->validation_observer_ud;
  s->t0_ns = uv_hrtime();
  s->max_accounts = cfg->max_accounts ? cfg->max_accounts : DEFAULT_MAX_ACCOUNTS;
  s->max_orders = cfg->max_orders ? cfg->max_orders : DEFAULT_MAX_ORDERS;
  s->max_authzs = s->max_orders * 2; /* orders average few names; pre-authorizations add some */
  s->max_certs = s->max_orders;
  s->nonces = srv_nonces_new(NONCE_CAP);
  if (!s->bind || !s->run_dir || !s->dns_addr || !s->nonces)
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  int rc = cfg->faults ? srv_faults_new(cfg->faults, &s->faults, err, errlen) : ACMEH_OK;
  if (!rc) rc = srv_ari_new(&cfg->ari, &s->ari, err, errlen);
  if (!rc) rc = srv_profiles_new(cfg->profiles, cfg->default_profile, &s->profiles, err, errlen);
  if (!rc) rc = srv_eab_new(s, cfg, err, errlen);
  if (rc) return rc;
  int mode = srv_dnsacct_mode_parse(cfg->dns_account);
  if (mode < 0) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown dns_account mode \"%.40s\"", cfg->dns_account);
  s->dnsacct = (srv_dnsacct_mode)mode;
  s->dnsacct_scheme = cfg->dns_account_scheme;
  if ((mode = srv_pk_mode_parse(cfg->pk)) < 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown pk mode \"%.40s\"", cfg->pk);
  s->pk = (srv_pk_mode)mode;
  if ((s->persist_mode = srv_persist_mode_parse(cfg->dns_persist)) < 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown dns_persist mode \"%.40s\"", cfg->dns_persist);
  s->persist_rev = cfg->dns_persist_rev;
  if ((mode = srv_onion_mode_parse(cfg->onion)) < 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown onion mode \"%.40s\"", cfg->onion);
  s->onion = (srv_onion_mode)mode;
  s->socks5_port = cfg->socks5_port;
  if (cfg->mock_tor) {
    acmeh_socks5_config tor = {.default_ip = "127.0.0.1"};
    if ((rc = acmeh_socks5_start(&tor, &s->mock_tor, err, errlen))) return rc;
    s->socks5_port = acmeh_socks5_port(s->mock_tor);
  }
  if ((s->onion_caa_flag = srv_onion_caa_flag_parse(cfg->onion_caa_flag)) < 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown onion_caa_flag \"%.40s\"", cfg->onion_caa_flag);
  if ((rc = fixed_http01_token(s, cfg->http01_token, err, errlen))) return rc;
  if ((rc = srv_atc_setup(s, cfg)) != ACMEH_OK)
    return acmeh_msg(err, errlen, rc, "server: tkauth_deviations \"%.100s\" names an unknown deviation, or out of memory",
                     cfg->tkauth_deviations ? cfg->tkauth_deviations : "");
  if ((rc = srv_dtn_config(&s->dtn, cfg, err, errlen))) return rc;
  if ((rc = srv_devattest_new(s, cfg, err, errlen))) return rc;
  rc = make_tls(s, cfg, err, errlen);
  return rc ? rc : srv_ca_new(s->run_dir, &s->ca, err, errlen);
}

int acmeh_server_start(const acmeh_server_config *cfg, acmeh_server **out, char *err, size_t errlen) {
  int v6 = 0;
  if (!cfg || !out || !cfg->run_dir) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: no config or run_dir");
  if (!is_loopback(cfg->bind_addr ? cfg->bind_addr : "127.0.0.1", &v6))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: %s is not a loopback address", cfg->bind_addr);
  acmeh_server *s = calloc(1, sizeof *s);
  if (!s) return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  int rc = setup(s, cfg, err, errlen);
  if (rc) {
    free_server(s);
    return rc;
  }
  rc = listen_https(s, cfg, v6, err, errlen);
  if (rc == ACMEH_OK && pthread_create(&s->thread, NULL, loop_main, s) != 0)
    rc = acmeh_msg(err, errlen, ACMEH_INTERNAL, "server: cannot start the loop thread");
  if (rc) {
    unwind_loop(s);
    free_server(s);
    return rc;
  }
  s->thread_started = 1;
  *out = s;
  return ACMEH_OK;
}

void acmeh_server_stop(acmeh_server *s) {
  if (!s) return;
  uv_async_send(&s->stop);
  pthread_join(s->thread, NULL);
  uv_loop_close(&s->loop);
  free_server(s);
}

const char *acmeh_server_directory_url(const acmeh_server *s) { return s ? s->dir_url : NULL; }
int acmeh_server_port(const acmeh_server *s) { return s ? s->port : -1; }
const char *acmeh_server_ca_file(const acmeh_server *s) { return s ? s->ca_file : NULL; }
const char *acmeh_server_roots_file(const acmeh_server *s) { return s && s->ca ? srv_ca_roots_file(s->ca) : NULL; }

int acmeh_server_socks5_port(const acmeh_server *s) { return s ? s->socks5_port : 0; }
