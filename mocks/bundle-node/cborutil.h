/* Internal to mocks/bundle-node: small libcbor helpers that keep the
 * encoders short (shortest-form integers, push-and-release) and the readers
 * typed. */
#ifndef ACMEH_MOCKS_CBORUTIL_H
#define ACMEH_MOCKS_CBORUTIL_H

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

/* An unsigned / signed integer item in its shortest encoding (RFC 8949
 * §4.2.1), as the draft's examples are written. NULL when out of memory. */
cbor_item_t *acmeh_cbor_uint(uint64_t v);
cbor_item_t *acmeh_cbor_int(int64_t v);

/* Appends item to the array and drops the caller's reference: after the call
 * the caller owns nothing of item, whatever the outcome. Returns 1, or 0 when
 * item is NULL or the push failed. */
int acmeh_cbor_push(cbor_item_t *array, cbor_item_t *item);

/* Adds key -> value to the map, dropping the caller's references as
 * acmeh_cbor_push does. Returns 1 or 0. */
int acmeh_cbor_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);

/* Reads an unsigned integer of any width into *v. Returns 1, or 0 when the
 * item is not an unsigned integer. */
int acmeh_cbor_get_uint(const cbor_item_t *it, uint64_t *v);

/* Reads an integer (unsigned or negative) that fits int64_t. Returns 1 or 0. */
int acmeh_cbor_get_int(const cbor_item_t *it, int64_t *v);

/* Serializes item into a malloc'd *out of exactly *outlen bytes (the caller
 * frees it). Returns ACMEH_OK or ACMEH_NOMEM. */
int acmeh_cbor_serialize(const cbor_item_t *item, unsigned char **out, size_t *outlen);

#endif
