/* A blocking TCPCLv4 entity (entity.h): poll(2) with deadlines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/uvutil.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/entity.h"
#include "mocks/bundle-node/tcpcl.h"

#define MAX_QUEUE 16

struct acmeh_tcpcl_entity {
  int fd;
  unsigned char *in;
  size_t in_len;
  char peer[ACMEH_TCPCL_MAX_NODE_ID + 1];
  unsigned char *xfer;
  size_t xfer_len;
  int xfer_open;
  unsigned char *queue[MAX_QUEUE];
  size_t queue_len[MAX_QUEUE];
  int nqueued;
  uint64_t next_tid;
  int acked, refused, ended; /* for the transfer being sent / the session */
  uint64_t waiting_tid;
};

static uint64_t now_ms(void) { return (uint64_t)(acmeh_now_mono() * 1000.0); }

static int write_all(acmeh_tcpcl_entity *e, const unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t n = send(e->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ACMEH_PEER_CONN;
    p += n, len -= (size_t)n;
  }
  return ACMEH_OK;
}

static int send_msg(acmeh_tcpcl_entity *e, const acmeh_tcpcl_msg *m) {
  unsigned char *buf;
  size_t len;
  int rc = acmeh_tcpcl_write(m, &buf, &len);
  if (rc) return rc;
  rc = write_all(e, buf, len);
  free(buf);
  return rc;
}

/* Reads what is there within the deadline. Returns ACMEH_OK (bytes added),
 * ACMEH_PEER_TIMEOUT or ACMEH_PEER_CONN. */
static int fill(acmeh_tcpcl_entity *e, uint64_t deadline, char *msg, size_t msglen) {
  uint64_t now = now_ms();
  if (now >= deadline) return acmeh_msg(msg, msglen, ACMEH_PEER_TIMEOUT, "nothing complete from the TCPCL peer in time (%zu byte(s) pending)", e->in_len);
  struct pollfd p = {.fd = e->fd, .events = POLLIN};
  int r = poll(&p, 1, (int)(deadline - now));
  if (r == 0) return acmeh_msg(msg, msglen, ACMEH_PEER_TIMEOUT, "nothing complete from the TCPCL peer in time (%zu byte(s) pending)", e->in_len);
  if (r < 0) return errno == EINTR ? ACMEH_OK : acmeh_msg(msg, msglen, ACMEH_PEER_CONN, "poll failed");
  if (e->in_len == ACMEH_TCPCL_MAX_MSG) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "TCPCL message over the size cap");
  ssize_t n = recv(e->fd, e->in + e->in_len, ACMEH_TCPCL_MAX_MSG - e->in_len, 0);
  if (n <= 0) return e->ended = 1, acmeh_msg(msg, msglen, ACMEH_PEER_CONN, "the TCPCL peer closed the connection");
  e->in_len += (size_t)n;
  return ACMEH_OK;
}

static int take_segment(acmeh_tcpcl_entity *e, const acmeh_tcpcl_msg *m, char *msg, size_t msglen) {
  if (m->flags & ACMEH_TCPCL_FLAG_START) free(e->xfer), e->xfer = NULL, e->xfer_len = 0, e->xfer_open = 1;
  if (!e->xfer_open) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "XFER_SEGMENT without START");
  if (e->xfer_len + m->length > ACMEH_BUNDLE_MAX) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "transfer over %d bytes", ACMEH_BUNDLE_MAX);
  unsigned char *g = realloc(e->xfer, e->xfer_len + m->length + 1);
  if (!g) return ACMEH_NOMEM;
  memcpy(g + e->xfer_len, m->data, m->length);
  e->xfer = g, e->xfer_len += m->length;
  int rc = send_msg(e, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_XFER_ACK, .flags = m->flags, .transfer_id = m->transfer_id, .length = e->xfer_len});
  if (rc || !(m->flags & ACMEH_TCPCL_FLAG_END)) return rc;
  e->xfer_open = 0;
  if (e->nqueued == MAX_QUEUE) return free(e->xfer), e->xfer = NULL, acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "more than %d bundles queued", MAX_QUEUE);
  e->queue[e->nqueued] = e->xfer, e->queue_len[e->nqueued++] = e->xfer_len;
  e->xfer = NULL, e->xfer_len = 0;
  return ACMEH_OK;
}

