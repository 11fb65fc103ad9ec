/* bp-nodeid-00 (RFC 9891) bundles and records: every vector of vectors/dtn/
 * (made by gen.py with python3-cbor2) against mocks/bundle-node (libcbor) and
 * harness/acme/dtn, plus the peer bytes the vectors cannot hold: CBOR nested
 * 10,000 deep, a 4 GB declared length, every truncation of a real bundle,
 * oversize input. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include <openssl/ec.h>
#include <openssl/x509v3.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/dtn.h"
#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"
#include "tests/unit/support/unit_main.h"
#include "tests/unit/support/vectors.h"

static json_t *g_vectors;

static int suite_init(void) {
  g_vectors = json_array();
  return acmeh_test_vectors_load(g_vectors, "dtn");
}

static int suite_clean(void) {
  json_decref(g_vectors);
  return 0;
}

static int for_op(const char *op, void (*fn)(const json_t *)) { return acmeh_test_vectors_for_op(g_vectors, op, fn); }

static size_t unhex(const char *hex, unsigned char *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n && i < cap; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
  return n < cap ? n : cap;
}

static void b64_into(const char *s, unsigned char *dst, size_t *n) {
  unsigned char *raw = NULL;
  size_t len = 0;
  CU_ASSERT_FATAL(acmeh_b64url_decode(s, strlen(s), &raw, &len) == 0 && len <= ACMEH_DTN_MAX_BSTR);
  memcpy(dst, raw, len);
  *n = len;
  free(raw);
}

static void one_keyauth(const json_t *v) {
  char *ka = acmeh_dtn_key_authorization(sget(vin(v), "token_bundle"), sget(vin(v), "token_chal"), sget(vin(v), "thumbprint"));
  unsigned char d[32];
  VCHECK(streq(ka, sget(vexp(v), "key_authorization")), v);
  VCHECK(acmeh_dtn_digest_sha256(ka, d) == ACMEH_OK, v);
  char *hex = acmeh_test_hex(d, 32), *b64 = acmeh_b64url_encode(d, 32);
  VCHECK(streq(hex, sget(vexp(v), "digest_hex")) && streq(b64, sget(vexp(v), "digest_b64url")), v);
  free(hex), free(b64), free(ka);
}

static void test_keyauth(void) { CU_ASSERT(for_op("dtn_keyauth", one_keyauth) == 2); }

/* Builds the vector's bundle with the C encoders and compares bytes; decodes
 * the expected bytes and compares fields. */
static void one_bundle(const json_t *v) {
  const json_t *in = vin(v);
  int response = streq(sget(in, "kind"), "response");
  acmeh_dtn_record r = {.type_code = (uint64_t)json_integer_value(json_object_get(in, "type_code"))};
  r.keys = response ? (2 | 4 | 8) : (2 | 4 | 16);
  b64_into(sget(in, "id_chal"), r.id_chal, &r.id_chal_len);
  b64_into(sget(in, "token_bundle"), r.token_bundle, &r.token_bundle_len);
  if (response) r.digest_alg = ACMEH_DTN_ALG_SHA256, r.digest_len = unhex(sget(in, "digest_hex"), r.digest, sizeof r.digest);
  else r.algs[0] = ACMEH_DTN_ALG_SHA256, r.alg_count = 1;
  acmeh_bundle b = {.flags = (uint64_t)json_integer_value(json_object_get(in, "flags")),
                    .created_ms = (uint64_t)json_integer_value(json_object_get(in, "created_ms")),
                    .lifetime_ms = (uint64_t)json_integer_value(json_object_get(in, "lifetime_ms"))};
  snprintf(b.dest, sizeof b.dest, "%s", sget(in, "dest"));
  snprintf(b.src, sizeof b.src, "%s", sget(in, "src"));
  VCHECK(acmeh_dtn_record_encode(&r, &b.payload, &b.payload_len) == ACMEH_OK, v);
  char *hex = acmeh_test_hex(b.payload, b.payload_len);
  VCHECK(streq(hex, sget(vexp(v), "record_hex")), v);
  free(hex);
  unsigned char *enc = NULL;
  size_t enclen = 0;
  VCHECK(acmeh_bundle_encode(&b, &enc, &enclen) == ACMEH_OK, v);
  hex = acmeh_test_hex(enc, enclen);
  VCHECK(streq(hex, sget(vexp(v), "bundle_hex")), v);
  free(hex), free(enc), free(b.payload);

  static unsigned char wire[1024];
  size_t n = unhex(sget(vexp(v), "bundle_hex"), wire, sizeof wire);
  acmeh_bundle d;
  acmeh_dtn_record dr;
  char msg[200];
  VCHECK(acmeh_bundle_decode(wire, n, &d, msg, sizeof msg) == ACMEH_OK, v);
  VCHECK(d.flags == b.flags && streq(d.dest, b.dest) && streq(d.src, b.src) && streq(d.report_to, "dtn:none"), v);
  VCHECK(d.created_ms == b.created_ms && d.lifetime_ms == b.lifetime_ms && !d.has_bib && !d.has_age, v);
  VCHECK(acmeh_dtn_record_decode(d.payload, d.payload_len, &dr, msg, sizeof msg) == ACMEH_OK, v);
  VCHECK(dr.type_code == r.type_code && dr.keys == r.keys && dr.id_chal_len == 16 && dr.token_bundle_len == 16, v);
  VCHECK(memcmp(dr.id_chal, r.id_chal, 16) == 0 && memcmp(dr.token_bundle, r.token_bundle, 16) == 0, v);
  VCHECK(response ? dr.digest_alg == -16 && dr.digest_len == 32 && memcmp(dr.digest, r.digest, 32) == 0 : dr.alg_count == 1 && dr.algs[0] == -16, v);
  acmeh_bundle_clear(&d);
}

