/* TCPCLv4 message codec (tcpcl.h). Network byte order throughout (RFC 9174 §4.1). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "mocks/bundle-node/tcpcl.h"

static uint64_t get_be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

static unsigned char *put_be(unsigned char *p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) p[i] = (unsigned char)v, v >>= 8;
  return p + n;
}

int acmeh_tcpcl_contact_parse(const unsigned char *buf, size_t len, int *version, char *msg, size_t msglen) {
  size_t have = len < 4 ? len : 4;
  if (memcmp(buf, "dtn!", have) != 0) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "contact header magic is not \"dtn!\" (RFC 9174 §4.2)");
  if (len < ACMEH_TCPCL_CONTACT_LEN) return 0;
  *version = buf[4];
  if (buf[4] != ACMEH_TCPCL_VERSION) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "contact header version %d, not 4 (RFC 9174 §4.3)", buf[4]);
  return ACMEH_TCPCL_CONTACT_LEN;
}

void acmeh_tcpcl_contact_write(unsigned char out[ACMEH_TCPCL_CONTACT_LEN]) {
  memcpy(out, "dtn!", 4);
  out[4] = ACMEH_TCPCL_VERSION;
  out[5] = 0; /* no CAN_TLS */
}

/* Extension items (§4.8): flags u8 (0x01 CRITICAL), type u16, length u16, value. */
static int check_items(const unsigned char *p, size_t len, char *msg, size_t msglen) {
  while (len > 0) {
    if (len < 5) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "extension item list ends inside an item header");
    size_t vlen = (size_t)get_be(p + 3, 2);
    if (p[0] & 0x01) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "critical extension item of type %u not understood (RFC 9174 §4.8)", (unsigned)get_be(p + 1, 2));
    if (vlen > len - 5) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "extension item longer than its list");
    p += 5 + vlen, len -= 5 + vlen;
  }
  return ACMEH_OK;
}

/* Cursor over the input: need() says whether n more bytes are there. */
typedef struct {
  const unsigned char *p;
  size_t left, used;
} cur;

static int need(cur *c, size_t n) { return c->left >= n; }
static uint64_t take(cur *c, int n) {
  uint64_t v = get_be(c->p, n);
  c->p += n, c->left -= n, c->used += n;
  return v;
}
static void skip(cur *c, size_t n) { c->p += n, c->left -= n, c->used += n; }

static int parse_sess_init(cur *c, acmeh_tcpcl_msg *m, char *msg, size_t msglen) {
  if (!need(c, 2 + 8 + 8 + 2)) return 0;
  m->keepalive = (uint16_t)take(c, 2);
  m->segment_mru = take(c, 8), m->transfer_mru = take(c, 8);
  size_t idlen = (size_t)take(c, 2);
  if (idlen == 0 || idlen > ACMEH_TCPCL_MAX_NODE_ID)
    return acmeh_msg(msg, msglen, idlen ? ACMEH_PEER_TOO_LARGE : ACMEH_PEER_PROTOCOL, "SESS_INIT Node ID of %zu bytes (1 to %d taken)", idlen, ACMEH_TCPCL_MAX_NODE_ID);
  if (!need(c, idlen + 4)) return 0;
  memcpy(m->node_id, c->p, idlen);
  m->node_id[idlen] = 0;
  if (memchr(m->node_id, 0, idlen)) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "SESS_INIT Node ID holds a NUL");
  skip(c, idlen);
  uint64_t ext = take(c, 4);
  if (ext > ACMEH_TCPCL_MAX_EXT) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "SESS_INIT extension items of %llu bytes (cap %d)", (unsigned long long)ext, ACMEH_TCPCL_MAX_EXT);
  if (!need(c, ext)) return 0;
  int rc = check_items(c->p, ext, msg, msglen);
  if (rc) return rc;
  skip(c, ext);
  if (m->segment_mru == 0 || m->transfer_mru == 0) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "SESS_INIT with a zero MRU");
  return 1;
}

