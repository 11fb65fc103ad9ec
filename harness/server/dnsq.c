/* One DNS question over UDP on the server's own loop, for dns-01. Through the
 * thread pool a lookup cost two thread hand-offs and a fresh socket, about a
 * tenth of the server's CPU per order; here it is one datagram each way.
 * ldns builds and reads the packets. Like the pool's resolver (validate.c) it
 * tries twice, DNS_TRY_MS each; a truncated answer goes back to the caller,
 * which asks again over TCP on the pool. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rand.h"
#include "harness/server/internal.h"

#define DNS_TRY_MS 2000
#define DNS_TRIES 2

struct srv_dnsq {
  srv_dnsq *prev, *next;
  acmeh_server *s;
  uv_udp_t udp;
  uv_timer_t timer;
  uint8_t *wire;
  size_t wire_len;
  uint16_t id;
  int tries, closing;
  srv_dnsq_cb cb;
  void *ud;
};

static void unlink_q(srv_dnsq *q) {
  if (q->prev) q->prev->next = q->next;
  else q->s->dnsqs = q->next;
  if (q->next) q->next->prev = q->prev;
}

static void closed(uv_handle_t *h) {
  srv_dnsq *q = h->data;
  if (++q->closing < 3) return; /* both handles are closed */
  free(q->wire);
  free(q);
}

/* Hands the outcome over once and closes the handles. */
static void finish(srv_dnsq *q, ldns_status st, const ldns_pkt *answer, int cancelled) {
  if (q->closing) return;
  q->closing = 1;
  unlink_q(q);
  uv_udp_recv_stop(&q->udp);
  if (q->cb) q->cb(q->s, q->ud, st, answer, cancelled);
  uv_close((uv_handle_t *)&q->udp, closed);
  uv_close((uv_handle_t *)&q->timer, closed);
}

static void on_timer(uv_timer_t *t);

static void send_try(srv_dnsq *q) {
  uv_buf_t b = uv_buf_init((char *)q->wire, (unsigned)q->wire_len);
  q->tries++;
  /* a refused send is answered like a lost datagram: by the timer */
  uv_udp_try_send(&q->udp, &b, 1, NULL);
  uv_timer_start(&q->timer, on_timer, DNS_TRY_MS, 0);
}

static void on_timer(uv_timer_t *t) {
  srv_dnsq *q = t->data;
  if (q->tries < DNS_TRIES) send_try(q);
  else finish(q, LDNS_STATUS_NETWORK_ERR, NULL, 0);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h, (void)hint;
  static _Thread_local char room[65536]; /* read at once, in the same callback */
  *buf = uv_buf_init(room, sizeof room);
}

/* Only a response to this question counts; anything else is left unread. */
static void on_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags) {
  (void)from, (void)flags;
  srv_dnsq *q = u->data;
  if (n < 0) return finish(q, LDNS_STATUS_NETWORK_ERR, NULL, 0); /* e.g. ICMP port unreachable */
  ldns_pkt *p = NULL;
  if (n == 0 || ldns_wire2pkt(&p, (const uint8_t *)buf->base, (size_t)n) != LDNS_STATUS_OK) return;
  if (ldns_pkt_qr(p) && ldns_pkt_id(p) == q->id) finish(q, LDNS_STATUS_OK, p, 0);
  ldns_pkt_free(p);
}

/* The question in wire form, with a random id. */
static int build(srv_dnsq *q, const char *name, ldns_rr_type t) {
  ldns_rdf *dname = ldns_dname_new_frm_str(name);
  ldns_pkt *p = dname ? ldns_pkt_query_new(dname, t, LDNS_RR_CLASS_IN, LDNS_RD) : NULL;
  if (!p) {
    ldns_rdf_deep_free(dname);
    return 0;
  }
  int ok = acmeh_rand_bytes(&q->id, sizeof q->id) == ACMEH_OK;
  ldns_pkt_set_id(p, q->id);
  ok = ok && ldns_pkt2wire(&q->wire, p, &q->wire_len) == LDNS_STATUS_OK;
  ldns_pkt_free(p);
  return ok;
}

int srv_dnsq_start(acmeh_server *s, const char *name, ldns_rr_type t, srv_dnsq_cb cb, void *ud) {
  struct sockaddr_storage to;
  if (uv_ip4_addr(s->dns_addr, s->dns_port, (struct sockaddr_in *)&to) != 0 &&
      uv_ip6_addr(s->dns_addr, s->dns_port, (struct sockaddr_in6 *)&to) != 0)
    return ACMEH_INVALID_ARG;
  srv_dnsq *q = calloc(1, sizeof *q);
  if (!q) return ACMEH_NOMEM;
  if (!build(q, name, t)) {
    free(q->wire);
    free(q);
    return ACMEH_NOMEM;
  }
  q->s = s, q->cb = cb, q->ud = ud;
  uv_udp_init(&s->loop, &q->udp);
  uv_timer_init(&s->loop, &q->timer);
  q->udp.data = q->timer.data = q;
  q->next = s->dnsqs;
  if (s->dnsqs) s->dnsqs->prev = q;
  s->dnsqs = q;
  /* connected: datagrams from any other address are not delivered */
  if (uv_udp_connect(&q->udp, (const struct sockaddr *)&to) != 0 || uv_udp_recv_start(&q->udp, on_alloc, on_recv) != 0) {
    q->cb = NULL; /* the caller learns it from the return value */
    finish(q, LDNS_STATUS_NETWORK_ERR, NULL, 0);
    return ACMEH_ENV_IO;
  }
  send_try(q);
  return ACMEH_OK;
}

void srv_dnsq_cancel_all(acmeh_server *s) {
  while (s->dnsqs) finish(s->dnsqs, LDNS_STATUS_NETWORK_ERR, NULL, 1);
}
