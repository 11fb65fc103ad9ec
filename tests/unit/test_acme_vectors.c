/* Runs every vector in vectors/core/ against harness/acme: each vector's
 * input.op names the primitive it exercises. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/challenge.h"
#include "harness/acme/jwk.h"
#include "harness/acme/jws.h"
#include "base/error.h"
#include "tests/unit/support/vectors.h"
#include "tests/unit/support/unit_main.h"

/* All vectors of all files, loaded once by the suite init. */
static json_t *g_vectors;

static int suite_init(void) {
  g_vectors = json_array();
  return acmeh_test_vectors_load(g_vectors, "core");
}

static int suite_clean(void) {
  json_decref(g_vectors);
  return 0;
}

static int for_op(const char *op, void (*fn)(const json_t *)) { return acmeh_test_vectors_for_op(g_vectors, op, fn); }

static acmeh_key *key_of(const json_t *v) {
  acmeh_key *k = NULL;
  int rc = acmeh_key_from_jwk(json_object_get(vin(v), "jwk"), &k);
  VCHECK(rc == ACMEH_OK, v);
  return rc == ACMEH_OK ? k : NULL;
}

/* ---- thumbprints -------------------------------------------------------- */

static void one_thumbprint(const json_t *v) {
  const json_t *jwk = json_object_get(vin(v), "jwk");
  char tp[44];
  VCHECK(acmeh_jwk_thumbprint(jwk, tp) == ACMEH_OK, v);
  VCHECK(streq(tp, sget(vexp(v), "thumbprint")), v);
  /* The same thumbprint must come out of a key built from the JWK. */
  acmeh_key *k = key_of(v);
  if (!k) return;
  VCHECK(acmeh_key_thumbprint(k, tp) == ACMEH_OK, v);
  VCHECK(streq(tp, sget(vexp(v), "thumbprint")), v);
  acmeh_key_free(k);
}

static void test_thumbprints(void) { CU_ASSERT(for_op("jwk_thumbprint", one_thumbprint) >= 5); }

/* ---- signatures --------------------------------------------------------- */

static void one_verify(const json_t *v) {
  acmeh_key *k = key_of(v);
  if (!k) return;
  const char *si = sget(vin(v), "signing_input");
  const char *sig64 = sget(vin(v), "signature");
  unsigned char *sig = NULL;
  size_t siglen = 0;
  VCHECK(acmeh_b64url_decode(sig64, strlen(sig64), &sig, &siglen) == ACMEH_OK, v);
  int rc = acmeh_key_verify(k, sget(vin(v), "alg"), (const unsigned char *)si, strlen(si), sig,
                            siglen);
  int want = json_is_true(json_object_get(vexp(v), "valid"));
  VCHECK(want ? rc == ACMEH_OK : rc == ACMEH_PEER_PROTOCOL, v);
  free(sig);
  acmeh_key_free(k);
}

static void test_verify(void) { CU_ASSERT(for_op("jws_verify", one_verify) >= 2); }

/* Signs b64u(protected_json) "." b64u(payload_text) and compares. */
static void one_sign(const json_t *v) {
  acmeh_key *k = key_of(v);
  if (!k) return;
  const char *pj = sget(vin(v), "protected_json");
  const char *pt = sget(vin(v), "payload_text");
  char *p64 = acmeh_b64url_encode((const unsigned char *)pj, strlen(pj));
  char *y64 = acmeh_b64url_encode((const unsigned char *)pt, strlen(pt));
  VCHECK(streq(p64, sget(vexp(v), "protected")), v);
  VCHECK(streq(y64, sget(vexp(v), "payload")), v);
  char input[1024];
  snprintf(input, sizeof(input), "%s.%s", p64, y64);
  unsigned char *sig = NULL;
  size_t siglen = 0;
  VCHECK(acmeh_key_sign(k, (const unsigned char *)input, strlen(input), &sig, &siglen) ==
             ACMEH_OK,
         v);
  char *s64 = acmeh_b64url_encode(sig, siglen);
  VCHECK(streq(s64, sget(vexp(v), "signature")), v);
  VCHECK(acmeh_key_verify(k, acmeh_key_alg(k), (const unsigned char *)input, strlen(input), sig,
                          siglen) == ACMEH_OK,
         v);
  free(s64);
  free(sig);
  free(p64);
  free(y64);
  acmeh_key_free(k);
}

static void test_sign(void) { CU_ASSERT(for_op("jws_sign", one_sign) >= 1); }

/* ---- JWS building ------------------------------------------------------- */

/* Checks a built body against the expected parts and verifies it. */
static void check_built(const json_t *v, const char *body, const acmeh_key *k,
                        const unsigned char *mac, size_t maclen) {
  acmeh_jws_parsed p;
  char err[256] = "";
  int rc = acmeh_jws_parse(body, strlen(body), &p, err, sizeof(err));
  VCHECK(rc == ACMEH_OK, v);
  if (rc != ACMEH_OK) return;
  const json_t *e = vexp(v);
  VCHECK(streq(p.protected_b64, sget(e, "protected")), v);
  VCHECK(streq(p.payload_b64, sget(e, "payload")), v);
  char *s64 = acmeh_b64url_encode(p.sig, p.sig_len);
  VCHECK(streq(s64, sget(e, "signature")), v);
  free(s64);
  /* The exact header bytes, not just an equivalent JSON object. */
  unsigned char *hdr = NULL;
  size_t hl = 0;
  VCHECK(acmeh_b64url_decode(p.protected_b64, strlen(p.protected_b64), &hdr, &hl) == ACMEH_OK, v);
  VCHECK(hdr && streq((const char *)hdr, sget(e, "protected_json")), v);
  free(hdr);
  if (k) VCHECK(acmeh_jws_verify(&p, k) == ACMEH_OK, v);
  if (mac) VCHECK(acmeh_jws_verify_hmac(&p, mac, maclen) == ACMEH_OK, v);
  acmeh_jws_parsed_free(&p);
}

