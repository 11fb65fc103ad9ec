/* pk-01 and the key identifiers (draft-geng-acme-public-key -01,
 * harness/acme/pk.h): every vector of vectors/pk/ through the harness's
 * reader and proof verifier; bad input (malformed, truncated, deeply nested
 * and huge DER, lengths near 2^64, broken proofs) ends in a refusal, never a
 * crash or hang (this program runs under ASan in the sanitizer build); and
 * the reference server end to end, in process: issuance for each identifier
 * type without CSR, the replacement CSR refused, a foreign proof refused,
 * malformed identifiers answered 400 while the server stays up. */
#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/pk.h"
#include "harness/client/flow.h"
#include "harness/server/server.h"
#include "mocks/mocks.h"
#include "tests/unit/support/server_client.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"
#include "tests/unit/support/vectors.h"

static json_t *g_vectors;
static acmeh_mocks *M;
static acmeh_server *S;
static char RUN_DIR[] = "/tmp/acmeh-test-pk-XXXXXX";
static char ERR[1024];

/* ---------- vectors ---------- */

static EVP_PKEY *vector_spki(const json_t *v) {
  const char *pem = sget(vin(v), "spki_pem");
  BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
  EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  return k;
}

static void one_vector(const json_t *v) {
  char why[300];
  EVP_PKEY *key = NULL, *want = vector_spki(v);
  int accepted = json_is_true(json_object_get(vexp(v), "accepted"));
  int rc = acmeh_pk_ident_key(sget(vin(v), "type"), sget(vin(v), "value"), &key, why, sizeof why);
  VCHECK((rc == ACMEH_OK) == accepted, v);
  VCHECK(!accepted || acmeh_pk_same_key(key, want), v);
  const char *proof = sget(vin(v), "proof");
  if (proof && key) {
    int valid = json_is_true(json_object_get(vexp(v), "proof_valid"));
    VCHECK((acmeh_pk_proof_verify(key, proof, sget(vin(v), "token"), why, sizeof why) == ACMEH_OK) == valid, v);
  }
  EVP_PKEY_free(key);
  EVP_PKEY_free(want);
}

static void test_vectors(void) { CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "pk_identifier", one_vector) >= 9); }

/* Our own values read back as the same key, and our proof verifies; a proof
 * for another token or key does not. */
static void test_round_trip(void) {
  static const char *const types[] = {"pk", "selfsign-cert", "csr"};
  static const acmeh_keytype kts[] = {ACMEH_KEY_ES256, ACMEH_KEY_ES384, ACMEH_KEY_RS256, ACMEH_KEY_EDDSA};
  char why[300];
  for (size_t t = 0; t < 4; t++)
    for (size_t i = 0; i < 3; i++) {
      acmeh_key *k = NULL, *o = NULL;
      char *value = NULL, *proof = NULL;
      EVP_PKEY *back = NULL;
      CU_ASSERT_FATAL(acmeh_key_generate(kts[t], &k) == ACMEH_OK && acmeh_key_generate(ACMEH_KEY_ES256, &o) == ACMEH_OK);
      CU_ASSERT(acmeh_pk_ident_make(types[i], acmeh_key_pkey(k), "device 7", &value) == ACMEH_OK);
      CU_ASSERT(acmeh_pk_ident_key(types[i], value, &back, why, sizeof why) == ACMEH_OK);
      CU_ASSERT(acmeh_pk_same_key(back, acmeh_key_pkey(k)));
      CU_ASSERT(acmeh_pk_proof(k, "tok-1", &proof) == ACMEH_OK);
      CU_ASSERT(acmeh_pk_proof_verify(back, proof, "tok-1", why, sizeof why) == ACMEH_OK);
      CU_ASSERT(acmeh_pk_proof_verify(back, proof, "tok-2", why, sizeof why) == ACMEH_PEER_PROTOCOL);
      free(proof), proof = NULL;
      CU_ASSERT(acmeh_pk_proof(o, "tok-1", &proof) == ACMEH_OK);
      CU_ASSERT(acmeh_pk_proof_verify(back, proof, "tok-1", why, sizeof why) == ACMEH_PEER_PROTOCOL);
      CU_ASSERT(strlen(why) > 0);
      free(proof), free(value);
      EVP_PKEY_free(back);
      acmeh_key_free(k), acmeh_key_free(o);
    }
}

