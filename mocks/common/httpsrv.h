/* A minimal HTTP/1.1 server on a libuv loop: accepts on a loopback TCP port,
 * parses requests with http-parser, hands each complete request to one
 * handler and writes its response (keep-alive honoured). Used by the HTTP-01
 * responder and the management API. Loop-thread only, except that
 * acmeh_httpsrv_start may run before the loop thread starts. */
#ifndef ACMEH_MOCKS_HTTPSRV_H
#define ACMEH_MOCKS_HTTPSRV_H

#include <stddef.h>
#include <uv.h>

typedef struct {
  const char *method; /* "GET", ... */
  const char *url;    /* request target as sent, e.g. "/a/b?c" */
  const char *host;   /* Host header value, "" when absent */
  const char *body;   /* NUL-terminated for convenience; may contain NULs */
  size_t body_len;
} acmeh_httpsrv_req;

typedef struct {
  int status;               /* default 200 */
  const char *content_type; /* static string; default "text/plain" */
  char *body;               /* malloc'd by the handler, freed by the server; may be NULL */
  size_t body_len;
} acmeh_httpsrv_resp;

typedef void (*acmeh_httpsrv_handler)(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp,
                                      void *ud);

typedef struct acmeh_httpsrv acmeh_httpsrv;

/* Binds addr:port (port 0 = ephemeral) and listens. `max_body` caps request
 * bodies (larger -> 413 and close). On success *out is the server; free it
 * with acmeh_httpsrv_free after acmeh_httpsrv_close and after the loop has
 * run the close callbacks. Returns ACMEH_OK, ACMEH_ENV_PORT_IN_USE,
 * ACMEH_ENV_IO, ACMEH_NOMEM, ACMEH_INVALID_ARG with the reason in err. */
int acmeh_httpsrv_start(uv_loop_t *loop, const char *addr, int port, size_t max_body,
                        acmeh_httpsrv_handler handler, void *ud, acmeh_httpsrv **out, char *err,
                        size_t errlen);

/* The bound port. */
int acmeh_httpsrv_port(const acmeh_httpsrv *s);

/* Closes the listener and every connection (loop thread). Idempotent. */
void acmeh_httpsrv_close(acmeh_httpsrv *s);

/* Frees s once the loop has finished closing its handles. NULL is a no-op. */
void acmeh_httpsrv_free(acmeh_httpsrv *s);

#endif
