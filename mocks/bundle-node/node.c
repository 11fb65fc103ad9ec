/* The mock bundle node (node.h): TCPCLv4 sessions on one libuv loop, bundles
 * routed by the Node ID each neighbour named, faults applied on forwarding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/error.h"
#include "base/uvutil.h"
#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/node.h"
#include "mocks/bundle-node/tcpcl.h"

#define MAX_FAULTS 16
#define MAX_JOURNAL 1000
#define XFER_REFUSE_NO_RESOURCES 0x02
#define TERM_CONTACT_FAILURE 0x04 /* RFC 9174 §6.1 "Contact Failure" */

typedef enum { S_CONTACT, S_INIT, S_UP, S_CLOSING } sess_state;

typedef struct sess {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct acmeh_bundle_node *node;
  sess_state state;
  unsigned char *in; /* unparsed bytes, at most ACMEH_TCPCL_MAX_MSG */
  size_t in_len;
  char node_id[ACMEH_TCPCL_MAX_NODE_ID + 1];
  unsigned char *xfer; /* the incoming transfer being assembled */
  size_t xfer_len;
  uint64_t xfer_id;
  int xfer_open, xfer_refused;
  uint64_t next_tid;
  int handles; /* open libuv handles (tcp, timer) */
  struct sess *next;
} sess;

typedef struct held {
  unsigned char *bytes;
  size_t len;
  char dest[ACMEH_EID_MAX];
  uint64_t expires; /* uv_now ms */
  uv_timer_t timer; /* DELAY: fires the forward */
  struct acmeh_bundle_node *node;
  struct held *next;
} held;

typedef struct {
  acmeh_bnode_fault f;
  char dest[ACMEH_EID_MAX], text[ACMEH_EID_MAX];
  int used;
} fault_slot;

struct acmeh_bundle_node {
  uv_loop_t loop;
  uv_tcp_t server;
  uv_async_t stop;
  uv_thread_t thread;
  uv_mutex_t mu; /* faults and journal */
  char node_id[ACMEH_TCPCL_MAX_NODE_ID + 1];
  unsigned timeout_ms;
  int port;
  sess *sessions;
  held *pending, *delayed;
  fault_slot faults[MAX_FAULTS];
  int nfaults;
  json_t *journal;
};

/* ---- journal ---- */

static void note(acmeh_bundle_node *n, const char *event, const char *peer, const char *detail, const acmeh_bundle *b, const unsigned char *raw, size_t rawlen) {
  json_t *e = json_pack("{s:s, s:s, s:s}", "event", event, "peer", peer && *peer ? peer : "(no SESS_INIT yet)", "detail", detail ? detail : "");
  if (!e) return;
  if (b) json_object_set_new(e, "src", json_string(b->src)), json_object_set_new(e, "dest", json_string(b->dest)), json_object_set_new(e, "flags", json_integer((json_int_t)b->flags));
  if (raw && rawlen <= 4096) {
    char *hex = malloc(rawlen * 2 + 1);
    for (size_t i = 0; hex && i < rawlen; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    if (hex) hex[rawlen * 2] = 0, json_object_set_new(e, "hex", json_string(hex));
    free(hex);
  }
  uv_mutex_lock(&n->mu);
  if (json_array_size(n->journal) < MAX_JOURNAL) json_array_append(n->journal, e);
  uv_mutex_unlock(&n->mu);
  json_decref(e);
}

/* ---- sending ---- */

static void send_msg(sess *s, const acmeh_tcpcl_msg *m) {
  unsigned char *buf;
  size_t len;
  if (s->state == S_CLOSING || acmeh_tcpcl_write(m, &buf, &len) != ACMEH_OK) return;
  acmeh_uv_write_owned((uv_stream_t *)&s->tcp, buf, len);
}

static void on_handle_closed(uv_handle_t *h) {
  sess *s = h->data;
  if (--s->handles > 0) return;
  free(s->in), free(s->xfer), free(s);
}

static void end_session(sess *s, const char *why, int term_reason) {
  if (s->state == S_CLOSING) return;
  acmeh_bundle_node *n = s->node;
  if (term_reason >= 0 && s->state != S_CONTACT) send_msg(s, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_SESS_TERM, .reason = (uint8_t)term_reason});
  note(n, why ? "error" : "closed", s->node_id, why, NULL, NULL, 0);
  s->state = S_CLOSING;
  for (sess **p = &n->sessions; *p; p = &(*p)->next)
    if (*p == s) {
      *p = s->next;
      break;
    }
  uv_close((uv_handle_t *)&s->timer, on_handle_closed);
  uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
}

