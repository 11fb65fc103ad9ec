/* JWK/JWS round trips for every key type, every acmeh_jws_opts mutation, and
 * the strictness of acmeh_jws_parse. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/jwk.h"
#include "harness/acme/jws.h"
#include "base/error.h"
#include "tests/unit/support/unit_main.h"

static const char *const KID = "https://example.com/acme/acct/1";
static const char *const NONCE = "oFvnlFP1wIhRlYS2jTaXbA";
static const char *const URL = "https://example.com/acme/new-order";
static const char PAYLOAD[] = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.com\"}]}";

/* One key per type, generated once (RSA generation is slow). */
static acmeh_key *g_keys[4];

static int suite_init(void) {
  for (int t = 0; t < 4; t++)
    if (acmeh_key_generate((acmeh_keytype)t, &g_keys[t]) != ACMEH_OK) return -1;
  return 0;
}

static int suite_clean(void) {
  for (int t = 0; t < 4; t++) acmeh_key_free(g_keys[t]);
  return 0;
}

static acmeh_key *es256(void) { return g_keys[ACMEH_KEY_ES256]; }
static acmeh_key *eddsa(void) { return g_keys[ACMEH_KEY_EDDSA]; }

static acmeh_jws_opts base_opts(void) {
  acmeh_jws_opts o = {0};
  o.kid = KID;
  o.nonce = NONCE;
  o.url = URL;
  return o;
}

/* Builds a JWS with opts over PAYLOAD; the body is malloc'd (caller frees). */
static char *build(const acmeh_key *k, const acmeh_jws_opts *o) {
  char *body = NULL;
  int rc = acmeh_jws_build(k, PAYLOAD, strlen(PAYLOAD), o, &body);
  CU_ASSERT_EQUAL(rc, ACMEH_OK);
  return rc == ACMEH_OK ? body : NULL;
}

/* Parses JSON text into an object (new reference). */
static json_t *js(const char *body) {
  json_t *j = body ? json_loads(body, 0, NULL) : NULL;
  CU_ASSERT_PTR_NOT_NULL(j);
  return j;
}

static const char *member(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

/* Decodes a base64url string into a JSON object (new reference). */
static json_t *b64_json(const char *s) {
  unsigned char *buf = NULL;
  size_t len = 0;
  if (!s || acmeh_b64url_decode(s, strlen(s), &buf, &len) != ACMEH_OK) return NULL;
  json_t *j = json_loadb((const char *)buf, len, 0, NULL);
  free(buf);
  return j;
}

static int parse_ok(const char *body, acmeh_jws_parsed *p) {
  char err[256] = "";
  int rc = acmeh_jws_parse(body, strlen(body), p, err, sizeof(err));
  if (rc != ACMEH_OK) fprintf(stderr, "\n  parse failed: %s\n", err);
  return rc == ACMEH_OK;
}

/* Expects acmeh_jws_parse to reject body with a message containing `why`. */
static void expect_reject(const char *body, const char *why) {
  acmeh_jws_parsed p;
  char err[256] = "";
  CU_ASSERT_EQUAL(acmeh_jws_parse(body, strlen(body), &p, err, sizeof(err)), ACMEH_PEER_PROTOCOL);
  if (!strstr(err, why)) fprintf(stderr, "\n  reason \"%s\" lacks \"%s\"\n", err, why);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
  CU_ASSERT_PTR_NULL(p.protected_hdr); /* nothing left to free on failure */
}

/* ---- round trips -------------------------------------------------------- */

static const size_t SIG_LEN[4] = {64, 96, 256, 64};

static void roundtrip(acmeh_keytype t) {
  acmeh_key *k = g_keys[t];
  CU_ASSERT_EQUAL(acmeh_key_type(k), t);
  acmeh_jws_opts o = base_opts();
  char *body = build(k, &o);
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(body && parse_ok(body, &p));
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "alg"), acmeh_key_alg(k));
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "kid"), KID);
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "nonce"), NONCE);
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "url"), URL);
  CU_ASSERT_PTR_NULL(json_object_get(p.protected_hdr, "jwk"));
  CU_ASSERT_EQUAL(p.payload_len, strlen(PAYLOAD));
  CU_ASSERT_STRING_EQUAL((char *)p.payload, PAYLOAD);
  CU_ASSERT_EQUAL(p.sig_len, SIG_LEN[t]);
  CU_ASSERT_EQUAL(acmeh_jws_verify(&p, k), ACMEH_OK);
  char *in = acmeh_jws_signing_input(&p);
  CU_ASSERT_EQUAL(acmeh_key_verify(k, acmeh_key_alg(k), (unsigned char *)in, strlen(in), p.sig,
                                   p.sig_len),
                  ACMEH_OK);
  /* The wrong alg name for the right key must fail. */
  const char *other = t == ACMEH_KEY_RS256 ? "ES256" : "RS256";
  CU_ASSERT_EQUAL(acmeh_key_verify(k, other, (unsigned char *)in, strlen(in), p.sig, p.sig_len),
                  ACMEH_PEER_PROTOCOL);
  free(in);
  acmeh_jws_parsed_free(&p);
  free(body);
}

