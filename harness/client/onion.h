/* The reference client's RFC 9799 side: the onion-csr-01 response (§3.2) and
 * the in-band CAA member of finalize (§6.4), both signed with the onion
 * service's Ed25519 identity key (an EVP_PKEY, acmeh_onion_key_load reads
 * the file forms OpenSSL can sign with). */
#ifndef ACMEH_CLIENT_ONION_H
#define ACMEH_CLIENT_ONION_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

/* How a response deviates, for the harness's own faulty client (all 0 =
 * the RFC's response). */
typedef struct {
  EVP_PKEY *sign_key;  /* sign with this key instead of the onion key */
  int nonce_text;      /* caSigningNonce = the nonce's base64 text, not its bytes */
  size_t app_len;      /* applicantSigningNonce bytes (0 = 10, the RFC asks >= 8) */
} acmeh_onion_response_opts;

/* The payload of the response to onion-csr-01 challenge `chal` (its "nonce",
 * padded standard base64): {"csr": base64url DER} of a CSR signed by
 * onion_key with caSigningNonce = the nonce's bytes and a fresh random
 * applicantSigningNonce. *payload is malloc'd (caller frees). o may be NULL.
 * Returns ACMEH_OK, ACMEH_PEER_PROTOCOL (no usable nonce; reason in err),
 * ACMEH_NOMEM or ACMEH_INTERNAL. */
int acmeh_client_onion_response(EVP_PKEY *onion_key, const json_t *chal, const acmeh_onion_response_opts *o,
                                char **payload, char *err, size_t errlen);

/* The finalize member "onionCAA" (§6.4) for the .onion names among
 * names[0..n): {"<base>.onion": {"caa": caa or null, "expiry": expiry,
 * "signature": base64url Ed25519 over "onion-caa|<expiry>|<caa>"}} keyed by
 * each base address once, all signed by onion_key (the client holds one
 * service's key). A new reference, or NULL when no name is an onion name or
 * on failure. */
json_t *acmeh_client_onion_caa(EVP_PKEY *onion_key, const char *const *names, size_t n, const char *caa, long long expiry);

#endif
