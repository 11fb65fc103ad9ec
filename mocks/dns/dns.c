#include "mocks/dns/dns.h"

#include "harness/core/error.h"
#include "mocks/common/uvutil.h"
#include "mocks/dns/answer.h"
#include "mocks/dns/update.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UDP_MAX 512   /* classic DNS limit; EDNS may raise it per query */
#define TCP_MAX 65535 /* a TCP frame's length field is 16 bits */
#define MAX_TCP_CONNS 64
#define TCP_IDLE_MS 10000 /* RFC 7766 §6.2.3 suggests seconds, not minutes */
#define PORT_ATTEMPTS 20  /* ephemeral TCP port that is busy for UDP: try another */
#define UDP_BATCH 20      /* datagrams per recvmmsg: libuv's own maximum */

typedef struct tcp_conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  int handles_open;
  int closing;
  struct acmeh_mockdns *dns;
  struct tcp_conn *prev, *next;
  uint8_t buf[2 + TCP_MAX]; /* one frame at most is buffered */
  size_t len;
} tcp_conn;

typedef struct {
  uint8_t *data; /* owned */
  size_t len;
  struct sockaddr_storage to;
} udp_reply;

struct acmeh_mockdns {
  uv_loop_t *loop;
  uv_udp_t *udp; /* heap handles so a failed port attempt can be closed and retried */
  uv_tcp_t *tcp;
  acmeh_records *rec;
  acmeh_history *hist;
  acmeh_dnsupd *upd; /* DNS UPDATE, TSIG and zones; NULL = plain queries only */
  int port;
  int closed;
  tcp_conn *conns;
  int nconns;
  /* Datagrams of one recvmmsg batch: libuv gives each a 64 KiB slice and
   * reads up to 20 per call; the loop is single-threaded, so one buffer. */
  uint8_t udp_buf[UDP_BATCH * 65536];
  udp_reply replies[UDP_BATCH]; /* answers to a recvmmsg batch, sent together */
  size_t nreplies;
};

static unsigned rd16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Is q a QUERY the UPDATE/TSIG layer would hand to acmeh_dns_answer as is?
 * One question with an uncompressed name, not SOA (served zones answer their
 * apex SOA), no answer or authority RRs, and no additional RR but possibly
 * one root OPT that ends the message: no TSIG, nothing for the layer to do.
 * Skipping it (a second parse, a mutex, the source address formatted) for
 * ordinary queries saves a good part of each answer's CPU. */
static int plain_query(const uint8_t *q, size_t qlen) {
  if (qlen < 12 || ((q[2] >> 3) & 0x0f) != 0 || rd16(q + 4) != 1 || rd16(q + 6) || rd16(q + 8) ||
      rd16(q + 10) > 1)
    return 0;
  size_t o = 12;
  while (o < qlen && q[o] != 0) {
    if (q[o] > 63) return 0; /* a pointer or an extended label type */
    o += 1 + q[o];
  }
  if (o + 5 > qlen || rd16(q + o + 1) == 6 /* SOA */) return 0;
  o += 5;
  if (rd16(q + 10) == 0) return 1;
  /* the OPT pseudo-RR: root owner, type 41, then class, TTL, RDLENGTH, RDATA */
  return o + 11 <= qlen && q[o] == 0 && rd16(q + o + 1) == 41 && o + 11 + rd16(q + o + 9) == qlen;
}

/* One message in, one reply out: through the UPDATE/TSIG layer when set. */
static int answer(acmeh_mockdns *d, const char *proto, const struct sockaddr *from, const uint8_t *q,
                  size_t qlen, size_t max_len, uint8_t **out, size_t *outlen) {
  if (!d->upd || plain_query(q, qlen)) return acmeh_dns_answer(d->rec, d->hist, proto, q, qlen, max_len, out, outlen);
  char source[64] = "";
  if (from && from->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    uv_ip4_name(a, source, 46);
    snprintf(source + strlen(source), sizeof source - strlen(source), ":%u", ntohs(a->sin_port));
  } else if (from && from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    source[0] = '[';
    uv_ip6_name(a, source + 1, 46);
    snprintf(source + strlen(source), sizeof source - strlen(source), "]:%u", ntohs(a->sin6_port));
  }
  return acmeh_dnsupd_answer(d->upd, d->rec, d->hist, proto, source, q, qlen, max_len, out, outlen);
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  acmeh_mockdns *d = h->data;
  *b = uv_buf_init((char *)d->udp_buf, sizeof d->udp_buf);
}

typedef struct {
  uv_udp_send_t req;
  uint8_t *data;
} udp_send;

static void udp_sent(uv_udp_send_t *req, int status) {
  (void)status; /* the client retries; nothing useful to do here */
  udp_send *s = (udp_send *)req;
  free(s->data);
  free(s);
}

