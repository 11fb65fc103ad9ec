#include "mocks/http01/http01.h"

#include <stdlib.h>
#include <string.h>

#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

/* Host header without a port ("[::1]:80" -> "::1", "a.example:5002" -> "a.example"),
 * the key challtestsrv files HTTP history under. */
static void host_key(const char *host, char *out, size_t outlen) {
  size_t n = strlen(host);
  const char *start = host;
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    start = host + 1;
    n = end ? (size_t)(end - start) : n - 1;
  } else {
    const char *colon = strchr(host, ':');
    if (colon && !strchr(colon + 1, ':')) n = (size_t)(colon - host);
  }
  if (n >= outlen) n = outlen - 1;
  memcpy(out, start, n);
  out[n] = '\0';
}

static void record(acmeh_history *hist, const acmeh_httpsrv_req *req) {
  char key[256];
  host_key(req->host, key, sizeof key);
  /* URL/Host/HTTPS mirror pebble-challtestsrv's history entries for old scripts. */
  json_t *entry =
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "host", req->host, "method", req->method,
                "path", req->url, "URL", req->url, "Host", req->host, "HTTPS", 0, "ServerName", "");
  acmeh_history_add(hist, ACMEH_HIST_HTTP, key, entry);
}

/* The token of a challenge path, or NULL. Query strings are not part of it. */
static char *token_of(const char *url) {
  size_t plen = strlen(CHALLENGE_PREFIX);
  if (strncmp(url, CHALLENGE_PREFIX, plen) != 0) return NULL;
  const char *t = url + plen;
  size_t n = strcspn(t, "?#");
  if (n == 0) return NULL;
  return strndup(t, n);
}

void acmeh_http01_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud) {
  acmeh_http01_ctx *ctx = ud;
  record(ctx->hist, req);
  resp->status = 404;
  resp->content_type = "text/plain";
  /* GET only: a HEAD reply would need a body-less framing httpsrv does not do. */
  char *token = strcmp(req->method, "GET") == 0 ? token_of(req->url) : NULL;
  char *content = token ? acmeh_records_get(ctx->rec, ACMEH_REC_HTTP01, token) : NULL;
  free(token);
  if (!content) {
    resp->body = strdup("not found\n");
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    return;
  }
  resp->status = 200;
  resp->content_type = "application/octet-stream";
  resp->body_len = strlen(content);
  resp->body = content;
}
