/* Flattened JWS for ACME requests (RFC 8555 §6.2, RFC 7515 §7.2.2), with
 * mutations so negative checks can send deliberately wrong requests. */
#ifndef ACMEH_ACME_JWS_H
#define ACMEH_ACME_JWS_H

#include <jansson.h>
#include <stddef.h>

#include "harness/acme/jwk.h"

/* All fields default to 0/NULL = "behave correctly". */
typedef struct {
  const char *kid;          /* account URL; put as "kid" when set */
  int use_jwk;              /* put the public key as "jwk" (newAccount, revokeCert by cert key) */
  const char *nonce;        /* "nonce" member; NULL omits it */
  const char *url;          /* "url" member; NULL omits it */
  const char *alg_override; /* header alg instead of the key's ("none", "HS256", ...) */
  const json_t *jwk_override;   /* put this object as "jwk" instead of the key's */
  const json_t *extra_protected; /* members merged into the protected header */
  const json_t *unprotected;     /* adds an unprotected "header" member */
  const unsigned char *mac_key;  /* sign with HMAC (alg_override or "HS256") using this key;
                                  * an alg_override that is not HS256/384/512 is only
                                  * written to the header, the MAC then uses SHA-256 */
  size_t mac_key_len;
  const char *payload_b64_override; /* put this string as "payload" verbatim */
  int b64_false;            /* RFC 7797: "b64":false + "crit":["b64"], payload unencoded */
  int flip_signature_bit;   /* flip the lowest bit of the signature's middle byte */
  int empty_signature;      /* "signature": "" */
  int no_signature;         /* sign with alg "none": signature "" (alg_override "none") */
  int der_signature;        /* ECDSA signature in DER, not R||S (no effect for RSA/EdDSA) */
  int pad_protected;        /* append "=" padding to the protected part */
  int pad_payload;          /* append "=" padding to the payload part */
  int pad_signature;        /* append "=" padding to the signature part */
  /* pad_*: the padding a standard encoder would add, or one '=' when none is
   * due, so the mutation always shows. The signature covers the unpadded parts,
   * so padding is the only defect. */
  int general_serialization; /* {"payload":..,"signatures":[{"protected":..,"signature":..}]} */
  int compact_serialization; /* "protected.payload.signature" text instead of JSON */
} acmeh_jws_opts;

/* Builds a JWS over `payload` (`payload_len` bytes, exact; NULL/0 means the
 * empty payload of POST-as-GET, RFC 8555 §6.3) signed with `key` (may be NULL
 * when mac_key is set or no_signature/alg "none" is used). The protected
 * header is serialised compactly with sorted member names, so its bytes are
 * stable (and equal to the digest's V8-V10 vectors).
 * On success *out is a malloc'd NUL-terminated request body the caller frees.
 * Returns ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM, ACMEH_INTERNAL. */
int acmeh_jws_build(const acmeh_key *key, const char *payload, size_t payload_len,
                    const acmeh_jws_opts *opts, char **out);

/* Convenience for a JSON payload: serialises `payload` compactly (NULL means
 * POST-as-GET "") and calls acmeh_jws_build. Same returns. */
int acmeh_jws_build_json(const acmeh_key *key, const json_t *payload,
                         const acmeh_jws_opts *opts, char **out);

/* Parsed flattened JWS (for the reference server and for tests). */
typedef struct {
  json_t *protected_hdr;   /* decoded protected header (owned) */
  char *protected_b64;     /* as received (owned) */
  char *payload_b64;       /* as received (owned) */
  unsigned char *payload;  /* decoded payload, NUL-terminated (owned) */
  size_t payload_len;
  unsigned char *sig;      /* decoded signature (owned) */
  size_t sig_len;
} acmeh_jws_parsed;

/* Parses a flattened JWS body strictly (rejects "signatures", "header",
 * padding, non-base64url). Fills *out; free with acmeh_jws_parsed_free.
 * Returns ACMEH_OK or ACMEH_PEER_PROTOCOL with a reason in err (errlen bytes). */
int acmeh_jws_parse(const char *body, size_t len, acmeh_jws_parsed *out, char *err,
                    size_t errlen);
void acmeh_jws_parsed_free(acmeh_jws_parsed *p);

/* Signing input of a parsed JWS: protected_b64 "." payload_b64, as received
 * (RFC 7515 §5.2 step 8). Malloc'd NUL-terminated string, caller frees; NULL
 * on allocation failure. */
char *acmeh_jws_signing_input(const acmeh_jws_parsed *p);

/* Verifies a parsed JWS with `key`, using the protected header's "alg"
 * (which must be the key's alg). Returns ACMEH_OK, ACMEH_PEER_PROTOCOL (no or
 * wrong alg, bad signature), ACMEH_NOMEM, ACMEH_INTERNAL. */
int acmeh_jws_verify(const acmeh_jws_parsed *p, const acmeh_key *key);

/* HMAC for External Account Binding (RFC 8555 §7.3.4, RFC 7518 §3.2): `alg`
 * is "HS256", "HS384" or "HS512"; writes the MAC into out (64 bytes suffice)
 * and its length into *outlen. Returns ACMEH_OK, ACMEH_INVALID_ARG (other alg),
 * ACMEH_INTERNAL. */
int acmeh_hmac_sign(const char *alg, const unsigned char *key, size_t keylen,
                    const unsigned char *in, size_t inlen, unsigned char out[64],
                    size_t *outlen);

/* Verifies a parsed JWS whose header alg is HS256/384/512 against `key` in
 * constant time. Returns ACMEH_OK, ACMEH_PEER_PROTOCOL (not a MAC alg, bad MAC),
 * ACMEH_NOMEM, ACMEH_INTERNAL. */
int acmeh_jws_verify_hmac(const acmeh_jws_parsed *p, const unsigned char *key, size_t keylen);

#endif
