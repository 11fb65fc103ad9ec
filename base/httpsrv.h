/* A minimal HTTP/1.1 server on a libuv loop: accepts on a loopback TCP port,
 * optionally speaks TLS (through uvtls), parses requests with http-parser,
 * hands each complete request to one handler and writes its response
 * (keep-alive honoured). Used by the HTTP-01 responder, the management API and
 * the reference ACME server. Loop-thread only, except that
 * acmeh_httpsrv_start may run before the loop thread starts. */
#ifndef ACMEH_BASE_HTTPSRV_H
#define ACMEH_BASE_HTTPSRV_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <uv.h>

typedef struct {
  const char *name;  /* as received */
  const char *value; /* as received, leading/trailing blanks removed */
} acmeh_httpsrv_header;

typedef struct {
  const char *method; /* "GET", ... */
  const char *url;    /* request target as sent, e.g. "/a/b?c" */
  const char *host;   /* Host header value, "" when absent */
  const char *body;   /* NUL-terminated for convenience; may contain NULs */
  size_t body_len;
  const acmeh_httpsrv_header *headers; /* every header field, in order (at most 64) */
  size_t nheaders;
} acmeh_httpsrv_req;

/* How a response leaves (fault injection by the reference ACME server). */
typedef enum {
  ACMEH_HTTPSRV_SEND = 0,           /* write it whole */
  ACMEH_HTTPSRV_DROP_BEFORE_HEADERS, /* write nothing and close the connection */
  ACMEH_HTTPSRV_DROP_AFTER_HEADERS   /* write the status line and headers, then close */
} acmeh_httpsrv_drop;

typedef struct {
  int status;               /* default 200 */
  const char *content_type; /* must outlive the handler call; default "text/plain"; NULL with
                             * status 204 or "" = no Content-Type */
  char *body;               /* malloc'd by the handler, freed by the server; may be NULL */
  size_t body_len;
  char *headers;            /* optional extra header lines, each "Name: value\r\n";
                             * malloc'd by the handler, freed by the server */
  unsigned delay_ms;        /* hold the response this long (a timer: the loop keeps
                             * running); later responses on the connection wait behind it */
  acmeh_httpsrv_drop drop;  /* default: send */
} acmeh_httpsrv_resp;

typedef void (*acmeh_httpsrv_handler)(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp,
                                      void *ud);



/* Fills the reply to a request the parser refused (status 400 malformed
 * HTTP, 408 request not complete within idle_ms of its first byte, 413 body
 * too large, 414 URL too long, 431 headers too large); resp
 * arrives with that status and text/plain defaults. */
typedef void (*acmeh_httpsrv_error_fn)(int status, acmeh_httpsrv_resp *resp, void *ud);

typedef struct {
  size_t max_body;                 /* request body cap in bytes (larger -> 413 and close) */
  SSL_CTX *tls;                    /* serve HTTPS with this context (borrowed, must outlive
                                    * the server); NULL = plain HTTP */
  acmeh_httpsrv_error_fn on_error; /* NULL = a short text/plain reply */
  unsigned idle_ms;                /* close a connection idle this long, and refuse (408) a
                                    * request still incomplete this long after its first
                                    * byte; 0 = 30000 */
  unsigned max_conns;              /* connections served at once; 0 = 256 (tests use a few) */
} acmeh_httpsrv_opts;

/* What the server did to protect itself, for tests and diagnostics. */
typedef struct {
  size_t peak_unsent;       /* most answer bytes one connection had waiting to reach the
                             * peer (queued here or in the socket's write queue) */
  unsigned long pauses;     /* times reading stopped because a peer left its answers unread */
  unsigned long evictions;  /* connections closed to make room for a new one */
} acmeh_httpsrv_stats;

typedef struct acmeh_httpsrv acmeh_httpsrv;

/* A response the handler gives later (see acmeh_httpsrv_defer). */
typedef struct acmeh_httpsrv_later acmeh_httpsrv_later;

/* Only from inside the handler: the answer to the request being handled is
 * not ready yet (e.g. it waits a moment for work running elsewhere). What the
 * handler leaves in resp is then ignored; its place in the connection's
 * response order is kept, and responses behind it wait. The caller must pass
 * the result to acmeh_httpsrv_finish exactly once, within a bounded time.
 * NULL when out of memory or not called from a handler: answer normally. */
acmeh_httpsrv_later *acmeh_httpsrv_defer(acmeh_httpsrv *s);

/* Gives a deferred answer (resp as a handler would fill it; body and headers
 * stay the caller's) and frees l. Harmless when the connection has gone
 * meanwhile: the answer is dropped. Loop thread only. */
void acmeh_httpsrv_finish(acmeh_httpsrv_later *l, const acmeh_httpsrv_resp *resp);

/* Binds addr:port (port 0 = ephemeral) and listens with options `o`. On
 * success *out is the server; free it with acmeh_httpsrv_free after
 * acmeh_httpsrv_close and after the loop has run the close callbacks.
 * Returns ACMEH_OK, ACMEH_ENV_PORT_IN_USE, ACMEH_ENV_IO, ACMEH_NOMEM,
 * ACMEH_INVALID_ARG with the reason in err. */
int acmeh_httpsrv_start_opts(uv_loop_t *loop, const char *addr, int port,
                             const acmeh_httpsrv_opts *o, acmeh_httpsrv_handler handler, void *ud,
                             acmeh_httpsrv **out, char *err, size_t errlen);

/* Plain HTTP with a body cap of `max_body` bytes; otherwise as above. */
int acmeh_httpsrv_start(uv_loop_t *loop, const char *addr, int port, size_t max_body,
                        acmeh_httpsrv_handler handler, void *ud, acmeh_httpsrv **out, char *err,
                        size_t errlen);

/* Called by acmeh_httpsrv_parse for each complete request (req lives for the call). */
typedef void (*acmeh_httpsrv_each_fn)(const acmeh_httpsrv_req *req, void *ud);

/* Parses `len` bytes as a connection's input, without a connection: the
 * same http-parser field callbacks, caps (URL, header count and bytes, body
 * over max_body) and header trimming as the server's read path, handing each
 * complete request (pipelined ones too) to `each` where a connection calls
 * its handler, and stopping after one that does not keep the connection
 * alive, as the server does. For the fuzz target
 * tests/fuzz/fuzz_http_request.c and tests. Returns 0 when the bytes were
 * taken (a last request may be incomplete), else the status the server
 * refuses with (400, 413, 414, 431; 500 when out of memory). */
int acmeh_httpsrv_parse(const char *data, size_t len, size_t max_body, acmeh_httpsrv_each_fn each, void *ud);

/* Value of the first header `name` (case-insensitive) of req, borrowed; NULL if absent. */
const char *acmeh_httpsrv_req_header(const acmeh_httpsrv_req *req, const char *name);

/* Copies the counters into *out. Loop thread only (or after the loop stopped). */
void acmeh_httpsrv_get_stats(const acmeh_httpsrv *s, acmeh_httpsrv_stats *out);

/* The bound port. */
int acmeh_httpsrv_port(const acmeh_httpsrv *s);

/* Closes the listener and every connection (loop thread). Idempotent. */
void acmeh_httpsrv_close(acmeh_httpsrv *s);

/* Frees s once the loop has finished closing its handles. NULL is a no-op. */
void acmeh_httpsrv_free(acmeh_httpsrv *s);

#endif
