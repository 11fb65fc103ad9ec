/* Public-key identifiers and the pk-01 proof (pk.h). */
#include "harness/acme/pk.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/jws.h"

int acmeh_pk_is_key_type(const char *type) {
  return type && (strcmp(type, "pk") == 0 || strcmp(type, "selfsign-cert") == 0 || strcmp(type, "csr") == 0);
}

static const EVP_MD *sign_md(EVP_PKEY *key) {
  int id = EVP_PKEY_get_base_id(key);
  return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
}

/* DER as base64 with padding (OpenSSL's encoder, no line breaks). */
static char *b64_std(const unsigned char *der, int len) {
  char *out = len > 0 ? malloc((size_t)(len + 2) / 3 * 4 + 1) : NULL;
  if (out) EVP_EncodeBlock((unsigned char *)out, der, len);
  return out;
}

static int self_signed_der(EVP_PKEY *key, const char *cn, unsigned char **der) {
  double now = acmeh_now_wall();
  X509 *c = acmeh_x509_new(cn, now - 60, now + 86400);
  int len = -1;
  if (c && X509_set_issuer_name(c, X509_get_subject_name(c)) && X509_set_pubkey(c, key) &&
      X509_sign(c, key, sign_md(key)) > 0)
    len = i2d_X509(c, der);
  X509_free(c);
  return len;
}

static int csr_der(EVP_PKEY *key, const char *cn, unsigned char **der) {
  X509_REQ *r = X509_REQ_new();
  int len = -1;
  if (r && X509_REQ_set_version(r, X509_REQ_VERSION_1) &&
      (!cn || X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) &&
      X509_REQ_set_pubkey(r, key) && X509_REQ_sign(r, key, sign_md(key)) > 0)
    len = i2d_X509_REQ(r, der);
  X509_REQ_free(r);
  return len;
}

int acmeh_pk_ident_make(const char *type, EVP_PKEY *key, const char *cn, char **out) {
  if (!acmeh_pk_is_key_type(type) || !key || !out || (cn && strlen(cn) > 64)) return ACMEH_INVALID_ARG;
  unsigned char *der = NULL;
  int len = strcmp(type, "pk") == 0 ? i2d_PUBKEY(key, &der)
            : strcmp(type, "csr") == 0 ? csr_der(key, cn, &der) : self_signed_der(key, cn ? cn : "pk-01 applicant", &der);
  *out = b64_std(der, len);
  OPENSSL_free(der);
  return *out ? ACMEH_OK : ACMEH_INTERNAL;
}

/* base64 in either alphabet, padded or not, decoded strictly (b64.h) after
 * mapping it onto base64url: a value with both '+' and '-' is refused there. */
static int b64_any_decode(const char *value, unsigned char **der, size_t *len) {
  size_t n = strlen(value);
  if (n > ACMEH_PK_MAX_VALUE) return ACMEH_PEER_PROTOCOL;
  char *u = strdup(value);
  if (!u) return ACMEH_NOMEM;
  int std = strpbrk(u, "+/") != NULL, url = strpbrk(u, "-_") != NULL;
  for (char *p = u; *p; p++) *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  for (int pad = 0; pad < 2 && n && u[n - 1] == '='; pad++) u[--n] = '\0';
  int rc = std && url ? ACMEH_PEER_PROTOCOL : acmeh_b64url_decode(u, n, der, len);
  free(u);
  return rc;
}

/* An RSA modulus over ACMEH_JWK_RSA_MAX_BITS costs a verifier too much; refused before any signature is checked. */
static int too_big(const EVP_PKEY *k) {
  return k && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) > ACMEH_JWK_RSA_MAX_BITS;
}

static int ident_parse(const char *type, const unsigned char *der, size_t len, EVP_PKEY **key, char *why, size_t whylen) {
  const unsigned char *p = der;
  if (strcmp(type, "pk") == 0) {
    *key = d2i_PUBKEY(NULL, &p, (long)len);
    if (!*key || p != der + len || too_big(*key)) return EVP_PKEY_free(*key), *key = NULL, acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL,
                                         "the pk value is not exactly one DER SubjectPublicKeyInfo of a key OpenSSL reads "
                                         "(RSA at most 8192 bits)");
    return ACMEH_OK;
  }
  if (strcmp(type, "csr") == 0) {
    X509_REQ *r = d2i_X509_REQ(NULL, &p, (long)len);
    int whole = r && p == der + len;
    *key = whole ? X509_REQ_get_pubkey(r) : NULL;
    int ok = *key && !too_big(*key) && X509_REQ_verify(r, *key) == 1;
    X509_REQ_free(r);
    if (ok) return ACMEH_OK;
    EVP_PKEY_free(*key), *key = NULL;
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, whole ? "the csr value's signature does not verify under its own key"
                                                             : "the csr value is not exactly one DER PKCS#10 request");
  }
  X509 *c = d2i_X509(NULL, &p, (long)len);
  int whole = c && p == der + len;
  *key = whole ? X509_get_pubkey(c) : NULL;
  int self = *key && !too_big(*key) && X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
  int ok = self && X509_verify(c, *key) == 1;
  X509_free(c);
  if (ok) return ACMEH_OK;
  EVP_PKEY_free(*key), *key = NULL;
  return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, !whole ? "the selfsign-cert value is not exactly one DER certificate"
                                                     : !self ? "the selfsign-cert value's issuer is not its subject"
                                                             : "the selfsign-cert value's signature does not verify under its own key");
}

