/* Unit tests for the reference server's ARI (RFC 9773) and profiles
 * (draft-ietf-acme-profiles) support, in-process with the mocks: renewalInfo
 * found / 404 / 400, windows moved by the management endpoint, revoked
 * certificates, newOrder "replaces" refusals (409 alreadyReplaced and the
 * rest), profile echo, invalidProfile, retired profiles at finalize, and the
 * validity and extendedKeyUsage each profile gives the certificate. */
#include "harness/acme/ari.h"
#include "harness/acme/cert.h"
#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/fault.h"
#include "harness/server/server.h"
#include "mocks/mocks.h"
#include "tests/unit/support/server_client.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <math.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static acmeh_mocks *M;
static acmeh_publisher PUB; /* the reference client publishes into M */
static acmeh_server *S;
static char RUN_DIR[] = "/tmp/acmeh-test-server-ari-XXXXXX";
static char ERR[1024];
static int NAME_SEQ;

/* ---------- helpers ---------- */

static const char *fresh_name(char *buf, size_t len) {
  snprintf(buf, len, "a%d-%d.ari-test.example", (int)getpid(), NAME_SEQ++);
  return buf;
}


static void expect_problem(const acmeh_http_resp *r, long status, const char *type) {
  char got[128];
  acmeh_resp_problem(r, got, sizeof got);
  if (r->status != status || strcmp(got, type) != 0) fprintf(stderr, "\n  want %ld %s, got %ld %s\n", status, type, r->status, r->body);
  CU_ASSERT_EQUAL(r->status, status);
  CU_ASSERT_STRING_EQUAL(got, type);
}

/* newOrder for `name` with extra payload members `extra` (e.g. ",\"profile\":\"x\"" or ""). */
static int new_order(acmeh_acme *c, const char *name, const char *extra, acmeh_http_resp *r) {
  char payload[1024];
  snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]%s}", name, extra);
  return acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, r, ERR, sizeof ERR);
}

/* Authorizes and finalizes the order a 201 newOrder response `r` created. */
static int complete(acmeh_acme *c, const acmeh_http_resp *r, const char *name, acmeh_issued *is) {
  memset(is, 0, sizeof *is);
  is->order = acmeh_resp_json(r);
  const char *loc = acmeh_http_header_get(r, "Location");
  is->order_url = loc ? strdup(loc) : NULL;
  json_t *az = json_array_get(json_object_get(is->order, "authorizations"), 0);
  json_t *final = NULL;
  int rc = az ? acmeh_flow_authorize(c, &PUB, json_string_value(az), "http-01", &final, ERR, sizeof ERR) : ACMEH_PEER_PROTOCOL;
  json_decref(final);
  acmeh_key *k = NULL;
  char *csr = NULL;
  const char *names[] = {name};
  if (!rc && (acmeh_key_generate(ACMEH_KEY_ES256, &k) || acmeh_csr_build(acmeh_key_pkey(k), names, 1, &csr)))
    rc = ACMEH_INTERNAL;
  if (!rc) {
    static const char *const waiting[] = {"pending"};
    json_t *o = NULL;
    rc = acmeh_flow_poll(c, is->order_url, waiting, 1, &o, ERR, sizeof ERR);
    if (o) json_decref(is->order), is->order = o;
  }
  if (!rc) rc = acmeh_flow_finalize(c, is, csr, ERR, sizeof ERR);
  if (rc) fprintf(stderr, "complete: %s\n", ERR);
  free(csr);
  acmeh_key_free(k);
  return rc;
}

/* Issues a certificate for a fresh name with newOrder extras `extra`. */
static int issue(acmeh_acme *c, const char *extra, char *name, size_t namelen, acmeh_issued *is) {
  acmeh_http_resp r;
  fresh_name(name, namelen);
  int rc = new_order(c, name, extra, &r);
  if (!rc && r.status != 201) rc = ACMEH_PEER_PROTOCOL, fprintf(stderr, "newOrder: %ld %s\n", r.status, r.body);
  if (!rc) rc = complete(c, &r, name, is);
  acmeh_http_resp_free(&r);
  return rc;
}