/* A newAccount-style JWS: the header jwk alone must be enough to verify. */
static void roundtrip_jwk(acmeh_keytype t) {
  acmeh_key *k = g_keys[t];
  acmeh_jws_opts o = base_opts();
  o.kid = NULL;
  o.use_jwk = 1;
  char *body = build(k, &o);
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(body && parse_ok(body, &p));
  json_t *jwk = json_object_get(p.protected_hdr, "jwk");
  CU_ASSERT_PTR_NULL(json_object_get(p.protected_hdr, "kid"));
  acmeh_key *pub = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_key_from_jwk(jwk, &pub), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_key_type(pub), t);
  CU_ASSERT_EQUAL(acmeh_jws_verify(&p, pub), ACMEH_OK);
  char a[44], b[44];
  CU_ASSERT_EQUAL(acmeh_key_thumbprint(k, a), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_jwk_thumbprint(jwk, b), ACMEH_OK);
  CU_ASSERT_STRING_EQUAL(a, b);
  CU_ASSERT_EQUAL(strlen(a), 43);
  /* A public-only key verifies but refuses to sign. */
  unsigned char *sig = NULL;
  size_t siglen = 0;
  CU_ASSERT_EQUAL(acmeh_key_sign(pub, (const unsigned char *)"x", 1, &sig, &siglen),
                  ACMEH_INVALID_ARG);
  CU_ASSERT_PTR_NULL(acmeh_key_to_pem(pub));
  acmeh_key_free(pub);
  acmeh_jws_parsed_free(&p);
  free(body);
}

static void test_es256(void) { roundtrip(ACMEH_KEY_ES256), roundtrip_jwk(ACMEH_KEY_ES256); }
static void test_es384(void) { roundtrip(ACMEH_KEY_ES384), roundtrip_jwk(ACMEH_KEY_ES384); }
static void test_rs256(void) { roundtrip(ACMEH_KEY_RS256), roundtrip_jwk(ACMEH_KEY_RS256); }
static void test_eddsa(void) { roundtrip(ACMEH_KEY_EDDSA), roundtrip_jwk(ACMEH_KEY_EDDSA); }

/* JWK members: EC coordinates full length, RSA e minimal. */
static void test_jwk_shape(void) {
  for (int t = 0; t < 4; t++) {
    json_t *jwk = acmeh_key_jwk(g_keys[t]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jwk);
    size_t want = t == ACMEH_KEY_ES256 ? 32 : t == ACMEH_KEY_ES384 ? 48 : 0;
    if (want) {
      for (const char *c = "x"; c; c = *c == 'x' ? "y" : NULL) {
        unsigned char *buf = NULL;
        size_t len = 0;
        const char *s = member(jwk, c);
        CU_ASSERT_EQUAL(acmeh_b64url_decode(s, strlen(s), &buf, &len), ACMEH_OK);
        CU_ASSERT_EQUAL(len, want);
        free(buf);
      }
      CU_ASSERT_EQUAL(json_object_size(jwk), 4);
    } else if (t == ACMEH_KEY_RS256) {
      CU_ASSERT_STRING_EQUAL(member(jwk, "e"), "AQAB");
      CU_ASSERT_EQUAL(strlen(member(jwk, "n")), 342); /* 256 bytes, no leading zero */
      CU_ASSERT_EQUAL(json_object_size(jwk), 3);
    } else {
      CU_ASSERT_STRING_EQUAL(member(jwk, "crv"), "Ed25519");
      CU_ASSERT_EQUAL(json_object_size(jwk), 3);
    }
    json_decref(jwk);
  }
}

