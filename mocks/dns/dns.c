#include "mocks/dns/dns.h"

#include "base/error.h"
#include "base/uvutil.h"
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
#define PORT_ATTEMPTS 20  /* ephemeral TCP port that is busy for UDP: try another */
#define UDP_BATCH 20      /* datagrams per recvmmsg: libuv's own maximum */

typedef struct tcp_conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* the connection's next deadline: idle, slow frame or blocked */
  int handles_open;
  int closing;
  int paused;               /* reading stopped until the peer reads its answers */
  unsigned pending;         /* answers handed to libuv, not yet written */
  uint64_t last_activity;   /* loop ms: last byte read or answer written */
  uint64_t frame_start;     /* loop ms the partial frame in buf began; 0 = none */
  uint64_t paused_since;    /* loop ms reading stopped */
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
  acmeh_mockdns_tcp_limits lim;
  acmeh_mockdns_tcp_stats st;
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

/* A peer can hold a connection three ways; each gets its own deadline so that
 * none lasts forever (RFC 7766 §6.2.3, §10): no byte at all (idle), a frame
 * trickled in byte by byte (every byte would otherwise reset the idle timer),
 * or answers left unread so that reading stays stopped (blocked). */
static uint64_t conn_deadline(const tcp_conn *c) {
  const acmeh_mockdns_tcp_limits *l = &c->dns->lim;
  if (c->paused) return c->paused_since + l->blocked_ms;
  uint64_t t = c->last_activity + l->idle_ms;
  if (c->frame_start && c->frame_start + l->frame_ms < t) t = c->frame_start + l->frame_ms;
  return t;
}

/* The time the connection last made progress: eviction picks the oldest. */
static uint64_t conn_stale_since(const tcp_conn *c) {
  if (c->paused) return c->paused_since;
  return c->frame_start ? c->frame_start : c->last_activity;
}

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
  uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void conn_timer(uv_timer_t *t);

static void conn_arm(tcp_conn *c) {
  uint64_t now = uv_now(c->dns->loop), at = conn_deadline(c);
  uv_timer_start(&c->timer, conn_timer, at > now ? at - now : 0, 0);
}

static void conn_timer(uv_timer_t *t) {
  tcp_conn *c = t->data;
  if (uv_now(c->dns->loop) < conn_deadline(c)) {
    conn_arm(c); /* progress since the timer was set */
    return;
  }
  acmeh_mockdns_tcp_stats *st = &c->dns->st;
  if (c->paused)
    st->closed_blocked++;
  else if (c->frame_start && c->frame_start + c->dns->lim.frame_ms <= uv_now(c->dns->loop))
    st->closed_slow++;
  else
    st->closed_idle++;
  conn_close(c);
}

/* Whether the peer has left enough answers unread that reading must stop. */
static int conn_over(const tcp_conn *c) {
  return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) > c->dns->lim.queue_bytes ||
         c->pending >= c->dns->lim.max_answers;
}

/* Whether it has read enough of them for reading to resume: half the caps,
 * so that a slow reader does not toggle reading for every answer. */
static int conn_drained(const tcp_conn *c) {
  return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) <= c->dns->lim.queue_bytes / 2 &&
         c->pending <= c->dns->lim.max_answers / 2;
}

typedef struct {
  uv_write_t req;
  tcp_conn *c;
  uint8_t data[]; /* the framed answer */
} tcp_write;

static void drain_frames(tcp_conn *c);
static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* Runs before the close callbacks (libuv cancels queued writes first), so c
 * is still allocated even when the connection is closing. */
static void tcp_written(uv_write_t *req, int status) {
  tcp_write *w = (tcp_write *)req;
  tcp_conn *c = w->c;
  free(w);
  c->pending--;
  if (c->closing || status < 0) return;
  c->last_activity = uv_now(c->dns->loop);
  if (!c->paused || !conn_drained(c)) return;
  c->paused = 0;
  drain_frames(c); /* frames that arrived before reading stopped */
  if (c->closing) return;
  if (!c->paused) uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read);
  conn_arm(c);
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
  tcp_write *w = malloc(sizeof *w + outlen + 2);
  if (w) {
    w->c = c;
    w->data[0] = (uint8_t)(outlen >> 8);
    w->data[1] = (uint8_t)outlen;
    memcpy(w->data + 2, out, outlen);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(outlen + 2));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, tcp_written) == 0) {
      c->pending++;
      size_t queued = uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
      if (queued > c->dns->st.peak_queue_bytes) c->dns->st.peak_queue_bytes = queued;
    } else {
      free(w);
    }
  }
  free(out);
}

