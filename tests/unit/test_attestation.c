/* draft-ietf-acme-device-attest: the vectors of vectors/deviceattest/ (device
 * identifier DER, attestation object CBOR, bad CBOR), the mock's packed
 * attestation objects verified by harness/acme/attobj, and every producer
 * fault refused with its reason. Runs under the ASan/UBSan build. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/attobj.h"
#include "harness/acme/b64.h"
#include "harness/acme/cbor_safe.h"
#include "harness/acme/devid.h"
#include "harness/acme/tpmattest.h"
#include <openssl/pem.h>
#include "mocks/attestation/packed.h"
#include "tests/unit/support/unit_main.h"
#include "tests/unit/support/vectors.h"

static json_t *g_vectors;
static acmeh_att_ca *g_ca;
static EVP_PKEY *g_key;

static int suite_init(void) {
  g_vectors = json_array();
  g_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  return acmeh_test_vectors_load(g_vectors, "deviceattest") || acmeh_att_ca_new("test attestation root", &g_ca) || !g_key;
}

static int suite_clean(void) {
  json_decref(g_vectors);
  acmeh_att_ca_free(g_ca);
  EVP_PKEY_free(g_key);
  return 0;
}

static unsigned char *unhex(const char *h, size_t *n) {
  *n = strlen(h) / 2;
  unsigned char *b = malloc(*n + 1);
  for (size_t i = 0; b && i < *n; i++) sscanf(h + 2 * i, "%2hhx", &b[i]);
  return b;
}

static void one_devid(const json_t *v) {
  unsigned char *der = NULL;
  size_t n = 0;
  acmeh_devid_type t = acmeh_devid_type_of(sget(vin(v), "type"));
  int rc = acmeh_devid_der(t, sget(vin(v), "value"), &der, &n);
  const char *want = sget(vexp(v), "der");
  char *hex = rc ? NULL : acmeh_test_hex(der, n);
  VCHECK(want ? streq(hex, want) : rc == ACMEH_INVALID_ARG, v);
  if (want) { /* and back from the otherName */
    GENERAL_NAME *gn = acmeh_devid_general_name(t, sget(vin(v), "value"));
    acmeh_devid_type got;
    char *back = acmeh_devid_from_general_name(gn, &got);
    VCHECK(got == t && streq(back, sget(vin(v), "value")), v);
    free(back);
    GENERAL_NAME_free(gn);
  }
  free(hex), free(der);
}

static void one_attobj(const json_t *v) {
  cbor_item_t *m = cbor_new_definite_map(2), *k1 = cbor_build_string("fmt"), *v1 = cbor_build_string(sget(vin(v), "fmt")),
              *k2 = cbor_build_string("attStmt"), *v2 = cbor_new_definite_map(0);
  cbor_map_add(m, (struct cbor_pair){k1, v1});
  cbor_map_add(m, (struct cbor_pair){k2, v2});
  unsigned char *out = NULL;
  size_t n = 0;
  VCHECK(acmeh_cbor_encode(m, &out, &n) == ACMEH_OK, v);
  char *hex = acmeh_test_hex(out, n), *b64 = acmeh_b64url_encode(out, n);
  VCHECK(streq(hex, sget(vexp(v), "cbor")) && streq(b64, sget(vexp(v), "b64url")), v);
  cbor_item_t *back = NULL;
  VCHECK(acmeh_cbor_load_safe(out, n, &back, NULL, 0) == ACMEH_OK, v);
  if (back) cbor_decref(&back);
  free(hex), free(b64), free(out);
  cbor_decref(&k1), cbor_decref(&v1), cbor_decref(&k2), cbor_decref(&v2), cbor_decref(&m);
}

static void one_sha(const json_t *v) {
  unsigned char d[32];
  const char *t = sget(vin(v), "text");
  EVP_Digest(t, strlen(t), d, NULL, EVP_sha256(), NULL);
  char *hex = acmeh_test_hex(d, 32);
  VCHECK(streq(hex, sget(vexp(v), "sha256")), v);
  free(hex);
}