/* PEM export, re-import through EVP and acmeh_key_from_pkey. */
static void test_pem_and_pkey(void) {
  for (int t = 0; t < 4; t++) {
    char *pem = acmeh_key_to_pem(g_keys[t]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
    CU_ASSERT(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
    free(pem);
    acmeh_key *k = NULL;
    CU_ASSERT_EQUAL_FATAL(acmeh_key_from_pkey(acmeh_key_pkey(g_keys[t]), &k), ACMEH_OK);
    CU_ASSERT_EQUAL((int)acmeh_key_type(k), t);
    unsigned char *sig = NULL;
    size_t siglen = 0;
    CU_ASSERT_EQUAL(acmeh_key_sign(k, (const unsigned char *)"abc", 3, &sig, &siglen), ACMEH_OK);
    CU_ASSERT_EQUAL(siglen, SIG_LEN[t]);
    CU_ASSERT_EQUAL(acmeh_key_verify(g_keys[t], acmeh_key_alg(k), (const unsigned char *)"abc",
                                     3, sig, siglen),
                    ACMEH_OK);
    free(sig);
    acmeh_key_free(k);
  }
}

/* JWKs that must not become keys. */
static void test_bad_jwks(void) {
  static const char *const bad[] = {
      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\"}", /* short coords */
      "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AQAB\",\"y\":\"AQAB\"}",
      "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AQAB\"}",
      "{\"kty\":\"oct\",\"k\":\"AQAB\"}",
      "{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
      /* 32-byte x/y that are not a point on P-256 */
      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
      "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
      "[]",
      NULL};
  for (size_t i = 0; bad[i]; i++) {
    json_t *j = json_loads(bad[i], 0, NULL);
    acmeh_key *k = NULL;
    int rc = acmeh_key_from_jwk(j, &k);
    if (rc != ACMEH_PEER_PROTOCOL) fprintf(stderr, "\n  accepted bad JWK %s\n", bad[i]);
    CU_ASSERT_EQUAL(rc, ACMEH_PEER_PROTOCOL);
    acmeh_key_free(k);
    json_decref(j);
  }
  char tp[44];
  json_t *j = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\"}", 0, NULL);
  CU_ASSERT_EQUAL(acmeh_jwk_thumbprint(j, tp), ACMEH_PEER_PROTOCOL);
  json_decref(j);
}

/* POST-as-GET: NULL payload gives "payload":"" and a signing input ending in ".". */
static void test_post_as_get(void) {
  acmeh_jws_opts o = base_opts();
  char *body = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_jws_build(es256(), NULL, 0, &o, &body), ACMEH_OK);
  json_t *j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "payload"), "");
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(parse_ok(body, &p));
  CU_ASSERT_EQUAL(p.payload_len, 0);
  char *in = acmeh_jws_signing_input(&p);
  CU_ASSERT(in && in[strlen(in) - 1] == '.');
  CU_ASSERT_EQUAL(acmeh_jws_verify(&p, es256()), ACMEH_OK);
  free(in);
  acmeh_jws_parsed_free(&p);
  json_decref(j);
  free(body);
  /* build_json(NULL) is the same thing; a JSON {} is not. */
  CU_ASSERT_EQUAL_FATAL(acmeh_jws_build_json(es256(), NULL, &o, &body), ACMEH_OK);
  j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "payload"), "");
  json_decref(j);
  free(body);
  json_t *empty = json_object();
  CU_ASSERT_EQUAL_FATAL(acmeh_jws_build_json(es256(), empty, &o, &body), ACMEH_OK);
  j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "payload"), "e30"); /* "{}" */
  json_decref(j);
  json_decref(empty);
  free(body);
}

/* ---- mutations ---------------------------------------------------------- */

