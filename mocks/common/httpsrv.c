#include "mocks/common/httpsrv.h"

#include "harness/core/error.h"
#include "mocks/common/uvutil.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Caps keep a misbehaving peer from making the mock allocate without bound. */
#define MAX_URL 8192
#define MAX_HEADER_BYTES 16384
#define MAX_HOST 1024
#define MAX_FIELD 64
#define MAX_CONNS 256
#define IDLE_MS 30000 /* a validator that opens a connection and stalls must not pin it forever */

typedef struct {
  char *p;
  size_t len, cap;
} buf;

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  int handles_open; /* tcp + timer; freed when both close callbacks ran */
  int closing;
  acmeh_httpsrv *srv;
  struct conn *prev, *next;
  http_parser parser;
  buf url, host, body, field;
  int field_overflow, last_was_value;
  size_t header_bytes;
  int fail_status; /* set by a callback that rejects the request */
} conn;

struct acmeh_httpsrv {
  uv_tcp_t listener;
  uv_loop_t *loop;
  acmeh_httpsrv_handler handler;
  void *ud;
  size_t max_body;
  int port;
  int closed;
  conn *conns;
  int nconns;
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

static void conn_handle_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->handles_open > 0) return;
  free(c->url.p);
  free(c->host.p);
  free(c->body.p);
  free(c->field.p);
  free(c);
}

/* Closes both handles now; pending writes are cancelled. */
static void conn_close(conn *c) {
  if (c->closing == 2) return;
  c->closing = 2;
  acmeh_httpsrv *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
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
 * pending writes), so a "Connection: close" reply is not cut off. */
static void conn_close_after_writes(conn *c) {
  if (c->closing) return;
  c->closing = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req) {
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_done) == 0) return;
    free(req);
  }
  conn_close(c);
}

static void write_response(conn *c, const acmeh_httpsrv_resp *r, int keep_alive) {
  int status = r->status ? r->status : 200;
  const char *reason = http_status_str((enum http_status)status);
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                   "Connection: %s\r\n\r\n",
                   status, reason, r->content_type ? r->content_type : "text/plain", r->body_len,
                   keep_alive ? "keep-alive" : "close");
  char *out = malloc((size_t)n + r->body_len);
  if (!out) return;
  memcpy(out, head, (size_t)n);
  if (r->body_len) memcpy(out + n, r->body, r->body_len);
  acmeh_uv_write_owned((uv_stream_t *)&c->tcp, out, (size_t)n + r->body_len);
}

static void reply_error(conn *c, int status) {
  acmeh_httpsrv_resp r = {status, "text/plain", NULL, 0};
  write_response(c, &r, 0);
  conn_close_after_writes(c);
}

static conn *conn_of(http_parser *p) { return p->data; }

static int on_message_begin(http_parser *p) {
  conn *c = conn_of(p);
  buf_reset(&c->url);
  buf_reset(&c->host);
  buf_reset(&c->body);
  buf_reset(&c->field);
  c->header_bytes = 0;
  c->last_was_value = 0;
  c->field_overflow = 0;
  return 0;
}

static int fail(conn *c, int status) {
  c->fail_status = status;
  return -1;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  return buf_add(&c->url, at, n, MAX_URL) ? fail(c, 414) : 0;
}

static int count_header(conn *c, size_t n) {
  c->header_bytes += n;
  return c->header_bytes > MAX_HEADER_BYTES ? fail(c, 431) : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  if (c->last_was_value) { /* a new header starts */
    buf_reset(&c->field);
    c->field_overflow = 0;
    c->last_was_value = 0;
  }
  if (buf_add(&c->field, at, n, MAX_FIELD)) c->field_overflow = 1; /* too long to be "Host" */
  return count_header(c, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  c->last_was_value = 1;
  if (!c->field_overflow && strcasecmp(buf_str(&c->field), "host") == 0 &&
      buf_add(&c->host, at, n, MAX_HOST))
    return fail(c, 400);
  return count_header(c, n);
}

static int on_body(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  return buf_add(&c->body, at, n, c->srv->max_body) ? fail(c, 413) : 0;
}

static int on_message_complete(http_parser *p) {
  conn *c = conn_of(p);
  if (c->closing) return -1;
  acmeh_httpsrv_req req = {http_method_str((enum http_method)p->method), buf_str(&c->url),
                           buf_str(&c->host), buf_str(&c->body), c->body.len};
  acmeh_httpsrv_resp resp = {200, NULL, NULL, 0};
  c->srv->handler(&req, &resp, c->srv->ud);
  int keep_alive = http_should_keep_alive(p);
  write_response(c, &resp, keep_alive);
  free(resp.body);
  if (!keep_alive) {
    conn_close_after_writes(c);
    return -1; /* stop parsing anything pipelined behind it */
  }
  return 0;
}

static const http_parser_settings settings = {.on_message_begin = on_message_begin,
                                              .on_url = on_url,
                                              .on_header_field = on_header_field,
                                              .on_header_value = on_header_value,
                                              .on_body = on_body,
                                              .on_message_complete = on_message_complete};

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h;
  b->base = malloc(suggested);
  b->len = b->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b) {
  conn *c = stream->data;
  if (nread > 0 && !c->closing) {
    uv_timer_again(&c->idle);
    size_t done = http_parser_execute(&c->parser, &settings, b->base, (size_t)nread);
    if (!c->closing &&
        (done != (size_t)nread || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || c->parser.upgrade))
      reply_error(c, c->fail_status ? c->fail_status : 400);
  } else if (nread < 0) {
    conn_close(c);
  }
  free(b->base);
}

static void on_idle(uv_timer_t *t) { conn_close(t->data); }

static void on_connection(uv_stream_t *server, int status) {
  acmeh_httpsrv *s = server->data;
  if (status < 0 || s->closed) return;
  conn *c = calloc(1, sizeof *c);
  if (!c) return;
  c->srv = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->idle);
  c->tcp.data = c->idle.data = c;
  c->handles_open = 2;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || s->nconns > MAX_CONNS) {
    conn_close(c); /* over the cap: accept and drop, so the backlog does not fill */
    return;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_timer_start(&c->idle, on_idle, IDLE_MS, IDLE_MS);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void free_on_close(uv_handle_t *h) { free(h->data); }

int acmeh_httpsrv_start(uv_loop_t *loop, const char *addr, int port, size_t max_body,
                        acmeh_httpsrv_handler handler, void *ud, acmeh_httpsrv **out, char *err,
                        size_t errlen) {
  if (!loop || !handler || !out)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "httpsrv: bad args");
  acmeh_httpsrv *s = calloc(1, sizeof *s);
  if (!s) return acmeh_msg(err, errlen, ACMEH_NOMEM, "httpsrv: out of memory");
  s->loop = loop;
  s->handler = handler;
  s->ud = ud;
  s->max_body = max_body;
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  int rc = acmeh_uv_tcp_listen(&s->listener, addr, port, on_connection, "http", err, errlen);
  if (rc != ACMEH_OK) {
    uv_close((uv_handle_t *)&s->listener, free_on_close); /* freed once the loop runs */
    return rc;
  }
  s->port = acmeh_uv_tcp_port(&s->listener);
  *out = s;
  return ACMEH_OK;
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
