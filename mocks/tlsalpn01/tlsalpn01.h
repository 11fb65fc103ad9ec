/* The TLS-ALPN-01 responder (RFC 8737): TLS 1.2+ on loopback, completes a
 * handshake only when the client offers ALPN "acme-tls/1" and sends an SNI
 * that has a validation certificate in the record store; that certificate
 * (with the critical acmeIdentifier extension) is presented. Every
 * ClientHello is recorded in the "tlsalpn" history under its SNI. */
#ifndef ACMEH_MOCKS_TLSALPN01_H
#define ACMEH_MOCKS_TLSALPN01_H

#include "mocks/common/history.h"
#include "mocks/common/records.h"

#include <stddef.h>
#include <uv.h>

typedef struct acmeh_mocktlsalpn acmeh_mocktlsalpn;

/* Binds addr:port (0 = ephemeral) and listens. On success *out is the
 * server (close, run the loop, then free). Returns ACMEH_OK,
 * ACMEH_ENV_PORT_IN_USE, ACMEH_ENV_IO, ACMEH_NOMEM, ACMEH_INTERNAL
 * (OpenSSL context) with the reason in err. */
int acmeh_mocktlsalpn_start(uv_loop_t *loop, const char *addr, int port, acmeh_records *rec,
                            acmeh_history *hist, acmeh_mocktlsalpn **out, char *err, size_t errlen);

int acmeh_mocktlsalpn_port(const acmeh_mocktlsalpn *s);

/* Closes the listener and all connections (loop thread). Idempotent. */
void acmeh_mocktlsalpn_close(acmeh_mocktlsalpn *s);

/* Frees s once the loop has run the close callbacks. NULL is a no-op. */
void acmeh_mocktlsalpn_free(acmeh_mocktlsalpn *s);

#endif