/* Queues out (owned) on libuv's send queue: it waits for the socket. */
static void send_queued(uv_udp_t *h, uint8_t *out, size_t outlen, const struct sockaddr *to) {
  udp_send *s = malloc(sizeof *s);
  if (!s) {
    free(out);
    return;
  }
  s->data = out;
  uv_buf_t ob = uv_buf_init((char *)out, (unsigned)outlen);
  if (uv_udp_send(&s->req, h, &ob, 1, to, udp_sent) != 0) udp_sent(&s->req, -1);
}

/* Sends the answers to one recvmmsg batch with one sendmmsg (a syscall per
 * answer was most of the kernel's share of the CPU); what the socket does not
 * take at once goes on libuv's queue. Straight to the fd only when that queue
 * is empty, so answers never overtake queued ones. */
static void flush_replies(acmeh_mockdns *d) {
  size_t n = d->nreplies, sent = 0;
  d->nreplies = 0;
  uv_os_fd_t fd;
  if (n && !d->closed && uv_udp_get_send_queue_count(d->udp) == 0 &&
      uv_fileno((const uv_handle_t *)d->udp, &fd) == 0) {
    struct mmsghdr m[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    memset(m, 0, n * sizeof *m);
    for (size_t i = 0; i < n; i++) {
      iov[i] = (struct iovec){d->replies[i].data, d->replies[i].len};
      m[i].msg_hdr.msg_iov = &iov[i];
      m[i].msg_hdr.msg_iovlen = 1;
      m[i].msg_hdr.msg_name = &d->replies[i].to;
      m[i].msg_hdr.msg_namelen = d->replies[i].to.ss_family == AF_INET6
                                     ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
    }
    int rc;
    do
      rc = sendmmsg(fd, m, (unsigned)n, 0);
    while (rc < 0 && errno == EINTR);
    sent = rc > 0 ? (size_t)rc : 0;
  }
  for (size_t i = 0; i < n; i++) {
    udp_reply *r = &d->replies[i];
    if (i < sent || d->closed)
      free(r->data);
    else
      send_queued(d->udp, r->data, r->len, (const struct sockaddr *)&r->to);
  }
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *from,
                     unsigned flags) {
  acmeh_mockdns *d = h->data;
  if (!from) { /* the end of a recvmmsg batch (UV_UDP_MMSG_FREE), or nothing read */
    flush_replies(d);
    return;
  }
  if (nread <= 0 || (flags & UV_UDP_PARTIAL) || d->closed) return;
  uint8_t *out;
  size_t outlen;
  if (answer(d, "udp", from, (const uint8_t *)b->base, (size_t)nread, UDP_MAX, &out, &outlen) !=
      ACMEH_OK)
    return; /* not even a header: drop silently */
  if (flags & UV_UDP_MMSG_CHUNK) { /* more of the batch follows, then a call without `from` */
    udp_reply *r = &d->replies[d->nreplies++];
    r->data = out;
    r->len = outlen;
    memcpy(&r->to, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                      : sizeof(struct sockaddr_in));
    if (d->nreplies == UDP_BATCH) flush_replies(d);
    return;
  }
  uv_buf_t now = uv_buf_init((char *)out, (unsigned)outlen);
  if (uv_udp_try_send(h, &now, 1, from) >= 0) { /* sent at once: no request to allocate */
    free(out);
    return;
  }
  send_queued(h, out, outlen, from); /* socket busy or sends queued: keep their order */
}

/* ---- TCP ---- */

static void conn_closed(uv_handle_t *h) {
  tcp_conn *c = h->data;
  if (--c->handles_open == 0) free(c);
}

static void conn_close(tcp_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  acmeh_mockdns *d = c->dns;
  if (c->prev)
    c->prev->next = c->next;
  else
    d->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  d->nconns--;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
  uv_close((uv_handle_t *)&c->idle, conn_closed);
}

static void answer_frame(tcp_conn *c, const uint8_t *q, size_t qlen) {
  uint8_t *out;
  size_t outlen;
  struct sockaddr_storage peer;
  int plen = sizeof peer;
  int have = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &plen) == 0;
  if (answer(c->dns, "tcp", have ? (struct sockaddr *)&peer : NULL, q, qlen, TCP_MAX, &out, &outlen) !=
      ACMEH_OK)
    return;
  uint8_t *framed = malloc(outlen + 2);
  if (framed) {
    framed[0] = (uint8_t)(outlen >> 8);
    framed[1] = (uint8_t)outlen;
    memcpy(framed + 2, out, outlen);
    acmeh_uv_write_owned((uv_stream_t *)&c->tcp, framed, outlen + 2);
  }
  free(out);
}

