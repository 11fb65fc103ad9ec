/* A scriptable ACME client for the harness's own tests: it issues one
 * certificate like a correct client, except for the faults named in the
 * environment variable FAKE_CLIENT_FAULTS (comma-separated), each breaking one
 * rule that a CORE-C check judges. It is run as a client target
 * (tests/peers/fake-client.json) and reads the adapter variables
 * ACME_DIRECTORY, ACME_CA_BUNDLE, DOMAIN, ACMEH_MGMT and WORK_DIR. */
#include <curl/curl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/challenge.h"
#include "harness/client/flow.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"

static int fault(const char *name) {
  const char *f = getenv("FAKE_CLIENT_FAULTS");
  size_t n = strlen(name);
  for (const char *p = f ? strstr(f, name) : NULL; p; p = strstr(p + 1, name))
    if ((p == f || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
  return 0;
}

static int die(const char *what, const char *err) {
  fprintf(stderr, "fake-client: %s: %s\n", what, fault("hide-detail") ? "failed" : err);
  return 1;
}

/* The challenge type to answer: the scenario's (${CHALLENGE}), else http-01. */
static const char *challenge_type(void) { return getenv("CHALLENGE") ? getenv("CHALLENGE") : "http-01"; }

/* Publishes the response to the challenge through the mocks' management API
 * (pebble-challtestsrv's vocabulary). */
static int publish(acmeh_acme *c, const char *domain, const char *token, const char *keyauth) {
  const char *type = challenge_type();
  char url[512], txt[44], host[400];
  json_t *j;
  if (strcmp(type, "dns-01") == 0) {
    acmeh_dns01_txt(keyauth, txt);
    snprintf(host, sizeof host, "_acme-challenge.%s.", domain);
    j = json_pack("{s:s,s:s}", "host", host, "value", txt);
  } else if (strcmp(type, "tls-alpn-01") == 0) {
    j = json_pack("{s:s,s:s}", "host", domain, "content", keyauth);
  } else {
    j = json_pack("{s:s,s:s}", "token", token, "content", keyauth);
  }
  const char *path = strcmp(type, "dns-01") == 0 ? "set-txt" : strcmp(type, "tls-alpn-01") == 0 ? "add-tlsalpn01" : "add-http01";
  snprintf(url, sizeof url, "%s/%s", getenv("ACMEH_MGMT") ? getenv("ACMEH_MGMT") : "", path);
  char *body = json_dumps(j, JSON_COMPACT), err[256];
  json_decref(j);
  acmeh_http_resp r;
  int rc = acmeh_http_request(acmeh_acme_http(c), "POST", url, "application/json", body, strlen(body), NULL, &r, err, sizeof err);
  if (rc == ACMEH_OK && r.status != 200) rc = ACMEH_PEER_PROTOCOL;
  acmeh_http_resp_free(&r);
  free(body);
  return rc;
}

static acmeh_post_opts opts(void) {
  acmeh_post_opts o = {0};
  if (fault("wrong-content-type")) o.content_type = "application/json";
  if (fault("padding")) o.jws.pad_signature = 1;
  return o;
}

/* POST-as-GET (or, with the fault, a fetch with payload "{}"); *wait_ms gets
 * the Retry-After the answer asked for (0 when none). */
static int fetch(acmeh_acme *c, const char *url, json_t **obj, long *wait_ms, char *err, size_t errlen) {
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  int rc = acmeh_acme_post(c, url, fault("fetch-with-braces") ? "{}" : NULL, &o, &r, err, errlen);
  double ra;
  *obj = rc ? NULL : acmeh_resp_json(&r);
  *wait_ms = rc == ACMEH_OK && acmeh_http_retry_after(&r, &ra) ? (long)(ra * 1000) : 0;
  acmeh_http_resp_free(&r);
  return rc;
}

/* Polls url until its status leaves `waiting`, honouring Retry-After unless the fault says not to. */
static json_t *poll(acmeh_acme *c, const char *url, const char *waiting) {
  for (double until = acmeh_now_mono() + 20; acmeh_now_mono() < until;) {
    json_t *o = NULL;
    char err[256];
    long wait = 0;
    if (fetch(c, url, &o, &wait, err, sizeof err)) return NULL;
    const char *st = json_string_value(json_object_get(o, "status"));
    if (st && !strstr(waiting, st)) return o;
    json_decref(o);
    acmeh_sleep_ms(fault("poll-fast") ? 20 : (wait > 0 ? wait : 50));
  }
  return NULL;
}

static int new_order(acmeh_acme *c, const char *domain, json_t **order, char **order_url, char *err, size_t errlen) {
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  char payload[600];
  snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", domain);
  acmeh_post_opts o = opts();
  o.no_retry = fault("ignore-bad-nonce") || fault("retry-with-fresh-nonce");
  o.both_jwk_and_kid = fault("jwk-and-kid");
  char altered[600];
  snprintf(altered, sizeof altered, "%s%s", fault("kid-altered") ? acmeh_acme_kid(c) : url, "x");
  if (fault("kid-altered")) o.jws.kid = altered;
  if (fault("url-altered")) o.own_url = 1, o.jws.url = altered;
  const char *raw = getenv("FAKE_CLIENT_RAW_NONCE"); /* set by run() for use-malformed-nonce */
  if (raw) o.own_nonce = 1, o.no_retry = 1, o.jws.nonce = raw;
  acmeh_http_resp r;
  int rc = acmeh_acme_post(c, url, payload, &o, &r, err, errlen);
  char type[64] = "";
  if (rc == ACMEH_OK) acmeh_resp_problem(&r, type, sizeof type);
  if (rc == ACMEH_OK && strcmp(type, "badNonce") == 0 && fault("retry-with-fresh-nonce")) {
    acmeh_http_resp_free(&r); /* wrong on purpose: a fresh HEAD nonce instead of the error's */
    char *stale = NULL;
    acmeh_acme_nonce(c, &stale, err, errlen), free(stale);
    char *fresh = NULL;
    acmeh_acme_nonce(c, &fresh, err, errlen);
    o.own_nonce = 1, o.jws.nonce = fresh;
    rc = acmeh_acme_post(c, url, payload, &o, &r, err, errlen);
    free(fresh);
  }
  double ra;
  if (rc == ACMEH_OK && (strcmp(type, "rateLimited") == 0 || r.status == 503) && acmeh_http_retry_after(&r, &ra)) {
    acmeh_http_resp_free(&r); /* a correct client waits as asked; the fault retries at once */
    if (!fault("ignore-retry-after")) acmeh_sleep_ms((long)(ra * 1000));
    rc = acmeh_acme_post(c, url, payload, &o, &r, err, errlen);
  }
  if (rc == ACMEH_OK && r.status != 201) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "newOrder answered %s", d);
  }
  *order = rc ? NULL : acmeh_resp_json(&r);
  const char *loc = rc ? NULL : acmeh_http_header_get(&r, "Location");
  *order_url = loc ? strdup(loc) : NULL;
  acmeh_http_resp_free(&r);
  return rc;
}

