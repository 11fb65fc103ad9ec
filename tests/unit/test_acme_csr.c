/* The finalize-side CSR reader (harness/acme/csr.c) judges requests as
 * OpenSSL's X509_REQ does: same keys, same signature verdicts, same names,
 * also for thousands of corrupted requests. */
#include <CUnit/Basic.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/csr.h"
#include "harness/acme/jwk.h"
#include "base/error.h"
#include "tests/unit/support/unit_main.h"

static const char *const NAMES[] = {"example.com", "www.example.com", "192.0.2.1"};

static char *build(acmeh_keytype t, acmeh_key **k) {
  char *b64 = NULL;
  if (acmeh_key_generate(t, k) != ACMEH_OK) return NULL;
  if (acmeh_csr_build(acmeh_key_pkey(*k), NAMES, 3, &b64) != ACMEH_OK) return NULL;
  return b64;
}

static unsigned char *der_of(const char *b64, size_t *len) {
  unsigned char *der = NULL;
  return acmeh_b64url_decode(b64, strlen(b64), &der, len) == ACMEH_OK ? der : NULL;
}

static void read_one(acmeh_keytype t) {
  acmeh_key *k = NULL;
  char *b64 = build(t, &k);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
  acmeh_csr *c = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_read(b64, &c), ACMEH_OK);
  CU_ASSERT_PTR_NOT_NULL(acmeh_csr_key(c));
  CU_ASSERT_EQUAL(EVP_PKEY_eq(acmeh_csr_key(c), acmeh_key_pkey(k)), 1);
  CU_ASSERT_EQUAL(acmeh_csr_verify(c), 1);
  STACK_OF(X509_EXTENSION) *exts = acmeh_csr_extensions(c);
  char **got = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL(acmeh_exts_sans(exts, &got, &n), ACMEH_OK);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  for (size_t i = 0; i < n; i++) CU_ASSERT_STRING_EQUAL(got[i], NAMES[i]);
  acmeh_names_free(got, n);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  char cn[256] = "";
  X509_NAME_get_text_by_NID(acmeh_csr_subject(c), NID_commonName, cn, sizeof cn);
  CU_ASSERT_STRING_EQUAL(cn, "example.com");
  /* The SubjectPublicKeyInfo copies byte for byte into a certificate. */
  unsigned char *a = NULL, *b = NULL;
  int al = i2d_X509_PUBKEY(acmeh_csr_spki(c), &a), bl = i2d_PUBKEY(acmeh_key_pkey(k), &b);
  CU_ASSERT(al > 0 && al == bl && memcmp(a, b, (size_t)al) == 0);
  OPENSSL_free(a), OPENSSL_free(b);
  acmeh_csr_free(c);
  free(b64);
  acmeh_key_free(k);
}

static void test_read_key_types(void) {
  read_one(ACMEH_KEY_ES256);
  read_one(ACMEH_KEY_ES384);
  read_one(ACMEH_KEY_RS256);
  read_one(ACMEH_KEY_EDDSA);
}