static void forward(sess *to, const unsigned char *bytes, size_t len) {
  acmeh_tcpcl_msg m = {.type = ACMEH_TCPCL_XFER_SEGMENT, .flags = ACMEH_TCPCL_FLAG_START | ACMEH_TCPCL_FLAG_END,
                       .transfer_id = to->next_tid++, .data = bytes, .length = len};
  send_msg(to, &m);
}

/* ---- routing ---- */

/* Whether the neighbour named node_id is where dest lives (RFC 9171 §4.2.5.2). */
static int owns(const char *node_id, const char *dest) {
  if (strncmp(node_id, "dtn://", 6) == 0) return strncmp(dest, node_id, strlen(node_id)) == 0;
  const char *dot = strncmp(node_id, "ipn:", 4) == 0 ? strchr(node_id, '.') : NULL;
  return dot && strncmp(dest, node_id, (size_t)(dot - node_id + 1)) == 0;
}

static held *hold_new(acmeh_bundle_node *n, const unsigned char *bytes, size_t len, const char *dest, uint64_t lifetime_ms) {
  held *h = calloc(1, sizeof *h);
  if (!h || !(h->bytes = malloc(len ? len : 1))) return free(h), NULL;
  memcpy(h->bytes, bytes, len);
  h->len = len, h->node = n;
  snprintf(h->dest, sizeof h->dest, "%s", dest);
  h->expires = uv_now(&n->loop) + (lifetime_ms < 86400000 ? lifetime_ms : 86400000);
  return h;
}

/* Every session of the destination's node gets the bundle: one node may hold
 * several sessions (a CA's agent opens one per validation), and each side
 * ignores what is not for it (RFC 9891 §3.3.1, §3.4.1). */
static void deliver(acmeh_bundle_node *n, const unsigned char *bytes, size_t len, const acmeh_bundle *b, const char *from) {
  int sent = 0;
  for (sess *s = n->sessions; s; s = s->next)
    if (s->state == S_UP && owns(s->node_id, b->dest)) forward(s, bytes, len), sent++;
  if (sent) return note(n, "forwarded", from, b->dest, b, bytes, len);
  int count = 0;
  for (held *h = n->pending; h; h = h->next) count++;
  held *h = count < ACMEH_BNODE_MAX_PENDING ? hold_new(n, bytes, len, b->dest, b->lifetime_ms) : NULL;
  if (!h) return note(n, "undeliverable", from, "no session for the destination and no room to hold it", b, bytes, len);
  h->next = n->pending, n->pending = h;
  note(n, "held", from, "no session for the destination yet", b, bytes, len);
}

static void deliver_pending(acmeh_bundle_node *n, sess *s) {
  uint64_t now = uv_now(&n->loop);
  for (held **p = &n->pending; *p;) {
    held *h = *p;
    if (h->expires < now || owns(s->node_id, h->dest)) {
      *p = h->next;
      if (h->expires >= now) forward(s, h->bytes, h->len), note(n, "forwarded", "(held)", s->node_id, NULL, h->bytes, h->len);
      free(h->bytes), free(h);
    } else {
      p = &h->next;
    }
  }
}

/* ---- faults ---- */

static int fault_for(acmeh_bundle_node *n, const char *dest, fault_slot *out) {
  int found = 0;
  uv_mutex_lock(&n->mu);
  for (int i = 0; i < n->nfaults && !found; i++) {
    fault_slot *f = &n->faults[i];
    if ((f->f.times && f->used >= f->f.times) || (f->dest[0] && !owns(f->dest, dest))) continue;
    f->used++, *out = *f, found = 1;
  }
  uv_mutex_unlock(&n->mu);
  return found;
}

/* A delayed bundle's time has come. The entry stays in n->delayed (its
 * timer is embedded) until the node stops. */
