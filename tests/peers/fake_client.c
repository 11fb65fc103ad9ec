/* A scriptable ACME client for the harness's own tests: it issues one
 * certificate like a correct client, except for the faults named in the
 * environment variable FAKE_CLIENT_FAULTS (comma-separated), each breaking one
 * rule that a CORE-C check judges. It is run as a client target
 * (tests/peers/fake-client.json) and reads the adapter variables
 * ACME_DIRECTORY, ACME_CA_BUNDLE, DOMAIN, DOMAINS (every name of the order,
 * comma-separated; DOMAIN alone when unset), ACMEH_MGMT and WORK_DIR, and
 * ONION_KEY (an onion service identity key file, RFC 9799: with it the
 * client answers onion-csr-01 and sends in-band CAA at finalize). */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/challenge.h"
#include "harness/acme/pk.h"
#include "harness/acme/persist.h"
#include "harness/client/ari.h"
#include "harness/client/flow.h"
#include "harness/client/onion.h"
#include "harness/acme/onion.h"
#include "base/clock.h"
#include "base/error.h"

static int fault(const char *name) {
  const char *f = getenv("FAKE_CLIENT_FAULTS");
  size_t n = strlen(name);
  for (const char *p = f ? strstr(f, name) : NULL; p; p = strstr(p + 1, name))
    if ((p == f || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
  return 0;
}

/* ARI and profiles (RFC 9773, draft-ietf-acme-profiles): what the next
 * newOrder carries, and the problem type of the last refused newOrder. */
static const char *g_replaces, *g_profile;
static char g_last_problem[64];
static void order_payload(const char *domain, char *out, size_t len);
static int refusal_loop(acmeh_acme *c, const char *url, const char *payload, acmeh_post_opts *o, acmeh_http_resp *r,
                        char *err, size_t errlen);
static int profile_refused(acmeh_acme *c, acmeh_http_resp *r, const char *url, const char *payload);

static int die(const char *what, const char *err) {
  fprintf(stderr, "fake-client: %s: %s\n", what, fault("hide-detail") ? "failed" : err);
  return 1;
}

/* The names to order: DOMAINS split at commas, else DOMAIN. Returns how many (at most cap). */
static size_t order_names(const char *domain, char names[][256], size_t cap) {
  const char *all = getenv("DOMAINS") && *getenv("DOMAINS") ? getenv("DOMAINS") : domain;
  size_t n = 0;
  for (const char *p = all; p && *p && n < cap;) {
    size_t len = strcspn(p, ",");
    snprintf(names[n++], 256, "%.*s", (int)len, p);
    p += len + (p[len] == ',');
  }
  return n;
}

/* The challenge type to answer: the scenario's (${CHALLENGE}), else http-01. */
static const char *challenge_type(void) {
  if (fault("onion-use-dns01")) return "dns-01"; /* RFC 9799 §3.1.1: dns-01 for an onion name (wrong on purpose) */
  return getenv("CHALLENGE") ? getenv("CHALLENGE") : "http-01";
}

/* The onion identity key of ONION_KEY (RFC 9799), loaded once; NULL without one. */
static EVP_PKEY *onion_key(void) {
  static EVP_PKEY *k;
  static int tried;
  char why[300];
  int priv = 0;
  if (!tried && getenv("ONION_KEY") && *getenv("ONION_KEY")) {
    tried = 1;
    int rc = acmeh_onion_key_load(getenv("ONION_KEY"), &k, &priv, why, sizeof why);
    if (rc != ACMEH_OK || !priv) fprintf(stderr, "fake-client: ONION_KEY: %s\n", rc ? why : "a public key, not the private key");
    if (rc == ACMEH_OK && !priv) EVP_PKEY_free(k), k = NULL;
  }
  return k;
}

/* dns-account-01 (draft-ietf-acme-dns-account-label-00 §3.2): the account-
 * scoped name for identifier `name` (the base name of a wildcard), with the
 * dnsacct-* faults' mistakes: the dns-01 name, a label from the account ID
 * instead of the URL, the "*." kept. */
static void dnsacct_host(acmeh_acme *c, const char *name, char *host, size_t len) {
  const char *url = acmeh_acme_kid(c), *id = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
  char *h = acmeh_dnsaccount_name(fault("dnsacct-account-id") ? id : url, name);
  if (fault("dnsacct-dns01-name")) snprintf(host, len, "_acme-challenge.%s.", name);
  else if (fault("dnsacct-wildcard-star") && h && getenv("DOMAIN") && !strncmp(getenv("DOMAIN"), "*.", 2))
    snprintf(host, len, "%.*s*.%s.", (int)(strchr(h, '.') - h + strlen("._acme-challenge.")), h, name);
  else snprintf(host, len, "%s.", h ? h : name);
  free(h);
}

/* Publishes the response to the challenge through the mocks' management API
 * (pebble-challtestsrv's vocabulary). */
/* Where the TXT record of a dns-01 or dns-account-01 challenge for `domain` goes. */
static void dns_host(acmeh_acme *c, const char *domain, char *host, size_t len) {
  if (strcmp(challenge_type(), "dns-account-01") == 0) dnsacct_host(c, domain, host, len);
  else snprintf(host, len, "_acme-challenge.%s.", domain);
}

static int publish(acmeh_acme *c, const char *domain, const char *token, const char *keyauth) {
  const char *type = challenge_type();
  char url[512], txt[44], host[400];
  json_t *j;
  if (strncmp(type, "dns-", 4) == 0) {
    acmeh_dns01_txt(keyauth, txt);
    dns_host(c, domain, host, sizeof host);
    j = json_pack("{s:s,s:s}", "host", host, "value", txt);
  } else if (strcmp(type, "tls-alpn-01") == 0) {
    j = json_pack("{s:s,s:s}", "host", domain, "content", keyauth);
  } else {
    j = json_pack("{s:s,s:s}", "token", token, "content", keyauth);
  }
  const char *path = strncmp(type, "dns-", 4) == 0 ? "set-txt" : strcmp(type, "tls-alpn-01") == 0 ? "add-tlsalpn01" : "add-http01";
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
  *wait_ms = rc == ACMEH_OK && acmeh_http_retry_after(&r, &ra) ? (long)((ra > 3600 ? 3600 : ra) * 1000) : 0; /* an hour at most: (long) of a huge value is undefined */
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
    acmeh_sleep_ms(fault("poll-fast") ? 20 : fault("poll-every-2s") ? 2000 : (wait > 0 ? wait : 50));
  }
  return NULL;
}

/* A refusal as the user sees it: status, type and detail, then each
 * subproblem's identifier and detail (RFC 8555 §6.7.1), which the fault
 * hide-subproblems leaves out (wrong on purpose). */
static void describe_refusal(const acmeh_http_resp *r, char *out, size_t len) {
  acmeh_resp_describe(r, out, len);
  json_t *j = acmeh_resp_json(r), *sp;
  size_t i;
  json_array_foreach(json_object_get(j, "subproblems"), i, sp) if (!fault("hide-subproblems")) {
    size_t used = strlen(out);
    snprintf(out + used, len - used, "; %.80s: %.160s", json_string_value(json_object_get(json_object_get(sp, "identifier"), "value")),
             json_string_value(json_object_get(sp, "detail")));
  }
  json_decref(j);
}

static int new_order(acmeh_acme *c, const char *domain, json_t **order, char **order_url, char *err, size_t errlen) {
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  char payload[1200];
  order_payload(domain, payload, sizeof payload);
  acmeh_post_opts o = opts();
  o.no_retry = fault("ignore-bad-nonce") || fault("retry-with-fresh-nonce");
  o.both_jwk_and_kid = fault("jwk-and-kid");
  char altered[600];
  snprintf(altered, sizeof altered, "%s%s", fault("kid-altered") ? acmeh_acme_kid(c) : url, "x");
  if (fault("kid-altered")) o.jws.kid = altered;
  if (fault("url-altered")) o.own_url = 1, o.jws.url = altered;
  const char *raw = getenv("FAKE_CLIENT_RAW_NONCE"); /* set by run() for use-malformed-nonce */
  if (raw) o.own_nonce = 1, o.no_retry = 1, o.jws.nonce = raw;
  char *mine = NULL; /* resend-same-nonce: the nonce the first newOrder is signed with, signed again after a refusal */
  if (!raw && fault("resend-same-nonce") && acmeh_acme_nonce(c, &mine, err, errlen) == ACMEH_OK) o.own_nonce = 1, o.jws.nonce = mine;
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
  if (rc == ACMEH_OK && (strcmp(type, "rateLimited") == 0 || r.status == 503) && acmeh_http_retry_after(&r, &ra) &&
      !fault("give-up-after-refusal")) { /* the fault: stop at the first refusal, never send it again */
    acmeh_http_resp_free(&r); /* a correct client waits as asked; the fault retries at once */
    if (ra > 3600) ra = 3600; /* a test client waits an hour at most (and (long) of a huge value is undefined) */
    if (!fault("ignore-retry-after")) acmeh_sleep_ms((long)(ra * 1000));
    rc = acmeh_acme_post(c, url, payload, &o, &r, err, errlen); /* under resend-same-nonce: the used nonce again (wrong on purpose) */
  }
  o.own_nonce = raw != NULL;
  free(mine);
  if (rc == ACMEH_OK) rc = refusal_loop(c, url, payload, &o, &r, err, errlen);
  /* Pebble answers a `replaces` sent right after the download 500 "could not find an order for
   * the given certificate" while its serial index catches up: a renewing client tries again. */
  for (int i = 0; i < 3 && rc == ACMEH_OK && r.status == 500 && g_replaces; i++) {
    acmeh_http_resp_free(&r);
    acmeh_sleep_ms(1000);
    rc = acmeh_acme_post(c, url, payload, &o, &r, err, errlen);
  }
  if (rc == ACMEH_OK && r.status != 201) {
    char d[1200];
    describe_refusal(&r, d, sizeof d);
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

/* The TXT record of dns-01 (RFC 8555 §8.4) or dns-account-01 (the draft's
 * §3.3) goes once the challenge is over; the faults keep it. */
static void unpublish_dns(acmeh_acme *c, const char *name) {
  int acct = strcmp(challenge_type(), "dns-account-01") == 0;
  if ((!acct && strcmp(challenge_type(), "dns-01") != 0) || fault(acct ? "dnsacct-keep-txt" : "keep-dns01")) return;
  char url[512], err[256], host[400];
  dns_host(c, name, host, sizeof host);
  snprintf(url, sizeof url, "%s/clear-txt", getenv("ACMEH_MGMT") ? getenv("ACMEH_MGMT") : "");
  json_t *j = json_pack("{s:s}", "host", host);
  char *body = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  acmeh_http_resp r;
  if (acmeh_http_request(acmeh_acme_http(c), "POST", url, "application/json", body, strlen(body), NULL, &r, err, sizeof err) == ACMEH_OK)
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
  int early = fault("early-challenge"); /* wrong on purpose: POSTs first, publishes after (RFC 8555 §8.2) */
  if (!early && publish(c, domain, token, content)) return die("publish", "management API refused");
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  const char *answer = fault("challenge-empty-payload") ? NULL : fault("challenge-wrong-payload") ? "{\"keyAuthorization\":\"x\"}" : "{}";
  acmeh_acme_post(c, json_string_value(json_object_get(ch, "url")), answer, &o, &r, err, sizeof err);
  long refused = r.status >= 400;
  acmeh_http_resp_free(&r);
  if (early && publish(c, domain, token, content)) return die("publish", "management API refused");
  if (refused) return unpublish_http01(c, token), unpublish_dns(c, domain), die("challenge", "the server refused the response");
  json_t *fin = poll(c, authz_url, "pending processing");
  unpublish_http01(c, token);
  unpublish_dns(c, domain);
  int ok = status_is(fin, "valid");
  json_decref(fin);
  return ok ? 0 : die("authorization", "did not become valid");
}

/* Sets (value non-NULL) or clears the TXT at host through the management API. */
static int mgmt_txt(acmeh_acme *c, const char *host, const char *value) {
  char url[512], err[256];
  snprintf(url, sizeof url, "%s/%s", getenv("ACMEH_MGMT") ? getenv("ACMEH_MGMT") : "", value ? "set-txt" : "clear-txt");
  json_t *j = value ? json_pack("{s:s,s:s}", "host", host, "value", value) : json_pack("{s:s}", "host", host);
  char *body = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  acmeh_http_resp r = {0};
  int rc = acmeh_http_request(acmeh_acme_http(c), "POST", url, "application/json", body, strlen(body), NULL, &r, err, sizeof err);
  if (rc == ACMEH_OK && r.status != 200) rc = ACMEH_PEER_PROTOCOL;
  acmeh_http_resp_free(&r);
  free(body);
  return rc;
}

/* dns-persist-01 (draft-ietf-acme-dns-persist): the revision is told by the
 * challenge itself (-02 "issuerDomainNames", -01 "accounturi", else -00), the
 * record published at _validation-persist.<name>, with the persist-* faults'
 * mistakes: the dns-01 name, an issuer of its own, no check of an empty
 * issuer list, the account URL whatever the revision, no policy=wildcard, a
 * trailing ";"; and the bad input of persist-huge-record (padded to 64000
 * octets), persist-many-params (thousands of unknown parameters),
 * persist-non-ascii-issuer (the issuer "authörity.example" in UTF-8) and
 * persist-flapping (the record replaced and removed while the server
 * validates). */
static char *persist_record(acmeh_acme *c, const char *domain, const json_t *ch, int wild) {
  const json_t *l = json_object_get(ch, "issuerDomainNames");
  int rev = l ? ACMEH_PERSIST_I2 : json_object_get(ch, "accounturi") ? ACMEH_PERSIST_I1 : ACMEH_PERSIST_R0;
  if (!l) l = json_object_get(ch, "issuer-domain-names");
  const char *issuer = json_string_value(json_array_get(l, 0)), *kid = acmeh_acme_kid(c);
  if (!issuer && !fault("persist-ignore-issuers")) return NULL; /* §3.1: malformed */
  if (!issuer || fault("persist-wrong-issuer")) issuer = "wrong-issuer.example";
  if (fault("persist-non-ascii-issuer")) issuer = "auth\xc3\xb6rity.example";
  char acct[600], tp[44], h[44];
  const char *prefix = json_string_value(json_object_get(json_object_get(acmeh_acme_dir(c), "meta"), "accountHashPrefix"));
  if (rev == ACMEH_PERSIST_I2 && prefix && !fault("persist-account-url") && !acmeh_key_thumbprint(acmeh_acme_key(c), tp) &&
      !acmeh_persist_account_hash(domain, tp, kid, h))
    snprintf(acct, sizeof acct, "%ssha-256/%s", prefix, h);
  else
    snprintf(acct, sizeof acct, "%s", rev == ACMEH_PERSIST_I1 && !fault("persist-account-url") ? json_string_value(json_object_get(ch, "accounturi")) : kid);
  char *rec = NULL;
  if (asprintf(&rec, "%s; accounturi=%s%s%s", issuer, acct, wild && !fault("persist-no-policy") ? "; policy=wildcard" : "",
               fault("persist-trailing-semicolon") ? ";" : "") < 0) rec = NULL;
  size_t n = rec ? strlen(rec) : 0, cap = 64000;
  if (rec && (fault("persist-huge-record") || fault("persist-many-params")) && (rec = realloc(rec, cap + 1))) {
    if (fault("persist-huge-record")) n += (size_t)snprintf(rec + n, cap + 1 - n, "; pad="), memset(rec + n, 'a', cap - n), n = cap;
    for (int i = 0; fault("persist-many-params") && n + 16 < cap; i++) n += (size_t)snprintf(rec + n, cap + 1 - n, "; p%d=v", i);
    rec[n] = '\0';
  }
  return rec;
}

static int respond_persist(acmeh_acme *c, const char *domain, const char *authz_url, const json_t *authz, const json_t *ch) {
  char host[400], err[256];
  char *rec = persist_record(c, domain, ch, json_is_true(json_object_get(authz, "wildcard")));
  if (!rec) return die("challenge", "dns-persist-01 challenge lists no issuer (malformed)");
  snprintf(host, sizeof host, "%s.%s.", fault("persist-wrong-name") ? "_acme-challenge" : "_validation-persist", domain);
  int rc = mgmt_txt(c, host, rec);
  free(rec);
  if (rc) return die("publish", "management API refused");
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  const char *answer = fault("challenge-wrong-payload") ? "{\"keyAuthorization\":\"x\"}" : "{}";
  acmeh_acme_post(c, json_string_value(json_object_get(ch, "url")), answer, &o, &r, err, sizeof err);
  acmeh_http_resp_free(&r);
  for (int i = 0; fault("persist-flapping") && i < 20; i++) /* the record changes under the validation */
    i % 2 ? mgmt_txt(c, host, "authority.example; accounturi=https://elsewhere.example/acct/1") : mgmt_txt(c, host, NULL);
  json_t *fin = poll(c, authz_url, "pending processing");
  mgmt_txt(c, host, NULL);
  int ok = status_is(fin, "valid");
  json_decref(fin);
  return ok ? 0 : die("authorization", "did not become valid");
}

/* RFC 8555 §8.3: a token that goes into a path must be base64url (and
 * non-empty); the fault accept-bad-token takes any token (wrong on purpose). */
static int token_ok(const char *tok) {
  static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return fault("accept-bad-token") || (*tok && strspn(tok, b64url) == strlen(tok));
}

/* RFC 9799 §3.2: {"csr": ...} signed by the onion key over the challenge nonce. */
static int onion_respond(acmeh_acme *c, const char *authz_url, const json_t *ch) {
  EVP_PKEY *k = onion_key(), *other = fault("onion-csr-other-key") ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : NULL;
  if (!k) return die("onion-csr-01", "no usable ONION_KEY");
  acmeh_onion_response_opts o = {.sign_key = other, .nonce_text = fault("onion-nonce-text"),
                                 .app_len = fault("onion-short-app-nonce") ? 4 : 0};
  char *payload = NULL, err[256], *more = NULL;
  int rc = acmeh_client_onion_response(k, ch, &o, &payload, err, sizeof err);
  EVP_PKEY_free(other);
  if (rc) return die("onion-csr-01", err);
  if (fault("onion-extra-payload") && asprintf(&more, "%.*s,\"keyAuthorization\":\"x\"}", (int)strlen(payload) - 1, payload) > 0)
    free(payload), payload = more;
  acmeh_post_opts po = opts();
  acmeh_http_resp r;
  acmeh_acme_post(c, json_string_value(json_object_get(ch, "url")), payload, &po, &r, err, sizeof err);
  free(payload);
  long refused = r.status >= 400;
  acmeh_http_resp_free(&r);
  if (refused) return die("challenge", "the server refused the onion-csr-01 response");
  json_t *fin = poll(c, authz_url, "pending processing");
  int ok = status_is(fin, "valid");
  json_decref(fin);
  return ok ? 0 : die("authorization", "did not become valid");
}

/* `domain` is the name the client ordered in this authorization's place; the
 * authorization's own identifier is what counts (RFC 8555 §7.4: the order's
 * arrays need not follow the request), except under the fault
 * first-authz-first-name, which trusts the position (wrong on purpose). */
static int authorize(acmeh_acme *c, const char *domain, const char *authz_url) {
  json_t *authz = NULL;
  char err[256], token[256];
  long wait;
  if (fetch(c, authz_url, &authz, &wait, err, sizeof err) || !authz) return die("authorization", err);
  const json_t *ch = acmeh_flow_find_challenge(authz, challenge_type());
  const char *tok = json_string_value(json_object_get(ch, "token"));
  int done = status_is(authz, "valid") && !fault("repost-valid-challenge"); /* RFC 8555 §7.1.3: nothing to do */
  snprintf(token, sizeof token, "%s", tok ? tok : "");
  const char *ident = json_string_value(json_object_get(json_object_get(authz, "identifier"), "value"));
  if (ident && !fault("first-authz-first-name")) domain = ident; /* a wildcard's identifier is its base name */
  int onion = ch && strcmp(challenge_type(), "onion-csr-01") == 0; /* RFC 9799 §3.2: a nonce, no token */
  int rc = done ? 0 : ch && strcmp(challenge_type(), "dns-persist-01") == 0 ? respond_persist(c, domain, authz_url, authz, ch)
                   : onion ? onion_respond(c, authz_url, ch) : !tok ? die("challenge", challenge_type())
                   : !token_ok(tok) ? die("challenge", "the token is not base64url (RFC 8555 §8.3)")
                                    : respond(c, domain, authz_url, ch, token);
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

/* Installs the downloaded chain as cert.pem when it is only CERTIFICATE blocks
 * (RFC 8555 §11.4: reject anything else, a PRIVATE KEY block above all);
 * the fault accept-key-in-chain installs it as it came. Returns 0 when kept. */
static int keep_chain(const char *body) {
  STACK_OF(X509) *chain = NULL;
  char why[200];
  int ok = fault("accept-key-in-chain") || acmeh_pem_chain_parse(body, strlen(body), &chain, why, sizeof why) == ACMEH_OK;
  sk_X509_pop_free(chain, X509_free);
  if (!ok) return die("certificate", why);
  save_text("cert.pem", body);
  return 0;
}

/* RFC 8555 §7.4: a finalize refused with orderNotReady is sent again only
 * after the order was read and is ready, twice at most; the fault
 * refinalize-blind resends it at once, four times (wrong on purpose). *r is
 * replaced by the last answer. */
static void finalize_again_if_not_ready(acmeh_acme *c, const json_t *order, const char *order_url, const char *payload,
                                        acmeh_post_opts *o, acmeh_http_resp *r) {
  char type[64] = "", err[256];
  const char *url = json_string_value(json_object_get(order, "finalize"));
  for (int i = 0; i < (fault("refinalize-blind") ? 4 : 2); i++) {
    if (acmeh_resp_problem(r, type, sizeof type), strcmp(type, "orderNotReady") != 0) return;
    if (!fault("refinalize-blind")) {
      json_t *now = NULL;
      long wait = 0;
      int ready = fetch(c, order_url, &now, &wait, err, sizeof err) == ACMEH_OK &&
                  strcmp(json_string_value(json_object_get(now, "status")) ? json_string_value(json_object_get(now, "status")) : "", "ready") == 0;
      json_decref(now);
      if (!ready) return;
    }
    acmeh_http_resp_free(r);
    if (acmeh_acme_post(c, url, payload, o, r, err, sizeof err) != ACMEH_OK) memset(r, 0, sizeof *r);
  }
}

/* The onionCAA member (RFC 9799 §6.4): no CAA set (null), valid one hour;
 * faults: "onion-caa-prefix" signs "onion-csr|..." (an old certbot-onion's
 * prefix), "onion-caa-empty-string" sends "" instead of null. */
static json_t *onion_caa(const char *const *names, size_t n) {
  long long expiry = (long long)time(NULL) + 3600;
  json_t *caa = acmeh_client_onion_caa(onion_key(), names, n, NULL, expiry);
  const char *k;
  json_t *e;
  json_object_foreach(caa, k, e) {
    if (fault("onion-caa-empty-string")) json_object_set_new(e, "caa", json_string(""));
    if (!fault("onion-caa-prefix")) continue;
    char tbs[64];
    unsigned char sig[64];
    size_t siglen = sizeof sig;
    snprintf(tbs, sizeof tbs, "onion-csr|%lld|", expiry);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && EVP_DigestSignInit(md, NULL, NULL, NULL, onion_key()) == 1 &&
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tbs, strlen(tbs)) == 1) {
      char *s = acmeh_b64url_encode(sig, siglen);
      json_object_set_new(e, "signature", json_string(s ? s : ""));
      free(s);
    }
    EVP_MD_CTX_free(md);
  }
  return caa;
}

static int finalize(acmeh_acme *c, const char *domain, const json_t *order, const char *order_url) {
  acmeh_key *k = NULL;
  char extra[300], *csr = NULL, *payload = NULL, err[256], ordered[8][256];
  size_t n = order_names(domain, ordered, 8);
  snprintf(extra, sizeof extra, "extra.%s", domain);
  const char *names[9];
  for (size_t i = 0; i < n; i++) names[i] = ordered[i];
  names[n] = extra;
  for (size_t i = 0; fault("csr-lowercase") && i < n; i++) /* wrong on purpose: the order kept the user's case (RFC 8555 §7.4) */
    for (char *p = ordered[i]; *p; p++) *p = (char)tolower((unsigned char)*p);
  acmeh_key_generate(ACMEH_KEY_ES256, &k);
  EVP_PKEY *csr_key = fault("csr-account-key") ? acmeh_key_pkey(acmeh_acme_key(c)) : acmeh_key_pkey(k);
  if (fault("onion-finalize-onion-key") && onion_key()) csr_key = onion_key(); /* RFC 9799 §3.2: MUST NOT (on purpose) */
  acmeh_csr_build(csr_key, names, n + (fault("csr-extra-name") ? 1 : 0), &csr);
  acmeh_key_free(k);
  if (asprintf(&payload, "{\"csr\":\"%s%s\"}", csr, fault("padding") ? "=" : "") < 0) return 1;
  json_t *caa = onion_key() && !fault("onion-no-caa") ? onion_caa(names, n) : NULL;
  if (caa) { /* RFC 9799 §6.4: in-band CAA beside the CSR */
    json_t *p = json_pack("{s:s,s:o}", "csr", csr, "onionCAA", caa);
    free(payload);
    payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
  }
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  acmeh_acme_post(c, json_string_value(json_object_get(order, "finalize")), payload, &o, &r, err, sizeof err);
  finalize_again_if_not_ready(c, order, order_url, payload, &o, &r);
  if (profile_refused(c, &r, json_string_value(json_object_get(order, "finalize")), payload)) {
    acmeh_http_resp_free(&r); /* 3: the caller starts a new order (profiles draft §4) */
    free(csr), free(payload);
    return 3;
  }
  double ra;
  if (fault("poll-every-2s")) acmeh_sleep_ms(2000); /* wrong on purpose: a fixed interval, whatever Retry-After says */
  else if (!fault("poll-fast") && acmeh_http_retry_after(&r, &ra)) acmeh_sleep_ms((long)((ra > 3600 ? 3600 : ra) * 1000));
  acmeh_http_resp_free(&r);
  free(csr), free(payload);
  json_t *done = poll(c, order_url, "ready processing");
  const char *cert = json_string_value(json_object_get(done, "certificate"));
  acmeh_post_opts co = opts();
  int rc = cert ? acmeh_acme_post(c, cert, NULL, &co, &r, err, sizeof err) : die("finalize", "order did not become valid");
  if (cert && rc == ACMEH_OK && r.status == 200) rc = keep_chain(r.body) ? ACMEH_PEER_PROTOCOL : ACMEH_OK;
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

/* ---- ARI (RFC 9773) and profiles (draft-ietf-acme-profiles) ---------------
 * Profiles: FAKE_CLIENT_PROFILE (else the scenario's ${PROFILE}) names the
 * profile newOrder asks for. ARI: right after an issuance the client fetches
 * RenewalInfo (§4.3 SHOULD) and keeps the schedule in WORK_DIR/ari.json;
 * `renew` (or issue with FAKE_CLIENT_RENEW=1) follows it for at most
 * FAKE_CLIENT_RENEW_BUDGET seconds (default 10): fetch again when
 * Retry-After says, renew with `replaces` at the chosen instant, else exit 0
 * leaving the schedule for the next run, as a cron-style client does.
 * FAKE_CLIENT_ARI_MIN_RETRY / FAKE_CLIENT_ARI_LONG_TERM replace the RFC's
 * 60 s clamp floor and 6 h long-term wait so tests see re-fetches in seconds. */

static double env_num(const char *name, double dflt) {
  const char *v = getenv(name);
  return v && *v ? atof(v) : dflt;
}

/* RFC 8738 §3: a name that is an IP address is an "ip" identifier in its
 * canonical text form (inet_ntop gives RFC 5952's); the fault ip-as-typed
 * keeps the text the user typed (wrong on purpose). Takes and returns p. */
static char *ip_identifiers(char *p) {
  json_t *j = p ? json_loads(p, 0, NULL) : NULL, *id;
  size_t i;
  int changed = 0;
  json_array_foreach(json_object_get(j, "identifiers"), i, id) {
    const char *v = json_string_value(json_object_get(id, "value"));
    unsigned char bin[16];
    char text[INET6_ADDRSTRLEN];
    int af = v && strchr(v, ':') ? AF_INET6 : AF_INET;
    if (!v || inet_pton(af, v, bin) != 1 || !inet_ntop(af, bin, text, sizeof text)) continue;
    json_object_set_new(id, "type", json_string("ip"));
    if (!fault("ip-as-typed")) json_object_set_new(id, "value", json_string(text));
    changed = 1;
  }
  if (changed) free(p), p = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return p;
}

static void order_payload(const char *domain, char *out, size_t len) {
  char ordered[8][256];
  const char *names[8];
  size_t n = order_names(domain, ordered, 8);
  for (size_t i = 0; i < n; i++) names[i] = ordered[i];
  for (size_t i = 0; i < n && fault("onion-uppercase"); i++) /* RFC 9799 §2: lower case (wrong on purpose) */
    for (char *p = ordered[i]; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
  int bad = g_profile && fault("profile-not-string");
  char *p = acmeh_client_order_payload(names, n, g_replaces, bad ? NULL : g_profile);
  p = ip_identifiers(p);
  json_t *j = bad && p ? json_loads(p, 0, NULL) : NULL;
  if (j) { /* wrong on purpose: the profile name inside an array */
    json_object_set_new(j, "profile", json_pack("[s]", g_profile));
    free(p), p = json_dumps(j, JSON_COMPACT), json_decref(j);
  }
  j = fault("order-notafter-not-rfc3339") && p ? json_loads(p, 0, NULL) : NULL;
  if (j) { /* wrong on purpose: notAfter is an RFC 3339 date-time (RFC 8555 §7.4) */
    json_object_set_new(j, "notAfter", json_string("next week"));
    free(p), p = json_dumps(j, JSON_COMPACT), json_decref(j);
  }
  snprintf(out, len, "%s", p ? p : "{}");
  free(p);
}

/* Notes the refused newOrder's problem type; the looping faults send the same request again (wrong on purpose). */
static int refusal_loop(acmeh_acme *c, const char *url, const char *payload, acmeh_post_opts *o, acmeh_http_resp *r,
                        char *err, size_t errlen) {
  int rc = ACMEH_OK;
  for (int i = 0; rc == ACMEH_OK && i < 4; i++) {
    acmeh_resp_problem(r, g_last_problem, sizeof g_last_problem);
    int again = (strcmp(g_last_problem, "invalidProfile") == 0 && fault("retry-invalid-profile")) ||
                (strcmp(g_last_problem, "alreadyReplaced") == 0 && fault("loop-already-replaced"));
    if (!again) break;
    acmeh_http_resp_free(r);
    acmeh_sleep_ms(100);
    rc = acmeh_acme_post(c, url, payload, o, r, err, errlen);
  }
  return rc;
}

/* 1 when finalize was refused with invalidProfile (reported); the fault finalizes the same order again. */
static int profile_refused(acmeh_acme *c, acmeh_http_resp *r, const char *url, const char *payload) {
  char type[64] = "", d[300], err[256];
  acmeh_resp_problem(r, type, sizeof type);
  if (strcmp(type, "invalidProfile") != 0) return 0;
  acmeh_resp_describe(r, d, sizeof d);
  fprintf(stderr, "fake-client: finalize: %s\n", d);
  for (int i = 0; fault("refinalize-invalid-profile") && i < 2; i++) {
    acmeh_http_resp again;
    acmeh_post_opts o = opts();
    if (acmeh_acme_post(c, url, payload, &o, &again, err, sizeof err) == ACMEH_OK) acmeh_http_resp_free(&again);
  }
  return 1;
}

static const char *wanted_profile(void) {
  const char *p = getenv("FAKE_CLIENT_PROFILE");
  if (!p || !*p) p = getenv("PROFILE");
  return p && *p ? p : NULL;
}

/* Shows the offered profiles (draft §3 SHOULD) and decides whether newOrder names one (§4). */
static int profile_setup(acmeh_acme *c) {
  char offered[600], err[800];
  acmeh_client_profiles_describe(c, offered, sizeof offered);
  if (*offered && !fault("hide-profiles")) fprintf(stderr, "fake-client: the server offers profiles: %s\n", offered);
  const char *want = wanted_profile();
  int rc = want ? acmeh_client_profile_check(c, want, err, sizeof err) : ACMEH_OK;
  if (want && (rc == ACMEH_OK || (rc == ACMEH_INVALID_ARG && fault("send-unlisted-profile")) ||
               (rc == ACMEH_UNSUPPORTED && fault("profile-without-meta"))))
    g_profile = want;
  else if (rc == ACMEH_UNSUPPORTED)
    fprintf(stderr, "fake-client: %s: ordering without profile \"%s\"\n", err, want);
  else if (rc)
    return die("profile", err);
  return 0;
}

/* One order through to cert.pem. Returns 0, 1, or 3 (finalize refused with invalidProfile). */
static int order_once(acmeh_acme *c, const char *domain) {
  char err[512], *order_url = NULL;
  json_t *order = NULL;
  g_last_problem[0] = '\0';
  if (new_order(c, domain, &order, &order_url, err, sizeof err)) return die("newOrder", err);
  int rc = 0;
  if (g_profile && !json_object_get(order, "profile") && !fault("ignore-missing-profile"))
    rc = die("newOrder", "the order came back without the requested profile (the server ignored it); not finalizing");
  char ordered[8][256];
  size_t n = order_names(domain, ordered, 8), i;
  json_t *a;
  json_array_foreach(json_object_get(order, "authorizations"), i, a) /* the i-th name stands in for the fault */
    if (rc == 0) rc = authorize(c, i < n ? ordered[i] : domain, json_string_value(a));
  if (rc == 0) rc = finalize(c, domain, order, order_url);
  json_decref(order);
  free(order_url);
  return rc;
}

typedef struct {
  char cert_id[256]; /* of the certificate in cert.pem */
  acmeh_ari_schedule s;
} ari_state;

static void ari_save(const ari_state *st) {
  json_t *j = json_pack("{s:s,s:f,s:f,s:i,s:b}", "cert_id", st->cert_id, "renew_at", st->s.renew_at, "next_fetch",
                        st->s.next_fetch, "temp_failures", st->s.temp_failures, "replaced", st->s.replaced);
  char *t = json_dumps(j, 0);
  if (t) save_text("ari.json", t);
  free(t), json_decref(j);
}

/* The saved schedule when it is for cert_id, else a fresh one (fetch now). */
static void ari_load(ari_state *st, const char *cert_id) {
  char *t = load_text("ari.json");
  json_t *j = t ? json_loads(t, 0, NULL) : NULL;
  const char *id = json_string_value(json_object_get(j, "cert_id"));
  memset(st, 0, sizeof *st);
  snprintf(st->cert_id, sizeof st->cert_id, "%s", cert_id);
  if (id && strcmp(id, cert_id) == 0) {
    st->s.renew_at = json_number_value(json_object_get(j, "renew_at"));
    st->s.next_fetch = json_number_value(json_object_get(j, "next_fetch"));
    st->s.temp_failures = (int)json_integer_value(json_object_get(j, "temp_failures"));
    st->s.replaced = json_is_true(json_object_get(j, "replaced"));
  }
  free(t), json_decref(j);
}

static char *saved_cert_id(void) {
  char *pem = load_text("cert.pem"), *id = NULL, err[200];
  if (pem && acmeh_ari_cert_id_pem(pem, strlen(pem), &id, err, sizeof err)) id = NULL;
  free(pem);
  return id;
}

/* The certID as sent: correct, or broken by a fault (RFC 9773 §4.1). */
static char *sent_cert_id(const char *id) {
  const char *dot = strchr(id, '.');
  int n = dot ? (int)(dot - id) : 0, m = dot ? (int)strlen(dot + 1) : 0;
  char *out = NULL, *b = NULL;
  unsigned char *ser = NULL, buf[64];
  size_t len = 0;
  if (dot && fault("certid-padding")) {
    if (asprintf(&out, "%.*s%.*s.%s%.*s", n, id, (4 - n % 4) % 4, "===", dot + 1, (4 - m % 4) % 4, "===") < 0) out = NULL;
  } else if (dot && (fault("certid-extra-00") || fault("certid-no-00")) &&
             acmeh_b64url_decode(dot + 1, (size_t)m, &ser, &len) == ACMEH_OK && len < sizeof buf) {
    size_t k = 0, skip = 0;
    if (fault("certid-extra-00")) buf[k++] = 0; /* a redundant leading zero */
    while (fault("certid-no-00") && skip + 1 < len && ser[skip] == 0) skip++; /* BN_bn2bin-style magnitude */
    memcpy(buf + k, ser + skip, len - skip);
    b = acmeh_b64url_encode(buf, k + len - skip);
    if (!b || asprintf(&out, "%.*s.%s", n, id, b) < 0) out = NULL;
  }
  free(ser), free(b);
  return out ? out : strdup(id);
}

static char *ari_url(acmeh_acme *c, const char *cert_id) {
  char *id = sent_cert_id(cert_id), *url = NULL;
  const char *base = acmeh_acme_dir_url(c, "renewalInfo");
  if (fault("double-slash") && asprintf(&url, "%s//%s", base, id) < 0) url = NULL;
  if (!fault("double-slash")) url = acmeh_ari_url(base, id);
  free(id);
  return url;
}

static acmeh_ari_policy ari_policy(void) {
  acmeh_ari_policy p = {.min_retry = env_num("FAKE_CLIENT_ARI_MIN_RETRY", 0), .long_term = env_num("FAKE_CLIENT_ARI_LONG_TERM", 0)};
  if (fault("no-clamp")) p.min_retry = 1e-3, p.max_retry = 1e9;
  if (fault("short-long-term")) p.long_term = 1;
  return p;
}

static double uniform(void) {
  uint32_t v = 0;
  RAND_bytes((unsigned char *)&v, sizeof v);
  return v / 4294967295.0;
}

/* The faults that bend §4.2-§4.3 after a fetch (wrong on purpose). */
static void ari_bend(acmeh_ari_schedule *s, acmeh_ari_fetch *f, double now) {
  if (f->outcome == ACMEH_ARI_FETCH_OK && fault("renew-outside-window")) s->renew_at = now;
  if (f->outcome == ACMEH_ARI_FETCH_OK && fault("ignore-ari-retry-after")) s->next_fetch = now + 0.2;
  if (f->outcome == ACMEH_ARI_FETCH_TEMPORARY && fault("no-backoff")) s->next_fetch = now + 0.2, s->temp_failures = 0;
  if (f->outcome == ACMEH_ARI_FETCH_LONG_TERM && f->status == 200 && fault("trust-bad-window")) s->renew_at = now;
}

/* One RenewalInfo fetch folded into the schedule. */
static void ari_fetch_once(acmeh_acme *c, ari_state *st) {
  acmeh_ari_policy p = ari_policy();
  acmeh_ari_fetch f;
  char *url = ari_url(c, st->cert_id), when[32] = "-";
  acmeh_client_ari_fetch(c, url, fault("post-renewalinfo") ? "POST" : NULL, &p, &f);
  double now = acmeh_now_wall();
  if (f.retry_after_ok && fault("no-http-date") && strspn(f.retry_after_value, "0123456789") != strlen(f.retry_after_value))
    f.retry_after_ok = 0; /* wrong on purpose: an HTTP-date taken as no Retry-After */
  acmeh_client_ari_update(&st->s, &f, &p, now, fault("renew-at-start") ? 0 : uniform());
  ari_bend(&st->s, &f, now);
  if (st->s.renew_at > 0) acmeh_rfc3339_format(st->s.renew_at, when, sizeof when);
  fprintf(stderr, "fake-client: renewalInfo %s: %s%s%s; renewal at %s, next fetch in %.1f s\n", st->cert_id,
          f.outcome == ACMEH_ARI_FETCH_OK ? "window received" : f.outcome == ACMEH_ARI_FETCH_TEMPORARY ? "temporary error" : "long-term error",
          *f.why ? ": " : "", f.why, when, st->s.next_fetch - now);
  if (f.window.explanation_url && !fault("hide-explanation"))
    fprintf(stderr, "fake-client: the CA explains this renewal window at %s\n", f.window.explanation_url);
  acmeh_ari_fetch_clear(&f);
  free(url);
}

/* After a certificate arrives: its RenewalInfo right away (§4.3 SHOULD), schedule kept in ari.json. */
static void ari_first_fetch(acmeh_acme *c) {
  char *id = saved_cert_id();
  ari_state st;
  if (id && acmeh_client_ari_offered(c)) ari_load(&st, id), ari_fetch_once(c, &st), ari_save(&st);
  free(id);
}

/* Renews with replaces = the predecessor's certID (§5); after 409 alreadyReplaced never again. */
static int renew_now(acmeh_acme *c, const char *domain, ari_state *st) {
  ari_state old = *st;
  g_replaces = fault("no-replaces") ? NULL : old.cert_id;
  fprintf(stderr, "fake-client: renewing %s (replaces %s)\n", domain, g_replaces ? g_replaces : "none");
  int rc = order_once(c, domain);
  g_replaces = NULL;
  if (rc == 0 || strcmp(g_last_problem, "alreadyReplaced") == 0) st->s.replaced = 1;
  if (rc && st->s.replaced)
    fprintf(stderr, "fake-client: the server says %s was already replaced (409 alreadyReplaced); not renewing it again\n", old.cert_id);
  ari_save(st);
  if (rc == 0 && fault("fetch-after-replaced")) ari_fetch_once(c, &old); /* wrong on purpose */
  if (rc == 0) ari_first_fetch(c);
  return rc;
}

/* Renewal without ARI (§5: no replaces when the directory lacks renewalInfo). */
static int renew_plain(acmeh_acme *c, const char *domain, char *id) {
  fprintf(stderr, "fake-client: the directory has no renewalInfo: renewing now without replaces\n");
  g_replaces = fault("replaces-without-ari") ? id : NULL;
  int rc = order_once(c, domain);
  g_replaces = NULL;
  return rc;
}

/* Follows the schedule within the run's budget (RFC 9773 §4.2 steps 1-6). */
static int renew_loop(acmeh_acme *c, const char *domain) {
  char *id = saved_cert_id();
  if (!id) return die("renew", "no certificate with an Authority Key Identifier from an earlier issue in WORK_DIR");
  if (!acmeh_client_ari_offered(c)) {
    int rc = renew_plain(c, domain, id);
    return free(id), rc;
  }
  ari_state st;
  ari_load(&st, id);
  double stop = acmeh_now_mono() + env_num("FAKE_CLIENT_RENEW_BUDGET", 10);
  int rc = -1;
  for (int fetches = 0; rc < 0;) {
    double until = 0, now = acmeh_now_wall();
    acmeh_ari_step step = acmeh_client_ari_next(&st.s, now, &until);
    if (step == ACMEH_ARI_DONE) fprintf(stderr, "fake-client: %s was replaced: nothing to renew\n", id), rc = 0;
    else if (step == ACMEH_ARI_RENEW && fault("ignore-due-window")) /* wrong on purpose: RFC 9773 §4.2 says renew */
      fprintf(stderr, "fake-client: %s is due, not renewing (fault)\n", id), rc = 0;
    else if (step == ACMEH_ARI_RENEW) rc = renew_now(c, domain, &st);
    else if (step == ACMEH_ARI_REFETCH && ++fetches > 50) rc = die("renew", "50 RenewalInfo fetches in one run");
    else if (step == ACMEH_ARI_REFETCH) ari_fetch_once(c, &st), ari_save(&st);
    else if (until - now > stop - acmeh_now_mono())
      fprintf(stderr, "fake-client: next step in %.1f s, after this run's budget; schedule kept for the next run\n", until - now), rc = 0;
    else acmeh_sleep_ms((long)((until - now) * 1000) + 1);
  }
  free(id);
  return rc;
}

static int ari_after_issue(acmeh_acme *c, const char *domain) {
  if (!fault("no-fetch-after-issue")) ari_first_fetch(c);
  const char *r = getenv("FAKE_CLIENT_RENEW");
  return r && strcmp(r, "1") == 0 ? renew_loop(c, domain) : 0;
}

static int renew_action(acmeh_acme *c, const char *domain) {
  if (!load_account(c)) return die("renew", "no account from an earlier issue in WORK_DIR");
  if (profile_setup(c)) return 1;
  return renew_loop(c, domain);
}

/* The externalAccountBinding for key (RFC 8555 §7.3.4), with the eab-* faults'
 * mistakes: MAC over the key's base64url text, a nonce, another url. */
static json_t *eab_binding(const acmeh_key *key, const char *url, const char *kid, const char *key_b64) {
  unsigned char *mac = NULL;
  size_t len = 0;
  char wrong_url[600];
  snprintf(wrong_url, sizeof wrong_url, "%sx", url);
  if (fault("eab-raw-key")) mac = (unsigned char *)strdup(key_b64), len = strlen(key_b64);
  else if (acmeh_b64url_decode(key_b64, strlen(key_b64), &mac, &len) != ACMEH_OK) return NULL;
  json_t *jwk = acmeh_key_jwk(key), *out = NULL;
  char *jwk_text = json_dumps(jwk, JSON_COMPACT), *jws = NULL;
  acmeh_jws_opts o = {.kid = kid, .url = fault("eab-wrong-url") ? wrong_url : url, .mac_key = mac, .mac_key_len = len,
                      .nonce = fault("eab-nonce") ? "AAAAAAAAAAAAAAAAAAAAAA" : NULL};
  if (jwk_text && acmeh_jws_build(NULL, jwk_text, strlen(jwk_text), &o, &jws) == ACMEH_OK) out = json_loads(jws, 0, NULL);
  free(jws), free(jwk_text), free(mac);
  json_decref(jwk);
  return out;
}

/* newAccount with the binding the CA gave out of band (EAB_KID, EAB_HMAC_KEY). */
static int new_account_eab(acmeh_acme *c, acmeh_http_resp *resp, char *err, size_t errlen) {
  acmeh_key *key = NULL;
  const char *url = acmeh_acme_dir_url(c, "newAccount");
  if (!url || acmeh_key_generate(ACMEH_KEY_ES256, &key)) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "no newAccount URL or key");
  json_t *p = json_pack("{s:b}", "termsOfServiceAgreed", 1), *b = eab_binding(key, url, getenv("EAB_KID"), getenv("EAB_HMAC_KEY"));
  char *payload = b && json_object_set_new(p, "externalAccountBinding", b) == 0 ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  acmeh_post_opts o = opts();
  o.use_jwk = 1, o.key = key;
  int rc = payload ? acmeh_acme_post(c, url, payload, &o, resp, err, errlen) : acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "cannot build the binding");
  free(payload);
  const char *loc = rc ? NULL : acmeh_http_header_get(resp, "Location");
  if (rc == ACMEH_OK && resp->status != 201 && resp->status != 200) rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "newAccount answered %ld", (long)resp->status);
  if (rc == ACMEH_OK && loc) acmeh_acme_set_account(c, key, loc);
  else acmeh_key_free(key);
  return rc;
}

/* pk-01 (draft-geng-acme-public-key, scenario challenge pk-01): a fresh key
 * declared as a "pk" identifier (FAKE_CLIENT_PK_TYPE: selfsign-cert or csr
 * instead), its proof signed with that key, finalize without CSR, and the
 * certificate kept only when it carries that key. Faults: pk-account-key-proof
 * signs the proof with the account key, pk-garbage-proof sends no JWS,
 * pk-accept-other-key keeps a certificate for another key (all wrong on
 * purpose). */
/* The fault pk-garbage-proof: a proof that is no JWS at all (wrong on purpose). */
static int pk_garbage_proof(acmeh_acme *c, const char *authz_url) {
  json_t *authz = NULL;
  char err[256];
  long wait;
  if (fetch(c, authz_url, &authz, &wait, err, sizeof err) || !authz) return die("authorization", err);
  const char *url = json_string_value(json_object_get(acmeh_flow_find_challenge(authz, "pk-01"), "url"));
  acmeh_post_opts o = opts();
  acmeh_http_resp r;
  if (url && acmeh_acme_post(c, url, "{\"proof\":\"not.a-jws\"}", &o, &r, err, sizeof err) == ACMEH_OK) acmeh_http_resp_free(&r);
  json_decref(authz);
  json_t *fin = poll(c, authz_url, "pending processing");
  int ok = status_is(fin, "valid");
  json_decref(fin);
  return ok ? 0 : die("authorization", "did not become valid");
}

static int pk_issue(acmeh_acme *c) {
  const char *type = getenv("FAKE_CLIENT_PK_TYPE") && *getenv("FAKE_CLIENT_PK_TYPE") ? getenv("FAKE_CLIENT_PK_TYPE") : "pk";
  acmeh_key *k = NULL;
  acmeh_issued is = {0};
  char err[512], *value = NULL, *ident = NULL;
  if (acmeh_key_generate(ACMEH_KEY_ES256, &k) || acmeh_pk_ident_make(type, acmeh_key_pkey(k), "fake device", &value) ||
      asprintf(&ident, "%s:%s", type, value) < 0)
    return acmeh_key_free(k), free(value), die("pk", "cannot make the key identifier");
  free(value);
  acmeh_acme_set_pop_key(c, fault("pk-account-key-proof") ? acmeh_acme_key(c) : k);
  const char *names[] = {ident};
  int rc = acmeh_flow_new_order(c, names, 1, &is.order_url, &is.order, err, sizeof err) ? die("newOrder", err) : 0;
  size_t i;
  json_t *a, *fin = NULL;
  json_array_foreach(json_object_get(is.order, "authorizations"), i, a) {
    if (rc == 0 && fault("pk-garbage-proof")) rc = pk_garbage_proof(c, json_string_value(a));
    else if (rc == 0 && acmeh_flow_authorize(c, NULL, json_string_value(a), "pk-01", &fin, err, sizeof err)) rc = die("pk-01", err);
    json_decref(fin), fin = NULL;
  }
  static const char *const waiting[] = {"pending"};
  json_t *o = NULL;
  if (rc == 0 && acmeh_flow_poll(c, is.order_url, waiting, 1, &o, err, sizeof err)) rc = die("order", err);
  if (o) json_decref(is.order), is.order = o;
  if (rc == 0 && acmeh_flow_finalize(c, &is, NULL, err, sizeof err)) rc = die("finalize", err);
  STACK_OF(X509) *chain = NULL;
  if (rc == 0 && acmeh_pem_chain_parse(is.chain_pem, strlen(is.chain_pem), &chain, err, sizeof err)) rc = die("certificate", err);
  if (rc == 0 && !acmeh_pk_same_key(X509_get0_pubkey(sk_X509_value(chain, 0)), acmeh_key_pkey(k)) && !fault("pk-accept-other-key"))
    rc = die("certificate", "the certificate is for another key than the identifier's (public-key replacement); not kept");
  if (rc == 0) save_text("cert.pem", is.chain_pem);
  sk_X509_pop_free(chain, X509_free);
  acmeh_issued_clear(&is);
  acmeh_acme_set_pop_key(c, NULL);
  acmeh_key_free(k);
  free(ident);
  return rc;
}

static int run(acmeh_acme *c, const char *domain) {
  char err[512];
  if (fault("get-nonce")) {
    acmeh_http_resp r;
    acmeh_http_request(acmeh_acme_http(c), "GET", acmeh_acme_dir_url(c, "newNonce"), NULL, NULL, 0, NULL, &r, err, sizeof err);
    acmeh_acme_keep_nonce(c, &r);
    acmeh_http_resp_free(&r);
  }
  acmeh_http_resp acct = {0};
  if (!fault("forget-account") && load_account(c)) goto account_ready; /* the fault: a new key each run */
  const char *acct_payload = fault("bad-contact") ? "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a@example.com?subject=x\"]}"
                             /* wrong on purpose: onlyReturnExisting is a boolean (RFC 8555 §7.3) */
                             : fault("only-return-existing-string") ? "{\"termsOfServiceAgreed\":true,\"onlyReturnExisting\":\"no\"}"
                                                                   : NULL;
  int eab = getenv("EAB_KID") && getenv("EAB_HMAC_KEY"); /* the CA requires a binding: scenario eab-issue */
  if (eab ? new_account_eab(c, &acct, err, sizeof err) : acmeh_flow_new_account(c, ACMEH_KEY_ES256, acct_payload, &acct, err, sizeof err))
    return acmeh_http_resp_free(&acct), die("newAccount", err);
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
  if (strcmp(challenge_type(), "pk-01") == 0) return pk_issue(c);
  if (profile_setup(c)) return 1;
  int rc = order_once(c, domain);
  if (rc == 3 && !fault("refinalize-invalid-profile")) /* profiles draft §4: a new order, not the same finalize */
    fprintf(stderr, "fake-client: finalize refused with invalidProfile; starting a new order\n"), rc = order_once(c, domain);
  return rc ? rc : ari_after_issue(c, domain);
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
  int renew = argc > 1 && strcmp(argv[1], "renew") == 0;
  int rc = acmeh_acme_new(&cfg, &c, err, sizeof err) ? die("directory", err) : rev ? revoke(c) : renew ? renew_action(c, domain) : run(c, domain);
  acmeh_acme_free(c);
  curl_global_cleanup();
  return rc;
}
