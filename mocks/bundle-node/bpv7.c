/* BPv7 bundle encoding and decoding through libcbor (bpv7.h). */
#include <cbor.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/cborsafe.h"
#include "mocks/bundle-node/cborutil.h"

#define EID_DTN 1
#define EID_IPN 2

/* ---- endpoint IDs (RFC 9171 §4.2.5.1) ---- */

static int parse_ipn(const char *ssp, uint64_t *node, uint64_t *service) {
  char *end;
  if (*ssp < '0' || *ssp > '9') return 0;
  *node = strtoull(ssp, &end, 10);
  if (*end != '.' || end[1] < '0' || end[1] > '9') return 0;
  *service = strtoull(end + 1, &end, 10);
  return *end == '\0';
}

int acmeh_eid_valid(const char *t) {
  uint64_t n = 0, s = 0;
  if (!t || strlen(t) >= ACMEH_EID_MAX) return 0;
  if (strcmp(t, "dtn:none") == 0) return 1;
  if (strncmp(t, "ipn:", 4) == 0) return parse_ipn(t + 4, &n, &s);
  if (strncmp(t, "dtn://", 6) != 0) return 0;
  const char *slash = strchr(t + 6, '/');
  return slash && slash > t + 6;
}

int acmeh_eid_is_admin_node_id(const char *t) {
  uint64_t n = 0, s = 0;
  if (!acmeh_eid_valid(t) || strcmp(t, "dtn:none") == 0) return 0;
  if (strncmp(t, "ipn:", 4) == 0) return parse_ipn(t + 4, &n, &s) && s == 0;
  return strchr(t + 6, '/')[1] == '\0';
}

static cbor_item_t *eid_encode(const char *t) {
  uint64_t n = 0, s = 0; /* set by parse_ipn: acmeh_eid_valid checked the form */
  if (!acmeh_eid_valid(t)) return NULL;
  cbor_item_t *eid = cbor_new_definite_array(2), *ssp;
  if (!eid) return NULL;
  if (strcmp(t, "dtn:none") == 0) {
    ssp = acmeh_cbor_uint(0);
  } else if (strncmp(t, "ipn:", 4) == 0) {
    parse_ipn(t + 4, &n, &s);
    ssp = cbor_new_definite_array(2);
    if (ssp && !(acmeh_cbor_push(ssp, acmeh_cbor_uint(n)) && acmeh_cbor_push(ssp, acmeh_cbor_uint(s)))) cbor_decref(&ssp);
  } else {
    ssp = cbor_build_string(t + 4); /* "//node/demux" */
  }
  if (!acmeh_cbor_push(eid, acmeh_cbor_uint(strncmp(t, "ipn:", 4) == 0 ? EID_IPN : EID_DTN))) {
    if (ssp) cbor_decref(&ssp);
    cbor_decref(&eid);
  } else if (!acmeh_cbor_push(eid, ssp)) {
    cbor_decref(&eid);
  }
  return eid;
}

static int eid_decode(const cbor_item_t *it, char *out, char *msg, size_t msglen) {
  uint64_t scheme, n, s;
  if (!cbor_isa_array(it) || cbor_array_size(it) != 2 || !acmeh_cbor_get_uint(cbor_array_handle(it)[0], &scheme))
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "an EID is not [scheme, SSP] (RFC 9171 §4.2.5.1)");
  const cbor_item_t *ssp = cbor_array_handle(it)[1];
  if (scheme == EID_DTN && acmeh_cbor_get_uint(ssp, &n) && n == 0) return snprintf(out, ACMEH_EID_MAX, "dtn:none"), ACMEH_OK;
  if (scheme == EID_DTN && cbor_isa_string(ssp) && cbor_string_is_definite(ssp)) {
    size_t len = cbor_string_length(ssp);
    if (len + 5 > ACMEH_EID_MAX || memchr(cbor_string_handle(ssp), 0, len))
      return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "a dtn EID of %zu bytes (cap %d) or with a NUL", len, ACMEH_EID_MAX - 5);
    snprintf(out, ACMEH_EID_MAX, "dtn:%.*s", (int)len, (const char *)cbor_string_handle(ssp));
    if (!acmeh_eid_valid(out)) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "the dtn EID \"%.80s\" is not dtn://node/demux", out);
    return ACMEH_OK;
  }
  if (scheme == EID_IPN && cbor_isa_array(ssp) && cbor_array_size(ssp) == 2 && acmeh_cbor_get_uint(cbor_array_handle(ssp)[0], &n) &&
      acmeh_cbor_get_uint(cbor_array_handle(ssp)[1], &s))
    return snprintf(out, ACMEH_EID_MAX, "ipn:%" PRIu64 ".%" PRIu64, n, s), ACMEH_OK;
  return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "an EID of scheme %" PRIu64 " with an SSP of the wrong form", scheme);
}

/* ---- decoding ---- */

