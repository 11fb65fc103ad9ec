#include "base/httpsrv.h"

#include "base/error.h"
#include "base/strbuf.h"
#include "base/uvtls.h"
#include "base/uvutil.h"

#include <http_parser.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Caps keep a misbehaving peer from making the server allocate without bound. */
#define MAX_URL 8192
#define MAX_HEADER_BYTES 16384
#define MAX_HEADERS 64
#define MAX_CONNS 256
#define IDLE_MS 30000 /* a validator that opens a connection and stalls must not pin it forever */
/* A peer that pipelines requests and does not read the answers would have
 * them queued without bound: past these (answer bytes not yet handed to the
 * kernel, answers waiting their turn) reading stops, and resumes at half. */
#define MAX_UNSENT (1024 * 1024)
#define MAX_QUEUED 64
#define MAX_STASH (256 * 1024) /* input received before reading stopped (one read or TLS record batch) */

typedef struct {
  char *p;
  size_t len, cap;
} buf;

/* One request as http-parser's callbacks collect it, under the caps: the
 * part of a connection that acmeh_httpsrv_parse uses without one. */
typedef struct {
  http_parser parser; /* embedded: the callbacks find the reqparse from it */
  buf url, host, body;
  buf names[MAX_HEADERS], values[MAX_HEADERS];
  size_t nheaders;
  int last_was_value, headers_dropped;
  size_t header_bytes;
  size_t max_body;
  int fail_status; /* set by a callback that rejects the request */
} reqparse;

/* A rendered response waiting its turn: responses leave in request order, a
 * delayed one holds back those behind it. */
typedef struct outq {
  struct outq *next;
  char *data; /* NULL = nothing to write (dropped before headers) */
  size_t len;
  unsigned delay_ms;
  int then; /* THEN_KEEP, THEN_CLOSE (after the writes drain), THEN_ABORT (at once) */
  struct acmeh_httpsrv_later *later; /* non-NULL: the handler deferred its answer, not given yet */
} outq;

/* A deferred answer's slot: o and c are NULL once the connection has gone. */
struct acmeh_httpsrv_later {
  outq *o;
  struct conn *c;
  int keep_alive, head;
};

enum { THEN_KEEP, THEN_CLOSE, THEN_ABORT };

/* A delay timer outlives its connection until its own close callback, so it
 * is allocated on its own; c is NULL once the connection went away. */
typedef struct {
  uv_timer_t timer;
  struct conn *c;
} delay_timer;

/* One connection, over plain TCP (tcp + idle timer owned here) or TLS (the
 * uvtls object owns its socket and timer; this struct is freed when it closes). */
typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  acmeh_uvtls *tls;
  int handles_open; /* plain: tcp + timer; freed when both close callbacks ran */
  int closing;      /* 1 = draining writes, 2 = closing */
  int linked;
  acmeh_httpsrv *srv;
  struct conn *prev, *next;
  reqparse rp; /* rp.parser.data is the conn */
  int no_more_input; /* a response that ends the connection is queued: parse nothing further */
  int in_request;     /* a request's first byte arrived and its end has not */
  int paused;         /* reading stopped until the peer reads its answers */
  buf stash;          /* input received but not parsed while paused */
  uint64_t request_start; /* uv_now when it did */
  outq *q_head, *q_tail;
  size_t q_bytes; /* rendered bytes in the queue */
  size_t q_len;   /* entries in the queue */
  delay_timer *delay;
  int q_waiting; /* the head of the queue is waiting for its delay */
} conn;

struct acmeh_httpsrv {
  uv_tcp_t listener;
  uv_loop_t *loop;
  acmeh_httpsrv_handler handler;
  void *ud;
  acmeh_httpsrv_opts opts;
  acmeh_uvtls_cbs tls_cbs;
  int port;
  int closed;
  conn *conns;
  int nconns;
  int in_handler;                  /* acmeh_httpsrv_defer is only meaningful during a handler call */
  acmeh_httpsrv_later *deferring;  /* what the running handler deferred, if anything */
  acmeh_httpsrv_stats st;
};

