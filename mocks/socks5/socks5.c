/* The mock Tor SOCKS5 proxy (socks5.h). One connection walks: greeting ->
 * method reply -> request -> (fault, mapping) -> upstream connect -> reply
 * -> relay both ways. A timer bounds the handshake and then each idle spell;
 * the input buffer never grows past one request. */
#include "mocks/socks5/socks5.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "base/error.h"
#include "base/uvutil.h"

#define MAX_MAPS 256
#define MAX_HISTORY 1000
#define MAX_PENDING 64 /* relayed reads (<= 16 KiB each) waiting to be written before the connection is cut */

/* ---- parser ---------------------------------------------------------------- */

int acmeh_socks5_parse_greeting(const unsigned char *b, size_t n, int *no_auth, const char **why) {
  if (n < 2) return 0;
  if (b[0] != 5) return *why = "not SOCKS version 5", -1;
  if (b[1] == 0) return *why = "a greeting offering no method", -1;
  if (n < 2 + (size_t)b[1]) return 0;
  *no_auth = 0;
  for (size_t i = 0; i < b[1]; i++) *no_auth |= b[2 + i] == 0;
  return 2 + b[1];
}

int acmeh_socks5_parse_request(const unsigned char *b, size_t n, acmeh_socks5_request *req, const char **why) {
  if (n < 5) return 0;
  if (b[0] != 5) return *why = "request not of SOCKS version 5", -1;
  if (b[2] != 0) return *why = "reserved byte not 0", -1;
  memset(req, 0, sizeof *req);
  req->cmd = b[1], req->atyp = b[3];
  size_t alen;
  if (b[3] == 1) alen = 4;
  else if (b[3] == 4) alen = 16;
  else if (b[3] == 3) alen = 1 + (size_t)b[4];
  else return *why = "unknown address type", -1;
  if (b[3] == 3 && b[4] == 0) return *why = "an empty domain name", -1;
  if (n < 4 + alen + 2) return 0;
  if (b[3] == 3) {
    if (memchr(b + 5, 0, b[4])) return *why = "a domain name with a NUL byte", -1;
    memcpy(req->host, b + 5, b[4]);
  } else {
    uv_inet_ntop(b[3] == 1 ? AF_INET : AF_INET6, b + 4, req->host, sizeof req->host);
  }
  req->port = (b[4 + alen] << 8) | b[5 + alen];
  return (int)(4 + alen + 2);
}

/* ---- state ------------------------------------------------------------------ */

typedef struct {
  char name[256];
  char ip[64];
  int port;
  acmeh_socks5_fault fault;
  char fault_ip[64];
  int fault_port;
} mapping;

typedef struct conn conn;

struct acmeh_socks5 {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t stop;
  pthread_t thread;
  pthread_mutex_t mu; /* guards maps, all_fault and history */
  mapping maps[MAX_MAPS];
  size_t nmaps;
  mapping all_fault; /* fault for every name (name "") */
  json_t *history;
  acmeh_socks5_config cfg;
  char default_ip[64];
  int port;
  conn *conns;
};

enum { ST_GREETING, ST_REQUEST, ST_CONNECTING, ST_RELAY, ST_CLOSING };

struct conn {
  acmeh_socks5 *p;
  conn *next, *prev;
  uv_tcp_t cli, up;
  uv_timer_t timer;
  uv_connect_t creq;
  int up_open, state, handles;
  unsigned char buf[ACMEH_SOCKS5_MAX_REQUEST + 8];
  size_t len;
  size_t pending; /* relayed writes not yet done, both sides */
  json_t *entry;  /* its history entry (borrowed from p->history) */
  char ip[64];
  int port;
};

static void conn_close(conn *c);
static int loopback(const char *ip);

static void on_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->handles > 0) return;
  free(c);
}

