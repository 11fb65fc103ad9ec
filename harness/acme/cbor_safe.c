/* Bounded CBOR decoding of peer bytes (cbor_safe.h). */
#include "harness/acme/cbor_safe.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* What the streaming decoder reported for one head. */
typedef struct {
  enum { H_LEAF, H_ARRAY, H_MAP, H_TAG, H_INDEF } kind;
  size_t count;
} head;

static void on_leaf_u8(void *c, uint8_t v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf_u16(void *c, uint16_t v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf_u32(void *c, uint32_t v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf_u64(void *c, uint64_t v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf_str(void *c, cbor_data d, size_t n) { (void)d, (void)n, ((head *)c)->kind = H_LEAF; }
static void on_leaf_f(void *c, float v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf_d(void *c, double v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf_b(void *c, bool v) { (void)v, ((head *)c)->kind = H_LEAF; }
static void on_leaf(void *c) { ((head *)c)->kind = H_LEAF; }
static void on_indef(void *c) { ((head *)c)->kind = H_INDEF; }
static void on_array(void *c, size_t n) { ((head *)c)->kind = H_ARRAY, ((head *)c)->count = n; }
static void on_map(void *c, size_t n) { ((head *)c)->kind = H_MAP, ((head *)c)->count = n; }
static void on_tag(void *c, uint64_t v) { (void)v, ((head *)c)->kind = H_TAG, ((head *)c)->count = 1; }

static const struct cbor_callbacks heads = {
    .uint8 = on_leaf_u8, .uint16 = on_leaf_u16, .uint32 = on_leaf_u32, .uint64 = on_leaf_u64,
    .negint8 = on_leaf_u8, .negint16 = on_leaf_u16, .negint32 = on_leaf_u32, .negint64 = on_leaf_u64,
    .byte_string = on_leaf_str, .string = on_leaf_str, .byte_string_start = on_indef, .string_start = on_indef,
    .indef_array_start = on_indef, .array_start = on_array, .indef_map_start = on_indef, .map_start = on_map,
    .tag = on_tag, .float2 = on_leaf_f, .float4 = on_leaf_f, .float8 = on_leaf_d, .undefined = on_leaf,
    .null = on_leaf, .boolean = on_leaf_b, .indef_break = on_indef,
};

/* Walks the heads of buf: every container's remaining item count on a stack.
 * A definite string's bytes are claimed by the decoder itself (NEDATA when
 * fewer are left), so a length near 2^64 ends here as truncation. */
static int walk(const unsigned char *buf, size_t len, char *err, size_t errlen) {
  size_t left[ACMEH_CBOR_MAX_DEPTH], depth = 0, pos = 0, items = 0;
  do {
    head h = {H_LEAF, 0};
    struct cbor_decoder_result r = cbor_stream_decode(buf + pos, len - pos, &heads, &h);
    if (r.status == CBOR_DECODER_NEDATA)
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: truncated at byte %zu of %zu", pos, len);
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: not a well-formed item at byte %zu", pos);
    if (h.kind == H_INDEF)
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: indefinite length at byte %zu (deterministic encoding has none)", pos);
    pos += r.read;
    if (++items > ACMEH_CBOR_MAX_ITEMS)
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: more than %d items", ACMEH_CBOR_MAX_ITEMS);
    if (depth) left[depth - 1]--;
    if (h.kind != H_LEAF && h.count > 0) {
      /* each element takes at least one byte: a larger claim is a lie, refused before any allocation */
      if (h.count > len - pos || (h.kind == H_MAP && h.count > (len - pos) / 2))
        return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: %s of %zu elements in %zu bytes left",
                         h.kind == H_MAP ? "map" : "array", h.count, len - pos);
      if (depth == ACMEH_CBOR_MAX_DEPTH)
        return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: nested deeper than %d", ACMEH_CBOR_MAX_DEPTH);
      left[depth++] = h.kind == H_MAP ? 2 * h.count : h.count;
    }
    while (depth && left[depth - 1] == 0) depth--;
  } while (depth);
  if (pos != len) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: %zu bytes after the item", len - pos);
  return ACMEH_OK;
}

int acmeh_cbor_load_safe(const unsigned char *buf, size_t len, cbor_item_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (len > ACMEH_CBOR_MAX_BYTES)
    return acmeh_msg(err, errlen, ACMEH_PEER_TOO_LARGE, "CBOR of %zu bytes (cap %d)", len, ACMEH_CBOR_MAX_BYTES);
  if (!buf || len == 0) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed CBOR: empty");
  int rc = walk(buf, len, err, errlen);
  if (rc) return rc;
  struct cbor_load_result lr;
  *out = cbor_load(buf, len, &lr);
  if (!*out) return acmeh_msg(err, errlen, lr.error.code == CBOR_ERR_MEMERROR ? ACMEH_NOMEM : ACMEH_PEER_PROTOCOL,
                              "malformed CBOR: libcbor error %d at byte %zu", (int)lr.error.code, lr.error.position);
  return ACMEH_OK;
}

cbor_item_t *acmeh_cbor_map_get(const cbor_item_t *map, const char *key) {
  if (!map || !cbor_isa_map(map) || !cbor_map_is_definite(map)) return NULL;
  struct cbor_pair *p = cbor_map_handle(map);
  size_t kl = strlen(key);
  for (size_t i = 0; i < cbor_map_size(map); i++)
    if (cbor_isa_string(p[i].key) && cbor_string_is_definite(p[i].key) && cbor_string_length(p[i].key) == kl &&
        memcmp(cbor_string_handle(p[i].key), key, kl) == 0)
      return p[i].value;
  return NULL;
}

int acmeh_cbor_encode(const cbor_item_t *item, unsigned char **out, size_t *outlen) {
  size_t cap = 0;
  *outlen = cbor_serialize_alloc(item, out, &cap);
  return *outlen ? ACMEH_OK : ACMEH_NOMEM;
}
