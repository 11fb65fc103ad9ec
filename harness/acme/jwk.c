/* JWK import/export, RFC 7638 thumbprints and JWS-form signatures on top of
 * OpenSSL 3 EVP keys. */
#include "harness/acme/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"

struct acmeh_key {
  acmeh_keytype type;
  EVP_PKEY *pkey;  /* owned reference */
  int has_private; /* public-only keys verify but refuse to sign */
};

static const char *const ALG_NAMES[] = {"ES256", "ES384", "RS256", "EdDSA"};

/* ---- small helpers ------------------------------------------------------- */

/* EC coordinate (and ECDSA R/S) size in bytes for the EC key types. */
static size_t ec_size(acmeh_keytype t) { return t == ACMEH_KEY_ES384 ? 48 : 32; }

static const EVP_MD *key_md(acmeh_keytype t) {
  switch (t) {
  case ACMEH_KEY_ES256:
  case ACMEH_KEY_RS256:
    return EVP_sha256();
  case ACMEH_KEY_ES384:
    return EVP_sha384();
  case ACMEH_KEY_EDDSA:
    return NULL; /* Ed25519 hashes internally; EVP wants NULL here */
  }
  return NULL;
}

static int is_ec(acmeh_keytype t) { return t == ACMEH_KEY_ES256 || t == ACMEH_KEY_ES384; }

static int key_wrap(EVP_PKEY *pkey, acmeh_keytype t, int has_private, acmeh_key **out) {
  acmeh_key *k = calloc(1, sizeof(*k));
  if (!k) return ACMEH_NOMEM;
  k->type = t;
  k->pkey = pkey;
  k->has_private = has_private;
  *out = k;
  return ACMEH_OK;
}

/* A JWK member that must be a base64url string; decoded into a malloc'd
 * buffer the caller frees. Returns ACMEH_PEER_PROTOCOL when absent or bad. */
static int jwk_bytes(const json_t *jwk, const char *name, unsigned char **buf, size_t *len) {
  const json_t *v = json_object_get(jwk, name);
  if (!json_is_string(v)) return ACMEH_PEER_PROTOCOL;
  return acmeh_b64url_decode(json_string_value(v), json_string_length(v), buf, len);
}

static const char *jwk_str(const json_t *jwk, const char *name) {
  return json_string_value(json_object_get(jwk, name));
}

/* Which private component tells us a key can sign differs per type. */
static int pkey_has_private(EVP_PKEY *pkey, acmeh_keytype t) {
  if (t == ACMEH_KEY_EDDSA) {
    unsigned char priv[32];
    size_t len = sizeof(priv);
    int ok = EVP_PKEY_get_raw_private_key(pkey, priv, &len) == 1;
    OPENSSL_cleanse(priv, sizeof(priv));
    return ok;
  }
  BIGNUM *bn = NULL;
  const char *name = t == ACMEH_KEY_RS256 ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
  int ok = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1;
  BN_clear_free(bn);
  return ok;
}

/* ---- generation and import ---------------------------------------------- */

int acmeh_key_generate(acmeh_keytype t, acmeh_key **out) {
  if (!out) return ACMEH_INVALID_ARG;
  EVP_PKEY *pkey = NULL;
  switch (t) {
  case ACMEH_KEY_ES256:
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    break;
  case ACMEH_KEY_ES384:
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    break;
  case ACMEH_KEY_RS256:
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    break;
  case ACMEH_KEY_EDDSA:
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    break;
  default:
    return ACMEH_INVALID_ARG;
  }
  if (!pkey) return ACMEH_INTERNAL;
  int rc = key_wrap(pkey, t, 1, out);
  if (rc != ACMEH_OK) EVP_PKEY_free(pkey);
  return rc;
}

/* Runs EVP_PKEY_fromdata for `type` ("EC"/"RSA") with the params in bld. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, int selection) {
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  EVP_PKEY *pkey = NULL;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
    if (EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1) pkey = NULL;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

/* fromdata trusts its input; a peer's JWK must also be a valid public key
 * (point on the curve, sane RSA numbers) before we verify anything with it. */
static int pkey_public_ok(EVP_PKEY *pkey) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  int ok = ctx && EVP_PKEY_public_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