/* Answers every complete frame in the buffer, keeping a partial tail. */
static void drain_frames(tcp_conn *c) {
  size_t off = 0;
  while (c->len - off >= 2) {
    size_t flen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
    if (c->len - off - 2 < flen) break;
    answer_frame(c, c->buf + off + 2, flen);
    off += 2 + flen;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  tcp_conn *c = h->data;
  /* Reading straight into the frame buffer caps memory per connection. */
  *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(sizeof c->buf - c->len));
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  (void)b;
  tcp_conn *c = s->data;
  if (nread < 0 || (nread == 0 && c->len == sizeof c->buf)) {
    conn_close(c);
    return;
  }
  c->len += (size_t)nread;
  uv_timer_again(&c->idle);
  drain_frames(c);
}

static void tcp_idle(uv_timer_t *t) { conn_close(t->data); }

static void tcp_accept(uv_stream_t *server, int status) {
  acmeh_mockdns *d = server->data;
  if (status < 0 || d->closed) return;
  tcp_conn *c = calloc(1, sizeof *c);
  if (!c) return;
  c->dns = d;
  uv_tcp_init(d->loop, &c->tcp);
  uv_timer_init(d->loop, &c->idle);
  c->tcp.data = c->idle.data = c;
  c->handles_open = 2;
  c->next = d->conns;
  if (d->conns) d->conns->prev = c;
  d->conns = c;
  d->nconns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || d->nconns > MAX_TCP_CONNS) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->idle, tcp_idle, TCP_IDLE_MS, TCP_IDLE_MS);
  uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read);
}

/* ---- lifecycle ---- */

static void free_handle(uv_handle_t *h) { free(h); }

static void drop_handles(acmeh_mockdns *d) {
  if (d->udp) uv_close((uv_handle_t *)d->udp, free_handle);
  if (d->tcp) uv_close((uv_handle_t *)d->tcp, free_handle);
  d->udp = NULL;
  d->tcp = NULL;
}

/* One attempt at binding TCP then UDP on the same port. */
static int bind_pair(acmeh_mockdns *d, const char *addr, int port, char *err, size_t errlen) {
  d->tcp = malloc(sizeof *d->tcp);
  d->udp = malloc(sizeof *d->udp);
  if (!d->tcp || !d->udp) {
    free(d->tcp);
    free(d->udp);
    d->tcp = NULL;
    d->udp = NULL;
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "dns: out of memory");
  }
  uv_tcp_init(d->loop, d->tcp);
  /* recvmmsg where the kernel has it (libuv falls back to recvmsg) */
  uv_udp_init_ex(d->loop, d->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
  d->tcp->data = d->udp->data = d;
  int rc = acmeh_uv_tcp_listen(d->tcp, addr, port, tcp_accept, "dns/tcp", err, errlen);
  if (rc != ACMEH_OK) return rc;
  int bound = acmeh_uv_tcp_port(d->tcp);
  struct sockaddr_storage ss;
  acmeh_uv_addr(addr, bound, &ss);
  int uerr = uv_udp_bind(d->udp, (const struct sockaddr *)&ss, 0);
  if (uerr == 0) uerr = uv_udp_recv_start(d->udp, udp_alloc, udp_recv);
  if (uerr != 0) return acmeh_uv_bind_error(uerr, "dns/udp", addr, bound, err, errlen);
  d->port = bound;
  return ACMEH_OK;
}

int acmeh_mockdns_start(uv_loop_t *loop, const char *addr, int port, acmeh_records *rec,
                        acmeh_history *hist, acmeh_mockdns **out, char *err, size_t errlen) {
  if (!loop || !rec || !out) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "dns: bad args");
  acmeh_mockdns *d = calloc(1, sizeof *d);
  if (!d) return acmeh_msg(err, errlen, ACMEH_NOMEM, "dns: out of memory");
  d->loop = loop;
  d->rec = rec;
  d->hist = hist;
  int rc = ACMEH_ENV_IO;
  for (int i = 0; i < (port == 0 ? PORT_ATTEMPTS : 1); i++) {
    rc = bind_pair(d, addr, port, err, errlen);
    if (rc == ACMEH_OK) break;
    drop_handles(d);
    if (rc != ACMEH_ENV_PORT_IN_USE) break;
  }
  if (rc != ACMEH_OK) {
    free(d); /* the handles are freed by their own close callbacks */
    return rc;
  }
  *out = d;
  return ACMEH_OK;
}

int acmeh_mockdns_port(const acmeh_mockdns *d) { return d ? d->port : -1; }

void acmeh_mockdns_set_update(acmeh_mockdns *d, acmeh_dnsupd *upd) {
  if (d) d->upd = upd;
}

void acmeh_mockdns_close(acmeh_mockdns *d) {
  if (!d || d->closed) return;
  flush_replies(d); /* what a batch cut short by the close left is still sent */
  d->closed = 1;
  drop_handles(d);
  while (d->conns)
    conn_close(d->conns);
}

void acmeh_mockdns_free(acmeh_mockdns *d) { free(d); }