static X509 *leaf_of(const acmeh_issued *is) {
  STACK_OF(X509) *chain = NULL;
  if (acmeh_pem_chain_parse(is->chain_pem, strlen(is->chain_pem), &chain, NULL, 0)) return NULL;
  X509 *x = sk_X509_shift(chain);
  sk_X509_pop_free(chain, X509_free);
  return x;
}

static char *cert_id_of(const acmeh_issued *is) {
  char *id = NULL;
  acmeh_ari_cert_id_pem(is->chain_pem, strlen(is->chain_pem), &id, ERR, sizeof ERR);
  return id;
}

/* Plain GET of {renewalInfo}/{cert_id} on the server c talks to. */
static int get_ari(acmeh_acme *c, const char *cert_id, acmeh_http_resp *r) {
  char *url = acmeh_ari_url(acmeh_acme_dir_url(c, "renewalInfo"), cert_id);
  int rc = acmeh_http_request(acmeh_acme_http(c), "GET", url, NULL, NULL, 0, NULL, r, ERR, sizeof ERR);
  free(url);
  return rc;
}

/* POSTs JSON `body` to the management endpoint /acmeh/<what> of S. */
static long mgmt(acmeh_acme *c, const char *what, const char *body) {
  char url[512];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/acmeh/%s", acmeh_server_port(S), what);
  acmeh_http_resp r;
  long st = acmeh_http_request(acmeh_acme_http(c), "POST", url, "application/json", body, strlen(body), NULL, &r, ERR,
                               sizeof ERR)
                ? -1
                : r.status;
  acmeh_http_resp_free(&r);
  return st;
}

static int window_of(acmeh_acme *c, const char *cert_id, acmeh_ari_window *w, double *retry) {
  acmeh_http_resp r;
  int rc = get_ari(c, cert_id, &r);
  json_t *j = rc ? NULL : acmeh_resp_json(&r);
  if (!rc && r.status != 200) rc = ACMEH_PEER_PROTOCOL;
  if (!rc) rc = acmeh_ari_window_parse(j, w, ERR, sizeof ERR);
  const char *ra = acmeh_http_header_get(&r, "Retry-After");
  if (!rc && retry) rc = acmeh_retry_after_parse(ra, acmeh_now_wall(), retry);
  json_decref(j);
  acmeh_http_resp_free(&r);
  return rc;
}

static double asn1_epoch(const ASN1_TIME *t) {
  struct tm tm;
  return ASN1_TIME_to_tm(t, &tm) ? (double)timegm(&tm) : 0;
}

/* ---------- renewalInfo ---------- */

