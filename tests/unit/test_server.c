/* Unit tests for the reference ACME server: started in-process on an
 * ephemeral port with the mocks, driven by the reference client engine
 * through full issuances (http-01, dns-01, tls-alpn-01), pre-authorization,
 * revocation, and hostile input (malformed HTTP, a 1 MB header, an invalid
 * JWS, unknown URLs), after each of which it must keep serving. */
#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "base/error.h"
#include "harness/server/internal.h"
#include "harness/server/server.h"
#include "tests/unit/support/raw_tls.h"
#include "tests/unit/support/server_client.h"
#include "mocks/mocks.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static acmeh_mocks *M;
static acmeh_publisher PUB; /* the reference client publishes into M */
static acmeh_server *S;
static char RUN_DIR[] = "/tmp/acmeh-test-server-XXXXXX";
static char ERR[1024];
static int NAME_SEQ;

/* ---------- helpers ---------- */

static const char *fresh_name(char *buf, size_t len) {
  snprintf(buf, len, "n%d-%d.server-test.example", (int)getpid(), NAME_SEQ++);
  return buf;
}


static acmeh_acme *account(void) { return acmeh_test_account(S); }

static void expect_problem(const acmeh_http_resp *r, long status, const char *type) {
  char got[128], mt[128];
  acmeh_resp_problem(r, got, sizeof got);
  acmeh_http_media_type(r, mt, sizeof mt);
  CU_ASSERT_EQUAL(r->status, status);
  CU_ASSERT_STRING_EQUAL(got, type);
  CU_ASSERT_STRING_EQUAL(mt, "application/problem+json");
  char *idx = acmeh_http_link(r, "index", 0);
  CU_ASSERT_PTR_NOT_NULL(idx);
  if (idx) CU_ASSERT_STRING_EQUAL(idx, acmeh_server_directory_url(S));
  free(idx);
}

/* POSTs {"certificate": <leaf>, "reason"?} to revokeCert. */
static int revoke_cert(acmeh_acme *c, const acmeh_issued *is, const char *reason, const acmeh_post_opts *o,
                  acmeh_http_resp *r) {
  STACK_OF(X509) *chain = NULL;
  if (acmeh_pem_chain_parse(is->chain_pem, strlen(is->chain_pem), &chain, NULL, 0)) return ACMEH_PEER_PROTOCOL;
  char *leaf = acmeh_cert_b64url_der(sk_X509_value(chain, 0)), *payload = NULL;
  sk_X509_pop_free(chain, X509_free);
  if (asprintf(&payload, "{\"certificate\":\"%s\"%s%s}", leaf, reason ? ",\"reason\":" : "", reason ? reason : "") < 0)
    payload = NULL;
  int rc = acmeh_acme_post(c, acmeh_acme_dir_url(c, "revokeCert"), payload, o, r, ERR, sizeof ERR);
  free(leaf);
  free(payload);
  return rc;
}

/* Plain GET of the directory: the server still answers. */
static void assert_serving(void) {
  acmeh_acme *c = acmeh_test_client(S);
  CU_ASSERT_PTR_NOT_NULL(c);
  acmeh_acme_free(c);
}

/* One raw TLS exchange with S (tests/unit/support/raw_tls.h). */
static long raw_exchange(const char *req, size_t len, char *out, size_t outlen) {
  return acmeh_test_raw_exchange(acmeh_server_port(S), acmeh_server_ca_file(S), req, len, out, outlen, 0);
}

/* ---------- issuance ---------- */