static void one_bad(const json_t *v) {
  size_t tail_n = 0, times = (size_t)json_integer_value(json_object_get(vin(v), "times"));
  unsigned char *tail = unhex(sget(vin(v), "hex"), &tail_n), *rep = NULL;
  size_t rep_n = 0;
  if (sget(vin(v), "repeat")) rep = unhex(sget(vin(v), "repeat"), &rep_n);
  size_t n = rep_n * times + tail_n;
  unsigned char *buf = malloc(n);
  for (size_t i = 0; i < times; i++) memcpy(buf + i * rep_n, rep, rep_n);
  memcpy(buf + rep_n * times, tail, tail_n);
  cbor_item_t *item = NULL;
  char err[256] = "";
  int rc = acmeh_cbor_load_safe(buf, n, &item, err, sizeof err);
  const char *want = sget(vexp(v), "error");
  VCHECK(rc == ACMEH_PEER_PROTOCOL && item == NULL && strncmp(err, want, strlen(want)) == 0, v);
  if (rc != ACMEH_PEER_PROTOCOL || strncmp(err, want, strlen(want))) fprintf(stderr, "  got %d \"%s\"\n", rc, err);
  free(buf), free(tail), free(rep);
}

/* A recorded swtpm statement: the AK's signature over certInfo and the
 * structure checks, with the vector's key authorization. */
static void one_tpm(const json_t *v) {
  size_t cl, pl, sl;
  unsigned char *ci = unhex(sget(vin(v), "cert_info"), &cl), *pub = unhex(sget(vin(v), "pub_area"), &pl),
                *sig = unhex(sget(vin(v), "sig"), &sl), extra[32];
  const char *ka = sget(vin(v), "key_authorization"), *pem = sget(vin(v), "ak_public_pem");
  EVP_Digest(ka, strlen(ka), extra, NULL, EVP_sha256(), NULL);
  BIO *b = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *ak = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL), *k = NULL;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  VCHECK(ak && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ak) == 1 && EVP_DigestVerify(md, sig, sl, ci, cl) == 1, v);
  char err[200] = "";
  int rc = acmeh_tpm_check(ci, cl, pub, pl, extra, 32, &k, err, sizeof err);
  const char *want = sget(vexp(v), "error");
  VCHECK(json_is_true(json_object_get(vexp(v), "valid")) ? rc == ACMEH_OK && k : rc == ACMEH_PEER_PROTOCOL && streq(err, want), v);
  EVP_PKEY_free(k), EVP_PKEY_free(ak);
  EVP_MD_CTX_free(md);
  BIO_free(b);
  free(ci), free(pub), free(sig);
}

static void test_vectors(void) {
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "tpm_statement", one_tpm) == 2);
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "devid_der", one_devid) >= 7);
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "attobj_cbor", one_attobj) == 1);
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "sha256", one_sha) == 2);
  CU_ASSERT(acmeh_test_vectors_for_op(g_vectors, "cbor_bad", one_bad) >= 8);
}

static void test_too_large(void) {
  size_t n = ACMEH_CBOR_MAX_BYTES + 1;
  unsigned char *b = calloc(1, n);
  cbor_item_t *item = NULL;
  CU_ASSERT(acmeh_cbor_load_safe(b, n, &item, NULL, 0) == ACMEH_PEER_TOO_LARGE);
  free(b);
}

static const char *KA = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* Produces with `fault` (and overrides) and verifies against the right expectations. */
static int run(acmeh_att_fault fault, const char *tbs, const char *attested, char *err, size_t errlen, acmeh_attobj_result *r) {
  acmeh_att_packed_in in = {g_key, ACMEH_DEVID_PERMANENT, attested ? attested : "ABCDEF123456/1.2.3.4",
                            (const unsigned char *)(tbs ? tbs : KA), strlen(tbs ? tbs : KA), 0, fault};
  unsigned char *obj = NULL;
  size_t n = 0;
  if (acmeh_att_packed(g_ca, &in, &obj, &n) != ACMEH_OK) return -100;
  X509 *root = acmeh_att_ca_cert(g_ca);
  acmeh_attobj_expect e = {&root, 1, (const unsigned char *)KA, strlen(KA), ACMEH_DEVID_PERMANENT, "ABCDEF123456/1.2.3.4", 0};
  int rc = acmeh_attobj_verify(obj, n, &e, r, err, errlen);
  free(obj);
  return rc;
}

