#include "harness/dns/wire.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void acmeh_wbuf_put(acmeh_wbuf *b, const void *p, size_t n) {
  if (b->oom) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 512;
    while (cap < b->len + n) cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
      b->oom = 1;
      return;
    }
    b->data = d, b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}

void acmeh_wbuf_u16(acmeh_wbuf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  acmeh_wbuf_put(b, x, 2);
}

void acmeh_wbuf_u32(acmeh_wbuf *b, uint32_t v) {
  acmeh_wbuf_u16(b, (uint16_t)(v >> 16));
  acmeh_wbuf_u16(b, (uint16_t)v);
}

void acmeh_wbuf_set_u16(acmeh_wbuf *b, size_t at, uint16_t v) {
  if (b->oom || at + 2 > b->len) return;
  b->data[at] = (uint8_t)(v >> 8), b->data[at + 1] = (uint8_t)v;
}

uint16_t acmeh_wbuf_get_u16(const acmeh_wbuf *b, size_t at) {
  if (b->oom || at + 2 > b->len) return 0;
  return (uint16_t)(b->data[at] << 8 | b->data[at + 1]);
}

void acmeh_wbuf_free(acmeh_wbuf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

int acmeh_wbuf_name(acmeh_wbuf *b, const char *name, int canonical) {
  ldns_rdf *r = ldns_dname_new_frm_str(name);
  if (!r) return ACMEH_INVALID_ARG;
  if (canonical) ldns_dname2canonical(r);
  acmeh_wbuf_put(b, ldns_rdf_data(r), ldns_rdf_size(r));
  ldns_rdf_deep_free(r);
  return 0;
}

size_t acmeh_dnsw_skip_name(const uint8_t *wire, size_t len, size_t pos) {
  while (pos < len) {
    uint8_t l = wire[pos];
    if ((l & 0xC0) == 0xC0) return pos + 2 <= len ? pos + 2 : 0;
    if (l & 0xC0) return 0;
    if (l == 0) return pos + 1;
    pos += 1 + (size_t)l;
  }
  return 0;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

int acmeh_dnsw_last_additional(const uint8_t *wire, size_t len, size_t *at, uint16_t *type) {
  if (len < 12) return ACMEH_PEER_PROTOCOL;
  size_t qd = get16(wire + 4), rrs = (size_t)get16(wire + 6) + get16(wire + 8) + get16(wire + 10);
  if (get16(wire + 10) == 0) return ACMEH_PEER_PROTOCOL;
  size_t pos = 12;
  for (size_t i = 0; i < qd; i++) {
    pos = acmeh_dnsw_skip_name(wire, len, pos);
    if (!pos || pos + 4 > len) return ACMEH_PEER_PROTOCOL;
    pos += 4;
  }
  for (size_t i = 0; i < rrs; i++) {
    size_t start = pos;
    pos = acmeh_dnsw_skip_name(wire, len, pos);
    if (!pos || pos + 10 > len) return ACMEH_PEER_PROTOCOL;
    *type = get16(wire + pos);
    size_t rdlen = get16(wire + pos + 8);
    pos += 10 + rdlen;
    if (pos > len) return ACMEH_PEER_PROTOCOL;
    *at = start;
  }
  return 0;
}
