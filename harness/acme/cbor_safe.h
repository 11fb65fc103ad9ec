/* Decoding CBOR that a peer sent (RFC 8949), within caps: an attestation
 * object (draft-ietf-acme-device-attest §5) or a CBOR CMW
 * (draft-ietf-rats-msg-wrap §3) arrives from the client under test and may be
 * truncated, nested without end or claim lengths near 2^64. libcbor decodes;
 * this module only walks the item heads first (libcbor's streaming decoder,
 * which allocates nothing) so that cbor_load never sees input that would make
 * it allocate by a claimed length or recurse deeply. */
#ifndef ACMEH_ACME_CBOR_SAFE_H
#define ACMEH_ACME_CBOR_SAFE_H

#include <cbor.h>
#include <stddef.h>

#define ACMEH_CBOR_MAX_BYTES (64 * 1024) /* an attestation object with a 3-certificate chain is ~3 KB */
#define ACMEH_CBOR_MAX_DEPTH 16          /* attObj nests 3 deep; a CMW collection a few more */
#define ACMEH_CBOR_MAX_ITEMS 4096

/* Checks that buf[0..len) is exactly one well-formed CBOR data item of
 * definite lengths only (deterministic encoding, RFC 8949 §4.2: indefinite
 * lengths are refused), at most ACMEH_CBOR_MAX_DEPTH deep and
 * ACMEH_CBOR_MAX_ITEMS items, every claimed length within the bytes left, no
 * trailing bytes; then decodes it. On success *out is the item (caller:
 * cbor_decref). Returns ACMEH_OK, ACMEH_PEER_PROTOCOL (why in err, starting
 * "malformed CBOR: "), ACMEH_PEER_TOO_LARGE, or ACMEH_NOMEM. */
int acmeh_cbor_load_safe(const unsigned char *buf, size_t len, cbor_item_t **out, char *err, size_t errlen);

/* The value under text key `key` of definite map `map` (borrowed), or NULL. */
cbor_item_t *acmeh_cbor_map_get(const cbor_item_t *map, const char *key);

/* Encodes `item` into a malloc'd buffer (*out, *outlen; caller frees).
 * Returns ACMEH_OK or ACMEH_NOMEM. */
int acmeh_cbor_encode(const cbor_item_t *item, unsigned char **out, size_t *outlen);

#endif