static void test_bundles(void) { CU_ASSERT(for_op("dtn_bundle", one_bundle) == 4); }

static void one_eid(const json_t *v) {
  const char *eid = sget(vin(v), "eid");
  acmeh_bundle b = {.payload_len = 0};
  snprintf(b.dest, sizeof b.dest, "%s", eid);
  snprintf(b.src, sizeof b.src, "dtn://x/");
  unsigned char *enc = NULL;
  size_t n = 0;
  VCHECK(acmeh_bundle_encode(&b, &enc, &n) == ACMEH_OK, v);
  char *hex = acmeh_test_hex(enc, n);
  VCHECK(hex && strstr(hex, sget(vexp(v), "hex")) == hex + 10, v); /* 9f 88 07, flags 00, CRC type 00, then the destination */
  VCHECK(acmeh_eid_is_admin_node_id(eid) == json_is_true(json_object_get(vexp(v), "admin_node_id")), v);
  acmeh_bundle d;
  char msg[200];
  VCHECK(acmeh_bundle_decode(enc, n, &d, msg, sizeof msg) == ACMEH_OK && streq(d.dest, eid), v);
  acmeh_bundle_clear(&d);
  free(hex), free(enc);
}

static void test_eids(void) { CU_ASSERT(for_op("dtn_eid", one_eid) >= 4); }

static void one_bad(const json_t *v) {
  static unsigned char wire[1024];
  size_t n = unhex(sget(vin(v), "hex"), wire, sizeof wire);
  acmeh_bundle d;
  char msg[200] = "";
  int rc = acmeh_bundle_decode(wire, n, &d, msg, sizeof msg);
  VCHECK(rc != ACMEH_OK && streq(acmeh_err_name(rc), sget(vexp(v), "error")) && msg[0], v);
}

static void test_bad_vectors(void) { CU_ASSERT(for_op("dtn_bundle_bad", one_bad) >= 8); }

/* Every prefix of the draft's Challenge Bundle is refused as truncated. */
static void test_every_truncation(void) {
  const json_t *v = json_array_get(g_vectors, 2);
  static unsigned char wire[1024];
  size_t n = unhex(sget(vexp(v), "bundle_hex"), wire, sizeof wire);
  CU_ASSERT_FATAL(n > 50);
  for (size_t i = 0; i < n; i++) {
    acmeh_bundle d;
    char msg[200];
    int rc = acmeh_bundle_decode(wire, i, &d, msg, sizeof msg);
    CU_ASSERT(rc == ACMEH_PEER_PROTOCOL);
  }
}

static void test_deep_nesting(void) {
  enum { DEPTH = 10000 };
  unsigned char *buf = malloc(DEPTH + 1);
  char msg[200];
  acmeh_bundle d;
  memset(buf, 0x81, DEPTH), buf[DEPTH] = 0x00; /* [[[...[0]...]]] */
  CU_ASSERT(acmeh_bundle_decode(buf, DEPTH + 1, &d, msg, sizeof msg) == ACMEH_PEER_TOO_LARGE);
  CU_ASSERT(strstr(msg, "deeper") != NULL);
  memset(buf, 0x9f, DEPTH); /* indefinite arrays, never closed */
  CU_ASSERT(acmeh_bundle_decode(buf, DEPTH, &d, msg, sizeof msg) == ACMEH_PEER_TOO_LARGE);
  acmeh_dtn_record r;
  CU_ASSERT(acmeh_dtn_record_decode(buf, DEPTH, &r, msg, sizeof msg) == ACMEH_PEER_TOO_LARGE);
  free(buf);
}