static int ec_from_jwk(const json_t *jwk, acmeh_key **out) {
  const char *crv = jwk_str(jwk, "crv");
  acmeh_keytype t;
  const char *group;
  if (crv && strcmp(crv, "P-256") == 0) {
    t = ACMEH_KEY_ES256;
    group = "P-256";
  } else if (crv && strcmp(crv, "P-384") == 0) {
    t = ACMEH_KEY_ES384;
    group = "P-384";
  } else {
    return ACMEH_PEER_PROTOCOL;
  }
  size_t cs = ec_size(t);
  unsigned char *x = NULL, *y = NULL, *d = NULL, *pub = NULL;
  size_t xl = 0, yl = 0, dl = 0;
  int rc = ACMEH_PEER_PROTOCOL;
  EVP_PKEY *pkey = NULL;
  BIGNUM *dbn = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  int has_d = json_object_get(jwk, "d") != NULL;
  /* RFC 7518 §6.2.1.2: coordinates are exactly the field size. */
  if (jwk_bytes(jwk, "x", &x, &xl) || jwk_bytes(jwk, "y", &y, &yl) || xl != cs || yl != cs)
    goto done;
  if (has_d && (jwk_bytes(jwk, "d", &d, &dl) || dl != cs)) goto done;
  rc = ACMEH_NOMEM;
  pub = malloc(1 + 2 * cs);
  bld = OSSL_PARAM_BLD_new();
  if (!pub || !bld) goto done;
  pub[0] = 0x04; /* uncompressed point, SEC 1 §2.3.3 */
  memcpy(pub + 1, x, cs);
  memcpy(pub + 1 + cs, y, cs);
  if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * cs))
    goto done;
  if (has_d) {
    dbn = BN_bin2bn(d, (int)dl, NULL);
    if (!dbn || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, dbn)) goto done;
  }
  rc = ACMEH_PEER_PROTOCOL;
  pkey = pkey_fromdata("EC", bld, has_d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!pkey || !pkey_public_ok(pkey)) goto done;
  rc = key_wrap(pkey, t, has_d, out);
  if (rc == ACMEH_OK) pkey = NULL;
done:
  EVP_PKEY_free(pkey);
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(dbn);
  free(x);
  free(y);
  if (d) OPENSSL_cleanse(d, dl);
  free(d);
  free(pub);
  return rc;
}

/* Pushes JWK member `name` as big-endian unsigned BIGNUM param `param`; the
 * BIGNUM goes to *slot because the builder only references it until
 * OSSL_PARAM_BLD_to_param, and the caller frees it after that. */
static int push_jwk_bn(OSSL_PARAM_BLD *bld, const json_t *jwk, const char *name,
                       const char *param, BIGNUM **slot) {
  unsigned char *b = NULL;
  size_t bl = 0;
  if (jwk_bytes(jwk, name, &b, &bl) != ACMEH_OK || bl == 0) {
    free(b);
    return ACMEH_PEER_PROTOCOL;
  }
  *slot = BN_bin2bn(b, (int)bl, NULL);
  OPENSSL_cleanse(b, bl);
  free(b);
  if (!*slot || !OSSL_PARAM_BLD_push_BN(bld, param, *slot)) return ACMEH_NOMEM;
  return ACMEH_OK;
}

/* EVP_PKEY_public_check on an RSA key runs a Miller-Rabin round on n, which
 * costs about 0.1 s at 8192 bits and only shows that n is not prime: that
 * does not matter for verifying a signature, so a peer's public key gets
 * the cheap part of the check (SP 800-56B §6.4.2.2, as OpenSSL does it):
 * n odd, e odd with 2^16 < e < 2^256 (a bigger e would make every verify as
 * costly) and e < n. */
static int rsa_public_ok(const BIGNUM *n, const BIGNUM *e) {
  return BN_is_odd(n) && BN_is_odd(e) && BN_num_bits(e) > 16 && BN_num_bits(e) <= 256 && BN_cmp(e, n) < 0;
}

int acmeh_jwk_rsa_bits(const json_t *jwk) {
  const char *kty = json_is_object(jwk) ? jwk_str(jwk, "kty") : NULL;
  unsigned char *n = NULL;
  size_t len = 0;
  if (!kty || strcmp(kty, "RSA") != 0 || jwk_bytes(jwk, "n", &n, &len) != ACMEH_OK) return 0;
  size_t skip = 0;
  while (skip < len && n[skip] == 0) skip++; /* leading zero octets are not part of the size */
  int bits = 0;
  if (skip < len) {
    bits = (int)(len - skip - 1) * 8;
    for (unsigned top = n[skip]; top; top >>= 1) bits++;
  }
  free(n);
  return bits;
}