static void unpublish_http01(acmeh_acme *c, const char *token) {
  if (fault("keep-http01")) return; /* wrong on purpose: RFC 8555 §8.3 asks to clean up */
  char url[512], err[256], *body = NULL;
  snprintf(url, sizeof url, "%s/del-http01", getenv("ACMEH_MGMT") ? getenv("ACMEH_MGMT") : "");
  json_t *j = json_pack("{s:s}", "token", token);
  body = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  acmeh_http_resp r;
  acmeh_http_request(acmeh_acme_http(c), "POST", url, "application/json", body, strlen(body), NULL, &r, err, sizeof err);
  acmeh_http_resp_free(&r);
  free(body);
}

static int status_is(const json_t *o, const char *want) {
  const char *st = json_string_value(json_object_get(o, "status"));
  return st && strcmp(st, want) == 0;
}

/* Publishes, answers the challenge, and polls the authorization. */
static int respond(acmeh_acme *c, const char *domain, const char *authz_url, const json_t *ch, const char *token) {
  char err[256], tp[44], content[600];
  if (acmeh_key_thumbprint(acmeh_acme_key(c), tp)) return die("challenge", "no thumbprint");
  char *ka = acmeh_key_authorization(token, tp);
  snprintf(content, sizeof content, "%s%s", ka, fault("wrong-keyauth") ? "x" : "");
  free(ka);
  if (publish(c, domain, token, content)) return die("publish", "management API refused");
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  const char *answer = fault("challenge-empty-payload") ? NULL : fault("challenge-wrong-payload") ? "{\"keyAuthorization\":\"x\"}" : "{}";
  acmeh_acme_post(c, json_string_value(json_object_get(ch, "url")), answer, &o, &r, err, sizeof err);
  long refused = r.status >= 400;
  acmeh_http_resp_free(&r);
  if (refused) return unpublish_http01(c, token), die("challenge", "the server refused the response");
  json_t *fin = poll(c, authz_url, "pending processing");
  unpublish_http01(c, token);
  int ok = status_is(fin, "valid");
  json_decref(fin);
  return ok ? 0 : die("authorization", "did not become valid");
}