static void conn_close(conn *c) {
  if (c->state == ST_CLOSING) return;
  c->state = ST_CLOSING;
  if (c->prev) c->prev->next = c->next;
  else c->p->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  c->handles = 2 + c->up_open;
  uv_close((uv_handle_t *)&c->cli, on_closed);
  uv_close((uv_handle_t *)&c->timer, on_closed);
  if (c->up_open) uv_close((uv_handle_t *)&c->up, on_closed);
}

static void on_timeout(uv_timer_t *t) { conn_close(t->data); }

static void arm(conn *c, unsigned ms) { uv_timer_start(&c->timer, on_timeout, ms, 0); }

/* Records reply/error into the connection's history entry. */
static void note(conn *c, int reply, const char *error) {
  pthread_mutex_lock(&c->p->mu);
  if (c->entry) {
    json_object_set_new(c->entry, "reply", json_integer(reply));
    if (error) json_object_set_new(c->entry, "error", json_string(error));
  }
  pthread_mutex_unlock(&c->p->mu);
}

static void new_entry(conn *c, const acmeh_socks5_request *r, const char *error) {
  pthread_mutex_lock(&c->p->mu);
  if (json_array_size(c->p->history) >= MAX_HISTORY) json_array_remove(c->p->history, 0);
  json_t *e = json_pack("{s:s,s:i,s:i,s:i}", "host", r ? r->host : "", "port", r ? r->port : 0, "atyp", r ? r->atyp : 0, "reply", -1);
  if (e && error) json_object_set_new(e, "error", json_string(error));
  if (e && json_array_append_new(c->p->history, e) == 0) c->entry = e;
  pthread_mutex_unlock(&c->p->mu);
}

static void reply_and_close_cb(uv_stream_t *s, int status) {
  (void)status;
  conn_close(s->data);
}

/* Sends a reply with code rep (and a zero IPv4 bound address); closes after it unless ok. */
static void send_reply(conn *c, int rep) {
  unsigned char r[10] = {5, (unsigned char)rep, 0, 1, 0, 0, 0, 0, 0, 0};
  note(c, rep, NULL);
  void *b = malloc(sizeof r);
  if (!b) return conn_close(c);
  memcpy(b, r, sizeof r);
  if (acmeh_uv_write_owned_cb((uv_stream_t *)&c->cli, b, sizeof r, rep ? reply_and_close_cb : NULL) != 0) conn_close(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  buf->base = malloc(16384);
  buf->len = buf->base ? 16384 : 0;
}

/* ---- relay -------------------------------------------------------------------- */

static void written(uv_stream_t *s, int status) {
  conn *c = s->data;
  (void)status;
  if (c->pending) c->pending--;
}

static void relay(conn *c, uv_stream_t *to, char *base, ssize_t n) {
  if (c->pending > MAX_PENDING) return free(base), conn_close(c);
  c->pending++;
  if (acmeh_uv_write_owned_cb(to, base, (size_t)n, written) != 0) conn_close(c);
  arm(c, c->p->cfg.idle_ms);
}

static void on_up_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;
  if (n > 0 && c->state == ST_RELAY) return relay(c, (uv_stream_t *)&c->cli, buf->base, n);
  free(buf->base);
  if (n < 0) conn_close(c);
}

static void on_connected(uv_connect_t *req, int status) {
  conn *c = req->data;
  if (c->state == ST_CLOSING) return;
  if (status < 0) return send_reply(c, 5); /* connection refused: the service is not running */
  c->state = ST_RELAY;
  send_reply(c, 0);
  uv_read_start((uv_stream_t *)&c->up, alloc_cb, on_up_read);
  arm(c, c->p->cfg.idle_ms);
}

static void start_connect(conn *c) {
  struct sockaddr_storage ss;
  if (acmeh_uv_addr(c->ip, c->port, &ss) != ACMEH_OK) return send_reply(c, 1);
  uv_tcp_init(&c->p->loop, &c->up);
  c->up.data = c, c->up_open = 1, c->creq.data = c;
  if (uv_tcp_connect(&c->creq, &c->up, (const struct sockaddr *)&ss, on_connected) != 0) send_reply(c, 1);
}