static void on_delay(uv_timer_t *t) {
  held *h = t->data;
  acmeh_bundle b;
  char msg[160];
  if (h->bytes && acmeh_bundle_decode(h->bytes, h->len, &b, msg, sizeof msg) == ACMEH_OK) {
    deliver(h->node, h->bytes, h->len, &b, "(delayed)");
    acmeh_bundle_clear(&b);
  }
  free(h->bytes);
  h->bytes = NULL, h->len = 0;
}

/* Re-encodes b after a change; returns a malloc'd buffer or NULL. */
static unsigned char *reencode(const acmeh_bundle *b, size_t *len) {
  unsigned char *out = NULL;
  return acmeh_bundle_encode(b, &out, len) == ACMEH_OK ? out : NULL;
}

static void flip_digest(acmeh_bundle *b) {
  acmeh_dtn_record r;
  char msg[160];
  unsigned char *p;
  size_t len;
  if (acmeh_dtn_record_decode(b->payload, b->payload_len, &r, msg, sizeof msg) != ACMEH_OK || !(r.keys & 8) || r.digest_len == 0) return;
  r.digest[0] ^= 0xff;
  r.keys &= ~1u;
  if (acmeh_dtn_record_encode(&r, &p, &len) != ACMEH_OK) return;
  free(b->payload);
  b->payload = p, b->payload_len = len;
}

static void apply(acmeh_bundle_node *n, const fault_slot *f, const unsigned char *bytes, size_t len, acmeh_bundle *b, const char *from) {
  unsigned char *mod = NULL;
  size_t modlen = 0;
  switch (f->f.kind) {
  case ACMEH_BNODE_FAULT_DROP: return note(n, "dropped", from, "fault drop", b, bytes, len);
  case ACMEH_BNODE_FAULT_DUPLICATE:
    note(n, "duplicated", from, "fault duplicate", b, bytes, len);
    deliver(n, bytes, len, b, from);
    return deliver(n, bytes, len, b, from);
  case ACMEH_BNODE_FAULT_DELAY: {
    held *h = hold_new(n, bytes, len, b->dest, b->lifetime_ms);
    if (!h) return;
    uv_timer_init(&n->loop, &h->timer);
    h->timer.data = h;
    h->next = n->delayed, n->delayed = h;
    uv_timer_start(&h->timer, on_delay, f->f.param, 0);
    return note(n, "delayed", from, "fault delay", b, bytes, len);
  }
  case ACMEH_BNODE_FAULT_WRONG_SOURCE:
    snprintf(b->src, sizeof b->src, "%s", f->text);
    mod = reencode(b, &modlen);
    break;
  case ACMEH_BNODE_FAULT_BAD_DIGEST:
    flip_digest(b);
    mod = reencode(b, &modlen);
    break;
  case ACMEH_BNODE_FAULT_TRUNCATE:
    modlen = len - (f->f.param < len ? f->f.param : len - 1);
    mod = malloc(modlen);
    if (mod) memcpy(mod, bytes, modlen);
    break;
  default: return deliver(n, bytes, len, b, from);
  }
  if (!mod) return note(n, "undeliverable", from, "fault could not be applied", b, bytes, len);
  note(n, "rewritten", from, f->f.kind == ACMEH_BNODE_FAULT_TRUNCATE ? "fault truncate" : f->f.kind == ACMEH_BNODE_FAULT_BAD_DIGEST ? "fault bad digest" : "fault wrong source", b, mod, modlen);
  deliver(n, mod, modlen, b, from);
  free(mod);
}

static void on_bundle(sess *s, const unsigned char *bytes, size_t len) {
  acmeh_bundle b;
  char msg[200];
  int rc = acmeh_bundle_decode(bytes, len, &b, msg, sizeof msg);
  if (rc) return note(s->node, "refused", s->node_id, msg, NULL, bytes, len);
  fault_slot f;
  if (fault_for(s->node, b.dest, &f)) apply(s->node, &f, bytes, len, &b, s->node_id);
  else deliver(s->node, bytes, len, &b, s->node_id);
  acmeh_bundle_clear(&b);
}

/* ---- TCPCL session ---- */