static void test_b64_false(void) {
  acmeh_jws_opts o = base_opts();
  o.b64_false = 1;
  char *body = build(es256(), &o);
  json_t *j = js(body);
  json_t *hdr = b64_json(member(j, "protected"));
  CU_ASSERT(json_is_false(json_object_get(hdr, "b64")));
  json_t *crit = json_object_get(hdr, "crit");
  CU_ASSERT(json_array_size(crit) == 1 &&
            strcmp(json_string_value(json_array_get(crit, 0)), "b64") == 0);
  CU_ASSERT_STRING_EQUAL(member(j, "payload"), PAYLOAD); /* unencoded */
  /* RFC 7797 signing input: B64U(protected) "." raw payload. */
  unsigned char *sig = NULL;
  size_t siglen = 0;
  const char *s = member(j, "signature");
  CU_ASSERT_EQUAL(acmeh_b64url_decode(s, strlen(s), &sig, &siglen), ACMEH_OK);
  char in[1024];
  snprintf(in, sizeof(in), "%s.%s", member(j, "protected"), PAYLOAD);
  CU_ASSERT_EQUAL(acmeh_key_verify(es256(), "ES256", (unsigned char *)in, strlen(in), sig, siglen),
                  ACMEH_OK);
  expect_reject(body, "crit");
  free(sig);
  json_decref(hdr);
  json_decref(j);
  free(body);
}

static void test_general_serialization(void) {
  acmeh_jws_opts o = base_opts();
  o.general_serialization = 1;
  char *body = build(es256(), &o);
  json_t *j = js(body);
  json_t *sigs = json_object_get(j, "signatures");
  CU_ASSERT_EQUAL(json_array_size(sigs), 1);
  json_t *one = json_array_get(sigs, 0);
  CU_ASSERT_PTR_NOT_NULL(member(one, "protected"));
  CU_ASSERT_PTR_NOT_NULL(member(one, "signature"));
  CU_ASSERT_PTR_NOT_NULL(member(j, "payload"));
  CU_ASSERT_PTR_NULL(json_object_get(j, "protected"));
  CU_ASSERT_PTR_NULL(json_object_get(j, "signature"));
  expect_reject(body, "signatures");
  json_decref(j);
  free(body);
}

static void test_compact_serialization(void) {
  acmeh_jws_opts o = base_opts();
  o.compact_serialization = 1;
  char *body = build(eddsa(), &o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(body);
  char *d1 = strchr(body, '.');
  char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  CU_ASSERT_FATAL(d1 && d2 && !strchr(d2 + 1, '.') && body[0] != '{');
  /* Same parts as the flattened form (EdDSA is deterministic). */
  acmeh_jws_opts f = base_opts();
  char *flat = build(eddsa(), &f);
  json_t *j = js(flat);
  char expect[2048];
  snprintf(expect, sizeof(expect), "%s.%s.%s", member(j, "protected"), member(j, "payload"),
           member(j, "signature"));
  CU_ASSERT_STRING_EQUAL(body, expect);
  acmeh_jws_parsed p;
  char err[128];
  CU_ASSERT_EQUAL(acmeh_jws_parse(body, strlen(body), &p, err, sizeof(err)), ACMEH_PEER_PROTOCOL);
  json_decref(j);
  free(flat);
  free(body);
}

/* Each pad flag puts '=' on exactly its part; stripping it restores a valid JWS. */
static void test_padding(void) {
  static const char *const parts[] = {"protected", "payload", "signature"};
  for (int i = 0; i < 3; i++) {
    acmeh_jws_opts o = base_opts();
    o.pad_protected = i == 0;
    o.pad_payload = i == 1;
    o.pad_signature = i == 2;
    char *body = build(eddsa(), &o);
    json_t *j = js(body);
    for (int m = 0; m < 3; m++) {
      const char *s = member(j, parts[m]);
      CU_ASSERT((strchr(s, '=') != NULL) == (m == i));
    }
    expect_reject(body, "padding");
    /* Strip and re-parse: signature must verify, so padding was the only defect. */
    char *s = strdup(member(j, parts[i]));
    *strchr(s, '=') = '\0';
    json_object_set_new(j, parts[i], json_string(s));
    char *fixed = json_dumps(j, JSON_COMPACT);
    acmeh_jws_parsed p;
    CU_ASSERT_FATAL(parse_ok(fixed, &p));
    CU_ASSERT_EQUAL(acmeh_jws_verify(&p, eddsa()), ACMEH_OK);
    acmeh_jws_parsed_free(&p);
    free(fixed);
    free(s);
    json_decref(j);
    free(body);
  }
  /* POST-as-GET empty payload still shows the padding mutation. */
  acmeh_jws_opts o = base_opts();
  o.pad_payload = 1;
  char *body = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_jws_build(eddsa(), NULL, 0, &o, &body), ACMEH_OK);
  json_t *j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "payload"), "=");
  json_decref(j);
  free(body);
}

