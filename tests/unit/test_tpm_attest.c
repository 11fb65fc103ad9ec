/* The `tpm` attestation format from a real software TPM (swtpm, tpm2-tools;
 * mocks/attestation/swtpm.h): a genuine statement verifies through
 * harness/acme/attobj (the reference server's path), a tampered one (other
 * key authorization, other AK, a changed certInfo byte) is refused, and bad
 * TPM structures (every truncation, byte changes) end in an error. Where
 * swtpm or tpm2-tools is missing every test says so and passes nothing
 * else (the skip reason is printed). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "harness/acme/attobj.h"
#include "harness/acme/cbor_safe.h"
#include "harness/acme/tpmattest.h"
#include "mocks/attestation/swtpm.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

static const char KA[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
static const char ID[] = "TPM0123456789/1.3.6.1.4.1.45724.2";
static char g_dir[64];
static acmeh_att_ca *g_ca;
static unsigned char *g_obj;
static size_t g_len;
static EVP_PKEY *g_key;
static int g_missing;

static int suite_init(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/acmeh-tpm-XXXXXX");
  if (!mkdtemp(g_dir) || acmeh_att_ca_new("test TPM AK root", &g_ca)) return 1;
  char sub[128], err[300] = "";
  snprintf(sub, sizeof sub, "%s/good", g_dir);
  acmeh_att_tpm_in in = {sub, ACMEH_DEVID_PERMANENT, ID, (const unsigned char *)KA, sizeof KA - 1, 0};
  int rc = acmeh_att_tpm(g_ca, &in, &g_obj, &g_len, &g_key, err, sizeof err);
  if (rc == ACMEH_ENV_MISSING_BINARY) g_missing = 1, fprintf(stderr, "\nSKIP (every test): %s\n", err);
  else if (rc) fprintf(stderr, "\nswtpm run failed: %s\n", err);
  return rc && !g_missing;
}

static int suite_clean(void) {
  free(g_obj);
  EVP_PKEY_free(g_key);
  acmeh_att_ca_free(g_ca);
  return acmeh_test_rmtree(g_dir) ? 1 : 0;
}

static int verify(const unsigned char *obj, size_t len, const char *tbs, char *err, size_t errlen, EVP_PKEY **key) {
  X509 *root = acmeh_att_ca_cert(g_ca);
  acmeh_attobj_expect e = {&root, 1, (const unsigned char *)tbs, strlen(tbs), ACMEH_DEVID_PERMANENT, ID, 0};
  acmeh_attobj_result r;
  int rc = acmeh_attobj_verify(obj, len, &e, &r, err, errlen);
  if (key) *key = r.key;
  else EVP_PKEY_free(r.key);
  return rc;
}

static void test_genuine(void) {
  if (g_missing) return;
  char err[300] = "";
  EVP_PKEY *k = NULL;
  int rc = verify(g_obj, g_len, KA, err, sizeof err, &k);
  if (rc) fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT(rc == ACMEH_OK && k && EVP_PKEY_eq(k, g_key) == 1);
  EVP_PKEY_free(k);
}

static void expect_refused(const unsigned char *obj, size_t len, const char *tbs, const char *prefix) {
  char err[300] = "";
  int rc = verify(obj, len, tbs, err, sizeof err, NULL);
  int ok = rc == ACMEH_PEER_PROTOCOL && strncmp(err, prefix, strlen(prefix)) == 0;
  if (!ok) fprintf(stderr, "\n  rc %d \"%s\", wanted \"%s\"\n", rc, err, prefix);
  CU_ASSERT(ok);
}

static void test_other_nonce(void) {
  if (g_missing) return;
  expect_refused(g_obj, g_len, "otherToken.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                 "TPM certInfo: extraData is not SHA-256 of the key authorization");
}

static void test_other_ak(void) {
  if (g_missing) return;
  char sub[128], err[300] = "";
  snprintf(sub, sizeof sub, "%s/other-ak", g_dir);
  acmeh_att_tpm_in in = {sub, ACMEH_DEVID_PERMANENT, ID, (const unsigned char *)KA, sizeof KA - 1, 1};
  unsigned char *obj = NULL;
  size_t n = 0;
  EVP_PKEY *k = NULL;
  CU_ASSERT_FATAL(acmeh_att_tpm(g_ca, &in, &obj, &n, &k, err, sizeof err) == ACMEH_OK);
  expect_refused(obj, n, KA, "attestation signature does not verify");
  free(obj);
  EVP_PKEY_free(k);
}

/* certInfo's last byte lives inside the CBOR: find it and change it. */
static void test_changed_certinfo(void) {
  if (g_missing) return;
  cbor_item_t *top = NULL;
  CU_ASSERT_FATAL(acmeh_cbor_load_safe(g_obj, g_len, &top, NULL, 0) == ACMEH_OK);
  cbor_item_t *ci = acmeh_cbor_map_get(acmeh_cbor_map_get(top, "attStmt"), "certInfo");
  CU_ASSERT_FATAL(ci != NULL);
  const unsigned char *p = cbor_bytestring_handle(ci);
  size_t n = cbor_bytestring_length(ci);
  unsigned char *copy = malloc(g_len);
  memcpy(copy, g_obj, g_len);
  unsigned char *at = memmem(copy, g_len, p, n);
  CU_ASSERT_FATAL(at != NULL);
  at[n / 2] ^= 1;
  expect_refused(copy, g_len, KA, "attestation signature does not verify");
  free(copy);
  cbor_decref(&top);
}

