/* Authority tokens (harness/acme/atc.h) and the mock token authority
 * (mocks/token-authority/ta.h): the DER vectors of vectors/tkauth/, token
 * splitting on bad input, and every fault of the mock as the server's
 * validation (RFC 9448 §6) sees it. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/acme/atc.h"
#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/csr.h"
#include "harness/client/tkauth.h"
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "mocks/token-authority/ta.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"
#include "tests/unit/support/vectors.h"

static json_t *g_vectors;
static char g_dir[64];
static acmeh_ta *g_ta;
static acmeh_key *g_acct;
static char g_thumb[44], g_fp[ACMEH_ATC_FP_LEN];

#define SPC1234 "MAigBhYEMTIzNA"
#define ATTEST "MBahFDASMBAWBmF0dGVzdDAGDAFBDAFC"

static int suite_init(void) {
  g_vectors = json_array();
  if (acmeh_test_vectors_load(g_vectors, "tkauth") != 0) return -1;
  snprintf(g_dir, sizeof g_dir, "/tmp/acmeh-atc-XXXXXX");
  if (!mkdtemp(g_dir)) return -1;
  char err[256];
  acmeh_ta_config cfg = {.run_dir = g_dir, .mgmt_port = -1};
  if (acmeh_ta_start(&cfg, &g_ta, err, sizeof err) != ACMEH_OK) return fprintf(stderr, "%s\n", err), -1;
  json_t *vals = json_pack("[s,s]", SPC1234, ATTEST);
  int rc = acmeh_ta_add_account(g_ta, "acct1", "s3cret", vals, 0);
  json_decref(vals);
  if (rc || acmeh_key_generate(ACMEH_KEY_ES256, &g_acct) || acmeh_key_thumbprint(g_acct, g_thumb)) return -1;
  return acmeh_atc_fingerprint(g_thumb, g_fp) == ACMEH_OK ? 0 : -1;
}

static int suite_clean(void) {
  acmeh_ta_stop(g_ta);
  acmeh_key_free(g_acct);
  json_decref(g_vectors);
  return acmeh_test_rmtree(g_dir);
}

static unsigned char *unhex(const char *h, size_t *n) {
  *n = strlen(h) / 2;
  unsigned char *b = malloc(*n + 1);
  for (size_t i = 0; i < *n; i++) sscanf(h + 2 * i, "%2hhx", &b[i]);
  return b;
}

static acmeh_atc_der_kind kind_of(const json_t *v) {
  const char *op = sget(vin(v), "op"), *k = sget(vin(v), "kind");
  if (streq(op, "jwtclaimcon")) return streq(k, "enhanced") ? ACMEH_DER_EJCC : ACMEH_DER_JCC;
  return ACMEH_DER_TNAUTHLIST;
}

/* The templates build the digest's DER from the description, and the checker agrees on validity. */
static void one_der(const json_t *v) {
  unsigned char *der = NULL;
  size_t len = 0;
  char why[200];
  acmeh_atc_der_kind k = kind_of(v);
  VCHECK(acmeh_atc_der_build(k, json_object_get(vin(v), "description"), &der, &len, why, sizeof why) == ACMEH_OK, v);
  char *hex = der ? acmeh_test_hex(der, len) : NULL, *val = der ? acmeh_atc_value(der, len) : NULL;
  VCHECK(streq(hex, sget(vexp(v), "der")), v);
  VCHECK(streq(val, sget(vexp(v), "value")), v);
  int valid = json_is_true(json_object_get(vexp(v), "valid"));
  VCHECK((acmeh_atc_der_check(k, der, len, why, sizeof why) == ACMEH_OK) == valid, v);
  if (!valid && sget(vexp(v), "reason")) VCHECK(strstr(why, sget(vexp(v), "reason")) != NULL, v);
  if (k != ACMEH_DER_TNAUTHLIST && valid) VCHECK(acmeh_atc_jcc_kind(der, len) == (int)k, v);
  free(der), free(hex), free(val);
}

static void test_der(void) {
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "tnauthlist", one_der) >= 4);
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "jwtclaimcon", one_der) >= 6);
}