static int parse_segment(cur *c, acmeh_tcpcl_msg *m, char *msg, size_t msglen) {
  if (!need(c, 1 + 8)) return 0;
  m->flags = (uint8_t)take(c, 1);
  m->transfer_id = take(c, 8);
  if (m->flags & ACMEH_TCPCL_FLAG_START) {
    if (!need(c, 4)) return 0;
    uint64_t ext = take(c, 4);
    if (ext > ACMEH_TCPCL_MAX_EXT) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "transfer extension items of %llu bytes (cap %d)", (unsigned long long)ext, ACMEH_TCPCL_MAX_EXT);
    if (!need(c, ext)) return 0;
    int rc = check_items(c->p, ext, msg, msglen);
    if (rc) return rc;
    skip(c, ext);
  }
  if (!need(c, 8)) return 0;
  m->length = take(c, 8);
  if (m->length > ACMEH_TCPCL_SEGMENT_MRU)
    return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "XFER_SEGMENT of %llu bytes exceeds our segment MRU %d (RFC 9174 §5.2.2)", (unsigned long long)m->length, ACMEH_TCPCL_SEGMENT_MRU);
  if (!need(c, m->length)) return 0;
  m->data = c->p;
  skip(c, m->length);
  return 1;
}

int acmeh_tcpcl_parse(const unsigned char *buf, size_t len, acmeh_tcpcl_msg *m, char *msg, size_t msglen) {
  memset(m, 0, sizeof *m);
  if (len == 0) return 0;
  cur c = {buf + 1, len - 1, 1};
  int rc;
  m->type = buf[0];
  switch (m->type) {
  case ACMEH_TCPCL_SESS_INIT: rc = parse_sess_init(&c, m, msg, msglen); break;
  case ACMEH_TCPCL_XFER_SEGMENT: rc = parse_segment(&c, m, msg, msglen); break;
  case ACMEH_TCPCL_XFER_ACK:
    if ((rc = need(&c, 17))) m->flags = (uint8_t)take(&c, 1), m->transfer_id = take(&c, 8), m->length = take(&c, 8);
    break;
  case ACMEH_TCPCL_XFER_REFUSE:
    if ((rc = need(&c, 9))) m->reason = (uint8_t)take(&c, 1), m->transfer_id = take(&c, 8);
    break;
  case ACMEH_TCPCL_KEEPALIVE: rc = 1; break;
  case ACMEH_TCPCL_SESS_TERM:
    if ((rc = need(&c, 2))) m->flags = (uint8_t)take(&c, 1), m->reason = (uint8_t)take(&c, 1);
    break;
  case ACMEH_TCPCL_MSG_REJECT:
    if ((rc = need(&c, 2))) m->reason = (uint8_t)take(&c, 1), m->flags = (uint8_t)take(&c, 1);
    break;
  default: return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "unknown TCPCL message type 0x%02x (RFC 9174 §5.1.2)", m->type);
  }
  return rc < 0 ? rc : rc ? (int)c.used : 0;
}

int acmeh_tcpcl_write(const acmeh_tcpcl_msg *m, unsigned char **out, size_t *outlen) {
  size_t idlen = strlen(m->node_id);
  size_t cap = 1 + 2 + 8 + 8 + 2 + idlen + 4 + 1 + 8 + 4 + 8 + (m->type == ACMEH_TCPCL_XFER_SEGMENT ? m->length : 0);
  unsigned char *b = malloc(cap), *p = b;
  if (!b) return ACMEH_NOMEM;
  *p++ = m->type;
  switch (m->type) {
  case ACMEH_TCPCL_SESS_INIT:
    if (idlen == 0 || idlen > ACMEH_TCPCL_MAX_NODE_ID) return free(b), ACMEH_INVALID_ARG;
    p = put_be(p, m->keepalive, 2), p = put_be(p, m->segment_mru, 8), p = put_be(p, m->transfer_mru, 8), p = put_be(p, idlen, 2);
    memcpy(p, m->node_id, idlen), p += idlen, p = put_be(p, 0, 4);
    break;
  case ACMEH_TCPCL_XFER_SEGMENT:
    *p++ = m->flags, p = put_be(p, m->transfer_id, 8);
    if (m->flags & ACMEH_TCPCL_FLAG_START) p = put_be(p, 0, 4);
    p = put_be(p, m->length, 8);
    if (m->length) memcpy(p, m->data, m->length), p += m->length;
    break;
  case ACMEH_TCPCL_XFER_ACK: *p++ = m->flags, p = put_be(p, m->transfer_id, 8), p = put_be(p, m->length, 8); break;
  case ACMEH_TCPCL_XFER_REFUSE: *p++ = m->reason, p = put_be(p, m->transfer_id, 8); break;
  case ACMEH_TCPCL_KEEPALIVE: break;
  case ACMEH_TCPCL_SESS_TERM: *p++ = m->flags, *p++ = m->reason; break;
  case ACMEH_TCPCL_MSG_REJECT: *p++ = m->reason, *p++ = m->flags; break;
  default: return free(b), ACMEH_INVALID_ARG;
  }
  *out = b, *outlen = (size_t)(p - b);
  return ACMEH_OK;
}