static void issue_with(const char *type) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128];
  const char *names[] = {fresh_name(name, sizeof name)};
  acmeh_issued is = {0};
  int rc = acmeh_flow_issue(c, &PUB, names, 1, type, &is, ERR, sizeof ERR);
  if (rc) fprintf(stderr, "%s issuance: %s\n", type, ERR);
  CU_ASSERT_EQUAL_FATAL(rc, ACMEH_OK);
  STACK_OF(X509) *chain = NULL;
  CU_ASSERT_EQUAL(acmeh_pem_chain_parse(is.chain_pem, strlen(is.chain_pem), &chain, NULL, 0), ACMEH_OK);
  CU_ASSERT_EQUAL(sk_X509_num(chain), 2);
  char **sans = NULL;
  size_t n = 0;
  acmeh_cert_sans(sk_X509_value(chain, 0), &sans, &n);
  CU_ASSERT_EQUAL(n, 1);
  if (n == 1) CU_ASSERT_STRING_EQUAL(sans[0], name);
  acmeh_names_free(sans, n);
  sk_X509_pop_free(chain, X509_free);
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(revoke_cert(c, &is, "4", NULL, &r), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(revoke_cert(c, &is, NULL, NULL, &r), ACMEH_OK);
  expect_problem(&r, 400, "alreadyRevoked");
  acmeh_http_resp_free(&r);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
}

static void test_issue_http01(void) { issue_with("http-01"); }
static void test_issue_dns01(void) { issue_with("dns-01"); }
static void test_issue_tlsalpn01(void) { issue_with("tls-alpn-01"); }

static void test_wildcard_and_alternate(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char base[128], wild[140];
  fresh_name(base, sizeof base);
  snprintf(wild, sizeof wild, "*.%s", base);
  const char *names[] = {wild, base};
  acmeh_issued is = {0};
  int rc = acmeh_flow_issue(c, &PUB, names, 2, "dns-01", &is, ERR, sizeof ERR);
  if (rc) fprintf(stderr, "wildcard issuance: %s\n", ERR);
  CU_ASSERT_EQUAL_FATAL(rc, ACMEH_OK);
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, is.cert_url, NULL, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  char *alt = acmeh_http_link(&r, "alternate", 0);
  CU_ASSERT_PTR_NOT_NULL(alt);
  acmeh_http_resp_free(&r);
  if (alt) {
    CU_ASSERT_EQUAL(acmeh_acme_post(c, alt, NULL, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_NOT_EQUAL(strcmp(r.body, is.chain_pem), 0); /* other intermediate, same leaf */
    CU_ASSERT_EQUAL(strncmp(r.body, is.chain_pem, 200), 0);
    acmeh_http_resp_free(&r);
  }
  free(alt);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
}

static void test_preauthorization(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128], payload[300];
  snprintf(payload, sizeof payload, "{\"identifier\":{\"type\":\"dns\",\"value\":\"%s\"}}", fresh_name(name, sizeof name));
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_dir_url(c, "newAuthz"), payload, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 201);
  char *authz = acmeh_http_header_get(&r, "Location") ? strdup(acmeh_http_header_get(&r, "Location")) : NULL;
  acmeh_http_resp_free(&r);
  CU_ASSERT_PTR_NOT_NULL_FATAL(authz);
  json_t *final = NULL;
  CU_ASSERT_EQUAL(acmeh_flow_authorize(c, &PUB, authz, "http-01", &final, ERR, sizeof ERR), ACMEH_OK);
  json_decref(final);
  char *order_url = NULL;
  json_t *order = NULL;
  const char *names[] = {name};
  CU_ASSERT_EQUAL(acmeh_flow_new_order(c, names, 1, &order_url, &order, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(order, "status")), "ready"); /* reused authorization */
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(order, "authorizations"), 0)), authz);
  json_decref(order);
  free(order_url);
  free(authz);
  acmeh_acme_free(c);
}

static void test_key_change_and_deactivation(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  acmeh_key *nk = NULL;
  acmeh_key_generate(ACMEH_KEY_EDDSA, &nk);
  const char *url = acmeh_acme_dir_url(c, "keyChange");
  json_t *p = json_pack("{s:s,s:o}", "account", acmeh_acme_kid(c), "oldKey", acmeh_key_jwk(acmeh_acme_key(c)));
  char *inner_payload = json_dumps(p, JSON_COMPACT), *inner = NULL;
  json_decref(p);
  acmeh_jws_opts io = {.use_jwk = 1, .url = url};
  CU_ASSERT_EQUAL(acmeh_jws_build(nk, inner_payload, strlen(inner_payload), &io, &inner), ACMEH_OK);
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, url, inner, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  acmeh_http_resp_free(&r);
  acmeh_acme_set_account(c, nk, acmeh_acme_kid(c));
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), "{\"status\":\"deactivated\"}", NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), NULL, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  expect_problem(&r, 401, "unauthorized");
  acmeh_http_resp_free(&r);
  free(inner_payload);
  free(inner);
  acmeh_acme_free(c);
}

