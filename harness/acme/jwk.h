/* Account and certificate keys as JWKs (RFC 7517/7518/8037) and their
 * signatures in JWS form (RFC 7515 §5, RFC 7518 §3, RFC 8037 §3).
 * Thumbprints per RFC 7638 (RFC 8555 §8.1). */
#ifndef ACMEH_ACME_JWK_H
#define ACMEH_ACME_JWK_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

typedef enum {
  ACMEH_KEY_ES256 = 0, /* ECDSA P-256 + SHA-256 */
  ACMEH_KEY_ES384,     /* ECDSA P-384 + SHA-384 */
  ACMEH_KEY_RS256,     /* RSA 2048 PKCS#1 v1.5 + SHA-256 */
  ACMEH_KEY_EDDSA      /* Ed25519 */
} acmeh_keytype;

typedef struct acmeh_key acmeh_key;

/* Generates a fresh key of type `t` into *out (free with acmeh_key_free).
 * Returns ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_INTERNAL (OpenSSL failed). */
int acmeh_key_generate(acmeh_keytype t, acmeh_key **out);

/* The largest RSA modulus acmeh_key_from_jwk takes: checking and using a
 * bigger one costs the caller's thread (an event loop) a second or more. */
#define ACMEH_JWK_RSA_MAX_BITS 8192

/* Builds a key from a JWK object: private if it has "d", else public only
 * (a public-only key can verify but not sign). The JWS alg is inferred from
 * kty/crv (RSA -> RS256). An RSA n over ACMEH_JWK_RSA_MAX_BITS is refused
 * before anything is computed with it. Returns ACMEH_OK, ACMEH_PEER_PROTOCOL
 * (bad JWK), ACMEH_NOMEM. */
int acmeh_key_from_jwk(const json_t *jwk, acmeh_key **out);

/* The bit length of an RSA JWK's modulus, read from its encoding alone (no
 * key is built, nothing else is checked), so that a caller can refuse a size
 * with its own message first. 0 when jwk is not kty "RSA" or n is not a
 * base64url string. */
int acmeh_jwk_rsa_bits(const json_t *jwk);

/* Wraps an existing EVP_PKEY (takes its own reference; caller keeps theirs).
 * RSA -> RS256, P-256 -> ES256, P-384 -> ES384, Ed25519 -> EdDSA.
 * Returns ACMEH_OK or ACMEH_INVALID_ARG for other key kinds. */
int acmeh_key_from_pkey(EVP_PKEY *pkey, acmeh_key **out);

void acmeh_key_free(acmeh_key *k);

acmeh_keytype acmeh_key_type(const acmeh_key *k);

/* Returns the static JWS alg name: "ES256", "ES384", "RS256" or "EdDSA". */
const char *acmeh_key_alg(const acmeh_key *k);

/* Borrowed pointer to the OpenSSL key; valid while k lives. */
EVP_PKEY *acmeh_key_pkey(const acmeh_key *k);

/* Returns a new reference to the public JWK with only the RFC 7638 required
 * members (EC: crv,kty,x,y with full-length coordinates; RSA: e,kty,n minimal
 * octets; OKP: crv,kty,x). Caller json_decref()s it. NULL on failure. */
json_t *acmeh_key_jwk(const acmeh_key *k);

/* RFC 7638 thumbprint (SHA-256, base64url, 43 chars + NUL) of a JWK object.
 * Extra members (alg, kid, use, d) are ignored.
 * Returns ACMEH_OK or ACMEH_PEER_PROTOCOL when required members are missing. */
int acmeh_jwk_thumbprint(const json_t *jwk, char out[44]);

/* Same for a key. Returns ACMEH_OK or ACMEH_INTERNAL. */
int acmeh_key_thumbprint(const acmeh_key *k, char out[44]);

/* Signs `in` (`inlen` bytes) and stores a malloc'd signature in JWS form in
 * *sig / *siglen: ES256 = 64-byte R||S, ES384 = 96 bytes, RS256 = modulus
 * size, EdDSA = 64 bytes. Caller frees *sig. Returns ACMEH_OK, ACMEH_INVALID_ARG
 * (public-only key), ACMEH_INTERNAL. */
int acmeh_key_sign(const acmeh_key *k, const unsigned char *in, size_t inlen,
                   unsigned char **sig, size_t *siglen);

/* Same as acmeh_key_sign but ECDSA signatures stay DER-encoded (for negative
 * tests: a DER signature must not verify as a JWS). Other key types as above. */
int acmeh_key_sign_der(const acmeh_key *k, const unsigned char *in, size_t inlen,
                       unsigned char **sig, size_t *siglen);

/* Verifies a JWS-form signature made with alg `alg` over `in` with k's public key.
 * Returns ACMEH_OK if valid, ACMEH_PEER_PROTOCOL if not (wrong length, DER form,
 * alg not matching the key), ACMEH_INTERNAL. */
int acmeh_key_verify(const acmeh_key *k, const char *alg, const unsigned char *in,
                     size_t inlen, const unsigned char *sig, size_t siglen);

/* PEM (PKCS#8) of the private key, malloc'd, caller frees; NULL on failure. */
char *acmeh_key_to_pem(const acmeh_key *k);

#endif