static void on_timeout(uv_timer_t *t) {
  sess *s = t->data;
  char why[160];
  snprintf(why, sizeof why, "%s not complete within %u ms (%zu byte(s) of it arrived)",
           s->state == S_CONTACT ? "contact header" : "TCPCL message", s->node->timeout_ms, s->in_len);
  end_session(s, why, 0);
}

static void sess_init_taken(sess *s, const acmeh_tcpcl_msg *m) {
  acmeh_bundle_node *n = s->node;
  snprintf(s->node_id, sizeof s->node_id, "%s", m->node_id);
  acmeh_tcpcl_msg ours = {.type = ACMEH_TCPCL_SESS_INIT, .keepalive = 0, .segment_mru = ACMEH_TCPCL_SEGMENT_MRU, .transfer_mru = ACMEH_BUNDLE_MAX};
  snprintf(ours.node_id, sizeof ours.node_id, "%s", n->node_id);
  send_msg(s, &ours);
  s->state = S_UP;
  note(n, "session", s->node_id, "SESS_INIT taken", NULL, NULL, 0);
  deliver_pending(n, s);
}

/* One XFER_SEGMENT: assemble, ack, refuse what is over the cap. */
static void segment(sess *s, const acmeh_tcpcl_msg *m) {
  if (m->flags & ACMEH_TCPCL_FLAG_START) {
    free(s->xfer);
    s->xfer = NULL, s->xfer_len = 0, s->xfer_id = m->transfer_id, s->xfer_open = 1, s->xfer_refused = 0;
  }
  if (!s->xfer_open || m->transfer_id != s->xfer_id) return end_session(s, "XFER_SEGMENT of a transfer that was never started (RFC 9174 §5.2.2)", 0);
  if (!s->xfer_refused && s->xfer_len + m->length > ACMEH_BUNDLE_MAX) {
    char why[120];
    snprintf(why, sizeof why, "transfer over %d bytes refused (XFER_REFUSE No Resources)", ACMEH_BUNDLE_MAX);
    note(s->node, "refused", s->node_id, why, NULL, NULL, 0);
    send_msg(s, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_XFER_REFUSE, .reason = XFER_REFUSE_NO_RESOURCES, .transfer_id = m->transfer_id});
    s->xfer_refused = 1;
    free(s->xfer), s->xfer = NULL, s->xfer_len = 0;
  }
  if (!s->xfer_refused && m->length) {
    unsigned char *grown = realloc(s->xfer, s->xfer_len + m->length);
    if (!grown) return end_session(s, "out of memory", 0);
    memcpy(grown + s->xfer_len, m->data, m->length);
    s->xfer = grown, s->xfer_len += m->length;
  }
  if (!s->xfer_refused) send_msg(s, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_XFER_ACK, .flags = m->flags, .transfer_id = m->transfer_id, .length = s->xfer_len});
  if (!(m->flags & ACMEH_TCPCL_FLAG_END)) return;
  s->xfer_open = 0;
  if (!s->xfer_refused) on_bundle(s, s->xfer ? s->xfer : (const unsigned char *)"", s->xfer_len);
  free(s->xfer), s->xfer = NULL, s->xfer_len = 0;
}

static void message(sess *s, const acmeh_tcpcl_msg *m) {
  if (s->state == S_INIT && m->type != ACMEH_TCPCL_SESS_INIT) return end_session(s, "first message after the contact header is not SESS_INIT (RFC 9174 §4.6)", 0);
  switch (m->type) {
  case ACMEH_TCPCL_SESS_INIT:
    if (s->state != S_INIT) return end_session(s, "SESS_INIT repeated", 0);
    return sess_init_taken(s, m);
  case ACMEH_TCPCL_XFER_SEGMENT: return segment(s, m);
  case ACMEH_TCPCL_SESS_TERM:
    if (!(m->flags & ACMEH_TCPCL_TERM_REPLY)) send_msg(s, &(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_SESS_TERM, .flags = ACMEH_TCPCL_TERM_REPLY, .reason = m->reason});
    return end_session(s, NULL, -1);
  default: return; /* XFER_ACK, XFER_REFUSE, KEEPALIVE, MSG_REJECT: nothing to do */
  }
}