static void test_revoke_by_authorized_account(void) {
  acmeh_acme *a = account(), *b = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  char name[128];
  const char *names[] = {fresh_name(name, sizeof name)};
  acmeh_issued is = {0}, other = {0};
  CU_ASSERT_EQUAL_FATAL(acmeh_flow_issue(a, &PUB, names, 1, "http-01", &is, ERR, sizeof ERR), ACMEH_OK);
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(revoke_cert(b, &is, NULL, NULL, &r), ACMEH_OK);
  expect_problem(&r, 403, "unauthorized"); /* b holds no authorization for the name yet */
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(acmeh_flow_ready_order(b, &PUB, names, 1, "dns-01", &other, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(revoke_cert(b, &is, "0", NULL, &r), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200); /* §7.6: authorized for every name */
  acmeh_http_resp_free(&r);
  acmeh_issued_clear(&is);
  acmeh_issued_clear(&other);
  acmeh_acme_free(a);
  acmeh_acme_free(b);
}

static void test_orders_pagination(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  for (int i = 0; i < SRV_ORDERS_PAGE + 5; i++) {
    char name[128], *url = NULL;
    json_t *o = NULL;
    const char *names[] = {fresh_name(name, sizeof name)};
    CU_ASSERT_EQUAL(acmeh_flow_new_order(c, names, 1, &url, &o, ERR, sizeof ERR), ACMEH_OK);
    free(url);
    json_decref(o);
  }
  json_t *acct = NULL, *page = NULL;
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL_FATAL(acmeh_acme_get_json(c, acmeh_acme_kid(c), &acct, NULL, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_acme_get_json(c, json_string_value(json_object_get(acct, "orders")), &page, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(json_array_size(json_object_get(page, "orders")), SRV_ORDERS_PAGE);
  char *next = acmeh_http_link(&r, "next", 0);
  acmeh_http_resp_free(&r);
  json_decref(page);
  CU_ASSERT_PTR_NOT_NULL_FATAL(next);
  CU_ASSERT_EQUAL(acmeh_acme_get_json(c, next, &page, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(json_array_size(json_object_get(page, "orders")), 5);
  CU_ASSERT_PTR_NULL(acmeh_http_link(&r, "next", 0));
  acmeh_http_resp_free(&r);
  json_decref(page);
  json_decref(acct);
  free(next);
  acmeh_acme_free(c);
}

/* Publishes wrong material for challenge `type`, responds, and expects the
 * challenge invalid with a problem of `want` type. */
static void failed_validation(const char *type, const char *want) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128], *order_url = NULL, host[200];
  json_t *order = NULL, *authz = NULL, *final = NULL;
  const char *names[] = {fresh_name(name, sizeof name)};
  CU_ASSERT_EQUAL_FATAL(acmeh_flow_new_order(c, names, 1, &order_url, &order, ERR, sizeof ERR), ACMEH_OK);
  const char *authz_url = json_string_value(json_array_get(json_object_get(order, "authorizations"), 0));
  CU_ASSERT_EQUAL_FATAL(acmeh_acme_get_json(c, authz_url, &authz, NULL, ERR, sizeof ERR), ACMEH_OK);
  const json_t *ch = acmeh_flow_find_challenge(authz, type);
  const char *token = json_string_value(json_object_get(ch, "token"));
  snprintf(host, sizeof host, "_acme-challenge.%s", name);
  if (strcmp(type, "http-01") == 0) acmeh_mocks_add_http01(M, token, "not-the-key-authorization");
  if (strcmp(type, "dns-01") == 0) acmeh_mocks_set_txt(M, host, "not-the-digest");
  if (strcmp(type, "tls-alpn-01") == 0) acmeh_mocks_add_tlsalpn01(M, name, "wrong.keyauth"); /* wrong acmeIdentifier */
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, json_string_value(json_object_get(ch, "url")), "{}", NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  char *up = acmeh_http_link(&r, "up", 0);
  CU_ASSERT_PTR_NOT_NULL(up);
  if (up) CU_ASSERT_STRING_EQUAL(up, authz_url);
  free(up);
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  CU_ASSERT_EQUAL(acmeh_flow_poll(c, authz_url, waiting, 2, &final, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(final, "status")), "invalid");
  const json_t *fch = acmeh_flow_find_challenge(final, type);
  char full[128];
  snprintf(full, sizeof full, "urn:ietf:params:acme:error:%s", want);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fch, "status")), "invalid");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(fch, "error"), "type")), full);
  acmeh_flow_unpublish(c, &PUB, ch, name);
  json_decref(order), json_decref(authz), json_decref(final);
  free(order_url);
  acmeh_acme_free(c);
}