static void test_directory(void) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL(acmeh_acme_dir_url(c, "renewalInfo"));
  const json_t *p = NULL;
  CU_ASSERT_EQUAL(acmeh_profiles_from_directory(acmeh_acme_dir(c), &p, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_PTR_NOT_NULL(json_object_get(p, "classic"));
  CU_ASSERT_PTR_NOT_NULL(json_object_get(p, "shortlived"));
  acmeh_acme_free(c);
}

static void test_renewal_info(void) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128];
  acmeh_issued is;
  CU_ASSERT_EQUAL_FATAL(issue(c, "", name, sizeof name, &is), ACMEH_OK);
  char *id = cert_id_of(&is);
  X509 *x = leaf_of(&is);
  CU_ASSERT_PTR_NOT_NULL_FATAL(id);
  char aki_part[128], serial_part[128];
  snprintf(aki_part, sizeof aki_part, "%.*s", (int)strcspn(id, "."), id);
  snprintf(serial_part, sizeof serial_part, "%s", id + strcspn(id, "."));
  double nb = asn1_epoch(X509_get0_notBefore(x)), na = asn1_epoch(X509_get0_notAfter(x)), retry = 0;
  acmeh_ari_window w = {0};
  CU_ASSERT_EQUAL(window_of(c, id, &w, &retry), ACMEH_OK);
  CU_ASSERT(fabs(retry - 21600) < 2);
  double ideal = na - (na - nb) / 3; /* the default: a day on each side of two thirds */
  CU_ASSERT(fabs(w.start - (ideal - 86400)) < 2 && fabs(w.end - (ideal + 86400)) < 2);
  CU_ASSERT_PTR_NULL(w.explanation_url);
  acmeh_ari_window_clear(&w);
  /* POST-as-GET works too */
  acmeh_http_resp r;
  char *url = acmeh_ari_url(acmeh_acme_dir_url(c, "renewalInfo"), id);
  CU_ASSERT_EQUAL(acmeh_acme_post(c, url, NULL, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  acmeh_http_resp_free(&r);
  free(url);
  /* known AKI, unknown serial -> 404; malformed -> 400 */
  char unknown[256];
  snprintf(unknown, sizeof unknown, "%s.AQIDBAUGBwgJCgsMDQ4PEA", aki_part);
  CU_ASSERT_EQUAL(get_ari(c, unknown, &r), ACMEH_OK);
  expect_problem(&r, 404, "malformed");
  acmeh_http_resp_free(&r);
  static const char *const bad[] = {"nodot", "aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE=", "a.b.c", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.h2VDIQ"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CU_ASSERT_EQUAL(get_ari(c, bad[i], &r), ACMEH_OK);
    expect_problem(&r, 400, "malformed");
    acmeh_http_resp_free(&r);
  }
  /* another CA's keyIdentifier with our serial -> 404 */
  snprintf(unknown, sizeof unknown, "aYhba4dGQEHhs3uEe6CuLN4ByNQ%s", serial_part);
  CU_ASSERT_EQUAL(get_ari(c, unknown, &r), ACMEH_OK);
  expect_problem(&r, 404, "malformed");
  acmeh_http_resp_free(&r);
  X509_free(x);
  free(id);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
}

static void test_window_moves(void) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128], name2[128], body[1024];
  acmeh_issued is, is2;
  CU_ASSERT_EQUAL_FATAL(issue(c, "", name, sizeof name, &is), ACMEH_OK);
  CU_ASSERT_EQUAL_FATAL(issue(c, "", name2, sizeof name2, &is2), ACMEH_OK);
  char *id = cert_id_of(&is), *id2 = cert_id_of(&is2);
  snprintf(body, sizeof body,
           "{\"certID\":\"%s\",\"start\":\"2030-01-02T04:00:00Z\",\"end\":\"2030-01-03T04:00:00.5+00:00\","
           "\"explanationURL\":\"https://ca.example/incident\",\"retryAfter\":120}", id);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", body), 200);
  acmeh_ari_window w = {0};
  double retry = 0, now = acmeh_now_wall();
  CU_ASSERT_EQUAL(window_of(c, id, &w, &retry), ACMEH_OK);
  CU_ASSERT_EQUAL(w.start, 1893556800.0);
  CU_ASSERT_EQUAL(w.end, 1893643200.0); /* whole seconds on the wire */
  CU_ASSERT(w.explanation_url && strcmp(w.explanation_url, "https://ca.example/incident") == 0);
  CU_ASSERT(fabs(retry - 120) < 2);
  acmeh_ari_window_clear(&w);
  /* every certificate: a past window; the per-certificate one still wins */
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"past\":true}"), 200);
  CU_ASSERT_EQUAL(window_of(c, id2, &w, NULL), ACMEH_OK);
  CU_ASSERT(w.end < now && w.start < w.end);
  acmeh_ari_window_clear(&w);
  CU_ASSERT_EQUAL(window_of(c, id, &w, NULL), ACMEH_OK);
  CU_ASSERT_EQUAL(w.start, 1893556800.0);
  acmeh_ari_window_clear(&w);
  /* offsets from now */
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"start_offset\":3600,\"end_offset\":7200}"), 200);
  CU_ASSERT_EQUAL(window_of(c, id2, &w, NULL), ACMEH_OK);
  CU_ASSERT(fabs(w.start - (now + 3600)) < 5 && fabs(w.end - (now + 7200)) < 5);
  acmeh_ari_window_clear(&w);
  /* an invalid window only on request, then the client sees end <= start */
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"start_offset\":7200,\"end_offset\":3600}"), 400);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"start_offset\":7200,\"end_offset\":3600,\"allow_invalid\":true}"), 200);
  CU_ASSERT_EQUAL(window_of(c, id2, &w, NULL), ACMEH_PEER_PROTOCOL);
  acmeh_ari_window_clear(&w);
  /* refusals and reset */
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"certID\":\"nodot\",\"past\":true}"), 400);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{}"), 400);
  /* windows renewalInfo could not print as RFC 3339 */
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"start_offset\":1e300,\"end_offset\":2e300}"), 400);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"start\":\"2030-01-01T00:00:00Z\",\"end\":\"9999-12-31T23:59:60Z\"}"), 400);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"start\":\"0000-01-01T00:00:00Z\",\"end\":\"2030-01-01T00:00:00Z\"}"), 400);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "not json"), 400);
  CU_ASSERT_EQUAL(mgmt(c, "nothing", "{}"), 404);
  CU_ASSERT_EQUAL(mgmt(c, "ari-window", "{\"reset\":true}"), 200);
  CU_ASSERT_EQUAL(window_of(c, id, &w, NULL), ACMEH_OK);
  CU_ASSERT(w.start > now + 30 * 86400.0); /* back to the default */
  acmeh_ari_window_clear(&w);
  free(id), free(id2);
  acmeh_issued_clear(&is), acmeh_issued_clear(&is2);
  acmeh_acme_free(c);
}