static void one_bad(const json_t *v) {
  size_t n;
  unsigned char *der = unhex(sget(vin(v), "der"), &n);
  char why[200];
  VCHECK(acmeh_atc_der_check(ACMEH_DER_TNAUTHLIST, der, n, why, sizeof why) == ACMEH_PEER_PROTOCOL, v);
  free(der);
}

static void test_der_bad(void) { CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "tnauthlist_bad", one_bad) >= 5); }

static void one_fp(const json_t *v) {
  char fp[ACMEH_ATC_FP_LEN];
  VCHECK(acmeh_atc_fingerprint(sget(vin(v), "thumbprint"), fp) == ACMEH_OK && streq(fp, sget(vexp(v), "fingerprint")), v);
}

static void one_value(const json_t *v) {
  unsigned char *der = NULL;
  size_t n;
  char why[200];
  VCHECK(acmeh_atc_value_decode(sget(vin(v), "value"), &der, &n, why, sizeof why) == ACMEH_PEER_PROTOCOL, v);
  free(der);
}

static void test_fingerprint_values(void) {
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "fingerprint", one_fp) == 1);
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "value", one_value) == 2);
}

/* ---- token splitting on bad input --------------------------------------- */

static int parse_fails(const char *tok, const char *want) {
  acmeh_atc_token t;
  char why[200] = "";
  int rc = acmeh_atc_token_parse(tok, &t, why, sizeof why);
  acmeh_atc_token_free(&t);
  if (rc == ACMEH_OK || !strstr(why, want)) fprintf(stderr, "\n  parse: got \"%s\", want \"%s\"\n", why, want);
  return rc == ACMEH_PEER_PROTOCOL && strstr(why, want);
}

static char *b64(const char *s) { return acmeh_b64url_encode((const unsigned char *)s, strlen(s)); }

static void test_parse_bad(void) {
  char *h = b64("{\"alg\":\"none\"}"), *p = b64("{}"), *tok = NULL;
  CU_ASSERT(parse_fails("a.b", "compact JWS"));
  CU_ASSERT(parse_fails("e30=.e30.AAAA", "not base64url"));
  CU_ASSERT(asprintf(&tok, "%s.%s.AAAA", h, p) > 0 && parse_fails(tok, "alg none"));
  free(tok), free(h);
  /* 10,000 nested arrays in the header */
  char *deep = malloc(20002);
  memset(deep, '[', 10000), memset(deep + 10000, ']', 10000), deep[20000] = 0;
  h = b64(deep);
  CU_ASSERT(asprintf(&tok, "%s.%s.AAAA", h, p) > 0 && parse_fails(tok, "deeper than"));
  free(tok), free(h), free(deep);
  /* a header over the token cap */
  char *huge = malloc(ACMEH_ATC_MAX_TOKEN + 10);
  memset(huge, 'A', ACMEH_ATC_MAX_TOKEN + 9), huge[ACMEH_ATC_MAX_TOKEN + 9] = 0;
  CU_ASSERT(parse_fails(huge, "too many"));
  free(huge), free(p);
}

/* ---- the mock token authority and the validation steps ------------------ */

static char *get_token(const char *value, const char *tktype, int ca, char *why, size_t whylen) {
  acmeh_atc_request r = {.ta_url = acmeh_ta_url(g_ta), .account = "acct1", .secret = "s3cret",
                         .ca_file = acmeh_ta_tls_ca_file(g_ta), .tktype = tktype, .tkvalue = value,
                         .fingerprint = g_fp, .ca = ca};
  char *tok = NULL;
  if (acmeh_atc_fetch(&r, &tok, why, whylen) != ACMEH_OK) fprintf(stderr, "\n  fetch: %s\n", why);
  return tok;
}

/* Validates a token fetched under `fault`; returns the rc, why in why. */
static int validate_under(const char *fault, const char *value, const char *tktype, acmeh_atc_result *res, char *why,
                          size_t whylen) {
  CU_ASSERT_FATAL(acmeh_ta_set_fault(g_ta, fault) == ACMEH_OK);
  char *tok = get_token(value, tktype, 0, why, whylen);
  acmeh_ta_set_fault(g_ta, "");
  if (!tok) return ACMEH_INTERNAL;
  acmeh_atc_expect e = {.tktype = tktype, .tkvalue = value, .thumb = g_thumb,
                        .trust_file = acmeh_ta_trust_file(g_ta), .x5u_ca_file = acmeh_ta_tls_ca_file(g_ta),
                        .now = acmeh_now_wall(), .x5u_timeout_ms = 3000};
  int rc = acmeh_atc_validate(tok, &e, res, why, whylen);
  free(tok);
  return rc;
}