static int rsa_from_jwk(const json_t *jwk, acmeh_key **out) {
  /* JWK private RSA members and the OpenSSL names they map to; the CRT
   * members are optional (RFC 7518 §6.3.2) and only used when all present. */
  static const char *const crt_jwk[] = {"p", "q", "dp", "dq", "qi"};
  static const char *const crt_ossl[] = {
      OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  BIGNUM *bns[8] = {0};
  EVP_PKEY *pkey = NULL;
  int has_d = json_object_get(jwk, "d") != NULL;
  int has_crt = 1;
  for (size_t i = 0; i < 5; i++) has_crt &= json_object_get(jwk, crt_jwk[i]) != NULL;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  int rc = bld ? ACMEH_OK : ACMEH_NOMEM;
  if (!rc) rc = push_jwk_bn(bld, jwk, "n", OSSL_PKEY_PARAM_RSA_N, &bns[0]);
  if (!rc && BN_num_bits(bns[0]) > ACMEH_JWK_RSA_MAX_BITS) rc = ACMEH_PEER_PROTOCOL;
  if (!rc) rc = push_jwk_bn(bld, jwk, "e", OSSL_PKEY_PARAM_RSA_E, &bns[1]);
  if (!rc && !has_d && !rsa_public_ok(bns[0], bns[1])) rc = ACMEH_PEER_PROTOCOL;
  if (!rc && has_d) rc = push_jwk_bn(bld, jwk, "d", OSSL_PKEY_PARAM_RSA_D, &bns[2]);
  for (size_t i = 0; !rc && has_d && has_crt && i < 5; i++)
    rc = push_jwk_bn(bld, jwk, crt_jwk[i], crt_ossl[i], &bns[3 + i]);
  if (!rc) {
    pkey = pkey_fromdata("RSA", bld, has_d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
    /* A private JWK is ours (a key file), not a peer's: the full check. */
    rc = pkey && (!has_d || pkey_public_ok(pkey)) ? key_wrap(pkey, ACMEH_KEY_RS256, has_d, out)
                                                  : ACMEH_PEER_PROTOCOL;
    if (rc == ACMEH_OK) pkey = NULL;
  }
  EVP_PKEY_free(pkey);
  OSSL_PARAM_BLD_free(bld);
  for (size_t i = 0; i < 8; i++) BN_clear_free(bns[i]);
  return rc;
}

static int okp_from_jwk(const json_t *jwk, acmeh_key **out) {
  const char *crv = jwk_str(jwk, "crv");
  if (!crv || strcmp(crv, "Ed25519") != 0) return ACMEH_PEER_PROTOCOL;
  unsigned char *x = NULL, *d = NULL;
  size_t xl = 0, dl = 0;
  EVP_PKEY *pkey = NULL;
  int has_d = json_object_get(jwk, "d") != NULL;
  int rc = ACMEH_PEER_PROTOCOL;
  if (jwk_bytes(jwk, "x", &x, &xl) || xl != 32) goto done;
  if (has_d) {
    if (jwk_bytes(jwk, "d", &d, &dl) || dl != 32) goto done;
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, dl);
    /* The public half is derived from d; a JWK whose x disagrees is broken. */
    unsigned char derived[32];
    size_t len = sizeof(derived);
    if (!pkey || EVP_PKEY_get_raw_public_key(pkey, derived, &len) != 1 ||
        memcmp(derived, x, 32) != 0)
      goto done;
  } else {
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
    if (!pkey) goto done;
  }
  rc = key_wrap(pkey, ACMEH_KEY_EDDSA, has_d, out);
  if (rc == ACMEH_OK) pkey = NULL;
done:
  EVP_PKEY_free(pkey);
  free(x);
  if (d) OPENSSL_cleanse(d, dl);
  free(d);
  return rc;
}

int acmeh_key_from_jwk(const json_t *jwk, acmeh_key **out) {
  if (!out) return ACMEH_INVALID_ARG;
  const char *kty = json_is_object(jwk) ? jwk_str(jwk, "kty") : NULL;
  if (!kty) return ACMEH_PEER_PROTOCOL;
  if (strcmp(kty, "EC") == 0) return ec_from_jwk(jwk, out);
  if (strcmp(kty, "RSA") == 0) return rsa_from_jwk(jwk, out);
  if (strcmp(kty, "OKP") == 0) return okp_from_jwk(jwk, out);
  return ACMEH_PEER_PROTOCOL;
}

int acmeh_key_from_pkey(EVP_PKEY *pkey, acmeh_key **out) {
  if (!pkey || !out) return ACMEH_INVALID_ARG;
  acmeh_keytype t;
  switch (EVP_PKEY_get_base_id(pkey)) {
  case EVP_PKEY_RSA:
    t = ACMEH_KEY_RS256;
    break;
  case EVP_PKEY_ED25519:
    t = ACMEH_KEY_EDDSA;
    break;
  case EVP_PKEY_EC: {
    char group[64];
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1)
      return ACMEH_INVALID_ARG;
    int nid = OBJ_txt2nid(group);
    if (nid == NID_undef) nid = EC_curve_nist2nid(group);
    if (nid == NID_X9_62_prime256v1)
      t = ACMEH_KEY_ES256;
    else if (nid == NID_secp384r1)
      t = ACMEH_KEY_ES384;
    else
      return ACMEH_INVALID_ARG;
    break;
  }
  default:
    return ACMEH_INVALID_ARG;
  }
  if (EVP_PKEY_up_ref(pkey) != 1) return ACMEH_INTERNAL;
  int rc = key_wrap(pkey, t, pkey_has_private(pkey, t), out);
  if (rc != ACMEH_OK) EVP_PKEY_free(pkey);
  return rc;
}

