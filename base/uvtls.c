#include "base/uvtls.h"

#include "base/error.h"
#include "base/uvutil.h"

#include <openssl/err.h>
#include <stdlib.h>

/* A handshake takes milliseconds on loopback; one not done in this long
 * (however its bytes trickle) is dropped. */
#define HANDSHAKE_MS 10000

struct acmeh_uvtls {
  uv_tcp_t tcp;
  uv_timer_t idle;
  int handles_open;
  int closing; /* 1 = draining writes, 2 = handles closing */
  int hs_done;
  int paused; /* acmeh_uvtls_pause: no reading, no on_data */
  SSL *ssl;
  BIO *rbio; /* network -> OpenSSL (owned by ssl) */
  BIO *wbio; /* OpenSSL -> network (owned by ssl) */
  const acmeh_uvtls_cbs *cbs;
  void *ud;
};

void *acmeh_uvtls_data(const acmeh_uvtls *t) { return t ? t->ud : NULL; }
SSL *acmeh_uvtls_ssl(const acmeh_uvtls *t) { return t ? t->ssl : NULL; }
int acmeh_uvtls_handshake_done(const acmeh_uvtls *t) { return t && t->hs_done; }

size_t acmeh_uvtls_unsent(const acmeh_uvtls *t) {
  if (!t) return 0;
  return uv_stream_get_write_queue_size((const uv_stream_t *)&t->tcp) + BIO_ctrl_pending(t->wbio);
}

static void handle_closed(uv_handle_t *h) {
  acmeh_uvtls *t = h->data;
  if (--t->handles_open > 0) return;
  if (t->cbs->on_close) t->cbs->on_close(t);
  SSL_free(t->ssl);
  free(t);
}

void acmeh_uvtls_close(acmeh_uvtls *t) {
  if (!t || t->closing == 2) return;
  t->closing = 2;
  uv_close((uv_handle_t *)&t->tcp, handle_closed);
  uv_close((uv_handle_t *)&t->idle, handle_closed);
}

/* A failed write means the peer is gone: while reading is paused nothing
 * else would notice before the idle limit, and the unsent bytes stay held. */
static void on_written(uv_stream_t *stream, int status) {
  acmeh_uvtls *t = stream->data;
  if (t->closing == 2) return;
  if (status < 0)
    acmeh_uvtls_close(t);
  else if (!t->closing && t->cbs->on_drain)
    t->cbs->on_drain(t);
}

/* Moves whatever OpenSSL produced (records, alerts) onto the socket. */
static void flush(acmeh_uvtls *t) {
  size_t pending;
  while (t->closing < 2 && (pending = BIO_ctrl_pending(t->wbio)) > 0) {
    char *out = malloc(pending);
    if (!out) return;
    int n = BIO_read(t->wbio, out, (int)pending);
    if (n <= 0) {
      free(out);
      return;
    }
    acmeh_uv_write_owned_cb((uv_stream_t *)&t->tcp, out, (size_t)n, on_written);
  }
}

static void shutdown_done(uv_shutdown_t *req, int status) {
  (void)status;
  acmeh_uvtls *t = req->data;
  free(req);
  acmeh_uvtls_close(t);
}

/* Closes once queued writes (e.g. a fatal alert) are on the wire. */
static void close_after_writes(acmeh_uvtls *t) {
  if (t->closing) return;
  t->closing = 1;
  uv_read_stop((uv_stream_t *)&t->tcp);
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req) {
    req->data = t;
    if (uv_shutdown(req, (uv_stream_t *)&t->tcp, shutdown_done) == 0) return;
    free(req);
  }
  acmeh_uvtls_close(t);
}

void acmeh_uvtls_shutdown(acmeh_uvtls *t) {
  if (!t || t->closing) return;
  if (t->hs_done) SSL_shutdown(t->ssl);
  flush(t);
  ERR_clear_error();
  close_after_writes(t);
}

int acmeh_uvtls_write(acmeh_uvtls *t, const void *buf, size_t len) {
  if (!t || !t->hs_done || t->closing) return ACMEH_INVALID_ARG;
  size_t written = 0;
  if (len && SSL_write_ex(t->ssl, buf, len, &written) != 1) {
    ERR_clear_error();
    return ACMEH_PEER_TLS;
  }
  flush(t);
  return ACMEH_OK;
}