static void slow_done(uv_timer_t *t) {
  conn *c = t->data;
  arm(c, c->p->cfg.handshake_ms + c->p->cfg.slow_ms);
  start_connect(c);
}

/* ---- handshake ----------------------------------------------------------------- */

static const mapping *find_map(const acmeh_socks5 *p, const char *host) {
  for (size_t i = 0; i < p->nmaps; i++)
    if (strcasecmp(p->maps[i].name, host) == 0) return &p->maps[i];
  return NULL;
}

static int is_onion(const char *h) {
  size_t n = strlen(h);
  return n > 6 && strcasecmp(h + n - 6, ".onion") == 0;
}

/* The request is whole: decide what Tor would do. */
static void on_request(conn *c, const acmeh_socks5_request *r) {
  acmeh_socks5 *p = c->p;
  const char *refusal = r->cmd != 1 ? "only CONNECT is supported" : r->atyp != 3 ? "an address, not a name: Tor is for .onion names here (RFC 9799 §8.4)"
                        : !is_onion(r->host) ? "not a .onion name (RFC 9799 §8.4: a CA MUST NOT use Tor for it)" : NULL;
  new_entry(c, r, refusal);
  if (refusal) return send_reply(c, r->cmd != 1 ? 7 : 2);
  pthread_mutex_lock(&p->mu);
  const mapping *m = find_map(p, r->host);
  mapping use = m ? *m : (mapping){0};
  if (p->all_fault.fault && !use.fault) use.fault = p->all_fault.fault, memcpy(use.fault_ip, p->all_fault.fault_ip, sizeof use.fault_ip),
                                         use.fault_port = p->all_fault.fault_port;
  pthread_mutex_unlock(&p->mu);
  if (!m && p->default_ip[0]) snprintf(use.ip, sizeof use.ip, "%s", p->default_ip), m = &use; /* the run's default service host */
  if (!m || use.fault == ACMEH_SOCKS5_UNREACHABLE) {
    note(c, 4, m ? "fault: unreachable" : "no such onion service registered");
    return send_reply(c, 4);
  }
  if (use.fault == ACMEH_SOCKS5_BAD_REPLY) {
    static const unsigned char bad[] = {4, 0x5a, 0, 0}; /* a SOCKS4 answer, cut short */
    note(c, -2, "fault: bad reply");
    void *b = malloc(sizeof bad);
    if (b) memcpy(b, bad, sizeof bad);
    if (!b || acmeh_uv_write_owned_cb((uv_stream_t *)&c->cli, b, sizeof bad, reply_and_close_cb) != 0) conn_close(c);
    return;
  }
  int wrong = use.fault == ACMEH_SOCKS5_WRONG_SERVICE;
  snprintf(c->ip, sizeof c->ip, "%s", wrong ? use.fault_ip : use.ip);
  c->port = wrong ? use.fault_port : use.port ? use.port : r->port;
  c->state = ST_CONNECTING;
  if (use.fault == ACMEH_SOCKS5_SLOW) {
    uv_timer_start(&c->timer, slow_done, p->cfg.slow_ms, 0);
    return;
  }
  start_connect(c);
}

/* Consumes what the handshake has so far. */
static void handshake(conn *c) {
  const char *why = NULL;
  if (c->state == ST_GREETING) {
    int no_auth = 0, n = acmeh_socks5_parse_greeting(c->buf, c->len, &no_auth, &why);
    if (n == 0) return;
    if (n < 0 || !no_auth) {
      new_entry(c, NULL, n < 0 ? why : "no acceptable method (only 0, no authentication)");
      unsigned char *none = n > 0 ? malloc(2) : NULL; /* RFC 1928 §3: X'FF', then close */
      if (none) none[0] = 5, none[1] = 0xff;
      if (!none || acmeh_uv_write_owned_cb((uv_stream_t *)&c->cli, none, 2, reply_and_close_cb) != 0) conn_close(c);
      return;
    }
    memmove(c->buf, c->buf + n, c->len - (size_t)n), c->len -= (size_t)n;
    c->state = ST_REQUEST;
    static const unsigned char ok[] = {5, 0};
    if (acmeh_uv_write_copy((uv_stream_t *)&c->cli, ok, 2) != 0) return conn_close(c);
  }
  if (c->state != ST_REQUEST) return;
  acmeh_socks5_request r;
  int n = acmeh_socks5_parse_request(c->buf, c->len, &r, &why);
  if (n == 0) return;
  if (n < 0) {
    new_entry(c, NULL, why);
    return send_reply(c, 1);
  }
  c->len = 0; /* data sent before the reply would be the client's mistake: dropped */
  on_request(c, &r);
}