static void test_failed_validations(void) {
  failed_validation("http-01", "incorrectResponse");
  failed_validation("dns-01", "unauthorized");
  failed_validation("tls-alpn-01", "unauthorized");
}

/* ---------- hostile input ---------- */

static void test_invalid_jws(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  acmeh_post_opts o = {.raw_body = "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AAAA\"}"};
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), NULL, &o, &r, ERR, sizeof ERR), ACMEH_OK);
  expect_problem(&r, 400, "badSignatureAlgorithm"); /* protected {} has no alg */
  CU_ASSERT_PTR_NOT_NULL(acmeh_http_header_get(&r, "Replay-Nonce"));
  acmeh_http_resp_free(&r);
  acmeh_post_opts junk = {.raw_body = "not json at all"};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), NULL, &junk, &r, ERR, sizeof ERR), ACMEH_OK);
  expect_problem(&r, 400, "malformed");
  acmeh_http_resp_free(&r);
  acmeh_post_opts ct = {.content_type = "application/json"};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), NULL, &ct, &r, ERR, sizeof ERR), ACMEH_OK);
  expect_problem(&r, 415, "malformed");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  assert_serving();
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether a random n has a prime factor below 2000 (OpenSSL's public-key
 * check refuses such an n cheaply; the costly Miller-Rabin round follows). */
static int small_factor(const unsigned char *n, size_t len) {
  BIGNUM *bn = BN_bin2bn(n, (int)len, NULL);
  int found = !bn;
  for (BN_ULONG d = 3; !found && d < 2000; d += 2) found = BN_mod_word(bn, d) == 0;
  BN_free(bn);
  return found;
}

/* An RSA JWK whose n is `bits` random bits (top and bottom set) without
 * small factors: no real key, as it is refused by its size before anything
 * uses it. */
static json_t *random_rsa_jwk(int bits) {
  size_t len = (size_t)bits / 8;
  unsigned char *n = malloc(len);
  int tries = 0;
  do {
    if (!n || RAND_bytes(n, (int)len) != 1 || ++tries > 1000) return free(n), NULL;
    n[0] |= 0x80, n[len - 1] |= 1;
  } while (small_factor(n, len));
  char *n64 = acmeh_b64url_encode(n, len);
  json_t *jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "e", "AQAB", "n", n64 ? n64 : "");
  free(n64);
  free(n);
  return jwk;
}

/* A 16,384-bit modulus is refused by its length, before anything costly
 * runs on the event loop (the public-key check alone took 0.9 s of it). */