static void test_huge_lengths(void) {
  static const unsigned char cases[][12] = {
      {0x9f, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00},               /* bstr of 4 GB */
      {0x9f, 0x7a, 0xff, 0xff, 0xff, 0xff, 0x00},               /* tstr of 4 GB */
      {0x9f, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, /* array of 2^64-1 */
      {0x82, 0x19, 0xff, 0xff, 0xba, 0xff, 0xff, 0xff, 0xff},   /* record map of 4 G entries */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    acmeh_bundle d;
    acmeh_dtn_record r;
    char msg[200];
    CU_ASSERT(acmeh_bundle_decode(cases[i], sizeof cases[i], &d, msg, sizeof msg) == ACMEH_PEER_PROTOCOL);
    CU_ASSERT(acmeh_dtn_record_decode(cases[i], sizeof cases[i], &r, msg, sizeof msg) == ACMEH_PEER_PROTOCOL);
  }
}

static void test_oversize(void) {
  size_t n = ACMEH_BUNDLE_MAX + 1;
  unsigned char *buf = calloc(1, n);
  acmeh_bundle d;
  char msg[200];
  CU_ASSERT(acmeh_bundle_decode(buf, n, &d, msg, sizeof msg) == ACMEH_PEER_TOO_LARGE);
  acmeh_bundle b = {.payload = buf, .payload_len = n};
  snprintf(b.dest, sizeof b.dest, "ipn:1.0"), snprintf(b.src, sizeof b.src, "ipn:2.0");
  unsigned char *enc;
  size_t enclen;
  CU_ASSERT(acmeh_bundle_encode(&b, &enc, &enclen) == ACMEH_INVALID_ARG);
  free(buf);
}

static void test_age_and_bib(void) {
  /* A bundle with a Bundle Age block written by the encoder reads back. */
  acmeh_bundle b = {.flags = 0x22, .has_age = 1, .age_ms = 1234, .lifetime_ms = 5000};
  snprintf(b.dest, sizeof b.dest, "dtn://c/"), snprintf(b.src, sizeof b.src, "dtn://s/");
  unsigned char *enc;
  size_t n;
  CU_ASSERT_FATAL(acmeh_bundle_encode(&b, &enc, &n) == ACMEH_OK);
  acmeh_bundle d;
  char msg[200];
  CU_ASSERT(acmeh_bundle_decode(enc, n, &d, msg, sizeof msg) == ACMEH_OK && d.has_age && d.age_ms == 1234 && d.created_ms == 0);
  acmeh_bundle_clear(&d);
  free(enc);
  /* A BIB (block 2) whose ASB targets blocks 0 and 1: [0,1], context 1, flags 0, source [1,0], results [] */
  static const unsigned char with_bib[] = {0x9f, 0x88, 0x07, 0x02, 0x00, 0x82, 0x02, 0x82, 0x01, 0x00, 0x82, 0x02, 0x82, 0x02, 0x00,
                                           0x82, 0x01, 0x00, 0x82, 0x00, 0x00, 0x01,
                                           0x85, 0x0b, 0x02, 0x00, 0x00, 0x48, 0x82, 0x00, 0x01, 0x01, 0x00, 0x82, 0x01, 0x00,
                                           0x85, 0x01, 0x01, 0x00, 0x00, 0x40, 0xff};
  CU_ASSERT(acmeh_bundle_decode(with_bib, sizeof with_bib, &d, msg, sizeof msg) == ACMEH_OK);
  CU_ASSERT(d.has_bib && d.bib_covers_primary && d.bib_covers_payload && !d.has_bcb);
  acmeh_bundle_clear(&d);
}

static void test_record_shapes(void) {
  acmeh_dtn_record r;
  char msg[200];
  static const unsigned char repeated[] = {0x82, 0x18, 0xff, 0xa2, 0x01, 0x40, 0x01, 0x40};
  CU_ASSERT(acmeh_dtn_record_decode(repeated, sizeof repeated, &r, msg, sizeof msg) == ACMEH_PEER_PROTOCOL && strstr(msg, "repeated"));
  static const unsigned char text_id[] = {0x82, 0x18, 0xff, 0xa1, 0x01, 0x61, 0x41};
  CU_ASSERT(acmeh_dtn_record_decode(text_id, sizeof text_id, &r, msg, sizeof msg) == ACMEH_PEER_PROTOCOL && strstr(msg, "byte string"));
  static const unsigned char empty_algs[] = {0x82, 0x18, 0xff, 0xa1, 0x04, 0x80};
  CU_ASSERT(acmeh_dtn_record_decode(empty_algs, sizeof empty_algs, &r, msg, sizeof msg) == ACMEH_PEER_PROTOCOL);
  static const unsigned char text_alg[] = {0x82, 0x18, 0xff, 0xa1, 0x04, 0x82, 0x63, 'S', 'H', 'A', 0x2f};
  CU_ASSERT(acmeh_dtn_record_decode(text_alg, sizeof text_alg, &r, msg, sizeof msg) == ACMEH_OK && r.alg_text_count == 1 && r.alg_count == 1 && r.algs[0] == -16);
}

/* RFC 9891 §5 / RFC 9174 §4.4.1: a CSR for "ipn:1.0" carries the BundleEID
 * otherName whose value is [0] { IA5String "ipn:1.0" } = a0 09 16 07 69 70 6e
 * 3a 31 2e 30 (the digest's fixture from an independent implementation), and
 * requests id-kp-bundleSecurity; the SAN readers give the EID back as text. */
static void test_bundle_eid_csr(void) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  const char *names[] = {"ipn:1.0"};
  char *b64 = NULL;
  CU_ASSERT_FATAL(key && acmeh_csr_build(key, names, 1, &b64) == ACMEH_OK);
  X509_REQ *req = NULL;
  CU_ASSERT_FATAL(acmeh_csr_parse(b64, &req) == ACMEH_OK);
  STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
  GENERAL_NAMES *gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
  CU_ASSERT_FATAL(sk_GENERAL_NAME_num(gens) == 1);
  int type = 0;
  OTHERNAME *on = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, 0), &type);
  CU_ASSERT_FATAL(type == GEN_OTHERNAME);
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, on->type_id, 1);
  CU_ASSERT(strcmp(oid, "1.3.6.1.5.5.7.8.11") == 0);
  unsigned char *der = NULL;
  int n = i2d_OTHERNAME(on, &der); /* SEQUENCE { OID, [0] { IA5String } }: its tail is the value */
  static const unsigned char want[] = {0xa0, 0x09, 0x16, 0x07, 'i', 'p', 'n', ':', '1', '.', '0'};
  CU_ASSERT(n > (int)sizeof want && memcmp(der + n - sizeof want, want, sizeof want) == 0);
  OPENSSL_free(der);
  EXTENDED_KEY_USAGE *eku = X509V3_get_d2i(exts, NID_ext_key_usage, NULL, NULL);
  CU_ASSERT(eku && sk_ASN1_OBJECT_num(eku) == 1 && OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, 0), 1) > 0 && strcmp(oid, "1.3.6.1.5.5.7.3.35") == 0);
  char **sans = NULL;
  size_t nsans = 0;
  CU_ASSERT(acmeh_csr_sans(req, &sans, &nsans) == ACMEH_OK && nsans == 1 && strcmp(sans[0], "ipn:1.0") == 0);
  CU_ASSERT(X509_NAME_entry_count(X509_REQ_get_subject_name(req)) == 0); /* no EID as CN */
  acmeh_names_free(sans, nsans);
  EXTENDED_KEY_USAGE_free(eku), GENERAL_NAMES_free(gens), sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req), free(b64), EVP_PKEY_free(key);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"DK key authorization and digest", test_keyauth},
      {"DB draft bundles byte for byte, both codes", test_bundles},
      {"DE EID encodings", test_eids},
      {"DX bad bundles refused", test_bad_vectors},
      {"every truncation of a bundle refused", test_every_truncation},
      {"CBOR nested 10,000 deep refused", test_deep_nesting},
      {"4 GB and 2^64 declared lengths refused", test_huge_lengths},
      {"oversize bundle refused", test_oversize},
      {"Bundle Age and BIB blocks", test_age_and_bib},
      {"record shapes", test_record_shapes},
      {"BundleEID otherName and bundleSecurity EKU in a CSR", test_bundle_eid_csr},
  };
  return acmeh_unit_run("dtn_bundle", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