static void test_revoked_past(void) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128];
  acmeh_issued is;
  CU_ASSERT_EQUAL_FATAL(issue(c, "", name, sizeof name, &is), ACMEH_OK);
  X509 *x = leaf_of(&is);
  char *der = acmeh_cert_b64url_der(x), payload[4096], *id = cert_id_of(&is);
  snprintf(payload, sizeof payload, "{\"certificate\":\"%s\"}", der);
  acmeh_http_resp r;
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_dir_url(c, "revokeCert"), payload, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  acmeh_http_resp_free(&r);
  acmeh_ari_window w = {0};
  CU_ASSERT_EQUAL(window_of(c, id, &w, NULL), ACMEH_OK);
  CU_ASSERT(w.end < acmeh_now_wall());
  acmeh_ari_window_clear(&w);
  free(der), free(id);
  X509_free(x);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
}

/* ---------- replaces ---------- */

static void deactivate_first_authz(acmeh_acme *c, const json_t *order) {
  const char *az = json_string_value(json_array_get(json_object_get(order, "authorizations"), 0));
  acmeh_http_resp r;
  CU_ASSERT_EQUAL(acmeh_acme_post(c, az, "{\"status\":\"deactivated\"}", NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  acmeh_http_resp_free(&r);
}

static void test_replaces(void) {
  acmeh_acme *c = acmeh_test_account(S), *other = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(other);
  char name[128], extra[512], other_name[128];
  acmeh_issued is;
  CU_ASSERT_EQUAL_FATAL(issue(c, "", name, sizeof name, &is), ACMEH_OK);
  char *id = cert_id_of(&is);
  snprintf(extra, sizeof extra, ",\"replaces\":\"%s\"", id);
  acmeh_http_resp r, r2;
  /* another account, then no name in common, then malformed and unknown */
  CU_ASSERT_EQUAL(new_order(other, name, extra, &r), ACMEH_OK);
  expect_problem(&r, 403, "unauthorized");
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(new_order(c, fresh_name(other_name, sizeof other_name), extra, &r), ACMEH_OK);
  expect_problem(&r, 400, "malformed");
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(new_order(c, name, ",\"replaces\":\"nodot\"", &r), ACMEH_OK);
  expect_problem(&r, 400, "malformed");
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(new_order(c, name, ",\"replaces\":42", &r), ACMEH_OK);
  expect_problem(&r, 400, "malformed");
  acmeh_http_resp_free(&r);
  /* accepted: echoed in the order and its later fetches */
  CU_ASSERT_EQUAL_FATAL(new_order(c, name, extra, &r), ACMEH_OK);
  CU_ASSERT_EQUAL_FATAL(r.status, 201);
  json_t *o = acmeh_resp_json(&r), *again = NULL;
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "replaces")), id);
  CU_ASSERT_EQUAL(acmeh_acme_get_json(c, acmeh_http_header_get(&r, "Location"), &again, NULL, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(again, "replaces")), id);
  /* the pending replacement blocks a second one: 409 */
  CU_ASSERT_EQUAL(new_order(c, name, extra, &r2), ACMEH_OK);
  expect_problem(&r2, 409, "alreadyReplaced");
  acmeh_http_resp_free(&r2);
  /* once that order is invalid, the certificate may be replaced again */
  deactivate_first_authz(c, o);
  CU_ASSERT_EQUAL(new_order(c, name, extra, &r2), ACMEH_OK);
  CU_ASSERT_EQUAL(r2.status, 201);
  acmeh_http_resp_free(&r2);
  json_decref(o), json_decref(again);
  acmeh_http_resp_free(&r);
  free(id);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c), acmeh_acme_free(other);
}