/* Consumes every complete unit (contact header, then messages) in s->in. */
static void consume(sess *s) {
  char why[200];
  size_t off = 0;
  int progressed = 0;
  while (s->state != S_CLOSING && off < s->in_len) {
    int used;
    if (s->state == S_CONTACT) {
      int version = 0;
      used = acmeh_tcpcl_contact_parse(s->in + off, s->in_len - off, &version, why, sizeof why);
      if (used > 0) {
        unsigned char ch[ACMEH_TCPCL_CONTACT_LEN];
        acmeh_tcpcl_contact_write(ch);
        acmeh_uv_write_copy((uv_stream_t *)&s->tcp, ch, sizeof ch);
        s->state = S_INIT;
      }
    } else {
      acmeh_tcpcl_msg m;
      used = acmeh_tcpcl_parse(s->in + off, s->in_len - off, &m, why, sizeof why);
      if (used > 0) message(s, &m);
    }
    if (used < 0) return end_session(s, why, TERM_CONTACT_FAILURE);
    if (used == 0) break;
    off += (size_t)used, progressed = 1;
  }
  if (s->state == S_CLOSING) return;
  memmove(s->in, s->in + off, s->in_len - off);
  s->in_len -= off;
  /* The per-message deadline: runs while a unit is incomplete, restarts when one completed;
   * and until SESS_INIT, so 32 peers that stop after the contact header cannot hold every slot. */
  if (s->in_len == 0 && s->state == S_UP) uv_timer_stop(&s->timer);
  else if (progressed || !uv_is_active((uv_handle_t *)&s->timer)) uv_timer_start(&s->timer, on_timeout, s->node->timeout_ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  sess *s = h->data;
  (void)suggested;
  size_t room = ACMEH_TCPCL_MAX_MSG - s->in_len;
  buf->base = (char *)s->in + s->in_len;
  buf->len = room;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  sess *s = st->data;
  (void)buf;
  if (nread < 0) return end_session(s, s->in_len || s->xfer_open ? "connection closed inside a message or transfer" : NULL, -1);
  s->in_len += (size_t)nread;
  consume(s);
  if (s->state != S_CLOSING && s->in_len == ACMEH_TCPCL_MAX_MSG) end_session(s, "TCPCL message over the size cap", 0);
}

static void on_connection(uv_stream_t *server, int status) {
  acmeh_bundle_node *n = server->data;
  if (status < 0) return;
  sess *s = calloc(1, sizeof *s);
  if (s) s->in = malloc(ACMEH_TCPCL_MAX_MSG);
  if (!s || !s->in) return free(s ? s->in : NULL), free(s);
  s->node = n;
  uv_tcp_init(&n->loop, &s->tcp);
  uv_timer_init(&n->loop, &s->timer);
  s->tcp.data = s->timer.data = s;
  s->handles = 2;
  int count = 0;
  for (sess *o = n->sessions; o; o = o->next) count++;
  s->next = n->sessions, n->sessions = s;
  if (uv_accept(server, (uv_stream_t *)&s->tcp) != 0 || count >= ACMEH_BNODE_MAX_SESSIONS) return end_session(s, "too many sessions", -1);
  uv_timer_start(&s->timer, on_timeout, n->timeout_ms, 0);
  uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
}

/* ---- life cycle ---- */

static void free_held(uv_handle_t *h) {
  held *x = h->data;
  free(x->bytes), free(x);
}

static void on_stop(uv_async_t *a) {
  acmeh_bundle_node *n = a->data;
  while (n->sessions) end_session(n->sessions, NULL, 0);
  for (held *h = n->delayed, *next; h; h = next) next = h->next, uv_close((uv_handle_t *)&h->timer, free_held);
  n->delayed = NULL;
  for (held *h = n->pending, *next; h; h = next) next = h->next, free(h->bytes), free(h);
  n->pending = NULL;
  uv_close((uv_handle_t *)&n->server, NULL);
  uv_close((uv_handle_t *)&n->stop, NULL);
}

static void run(void *arg) {
  acmeh_bundle_node *n = arg;
  uv_run(&n->loop, UV_RUN_DEFAULT);
}

int acmeh_bundle_node_start(const acmeh_bundle_node_config *cfg, acmeh_bundle_node **out, char *err, size_t errlen) {
  *out = NULL;
  const char *id = cfg && cfg->node_id ? cfg->node_id : "dtn://mock-bundle-node/";
  if (!acmeh_eid_is_admin_node_id(id) || strlen(id) > ACMEH_TCPCL_MAX_NODE_ID) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "bundle node: %s is not a Node ID", id);
  acmeh_bundle_node *n = calloc(1, sizeof *n);
  if (!n || !(n->journal = json_array())) return free(n), acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory");
  snprintf(n->node_id, sizeof n->node_id, "%s", id);
  n->timeout_ms = cfg && cfg->read_timeout_ms ? cfg->read_timeout_ms : 5000;
  uv_loop_init(&n->loop);
  uv_mutex_init(&n->mu);
  uv_tcp_init(&n->loop, &n->server);
  n->server.data = n;
  int rc = acmeh_uv_tcp_listen(&n->server, cfg && cfg->bind_addr ? cfg->bind_addr : "127.0.0.1", cfg ? cfg->port : 0, on_connection, "bundle node (TCPCL)", err, errlen);
  uv_async_init(&n->loop, &n->stop, on_stop);
  n->stop.data = n;
  if (rc == ACMEH_OK) n->port = acmeh_uv_tcp_port(&n->server);
  if (rc == ACMEH_OK && uv_thread_create(&n->thread, run, n) != 0) rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "bundle node: no thread");
  if (rc != ACMEH_OK) {
    uv_close((uv_handle_t *)&n->server, NULL), uv_close((uv_handle_t *)&n->stop, NULL);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_loop_close(&n->loop), uv_mutex_destroy(&n->mu), json_decref(n->journal), free(n);
    return rc;
  }
  *out = n;
  return ACMEH_OK;
}