void acmeh_key_free(acmeh_key *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey);
  free(k);
}

acmeh_keytype acmeh_key_type(const acmeh_key *k) { return k->type; }

const char *acmeh_key_alg(const acmeh_key *k) { return ALG_NAMES[k->type]; }

EVP_PKEY *acmeh_key_pkey(const acmeh_key *k) { return k ? k->pkey : NULL; }

/* ---- export ------------------------------------------------------------- */

/* Sets jwk[name] = base64url(bytes); takes nothing, frees nothing of the caller's. */
static int set_b64(json_t *jwk, const char *name, const unsigned char *b, size_t len) {
  char *s = acmeh_b64url_encode(b, len);
  if (!s) return -1;
  int rc = json_object_set_new(jwk, name, json_string(s));
  free(s);
  return rc;
}

/* BIGNUM param as base64url; `pad` > 0 gives fixed width (EC coordinates),
 * 0 gives minimal octets with zero as one 0x00 byte (RFC 7518 §2 Base64urlUInt). */
static int set_bn_param(json_t *jwk, const char *name, EVP_PKEY *pkey, const char *param,
                        int pad) {
  BIGNUM *bn = NULL;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) return -1;
  int len = pad > 0 ? pad : BN_num_bytes(bn);
  if (len == 0) len = 1;
  unsigned char *buf = calloc(1, (size_t)len);
  int rc = -1;
  if (buf && BN_bn2binpad(bn, buf, len) == len) rc = set_b64(jwk, name, buf, (size_t)len);
  free(buf);
  BN_free(bn);
  return rc;
}