/* ---------- profiles ---------- */

static void check_profile_cert(const char *profile, double validity, uint32_t eku) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128], extra[128] = "";
  if (profile) snprintf(extra, sizeof extra, ",\"profile\":\"%s\"", profile);
  acmeh_issued is;
  CU_ASSERT_EQUAL_FATAL(issue(c, extra, name, sizeof name, &is), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_order_profile_check(is.order, profile ? profile : "classic", ERR, sizeof ERR), ACMEH_OK);
  X509 *x = leaf_of(&is);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  double v = asn1_epoch(X509_get0_notAfter(x)) - asn1_epoch(X509_get0_notBefore(x));
  if (fabs(v - validity) > 1) fprintf(stderr, "\n  %s validity %.0f, want %.0f\n", profile, v, validity);
  CU_ASSERT(fabs(v - validity) <= 1);
  CU_ASSERT_EQUAL(X509_get_extended_key_usage(x) & (XKU_SSL_SERVER | XKU_SSL_CLIENT), eku);
  X509_free(x);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
}

static void test_profile_certs(void) {
  check_profile_cert("shortlived", 576000, XKU_SSL_SERVER);
  check_profile_cert("classic", 7776000, XKU_SSL_SERVER | XKU_SSL_CLIENT);
  check_profile_cert(NULL, 7776000, XKU_SSL_SERVER | XKU_SSL_CLIENT); /* the default, echoed */
}