static int read_primary(const cbor_item_t *p, acmeh_bundle *b, char *msg, size_t msglen) {
  uint64_t version;
  size_t n = cbor_isa_array(p) ? cbor_array_size(p) : 0;
  if (n < 8) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "the primary block is not an array of 8 to 11 items (RFC 9171 §4.3.1)");
  cbor_item_t **f = cbor_array_handle(p);
  if (!acmeh_cbor_get_uint(f[0], &version) || version != 7) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "bundle protocol version is not 7");
  if (!acmeh_cbor_get_uint(f[1], &b->flags) || !acmeh_cbor_get_uint(f[2], &b->crc_type) || b->crc_type > 2)
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "primary block flags or CRC type malformed");
  if (b->flags & ACMEH_BPF_FRAGMENT) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "fragmented bundles are not reassembled here");
  if (n != (b->crc_type ? 9u : 8u)) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "primary block has %zu items for CRC type %" PRIu64, n, b->crc_type);
  int rc;
  if ((rc = eid_decode(f[3], b->dest, msg, msglen)) || (rc = eid_decode(f[4], b->src, msg, msglen)) || (rc = eid_decode(f[5], b->report_to, msg, msglen)))
    return rc;
  if (!cbor_isa_array(f[6]) || cbor_array_size(f[6]) != 2 || !acmeh_cbor_get_uint(cbor_array_handle(f[6])[0], &b->created_ms) ||
      !acmeh_cbor_get_uint(cbor_array_handle(f[6])[1], &b->seq))
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "creation timestamp is not [time, sequence]");
  if (!acmeh_cbor_get_uint(f[7], &b->lifetime_ms)) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "lifetime is not an unsigned integer");
  return ACMEH_OK;
}

/* A BIB's targets: the first item of its ASB (RFC 9172 §3.6). */
static int read_bib(const unsigned char *d, size_t len, acmeh_bundle *b, char *msg, size_t msglen) {
  size_t first;
  int rc = acmeh_cbor_scan(d, len, 1, &first, msg, msglen);
  if (rc) return rc;
  struct cbor_load_result lr;
  cbor_item_t *t = cbor_load(d, first, &lr);
  if (!t) return acmeh_msg(msg, msglen, ACMEH_NOMEM, "out of memory reading a BIB");
  rc = cbor_isa_array(t) && cbor_array_size(t) > 0 ? ACMEH_OK : acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "BIB security targets are not a non-empty array");
  for (size_t i = 0; rc == ACMEH_OK && i < cbor_array_size(t); i++) {
    uint64_t n;
    if (!acmeh_cbor_get_uint(cbor_array_handle(t)[i], &n)) rc = acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "a BIB target is not a block number");
    else if (n == 0) b->bib_covers_primary = 1;
    else if (n == 1) b->bib_covers_payload = 1;
  }
  cbor_decref(&t);
  b->has_bib = 1;
  return rc;
}

static int read_age(const unsigned char *d, size_t len, acmeh_bundle *b, char *msg, size_t msglen) {
  int rc = acmeh_cbor_check(d, len, msg, msglen);
  if (rc) return rc;
  struct cbor_load_result lr;
  cbor_item_t *t = cbor_load(d, len, &lr);
  if (!t) return acmeh_msg(msg, msglen, ACMEH_NOMEM, "out of memory reading a Bundle Age block");
  rc = acmeh_cbor_get_uint(t, &b->age_ms) ? ACMEH_OK : acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "Bundle Age block data is not an unsigned integer");
  b->has_age = 1;
  cbor_decref(&t);
  return rc;
}

static int read_block(const cbor_item_t *blk, int last, uint64_t *seen, acmeh_bundle *b, char *msg, size_t msglen) {
  uint64_t type, num, flags, crc;
  size_t n = cbor_isa_array(blk) ? cbor_array_size(blk) : 0;
  cbor_item_t **f = n ? cbor_array_handle(blk) : NULL; /* libcbor asserts on a non-array */
  if (n < 5 || n > 6 || !acmeh_cbor_get_uint(f[0], &type) || !acmeh_cbor_get_uint(f[1], &num) || !acmeh_cbor_get_uint(f[2], &flags) ||
      !acmeh_cbor_get_uint(f[3], &crc) || crc > 2 || n != (crc ? 6u : 5u) || !cbor_isa_bytestring(f[4]) || !cbor_bytestring_is_definite(f[4]))
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "a canonical block is not [type, number, flags, CRC type, data, (CRC)] (RFC 9171 §4.3.2)");
  if (num == 0 || num >= 64 || (*seen >> num) & 1) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "block number %" PRIu64 " is 0, too large or repeated", num);
  *seen |= 1ull << num;
  if ((type == ACMEH_BLOCK_PAYLOAD) != (num == 1) || (type == ACMEH_BLOCK_PAYLOAD) != last)
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "the payload block must be block number 1 and the last block");
  const unsigned char *d = cbor_bytestring_handle(f[4]);
  size_t len = cbor_bytestring_length(f[4]);
  if (type == ACMEH_BLOCK_BUNDLE_AGE) return read_age(d, len, b, msg, msglen);
  if (type == ACMEH_BLOCK_BIB) return read_bib(d, len, b, msg, msglen);
  if (type == ACMEH_BLOCK_BCB) b->has_bcb = 1;
  if (type != ACMEH_BLOCK_PAYLOAD) return ACMEH_OK;
  b->payload = malloc(len ? len : 1);
  if (!b->payload) return ACMEH_NOMEM;
  memcpy(b->payload, d, len);
  b->payload_len = len;
  return ACMEH_OK;
}