int acmeh_pk_ident_key(const char *type, const char *value, EVP_PKEY **key, char *why, size_t whylen) {
  *key = NULL;
  if (!acmeh_pk_is_key_type(type)) return acmeh_msg(why, whylen, ACMEH_INVALID_ARG, "not a key identifier type");
  unsigned char *der = NULL;
  size_t len = 0;
  int rc = value ? b64_any_decode(value, &der, &len) : ACMEH_PEER_PROTOCOL;
  if (rc == ACMEH_NOMEM) return acmeh_msg(why, whylen, rc, "out of memory");
  if (rc || !len) {
    free(der);
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the %s value is not base64 of at most %d characters", type,
                     ACMEH_PK_MAX_VALUE);
  }
  rc = ident_parse(type, der, len, key, why, whylen);
  free(der);
  return rc;
}

int acmeh_pk_proof(const acmeh_key *k, const char *token, char **out) {
  acmeh_jws_opts o = {.compact_serialization = 1}; /* header {"alg"} only: no kid, nonce nor url */
  return token ? acmeh_jws_build(k, token, strlen(token), &o, out) : ACMEH_INVALID_ARG;
}

/* Part i (0..2) of a compact JWS, decoded; NULL when missing or not base64url. */
static unsigned char *part(const char *proof, int i, const char **start, size_t *plen, size_t *len) {
  const char *p = proof;
  for (int k = 0; k < i; k++) p = p ? strchr(p, '.') : NULL, p = p ? p + 1 : NULL;
  if (!p) return NULL;
  const char *end = strchr(p, '.');
  size_t n = end ? (size_t)(end - p) : strlen(p);
  if ((i < 2) != (end != NULL)) return NULL; /* exactly three parts */
  unsigned char *d = NULL;
  *start = p, *plen = n;
  return n && acmeh_b64url_decode(p, n, &d, len) == ACMEH_OK ? d : (free(d), NULL);
}

static int check_proof(const acmeh_key *k, const char *proof, const char *token, char *why, size_t whylen) {
  const char *s0 = NULL, *s1 = NULL, *s2 = NULL;
  size_t n0 = 0, n1 = 0, n2 = 0, l0 = 0, l1 = 0, l2 = 0;
  unsigned char *hdr = part(proof, 0, &s0, &n0, &l0), *pl = part(proof, 1, &s1, &n1, &l1), *sig = part(proof, 2, &s2, &n2, &l2);
  json_t *h = hdr ? json_loadb((const char *)hdr, l0, JSON_REJECT_DUPLICATES, NULL) : NULL;
  const char *alg = json_string_value(json_object_get(h, "alg"));
  int rc = ACMEH_PEER_PROTOCOL;
  if (!hdr || !pl || !sig) acmeh_msg(why, whylen, rc, "the proof is not a compact JWS of three base64url parts");
  else if (!json_is_object(h) || !alg) acmeh_msg(why, whylen, rc, "the proof's protected header is no JSON object with an \"alg\"");
  else if (strcmp(alg, acmeh_key_alg(k)) != 0)
    acmeh_msg(why, whylen, rc, "the proof's alg is %.20s, the identifier's key signs %s", alg, acmeh_key_alg(k));
  else if (l1 != strlen(token) || memcmp(pl, token, l1) != 0)
    acmeh_msg(why, whylen, rc, "the proof's payload is not this challenge's token");
  else if (acmeh_key_verify(k, alg, (const unsigned char *)s0, (size_t)(s1 + n1 - s0), sig, l2) != ACMEH_OK)
    acmeh_msg(why, whylen, rc, "the proof's signature does not verify under the identifier's public key");
  else rc = ACMEH_OK;
  json_decref(h);
  free(hdr), free(pl), free(sig);
  return rc;
}

int acmeh_pk_proof_verify(EVP_PKEY *key, const char *proof, const char *token, char *why, size_t whylen) {
  if (!proof || !*proof) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "no \"proof\" in the challenge response");
  if (strlen(proof) > ACMEH_PK_MAX_PROOF)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the proof is longer than %d characters", ACMEH_PK_MAX_PROOF);
  acmeh_key *k = NULL;
  if (!token || acmeh_key_from_pkey(key, &k) != ACMEH_OK)
    return acmeh_msg(why, whylen, ACMEH_INVALID_ARG, "the identifier's key type has no JWS algorithm here (P-256, P-384, RSA, Ed25519)");
  int rc = check_proof(k, proof, token, why, whylen);
  acmeh_key_free(k);
  return rc;
}

int acmeh_pk_same_key(const EVP_PKEY *a, const EVP_PKEY *b) { return a && b && EVP_PKEY_eq(a, b) == 1; }

int acmeh_pk_spki_sha256(const EVP_PKEY *key, char out[65]) {
  unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
  int len = i2d_PUBKEY((EVP_PKEY *)key, &der);
  if (len <= 0) return ACMEH_INTERNAL;
  SHA256(der, (size_t)len, md);
  OPENSSL_free(der);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
  return ACMEH_OK;
}