json_t *acmeh_key_jwk(const acmeh_key *k) {
  if (!k) return NULL;
  json_t *jwk = json_object();
  if (!jwk) return NULL;
  int rc = -1;
  switch (k->type) {
  case ACMEH_KEY_ES256:
  case ACMEH_KEY_ES384: {
    int cs = (int)ec_size(k->type);
    rc = json_object_set_new(jwk, "crv", json_string(cs == 32 ? "P-256" : "P-384"));
    if (!rc) rc = json_object_set_new(jwk, "kty", json_string("EC"));
    if (!rc) rc = set_bn_param(jwk, "x", k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, cs);
    if (!rc) rc = set_bn_param(jwk, "y", k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, cs);
    break;
  }
  case ACMEH_KEY_RS256:
    rc = set_bn_param(jwk, "e", k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!rc) rc = json_object_set_new(jwk, "kty", json_string("RSA"));
    if (!rc) rc = set_bn_param(jwk, "n", k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    break;
  case ACMEH_KEY_EDDSA: {
    unsigned char x[32];
    size_t len = sizeof(x);
    rc = json_object_set_new(jwk, "crv", json_string("Ed25519"));
    if (!rc) rc = json_object_set_new(jwk, "kty", json_string("OKP"));
    if (!rc) rc = EVP_PKEY_get_raw_public_key(k->pkey, x, &len) == 1 ? 0 : -1;
    if (!rc) rc = set_b64(jwk, "x", x, len);
    break;
  }
  }
  if (rc != 0) {
    json_decref(jwk);
    return NULL;
  }
  return jwk;
}

/* ---- thumbprints -------------------------------------------------------- */

int acmeh_jwk_thumbprint(const json_t *jwk, char out[44]) {
  /* RFC 7638 §3.2: only the required members, per key type. */
  static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
  static const char *const rsa[] = {"e", "kty", "n", NULL};
  static const char *const okp[] = {"crv", "kty", "x", NULL};
  const char *kty = json_is_object(jwk) ? jwk_str(jwk, "kty") : NULL;
  const char *const *members = NULL;
  if (kty && strcmp(kty, "EC") == 0) members = ec;
  if (kty && strcmp(kty, "RSA") == 0) members = rsa;
  if (kty && strcmp(kty, "OKP") == 0) members = okp;
  if (!members) return ACMEH_PEER_PROTOCOL;
  json_t *req = json_object();
  if (!req) return ACMEH_NOMEM;
  int rc = ACMEH_OK;
  for (size_t i = 0; members[i] && rc == ACMEH_OK; i++) {
    json_t *v = json_object_get(jwk, members[i]);
    if (!json_is_string(v))
      rc = ACMEH_PEER_PROTOCOL;
    else if (json_object_set(req, members[i], v) != 0)
      rc = ACMEH_NOMEM;
  }
  /* Sorted keys + compact separators is exactly RFC 7638's canonical form
   * for these all-ASCII members. */
  char *canon = rc == ACMEH_OK ? json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(req);
  if (rc != ACMEH_OK) return rc;
  if (!canon) return ACMEH_NOMEM;
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL) != 1) rc = ACMEH_INTERNAL;
  free(canon);
  if (rc != ACMEH_OK) return rc;
  char *b = acmeh_b64url_encode(md, mdlen);
  if (!b) return ACMEH_NOMEM;
  memcpy(out, b, 44); /* 43 chars + NUL for a 32-byte digest */
  free(b);
  return ACMEH_OK;
}

int acmeh_key_thumbprint(const acmeh_key *k, char out[44]) {
  json_t *jwk = acmeh_key_jwk(k);
  if (!jwk) return ACMEH_INTERNAL;
  int rc = acmeh_jwk_thumbprint(jwk, out);
  json_decref(jwk);
  return rc == ACMEH_OK ? ACMEH_OK : ACMEH_INTERNAL;
}

/* ---- signatures --------------------------------------------------------- */

/* Signs with EVP_DigestSign; ECDSA output is DER. *sig is malloc'd. */
static int sign_raw(const acmeh_key *k, const unsigned char *in, size_t inlen,
                    unsigned char **sig, size_t *siglen) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char *buf = NULL;
  size_t len = 0;
  int rc = ACMEH_INTERNAL;
  if (!ctx || EVP_DigestSignInit(ctx, NULL, key_md(k->type), NULL, k->pkey) != 1) goto done;
  if (EVP_DigestSign(ctx, NULL, &len, in, inlen) != 1) goto done;
  buf = malloc(len ? len : 1);
  if (!buf) {
    rc = ACMEH_NOMEM;
    goto done;
  }
  if (EVP_DigestSign(ctx, buf, &len, in, inlen) != 1) goto done;
  *sig = buf;
  *siglen = len;
  buf = NULL;
  rc = ACMEH_OK;
done:
  free(buf);
  EVP_MD_CTX_free(ctx);
  return rc;
}