static void expect(acmeh_att_fault fault, const char *tbs, const char *attested, const char *prefix) {
  char err[300] = "";
  acmeh_attobj_result r;
  int rc = run(fault, tbs, attested, err, sizeof err, &r);
  int ok = prefix ? rc == ACMEH_PEER_PROTOCOL && strncmp(err, prefix, strlen(prefix)) == 0 : rc == ACMEH_OK && r.key;
  if (!ok) fprintf(stderr, "\n  fault %d: rc %d \"%s\", wanted %s\n", fault, rc, err, prefix ? prefix : "success");
  CU_ASSERT(ok);
  if (!prefix && r.key) CU_ASSERT(EVP_PKEY_eq(r.key, g_key) == 1);
  EVP_PKEY_free(r.key);
}

static void test_packed_verifies(void) { expect(ACMEH_ATT_OK, NULL, NULL, NULL); }
static void test_packed_faults(void) {
  expect(ACMEH_ATT_UNTRUSTED, NULL, NULL, "attestation certificate does not verify");
  expect(ACMEH_ATT_EXPIRED, NULL, NULL, "attestation certificate does not verify: certificate has expired");
  expect(ACMEH_ATT_UNKNOWN_FMT, NULL, NULL, "unsupported attestation format \"x-acmeh-unknown\"");
  expect(ACMEH_ATT_MALFORMED, NULL, NULL, "malformed CBOR: truncated");
  expect(ACMEH_ATT_BAD_SIG, NULL, NULL, "attestation signature does not verify");
  expect(ACMEH_ATT_OK, "otherToken.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", NULL, "attestation signature does not verify");
  expect(ACMEH_ATT_OK, NULL, "ABCDEF123457/1.2.3.4", "attested identifier permanent-identifier \"ABCDEF123457/1.2.3.4\"");
}

/* Every prefix of a good object, and every single-byte change of it, ends in
 * a verdict (the ASan build would abort on a bad read). */
static void test_mutations(void) {
  acmeh_att_packed_in in = {g_key, ACMEH_DEVID_HWMODULE, "ABCD/1.2.3.4", (const unsigned char *)KA, strlen(KA), 1, 0};
  unsigned char *obj = NULL;
  size_t n = 0;
  CU_ASSERT_FATAL(acmeh_att_packed(g_ca, &in, &obj, &n) == ACMEH_OK);
  X509 *root = acmeh_att_ca_cert(g_ca);
  acmeh_attobj_expect e = {&root, 1, (const unsigned char *)KA, strlen(KA), ACMEH_DEVID_HWMODULE, "ABCD/1.2.3.4", 0};
  acmeh_attobj_result r;
  char err[300];
  CU_ASSERT(acmeh_attobj_verify(obj, n, &e, &r, err, sizeof err) == ACMEH_OK && r.had_authdata);
  EVP_PKEY_free(r.key);
  for (size_t cut = 0; cut < n; cut++) {
    CU_ASSERT(acmeh_attobj_verify(obj, cut, &e, &r, err, sizeof err) != ACMEH_OK);
    EVP_PKEY_free(r.key);
  }
  for (size_t i = 0; i < n; i += 3) {
    unsigned char keep = obj[i];
    obj[i] ^= 0x5a;
    acmeh_attobj_verify(obj, n, &e, &r, err, sizeof err);
    EVP_PKEY_free(r.key);
    obj[i] = keep;
  }
  free(obj);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"vectors", test_vectors},           {"too large", test_too_large}, {"packed verifies", test_packed_verifies},
      {"packed faults", test_packed_faults}, {"mutations", test_mutations},
  };
  return acmeh_unit_run("attestation", suite_init, suite_clean, tests, sizeof tests / sizeof *tests);
}
