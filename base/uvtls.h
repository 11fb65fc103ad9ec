/* TLS server connections over libuv streams. OpenSSL never touches the
 * socket: bytes read from the TCP handle go into a memory BIO, OpenSSL's
 * output is drained from another memory BIO into uv_write. Used by the
 * TLS-ALPN-01 responder and meant for the reference ACME server. Loop-thread
 * only.
 *
 * The SSL object's app data (SSL_get_app_data) is the acmeh_uvtls, so
 * SSL_CTX callbacks (SNI, ALPN) can reach the connection and its user data. */
#ifndef ACMEH_BASE_UVTLS_H
#define ACMEH_BASE_UVTLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <uv.h>

typedef struct acmeh_uvtls acmeh_uvtls;

typedef struct {
  /* Handshake finished (optional). */
  void (*on_handshake)(acmeh_uvtls *t);
  /* Decrypted application data (optional; dropped when NULL). */
  void (*on_data)(acmeh_uvtls *t, const char *data, size_t len);
  /* Both handles are closed; t is freed right after this returns (optional). */
  void (*on_close)(acmeh_uvtls *t);
  /* Bytes written went out to the kernel, so acmeh_uvtls_unsent fell
   * (optional; not called once the connection is closing). */
  void (*on_drain)(acmeh_uvtls *t);
  /* Close the connection after this many ms without input once the TLS
   * handshake is done, and when the handshake is not done within this many
   * ms of accepting (at most 10000, however its bytes trickle); 0 = 30000. */
  unsigned idle_ms;
} acmeh_uvtls_cbs;

/* Accepts a pending connection on `server` and starts the server-side
 * handshake with a new SSL from `ctx`. `cbs` must outlive the connection.
 * Returns ACMEH_OK (and *out when out is not NULL), ACMEH_NOMEM,
 * ACMEH_ENV_IO. On failure nothing stays allocated once the loop runs. */
int acmeh_uvtls_accept(uv_stream_t *server, SSL_CTX *ctx, const acmeh_uvtls_cbs *cbs, void *ud,
                       acmeh_uvtls **out);

void *acmeh_uvtls_data(const acmeh_uvtls *t);
SSL *acmeh_uvtls_ssl(const acmeh_uvtls *t);
int acmeh_uvtls_handshake_done(const acmeh_uvtls *t);

/* Encrypts and queues `len` bytes. Returns ACMEH_OK, ACMEH_INVALID_ARG
 * (handshake not done or closing), ACMEH_PEER_TLS. */
int acmeh_uvtls_write(acmeh_uvtls *t, const void *buf, size_t len);

/* Bytes written with acmeh_uvtls_write (as records) not yet handed to the
 * kernel: a peer that does not read makes this grow. */
size_t acmeh_uvtls_unsent(const acmeh_uvtls *t);

/* Stops reading from the peer and handing it on: on_data is not called
 * again (what was already decrypted or received waits in OpenSSL) until
 * acmeh_uvtls_resume. For a peer that sends requests but does not read the
 * answers. Idempotent. */
void acmeh_uvtls_pause(acmeh_uvtls *t);

/* Hands on what waited (on_data may pause again) and reads again. Idempotent. */
void acmeh_uvtls_resume(acmeh_uvtls *t);

/* Sends close_notify, lets queued writes drain, then closes. Idempotent. */
void acmeh_uvtls_shutdown(acmeh_uvtls *t);

/* Closes at once (queued writes are dropped). Idempotent. */
void acmeh_uvtls_close(acmeh_uvtls *t);

#endif