/* Parses and handles every complete message in e->in. */
static int drain(acmeh_tcpcl_entity *e, char *msg, size_t msglen) {
  size_t off = 0;
  int rc = ACMEH_OK;
  while (rc == ACMEH_OK && off < e->in_len) {
    acmeh_tcpcl_msg m;
    int used = acmeh_tcpcl_parse(e->in + off, e->in_len - off, &m, msg, msglen);
    if (used <= 0) {
      rc = used;
      break;
    }
    off += (size_t)used;
    if (m.type == ACMEH_TCPCL_SESS_INIT && !e->peer[0]) snprintf(e->peer, sizeof e->peer, "%s", m.node_id);
    else if (m.type == ACMEH_TCPCL_XFER_SEGMENT) rc = take_segment(e, &m, msg, msglen);
    else if (m.type == ACMEH_TCPCL_XFER_ACK && m.transfer_id == e->waiting_tid && (m.flags & ACMEH_TCPCL_FLAG_END)) e->acked = 1;
    else if (m.type == ACMEH_TCPCL_XFER_REFUSE && m.transfer_id == e->waiting_tid) e->refused = m.reason + 1;
    else if (m.type == ACMEH_TCPCL_SESS_TERM) e->ended = 1;
  }
  memmove(e->in, e->in + off, e->in_len - off);
  e->in_len -= off;
  return rc;
}

/* Pumps until done(e) or the deadline. */
static int pump(acmeh_tcpcl_entity *e, uint64_t deadline, int (*done)(const acmeh_tcpcl_entity *), char *msg, size_t msglen) {
  for (;;) {
    int rc = drain(e, msg, msglen);
    if (rc) return rc;
    if (done(e)) return ACMEH_OK;
    if (e->ended) return acmeh_msg(msg, msglen, ACMEH_PEER_CONN, "the TCPCL session ended");
    if ((rc = fill(e, deadline, msg, msglen))) return rc;
  }
}

static int have_peer(const acmeh_tcpcl_entity *e) { return e->peer[0] != 0; }
static int have_bundle(const acmeh_tcpcl_entity *e) { return e->nqueued > 0; }
static int have_answer(const acmeh_tcpcl_entity *e) { return e->acked || e->refused; }

static int handshake(acmeh_tcpcl_entity *e, const char *node_id, uint64_t deadline, char *msg, size_t msglen) {
  unsigned char ch[ACMEH_TCPCL_CONTACT_LEN];
  acmeh_tcpcl_contact_write(ch);
  int rc = write_all(e, ch, sizeof ch);
  while (rc == ACMEH_OK && e->in_len < ACMEH_TCPCL_CONTACT_LEN) rc = fill(e, deadline, msg, msglen);
  int version = 0;
  if (rc == ACMEH_OK && (rc = acmeh_tcpcl_contact_parse(e->in, e->in_len, &version, msg, msglen)) > 0) {
    memmove(e->in, e->in + rc, e->in_len - (size_t)rc), e->in_len -= (size_t)rc;
    rc = ACMEH_OK;
  }
  acmeh_tcpcl_msg init = {.type = ACMEH_TCPCL_SESS_INIT, .segment_mru = ACMEH_TCPCL_SEGMENT_MRU, .transfer_mru = ACMEH_BUNDLE_MAX};
  snprintf(init.node_id, sizeof init.node_id, "%s", node_id);
  if (rc == ACMEH_OK) rc = send_msg(e, &init);
  return rc ? rc : pump(e, deadline, have_peer, msg, msglen);
}

