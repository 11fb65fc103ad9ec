/* libcbor helpers (cborutil.h). */
#include <stdlib.h>

#include "base/error.h"
#include "mocks/bundle-node/cborutil.h"

cbor_item_t *acmeh_cbor_uint(uint64_t v) {
  if (v <= UINT8_MAX) return cbor_build_uint8((uint8_t)v);
  if (v <= UINT16_MAX) return cbor_build_uint16((uint16_t)v);
  if (v <= UINT32_MAX) return cbor_build_uint32((uint32_t)v);
  return cbor_build_uint64(v);
}

cbor_item_t *acmeh_cbor_int(int64_t v) {
  if (v >= 0) return acmeh_cbor_uint((uint64_t)v);
  uint64_t n = (uint64_t)(-(v + 1)); /* CBOR major type 1 carries -1 - v */
  if (n <= UINT8_MAX) return cbor_build_negint8((uint8_t)n);
  if (n <= UINT16_MAX) return cbor_build_negint16((uint16_t)n);
  if (n <= UINT32_MAX) return cbor_build_negint32((uint32_t)n);
  return cbor_build_negint64(n);
}

int acmeh_cbor_push(cbor_item_t *array, cbor_item_t *item) {
  if (!item) return 0;
  int ok = cbor_array_push(array, item);
  cbor_decref(&item);
  return ok;
}

int acmeh_cbor_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value) {
  int ok = key && value && cbor_map_add(map, (struct cbor_pair){.key = key, .value = value});
  if (key) cbor_decref(&key);
  if (value) cbor_decref(&value);
  return ok;
}

int acmeh_cbor_get_uint(const cbor_item_t *it, uint64_t *v) {
  if (!it || !cbor_isa_uint(it)) return 0;
  *v = cbor_get_int(it);
  return 1;
}

int acmeh_cbor_get_int(const cbor_item_t *it, int64_t *v) {
  if (!it) return 0;
  uint64_t u = cbor_isa_uint(it) || cbor_isa_negint(it) ? cbor_get_int(it) : 0;
  if (cbor_isa_uint(it) && u <= INT64_MAX) return *v = (int64_t)u, 1;
  if (cbor_isa_negint(it) && u <= INT64_MAX) return *v = -1 - (int64_t)u, 1;
  return 0;
}

int acmeh_cbor_serialize(const cbor_item_t *item, unsigned char **out, size_t *outlen) {
  size_t cap = 0;
  *out = NULL;
  *outlen = cbor_serialize_alloc(item, out, &cap);
  if (!*out || *outlen == 0) {
    free(*out);
    *out = NULL, *outlen = 0;
    return ACMEH_NOMEM;
  }
  return ACMEH_OK;
}