static void test_invalid_and_retired(void) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char name[128];
  acmeh_http_resp r;
  CU_ASSERT_EQUAL(new_order(c, fresh_name(name, sizeof name), ",\"profile\":\"no-such-profile\"", &r), ACMEH_OK);
  expect_problem(&r, 400, "invalidProfile");
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(new_order(c, name, ",\"profile\":7", &r), ACMEH_OK);
  expect_problem(&r, 400, "malformed");
  acmeh_http_resp_free(&r);
  /* an order made while shortlived was offered, finalized after it was retired */
  CU_ASSERT_EQUAL_FATAL(new_order(c, name, ",\"profile\":\"shortlived\"", &r), ACMEH_OK);
  CU_ASSERT_EQUAL_FATAL(r.status, 201);
  acmeh_issued is;
  CU_ASSERT_EQUAL(mgmt(c, "profiles", "{\"retire\":\"shortlived\"}"), 200);
  CU_ASSERT_NOT_EQUAL(complete(c, &r, name, &is), ACMEH_OK);
  CU_ASSERT_PTR_NOT_NULL(strstr(ERR, "invalidProfile"));
  acmeh_http_resp_free(&r);
  CU_ASSERT_EQUAL(new_order(c, name, ",\"profile\":\"shortlived\"", &r), ACMEH_OK);
  expect_problem(&r, 400, "invalidProfile");
  acmeh_http_resp_free(&r);
  acmeh_acme *fresh = acmeh_test_account(S); /* its directory no longer lists shortlived */
  const json_t *p = NULL;
  CU_ASSERT_EQUAL(acmeh_profiles_from_directory(acmeh_acme_dir(fresh), &p, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_PTR_NULL(json_object_get(p, "shortlived"));
  CU_ASSERT_EQUAL(mgmt(c, "profiles", "{\"restore\":\"shortlived\"}"), 200);
  CU_ASSERT_EQUAL(mgmt(c, "profiles", "{\"retire\":\"nope\"}"), 404);
  acmeh_issued_clear(&is);
  acmeh_acme_free(fresh);
  acmeh_acme_free(c);
}

/* ---------- other configurations ---------- */

static acmeh_server *start_with(acmeh_server_config *sc) {
  sc->dns_port = acmeh_mocks_dns_port(M), sc->http01_port = acmeh_mocks_http01_port(M);
  sc->tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), sc->run_dir = RUN_DIR;
  acmeh_server *s = NULL;
  if (acmeh_server_start(sc, &s, ERR, sizeof ERR)) fprintf(stderr, "server: %s\n", ERR);
  return s;
}

