/* The pre-check of peer CBOR (bpv7.h acmeh_cbor_check): libcbor's streaming
 * decoder walks the input item by item while a small stack counts what each
 * open array or map still owes. Nothing is allocated from declared lengths,
 * so a 4 GB length or 10,000 nested arrays cost nothing before refusal. */
#include <cbor.h>
#include <stdint.h>

#include "base/error.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/cborsafe.h"

#define INDEF UINT64_MAX

typedef struct {
  uint64_t left[ACMEH_CBOR_MAX_DEPTH]; /* items each open container still owes; INDEF until its break */
  int depth;
  int in_chunks;   /* inside an indefinite-length string */
  int done;        /* one top-level item is complete */
  int err;         /* ACMEH_PEER_* once refused */
  const char *why;
  size_t left_bytes; /* input bytes from the current item on: bounds declared counts */
} scan;

static void refuse(scan *s, int err, const char *why) {
  if (!s->err) s->err = err, s->why = why;
}

/* One item ended: count it against the innermost definite container,
 * closing every container it completes. */
static void item_done(scan *s) {
  for (;;) {
    if (s->depth == 0) {
      s->done = 1;
      return;
    }
    uint64_t *l = &s->left[s->depth - 1];
    if (*l == INDEF || --*l > 0) return;
    s->depth--;
  }
}

static void open_container(scan *s, uint64_t items) {
  if (s->depth >= ACMEH_CBOR_MAX_DEPTH) return refuse(s, ACMEH_PEER_TOO_LARGE, "CBOR nested deeper than the cap");
  if (items != INDEF && items > s->left_bytes) return refuse(s, ACMEH_PEER_PROTOCOL, "CBOR declares more items than the input holds");
  if (items == 0) return item_done(s);
  s->left[s->depth++] = items;
}

static void on_u8(void *c, uint8_t v) { (void)v, item_done(c); }
static void on_u16(void *c, uint16_t v) { (void)v, item_done(c); }
static void on_u32(void *c, uint32_t v) { (void)v, item_done(c); }
static void on_u64(void *c, uint64_t v) { (void)v, item_done(c); }
static void on_f4(void *c, float v) { (void)v, item_done(c); }
static void on_f8(void *c, double v) { (void)v, item_done(c); }
static void on_simple(void *c) { item_done(c); }
static void on_bool(void *c, bool v) { (void)v, item_done(c); }

static void on_string(void *c, cbor_data d, size_t n) {
  scan *s = c;
  (void)d, (void)n;
  if (!s->in_chunks) item_done(s); /* a chunk of an indefinite string ends nothing */
}

static void on_chunks_start(void *c) {
  scan *s = c;
  if (s->in_chunks) return refuse(s, ACMEH_PEER_PROTOCOL, "CBOR indefinite string nested in another");
  s->in_chunks = 1;
}

static void on_array(void *c, size_t n) { open_container(c, n); }
static void on_map(void *c, size_t n) {
  scan *s = c;
  if (n > s->left_bytes / 2) return refuse(s, ACMEH_PEER_PROTOCOL, "CBOR declares more map entries than the input holds");
  open_container(s, (uint64_t)n * 2);
}
static void on_indef(void *c) { open_container(c, INDEF); }
static void on_tag(void *c, uint64_t t) { (void)t, refuse(c, ACMEH_PEER_PROTOCOL, "CBOR tag where BPv7 has none"); }

static void on_break(void *c) {
  scan *s = c;
  if (s->in_chunks) {
    s->in_chunks = 0;
    return item_done(s);
  }
  if (s->depth == 0 || s->left[s->depth - 1] != INDEF) return refuse(s, ACMEH_PEER_PROTOCOL, "CBOR break outside an indefinite item");
  s->depth--;
  item_done(s);
}

static const struct cbor_callbacks callbacks = {
    .uint8 = on_u8, .uint16 = on_u16, .uint32 = on_u32, .uint64 = on_u64,
    .negint8 = on_u8, .negint16 = on_u16, .negint32 = on_u32, .negint64 = on_u64,
    .byte_string = on_string, .byte_string_start = on_chunks_start,
    .string = on_string, .string_start = on_chunks_start,
    .array_start = on_array, .indef_array_start = on_indef,
    .map_start = on_map, .indef_map_start = on_indef,
    .tag = on_tag, .float2 = on_f4, .float4 = on_f4, .float8 = on_f8,
    .undefined = on_simple, .null = on_simple, .boolean = on_bool, .indef_break = on_break,
};

int acmeh_cbor_scan(const unsigned char *data, size_t len, int sequence, size_t *first_len, char *msg, size_t msglen) {
  if (!data || len == 0) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "empty CBOR input");
  if (len > ACMEH_BUNDLE_MAX) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "CBOR input of %zu bytes exceeds the cap of %d", len, ACMEH_BUNDLE_MAX);
  scan s = {0};
  size_t pos = 0;
  while (pos < len && !s.done && !s.err) {
    s.left_bytes = len - pos;
    struct cbor_decoder_result r = cbor_stream_decode(data + pos, len - pos, &callbacks, &s);
    if (r.status == CBOR_DECODER_NEDATA) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "truncated CBOR: %zu more byte(s) needed at offset %zu", r.required, pos);
    if (r.status != CBOR_DECODER_FINISHED) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "malformed CBOR at offset %zu", pos);
    pos += r.read;
  }
  if (s.err) return acmeh_msg(msg, msglen, s.err, "%s (offset %zu)", s.why, pos);
  if (!s.done) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "truncated CBOR: input ends inside an item (%zu bytes)", len);
  if (first_len) *first_len = pos;
  if (pos < len && !sequence) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "%zu byte(s) after the CBOR item", len - pos);
  return ACMEH_OK;
}

int acmeh_cbor_check(const unsigned char *data, size_t len, char *msg, size_t msglen) {
  return acmeh_cbor_scan(data, len, 0, NULL, msg, msglen);
}
