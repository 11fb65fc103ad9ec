/* DNS wire-format helpers for harness/dns: a growable byte buffer with
 * big-endian writers, name encoding, and a walker that finds a message's
 * last additional RR (where a TSIG must be, RFC 8945 §5.1). Internal to
 * harness/dns and tests/peers. */
#ifndef ACMEH_DNS_WIRE_H
#define ACMEH_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *data; /* owned (free with acmeh_wbuf_free) */
  size_t len, cap;
  int oom;       /* a write failed for lack of memory; later writes are ignored */
} acmeh_wbuf;

void acmeh_wbuf_put(acmeh_wbuf *b, const void *p, size_t n);
void acmeh_wbuf_u16(acmeh_wbuf *b, uint16_t v);
void acmeh_wbuf_u32(acmeh_wbuf *b, uint32_t v);
void acmeh_wbuf_set_u16(acmeh_wbuf *b, size_t at, uint16_t v); /* at + 2 <= len */
uint16_t acmeh_wbuf_get_u16(const acmeh_wbuf *b, size_t at);
void acmeh_wbuf_free(acmeh_wbuf *b);

/* Appends presentation-format `name` uncompressed; lower-cased when
 * `canonical` (RFC 8945 §4.3.3 MAC input). Returns 0 or ACMEH_INVALID_ARG. */
int acmeh_wbuf_name(acmeh_wbuf *b, const char *name, int canonical);

/* Where the last additional RR of `wire` starts, and its TYPE; fills *at and
 * *type. Returns 0, or ACMEH_PEER_PROTOCOL when the message is malformed or
 * has no additional RR. */
int acmeh_dnsw_last_additional(const uint8_t *wire, size_t len, size_t *at, uint16_t *type);

/* Offset just past the (possibly compressed) name at `pos`, or 0 if malformed. */
size_t acmeh_dnsw_skip_name(const uint8_t *wire, size_t len, size_t pos);

#endif