static void test_der_signature(void) {
  acmeh_jws_opts o = base_opts();
  o.der_signature = 1;
  for (int t = ACMEH_KEY_ES256; t <= ACMEH_KEY_ES384; t++) {
    char *body = build(g_keys[t], &o);
    acmeh_jws_parsed p;
    CU_ASSERT_FATAL(parse_ok(body, &p));
    CU_ASSERT(p.sig_len > 0 && p.sig[0] == 0x30); /* DER SEQUENCE */
    CU_ASSERT_NOT_EQUAL(p.sig_len, SIG_LEN[t]);
    CU_ASSERT_EQUAL(acmeh_jws_verify(&p, g_keys[t]), ACMEH_PEER_PROTOCOL);
    acmeh_jws_parsed_free(&p);
    free(body);
  }
}

/* Flip: EdDSA is deterministic, so the mutated signature must differ from
 * the honest one in exactly one bit. */
static void test_flip_bit(void) {
  acmeh_jws_opts o = base_opts();
  char *good = build(eddsa(), &o);
  o.flip_signature_bit = 1;
  char *bad = build(eddsa(), &o);
  acmeh_jws_parsed pg, pb;
  CU_ASSERT_FATAL(parse_ok(good, &pg) && parse_ok(bad, &pb));
  CU_ASSERT_EQUAL_FATAL(pg.sig_len, pb.sig_len);
  int bits = 0;
  for (size_t i = 0; i < pg.sig_len; i++) bits += __builtin_popcount(pg.sig[i] ^ pb.sig[i]);
  CU_ASSERT_EQUAL(bits, 1);
  CU_ASSERT_EQUAL(acmeh_jws_verify(&pb, eddsa()), ACMEH_PEER_PROTOCOL);
  acmeh_jws_parsed_free(&pg);
  acmeh_jws_parsed_free(&pb);
  free(good);
  free(bad);
  /* ECDSA too: verification must fail. */
  char *ec = build(es256(), &o);
  CU_ASSERT_FATAL(parse_ok(ec, &pb));
  CU_ASSERT_EQUAL(acmeh_jws_verify(&pb, es256()), ACMEH_PEER_PROTOCOL);
  acmeh_jws_parsed_free(&pb);
  free(ec);
}

static void test_empty_and_no_signature(void) {
  acmeh_jws_opts o = base_opts();
  o.empty_signature = 1;
  char *body = build(es256(), &o);
  json_t *j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "signature"), "");
  json_t *hdr = b64_json(member(j, "protected"));
  CU_ASSERT_STRING_EQUAL(member(hdr, "alg"), "ES256");
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(parse_ok(body, &p));
  CU_ASSERT_EQUAL(acmeh_jws_verify(&p, es256()), ACMEH_PEER_PROTOCOL);
  acmeh_jws_parsed_free(&p);
  json_decref(hdr);
  json_decref(j);
  free(body);

  /* no_signature needs no key at all and says alg "none". */
  o = base_opts();
  o.no_signature = 1;
  body = build(NULL, &o);
  j = js(body);
  hdr = b64_json(member(j, "protected"));
  CU_ASSERT_STRING_EQUAL(member(hdr, "alg"), "none");
  CU_ASSERT_STRING_EQUAL(member(j, "signature"), "");
  json_decref(hdr);
  json_decref(j);
  free(body);

  /* alg_override "none" with a key: still no signature. */
  o = base_opts();
  o.alg_override = "none";
  body = build(es256(), &o);
  j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "signature"), "");
  json_decref(j);
  free(body);
}