static int authorize(acmeh_acme *c, const char *domain, const char *authz_url) {
  json_t *authz = NULL;
  char err[256], token[256];
  long wait;
  if (fetch(c, authz_url, &authz, &wait, err, sizeof err) || !authz) return die("authorization", err);
  const json_t *ch = acmeh_flow_find_challenge(authz, challenge_type());
  const char *tok = json_string_value(json_object_get(ch, "token"));
  int done = status_is(authz, "valid") && !fault("repost-valid-challenge"); /* RFC 8555 §7.1.3: nothing to do */
  snprintf(token, sizeof token, "%s", tok ? tok : "");
  int rc = done ? 0 : tok ? respond(c, domain, authz_url, ch, token) : die("challenge", challenge_type());
  json_decref(authz);
  return rc;
}

/* WORK_DIR/<name>, the client's own state. */
static void state_path(char *out, size_t len, const char *name) {
  snprintf(out, len, "%s/%s", getenv("WORK_DIR") ? getenv("WORK_DIR") : ".", name);
}

static void save_text(const char *name, const char *text) {
  char path[4096];
  state_path(path, sizeof path, name);
  FILE *f = fopen(path, "w");
  if (f) fputs(text, f), fclose(f);
}

static char *load_text(const char *name) {
  char path[4096];
  state_path(path, sizeof path, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 20);
  if (buf) fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  return buf;
}

static int finalize(acmeh_acme *c, const char *domain, const json_t *order, const char *order_url) {
  acmeh_key *k = NULL;
  char extra[300], *csr = NULL, *payload = NULL, err[256];
  snprintf(extra, sizeof extra, "extra.%s", domain);
  const char *names[] = {domain, extra};
  acmeh_key_generate(ACMEH_KEY_ES256, &k);
  EVP_PKEY *csr_key = fault("csr-account-key") ? acmeh_key_pkey(acmeh_acme_key(c)) : acmeh_key_pkey(k);
  acmeh_csr_build(csr_key, names, fault("csr-extra-name") ? 2 : 1, &csr);
  acmeh_key_free(k);
  if (asprintf(&payload, "{\"csr\":\"%s%s\"}", csr, fault("padding") ? "=" : "") < 0) return 1;
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  acmeh_acme_post(c, json_string_value(json_object_get(order, "finalize")), payload, &o, &r, err, sizeof err);
  double ra;
  if (!fault("poll-fast") && acmeh_http_retry_after(&r, &ra)) acmeh_sleep_ms((long)(ra * 1000));
  acmeh_http_resp_free(&r);
  free(csr), free(payload);
  json_t *done = poll(c, order_url, "ready processing");
  const char *cert = json_string_value(json_object_get(done, "certificate"));
  acmeh_post_opts co = opts();
  int rc = cert ? acmeh_acme_post(c, cert, NULL, &co, &r, err, sizeof err) : die("finalize", "order did not become valid");
  if (cert && rc == ACMEH_OK && r.status == 200) save_text("cert.pem", r.body);
  if (cert && rc == ACMEH_OK) acmeh_http_resp_free(&r);
  json_decref(done);
  return rc ? 1 : 0;
}

/* Reuses the account of an earlier run in WORK_DIR. Returns 1 when it did. */
static int load_account(acmeh_acme *c) {
  char path[4096], *kid = load_text("account.kid");
  state_path(path, sizeof path, "account.pem");
  FILE *f = kid ? fopen(path, "r") : NULL;
  EVP_PKEY *pk = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  acmeh_key *k = NULL;
  int ok = pk && acmeh_key_from_pkey(pk, &k) == ACMEH_OK;
  if (ok) acmeh_acme_set_account(c, k, kid);
  EVP_PKEY_free(pk);
  free(kid);
  return ok;
}

static void save_account(acmeh_acme *c) {
  char *pem = acmeh_key_to_pem(acmeh_acme_key(c));
  if (pem) save_text("account.pem", pem), save_text("account.kid", acmeh_acme_kid(c));
  free(pem);
}

