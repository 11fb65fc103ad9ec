/* base64url without padding (RFC 4648 §5, as RFC 8555 §6.1 requires). */
#ifndef ACMEH_ACME_B64_H
#define ACMEH_ACME_B64_H

#include <stddef.h>

/* Encodes `len` bytes of `data` as base64url with no '=' padding.
 * Returns a NUL-terminated string the caller frees with free(), or NULL on
 * allocation failure. len == 0 gives "". */
char *acmeh_b64url_encode(const unsigned char *data, size_t len);

/* Decodes `slen` characters of `s` strictly: only A-Z a-z 0-9 - _, no '=',
 * no whitespace, and a length that is not 1 mod 4. On success stores a
 * malloc'd buffer (NUL-terminated for convenience, not counted) in *out and
 * its length in *outlen (either may be NULL to only validate).
 * Returns ACMEH_OK, ACMEH_PEER_PROTOCOL for invalid input, ACMEH_NOMEM. */
int acmeh_b64url_decode(const char *s, size_t slen, unsigned char **out, size_t *outlen);

/* Returns 1 if the NUL-terminated `s` is non-empty strict base64url (as above), else 0. */
int acmeh_b64url_valid(const char *s);

#endif