static void test_read_rejects(void) {
  acmeh_csr *c = NULL;
  CU_ASSERT_EQUAL(acmeh_csr_read(NULL, &c), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_csr_read("", &c), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_EQUAL(acmeh_csr_read("MIIB", &c), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_EQUAL(acmeh_csr_read("MII=", &c), ACMEH_PEER_PROTOCOL);
  acmeh_key *k = NULL;
  char *b64 = build(ACMEH_KEY_ES256, &k);
  size_t len = 0;
  unsigned char *der = der_of(b64, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(der);
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, der, len), longer[len] = 0;
  char *b64long = acmeh_b64url_encode(longer, len + 1);
  CU_ASSERT_EQUAL(acmeh_csr_read(b64long, &c), ACMEH_PEER_PROTOCOL);
  char padded[2048];
  snprintf(padded, sizeof padded, "%s==", b64);
  CU_ASSERT_EQUAL(acmeh_csr_read(padded, &c), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_PTR_NULL(c);
  free(b64long), free(longer), free(der), free(b64);
  acmeh_key_free(k);
}

static const unsigned char P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* The DER of a fresh P-256 request (malloc'd) and in *at where its curve OID
 * (P256_OID) starts, so a test can rewrite the key's parameters. */
static unsigned char *p256_csr_der(size_t *len, unsigned char **at) {
  acmeh_key *k = NULL;
  char *b64 = build(ACMEH_KEY_ES256, &k);
  unsigned char *der = b64 ? der_of(b64, len) : NULL;
  *at = der ? memmem(der, *len, P256_OID, sizeof P256_OID) : NULL;
  free(b64);
  acmeh_key_free(k);
  return der;
}

/* A point moved off the curve gives no key, hence no valid signature. */
static void test_point_off_curve(void) {
  acmeh_key *k = NULL;
  char *b64 = build(ACMEH_KEY_ES256, &k);
  unsigned char point[65];
  size_t plen = 0, len = 0;
  CU_ASSERT_EQUAL_FATAL(EVP_PKEY_get_octet_string_param(acmeh_key_pkey(k), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                                        sizeof point, &plen), 1);
  unsigned char *der = der_of(b64, &len);
  unsigned char *at = memmem(der, len, point, plen);
  CU_ASSERT_PTR_NOT_NULL_FATAL(at);
  at[plen - 1] ^= 0x01;
  char *bad = acmeh_b64url_encode(der, len);
  acmeh_csr *c = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_read(bad, &c), ACMEH_OK);
  CU_ASSERT_PTR_NULL(acmeh_csr_key(c));
  CU_ASSERT_EQUAL(acmeh_csr_verify(c), 0);
  acmeh_csr_free(c);
  free(bad), free(der), free(b64);
  acmeh_key_free(k);
}

/* An SPKI of algorithm nid with parameters (ptype, pval; ownership passes)
 * and key bits, as a peer could send it. */
static X509_PUBKEY *spki_of(int nid, int ptype, void *pval, const unsigned char *bits, int n) {
  X509_PUBKEY *p = X509_PUBKEY_new();
  unsigned char *b = OPENSSL_memdup(bits, (size_t)n);
  if (p && b && X509_PUBKEY_set0_param(p, OBJ_nid2obj(nid), ptype, pval, b, n)) return p;
  OPENSSL_free(b);
  X509_PUBKEY_free(p);
  return NULL;
}

static void expect_form(X509_PUBKEY *p, const char *reason) {
  char why[256] = "";
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(acmeh_spki_form_ok(p, why, sizeof why), reason ? 0 : 1);
  if (reason) CU_ASSERT_PTR_NOT_NULL(strstr(why, reason));
  if (reason && !strstr(why, reason)) fprintf(stderr, "\n  why: %s\n", why);
  X509_PUBKEY_free(p);
}

/* What parsing lets through but a CA must refuse (RFC 5480, 3279, 8410). */
static void test_spki_form(void) {
  static const acmeh_keytype good[] = {ACMEH_KEY_ES256, ACMEH_KEY_ES384, ACMEH_KEY_RS256, ACMEH_KEY_EDDSA};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    acmeh_key *k = NULL;
    char *b64 = build(good[i], &k);
    acmeh_csr *c = NULL;
    CU_ASSERT_EQUAL_FATAL(acmeh_csr_read(b64, &c), ACMEH_OK);
    expect_form(X509_PUBKEY_dup(acmeh_csr_spki(c)), NULL);
    acmeh_csr_free(c), free(b64), acmeh_key_free(k);
  }
  unsigned char point[65] = {0x04, 1}, hybrid[65] = {0x06, 1}, zero[1] = {0}, rsa[8] = {0x30, 6, 2, 1, 1, 2, 1, 3};
  expect_form(spki_of(NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), zero, 1),
              "point at infinity");
  expect_form(spki_of(NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), hybrid, 65), "hybrid");
  ASN1_STRING *explicit_params = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
  ASN1_STRING_set(explicit_params, "\x02\x01\x01", 3);
  expect_form(spki_of(NID_X9_62_id_ecPublicKey, V_ASN1_SEQUENCE, explicit_params, point, 65), "do not name a curve");
  expect_form(spki_of(NID_rsaEncryption, V_ASN1_UNDEF, NULL, rsa, 8), "not NULL");
  expect_form(spki_of(NID_rsaEncryption, V_ASN1_NULL, NULL, rsa, 8), NULL);
  expect_form(spki_of(NID_ED25519, V_ASN1_NULL, NULL, point + 1, 32), "must be absent");
}

/* Verdicts of both readers on one (possibly corrupted) request. */
static void compare(const unsigned char *der, size_t len, int *both, int *differ) {
  char *b64 = acmeh_b64url_encode(der, len);
  acmeh_csr *c = NULL;
  X509_REQ *r = NULL;
  int a = acmeh_csr_read(b64, &c) == ACMEH_OK, b = acmeh_csr_parse(b64, &r) == ACMEH_OK;
  if (a != b) (*differ)++;
  if (a && b) {
    EVP_PKEY *rk = X509_REQ_get0_pubkey(r);
    int rv = rk && X509_REQ_verify(r, rk) == 1;
    if (rv != acmeh_csr_verify(c) || (!rk) != (!acmeh_csr_key(c))) (*differ)++;
    (*both)++;
  }
  ERR_clear_error();
  acmeh_csr_free(c);
  X509_REQ_free(r);
  free(b64);
}

/* Key parameters that are a BOOLEAN (held in the ASN1_TYPE's pointer, not an
 * ASN1_STRING) are read and copied as they are, giving no key; copying them
 * as a string dereferenced 0xff and crashed the server at finalize. The
 * curve OID (10 bytes) becomes a BOOLEAN TRUE of the same size (7 length
 * bytes, which OpenSSL reads as BER). */