static void test_huge_rsa_jwk(void) {
  json_t *jwk = random_rsa_jwk(16384);
  CU_ASSERT_PTR_NOT_NULL_FATAL(jwk);
  acmeh_key *k = NULL;
  double t0 = now_s();
  CU_ASSERT_EQUAL(acmeh_key_from_jwk(jwk, &k), ACMEH_PEER_PROTOCOL);
  double lib_s = now_s() - t0;
  acmeh_key_free(k);
  acmeh_acme *c = acmeh_test_client(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char *nonce = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_acme_nonce(c, &nonce, ERR, sizeof ERR), ACMEH_OK);
  const char *url = acmeh_acme_dir_url(c, "newAccount");
  json_t *hdr = json_pack("{s:s, s:O, s:s, s:s}", "alg", "RS256", "jwk", jwk, "nonce", nonce, "url", url);
  char *hdr_text = json_dumps(hdr, JSON_COMPACT);
  char *hdr64 = acmeh_b64url_encode((const unsigned char *)hdr_text, strlen(hdr_text));
  char *body = NULL;
  CU_ASSERT(asprintf(&body, "{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAAA\"}", hdr64) > 0);
  acmeh_post_opts o = {.raw_body = body};
  acmeh_http_resp r = {0};
  t0 = now_s();
  CU_ASSERT_EQUAL(acmeh_acme_post(c, url, NULL, &o, &r, ERR, sizeof ERR), ACMEH_OK);
  double srv_s = now_s() - t0;
  expect_problem(&r, 400, "badPublicKey");
  json_t *p = acmeh_resp_json(&r);
  const char *detail = json_string_value(json_object_get(p, "detail"));
  CU_ASSERT_PTR_NOT_NULL(detail && strstr(detail, "16384") ? detail : NULL);
  fprintf(stderr, "\n  16384-bit n: refused in %.3f s (key import), %.3f s (request); %s\n", lib_s, srv_s,
          detail ? detail : "(no detail)");
  CU_ASSERT(lib_s < 0.05);
  CU_ASSERT(srv_s < 0.25); /* a loopback round trip on a busy test machine included */
  json_decref(p);
  acmeh_http_resp_free(&r);
  free(body), free(hdr64), free(hdr_text), free(nonce);
  json_decref(hdr);
  json_decref(jwk);
  acmeh_acme_free(c);
}

static void test_rejected_identifiers(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  const char *payload = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"xn--zz.example.com\"},"
                        "{\"type\":\"dns\",\"value\":\"fine.example.com\"},{\"type\":\"email\",\"value\":\"a@example.com\"}]}";
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  expect_problem(&r, 400, "rejectedIdentifier");
  json_t *p = acmeh_resp_json(&r), *sub = json_object_get(p, "subproblems");
  CU_ASSERT_PTR_NULL(json_object_get(p, "identifier")); /* §6.7.1: only inside subproblems */
  CU_ASSERT_EQUAL(json_array_size(sub), 2);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(json_array_get(sub, 0), "identifier"), "value")),
                         "xn--zz.example.com");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(sub, 1), "type")),
                         "urn:ietf:params:acme:error:unsupportedIdentifier");
  json_decref(p);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
}

/* RFC 8738: canonical addresses are ordered as "ip" identifiers with http-01
 * and tls-alpn-01 only; other spellings are refused. */
static void test_ip_identifiers(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  const char *ok = "{\"identifiers\":[{\"type\":\"ip\",\"value\":\"127.0.0.1\"},{\"type\":\"ip\",\"value\":\"::1\"}]}";
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), ok, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 201);
  json_t *o = acmeh_resp_json(&r), *authz = NULL;
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(o, "identifiers"), 1), "type")), "ip");
  const char *u = json_string_value(json_array_get(json_object_get(o, "authorizations"), 1));
  CU_ASSERT_EQUAL_FATAL(acmeh_acme_get_json(c, u, &authz, NULL, ERR, sizeof ERR), ACMEH_OK);
  json_t *ch = json_object_get(authz, "challenges");
  CU_ASSERT_EQUAL(json_array_size(ch), 2);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(ch, 1), "type")), "tls-alpn-01");
  json_decref(authz), json_decref(o);
  acmeh_http_resp_free(&r);
  static const char *const bad[] = {"127.000.000.001", "0:0:0:0:0:0:0:1", "::FFFF:7f00:1", "*.127.0.0.1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char payload[200];
    snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"ip\",\"value\":\"%s\"}]}", bad[i]);
    r = (acmeh_http_resp){0};
    CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
    expect_problem(&r, 400, "rejectedIdentifier");
    acmeh_http_resp_free(&r);
  }
  acmeh_acme_free(c);
}