static void test_configs(void) {
  json_t *none = json_object();
  acmeh_server_config off = {.ari = {.off = 1}, .profiles = none};
  acmeh_server *s = start_with(&off);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  acmeh_acme *c = acmeh_test_account(s);
  CU_ASSERT_PTR_NULL(acmeh_acme_dir_url(c, "renewalInfo"));
  CU_ASSERT_EQUAL(acmeh_profiles_from_directory(acmeh_acme_dir(c), NULL, NULL, 0), ACMEH_UNSUPPORTED);
  char name[128];
  acmeh_http_resp r;
  CU_ASSERT_EQUAL(new_order(c, fresh_name(name, sizeof name), ",\"profile\":\"classic\",\"replaces\":\"a.b\"", &r), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 201); /* unknown members ignored, nothing echoed */
  json_t *o = acmeh_resp_json(&r);
  CU_ASSERT_PTR_NULL(json_object_get(o, "profile"));
  CU_ASSERT_PTR_NULL(json_object_get(o, "replaces"));
  json_decref(o);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  acmeh_server_stop(s);
  json_decref(none);

  json_t *faults = json_loads("[{\"name\":\"ari-503\",\"match\":{\"resource\":\"renewalInfo\"},"
                              "\"action\":{\"status\":503,\"retry_after\":\"120\"}},"
                              "{\"name\":\"ari-invalid\",\"match\":{\"resource\":\"renewalInfo\",\"nth\":2},"
                              "\"action\":{\"ari_window\":{\"start_offset\":7200,\"end_offset\":3600}}}]", 0, NULL);
  acmeh_server_config policy = {.ari = {.window = ACMEH_ARI_WINDOW_FROM_NOT_BEFORE, .start_offset = 60,
                                        .end_offset = 120, .explanation_url = "https://ca.example/why"},
                                .faults = faults};
  s = start_with(&policy);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  c = acmeh_test_account(s);
  acmeh_issued is;
  CU_ASSERT_EQUAL_FATAL(issue(c, "", name, sizeof name, &is), ACMEH_OK);
  char *id = cert_id_of(&is);
  CU_ASSERT_EQUAL(get_ari(c, id, &r), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 503);
  const char *ra = acmeh_http_header_get(&r, "Retry-After");
  CU_ASSERT(ra && strcmp(ra, "120") == 0);
  json_t *j = acmeh_resp_json(&r);
  acmeh_ari_window w = {0};
  CU_ASSERT_EQUAL(acmeh_ari_window_parse(j, &w, ERR, sizeof ERR), ACMEH_OK); /* the body is still the window */
  X509 *x = leaf_of(&is);
  CU_ASSERT_EQUAL(w.start, asn1_epoch(X509_get0_notBefore(x)) + 60);
  CU_ASSERT(w.explanation_url && strcmp(w.explanation_url, "https://ca.example/why") == 0);
  acmeh_ari_window_clear(&w);
  X509_free(x);
  json_decref(j);
  acmeh_http_resp_free(&r);
  double now = acmeh_now_wall(); /* the second fetch: the fault's invalid window */
  CU_ASSERT_EQUAL(get_ari(c, id, &r), ACMEH_OK);
  j = acmeh_resp_json(&r);
  double t = 0;
  CU_ASSERT_EQUAL(acmeh_rfc3339_parse(json_string_value(json_object_get(json_object_get(j, "suggestedWindow"), "start")), &t), ACMEH_OK);
  CU_ASSERT(fabs(t - (now + 7200)) < 5);
  CU_ASSERT_EQUAL(acmeh_ari_window_parse(j, &w, ERR, sizeof ERR), ACMEH_PEER_PROTOCOL);
  acmeh_ari_window_clear(&w);
  json_decref(j);
  acmeh_http_resp_free(&r);
  free(id);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
  acmeh_server_stop(s);
  json_decref(faults);
  json_t *no_res = json_loads("[{\"name\":\"w\",\"action\":{\"ari_window\":{\"start_offset\":1,\"end_offset\":2}}}]", 0, NULL);
  CU_ASSERT_EQUAL(acmeh_faults_validate(no_res, ERR, sizeof ERR), ACMEH_INVALID_ARG);
  CU_ASSERT_PTR_NOT_NULL(strstr(ERR, "renewalInfo"));
  json_decref(no_res);

  acmeh_server_config bad_window = {.ari = {.window = ACMEH_ARI_WINDOW_FROM_NOW, .start_offset = 10, .end_offset = 5}};
  CU_ASSERT_PTR_NULL(start_with(&bad_window));
  acmeh_server_config far_window = {.ari = {.window = ACMEH_ARI_WINDOW_FROM_NOW, .start_offset = 0, .end_offset = 1e300}};
  CU_ASSERT_PTR_NULL(start_with(&far_window));
  json_t *bad = json_loads("{\"x\":{\"description\":\"d\",\"validity\":1}}", 0, NULL);
  acmeh_server_config bad_profile = {.profiles = bad};
  CU_ASSERT_PTR_NULL(start_with(&bad_profile));
  json_decref(bad);
}

/* ---------- wiring ---------- */

static int suite_init(void) {
  if (!mkdtemp(RUN_DIR)) return -1;
  acmeh_mocks_config mc = {.mgmt_port = -1};
  if (acmeh_mocks_start(&mc, &M, ERR, sizeof ERR)) return fprintf(stderr, "mocks: %s\n", ERR), -1;
  acmeh_publisher_mocks(&PUB, M);
  acmeh_server_config sc = {0};
  S = start_with(&sc);
  return S ? 0 : -1;
}

static int suite_clean(void) {
  acmeh_server_stop(S);
  acmeh_mocks_stop(M);
  acmeh_test_rmtree(RUN_DIR);
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const acmeh_unit_test tests[] = {
      {"directory: renewalInfo and meta.profiles", test_directory},
      {"renewalInfo: default window, 404, 400", test_renewal_info},
      {"management endpoint moves windows", test_window_moves},
      {"revoked certificate: window in the past", test_revoked_past},
      {"replaces: refusals, echo, 409, freed by an invalid order", test_replaces},
      {"profiles: validity and EKU of issued certificates", test_profile_certs},
      {"profiles: invalidProfile, retired at finalize", test_invalid_and_retired},
      {"ARI/profiles off, config policy, renewalInfo fault, bad configs", test_configs},
  };
  int rc = acmeh_unit_run("server_ari", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
  curl_global_cleanup();
  return rc;
}
