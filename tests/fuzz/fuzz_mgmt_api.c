/* Management API requests as the mocks' HTTP server hands them to
 * acmeh_mgmt_handle (mocks/mgmt/mgmt.h), without the socket: the input is a
 * sequence of requests separated by NUL bytes (at most 16), each one byte
 * choosing the endpoint (its top bit: GET instead of POST) and the rest its
 * JSON body. Every input gets fresh mocks stores (acmeh_mocks_new_stores), so
 * a sequence can build state (a zone, then a key, then the journal) while
 * nothing accumulates across inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/httpsrv.h"
#include "mocks/mgmt/mgmt.h"
#include "mocks/mocks.h"

#define MAX_REQUESTS 16

/* The endpoints mocks/mgmt/mgmt.h lists, plus an unknown one and a query string. */
static const char *const PATHS[] = {
    "/add-dns-zone", "/del-dns-zone", "/add-tsig-key", "/del-tsig-key", "/set-dns-update-policy",
    "/dns-update-journal", "/clear-dns-update-journal", "/set-default-ipv4", "/set-default-ipv6",
    "/set-txt", "/add-txt", "/clear-txt", "/add-a", "/clear-a", "/add-aaaa", "/clear-aaaa", "/add-caa",
    "/clear-caa", "/set-cname", "/clear-cname", "/set-servfail", "/clear-servfail", "/add-http01",
    "/del-http01", "/add-tlsalpn01", "/del-tlsalpn01", "/clear-tlsalpn01", "/http-request-history",
    "/dns-request-history", "/tlsalpn01-request-history", "/clear-request-history", "/nope",
    "/set-txt?x=1"};

static void request(acmeh_mocks *m, uint8_t sel, const uint8_t *body, size_t len) {
  /* The HTTP server NUL-terminates every body it hands over; so does this. */
  char *b = malloc(len + 1);
  if (!b) return;
  memcpy(b, body, len);
  b[len] = '\0';
  acmeh_httpsrv_req req = {.method = sel & 0x80 ? "GET" : "POST",
                           .url = PATHS[(sel & 0x7f) % (sizeof PATHS / sizeof PATHS[0])],
                           .host = "127.0.0.1",
                           .body = b,
                           .body_len = len};
  acmeh_httpsrv_resp resp = {0};
  acmeh_mgmt_handle(&req, &resp, m);
  free(resp.body);
  free(resp.headers);
  free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > ACMEH_MGMT_MAX_BODY) return 0; /* the HTTP server refuses larger bodies (413) */
  acmeh_mocks *m = NULL;
  if (acmeh_mocks_new_stores(NULL, &m, NULL, 0) != 0) return 0;
  for (int n = 0; size > 0 && n < MAX_REQUESTS; n++) {
    const uint8_t *end = memchr(data, 0, size);
    size_t len = end ? (size_t)(end - data) : size;
    if (len > 0) request(m, data[0], data + 1, len - 1);
    size -= end ? len + 1 : len, data += end ? len + 1 : len;
  }
  acmeh_mocks_stop(m);
  return 0;
}