/* Appends to b unless that would exceed cap; returns -1 on overflow or OOM. */
static int buf_add(buf *b, const char *at, size_t n, size_t cap) {
  if (b->len + n > cap) return -1;
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 64;
    while (nc < b->len + n + 1)
      nc *= 2;
    char *p = realloc(b->p, nc);
    if (!p) return -1;
    b->p = p;
    b->cap = nc;
  }
  memcpy(b->p + b->len, at, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static void buf_reset(buf *b) {
  b->len = 0;
  if (b->p) b->p[0] = '\0';
}

static const char *buf_str(const buf *b) { return b->p ? b->p : ""; }

static void free_delay_timer(uv_handle_t *h) { free(h->data); }

/* Detaches and closes the delay timer (idempotent). */
static void conn_stop_delay(conn *c) {
  if (!c->delay) return;
  c->delay->c = NULL;
  uv_timer_stop(&c->delay->timer);
  uv_close((uv_handle_t *)&c->delay->timer, free_delay_timer);
  c->delay = NULL;
}

static void rp_free(reqparse *rp) {
  free(rp->url.p);
  free(rp->host.p);
  free(rp->body.p);
  for (size_t i = 0; i < MAX_HEADERS; i++) {
    free(rp->names[i].p);
    free(rp->values[i].p);
  }
}

static void conn_free(conn *c) {
  conn_stop_delay(c);
  while (c->q_head) {
    outq *o = c->q_head;
    c->q_head = o->next;
    if (o->later) o->later->o = NULL, o->later->c = NULL; /* its owner still finishes (and frees) it */
    free(o->data);
    free(o);
  }
  free(c->stash.p);
  rp_free(&c->rp);
  free(c);
}

static void conn_unlink(conn *c) {
  if (!c->linked) return;
  c->linked = 0;
  acmeh_httpsrv *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
}

static void conn_handle_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->handles_open > 0) return;
  conn_free(c);
}

/* Closes now; pending writes are cancelled. */
static void conn_close(conn *c) {
  if (c->closing == 2) return;
  c->closing = 2;
  conn_stop_delay(c);
  conn_unlink(c);
  if (c->tls) {
    acmeh_uvtls_close(c->tls); /* its on_close frees c */
    return;
  }
  uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
  uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void shutdown_done(uv_shutdown_t *req, int status) {
  (void)status;
  conn *c = req->data;
  free(req);
  conn_close(c);
}

/* Closes after the queued response has been written (uv_shutdown waits for
 * pending writes, uvtls sends close_notify first), so a "Connection: close"
 * reply is not cut off. */
static void conn_close_after_writes(conn *c) {
  if (c->closing) return;
  c->closing = 1;
  if (c->tls) {
    acmeh_uvtls_shutdown(c->tls);
    return;
  }
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req) {
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_done) == 0) return;
    free(req);
  }
  conn_close(c);
}

static void conn_resume(conn *c);

/* A plain write left the queue. One that failed means the peer is gone:
 * while reading is paused nothing else would notice before the idle limit. */
static void plain_written(uv_stream_t *stream, int status) {
  conn *c = stream->data;
  if (c->closing == 2) return;
  if (status < 0)
    conn_close(c);
  else
    conn_resume(c);
}

/* Queues `out` (malloc'd, ownership passes) on the connection. */
static void conn_write_owned(conn *c, char *out, size_t len) {
  if (c->tls) {
    acmeh_uvtls_write(c->tls, out, len);
    free(out);
    return;
  }
  acmeh_uv_write_owned_cb((uv_stream_t *)&c->tcp, out, len, plain_written);
}

/* The response as bytes: everything, or (headers_only) the status line and
 * headers with the Content-Length of the body that will never follow. */
static char *render_response(const acmeh_httpsrv_resp *r, int keep_alive, int head, int headers_only,
                             size_t *len) {
  int status = r->status ? r->status : 200;
  /* RFC 9110 §8.6, §15.3.5: a 204 has neither body nor Content-Length. */
  const char *ctype = r->content_type ? r->content_type : status == 204 ? NULL : "text/plain";
  size_t body_len = status == 204 ? 0 : r->body_len;
  acmeh_strbuf h = {0};
  acmeh_strbuf_printf(&h, "HTTP/1.1 %d %s\r\n", status, http_status_str((enum http_status)status));
  if (ctype && *ctype) acmeh_strbuf_printf(&h, "Content-Type: %s\r\n", ctype);
  if (status != 204) acmeh_strbuf_printf(&h, "Content-Length: %zu\r\n", body_len);
  acmeh_strbuf_printf(&h, "%sConnection: %s\r\n\r\n", r->headers ? r->headers : "",
                      keep_alive ? "keep-alive" : "close");
  /* HEAD: same headers, no body (RFC 9110 §9.3.2). */
  size_t send_body = head || headers_only ? 0 : body_len;
  char *out = h.data ? malloc(h.len + send_body) : NULL;
  if (out) {
    memcpy(out, h.data, h.len);
    if (send_body) memcpy(out + h.len, r->body, send_body);
    *len = h.len + send_body;
  }
  acmeh_strbuf_free(&h);
  return out;
}

