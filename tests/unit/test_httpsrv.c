/* The HTTP server under the reference ACME server and the mocks, on its own
 * loop thread, against peers that misbehave on purpose: a pipelining client
 * that never reads its answers, connections that stall mid-request. */
#include "harness/acme/challenge.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/httpsrv.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BODY_LEN 4096           /* every answer's body: small requests, large answers */
#define UNSENT_CAP (1024 * 1024) /* httpsrv.c MAX_UNSENT */

/* ---------- a server on its own loop thread ---------- */

typedef struct {
  uv_loop_t loop;
  uv_async_t stop;
  acmeh_httpsrv *http;
  SSL_CTX *ctx;
  pthread_t th;
} srv;

static void answer(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud) {
  (void)req, (void)ud;
  resp->body = malloc(BODY_LEN);
  if (resp->body) memset(resp->body, 'x', BODY_LEN), resp->body_len = BODY_LEN;
}

static void on_stop(uv_async_t *a) {
  srv *s = a->data;
  acmeh_httpsrv_close(s->http);
  uv_close((uv_handle_t *)&s->stop, NULL);
}

static void *loop_thread(void *arg) {
  uv_run(&((srv *)arg)->loop, UV_RUN_DEFAULT);
  return NULL;
}

static SSL_CTX *server_ctx(void) {
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  if (acmeh_tlsalpn01_cert("httpsrv.example", "ka", &key, &cert) != ACMEH_OK) return NULL;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx && (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1))
    SSL_CTX_free(ctx), ctx = NULL;
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

/* Starts s (TLS when tls) with o's caps; returns the port or -1. */
static int srv_start(srv *s, int tls, acmeh_httpsrv_opts o) {
  memset(s, 0, sizeof *s);
  if (tls && !(s->ctx = server_ctx())) return -1;
  o.tls = s->ctx;
  uv_loop_init(&s->loop);
  uv_async_init(&s->loop, &s->stop, on_stop);
  s->stop.data = s;
  char err[256];
  if (acmeh_httpsrv_start_opts(&s->loop, "127.0.0.1", 0, &o, answer, s, &s->http, err, sizeof err) != ACMEH_OK)
    return fprintf(stderr, "httpsrv: %s\n", err), -1;
  pthread_create(&s->th, NULL, loop_thread, s);
  return acmeh_httpsrv_port(s->http);
}

/* Stops the loop and returns what the server counted. */
static acmeh_httpsrv_stats srv_stop(srv *s) {
  acmeh_httpsrv_stats st = {0};
  uv_async_send(&s->stop);
  pthread_join(s->th, NULL);
  acmeh_httpsrv_get_stats(s->http, &st);
  acmeh_httpsrv_free(s->http);
  CU_ASSERT_EQUAL(uv_loop_close(&s->loop), 0);
  SSL_CTX_free(s->ctx);
  return st;
}

/* ---------- a raw client, plain or TLS, with bounded waits ---------- */

typedef struct {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
} peer;