static void on_cli_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;
  if (n < 0 || c->state == ST_CLOSING) return free(buf->base), n < 0 ? conn_close(c) : (void)0;
  if (c->state == ST_RELAY && n > 0) return relay(c, (uv_stream_t *)&c->up, buf->base, n);
  if (n > 0 && (c->state == ST_GREETING || c->state == ST_REQUEST)) {
    if (c->len + (size_t)n > sizeof c->buf) { /* more than any greeting plus request */
      free(buf->base);
      new_entry(c, NULL, "more bytes than a SOCKS5 greeting and request");
      return conn_close(c);
    }
    memcpy(c->buf + c->len, buf->base, (size_t)n), c->len += (size_t)n;
    free(buf->base);
    return handshake(c);
  }
  free(buf->base); /* bytes while connecting: dropped */
}

static void on_accept(uv_stream_t *server, int status) {
  acmeh_socks5 *p = server->data;
  conn *c = status < 0 ? NULL : calloc(1, sizeof *c);
  if (!c) return;
  c->p = p;
  uv_tcp_init(&p->loop, &c->cli);
  uv_timer_init(&p->loop, &c->timer);
  c->cli.data = c->timer.data = c;
  c->next = p->conns;
  if (p->conns) p->conns->prev = c;
  p->conns = c;
  if (uv_accept(server, (uv_stream_t *)&c->cli) != 0) return conn_close(c);
  arm(c, p->cfg.handshake_ms);
  uv_read_start((uv_stream_t *)&c->cli, alloc_cb, on_cli_read);
}

/* ---- lifecycle -------------------------------------------------------------------- */

static void on_stop(uv_async_t *a) {
  acmeh_socks5 *p = a->data;
  while (p->conns) conn_close(p->conns);
  uv_close((uv_handle_t *)&p->listener, NULL);
  uv_close((uv_handle_t *)&p->stop, NULL);
}

static void *run(void *arg) {
  acmeh_socks5 *p = arg;
  sigset_t set; /* a client that hung up must give EPIPE, not kill the process */
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  uv_run(&p->loop, UV_RUN_DEFAULT);
  return NULL;
}

int acmeh_socks5_start(const acmeh_socks5_config *cfg, acmeh_socks5 **out, char *err, size_t errlen) {
  acmeh_socks5 *p = calloc(1, sizeof *p);
  if (!p) return acmeh_msg(err, errlen, ACMEH_NOMEM, "socks5: out of memory");
  p->cfg = cfg ? *cfg : (acmeh_socks5_config){0};
  if (!p->cfg.handshake_ms) p->cfg.handshake_ms = 5000;
  if (!p->cfg.idle_ms) p->cfg.idle_ms = 30000;
  if (!p->cfg.slow_ms) p->cfg.slow_ms = 3000;
  if (p->cfg.default_ip && (strlen(p->cfg.default_ip) >= sizeof p->default_ip || !loopback(p->cfg.default_ip))) {
    free(p);
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "socks5: default_ip must be a loopback address");
  }
  snprintf(p->default_ip, sizeof p->default_ip, "%s", p->cfg.default_ip ? p->cfg.default_ip : "");
  p->cfg.default_ip = NULL;
  p->history = json_array();
  pthread_mutex_init(&p->mu, NULL);
  uv_loop_init(&p->loop);
  uv_tcp_init(&p->loop, &p->listener);
  uv_async_init(&p->loop, &p->stop, on_stop);
  p->listener.data = p->stop.data = p;
  int rc = acmeh_uv_tcp_listen(&p->listener, p->cfg.bind_addr ? p->cfg.bind_addr : "127.0.0.1", p->cfg.port, on_accept,
                               "socks5", err, errlen);
  p->port = rc ? -1 : acmeh_uv_tcp_port(&p->listener);
  if (rc == ACMEH_OK && pthread_create(&p->thread, NULL, run, p) != 0) rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "socks5: no thread");
  if (rc != ACMEH_OK) {
    uv_close((uv_handle_t *)&p->listener, NULL);
    uv_close((uv_handle_t *)&p->stop, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_loop_close(&p->loop);
    json_decref(p->history);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return rc;
  }
  *out = p;
  return ACMEH_OK;
}