/* alg_override lies in the header but the key still signs. */
static void test_alg_override(void) {
  acmeh_jws_opts o = base_opts();
  o.alg_override = "RS256";
  char *body = build(es256(), &o);
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(parse_ok(body, &p));
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "alg"), "RS256");
  CU_ASSERT_EQUAL(p.sig_len, 64);
  CU_ASSERT_EQUAL(acmeh_jws_verify(&p, es256()), ACMEH_PEER_PROTOCOL);
  char *in = acmeh_jws_signing_input(&p);
  CU_ASSERT_EQUAL(acmeh_key_verify(es256(), "ES256", (unsigned char *)in, strlen(in), p.sig,
                                   p.sig_len),
                  ACMEH_OK);
  free(in);
  acmeh_jws_parsed_free(&p);
  free(body);
}

/* HMAC signing (EAB): HS256 by default, HS384/HS512 by override. */
static void test_mac(void) {
  static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
  static const char *const algs[] = {NULL, "HS384", "HS512"};
  static const size_t lens[] = {32, 48, 64};
  for (int i = 0; i < 3; i++) {
    acmeh_jws_opts o = base_opts();
    o.nonce = NULL; /* EAB headers carry no nonce */
    o.mac_key = key;
    o.mac_key_len = 32;
    o.alg_override = algs[i];
    char *body = build(NULL, &o);
    acmeh_jws_parsed p;
    CU_ASSERT_FATAL(parse_ok(body, &p));
    CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "alg"), algs[i] ? algs[i] : "HS256");
    CU_ASSERT_PTR_NULL(json_object_get(p.protected_hdr, "nonce"));
    CU_ASSERT_EQUAL(p.sig_len, lens[i]);
    CU_ASSERT_EQUAL(acmeh_jws_verify_hmac(&p, key, 32), ACMEH_OK);
    CU_ASSERT_EQUAL(acmeh_jws_verify_hmac(&p, key, 31), ACMEH_PEER_PROTOCOL);
    CU_ASSERT_EQUAL(acmeh_jws_verify(&p, es256()), ACMEH_PEER_PROTOCOL);
    acmeh_jws_parsed_free(&p);
    free(body);
  }
  /* A key-signed JWS is not a MAC'd one. */
  acmeh_jws_opts o = base_opts();
  char *body = build(es256(), &o);
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(parse_ok(body, &p));
  CU_ASSERT_EQUAL(acmeh_jws_verify_hmac(&p, key, 32), ACMEH_PEER_PROTOCOL);
  acmeh_jws_parsed_free(&p);
  free(body);
}

/* Header-shaping options: jwk_override, extra_protected, unprotected,
 * payload override, jwk + kid together, omitted nonce/url. */
static void test_header_options(void) {
  json_t *fake = json_pack("{s:s,s:s,s:s}", "crv", "Ed25519", "kty", "OKP", "x", "AAAA");
  json_t *extra = json_pack("{s:s,s:b}", "x-test", "yes", "jku", 1);
  json_t *unprot = json_pack("{s:s}", "kid", "unprotected-kid");
  acmeh_jws_opts o = base_opts();
  o.jwk_override = fake;
  o.extra_protected = extra;
  char *body = build(es256(), &o);
  acmeh_jws_parsed p;
  CU_ASSERT_FATAL(parse_ok(body, &p));
  CU_ASSERT(json_equal(json_object_get(p.protected_hdr, "jwk"), fake));
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "kid"), KID); /* both jwk and kid */
  CU_ASSERT_STRING_EQUAL(member(p.protected_hdr, "x-test"), "yes");
  CU_ASSERT(json_is_true(json_object_get(p.protected_hdr, "jku")));
  CU_ASSERT_EQUAL(acmeh_jws_verify(&p, es256()), ACMEH_OK);
  acmeh_jws_parsed_free(&p);
  free(body);

  o = base_opts();
  o.unprotected = unprot;
  body = build(es256(), &o);
  json_t *j = js(body);
  CU_ASSERT(json_equal(json_object_get(j, "header"), unprot));
  expect_reject(body, "header");
  json_decref(j);
  free(body);

  o = base_opts();
  o.nonce = NULL;
  o.url = NULL;
  o.payload_b64_override = "not*base64";
  body = build(es256(), &o);
  j = js(body);
  CU_ASSERT_STRING_EQUAL(member(j, "payload"), "not*base64");
  json_t *hdr = b64_json(member(j, "protected"));
  CU_ASSERT_PTR_NULL(json_object_get(hdr, "nonce"));
  CU_ASSERT_PTR_NULL(json_object_get(hdr, "url"));
  expect_reject(body, "payload is not base64url");
  json_decref(hdr);
  json_decref(j);
  free(body);

  /* Without a key there is nothing to sign with or to put as jwk. */
  o = base_opts();
  CU_ASSERT_EQUAL(acmeh_jws_build(NULL, "x", 1, &o, &body), ACMEH_INVALID_ARG);
  json_decref(fake);
  json_decref(extra);
  json_decref(unprot);
}