/* Every prefix and single-byte change of certInfo and pubArea: an error or
 * (for bytes that do not matter) a verdict, never a crash under ASan. */
static void test_bad_structures(void) {
  if (g_missing) return;
  cbor_item_t *top = NULL;
  CU_ASSERT_FATAL(acmeh_cbor_load_safe(g_obj, g_len, &top, NULL, 0) == ACMEH_OK);
  const cbor_item_t *st = acmeh_cbor_map_get(top, "attStmt");
  const cbor_item_t *ci = acmeh_cbor_map_get(st, "certInfo"), *pub = acmeh_cbor_map_get(st, "pubArea");
  size_t cl = cbor_bytestring_length(ci), pl = cbor_bytestring_length(pub);
  unsigned char extra[32], *c = malloc(cl), *q = malloc(pl);
  EVP_Digest(KA, sizeof KA - 1, extra, NULL, EVP_sha256(), NULL);
  memcpy(c, cbor_bytestring_handle(ci), cl), memcpy(q, cbor_bytestring_handle(pub), pl);
  EVP_PKEY *k = NULL;
  char err[200];
  CU_ASSERT(acmeh_tpm_check(c, cl, q, pl, extra, 32, &k, err, sizeof err) == ACMEH_OK);
  EVP_PKEY_free(k);
  for (size_t i = 0; i < cl; i++) CU_ASSERT(acmeh_tpm_check(c, i, q, pl, extra, 32, &k, err, sizeof err) == ACMEH_PEER_PROTOCOL);
  for (size_t i = 0; i < pl; i++) {
    CU_ASSERT(acmeh_tpm_check(c, cl, q, i, extra, 32, &k, err, sizeof err) == ACMEH_PEER_PROTOCOL);
    q[i] ^= 0xff; /* the name no longer matches: refused before pubArea is read */
    CU_ASSERT(acmeh_tpm_check(c, cl, q, pl, extra, 32, &k, err, sizeof err) == ACMEH_PEER_PROTOCOL);
    q[i] ^= 0xff;
  }
  for (size_t i = 0; i < cl; i++) {
    c[i] ^= 0xff;
    acmeh_tpm_check(c, cl, q, pl, extra, 32, &k, err, sizeof err);
    EVP_PKEY_free(k), k = NULL;
    c[i] ^= 0xff;
  }
  free(c), free(q);
  cbor_decref(&top);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"genuine swtpm statement verifies", test_genuine}, {"other key authorization refused", test_other_nonce},
      {"other AK refused", test_other_ak},                {"changed certInfo refused", test_changed_certinfo},
      {"bad TPM structures", test_bad_structures},
  };
  return acmeh_unit_run("tpm attestation", suite_init, suite_clean, tests, sizeof tests / sizeof *tests);
}
