/* bp-nodeid-00 key authorization (RFC 9891 = draft-ietf-acme-dtnnodeid-18 §3):
 *   keyAuthorization = token-bundle || token-chal || "." || base64url(JWK thumbprint)
 * with both tokens as base64url text (token-bundle first), and the digest the
 * client's BP agent puts in its Response Bundle (key 3): HASH(keyAuthorization),
 * HASH from the server's alg-list; SHA-256 (COSE -16) is the one every agent
 * supports and the only one here. */
#ifndef ACMEH_ACME_DTN_H
#define ACMEH_ACME_DTN_H

#include <stddef.h>

/* The key authorization as text. token_bundle is base64url of the Challenge
 * Bundle's token-bundle bytes, token_chal the challenge object's "token-chal",
 * thumbprint the account key's base64url RFC 7638 thumbprint. malloc'd, the
 * caller frees; NULL on a NULL argument or no memory. */
char *acmeh_dtn_key_authorization(const char *token_bundle, const char *token_chal, const char *thumbprint);

/* SHA-256 of keyauth's UTF-8 bytes into out (32 bytes). Returns ACMEH_OK,
 * ACMEH_INVALID_ARG or ACMEH_INTERNAL. */
int acmeh_dtn_digest_sha256(const char *keyauth, unsigned char out[32]);

#endif