static void test_unknown_url_and_plain_get(void) {
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char url[512];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/no/such/thing", acmeh_server_port(S));
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_http_request(acmeh_acme_http(c), "GET", url, NULL, NULL, 0, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  expect_problem(&r, 404, "malformed");
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(acmeh_http_request(acmeh_acme_http(c), "GET", acmeh_acme_kid(c), NULL, NULL, 0, NULL, &r, ERR, sizeof ERR),
                  ACMEH_OK);
  expect_problem(&r, 405, "malformed");
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(acmeh_http_request(acmeh_acme_http(c), "HEAD", acmeh_acme_dir_url(c, "newNonce"), NULL, NULL, 0, NULL, &r,
                                     ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  CU_ASSERT_PTR_NOT_NULL(acmeh_http_header_get(&r, "Replay-Nonce"));
  CU_ASSERT_PTR_NOT_NULL(strstr(acmeh_http_header_get(&r, "Cache-Control") ? acmeh_http_header_get(&r, "Cache-Control") : "", "no-store"));
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
}

static void test_malformed_http(void) {
  static const char req[] = "GARBAGE / HTTP/9.9\r\n\r\n";
  char out[4096];
  long n = raw_exchange(req, sizeof req - 1, out, sizeof out);
  CU_ASSERT(n > 0);
  CU_ASSERT_EQUAL(strncmp(out, "HTTP/1.1 400", 12), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "application/problem+json"));
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "urn:ietf:params:acme:error:malformed"));
  assert_serving();
}

static void test_huge_header(void) {
  const size_t big = 1024 * 1024;
  char *req = malloc(big + 128);
  CU_ASSERT_PTR_NOT_NULL_FATAL(req);
  int n = snprintf(req, 128, "GET /dir HTTP/1.1\r\nHost: localhost\r\nX-Big: ");
  memset(req + n, 'a', big);
  memcpy(req + n + big, "\r\n\r\n", 4);
  char out[4096];
  long got = raw_exchange(req, (size_t)n + big + 4, out, sizeof out);
  /* The server answers 431 and hangs up; a reset may eat the reply, but it must never be a 200. */
  if (got > 0) CU_ASSERT_EQUAL(strncmp(out, "HTTP/1.1 431", 12), 0);
  free(req);
  assert_serving();
}

/* ---------- internals ---------- */