static void one_build(const json_t *v) {
  const json_t *in = vin(v);
  acmeh_jws_opts o = {0};
  o.kid = sget(in, "kid");
  o.nonce = sget(in, "nonce");
  o.url = sget(in, "url");
  o.use_jwk = json_is_true(json_object_get(in, "use_jwk"));
  acmeh_key *k = json_object_get(in, "jwk") ? key_of(v) : NULL;
  unsigned char *mac = NULL;
  size_t maclen = 0;
  const char *mk = sget(in, "mac_key");
  if (mk) {
    VCHECK(acmeh_b64url_decode(mk, strlen(mk), &mac, &maclen) == ACMEH_OK, v);
    o.mac_key = mac;
    o.mac_key_len = maclen;
  }
  const json_t *payload = json_object_get(in, "payload_json");
  char *body = NULL;
  int rc = acmeh_jws_build_json(k, json_is_null(payload) ? NULL : payload, &o, &body);
  VCHECK(rc == ACMEH_OK, v);
  if (rc == ACMEH_OK) check_built(v, body, k, mac, maclen);
  free(body);
  free(mac);
  acmeh_key_free(k);
}

static void test_build(void) { CU_ASSERT(for_op("jws_build", one_build) >= 3); }

/* ---- challenges --------------------------------------------------------- */

static void one_challenge(const json_t *v) {
  const json_t *e = vexp(v);
  char tp[44], txt[44];
  VCHECK(acmeh_jwk_thumbprint(json_object_get(vin(v), "jwk"), tp) == ACMEH_OK, v);
  char *ka = acmeh_key_authorization(sget(vin(v), "token"), tp);
  VCHECK(streq(ka, sget(e, "key_authorization")), v);
  if (!ka) return;
  unsigned char md[32];
  unsigned int mdlen = 0;
  EVP_Digest(ka, strlen(ka), md, &mdlen, EVP_sha256(), NULL);
  char *mdhex = acmeh_test_hex(md, mdlen);
  VCHECK(streq(mdhex, sget(e, "sha256_hex")), v);
  VCHECK(acmeh_dns01_txt(ka, txt) == ACMEH_OK, v);
  VCHECK(streq(txt, sget(e, "dns01_txt")), v);
  unsigned char ext[51];
  VCHECK(acmeh_tlsalpn01_extension_der(ka, ext) == ACMEH_OK, v);
  char *exthex = acmeh_test_hex(ext, sizeof(ext));
  VCHECK(streq(exthex, sget(e, "tlsalpn01_extension_der_hex")), v);
  free(exthex);
  free(mdhex);
  free(ka);
}

static void test_challenge(void) { CU_ASSERT(for_op("challenge", one_challenge) >= 2); }

/* ---- base64url ---------------------------------------------------------- */

static void one_encode(const json_t *v) {
  const char *hx = sget(vin(v), "hex");
  size_t n = strlen(hx) / 2;
  unsigned char buf[256];
  for (size_t i = 0; i < n && i < sizeof(buf); i++) sscanf(hx + 2 * i, "%2hhx", &buf[i]);
  char *s = acmeh_b64url_encode(buf, n);
  VCHECK(streq(s, sget(vexp(v), "b64url")), v);
  free(s);
}

static void one_decode(const json_t *v) {
  const char *s = sget(vin(v), "b64url");
  unsigned char *out = NULL;
  size_t n = 0;
  int rc = acmeh_b64url_decode(s, strlen(s), &out, &n);
  if (json_is_true(json_object_get(vexp(v), "valid"))) {
    VCHECK(rc == ACMEH_OK, v);
    char *h = rc == ACMEH_OK ? acmeh_test_hex(out, n) : NULL;
    VCHECK(streq(h, sget(vexp(v), "hex")), v);
    free(h);
    /* valid() requires non-empty input on top of decode()'s rules. */
    VCHECK(acmeh_b64url_valid(s) == (*s != '\0'), v);
  } else {
    VCHECK(rc == ACMEH_PEER_PROTOCOL, v);
    VCHECK(acmeh_b64url_valid(s) == 0, v);
  }
  free(out);
}

static void test_b64url(void) {
  CU_ASSERT(for_op("b64url_encode", one_encode) >= 4);
  CU_ASSERT(for_op("b64url_decode", one_decode) >= 10);
}

/* Every vector must be claimed by some test, so a typo in "op" cannot hide one. */
static void test_all_ops_known(void) {
  static const char *const known[] = {"jwk_thumbprint", "jws_verify",    "jws_sign",
                                      "jws_build",      "challenge",     "b64url_encode",
                                      "b64url_decode",  NULL};
  size_t i;
  json_t *v;
  CU_ASSERT(json_array_size(g_vectors) > 0);
  json_array_foreach(g_vectors, i, v) {
    int found = 0;
    for (size_t j = 0; known[j]; j++) found |= streq(sget(vin(v), "op"), known[j]);
    VCHECK(found && vname(v) && sget(v, "source") && vexp(v), v);
  }
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"all vectors have a known op", test_all_ops_known},
      {"V1-V3 JWK thumbprints", test_thumbprints},
      {"V4 ES256 verify (R||S ok, DER rejected)", test_verify},
      {"V5 EdDSA deterministic signature", test_sign},
      {"V8-V10 JWS build exact bytes", test_build},
      {"V6 keyAuthorization, dns-01, tls-alpn-01", test_challenge},
      {"base64url edge cases and nonce example", test_b64url},
  };
  return acmeh_unit_run("acme_vectors", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