/* ---------- bad input ---------- */

static char *b64(const unsigned char *d, size_t n) {
  char *out = malloc((n + 2) / 3 * 4 + 1);
  if (out) EVP_EncodeBlock((unsigned char *)out, d, (int)n);
  return out;
}

static void refused(const char *type, const char *value) {
  EVP_PKEY *k = (EVP_PKEY *)1;
  char why[300] = "";
  CU_ASSERT(acmeh_pk_ident_key(type, value, &k, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  CU_ASSERT_PTR_NULL(k);
  CU_ASSERT(why[0] != '\0');
}

static void test_bad_identifiers(void) {
  static const char *const types[] = {"pk", "selfsign-cert", "csr"};
  /* 10,000 nested SEQUENCEs (indefinite length), a length near 2^64, random bytes */
  size_t deep_n = 20000 + 2;
  unsigned char *deep = malloc(deep_n);
  CU_ASSERT_FATAL(deep != NULL);
  for (size_t i = 0; i < 10000; i++) deep[2 * i] = 0x30, deep[2 * i + 1] = 0x80;
  deep[20000] = 0, deep[20001] = 0;
  static const unsigned char huge_len[] = {0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0x02, 0x01, 0x00};
  static const unsigned char near_max[] = {0x30, 0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00};
  unsigned char noise[512];
  for (size_t i = 0; i < sizeof noise; i++) noise[i] = (unsigned char)(i * 131 + 7);
  char *v_deep = b64(deep, 2000), *v_huge = b64(huge_len, sizeof huge_len), *v_max = b64(near_max, sizeof near_max),
       *v_noise = b64(noise, sizeof noise), *v_deep_all = b64(deep, deep_n);
  char *big = malloc(ACMEH_PK_MAX_VALUE + 2);
  CU_ASSERT_FATAL(big != NULL);
  memset(big, 'A', ACMEH_PK_MAX_VALUE + 1), big[ACMEH_PK_MAX_VALUE + 1] = '\0';
  for (size_t t = 0; t < 3; t++) {
    refused(types[t], NULL);
    refused(types[t], "");
    refused(types[t], "====");
    refused(types[t], "not base64 !");
    refused(types[t], "ab+c-d");  /* two alphabets at once */
    refused(types[t], v_deep);
    refused(types[t], v_huge);
    refused(types[t], v_max);
    refused(types[t], v_noise);
    refused(types[t], big); /* over ACMEH_PK_MAX_VALUE: refused before decoding */
    if (strlen(v_deep_all) <= ACMEH_PK_MAX_VALUE) refused(types[t], v_deep_all);
  }
  /* a value of the wrong type: a certificate as "pk", an SPKI as "csr" */
  acmeh_key *k = NULL;
  char *cert = NULL, *spki = NULL;
  CU_ASSERT_FATAL(acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK);
  acmeh_pk_ident_make("selfsign-cert", acmeh_key_pkey(k), "x", &cert);
  acmeh_pk_ident_make("pk", acmeh_key_pkey(k), NULL, &spki);
  refused("pk", cert);
  refused("csr", spki);
  refused("selfsign-cert", spki);
  /* trailing bytes after a good SPKI */
  unsigned char *der = NULL;
  int n = i2d_PUBKEY(acmeh_key_pkey(k), &der);
  unsigned char *longer = malloc((size_t)n + 1);
  memcpy(longer, der, (size_t)n), longer[n] = 0;
  char *v_trail = b64(longer, (size_t)n + 1);
  refused("pk", v_trail);
  EVP_PKEY *none = NULL;
  char why[100];
  CU_ASSERT(acmeh_pk_ident_key("dns", spki, &none, why, sizeof why) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_pk_ident_make("x", acmeh_key_pkey(k), NULL, &cert) == ACMEH_INVALID_ARG);
  OPENSSL_free(der);
  free(longer), free(v_trail), free(cert), free(spki), free(big);
  free(v_deep), free(v_huge), free(v_max), free(v_noise), free(v_deep_all), free(deep);
  acmeh_key_free(k);
}

static void test_bad_proofs(void) {
  acmeh_key *k = NULL;
  char *good = NULL, why[300];
  CU_ASSERT_FATAL(acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK && acmeh_pk_proof(k, "t", &good) == ACMEH_OK);
  EVP_PKEY *p = acmeh_key_pkey(k);
  static const char *const bad[] = {"", ".", "..", "...", "a.b", "a.b.c.d", "e30.dA.AA", "bnVsbA.dA.AA", /* {} and null headers */
                                    "eyJhbGciOiJub25lIn0.dA.", "eyJhbGciOiJFUzI1NiJ9.dA.AAAA", "=.=.=", "eyJhbGciOjF9.dA.AA"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CU_ASSERT(acmeh_pk_proof_verify(p, bad[i], "t", why, sizeof why) == ACMEH_PEER_PROTOCOL);
  CU_ASSERT(acmeh_pk_proof_verify(p, NULL, "t", why, sizeof why) == ACMEH_PEER_PROTOCOL);
  char *huge = malloc(ACMEH_PK_MAX_PROOF + 10);
  memset(huge, 'A', ACMEH_PK_MAX_PROOF + 9), huge[ACMEH_PK_MAX_PROOF + 9] = '\0';
  huge[10] = '.', huge[20] = '.';
  CU_ASSERT(acmeh_pk_proof_verify(p, huge, "t", why, sizeof why) == ACMEH_PEER_PROTOCOL);
  /* the good proof with its signature bit flipped, and cut short */
  size_t n = strlen(good);
  good[n - 2] = good[n - 2] == 'A' ? 'B' : 'A';
  CU_ASSERT(acmeh_pk_proof_verify(p, good, "t", why, sizeof why) == ACMEH_PEER_PROTOCOL);
  good[n - 10] = '\0';
  CU_ASSERT(acmeh_pk_proof_verify(p, good, "t", why, sizeof why) == ACMEH_PEER_PROTOCOL);
  free(huge), free(good);
  acmeh_key_free(k);
}

/* ---------- the reference server ---------- */

static void order_issue(const char *type) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  acmeh_key *k = NULL;
  char *value = NULL, *ident = NULL;
  CU_ASSERT_FATAL(acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK);
  CU_ASSERT_FATAL(acmeh_pk_ident_make(type, acmeh_key_pkey(k), "device", &value) == ACMEH_OK && asprintf(&ident, "%s:%s", type, value) > 0);
  acmeh_acme_set_pop_key(c, k);
  acmeh_issued is = {0};
  const char *names[] = {ident};
  int rc = acmeh_flow_ready_order(c, NULL, names, 1, "pk-01", &is, ERR, sizeof ERR);
  if (rc) fprintf(stderr, "\n  %s: %s\n", type, ERR);
  CU_ASSERT(rc == ACMEH_OK);
  CU_ASSERT(rc || acmeh_flow_finalize(c, &is, NULL, ERR, sizeof ERR) == ACMEH_OK);
  STACK_OF(X509) *chain = NULL;
  CU_ASSERT(rc || acmeh_pem_chain_parse(is.chain_pem, strlen(is.chain_pem), &chain, ERR, sizeof ERR) == ACMEH_OK);
  CU_ASSERT(rc || acmeh_pk_same_key(X509_get0_pubkey(sk_X509_value(chain, 0)), acmeh_key_pkey(k)));
  sk_X509_pop_free(chain, X509_free);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
  acmeh_key_free(k);
  free(value), free(ident);
}

static void test_server_issues(void) {
  order_issue("pk");
  order_issue("selfsign-cert");
  order_issue("csr");
}

static long post_status(acmeh_acme *c, const char *url, const char *payload, char *type, size_t typelen) {
  acmeh_http_resp r;
  if (acmeh_acme_post(c, url, payload, NULL, &r, ERR, sizeof ERR)) return -1;
  long st = r.status;
  if (type) acmeh_resp_problem(&r, type, typelen);
  acmeh_http_resp_free(&r);
  return st;
}

static void test_server_refusals(void) {
  acmeh_acme *c = acmeh_test_account(S);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  const char *no = acmeh_acme_dir_url(c, "newOrder");
  char type[64], *payload = NULL;
  /* malformed values of each type, and a key identifier beside a dns one */
  static const char *const bad[] = {
      "{\"identifiers\":[{\"type\":\"pk\",\"value\":\"AAAA\"}]}",
      "{\"identifiers\":[{\"type\":\"csr\",\"value\":\"MIIB\"}]}",
      "{\"identifiers\":[{\"type\":\"selfsign-cert\",\"value\":\"!!\"}]}",
      "{\"identifiers\":[{\"type\":\"pk\",\"value\":\"MAA=\"}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CU_ASSERT(post_status(c, no, bad[i], type, sizeof type) == 400);
  acmeh_key *k = NULL, *other = NULL;
  char *value = NULL;
  CU_ASSERT_FATAL(acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK && acmeh_key_generate(ACMEH_KEY_ES256, &other) == ACMEH_OK);
  acmeh_pk_ident_make("pk", acmeh_key_pkey(k), NULL, &value);
  CU_ASSERT(asprintf(&payload, "{\"identifiers\":[{\"type\":\"pk\",\"value\":\"%s\"},{\"type\":\"dns\",\"value\":\"a.example\"}]}", value) > 0);
  CU_ASSERT(post_status(c, no, payload, type, sizeof type) == 400 && strcmp(type, "rejectedIdentifier") == 0);
  free(payload);
  /* the account's own key as the identifier (RFC 8555 §11.1) */
  char *acct_value = NULL;
  acmeh_pk_ident_make("pk", acmeh_key_pkey(acmeh_acme_key(c)), NULL, &acct_value);
  CU_ASSERT(asprintf(&payload, "{\"identifiers\":[{\"type\":\"pk\",\"value\":\"%s\"}]}", acct_value) > 0);
  CU_ASSERT(post_status(c, no, payload, type, sizeof type) == 400 && strcmp(type, "rejectedIdentifier") == 0);
  free(payload), free(acct_value);
  /* the replacement: a CSR for another key after pk-01 proved k */
  char *ident = NULL, *csr = NULL;
  CU_ASSERT(asprintf(&ident, "pk:%s", value) > 0);
  acmeh_acme_set_pop_key(c, k);
  acmeh_issued is = {0};
  const char *names[] = {ident}, *csr_names[] = {"x.example"};
  CU_ASSERT_FATAL(acmeh_flow_ready_order(c, NULL, names, 1, "pk-01", &is, ERR, sizeof ERR) == ACMEH_OK);
  CU_ASSERT(acmeh_csr_build(acmeh_key_pkey(other), csr_names, 1, &csr) == ACMEH_OK && asprintf(&payload, "{\"csr\":\"%s\"}", csr) > 0);
  const char *fin = json_string_value(json_object_get(is.order, "finalize"));
  CU_ASSERT(post_status(c, fin, payload, type, sizeof type) == 400 && strcmp(type, "badCSR") == 0);
  CU_ASSERT(post_status(c, fin, "{\"csr\":\"@@\"}", type, sizeof type) == 400);
  CU_ASSERT(post_status(c, fin, "{\"csr\":7}", type, sizeof type) == 400);
  free(payload), free(csr);
  /* the same key's CSR is taken */
  const char *same_names[] = {"y.example"};
  CU_ASSERT(acmeh_csr_build(acmeh_key_pkey(k), same_names, 1, &csr) == ACMEH_OK);
  CU_ASSERT(acmeh_flow_finalize(c, &is, csr, ERR, sizeof ERR) == ACMEH_OK);
  free(csr);
  acmeh_issued_clear(&is);
  /* a proof by another key: the challenge ends invalid; garbage proofs too */
  const char *proof_by[] = {"other", "{\"proof\":\"x.y.z\"}", "{\"proof\":42}", "{}"};
  for (size_t i = 0; i < 4; i++) {
    acmeh_acme_set_pop_key(c, other);
    json_t *final = NULL;
    CU_ASSERT_FATAL(acmeh_flow_new_order(c, names, 1, &is.order_url, &is.order, ERR, sizeof ERR) == ACMEH_OK);
    const char *az = json_string_value(json_array_get(json_object_get(is.order, "authorizations"), 0));
    if (i == 0) {
      CU_ASSERT(acmeh_flow_authorize(c, NULL, az, "pk-01", &final, ERR, sizeof ERR) == ACMEH_PEER_PROTOCOL);
    } else {
      json_t *a = NULL;
      CU_ASSERT_FATAL(acmeh_acme_get_json(c, az, &a, NULL, ERR, sizeof ERR) == ACMEH_OK);
      const char *cu = json_string_value(json_object_get(acmeh_flow_find_challenge(a, "pk-01"), "url"));
      CU_ASSERT(post_status(c, cu, proof_by[i], NULL, 0) == 200);
      static const char *const waiting[] = {"pending", "processing"};
      CU_ASSERT(acmeh_flow_poll(c, az, waiting, 2, &final, ERR, sizeof ERR) == ACMEH_OK);
      json_decref(a);
    }
    CU_ASSERT(strcmp(json_string_value(json_object_get(final, "status")) ? json_string_value(json_object_get(final, "status")) : "", "invalid") == 0);
    json_decref(final);
    acmeh_issued_clear(&is);
  }
  free(ident), free(value);
  acmeh_key_free(k), acmeh_key_free(other);
  acmeh_acme_free(c);
}

/* pk off: the key identifiers are unsupportedIdentifier; bad modes refused. */
static void test_server_off(void) {
  acmeh_server_config sc = {.dns_port = acmeh_mocks_dns_port(M), .http01_port = acmeh_mocks_http01_port(M),
                            .tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), .run_dir = RUN_DIR, .pk = "off"};
  acmeh_server *s = NULL;
  CU_ASSERT_FATAL(acmeh_server_start(&sc, &s, ERR, sizeof ERR) == ACMEH_OK);
  acmeh_acme *c = acmeh_test_account(s);
  acmeh_key *k = NULL;
  char *value = NULL, *payload = NULL, type[64];
  CU_ASSERT_FATAL(c && acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK);
  acmeh_pk_ident_make("pk", acmeh_key_pkey(k), NULL, &value);
  CU_ASSERT(asprintf(&payload, "{\"identifiers\":[{\"type\":\"pk\",\"value\":\"%s\"}]}", value) > 0);
  CU_ASSERT(post_status(c, acmeh_acme_dir_url(c, "newOrder"), payload, type, sizeof type) == 400 &&
            strcmp(type, "unsupportedIdentifier") == 0);
  free(payload), free(value);
  acmeh_key_free(k);
  acmeh_acme_free(c);
  acmeh_server_stop(s);
  sc.pk = "sometimes";
  CU_ASSERT(acmeh_server_start(&sc, &s, ERR, sizeof ERR) == ACMEH_INVALID_ARG);
}

static int suite_init(void) {
  g_vectors = json_array();
  if (acmeh_test_vectors_load(g_vectors, "pk")) return -1;
  if (!mkdtemp(RUN_DIR)) return -1;
  acmeh_mocks_config mc = {.mgmt_port = -1};
  if (acmeh_mocks_start(&mc, &M, ERR, sizeof ERR)) return fprintf(stderr, "mocks: %s\n", ERR), -1;
  acmeh_server_config sc = {.dns_port = acmeh_mocks_dns_port(M), .http01_port = acmeh_mocks_http01_port(M),
                            .tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), .run_dir = RUN_DIR};
  if (acmeh_server_start(&sc, &S, ERR, sizeof ERR)) return fprintf(stderr, "server: %s\n", ERR), -1;
  return 0;
}

static int suite_clean(void) {
  acmeh_server_stop(S);
  acmeh_mocks_stop(M);
  acmeh_test_rmtree(RUN_DIR);
  json_decref(g_vectors);
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const acmeh_unit_test tests[] = {
      {"PK1-PK9 vectors", test_vectors},
      {"identifier values and proofs round-trip (4 key types x 3 identifier types)", test_round_trip},
      {"malformed, nested, huge and mistyped identifier values refused", test_bad_identifiers},
      {"malformed and foreign proofs refused", test_bad_proofs},
      {"reference server: issuance without CSR for pk, selfsign-cert, csr", test_server_issues},
      {"reference server: replacement CSR, foreign and malformed proofs, bad identifiers", test_server_refusals},
      {"reference server: pk off, unknown mode", test_server_off},
  };
  int rc = acmeh_unit_run("pk", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
  curl_global_cleanup();
  return rc;
}
