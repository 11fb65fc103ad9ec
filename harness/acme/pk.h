/* Public-key identifiers and the pk-01 proof of possession
 * (draft-geng-acme-public-key, the -01 design as shown at IETF 122; spec
 * digest pk-challenges.md §1.0). The draft's body text was not reachable, so
 * where it leaves the wire open this module defines it (digest PK-X01):
 *
 *  - identifier values are base64 (RFC 4648 §4) DER; readers also take the
 *    base64url alphabet and missing padding. "pk" holds a
 *    SubjectPublicKeyInfo, "selfsign-cert" a certificate signed by its own
 *    key, "csr" a PKCS#10 request (both signatures verified);
 *  - the pk-01 response is {"proof": JWS} POSTed to the challenge URL (its
 *    "pk_url"), the proof a compact JWS (RFC 7515 §7.1) whose protected
 *    header is {"alg": <the key's JWS alg>} and whose payload is the
 *    challenge token, signed with the identifier's private key (the pk-jwk-01
 *    variant raised in WG review). */
#ifndef ACMEH_ACME_PK_H
#define ACMEH_ACME_PK_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "harness/acme/jwk.h"

/* The longest identifier value read (characters): a 4096-bit RSA self-signed
 * certificate is under 2 KB of base64. */
#define ACMEH_PK_MAX_VALUE 16384
/* The longest proof read (characters). */
#define ACMEH_PK_MAX_PROOF 8192

/* 1 when `type` is "pk", "selfsign-cert" or "csr" (exact), else 0. */
int acmeh_pk_is_key_type(const char *type);

/* The value of identifier `type` ("pk", "selfsign-cert", "csr") for `key`
 * (a private key for the last two, which are signed with it; `cn` is their
 * subject commonName, may be NULL for "pk"), as base64 with padding into *out
 * (malloc'd, caller frees). Returns ACMEH_OK, ACMEH_INVALID_ARG (unknown
 * type, no key, cn too long), ACMEH_INTERNAL (OpenSSL failed). */
int acmeh_pk_ident_make(const char *type, EVP_PKEY *key, const char *cn, char **out);

/* Reads identifier value `value` of `type`: decodes the base64 (at most
 * ACMEH_PK_MAX_VALUE characters), parses the whole DER as the type's
 * structure and, for "selfsign-cert" and "csr", verifies its signature under
 * its own key. An RSA key over ACMEH_JWK_RSA_MAX_BITS is refused first. *key receives the public key (caller frees with
 * EVP_PKEY_free). Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL with the reason in
 * why (whylen bytes), ACMEH_INVALID_ARG for an unknown type. */
int acmeh_pk_ident_key(const char *type, const char *value, EVP_PKEY **key, char *why, size_t whylen);

/* The proof for challenge `token` signed with `k` (private): a compact JWS,
 * malloc'd into *out. Returns ACMEH_OK, ACMEH_INVALID_ARG (public-only key),
 * ACMEH_NOMEM, ACMEH_INTERNAL. */
int acmeh_pk_proof(const acmeh_key *k, const char *token, char **out);

/* Verifies `proof` (compact JWS, at most ACMEH_PK_MAX_PROOF characters) for
 * `token` under `key`: three base64url parts, a protected header that is a
 * JSON object with "alg" equal to the key's alg, payload equal to the token,
 * a signature that verifies. Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL with
 * the reason in why, ACMEH_INVALID_ARG for an unsupported key. */
int acmeh_pk_proof_verify(EVP_PKEY *key, const char *proof, const char *token, char *why, size_t whylen);

/* 1 when a and b are the same public key (EVP_PKEY_eq), else 0. */
int acmeh_pk_same_key(const EVP_PKEY *a, const EVP_PKEY *b);

/* SHA-256 of the DER SubjectPublicKeyInfo of `key`, hex (65 bytes with the
 * NUL) into out, for messages that must name a key shortly. ACMEH_OK or
 * ACMEH_INTERNAL. */
int acmeh_pk_spki_sha256(const EVP_PKEY *key, char out[65]);

#endif