/* Answers every complete frame in the buffer, keeping a partial tail, until
 * the peer's unread answers reach the caps: then reading stops (the kernel's
 * buffers and then the peer's own writes block) and the frames left wait in
 * the buffer until tcp_written sees the queue drained. */
static void drain_frames(tcp_conn *c) {
  size_t off = 0;
  while (c->len - off >= 2 && !c->paused) {
    size_t flen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
    if (c->len - off - 2 < flen) break;
    answer_frame(c, c->buf + off + 2, flen);
    off += 2 + flen;
    if (!c->closing && conn_over(c)) {
      c->paused = 1;
      c->paused_since = uv_now(c->dns->loop);
      c->dns->st.pauses++;
      uv_read_stop((uv_stream_t *)&c->tcp);
    }
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
  /* a new partial frame starts its clock; one still arriving keeps it */
  if (c->len == 0)
    c->frame_start = 0;
  else if (off > 0 || c->frame_start == 0)
    c->frame_start = uv_now(c->dns->loop);
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
  if (nread == 0) return;
  c->len += (size_t)nread;
  c->last_activity = uv_now(c->dns->loop);
  drain_frames(c);
  if (!c->closing) conn_arm(c);
}

/* All slots taken: the connection that has made no progress for longest
 * makes room (RFC 7766 §6.2.3 lets a server close connections under
 * pressure), so trickling or stalled peers cannot lock new clients out. */
static void evict_stalest(acmeh_mockdns *d) {
  tcp_conn *victim = NULL;
  for (tcp_conn *c = d->conns; c; c = c->next)
    if (!victim || conn_stale_since(c) < conn_stale_since(victim)) victim = c;
  if (!victim) return;
  d->st.evicted++;
  conn_close(victim);
}

static void tcp_accept(uv_stream_t *server, int status) {
  acmeh_mockdns *d = server->data;
  if (status < 0 || d->closed) return;
  tcp_conn *c = calloc(1, sizeof *c);
  if (!c) return;
  c->dns = d;
  uv_tcp_init(d->loop, &c->tcp);
  uv_timer_init(d->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->handles_open = 2;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    uv_close((uv_handle_t *)&c->timer, conn_closed);
    return;
  }
  if (d->nconns >= d->lim.max_conns) evict_stalest(d);
  c->next = d->conns;
  if (d->conns) d->conns->prev = c;
  d->conns = c;
  d->nconns++;
  c->last_activity = uv_now(d->loop);
  conn_arm(c);
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
  d->lim = (acmeh_mockdns_tcp_limits){64, 10000, 10000, 1 << 20, 256, 10000};
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

void acmeh_mockdns_set_tcp_limits(acmeh_mockdns *d, const acmeh_mockdns_tcp_limits *lim) {
  if (!d || !lim) return;
  acmeh_mockdns_tcp_limits *l = &d->lim;
  if (lim->max_conns > 0) l->max_conns = lim->max_conns;
  if (lim->idle_ms > 0) l->idle_ms = lim->idle_ms;
  if (lim->frame_ms > 0) l->frame_ms = lim->frame_ms;
  if (lim->queue_bytes > 0) l->queue_bytes = lim->queue_bytes;
  if (lim->max_answers > 0) l->max_answers = lim->max_answers;
  if (lim->blocked_ms > 0) l->blocked_ms = lim->blocked_ms;
}

void acmeh_mockdns_tcp_stats_get(const acmeh_mockdns *d, acmeh_mockdns_tcp_stats *st) {
  if (!d || !st) return;
  *st = d->st;
  st->conns = d->nconns;
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