static void test_ta_valid(void) {
  acmeh_atc_result r, r2;
  char why[300];
  CU_ASSERT(validate_under("", SPC1234, ACMEH_ATC_TNAUTHLIST, &r, why, sizeof why) == ACMEH_OK);
  CU_ASSERT(r.ca == 0 && r.exp > acmeh_now_wall() && r.jti[0]);
  CU_ASSERT(validate_under("x5c", SPC1234, ACMEH_ATC_TNAUTHLIST, &r2, why, sizeof why) == ACMEH_OK);
  CU_ASSERT(strcmp(r.jti, r2.jti) != 0);
  CU_ASSERT(validate_under("", ATTEST, ACMEH_ATC_JWTCLAIMCON, &r, why, sizeof why) == ACMEH_OK);
  CU_ASSERT(validate_under("reused-jti", SPC1234, ACMEH_ATC_TNAUTHLIST, &r2, why, sizeof why) == ACMEH_OK);
  CU_ASSERT(validate_under("reused-jti", SPC1234, ACMEH_ATC_TNAUTHLIST, &r, why, sizeof why) == ACMEH_OK);
  CU_ASSERT(strcmp(r.jti, r2.jti) == 0);
  CU_ASSERT(validate_under("wrong-ca", SPC1234, ACMEH_ATC_TNAUTHLIST, &r, why, sizeof why) == ACMEH_OK && r.ca == 1);
  json_t *issued = acmeh_ta_issued(g_ta);
  CU_ASSERT(json_array_size(issued) >= 6);
  json_decref(issued);
}

static void test_ta_faults(void) {
  static const struct {
    const char *fault, *want;
  } cases[] = {
      {"expired", "step 7: the token expired"},    {"no-exp", "step 7: exp"},
      {"no-jti", "step 7: exp"},                   {"wrong-fingerprint", "step 8"},
      {"wrong-tkvalue", "step 6"},                 {"widened-tkvalue", "step 6"},
      {"bad-signature", "step 4"},                 {"unknown-x5u", "not from a trusted token authority"},
      {"unreachable-x5u", "step 2: x5u"},          {"http-x5u", "not an HTTPS URL"},
      {"other-type", "step 5"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    acmeh_atc_result r;
    char why[300] = "";
    int rc = validate_under(cases[i].fault, SPC1234, ACMEH_ATC_TNAUTHLIST, &r, why, sizeof why);
    int ok = rc == ACMEH_PEER_PROTOCOL && strstr(why, cases[i].want);
    if (!ok) fprintf(stderr, "\n  fault %s: rc %d \"%s\"\n", cases[i].fault, rc, why);
    CU_ASSERT(ok);
  }
}

static void test_ta_refusals(void) {
  char why[300], *tok = NULL;
  acmeh_atc_request r = {.ta_url = acmeh_ta_url(g_ta), .account = "acct1", .secret = "wrong",
                         .ca_file = acmeh_ta_tls_ca_file(g_ta), .tktype = ACMEH_ATC_TNAUTHLIST, .tkvalue = SPC1234,
                         .fingerprint = g_fp};
  CU_ASSERT(acmeh_atc_fetch(&r, &tok, why, sizeof why) == ACMEH_PEER_PROTOCOL && strstr(why, "403"));
  r.secret = "s3cret", r.tkvalue = "MAigBhYEMTIzNQ"; /* SPC 1235: not entitled */
  CU_ASSERT(acmeh_atc_fetch(&r, &tok, why, sizeof why) == ACMEH_PEER_PROTOCOL && strstr(why, "403"));
  r.tkvalue = "MAaABDEyMzQ"; /* IMPLICIT-tagged */
  CU_ASSERT(acmeh_atc_fetch(&r, &tok, why, sizeof why) == ACMEH_PEER_PROTOCOL && strstr(why, "400"));
  /* an authority that never answers: the request ends within its budget */
  acmeh_ta_set_fault(g_ta, "stall");
  r.tkvalue = SPC1234, r.timeout_ms = 500;
  double t0 = acmeh_now_mono();
  CU_ASSERT(acmeh_atc_fetch(&r, &tok, why, sizeof why) == ACMEH_PEER_TIMEOUT);
  CU_ASSERT(acmeh_now_mono() - t0 < 3);
  acmeh_ta_set_fault(g_ta, "");
  CU_ASSERT(tok == NULL);
}

/* ---- the reference client's CSR and certificate check ------------------ */

/* A self-signed PEM certificate carrying `der_hex` under oid (NULL = none). */
static char *cert_with(const char *oid, const char *der_hex) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509 *c = acmeh_x509_new("t", acmeh_now_wall() - 60, acmeh_now_wall() + 3600);
  X509_set_pubkey(c, k);
  X509_set_issuer_name(c, X509_get_subject_name(c));
  if (oid) {
    long n = 0;
    unsigned char *der = OPENSSL_hexstr2buf(der_hex, &n);
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, der, (int)n);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e), ASN1_OCTET_STRING_free(os), ASN1_OBJECT_free(o), OPENSSL_free(der);
  }
  X509_sign(c, k, EVP_sha256());
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c);
  char *d, *pem = NULL;
  long n = BIO_get_mem_data(b, &d);
  pem = strndup(d, (size_t)n);
  BIO_free(b), X509_free(c), EVP_PKEY_free(k);
  return pem;
}