/* DER ECDSA-Sig-Value -> fixed-width R||S (RFC 7518 §3.4). *out is malloc'd. */
static int der_to_rs(const unsigned char *der, size_t derlen, size_t cs, unsigned char **out) {
  const unsigned char *p = der;
  ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
  if (!es) return ACMEH_INTERNAL;
  const BIGNUM *r = NULL, *s = NULL;
  ECDSA_SIG_get0(es, &r, &s);
  unsigned char *rs = malloc(2 * cs);
  int rc = ACMEH_NOMEM;
  if (rs) {
    rc = BN_bn2binpad(r, rs, (int)cs) == (int)cs && BN_bn2binpad(s, rs + cs, (int)cs) == (int)cs
             ? ACMEH_OK
             : ACMEH_INTERNAL;
  }
  ECDSA_SIG_free(es);
  if (rc == ACMEH_OK)
    *out = rs;
  else
    free(rs);
  return rc;
}

/* Fixed-width R||S -> DER, so EVP can verify it. *der is malloc'd by OpenSSL
 * (OPENSSL_free). */
static int rs_to_der(const unsigned char *rs, size_t cs, unsigned char **der, size_t *derlen) {
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(rs, (int)cs, NULL);
  BIGNUM *s = BN_bin2bn(rs + cs, (int)cs, NULL);
  if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return ACMEH_INTERNAL;
  }
  *der = NULL;
  int n = i2d_ECDSA_SIG(es, der);
  ECDSA_SIG_free(es); /* owns r and s now */
  if (n <= 0) return ACMEH_INTERNAL;
  *derlen = (size_t)n;
  return ACMEH_OK;
}

int acmeh_key_sign_der(const acmeh_key *k, const unsigned char *in, size_t inlen,
                       unsigned char **sig, size_t *siglen) {
  if (!k || !sig || !siglen || (!in && inlen)) return ACMEH_INVALID_ARG;
  if (!k->has_private) return ACMEH_INVALID_ARG;
  return sign_raw(k, in ? in : (const unsigned char *)"", inlen, sig, siglen);
}

int acmeh_key_sign(const acmeh_key *k, const unsigned char *in, size_t inlen,
                   unsigned char **sig, size_t *siglen) {
  unsigned char *raw = NULL;
  size_t rawlen = 0;
  int rc = acmeh_key_sign_der(k, in, inlen, &raw, &rawlen);
  if (rc != ACMEH_OK || !is_ec(k->type)) {
    if (rc == ACMEH_OK) {
      *sig = raw;
      *siglen = rawlen;
    }
    return rc;
  }
  size_t cs = ec_size(k->type);
  rc = der_to_rs(raw, rawlen, cs, sig);
  free(raw);
  if (rc == ACMEH_OK) *siglen = 2 * cs;
  return rc;
}

/* Expected JWS signature length, so DER or truncated forms fail cleanly. */
static size_t jws_sig_len(const acmeh_key *k) {
  if (is_ec(k->type)) return 2 * ec_size(k->type);
  if (k->type == ACMEH_KEY_EDDSA) return 64;
  return (size_t)EVP_PKEY_get_size(k->pkey);
}

int acmeh_key_verify(const acmeh_key *k, const char *alg, const unsigned char *in,
                     size_t inlen, const unsigned char *sig, size_t siglen) {
  if (!k || !alg || (!in && inlen) || (!sig && siglen)) return ACMEH_INVALID_ARG;
  if (strcmp(alg, ALG_NAMES[k->type]) != 0) return ACMEH_PEER_PROTOCOL;
  if (siglen != jws_sig_len(k)) return ACMEH_PEER_PROTOCOL;
  unsigned char *der = NULL;
  size_t derlen = 0;
  if (is_ec(k->type)) {
    int rc = rs_to_der(sig, ec_size(k->type), &der, &derlen);
    if (rc != ACMEH_OK) return rc;
    sig = der;
    siglen = derlen;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = ACMEH_INTERNAL;
  if (ctx && EVP_DigestVerifyInit(ctx, NULL, key_md(k->type), NULL, k->pkey) == 1) {
    /* 0 and negative both mean "this is not a valid signature" for
     * well-formed input; only setup failures above count as ours. */
    rc = EVP_DigestVerify(ctx, sig, siglen, in ? in : (const unsigned char *)"", inlen) == 1
             ? ACMEH_OK
             : ACMEH_PEER_PROTOCOL;
  }
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return rc;
}

char *acmeh_key_to_pem(const acmeh_key *k) {
  if (!k || !k->has_private) return NULL;
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (bio && PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) == 1) {
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    out = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (out) {
      memcpy(out, data, (size_t)len);
      out[len] = '\0';
    }
  }
  BIO_free(bio);
  return out;
}