static void test_dns_names(void) {
  const char *type;
  char why[200], *n;
  CU_ASSERT_PTR_NOT_NULL(n = srv_dns_name("Example.COM", 0, &type, why, sizeof why));
  if (n) CU_ASSERT_STRING_EQUAL(n, "example.com");
  free(n);
  CU_ASSERT_PTR_NOT_NULL(n = srv_dns_name("*.xn--bcher-kva.example", 1, &type, why, sizeof why));
  free(n);
  CU_ASSERT_PTR_NULL(srv_dns_name("*.example.com", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("xn--zz.example.com", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("ab--cd.example.com", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("192.0.2.1", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("localhost", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("-a.example.com", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("a..example.com", 0, &type, why, sizeof why));
  CU_ASSERT_PTR_NULL(srv_dns_name("a_b.example.com", 0, &type, why, sizeof why));
  CU_ASSERT_STRING_EQUAL(type, "rejectedIdentifier");
}

/* A second server with tiny caps: old orders are evicted, the server keeps working. */
static void test_caps_evict(void) {
  char dir[] = "/tmp/acmeh-test-server-caps-XXXXXX";
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  acmeh_server_config cfg = {.dns_port = acmeh_mocks_dns_port(M), .http01_port = acmeh_mocks_http01_port(M),
                             .tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), .run_dir = dir, .max_accounts = 2,
                             .max_orders = 3};
  acmeh_server *small = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_server_start(&cfg, &small, ERR, sizeof ERR), ACMEH_OK);
  acmeh_acme *c = acmeh_test_client(small);
  CU_ASSERT_EQUAL(acmeh_flow_new_account(c, ACMEH_KEY_ES256, NULL, NULL, ERR, sizeof ERR), ACMEH_OK);
  char *first = NULL;
  for (int i = 0; i < 8; i++) {
    char name[128], *url = NULL;
    json_t *o = NULL;
    const char *names[] = {fresh_name(name, sizeof name)};
    CU_ASSERT_EQUAL(acmeh_flow_new_order(c, names, 1, &url, &o, ERR, sizeof ERR), ACMEH_OK);
    if (!first) first = url;
    else free(url);
    json_decref(o);
  }
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, first, NULL, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 404); /* evicted */
  acmeh_http_resp_free(&r);
  free(first);
  acmeh_acme_free(c);
  acmeh_server_stop(small);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CU_ASSERT_EQUAL(system(cmd), 0);
}

/* A CSR for `name` with SAN extensions for san1 (and san2 as a second
 * extension when given) and commonName entries cn (len bytes, may hold a
 * NUL) and cn2; base64url DER, malloc'd. */
static char *odd_csr(EVP_PKEY *key, const char *san1, const char *san2, const char *cn, int len, const char *cn2) {
  X509_REQ *req = X509_REQ_new();
  X509_NAME *subj = X509_REQ_get_subject_name(req);
  if (cn) X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC, (const unsigned char *)cn, len, -1, 0);
  if (cn2) X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC, (const unsigned char *)cn2, -1, -1, 0);
  STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
  const char *sans[] = {san1, san2};
  for (int i = 0; i < 2 && sans[i]; i++) {
    char v[256];
    snprintf(v, sizeof v, "DNS:%s", sans[i]);
    sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, v));
  }
  X509_REQ_add_extensions(req, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_set_pubkey(req, key);
  X509_REQ_sign(req, key, EVP_sha256());
  unsigned char *der = NULL;
  int n = i2d_X509_REQ(req, &der);
  char *b64 = n > 0 ? acmeh_b64url_encode(der, (size_t)n) : NULL;
  OPENSSL_free(der);
  X509_REQ_free(req);
  return b64;
}

/* §7.4: the CSR names exactly the order's identifiers, also where OpenSSL
 * would read only part of what it says (found by a bad-input helper: each
 * of these was finalized before). */