static void test_client_csr_and_cert(void) {
  json_t *ids = json_pack("[{s:s,s:s},{s:s,s:s}]", "type", "TNAuthList", "value", SPC1234, "type",
                          "JWTClaimConstraints", "value", "MAmiBzAFFgNkaXY" /* Enhanced: mustExclude [div] */);
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char *csr = NULL, why[300];
  acmeh_csr *req = NULL;
  CU_ASSERT_FATAL(acmeh_tkauth_csr(k, ids, 0, NULL, NULL, &csr, why, sizeof why) == ACMEH_OK);
  CU_ASSERT_FATAL(acmeh_csr_read(csr, &req) == ACMEH_OK);
  STACK_OF(X509_EXTENSION) *exts = acmeh_csr_extensions(req);
  int tn = 0, ejcc = 0;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
    char oid[64];
    OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i)), 1);
    tn |= strcmp(oid, ACMEH_OID_TNAUTHLIST) == 0, ejcc |= strcmp(oid, ACMEH_OID_EJWTCLAIMCON) == 0;
  }
  CU_ASSERT(tn && ejcc); /* the Enhanced DER goes under id-pe 33 */
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  acmeh_csr_free(req), free(csr), EVP_PKEY_free(k);
  json_t *one = json_pack("[{s:s,s:s}]", "type", "TNAuthList", "value", SPC1234);
  char *same = cert_with(ACMEH_OID_TNAUTHLIST, "3008a006160431323334"), *other = cert_with(ACMEH_OID_TNAUTHLIST, "3008a006160431323335"),
       *none = cert_with(NULL, NULL);
  CU_ASSERT(acmeh_tkauth_cert_check(same, one, why, sizeof why) == ACMEH_OK);
  CU_ASSERT(acmeh_tkauth_cert_check(other, one, why, sizeof why) == ACMEH_PEER_PROTOCOL && strstr(why, "differs from"));
  CU_ASSERT(acmeh_tkauth_cert_check(none, one, why, sizeof why) == ACMEH_PEER_PROTOCOL && strstr(why, "is missing"));
  free(same), free(other), free(none);
  json_decref(ids), json_decref(one);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"DER vectors via ASN.1 templates", test_der},
      {"malformed TNAuthList DER", test_der_bad},
      {"fingerprint and identifier values", test_fingerprint_values},
      {"malformed tokens", test_parse_bad},
      {"mock token authority: valid tokens", test_ta_valid},
      {"mock token authority: each fault fails its step", test_ta_faults},
      {"mock token authority: refusals and a stall", test_ta_refusals},
      {"reference client: CSR extensions, certificate refused when its extension differs", test_client_csr_and_cert},
  };
  return acmeh_unit_run("atc", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
