/* RFC 9799 (.onion): every vector of vectors/onion/ against
 * harness/acme/onion, and the CSR verification's negative variants. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/onion.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"
#include "tests/unit/support/vectors.h"

static json_t *g_vectors;

static int suite_init(void) {
  g_vectors = json_array();
  return acmeh_test_vectors_load(g_vectors, "onion");
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

static EVP_PKEY *seed_key(const char *hex) {
  unsigned char seed[32];
  unhex(hex, seed, 32);
  return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

static void one_address(const json_t *v) {
  unsigned char pub[32];
  char why[200] = "", addr[63], base[63];
  int rc = acmeh_onion_parse(sget(vin(v), "name"), pub, why, sizeof why);
  VCHECK((rc == ACMEH_OK) == json_is_true(json_object_get(vexp(v), "valid")), v);
  if (sget(vexp(v), "why")) VCHECK(strstr(why, sget(vexp(v), "why")) != NULL, v);
  if (rc != ACMEH_OK) return;
  char *hex = acmeh_test_hex(pub, 32);
  VCHECK(streq(hex, sget(vexp(v), "pubkey")), v);
  free(hex);
  VCHECK(acmeh_onion_address(pub, addr) == ACMEH_OK && acmeh_onion_base(sget(vin(v), "name"), base) == ACMEH_OK, v);
  VCHECK(streq(addr, base), v);
}

static void test_address(void) { CU_ASSERT(for_op("onion_address", one_address) >= 6); }

static void one_nonce(const json_t *v) {
  unsigned char out[ACMEH_ONION_NONCE_MAX];
  size_t n = 0;
  int rc = acmeh_onion_nonce_decode(sget(vin(v), "nonce"), out, sizeof out, &n);
  const char *want = sget(vexp(v), "hex");
  VCHECK(want ? rc == ACMEH_OK : rc != ACMEH_OK, v);
  if (!want || rc) return;
  char *hex = acmeh_test_hex(out, n), back[64];
  VCHECK(streq(hex, want), v);
  VCHECK(acmeh_onion_nonce_encode(out, n, back, sizeof back) == ACMEH_OK && streq(back, sget(vin(v), "nonce")), v);
  free(hex);
}

static void test_nonce(void) { CU_ASSERT(for_op("onion_nonce", one_nonce) >= 2); }

static void one_csr(const json_t *v) {
  EVP_PKEY *k = seed_key(sget(vin(v), "seed"));
  unsigned char nonce[64], app[64], pub[32], md[32];
  size_t nlen = 0, alen = unhex(sget(vin(v), "applicant_nonce"), app, sizeof app);
  char *csr = NULL, why[200] = "";
  VCHECK(acmeh_onion_nonce_decode(sget(vin(v), "nonce"), nonce, sizeof nonce, &nlen) == ACMEH_OK, v);
  VCHECK(acmeh_onion_csr_build(k, nonce, nlen, app, alen, &csr) == ACMEH_OK, v);
  VCHECK(streq(csr, sget(vexp(v), "csr")), v);
  unsigned char *der = NULL;
  size_t dlen = 0;
  VCHECK(acmeh_b64url_decode(csr, strlen(csr), &der, &dlen) == ACMEH_OK, v);
  SHA256(der, dlen, md);
  char *hex = acmeh_test_hex(md, 32);
  VCHECK(streq(hex, sget(vexp(v), "sha256")), v);
  VCHECK(acmeh_onion_parse(sget(vin(v), "name"), pub, NULL, 0) == ACMEH_OK, v);
  VCHECK(acmeh_onion_csr_verify(csr, pub, nonce, nlen, why, sizeof why) == ACMEH_OK, v);
  free(hex), free(der), free(csr);
  EVP_PKEY_free(k);
}

static void test_csr(void) { CU_ASSERT(for_op("onion_csr", one_csr) >= 1); }

/* The digest's negative variants of ONION-V5, each refused with its reason. */
static void test_csr_negative(void) {
  EVP_PKEY *k = seed_key("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), *other = seed_key("01");
  unsigned char pub[32], nonce[8] = {0x6c, 0x8e, 0xbf, 0x31, 0x1a, 0x95, 0xe2, 0x0c}, bad[8], app[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  char why[200], *csr = NULL;
  CU_ASSERT(acmeh_onion_pub(k, pub) == ACMEH_OK);
  memcpy(bad, nonce, 8), bad[0] ^= 1;
  struct {
    EVP_PKEY *key;
    const unsigned char *ca;
    size_t ca_len, app_len;
    const char *reason;
  } cases[] = {{k, bad, 8, 10, "caSigningNonce is not"},
               {k, (const unsigned char *)"bI6/MRqV4gw=", 12, 10, "caSigningNonce is not"},
               {k, nonce, 8, 4, "fewer than 64 bits"},
               {other, nonce, 8, 10, "not the onion address's key"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CU_ASSERT_FATAL(acmeh_onion_csr_build(cases[i].key, cases[i].ca, cases[i].ca_len, app, cases[i].app_len, &csr) == ACMEH_OK);
    why[0] = 0;
    CU_ASSERT(acmeh_onion_csr_verify(csr, pub, nonce, 8, why, sizeof why) == ACMEH_PEER_PROTOCOL);
    if (!strstr(why, cases[i].reason)) fprintf(stderr, "\n  case %zu: %s\n", i, why);
    CU_ASSERT(strstr(why, cases[i].reason) != NULL);
    free(csr);
  }
  CU_ASSERT(acmeh_onion_csr_verify("not-der", pub, nonce, 8, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  EVP_PKEY_free(k), EVP_PKEY_free(other);
}

static void one_caa_verify(const json_t *v) {
  unsigned char pub[32];
  VCHECK(acmeh_onion_parse(sget(vin(v), "name"), pub, NULL, 0) == ACMEH_OK, v);
  int ok = acmeh_onion_caa_verify(pub, (long long)json_integer_value(json_object_get(vin(v), "expiry")), sget(vin(v), "caa"),
                                  sget(vin(v), "signature"));
  VCHECK(ok == json_is_true(json_object_get(vexp(v), "valid")), v);
}

static void test_caa_verify(void) { CU_ASSERT(for_op("onion_caa_verify", one_caa_verify) >= 2); }

static void one_caa_sign(const json_t *v) {
  EVP_PKEY *k = seed_key(sget(vin(v), "seed"));
  long long exp = (long long)json_integer_value(json_object_get(vin(v), "expiry"));
  char *tbs = acmeh_onion_caa_tbs(exp, sget(vin(v), "caa")), *sig = NULL;
  unsigned char pub[32];
  VCHECK(streq(tbs, sget(vexp(v), "tbs")), v);
  VCHECK(acmeh_onion_caa_sign(k, exp, sget(vin(v), "caa"), &sig) == ACMEH_OK && streq(sig, sget(vexp(v), "signature")), v);
  VCHECK(acmeh_onion_pub(k, pub) == ACMEH_OK && acmeh_onion_caa_verify(pub, exp, sget(vin(v), "caa"), sig), v);
  VCHECK(!acmeh_onion_caa_verify(pub, exp + 1, sget(vin(v), "caa"), sig), v);
  free(tbs), free(sig);
  EVP_PKEY_free(k);
}

static void test_caa_sign(void) { CU_ASSERT(for_op("onion_caa_sign", one_caa_sign) >= 2); }

/* Writes hex bytes to dir/name; returns the path (static buffer per call site). */
static void write_hex(const char *dir, const char *name, const char *hex, char *path, size_t len) {
  unsigned char b[256];
  size_t n = unhex(hex, b, sizeof b);
  snprintf(path, len, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  CU_ASSERT_FATAL(f != NULL);
  fwrite(b, 1, n, f);
  fclose(f);
}

static void one_tor(const json_t *v) {
  char dir[] = "/tmp/acmeh-onion-XXXXXX", pubp[300], secp[300], why[300] = "", addr[63];
  CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
  write_hex(dir, "hs_ed25519_public_key", sget(vin(v), "hs_ed25519_public_key"), pubp, sizeof pubp);
  write_hex(dir, "hs_ed25519_secret_key", sget(vin(v), "hs_ed25519_secret_key"), secp, sizeof secp);
  EVP_PKEY *k = NULL;
  int priv = -1;
  unsigned char pub[32];
  VCHECK(acmeh_onion_key_load(pubp, &k, &priv, why, sizeof why) == ACMEH_OK && priv == 0, v);
  VCHECK(acmeh_onion_pub(k, pub) == ACMEH_OK && acmeh_onion_address(pub, addr) == ACMEH_OK, v);
  VCHECK(streq(addr, sget(vin(v), "hostname")), v);
  EVP_PKEY_free(k), k = NULL;
  VCHECK(acmeh_onion_key_load(secp, &k, &priv, why, sizeof why) == ACMEH_UNSUPPORTED && !k, v);
  VCHECK(strstr(why, "expanded") != NULL, v);
  acmeh_test_rmtree(dir);
}

static void test_tor_keys(void) { CU_ASSERT(for_op("onion_tor_keys", one_tor) >= 1); }

static void test_is_onion(void) {
  CU_ASSERT(acmeh_onion_is("a.onion") && acmeh_onion_is("A.ONION.") && acmeh_onion_is("onion"));
  CU_ASSERT(!acmeh_onion_is("xonion") && !acmeh_onion_is("onion.example") && !acmeh_onion_is(""));
  char why[100];
  CU_ASSERT(acmeh_onion_parse("example.com", NULL, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  CU_ASSERT(acmeh_onion_parse(".onion", NULL, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  unsigned char out[4];
  size_t n;
  CU_ASSERT(acmeh_onion_nonce_decode("AAAAAAAA", out, sizeof out, &n) == ACMEH_PEER_PROTOCOL); /* 6 bytes > cap 4 */
  CU_ASSERT(acmeh_onion_nonce_decode("AA=A", out, sizeof out, &n) == ACMEH_PEER_PROTOCOL);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"address checksum", test_address}, {"nonce base64", test_nonce},       {"onion-csr-01 CSR", test_csr},
      {"CSR negative variants", test_csr_negative}, {"in-band CAA verify", test_caa_verify},
      {"in-band CAA sign", test_caa_sign},  {"Tor key files", test_tor_keys},   {"names", test_is_onion},
  };
  return acmeh_unit_run("onion", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