void acmeh_socks5_stop(acmeh_socks5 *p) {
  if (!p) return;
  uv_async_send(&p->stop);
  pthread_join(p->thread, NULL);
  uv_loop_close(&p->loop);
  json_decref(p->history);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

int acmeh_socks5_port(const acmeh_socks5 *p) { return p ? p->port : -1; }

/* Services live on loopback only (127.0.0.0/8, ::1). */
static int loopback(const char *ip) {
  unsigned char a[16];
  static const unsigned char one[16] = {[15] = 1};
  if (uv_inet_pton(AF_INET, ip, a) == 0) return a[0] == 127;
  return uv_inet_pton(AF_INET6, ip, a) == 0 && memcmp(a, one, 16) == 0;
}

static int name_ok(const char *onion) { return onion && strlen(onion) < 256 && is_onion(onion); }

int acmeh_socks5_map(acmeh_socks5 *p, const char *onion, const char *ip, int port) {
  struct sockaddr_storage ss;
  if (!p || !name_ok(onion) || !ip || strlen(ip) >= 64 || !loopback(ip) || acmeh_uv_addr(ip, port, &ss) != ACMEH_OK || port < 0 ||
      port > 65535)
    return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&p->mu);
  mapping *m = (mapping *)find_map(p, onion);
  int rc = ACMEH_OK;
  if (!m && p->nmaps < MAX_MAPS) m = &p->maps[p->nmaps++], memset(m, 0, sizeof *m);
  if (m) snprintf(m->name, sizeof m->name, "%s", onion), snprintf(m->ip, sizeof m->ip, "%s", ip), m->port = port;
  else rc = ACMEH_NOMEM;
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int acmeh_socks5_unmap(acmeh_socks5 *p, const char *onion) {
  if (!p || !onion) return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&p->mu);
  mapping *m = (mapping *)find_map(p, onion);
  if (m) *m = p->maps[--p->nmaps];
  pthread_mutex_unlock(&p->mu);
  return m ? ACMEH_OK : ACMEH_INVALID_ARG;
}

int acmeh_socks5_set_fault(acmeh_socks5 *p, const char *onion, acmeh_socks5_fault f, const char *ip, int port) {
  if (!p || (onion && !name_ok(onion)) || (f == ACMEH_SOCKS5_WRONG_SERVICE && (!ip || strlen(ip) >= 64 || !loopback(ip))))
    return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&p->mu);
  mapping *m = onion ? (mapping *)find_map(p, onion) : &p->all_fault;
  if (m) {
    m->fault = f;
    snprintf(m->fault_ip, sizeof m->fault_ip, "%s", ip ? ip : "");
    m->fault_port = port;
  }
  pthread_mutex_unlock(&p->mu);
  return m ? ACMEH_OK : ACMEH_INVALID_ARG;
}

json_t *acmeh_socks5_history(acmeh_socks5 *p) {
  if (!p) return json_array();
  pthread_mutex_lock(&p->mu);
  json_t *h = json_deep_copy(p->history);
  pthread_mutex_unlock(&p->mu);
  return h ? h : json_array();
}