static void test_boolean_key_parameters(void) {
  static const unsigned char yes[] = {0x01, 0x87, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  static const unsigned char no[] = {0x01, 0x87, 0, 0, 0, 0, 0, 0, 0x01, 0x00};
  const unsigned char *const as[] = {yes, no};
  size_t len = 0;
  unsigned char *at = NULL, *der = p256_csr_der(&len, &at);
  CU_ASSERT_PTR_NOT_NULL_FATAL(at);
  for (size_t i = 0; i < 2; i++) {
    memcpy(at, as[i], sizeof P256_OID);
    char *bad = acmeh_b64url_encode(der, len);
    acmeh_csr *c = NULL;
    CU_ASSERT_EQUAL_FATAL(acmeh_csr_read(bad, &c), ACMEH_OK);
    CU_ASSERT_PTR_NULL(acmeh_csr_key(c));
    CU_ASSERT_EQUAL(acmeh_csr_verify(c), 0);
    const unsigned char *bits;
    int nbits, ptype;
    X509_ALGOR *alg;
    const void *pval;
    CU_ASSERT_FATAL(X509_PUBKEY_get0_param(NULL, &bits, &nbits, &alg, acmeh_csr_spki(c)) == 1);
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    CU_ASSERT_EQUAL(ptype, V_ASN1_BOOLEAN);
    CU_ASSERT_EQUAL(pval != NULL, i == 0);
    X509_PUBKEY *copy = X509_PUBKEY_new();
    CU_ASSERT_EQUAL(acmeh_spki_set(copy, alg, bits, nbits), 1); /* as ca.c copies it into a certificate */
    X509_PUBKEY_free(copy);
    int both = 0, differ = 0;
    compare(der, len, &both, &differ);
    CU_ASSERT_EQUAL(differ, 0);
    acmeh_csr_free(c);
    free(bad);
  }
  free(der);
}

/* Key parameters under an end-of-contents tag (00 01 41, which OpenSSL
 * decodes as type V_ASN1_EOC) are not DER: the request is refused. They
 * used to leak their copy and vanish from the issued certificate's key. The
 * RSA key's NULL parameters (05 00) become 00 01 taking the first byte of
 * the BIT STRING's header, so the P-256 curve OID is used instead, padded:
 * 06 08 <8 bytes> -> 00 08 <8 bytes>. */
static void test_eoc_key_parameters(void) {
  size_t len = 0;
  unsigned char *at = NULL, *der = p256_csr_der(&len, &at);
  CU_ASSERT_PTR_NOT_NULL_FATAL(at);
  at[0] = 0x00;
  char *bad = acmeh_b64url_encode(der, len);
  acmeh_csr *c = NULL;
  CU_ASSERT_EQUAL(acmeh_csr_read(bad, &c), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_PTR_NULL(c);
  X509_PUBKEY *to = X509_PUBKEY_new();
  X509_ALGOR *alg = X509_ALGOR_new();
  ASN1_STRING *eoc = ASN1_STRING_type_new(V_ASN1_EOC);
  CU_ASSERT_FATAL(to && alg && eoc && ASN1_STRING_set(eoc, "A", 1) == 1);
  CU_ASSERT_FATAL(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_OCTET_STRING, eoc) == 1);
  alg->parameter->type = V_ASN1_EOC; /* as the decoder leaves it */
  CU_ASSERT_EQUAL(acmeh_spki_set(to, alg, (const unsigned char *)"\x30\x00", 2), 0);
  X509_ALGOR_free(alg);
  X509_PUBKEY_free(to);
  free(bad), free(der);
}

/* Each key type, 800 requests with 1-3 bytes changed at random. */
static void test_same_verdicts_as_x509_req(void) {
  static const acmeh_keytype types[] = {ACMEH_KEY_ES256, ACMEH_KEY_RS256, ACMEH_KEY_EDDSA};
  int both = 0, differ = 0;
  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    acmeh_key *k = NULL;
    char *b64 = build(types[t], &k);
    size_t len = 0;
    unsigned char *der = der_of(b64, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(der);
    unsigned char *m = malloc(len);
    for (int i = 0; i < 800; i++) {
      memcpy(m, der, len);
      unsigned char r[8];
      RAND_bytes(r, sizeof r);
      for (int j = 0; j <= r[0] % 3; j++) m[(r[1 + 2 * j] << 8 | r[2 + 2 * j]) % len] ^= (unsigned char)(r[7] | 1);
      compare(m, len, &both, &differ);
    }
    free(m), free(der), free(b64);
    acmeh_key_free(k);
  }
  CU_ASSERT_EQUAL(differ, 0);
  CU_ASSERT(both > 100); /* enough mutations still parse to compare verdicts */
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"reads ES256, ES384, RS256 and EdDSA requests", test_read_key_types},
      {"rejects what is not one DER request", test_read_rejects},
      {"EC point off the curve: no key", test_point_off_curve},
      {"BOOLEAN key parameters: read and copied, no key", test_boolean_key_parameters},
      {"end-of-contents key parameters: refused", test_eoc_key_parameters},
      {"key forms a CA must refuse", test_spki_form},
      {"same verdicts as X509_REQ on corrupted requests", test_same_verdicts_as_x509_req},
  };
  return acmeh_unit_run("acme_csr", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
