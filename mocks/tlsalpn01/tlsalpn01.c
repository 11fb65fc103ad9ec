#include "mocks/tlsalpn01/tlsalpn01.h"

#include "base/error.h"
#include "base/uvtls.h"
#include "base/uvutil.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNS 128
#define IDLE_MS 10000

/* ALPN wire form of the one protocol we speak (RFC 8737 §6.2). */
static const unsigned char ACME_TLS_1[] = "\x0a"
                                          "acme-tls/1";

typedef struct conn {
  acmeh_uvtls *tls;
  struct acmeh_mocktlsalpn *srv;
  struct conn *prev, *next;
  json_t *offered; /* ALPN protocols from the ClientHello, for the history */
  int offers_acme;
} conn;

struct acmeh_mocktlsalpn {
  uv_tcp_t listener;
  SSL_CTX *ctx;
  acmeh_records *rec;
  acmeh_history *hist;
  acmeh_uvtls_cbs cbs;
  int port;
  int closed;
  conn *conns;
  int nconns;
};

static conn *conn_of(SSL *ssl) { return acmeh_uvtls_data(SSL_get_app_data(ssl)); }

/* Reads the offered ALPN list (RFC 7301 §3.1: 2-byte length, then 1-byte
 * length-prefixed names); OpenSSL hands it over raw in the ClientHello. */
static int on_client_hello(SSL *ssl, int *alert, void *arg) {
  (void)alert;
  (void)arg;
  conn *c = conn_of(ssl);
  const unsigned char *p;
  size_t len;
  if (!c ||
      !SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p,
                                 &len) ||
      len < 2)
    return SSL_CLIENT_HELLO_SUCCESS;
  size_t off = 2, end = 2 + ((size_t)p[0] << 8 | p[1]);
  if (end > len) end = len;
  while (off < end && off + 1 + p[off] <= end) {
    size_t n = p[off];
    json_array_append_new(c->offered, json_stringn((const char *)p + off + 1, n));
    if (n == 10 && memcmp(p + off + 1, "acme-tls/1", 10) == 0) c->offers_acme = 1;
    off += 1 + n;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

static void record(conn *c, const char *sni) {
  /* ServerName/SupportedProtos mirror pebble-challtestsrv's history entries. */
  json_t *entry = json_pack("{s:s, s:O, s:s, s:O}", "sni", sni, "alpn", c->offered, "ServerName",
                            sni, "SupportedProtos", c->offered);
  acmeh_history_add(c->srv->hist, ACMEH_HIST_TLSALPN, sni, entry);
}

/* Picks the validation certificate for the SNI; runs before ALPN selection. */
static int on_servername(SSL *ssl, int *alert, void *arg) {
  (void)arg;
  conn *c = conn_of(ssl);
  const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!c) return SSL_TLSEXT_ERR_ALERT_FATAL;
  record(c, sni ? sni : "");
  if (!c->offers_acme) { /* RFC 8737 §3: only acme-tls/1 handshakes are answered */
    *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  if (!sni || acmeh_records_tlsalpn(c->srv->rec, sni, &key, &cert) != ACMEH_OK) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  int ok = SSL_use_certificate(ssl, cert) == 1 && SSL_use_PrivateKey(ssl, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg) {
  (void)ssl;
  (void)arg;
  unsigned char *sel = NULL;
  if (SSL_select_next_proto(&sel, outlen, ACME_TLS_1, sizeof ACME_TLS_1 - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

static void on_close(acmeh_uvtls *t) {
  conn *c = acmeh_uvtls_data(t);
  acmeh_mocktlsalpn *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
  json_decref(c->offered);
  free(c);
}

static void on_connection(uv_stream_t *server, int status) {
  acmeh_mocktlsalpn *s = server->data;
  if (status < 0 || s->closed) return;
  conn *c = calloc(1, sizeof *c);
  if (!c || !(c->offered = json_array())) {
    free(c);
    return;
  }
  c->srv = s;
  if (acmeh_uvtls_accept(server, s->ctx, &s->cbs, c, &c->tls) != ACMEH_OK) {
    json_decref(c->offered);
    free(c);
    return;
  }
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  if (++s->nconns > MAX_CONNS) acmeh_uvtls_close(c->tls);
}

static SSL_CTX *make_ctx(acmeh_mocktlsalpn *s) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); /* RFC 8737 §4 */
  SSL_CTX_set_client_hello_cb(ctx, on_client_hello, s);
  SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
  SSL_CTX_set_tlsext_servername_arg(ctx, s);
  SSL_CTX_set_alpn_select_cb(ctx, on_alpn, s);
  return ctx;
}

static void free_on_close(uv_handle_t *h) {
  acmeh_mocktlsalpn *s = h->data;
  SSL_CTX_free(s->ctx);
  free(s);
}

int acmeh_mocktlsalpn_start(uv_loop_t *loop, const char *addr, int port, acmeh_records *rec,
                            acmeh_history *hist, acmeh_mocktlsalpn **out, char *err,
                            size_t errlen) {
  if (!loop || !rec || !out)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "tlsalpn01: bad args");
  acmeh_mocktlsalpn *s = calloc(1, sizeof *s);
  if (!s) return acmeh_msg(err, errlen, ACMEH_NOMEM, "tlsalpn01: out of memory");
  s->rec = rec;
  s->hist = hist;
  s->cbs = (acmeh_uvtls_cbs){.on_close = on_close, .idle_ms = IDLE_MS};
  s->ctx = make_ctx(s);
  if (!s->ctx) {
    ERR_clear_error();
    free(s);
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "tlsalpn01: cannot create SSL_CTX");
  }
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  int rc = acmeh_uv_tcp_listen(&s->listener, addr, port, on_connection, "tlsalpn01", err, errlen);
  if (rc != ACMEH_OK) {
    uv_close((uv_handle_t *)&s->listener, free_on_close);
    return rc;
  }
  s->port = acmeh_uv_tcp_port(&s->listener);
  *out = s;
  return ACMEH_OK;
}

int acmeh_mocktlsalpn_port(const acmeh_mocktlsalpn *s) { return s ? s->port : -1; }

void acmeh_mocktlsalpn_close(acmeh_mocktlsalpn *s) {
  if (!s || s->closed) return;
  s->closed = 1;
  uv_close((uv_handle_t *)&s->listener, NULL);
  for (conn *c = s->conns; c; c = c->next)
    acmeh_uvtls_close(c->tls);
}

void acmeh_mocktlsalpn_free(acmeh_mocktlsalpn *s) {
  if (!s) return;
  SSL_CTX_free(s->ctx);
  free(s);
}