/* Drives the handshake; returns 1 when application data may be read. */
static int advance_handshake(acmeh_uvtls *t) {
  if (t->hs_done) return 1;
  int r = SSL_do_handshake(t->ssl);
  flush(t);
  if (r == 1) {
    t->hs_done = 1;
    uv_timer_again(&t->idle); /* the idle limit counts from here */
    if (t->cbs->on_handshake) t->cbs->on_handshake(t);
    return !t->closing;
  }
  int e = SSL_get_error(t->ssl, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    close_after_writes(t); /* the alert OpenSSL queued goes out first */
  }
  return 0;
}

static void read_plaintext(acmeh_uvtls *t) {
  char buf[16384];
  while (!t->closing && !t->paused) {
    size_t n = 0;
    if (SSL_read_ex(t->ssl, buf, sizeof buf, &n) == 1) {
      if (t->cbs->on_data) t->cbs->on_data(t, buf, n);
      continue;
    }
    int e = SSL_get_error(t->ssl, 0);
    if (e == SSL_ERROR_ZERO_RETURN) {
      acmeh_uvtls_shutdown(t); /* answer the peer's close_notify */
    } else if (e != SSL_ERROR_WANT_READ) {
      ERR_clear_error();
      flush(t);
      close_after_writes(t);
    }
    break;
  }
  flush(t); /* post-handshake messages (TLS 1.3 tickets, key updates) */
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h;
  b->base = malloc(suggested);
  b->len = b->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b) {
  acmeh_uvtls *t = stream->data;
  if (nread > 0 && !t->closing) {
    /* Bytes restart the idle limit only once the handshake is done: a peer
     * trickling its ClientHello would otherwise hold a connection slot for
     * ever (the HTTP server's request limit sees decrypted bytes only). */
    if (t->hs_done) uv_timer_again(&t->idle);
    if (BIO_write(t->rbio, b->base, (int)nread) != (int)nread) {
      acmeh_uvtls_close(t);
    } else if (advance_handshake(t)) {
      read_plaintext(t);
    }
  } else if (nread < 0) {
    acmeh_uvtls_close(t);
  }
  free(b->base);
}

void acmeh_uvtls_pause(acmeh_uvtls *t) {
  if (!t || t->paused || t->closing) return;
  t->paused = 1;
  uv_read_stop((uv_stream_t *)&t->tcp);
}

void acmeh_uvtls_resume(acmeh_uvtls *t) {
  if (!t || !t->paused || t->closing) return;
  t->paused = 0;
  read_plaintext(t); /* records that arrived before reading stopped */
  if (!t->paused && !t->closing) uv_read_start((uv_stream_t *)&t->tcp, alloc_cb, on_read);
}

static void on_idle(uv_timer_t *timer) { acmeh_uvtls_close(timer->data); }

static int setup_ssl(acmeh_uvtls *t, SSL_CTX *ctx) {
  t->ssl = SSL_new(ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (!t->ssl || !t->rbio || !t->wbio) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    return ACMEH_NOMEM;
  }
  SSL_set_bio(t->ssl, t->rbio, t->wbio); /* ssl owns both BIOs from here */
  SSL_set_app_data(t->ssl, t);
  SSL_set_accept_state(t->ssl);
  return ACMEH_OK;
}

int acmeh_uvtls_accept(uv_stream_t *server, SSL_CTX *ctx, const acmeh_uvtls_cbs *cbs, void *ud,
                       acmeh_uvtls **out) {
  static const acmeh_uvtls_cbs none = {0};
  acmeh_uvtls *t = calloc(1, sizeof *t);
  if (!t) return ACMEH_NOMEM;
  t->cbs = cbs ? cbs : &none;
  t->ud = ud;
  uv_tcp_init(server->loop, &t->tcp);
  uv_timer_init(server->loop, &t->idle);
  t->tcp.data = t->idle.data = t;
  t->handles_open = 2;
  int rc = setup_ssl(t, ctx);
  if (rc == ACMEH_OK && uv_accept(server, (uv_stream_t *)&t->tcp) != 0) rc = ACMEH_ENV_IO;
  if (rc == ACMEH_OK && uv_read_start((uv_stream_t *)&t->tcp, alloc_cb, on_read) != 0)
    rc = ACMEH_ENV_IO;
  if (rc != ACMEH_OK) {
    t->cbs = &none; /* the owner never saw this connection; do not report its close */
    acmeh_uvtls_close(t);
    ERR_clear_error();
    return rc;
  }
  unsigned idle = t->cbs->idle_ms ? t->cbs->idle_ms : 30000;
  uv_timer_start(&t->idle, on_idle, idle < HANDSHAKE_MS ? idle : HANDSHAKE_MS, idle);
  if (out) *out = t;
  return ACMEH_OK;
}