static void q_pump(conn *c);

/* Answer bytes not yet handed to the kernel: queued here, or in the
 * stream's write queue (a peer that does not read leaves them there). */
static size_t conn_unsent(const conn *c) {
  if (c->tls) return c->q_bytes + acmeh_uvtls_unsent(c->tls);
  return c->q_bytes + uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

static void note_unsent(conn *c) {
  size_t n = conn_unsent(c);
  if (n > c->srv->st.peak_unsent) c->srv->st.peak_unsent = n;
}

static void on_delay(uv_timer_t *t) {
  delay_timer *d = t->data;
  conn *c = d->c;
  if (!c || !c->q_head) return;
  c->q_waiting = 0;
  c->q_head->delay_ms = 0;
  q_pump(c);
}

/* Starts the head's delay; returns 0 when no timer could be made (then it
 * goes out at once rather than never). */
static int q_wait(conn *c, unsigned ms) {
  if (!c->delay) {
    delay_timer *d = calloc(1, sizeof *d);
    if (!d) return 0;
    uv_timer_init(c->srv->loop, &d->timer);
    d->timer.data = d;
    d->c = c;
    c->delay = d;
  }
  uv_timer_start(&c->delay->timer, on_delay, ms, 0);
  c->q_waiting = 1;
  return 1;
}

/* Writes queued responses in order until one must wait or ends the connection. */
static void q_pump(conn *c) {
  while (c->q_head && !c->q_waiting && !c->closing) {
    outq *o = c->q_head;
    if (o->later) return; /* not answered yet: everything behind it waits */
    if (o->delay_ms && q_wait(c, o->delay_ms)) return;
    c->q_head = o->next;
    if (!c->q_head) c->q_tail = NULL;
    c->q_bytes -= o->len;
    c->q_len--;
    if (o->data) conn_write_owned(c, o->data, o->len);
    int then = o->then;
    free(o);
    if (then == THEN_ABORT) conn_close(c);
    if (then == THEN_CLOSE) conn_close_after_writes(c);
  }
}

/* Renders `r` into o (now, so the caller's buffers are free to go). */
static void fill_entry(conn *c, outq *o, const acmeh_httpsrv_resp *r, int keep_alive, int head) {
  if (r->drop != ACMEH_HTTPSRV_DROP_BEFORE_HEADERS)
    o->data = render_response(r, keep_alive, head, r->drop == ACMEH_HTTPSRV_DROP_AFTER_HEADERS, &o->len);
  c->q_bytes += o->len;
  o->delay_ms = r->delay_ms;
  o->then = r->drop == ACMEH_HTTPSRV_DROP_BEFORE_HEADERS ? THEN_ABORT
            : r->drop || !keep_alive                       ? THEN_CLOSE
                                                           : THEN_KEEP;
  if (o->then != THEN_KEEP) c->no_more_input = 1;
}

static void enqueue(conn *c, outq *o) {
  c->q_len++;
  if (c->q_tail) c->q_tail->next = o;
  else c->q_head = o;
  c->q_tail = o;
}

/* Queues `r` (rendered now, so the handler's buffers are free to go). */
static void send_response(conn *c, const acmeh_httpsrv_resp *r, int keep_alive, int head) {
  outq *o = calloc(1, sizeof *o);
  if (!o) {
    conn_close(c);
    return;
  }
  fill_entry(c, o, r, keep_alive, head);
  enqueue(c, o);
  q_pump(c);
}

/* Keeps the deferred answer's place in the queue; a request that ends the
 * connection stops the parsing now, as an immediate answer would. */
static void queue_later(conn *c, acmeh_httpsrv_later *l, int keep_alive, int head) {
  outq *o = calloc(1, sizeof *o);
  if (!o) {
    conn_close(c); /* l stays detached: finishing it only frees it */
    return;
  }
  o->later = l;
  l->o = o, l->c = c, l->keep_alive = keep_alive, l->head = head;
  if (!keep_alive) c->no_more_input = 1;
  enqueue(c, o);
}

acmeh_httpsrv_later *acmeh_httpsrv_defer(acmeh_httpsrv *s) {
  if (!s || !s->in_handler || s->deferring) return NULL;
  s->deferring = calloc(1, sizeof *s->deferring);
  return s->deferring;
}

void acmeh_httpsrv_finish(acmeh_httpsrv_later *l, const acmeh_httpsrv_resp *resp) {
  if (!l) return;
  outq *o = l->o;
  conn *c = l->c;
  int keep_alive = l->keep_alive, head = l->head;
  free(l);
  if (!o) return;
  o->later = NULL;
  fill_entry(c, o, resp, keep_alive, head);
  q_pump(c);
}

static void reply_error(conn *c, int status) {
  acmeh_httpsrv_resp r = {status, "text/plain", NULL, 0, NULL, 0, ACMEH_HTTPSRV_SEND};
  if (c->srv->opts.on_error) c->srv->opts.on_error(status, &r, c->srv->ud);
  r.drop = ACMEH_HTTPSRV_SEND; /* a refusal always goes out whole, then the connection ends */
  send_response(c, &r, 0, 0);
  free(r.body);
  free(r.headers);
}

static conn *conn_of(http_parser *p) { return p->data; }

/* Over the caps, reading stops (the kernel's buffers, then the peer's own
 * writes, fill up) and so does parsing, what is left of the input waiting in
 * the stash; conn_resume carries on once the peer has read. */
static int conn_over(const conn *c) { return conn_unsent(c) > MAX_UNSENT || c->q_len >= MAX_QUEUED; }

/* Half the caps, so that a slow reader does not toggle reading for every answer. */
static int conn_drained(const conn *c) {
  return conn_unsent(c) <= MAX_UNSENT / 2 && c->q_len <= MAX_QUEUED / 2;
}

static void conn_pause(conn *c) {
  c->paused = 1;
  c->srv->st.pauses++;
  http_parser_pause(&c->rp.parser, 1);
  if (c->tls)
    acmeh_uvtls_pause(c->tls);
  else
    uv_read_stop((uv_stream_t *)&c->tcp);
}

static reqparse *rp_of(http_parser *p) { return (reqparse *)((char *)p - offsetof(reqparse, parser)); }

static void rp_begin(reqparse *c) {
  buf_reset(&c->url);
  buf_reset(&c->host);
  buf_reset(&c->body);
  for (size_t i = 0; i < c->nheaders; i++) {
    buf_reset(&c->names[i]);
    buf_reset(&c->values[i]);
  }
  c->nheaders = 0;
  c->header_bytes = 0;
  c->last_was_value = 0;
  c->headers_dropped = 0;
}

static int on_message_begin(http_parser *p) {
  conn *c = conn_of(p);
  c->in_request = 1;
  c->request_start = uv_now(c->srv->loop);
  rp_begin(&c->rp);
  return 0;
}

static int fail(reqparse *c, int status) {
  c->fail_status = status;
  return -1;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  reqparse *c = rp_of(p);
  return buf_add(&c->url, at, n, MAX_URL) ? fail(c, 414) : 0;
}

static int count_header(reqparse *c, size_t n) {
  c->header_bytes += n;
  return c->header_bytes > MAX_HEADER_BYTES ? fail(c, 431) : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  reqparse *c = rp_of(p);
  if (count_header(c, n)) return -1;
  if (c->last_was_value || c->nheaders == 0) { /* a new header starts */
    c->last_was_value = 0;
    if (c->nheaders == MAX_HEADERS) return fail(c, 431);
    c->nheaders++;
  }
  return buf_add(&c->names[c->nheaders - 1], at, n, MAX_HEADER_BYTES) ? fail(c, 431) : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  reqparse *c = rp_of(p);
  if (count_header(c, n)) return -1;
  c->last_was_value = 1;
  if (c->nheaders == 0) return fail(c, 400);
  return buf_add(&c->values[c->nheaders - 1], at, n, MAX_HEADER_BYTES) ? fail(c, 431) : 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  reqparse *c = rp_of(p);
  return buf_add(&c->body, at, n, c->max_body) ? fail(c, 413) : 0;
}

/* Fills hdrs from the collected fields (values trimmed in place) and returns the Host value. */
static const char *collect_headers(reqparse *c, acmeh_httpsrv_header *hdrs) {
  const char *host = "";
  for (size_t i = 0; i < c->nheaders; i++) {
    buf *v = &c->values[i];
    while (v->len && (v->p[v->len - 1] == ' ' || v->p[v->len - 1] == '\t'))
      v->p[--v->len] = '\0';
    const char *val = buf_str(v);
    while (*val == ' ' || *val == '\t')
      val++;
    hdrs[i].name = buf_str(&c->names[i]);
    hdrs[i].value = val;
    if (!*host && strcasecmp(hdrs[i].name, "host") == 0) host = val;
  }
  return host;
}

/* The complete request as the handler sees it; hdrs holds MAX_HEADERS. */
static acmeh_httpsrv_req rp_request(reqparse *rp, acmeh_httpsrv_header *hdrs) {
  const char *host = collect_headers(rp, hdrs);
  return (acmeh_httpsrv_req){http_method_str((enum http_method)rp->parser.method),
                             buf_str(&rp->url),
                             host,
                             buf_str(&rp->body),
                             rp->body.len,
                             hdrs,
                             rp->nheaders};
}

static int on_message_complete(http_parser *p) {
  conn *c = conn_of(p);
  c->in_request = 0;
  if (c->closing || c->no_more_input) return -1;
  acmeh_httpsrv_header hdrs[MAX_HEADERS];
  acmeh_httpsrv_req req = rp_request(&c->rp, hdrs);
  acmeh_httpsrv_resp resp = {200, NULL, NULL, 0, NULL, 0, ACMEH_HTTPSRV_SEND};
  acmeh_httpsrv *s = c->srv;
  s->in_handler = 1;
  s->handler(&req, &resp, s->ud);
  s->in_handler = 0;
  acmeh_httpsrv_later *later = s->deferring;
  s->deferring = NULL;
  if (later) queue_later(c, later, http_should_keep_alive(p), p->method == HTTP_HEAD);
  else send_response(c, &resp, http_should_keep_alive(p), p->method == HTTP_HEAD);
  free(resp.body);
  free(resp.headers);
  note_unsent(c);
  if (c->no_more_input || c->closing) return -1; /* stop parsing anything pipelined behind it */
  if (conn_over(c)) conn_pause(c);
  return 0;
}

static const http_parser_settings settings = {.on_message_begin = on_message_begin,
                                              .on_url = on_url,
                                              .on_header_field = on_header_field,
                                              .on_header_value = on_header_value,
                                              .on_body = on_body,
                                              .on_message_complete = on_message_complete};

/* Whether the parser stopped short of len bytes, or on an error or upgrade
 * (never served), after taking `done`. */
static int rp_refused(const reqparse *rp, size_t done, size_t len) {
  return done != len || HTTP_PARSER_ERRNO(&rp->parser) != HPE_OK || rp->parser.upgrade;
}

/* Runs the parser over bytes that arrived (plain or decrypted). */
static void feed(conn *c, const char *data, size_t len) {
  if (c->closing || c->no_more_input) return;
  if (c->paused) { /* TLS: records decrypted in the same batch */
    if (buf_add(&c->stash, data, len, MAX_STASH)) conn_close(c);
    return;
  }
  /* The idle timer restarts with every byte, so a client trickling a request
   * would hold its connection for ever; the same limit bounds a request from
   * its first byte to its last. */
  unsigned limit = c->srv->opts.idle_ms ? c->srv->opts.idle_ms : IDLE_MS;
  if (c->in_request && uv_now(c->srv->loop) - c->request_start > limit) {
    reply_error(c, 408);
    return;
  }
  size_t done = http_parser_execute(&c->rp.parser, &settings, data, len);
  if (c->paused && !c->closing) {
    if (buf_add(&c->stash, data + done, len - done, MAX_STASH)) conn_close(c);
    return;
  }
  if (!c->closing && !c->no_more_input &&
      rp_refused(&c->rp, done, len))
    reply_error(c, c->rp.fail_status ? c->rp.fail_status : 400);
}

/* acmeh_httpsrv_parse's state: the same reqparse and field callbacks as a
 * connection, with the request handed to `each` instead of a handler. */
typedef struct {
  reqparse rp;
  acmeh_httpsrv_each_fn each;
  void *ud;
  int ended; /* a request without keep-alive: the server reads nothing after it */
} bufparse;

static int buf_message_begin(http_parser *p) {
  rp_begin(rp_of(p));
  return 0;
}

static int buf_message_complete(http_parser *p) {
  bufparse *b = p->data;
  acmeh_httpsrv_header hdrs[MAX_HEADERS];
  acmeh_httpsrv_req req = rp_request(&b->rp, hdrs);
  b->each(&req, b->ud);
  b->ended = !http_should_keep_alive(p);
  return b->ended ? -1 : 0;
}

static const http_parser_settings buf_settings = {.on_message_begin = buf_message_begin,
                                                  .on_url = on_url,
                                                  .on_header_field = on_header_field,
                                                  .on_header_value = on_header_value,
                                                  .on_body = on_body,
                                                  .on_message_complete = buf_message_complete};

int acmeh_httpsrv_parse(const char *data, size_t len, size_t max_body, acmeh_httpsrv_each_fn each, void *ud) {
  bufparse *b = calloc(1, sizeof *b);
  if (!b) return 500;
  http_parser_init(&b->rp.parser, HTTP_REQUEST);
  b->rp.parser.data = b;
  b->rp.max_body = max_body;
  b->each = each;
  b->ud = ud;
  size_t done = len ? http_parser_execute(&b->rp.parser, &buf_settings, data, len) : 0;
  int status = !b->ended && rp_refused(&b->rp, done, len) ? (b->rp.fail_status ? b->rp.fail_status : 400) : 0;
  rp_free(&b->rp);
  free(b);
  return status;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h;
  b->base = malloc(suggested);
  b->len = b->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b) {
  conn *c = stream->data;
  if (nread > 0 && !c->closing) {
    uv_timer_again(&c->idle);
    feed(c, b->base, (size_t)nread);
  } else if (nread < 0) {
    conn_close(c);
  }
  free(b->base);
}

static void on_idle(uv_timer_t *t) { conn_close(t->data); }

/* Once the peer has read enough of its answers: parses what waited (which
 * may pause again), then reads again. Runs from write callbacks only, never
 * inside a handler. */
static void conn_resume(conn *c) {
  if (!c->paused || c->closing || !conn_drained(c)) return;
  c->paused = 0;
  http_parser_pause(&c->rp.parser, 0);
  buf in = c->stash;
  c->stash = (buf){0};
  if (in.len) feed(c, in.p, in.len); /* never 0 bytes: the parser takes that for EOF */
  free(in.p);
  if (c->paused || c->closing) return;
  if (c->tls)
    acmeh_uvtls_resume(c->tls);
  else
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void on_tls_data(acmeh_uvtls *t, const char *data, size_t len) {
  feed(acmeh_uvtls_data(t), data, len);
}

static void on_tls_drain(acmeh_uvtls *t) { conn_resume(acmeh_uvtls_data(t)); }

static void on_tls_close(acmeh_uvtls *t) {
  conn *c = acmeh_uvtls_data(t);
  conn_unlink(c);
  conn_free(c);
}

static conn *conn_new(acmeh_httpsrv *s) {
  conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->srv = s;
  http_parser_init(&c->rp.parser, HTTP_REQUEST);
  c->rp.parser.data = c;
  c->rp.max_body = s->opts.max_body;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  c->linked = 1;
  return c;
}

/* Over the cap a connection is closed to make room, so that peers holding
 * connections cannot lock new clients out: the one that has waited longest
 * with nothing under way (no request started, no answer queued: a silent
 * peer, one mid-handshake, an idle keep-alive one), else the one whose
 * request started longest ago and has still not arrived whole (a slowloris
 * peer trickling bytes within the idle limit). Connections with answers
 * queued are left alone. Returns 0 when every other connection is busy. */
static int make_room(acmeh_httpsrv *s, const conn *fresh) {
  if (s->nconns <= (int)(s->opts.max_conns ? s->opts.max_conns : MAX_CONNS)) return 1;
  conn *oldest = s->conns; /* the list is newest first */
  while (oldest && oldest->next) oldest = oldest->next;
  conn *slowest = NULL;
  for (conn *c = oldest; c; c = c->prev) {
    if (c == fresh || c->closing || c->q_head) continue;
    if (!c->in_request) {
      slowest = c;
      break;
    }
    if (!slowest || c->request_start < slowest->request_start) slowest = c;
  }
  if (!slowest) return 0;
  s->st.evictions++;
  conn_close(slowest);
  return 1;
}

static void accept_tls(acmeh_httpsrv *s, uv_stream_t *server) {
  conn *c = conn_new(s);
  if (!c) return;
  /* With no room the handshake is still accepted, then dropped at once, so
   * the backlog does not fill. */
  if (acmeh_uvtls_accept(server, s->opts.tls, &s->tls_cbs, c, &c->tls) != ACMEH_OK) {
    conn_unlink(c);
    conn_free(c);
    return;
  }
  if (!make_room(s, c)) conn_close(c);
}

static void accept_plain(acmeh_httpsrv *s, uv_stream_t *server) {
  conn *c = conn_new(s);
  if (!c) return;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->idle);
  c->tcp.data = c->idle.data = c;
  c->handles_open = 2;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || !make_room(s, c)) {
    conn_close(c); /* no room: accept and drop, so the backlog does not fill */
    return;
  }
  unsigned idle = s->opts.idle_ms ? s->opts.idle_ms : IDLE_MS;
  uv_timer_start(&c->idle, on_idle, idle, idle);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void on_connection(uv_stream_t *server, int status) {
  acmeh_httpsrv *s = server->data;
  if (status < 0 || s->closed) return;
  if (s->opts.tls)
    accept_tls(s, server);
  else
    accept_plain(s, server);
}

static void free_on_close(uv_handle_t *h) { free(h->data); }

int acmeh_httpsrv_start_opts(uv_loop_t *loop, const char *addr, int port,
                             const acmeh_httpsrv_opts *o, acmeh_httpsrv_handler handler, void *ud,
                             acmeh_httpsrv **out, char *err, size_t errlen) {
  if (!loop || !handler || !out || !o)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "httpsrv: bad args");
  acmeh_httpsrv *s = calloc(1, sizeof *s);
  if (!s) return acmeh_msg(err, errlen, ACMEH_NOMEM, "httpsrv: out of memory");
  s->loop = loop;
  s->handler = handler;
  s->ud = ud;
  s->opts = *o;
  s->tls_cbs = (acmeh_uvtls_cbs){.on_data = on_tls_data, .on_close = on_tls_close, .on_drain = on_tls_drain,
                                 .idle_ms = o->idle_ms ? o->idle_ms : IDLE_MS};
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  int rc = acmeh_uv_tcp_listen(&s->listener, addr, port, on_connection, o->tls ? "https" : "http",
                               err, errlen);
  if (rc != ACMEH_OK) {
    uv_close((uv_handle_t *)&s->listener, free_on_close); /* freed once the loop runs */
    return rc;
  }
  s->port = acmeh_uv_tcp_port(&s->listener);
  *out = s;
  return ACMEH_OK;
}

int acmeh_httpsrv_start(uv_loop_t *loop, const char *addr, int port, size_t max_body,
                        acmeh_httpsrv_handler handler, void *ud, acmeh_httpsrv **out, char *err,
                        size_t errlen) {
  acmeh_httpsrv_opts o = {.max_body = max_body};
  return acmeh_httpsrv_start_opts(loop, addr, port, &o, handler, ud, out, err, errlen);
}

const char *acmeh_httpsrv_req_header(const acmeh_httpsrv_req *req, const char *name) {
  for (size_t i = 0; req && i < req->nheaders; i++)
    if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
  return NULL;
}

void acmeh_httpsrv_get_stats(const acmeh_httpsrv *s, acmeh_httpsrv_stats *out) {
  if (s && out) *out = s->st;
}

int acmeh_httpsrv_port(const acmeh_httpsrv *s) { return s ? s->port : -1; }

void acmeh_httpsrv_close(acmeh_httpsrv *s) {
  if (!s || s->closed) return;
  s->closed = 1;
  uv_close((uv_handle_t *)&s->listener, NULL);
  while (s->conns)
    conn_close(s->conns);
}

void acmeh_httpsrv_free(acmeh_httpsrv *s) { free(s); }
