/* The WebAuthn attestation object as draft-ietf-acme-device-attest §5 carries
 * it in a device-attest-01 response ({"attObj": base64url(CBOR)}), and its
 * verification for the `packed` format with an x5c chain (WebAuthn Level 2
 * §8.2): attToBeSigned is the key authorization (or the token) in place of
 * authenticatorData || clientDataHash, and the leaf of x5c certifies the
 * device key, which must be the key of the CSR at finalize (§8). */
#ifndef ACMEH_ACME_ATTOBJ_H
#define ACMEH_ACME_ATTOBJ_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "harness/acme/devid.h"

#define ACMEH_ATTOBJ_MAX_CHAIN 4 /* x5c: leaf plus intermediates */

/* What a verifier expects. Everything borrowed. */
typedef struct {
  X509 *const *roots;        /* trust anchors for x5c */
  size_t nroots;
  const unsigned char *tbs;  /* attToBeSigned: the keyAuthorization (RFC 8555 §8.1) or token */
  size_t tbs_len;
  acmeh_devid_type id_type;  /* the order's identifier: type and value */
  const char *id_value;
  double now;                /* wall seconds for certificate validity; 0 = time(NULL) */
} acmeh_attobj_expect;

/* What verification found. */
typedef struct {
  char fmt[32];     /* the "fmt" text as sent (truncated), "" when none */
  EVP_PKEY *key;    /* the attested public key (caller frees with EVP_PKEY_free), NULL on failure */
  int had_authdata; /* "authData" was present (§5: SHOULD be omitted) */
} acmeh_attobj_result;

/* Decodes (acmeh_cbor_load_safe) and verifies attestation object obj[0..len):
 * a map with text "fmt" and map "attStmt"; fmt "packed" with alg -7 (ES256),
 * sig (DER ECDSA over SHA-256 of tbs by the x5c leaf's key) and x5c (1 to
 * ACMEH_ATTOBJ_MAX_CHAIN DER certificates chaining to a root, valid at now);
 * the leaf's subjectAltName names the expected identifier. Or fmt "tpm"
 * (WebAuthn §8.3): ver "2.0", alg -7, x5c (the AK certificate first), sig
 * by the AK over certInfo, certInfo's extraData = SHA-256(tbs) and attested
 * name = pubArea's (tpmattest.h); the attested key is pubArea's. Returns ACMEH_OK;
 * ACMEH_PEER_PROTOCOL with the reason in err ("malformed CBOR: ...",
 * "unsupported attestation format ...", "attestation certificate ...",
 * "attestation signature ...", "attested identifier ..."); ACMEH_NOMEM. r is
 * filled as far as decoding got (free r->key even on failure). */
int acmeh_attobj_verify(const unsigned char *obj, size_t len, const acmeh_attobj_expect *e, acmeh_attobj_result *r,
                        char *err, size_t errlen);

/* The identifier value of type t in certificate x's subjectAltName (first one;
 * malloc'd), or NULL. */
char *acmeh_attobj_cert_devid(X509 *x, acmeh_devid_type t);

#endif