static void set_timeout(int fd, int opt, long ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

static int peer_open(peer *p, int port, int tls) {
  memset(p, 0, sizeof *p);
  p->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  set_timeout(p->fd, SO_SNDTIMEO, 300); /* a write that waits this long: the server stopped reading */
  set_timeout(p->fd, SO_RCVTIMEO, 3000);
  if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
  if (!tls) return 0;
  p->ctx = SSL_CTX_new(TLS_client_method());
  p->ssl = p->ctx ? SSL_new(p->ctx) : NULL;
  if (!p->ssl || SSL_set_fd(p->ssl, p->fd) != 1 || SSL_connect(p->ssl) != 1) return -1;
  return 0;
}

static void peer_close(peer *p) {
  SSL_free(p->ssl);
  SSL_CTX_free(p->ctx);
  if (p->fd >= 0) close(p->fd);
}

/* Writes all of buf; -1 when a write failed or timed out. */
static int peer_write(peer *p, const char *buf, size_t len) {
  while (len) {
    long n = p->ssl ? SSL_write(p->ssl, buf, (int)len) : write(p->fd, buf, len);
    if (n <= 0) return -1;
    buf += n, len -= (size_t)n;
  }
  return 0;
}

static int peer_write_str(peer *p, const char *s) { return peer_write(p, s, strlen(s)); }

static long peer_read(peer *p, char *buf, size_t len) {
  return p->ssl ? SSL_read(p->ssl, buf, (int)len) : read(p->fd, buf, len);
}

static const char GET[] = "GET /dir HTTP/1.1\r\nHost: x\r\n\r\n";

/* A batch of n pipelined GETs in a malloc'd buffer of *len bytes. */
static char *pipelined(size_t n, size_t *len) {
  size_t one = sizeof GET - 1;
  char *b = malloc(n * one);
  for (size_t i = 0; b && i < n; i++) memcpy(b + i * one, GET, one);
  *len = n * one;
  return b;
}

/* Counts answers in the stream, a status line split across reads included. */
static size_t count_answers(peer *p, size_t want) {
  static const char mark[] = "HTTP/1.1 200 OK\r\n";
  const size_t ml = sizeof mark - 1;
  char buf[65536 + sizeof mark];
  size_t carry = 0, seen = 0;
  long n;
  double end = acmeh_now_mono() + 10;
  while (seen < want && acmeh_now_mono() < end && (n = peer_read(p, buf + carry, 65536)) > 0) {
    size_t have = carry + (size_t)n;
    for (char *at = buf; (at = memmem(at, have - (size_t)(at - buf), mark, ml)); at += ml) seen++;
    carry = have < ml - 1 ? have : ml - 1;
    memmove(buf, buf + have - carry, carry);
  }
  return seen;
}

/* ---------- a peer that pipelines and never reads ---------- */

/* It writes up to 1 MB of GETs (about 35,000, whose answers would make
 * 140 MB) for at most 2 s without reading. The server must stop reading
 * once about UNSENT_CAP of answers wait, rather than queue them all. */
static void unread_answers(int tls) {
  srv s;
  int port = srv_start(&s, tls, (acmeh_httpsrv_opts){.max_body = 1024});
  CU_ASSERT_FATAL(port > 0);
  peer p;
  CU_ASSERT_EQUAL_FATAL(peer_open(&p, port, tls), 0);
  size_t blen;
  char *batch = pipelined(512, &blen);
  size_t sent = 0;
  double end = acmeh_now_mono() + 2;
  while (sent < 1024 * 1024 && acmeh_now_mono() < end && peer_write(&p, batch, blen) == 0) sent += blen;
  usleep(300 * 1000); /* the server works through what it read */
  /* Another reads, but only once reading stopped: everything it asked is
   * answered, in order and in full, as reading resumes. */
  peer q;
  CU_ASSERT_EQUAL_FATAL(peer_open(&q, port, tls), 0);
  size_t n = 6000;
  free(batch);
  batch = pipelined(n, &blen);
  CU_ASSERT_EQUAL(peer_write(&q, batch, blen), 0);
  usleep(300 * 1000);
  CU_ASSERT_EQUAL(count_answers(&q, n), n);
  peer_close(&q);
  peer_close(&p);
  free(batch);
  acmeh_httpsrv_stats st = srv_stop(&s);
  fprintf(stderr, "\n  %s: %zu bytes of GETs written; peak unsent %zu bytes, %lu pauses\n", tls ? "TLS" : "plain",
          sent, st.peak_unsent, st.pauses);
  CU_ASSERT(st.peak_unsent <= UNSENT_CAP + 64 * 1024);
  CU_ASSERT(st.pauses >= 2);
}

static void test_unread_answers_plain(void) { unread_answers(0); }
static void test_unread_answers_tls(void) { unread_answers(1); }

/* ---------- connections that stall mid-request ---------- */

/* Every slot (4 here) holds a request that stopped halfway, as a slowloris
 * peer trickling a byte every few seconds would; a legitimate request must
 * still be answered at once, not refused until the request limit (30 s). */
static void test_stalled_requests_evicted(void) {
  srv s;
  int port = srv_start(&s, 0, (acmeh_httpsrv_opts){.max_body = 1024, .max_conns = 4});
  CU_ASSERT_FATAL(port > 0);
  peer stalled[4];
  for (size_t i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL_FATAL(peer_open(&stalled[i], port, 0), 0);
    CU_ASSERT_EQUAL(peer_write_str(&stalled[i], "GET /dir HTTP/1.1\r\nHo"), 0);
    usleep(20 * 1000); /* each one's request starts later than the one before */
  }
  usleep(200 * 1000); /* the server has read every partial request */
  peer p;
  CU_ASSERT_EQUAL_FATAL(peer_open(&p, port, 0), 0);
  static const char req[] = "GET /dir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  CU_ASSERT_EQUAL(peer_write(&p, req, sizeof req - 1), 0);
  CU_ASSERT_EQUAL(count_answers(&p, 1), 1);
  /* The one stalled longest made room; the others are still served. */
  char one;
  CU_ASSERT_EQUAL(read(stalled[0].fd, &one, 1), 0);
  CU_ASSERT_EQUAL(peer_write_str(&stalled[3], "st: x\r\n\r\n"), 0);
  CU_ASSERT_EQUAL(count_answers(&stalled[3], 1), 1);
  for (size_t i = 0; i < 4; i++) peer_close(&stalled[i]);
  peer_close(&p);
  acmeh_httpsrv_stats st = srv_stop(&s);
  CU_ASSERT_EQUAL(st.evictions, 1);
}

/* acmeh_httpsrv_parse (the fuzz target's way in): pipelined requests reach
 * the callback in order with trimmed headers, nothing after Connection:
 * close, and the caps refuse as a connection does. */
typedef struct {
  int n;
  char urls[4][32], host[32];
} seen_reqs;

static void seen(const acmeh_httpsrv_req *req, void *ud) {
  seen_reqs *sr = ud;
  if (sr->n == 0) snprintf(sr->host, sizeof sr->host, "%s", req->host);
  if (sr->n < 4) snprintf(sr->urls[sr->n], sizeof sr->urls[0], "%s %s", req->method, req->url);
  sr->n++;
}

static void test_parse_buffer(void) {
  static const char in[] = "GET /a HTTP/1.1\r\nHost:  \t h.example \r\n\r\n"
                           "POST /b HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
                           "GET /never HTTP/1.1\r\n\r\n";
  seen_reqs sr = {0};
  CU_ASSERT_EQUAL(acmeh_httpsrv_parse(in, sizeof in - 1, 16, seen, &sr), 0);
  CU_ASSERT_EQUAL(sr.n, 2);
  CU_ASSERT_STRING_EQUAL(sr.urls[0], "GET /a");
  CU_ASSERT_STRING_EQUAL(sr.urls[1], "POST /b");
  CU_ASSERT_STRING_EQUAL(sr.host, "h.example");
  static const char big[] = "POST /c HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234567890123456789";
  CU_ASSERT_EQUAL(acmeh_httpsrv_parse(big, sizeof big - 1, 16, seen, &sr), 413);
  CU_ASSERT_EQUAL(acmeh_httpsrv_parse("NOT HTTP\r\n\r\n", 14, 16, seen, &sr), 400);
  CU_ASSERT_EQUAL(sr.n, 2);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* peers write after the server hung up on purpose */
  static const acmeh_unit_test tests[] = {
      {"pipelined answers left unread: reading stops (plain)", test_unread_answers_plain},
      {"pipelined answers left unread: reading stops (TLS)", test_unread_answers_tls},
      {"every slot stalled mid-request: the slowest makes room", test_stalled_requests_evicted},
      {"a buffer parsed as a connection parses it", test_parse_buffer},
  };
  return acmeh_unit_run("httpsrv", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