/* ---- parser strictness --------------------------------------------------- */

static void test_parse_rejects(void) {
  acmeh_jws_opts o = base_opts();
  char *body = build(es256(), &o);
  json_t *good = js(body);
  free(body);
  struct {
    const char *member, *value, *why;
  } cases[] = {
      {"payload", "e30=", "padding"},
      {"signature", "a+b/", "signature is not base64url"},
      {"protected", "", "protected is empty"},
      {"protected", "e30", NULL}, /* {} is fine structurally */
      {"protected", "WyJhIl0", "not a JSON object"},               /* ["a"] */
      {"protected", "eyJhIjoxLCJhIjoyfQ", "protected header is not JSON"}, /* dup "a" */
      {"payload", "Zm9vY", "payload is not base64url"},           /* length 1 mod 4 */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *j = json_deep_copy(good);
    json_object_set_new(j, cases[i].member, json_string(cases[i].value));
    char *b = json_dumps(j, JSON_COMPACT);
    if (cases[i].why) {
      expect_reject(b, cases[i].why);
    } else {
      acmeh_jws_parsed p;
      CU_ASSERT(parse_ok(b, &p));
      acmeh_jws_parsed_free(&p);
    }
    free(b);
    json_decref(j);
  }
  json_t *j = json_deep_copy(good);
  json_object_del(j, "payload");
  char *b = json_dumps(j, JSON_COMPACT);
  expect_reject(b, "payload"); /* detached payload */
  free(b);
  json_decref(j);
  j = json_deep_copy(good);
  json_object_set_new(j, "signatures", json_array());
  b = json_dumps(j, JSON_COMPACT);
  expect_reject(b, "signatures");
  free(b);
  json_decref(j);
  j = json_deep_copy(good);
  json_object_set_new(j, "header", json_object());
  b = json_dumps(j, JSON_COMPACT);
  expect_reject(b, "header");
  free(b);
  json_decref(j);
  expect_reject("not json", "not JSON");
  expect_reject("[1]", "not a JSON object");
  json_decref(good);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"ES256 round trip", test_es256},
      {"ES384 round trip", test_es384},
      {"RS256 round trip", test_rs256},
      {"EdDSA round trip", test_eddsa},
      {"JWK member shapes", test_jwk_shape},
      {"PEM export and from_pkey", test_pem_and_pkey},
      {"bad JWKs rejected", test_bad_jwks},
      {"POST-as-GET empty payload", test_post_as_get},
      {"mutation b64:false", test_b64_false},
      {"mutation general serialization", test_general_serialization},
      {"mutation compact serialization", test_compact_serialization},
      {"mutation padding", test_padding},
      {"mutation DER signature", test_der_signature},
      {"mutation flip signature bit", test_flip_bit},
      {"mutation empty / none signature", test_empty_and_no_signature},
      {"mutation alg override", test_alg_override},
      {"mutation HMAC (EAB)", test_mac},
      {"header options", test_header_options},
      {"parser rejects", test_parse_rejects},
  };
  return acmeh_unit_run("acme_jws", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