static void test_ambiguous_csr_names(void) {
  acmeh_acme *c = account();
  char name[128], err[256];
  const char *names[] = {fresh_name(name, sizeof name)};
  acmeh_issued is = {0};
  CU_ASSERT_EQUAL_FATAL(acmeh_flow_ready_order(c, &PUB, names, 1, "http-01", &is, err, sizeof err), ACMEH_OK);
  const char *fin = json_string_value(json_object_get(is.order, "finalize"));
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char nul_cn[128];
  int nul_len = snprintf(nul_cn, sizeof nul_cn, "%s", name);
  memcpy(nul_cn + nul_len, "\0evil.example.net", 18);
  struct {
    char *csr;
    const char *detail;
  } cases[] = {
      {odd_csr(key, name, "evil.example.net", NULL, -1, NULL), "more than one subjectAltName extension"},
      {odd_csr(key, name, NULL, name, -1, "evil.example.net"), "more than one commonName"},
      {odd_csr(key, name, NULL, nul_cn, nul_len + 17, NULL), "holds a NUL byte"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char payload[2048];
    snprintf(payload, sizeof payload, "{\"csr\":\"%s\"}", cases[i].csr ? cases[i].csr : "");
    acmeh_http_resp r = {0};
    CU_ASSERT_EQUAL(acmeh_acme_post(c, fin, payload, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
    expect_problem(&r, 400, "badCSR");
    json_t *p = acmeh_resp_json(&r);
    const char *d = json_string_value(json_object_get(p, "detail"));
    CU_ASSERT(d && strstr(d, cases[i].detail));
    json_decref(p);
    acmeh_http_resp_free(&r);
    free(cases[i].csr);
  }
  EVP_PKEY_free(key);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
}

static void test_config_refused(void) {
  acmeh_server *s = NULL;
  acmeh_server_config no_dir = {0};
  CU_ASSERT_EQUAL(acmeh_server_start(&no_dir, &s, ERR, sizeof ERR), ACMEH_INVALID_ARG);
  acmeh_server_config public_addr = {.bind_addr = "0.0.0.0", .run_dir = RUN_DIR};
  CU_ASSERT_EQUAL(acmeh_server_start(&public_addr, &s, ERR, sizeof ERR), ACMEH_INVALID_ARG);
  /* http01_token: the deviation may be any visible text, but not break framing */
  acmeh_server_config spaced = {.run_dir = RUN_DIR, .http01_token = "a b"}, empty = {.run_dir = RUN_DIR, .http01_token = ""};
  CU_ASSERT_EQUAL(acmeh_server_start(&spaced, &s, ERR, sizeof ERR), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_server_start(&empty, &s, ERR, sizeof ERR), ACMEH_INVALID_ARG);
  CU_ASSERT_PTR_NULL(s);
}

/* ---------- wiring ---------- */

static int suite_init(void) {
  if (!mkdtemp(RUN_DIR)) return -1;
  acmeh_mocks_config mc = {.mgmt_port = -1};
  if (acmeh_mocks_start(&mc, &M, ERR, sizeof ERR)) return fprintf(stderr, "mocks: %s\n", ERR), -1;
  acmeh_publisher_mocks(&PUB, M);
  acmeh_server_config sc = {.dns_port = acmeh_mocks_dns_port(M), .http01_port = acmeh_mocks_http01_port(M),
                            .tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), .run_dir = RUN_DIR};
  if (acmeh_server_start(&sc, &S, ERR, sizeof ERR)) return fprintf(stderr, "server: %s\n", ERR), -1;
  return 0;
}

static int suite_clean(void) {
  acmeh_server_stop(S);
  acmeh_mocks_stop(M);
  acmeh_test_rmtree(RUN_DIR);
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* raw_exchange keeps writing after the server hung up on purpose */
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const acmeh_unit_test tests[] = {
      {"issue via http-01, revoke, alreadyRevoked", test_issue_http01},
      {"issue via dns-01, revoke", test_issue_dns01},
      {"issue via tls-alpn-01, revoke", test_issue_tlsalpn01},
      {"wildcard order and alternate chain", test_wildcard_and_alternate},
      {"pre-authorization reused by newOrder", test_preauthorization},
      {"keyChange then deactivation", test_key_change_and_deactivation},
      {"revocation by an account authorized for the names", test_revoke_by_authorized_account},
      {"orders list pagination", test_orders_pagination},
      {"failed validations: invalid with a problem", test_failed_validations},
      {"invalid JWS and media type", test_invalid_jws},
      {"16384-bit RSA jwk refused by its size, at once", test_huge_rsa_jwk},
      {"newOrder refusals carry subproblems", test_rejected_identifiers},
      {"ip identifiers (RFC 8738)", test_ip_identifiers},
      {"unknown URL, plain GET, HEAD newNonce", test_unknown_url_and_plain_get},
      {"malformed HTTP", test_malformed_http},
      {"1 MB header", test_huge_header},
      {"DNS name validation", test_dns_names},
      {"caps evict old orders", test_caps_evict},
      {"bad configs refused", test_config_refused},
      {"CSR names OpenSSL would half-read: refused", test_ambiguous_csr_names},
  };
  int rc = acmeh_unit_run("server", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
  curl_global_cleanup();
  return rc;
}
