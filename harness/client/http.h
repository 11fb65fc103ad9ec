/* The reference client's HTTP layer (libcurl): one connection-reusing handle
 * per check, every response size-capped, every request bounded by a deadline,
 * and every exchange written to the check's transcript. */
#ifndef ACMEH_CLIENT_HTTP_H
#define ACMEH_CLIENT_HTTP_H

#include <stddef.h>

#include "base/strbuf.h"

/* Largest response body kept, in bytes; a larger body fails the request
 * with ACMEH_PEER_TOO_LARGE (ACME resources are a few KB). */
#define ACMEH_HTTP_MAX_BODY (4u * 1024u * 1024u)
/* Largest header section kept, in bytes. */
#define ACMEH_HTTP_MAX_HEADERS (64u * 1024u)
/* Most header fields kept; a response with more fails with
 * ACMEH_PEER_TOO_LARGE rather than hide the ones past the cap. */
#define ACMEH_HTTP_MAX_HEADER_COUNT 128
/* Milliseconds a peer must have had before its silence is its failure
 * (ACMEH_PEER_TIMEOUT); a shorter wait cut by the check's own budget is the
 * harness's limit (ACMEH_DEADLINE). */
#define ACMEH_HTTP_MIN_PATIENCE_MS 2000

typedef struct {
  char *name;  /* as received */
  char *value; /* trimmed */
} acmeh_http_header;

typedef struct {
  long status;  /* HTTP status, 0 when none arrived */
  acmeh_http_header headers[ACMEH_HTTP_MAX_HEADER_COUNT];
  size_t nheaders;
  char *body;   /* NUL-terminated, owned; "" when empty */
  size_t body_len;
  double elapsed_s;
} acmeh_http_resp;

typedef struct acmeh_http acmeh_http;

typedef struct {
  const char *ca_file;      /* PEM bundle to trust (NULL = system store) */
  double deadline;          /* acmeh_now_mono() value after which nothing waits; 0 = none */
  long request_timeout_ms;  /* per request cap, 0 = 10000 */
  acmeh_strbuf *transcript; /* where exchanges are logged (borrowed, may be NULL) */
  const char *user_agent;   /* NULL = "acme-harness/<version> libcurl/<v>" */
  const char *const *extra_headers; /* "Name: value" lines on every request ("Name:" removes one); NULL-terminated, borrowed */
  int verbose;              /* also echo the exchange to stderr */
  /* Called after every complete response (any status) with the request's
   * method and URL, borrowed for the call; NULL = none. The reference
   * client logs the objects it receives through it (acme.h, schema_log). */
  void (*on_response)(void *ud, const char *method, const char *url, const acmeh_http_resp *r);
  void *on_response_ud;
} acmeh_http_config;

/* Creates a handle. Returns ACMEH_OK or ACMEH_NOMEM. Free with acmeh_http_free. */
int acmeh_http_new(const acmeh_http_config *cfg, acmeh_http **out);
void acmeh_http_free(acmeh_http *h);

/* Changes the deadline (monotonic seconds) of later requests. */
void acmeh_http_set_deadline(acmeh_http *h, double deadline);

/* Appends "# <note>" (printf-style) as a line of the transcript, so a reader
 * sees why the client acted as it did between exchanges; no-op without one. */
void acmeh_http_note(acmeh_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends `method` to `url` with `body_len` bytes of `body` (may be NULL) and the
 * given Content-Type (NULL = no Content-Type header). `extra_headers` is a
 * NULL-terminated list of "Name: value" lines (may be NULL).
 * Fills *resp (free with acmeh_http_resp_free) even on peer errors, as far
 * as it got. Returns ACMEH_OK when a complete response arrived (any status),
 * ACMEH_PEER_UNREACHABLE (refused / unresolvable), ACMEH_PEER_CONN, ACMEH_PEER_TIMEOUT, ACMEH_PEER_TOO_LARGE
 * (body, header section, one header line or header count over its cap), ACMEH_PEER_TLS,
 * ACMEH_PEER_PROTOCOL (not HTTP, not TLS on an https URL, or a URL that is not
 * http(s): one the server handed out), ACMEH_DEADLINE, ACMEH_NOMEM; the reason goes to err (errlen bytes). */
int acmeh_http_request(acmeh_http *h, const char *method, const char *url,
                       const char *content_type, const char *body, size_t body_len,
                       const char *const *extra_headers, acmeh_http_resp *resp, char *err,
                       size_t errlen);

void acmeh_http_resp_free(acmeh_http_resp *r);

/* Fills *resp from the bytes of one HTTP/1.x response as it arrives (status
 * line, header lines, blank line, body), passing them through the same
 * header and body callbacks libcurl drives in acmeh_http_request (trimming,
 * field count and size caps), without a connection: for the fuzz target
 * tests/fuzz/fuzz_client_objects.c and tests. A status line among the header
 * lines starts the section anew, as libcurl's callback sees after a 1xx or a
 * redirect; the body is everything after the first blank line (no
 * Content-Length or chunked framing: that is libcurl's part).
 * Free *resp with acmeh_http_resp_free whatever the result. Returns ACMEH_OK,
 * ACMEH_PEER_TOO_LARGE (as acmeh_http_request would), ACMEH_NOMEM. */
int acmeh_http_resp_from_buffer(const char *raw, size_t len, acmeh_http_resp *resp);

/* Value of the first header `name` (case-insensitive), borrowed; NULL if absent. */
const char *acmeh_http_header_get(const acmeh_http_resp *r, const char *name);

/* Number of headers called `name`. */
size_t acmeh_http_header_count(const acmeh_http_resp *r, const char *name);

/* Finds the URL of a Link header (RFC 8288) with relation `rel` among all
 * Link headers; `nth` picks the nth match (0-based). Returns a malloc'd URL
 * the caller frees, or NULL when there is none. */
char *acmeh_http_link(const acmeh_http_resp *r, const char *rel, size_t nth);

/* Parses Retry-After (delay-seconds or HTTP-date, RFC 9110 §10.2.3) into
 * seconds from now (>= 0). Returns 1 if present and valid, 0 otherwise. */
int acmeh_http_retry_after(const acmeh_http_resp *r, double *seconds);

/* Media type of the response without parameters, lower-cased into out; "" if none. */
void acmeh_http_media_type(const acmeh_http_resp *r, char *out, size_t outlen);

#endif