int acmeh_tcpcl_entity_connect(const char *addr, int port, const char *node_id, unsigned timeout_ms, acmeh_tcpcl_entity **out, char *msg, size_t msglen) {
  *out = NULL;
  struct sockaddr_storage ss;
  if (!node_id || !*node_id || strlen(node_id) > ACMEH_TCPCL_MAX_NODE_ID || acmeh_uv_addr(addr, port, &ss) != 0)
    return acmeh_msg(msg, msglen, ACMEH_INVALID_ARG, "TCPCL entity: bad address or Node ID");
  acmeh_tcpcl_entity *e = calloc(1, sizeof *e);
  if (!e || !(e->in = malloc(ACMEH_TCPCL_MAX_MSG))) return free(e), ACMEH_NOMEM;
  uint64_t deadline = now_ms() + timeout_ms;
  e->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  socklen_t sl = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  int rc = e->fd >= 0 && connect(e->fd, (struct sockaddr *)&ss, sl) == 0 ? ACMEH_OK
                                                                           : acmeh_msg(msg, msglen, ACMEH_PEER_UNREACHABLE, "nothing accepts TCPCL at %s:%d", addr, port);
  if (rc == ACMEH_OK) rc = handshake(e, node_id, deadline, msg, msglen);
  if (rc) return acmeh_tcpcl_entity_close(e), rc;
  *out = e;
  return ACMEH_OK;
}

const char *acmeh_tcpcl_entity_peer(const acmeh_tcpcl_entity *e) { return e->peer; }

int acmeh_tcpcl_entity_send(acmeh_tcpcl_entity *e, const unsigned char *bundle, size_t len, unsigned timeout_ms, char *msg, size_t msglen) {
  if (len > ACMEH_BUNDLE_MAX * 2) return acmeh_msg(msg, msglen, ACMEH_INVALID_ARG, "bundle over twice the cap");
  e->waiting_tid = e->next_tid++, e->acked = e->refused = 0;
  int rc = ACMEH_OK;
  /* Segments of at most our own segment MRU (a real peer's SESS_INIT MRU is not less here). */
  size_t off = 0;
  do {
    size_t n = len - off > ACMEH_TCPCL_SEGMENT_MRU ? ACMEH_TCPCL_SEGMENT_MRU : len - off;
    uint8_t flags = (off == 0 ? ACMEH_TCPCL_FLAG_START : 0) | (off + n == len ? ACMEH_TCPCL_FLAG_END : 0);
    rc = send_msg(e, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_XFER_SEGMENT, .flags = flags, .transfer_id = e->waiting_tid, .data = bundle + off, .length = n});
    off += n;
  } while (rc == ACMEH_OK && off < len);
  if (rc == ACMEH_OK) rc = pump(e, now_ms() + timeout_ms, have_answer, msg, msglen);
  if (rc == ACMEH_OK && e->refused) rc = acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "the peer refused the transfer (XFER_REFUSE reason %d)", e->refused - 1);
  return rc;
}

int acmeh_tcpcl_entity_recv(acmeh_tcpcl_entity *e, unsigned timeout_ms, unsigned char **bundle, size_t *len, char *msg, size_t msglen) {
  *bundle = NULL, *len = 0;
  int rc = pump(e, now_ms() + timeout_ms, have_bundle, msg, msglen);
  if (rc) return rc;
  *bundle = e->queue[0], *len = e->queue_len[0];
  memmove(e->queue, e->queue + 1, sizeof e->queue[0] * (size_t)(e->nqueued - 1));
  memmove(e->queue_len, e->queue_len + 1, sizeof e->queue_len[0] * (size_t)(e->nqueued - 1));
  e->nqueued--;
  return ACMEH_OK;
}

int acmeh_tcpcl_entity_raw(acmeh_tcpcl_entity *e, const void *bytes, size_t len) { return write_all(e, bytes, len); }

void acmeh_tcpcl_entity_close(acmeh_tcpcl_entity *e) {
  if (!e) return;
  if (e->fd >= 0) {
    if (!e->ended) send_msg(e, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_SESS_TERM});
    close(e->fd);
  }
  for (int i = 0; i < e->nqueued; i++) free(e->queue[i]);
  free(e->xfer), free(e->in), free(e);
}