int acmeh_bundle_decode(const unsigned char *data, size_t len, acmeh_bundle *b, char *msg, size_t msglen) {
  memset(b, 0, sizeof *b);
  int rc = acmeh_cbor_check(data, len, msg, msglen);
  if (rc) return rc;
  struct cbor_load_result lr;
  cbor_item_t *top = cbor_load(data, len, &lr);
  if (!top) return acmeh_msg(msg, msglen, lr.error.code == CBOR_ERR_MEMERROR ? ACMEH_NOMEM : ACMEH_PEER_PROTOCOL, "libcbor could not load the bundle");
  size_t n = cbor_isa_array(top) ? cbor_array_size(top) : 0;
  if (!cbor_isa_array(top) || cbor_array_is_definite(top) || n < 2)
    rc = acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "a bundle is an indefinite-length array of at least two blocks (RFC 9171 §4.1)");
  if (rc == ACMEH_OK) rc = read_primary(cbor_array_handle(top)[0], b, msg, msglen);
  uint64_t seen = 0;
  for (size_t i = 1; rc == ACMEH_OK && i < n; i++) rc = read_block(cbor_array_handle(top)[i], i == n - 1, &seen, b, msg, msglen);
  cbor_decref(&top);
  if (rc) acmeh_bundle_clear(b);
  return rc;
}

void acmeh_bundle_clear(acmeh_bundle *b) {
  if (!b) return;
  free(b->payload);
  memset(b, 0, sizeof *b);
}

/* ---- encoding ---- */

static cbor_item_t *block(uint64_t type, uint64_t num, const unsigned char *data, size_t len) {
  cbor_item_t *blk = cbor_new_definite_array(5);
  if (blk && !(acmeh_cbor_push(blk, acmeh_cbor_uint(type)) && acmeh_cbor_push(blk, acmeh_cbor_uint(num)) && acmeh_cbor_push(blk, acmeh_cbor_uint(0)) &&
               acmeh_cbor_push(blk, acmeh_cbor_uint(0)) && acmeh_cbor_push(blk, cbor_build_bytestring(data, len))))
    cbor_decref(&blk);
  return blk;
}

static cbor_item_t *timestamp(const acmeh_bundle *b) {
  cbor_item_t *ts = cbor_new_definite_array(2);
  if (ts && !(acmeh_cbor_push(ts, acmeh_cbor_uint(b->created_ms)) && acmeh_cbor_push(ts, acmeh_cbor_uint(b->seq)))) cbor_decref(&ts);
  return ts;
}

static cbor_item_t *primary(const acmeh_bundle *b) {
  cbor_item_t *p = cbor_new_definite_array(8);
  if (p && !(acmeh_cbor_push(p, acmeh_cbor_uint(7)) && acmeh_cbor_push(p, acmeh_cbor_uint(b->flags)) && acmeh_cbor_push(p, acmeh_cbor_uint(0)) &&
             acmeh_cbor_push(p, eid_encode(b->dest)) && acmeh_cbor_push(p, eid_encode(b->src)) &&
             acmeh_cbor_push(p, eid_encode(b->report_to[0] ? b->report_to : "dtn:none")) && acmeh_cbor_push(p, timestamp(b)) &&
             acmeh_cbor_push(p, acmeh_cbor_uint(b->lifetime_ms))))
    cbor_decref(&p);
  return p;
}

int acmeh_bundle_encode(const acmeh_bundle *b, unsigned char **out, size_t *outlen) {
  *out = NULL, *outlen = 0;
  if (!acmeh_eid_valid(b->dest) || !acmeh_eid_valid(b->src) || (b->report_to[0] && !acmeh_eid_valid(b->report_to)) ||
      b->payload_len > ACMEH_BUNDLE_MAX || (b->flags & ACMEH_BPF_FRAGMENT))
    return ACMEH_INVALID_ARG;
  cbor_item_t *top = cbor_new_indefinite_array();
  if (!top) return ACMEH_NOMEM;
  int ok = acmeh_cbor_push(top, primary(b));
  if (ok && b->has_age) {
    unsigned char *age = NULL;
    size_t agelen = 0;
    cbor_item_t *v = acmeh_cbor_uint(b->age_ms);
    ok = v && acmeh_cbor_serialize(v, &age, &agelen) == ACMEH_OK && acmeh_cbor_push(top, block(ACMEH_BLOCK_BUNDLE_AGE, 2, age, agelen));
    if (v) cbor_decref(&v);
    free(age);
  }
  ok = ok && acmeh_cbor_push(top, block(ACMEH_BLOCK_PAYLOAD, 1, b->payload ? b->payload : (const unsigned char *)"", b->payload_len));
  int rc = ok ? acmeh_cbor_serialize(top, out, outlen) : ACMEH_NOMEM;
  cbor_decref(&top);
  return rc;
}
