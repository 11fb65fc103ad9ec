/* Bytes a peer sends the reference server (and the HTTP-01 responder and the
 * management API): HTTP/1.1 requests, pipelined or not, parsed by
 * acmeh_httpsrv_parse through the same http-parser callbacks and caps as a
 * connection's read path (base/httpsrv.c), with the reference server's body
 * cap. Each complete request is read the way handlers read one: every
 * header, the Host and Content-Type lookups, the URL and the body bytes
 * (touched, so that the sanitizers see any read past them). */
#include <stdint.h>
#include <string.h>

#include "base/httpsrv.h"
#include "harness/server/internal.h"

static void each(const acmeh_httpsrv_req *req, void *ud) {
  size_t *sum = ud;
  *sum += strlen(req->method) + strlen(req->url) + strlen(req->host);
  for (size_t i = 0; i < req->nheaders; i++) *sum += strlen(req->headers[i].name) + strlen(req->headers[i].value);
  for (size_t i = 0; i <= req->body_len; i++) *sum += (unsigned char)req->body[i]; /* the NUL after it too */
  const char *ct = acmeh_httpsrv_req_header(req, "Content-Type");
  *sum += ct ? strlen(ct) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t sum = 0;
  (void)acmeh_httpsrv_parse((const char *)data, size, SRV_MAX_BODY, each, &sum);
  return 0;
}