static int revoke(acmeh_acme *c) {
  char *chain = load_text("cert.pem"), err[512], *payload = NULL;
  STACK_OF(X509) *certs = NULL;
  if (!load_account(c) || !chain || acmeh_pem_chain_parse(chain, strlen(chain), &certs, err, sizeof err))
    return free(chain), die("revoke", "no account or certificate from an earlier issue in WORK_DIR");
  char *der = acmeh_cert_b64url_der(sk_X509_value(certs, 0)), *pem_b64 = acmeh_b64url_encode((unsigned char *)chain, strlen(chain));
  const char *cert = fault("revoke-pem") ? pem_b64 : der;
  if (asprintf(&payload, "{\"certificate\":\"%s\",\"reason\":%s}", cert, fault("revoke-reason-string") ? "\"4\"" : "4") < 0) payload = NULL;
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  int rc = payload ? acmeh_acme_post(c, acmeh_acme_dir_url(c, "revokeCert"), payload, &o, &r, err, sizeof err) : ACMEH_NOMEM;
  int ok = rc == ACMEH_OK && r.status == 200;
  if (rc == ACMEH_OK) acmeh_http_resp_free(&r);
  sk_X509_pop_free(certs, X509_free);
  free(chain), free(der), free(pem_b64), free(payload);
  return ok ? 0 : die("revoke", "refused");
}

static int run(acmeh_acme *c, const char *domain) {
  char err[512], *order_url = NULL;
  json_t *order = NULL;
  if (fault("get-nonce")) {
    acmeh_http_resp r;
    acmeh_http_request(acmeh_acme_http(c), "GET", acmeh_acme_dir_url(c, "newNonce"), NULL, NULL, 0, NULL, &r, err, sizeof err);
    acmeh_acme_keep_nonce(c, &r);
    acmeh_http_resp_free(&r);
  }
  acmeh_http_resp acct = {0};
  if (load_account(c)) goto account_ready;
  const char *acct_payload = fault("bad-contact") ? "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a@example.com?subject=x\"]}" : NULL;
  if (acmeh_flow_new_account(c, ACMEH_KEY_ES256, acct_payload, &acct, err, sizeof err)) return acmeh_http_resp_free(&acct), die("newAccount", err);
  const char *raw = acmeh_http_header_get(&acct, "Replay-Nonce");
  if (fault("use-malformed-nonce") && raw) setenv("FAKE_CLIENT_RAW_NONCE", raw, 1); /* taken as it came, wrong on purpose */
  acmeh_http_resp_free(&acct);
  save_account(c);
account_ready:
  if (fault("reuse-nonce")) { /* sign two requests with one nonce */
    char *n = NULL;
    acmeh_acme_nonce(c, &n, err, sizeof err);
    acmeh_post_opts o = {.own_nonce = 1, .no_retry = 1, .jws.nonce = n};
    for (int i = 0; i < 2; i++) {
      acmeh_http_resp r;
      acmeh_acme_post(c, acmeh_acme_kid(c), NULL, &o, &r, err, sizeof err);
      acmeh_http_resp_free(&r);
    }
    free(n);
  }
  if (new_order(c, domain, &order, &order_url, err, sizeof err)) return die("newOrder", err);
  int rc = authorize(c, domain, json_string_value(json_array_get(json_object_get(order, "authorizations"), 0)));
  if (rc == 0) rc = finalize(c, domain, order, order_url);
  json_decref(order);
  free(order_url);
  return rc;
}

int main(int argc, char **argv) {
  const char *dir = getenv("ACME_DIRECTORY"), *domain = getenv("DOMAIN");
  if (!dir || !domain) return die("usage", "needs ACME_DIRECTORY and DOMAIN"), 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *extra[4] = {0};
  size_t n = 0;
  if (fault("no-user-agent")) extra[n++] = "User-Agent:";
  if (fault("no-accept-language")) extra[n++] = "Accept-Language:";
  if (fault("nonce-header")) extra[n++] = "Replay-Nonce: AAAAAAAAAAAAAAAAAAAAAA";
  acmeh_acme_config cfg = {.directory_url = dir, .ca_file = getenv("ACME_CA_BUNDLE"), .deadline = acmeh_now_mono() + 50,
                           .extra_headers = extra};
  acmeh_acme *c = NULL;
  char err[512];
  int rev = argc > 1 && strcmp(argv[1], "revoke") == 0;
  int rc = acmeh_acme_new(&cfg, &c, err, sizeof err) ? die("directory", err) : rev ? revoke(c) : run(c, domain);
  acmeh_acme_free(c);
  curl_global_cleanup();
  return rc;
}