void acmeh_bundle_node_stop(acmeh_bundle_node *n) {
  if (!n) return;
  uv_async_send(&n->stop);
  uv_thread_join(&n->thread);
  uv_loop_close(&n->loop);
  uv_mutex_destroy(&n->mu);
  json_decref(n->journal);
  free(n);
}

int acmeh_bundle_node_port(const acmeh_bundle_node *n) { return n ? n->port : -1; }

int acmeh_bundle_node_add_fault(acmeh_bundle_node *n, const acmeh_bnode_fault *f) {
  if (!n || !f || f->kind <= ACMEH_BNODE_FAULT_NONE || f->kind > ACMEH_BNODE_FAULT_TRUNCATE || (f->dest && !acmeh_eid_valid(f->dest)) ||
      (f->kind == ACMEH_BNODE_FAULT_WRONG_SOURCE && !acmeh_eid_valid(f->text)) || (f->kind == ACMEH_BNODE_FAULT_DELAY && f->param > 60000))
    return ACMEH_INVALID_ARG;
  uv_mutex_lock(&n->mu);
  int rc = n->nfaults < MAX_FAULTS ? ACMEH_OK : ACMEH_INVALID_ARG;
  if (rc == ACMEH_OK) {
    fault_slot *s = &n->faults[n->nfaults++];
    memset(s, 0, sizeof *s);
    s->f = *f;
    snprintf(s->dest, sizeof s->dest, "%s", f->dest ? f->dest : "");
    snprintf(s->text, sizeof s->text, "%s", f->text ? f->text : "");
    s->f.dest = NULL, s->f.text = NULL;
    if (s->f.kind == ACMEH_BNODE_FAULT_TRUNCATE && s->f.param == 0) s->f.param = 1;
  }
  uv_mutex_unlock(&n->mu);
  return rc;
}

void acmeh_bundle_node_clear_faults(acmeh_bundle_node *n) {
  uv_mutex_lock(&n->mu);
  n->nfaults = 0;
  uv_mutex_unlock(&n->mu);
}

json_t *acmeh_bundle_node_journal(acmeh_bundle_node *n) {
  uv_mutex_lock(&n->mu);
  json_t *copy = json_deep_copy(n->journal);
  uv_mutex_unlock(&n->mu);
  return copy;
}
