#include "harness/client/http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "harness/acme/b64.h"
#include "base/clock.h"
#include "base/error.h"

struct acmeh_http {
  CURL *curl;
  acmeh_http_config cfg;
  char *ca_file;
  char *user_agent;
  char curl_err[CURL_ERROR_SIZE]; /* libcurl's detail of the last failure */
};

/* Bytes of a body shown in the transcript; the rest is elided. */
#define TRANSCRIPT_BODY_MAX 4096

typedef struct {
  acmeh_http_resp *resp;
  size_t cap;
  size_t header_bytes;
  size_t header_fields; /* of the last response, kept or not */
  int too_large; /* 1: body over the cap, 2: header section over the cap */
} sink;

int acmeh_http_new(const acmeh_http_config *cfg, acmeh_http **out) {
  acmeh_http *h = calloc(1, sizeof *h);
  if (!h) return ACMEH_NOMEM;
  h->cfg = *cfg;
  h->curl = curl_easy_init();
  h->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
  char ua[128];
  snprintf(ua, sizeof ua, "acme-harness/0.1 %s", curl_version());
  char *sp = strchr(ua + 17, ' '); /* keep only "libcurl/x.y.z" */
  if (sp) *sp = '\0';
  h->user_agent = strdup(cfg->user_agent ? cfg->user_agent : ua);
  if (!h->curl || !h->user_agent || (cfg->ca_file && !h->ca_file)) {
    acmeh_http_free(h);
    return ACMEH_NOMEM;
  }
  h->cfg.ca_file = h->ca_file;
  *out = h;
  return ACMEH_OK;
}

void acmeh_http_free(acmeh_http *h) {
  if (!h) return;
  if (h->curl) curl_easy_cleanup(h->curl);
  free(h->ca_file);
  free(h->user_agent);
  free(h);
}

void acmeh_http_set_deadline(acmeh_http *h, double deadline) { h->cfg.deadline = deadline; }

void acmeh_http_note(acmeh_http *h, const char *fmt, ...) {
  if (!h->cfg.transcript) return;
  va_list ap;
  va_start(ap, fmt);
  acmeh_strbuf_printf(h->cfg.transcript, "\n# ");
  acmeh_strbuf_vprintf(h->cfg.transcript, fmt, ap);
  acmeh_strbuf_printf(h->cfg.transcript, "\n");
  va_end(ap);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  sink *s = ud;
  size_t len = size * n;
  acmeh_http_resp *r = s->resp;
  if (r->body_len + len > ACMEH_HTTP_MAX_BODY) {
    s->too_large = 1;
    return 0; /* makes curl abort the transfer */
  }
  if (r->body_len + len + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < r->body_len + len + 1) cap *= 2;
    char *b = realloc(r->body, cap);
    if (!b) return 0;
    r->body = b;
    s->cap = cap;
  }
  memcpy(r->body + r->body_len, p, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return len;
}

static char *trim_dup(const char *s, size_t len) {
  while (len && (*s == ' ' || *s == '\t')) s++, len--;
  while (len && (s[len - 1] == '\r' || s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  return strndup(s, len);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  sink *s = ud;
  size_t len = size * n;
  acmeh_http_resp *r = s->resp;
  s->header_bytes += len;
  if (s->header_bytes > ACMEH_HTTP_MAX_HEADERS) {
    s->too_large = 2;
    return 0;
  }
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after 1xx or redirect) */
    for (size_t i = 0; i < r->nheaders; i++) free(r->headers[i].name), free(r->headers[i].value);
    r->nheaders = 0;
    s->header_fields = 0;
    return len;
  }
  const char *colon = memchr(p, ':', len);
  s->header_fields += colon != NULL; /* counted past the cap: acmeh_http_request refuses the response then */
  if (!colon || r->nheaders == ACMEH_HTTP_MAX_HEADER_COUNT) return len;
  acmeh_http_header *hd = &r->headers[r->nheaders];
  hd->name = trim_dup(p, (size_t)(colon - p));
  hd->value = trim_dup(colon + 1, len - (size_t)(colon - p) - 1);
  if (hd->name && hd->value) r->nheaders++;
  else free(hd->name), free(hd->value);
  return len;
}

/* The status code of a status line "HTTP/1.1 200 OK" (not NUL-terminated), 0 when it is none. */
static long status_of(const char *line, size_t len) {
  char buf[64];
  long status = 0;
  snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
  return sscanf(buf, "HTTP/%*s %3ld", &status) == 1 ? status : 0;
}

int acmeh_http_resp_from_buffer(const char *raw, size_t len, acmeh_http_resp *resp) {
  memset(resp, 0, sizeof *resp);
  sink s = {.resp = resp};
  size_t at = 0, n = 0;
  while (at < len && s.too_large == 0) { /* one line at a time, line end included, as libcurl hands them over */
    const char *nl = memchr(raw + at, '\n', len - at);
    n = nl ? (size_t)(nl - (raw + at)) + 1 : len - at;
    if (n >= 5 && strncmp(raw + at, "HTTP/", 5) == 0) resp->status = status_of(raw + at, n);
    on_header((char *)raw + at, 1, n, &s);
    at += n;
    if (n == 1 || (n == 2 && raw[at - 2] == '\r')) break; /* the blank line ends the header section */
  }
  if (!s.too_large && at < len && on_body((char *)raw + at, 1, len - at, &s) != len - at && !s.too_large)
    return ACMEH_NOMEM;
  if (!resp->body && !(resp->body = strdup(""))) return ACMEH_NOMEM;
  return s.too_large || s.header_fields > ACMEH_HTTP_MAX_HEADER_COUNT ? ACMEH_PEER_TOO_LARGE : ACMEH_OK;
}

/* Writes a JWS body with its protected header and payload decoded, so a reader
 * of the transcript sees what was signed, not base64. */
static void log_jws(acmeh_strbuf *t, const char *body, size_t len) {
  json_t *j = json_loadb(body, len, 0, NULL);
  const char *parts[] = {"protected", "payload"};
  for (size_t i = 0; j && json_is_object(j) && i < 2; i++) {
    const char *v = json_string_value(json_object_get(j, parts[i]));
    unsigned char *dec = NULL;
    size_t dlen = 0;
    if (v && acmeh_b64url_decode(v, strlen(v), &dec, &dlen) == ACMEH_OK) {
      acmeh_strbuf_printf(t, "  [%s decoded] ", parts[i]);
      acmeh_strbuf_append(t, (char *)dec, dlen > TRANSCRIPT_BODY_MAX ? TRANSCRIPT_BODY_MAX : dlen, 1);
      acmeh_strbuf_printf(t, "\n");
    }
    free(dec);
  }
  json_decref(j);
}

static void log_body(acmeh_strbuf *t, const char *body, size_t len) {
  if (!len) return;
  acmeh_strbuf_printf(t, "\n");
  acmeh_strbuf_append(t, body, len > TRANSCRIPT_BODY_MAX ? TRANSCRIPT_BODY_MAX : len, 1);
  if (len > TRANSCRIPT_BODY_MAX)
    acmeh_strbuf_printf(t, "\n[... %zu more bytes ...]", len - TRANSCRIPT_BODY_MAX);
  acmeh_strbuf_printf(t, "\n");
}

static void log_request(acmeh_http *h, const char *method, const char *url, const char *ctype,
                        const char *body, size_t len, const char *const *extra) {
  acmeh_strbuf *t = h->cfg.transcript;
  if (!t) return;
  acmeh_strbuf_printf(t, "\n>>> %s %s\n", method, url);
  if (ctype) acmeh_strbuf_printf(t, "> Content-Type: %s\n", ctype);
  for (size_t i = 0; extra && extra[i]; i++) acmeh_strbuf_printf(t, "> %s\n", extra[i]);
  log_body(t, body, len);
  if (body && len) log_jws(t, body, len);
}

static void log_response(acmeh_http *h, const acmeh_http_resp *r, const char *err) {
  acmeh_strbuf *t = h->cfg.transcript;
  if (!t) return;
  if (err) acmeh_strbuf_printf(t, "<<< (no complete response: %s)\n", err);
  if (!r->status) return;
  acmeh_strbuf_printf(t, "<<< %ld (%.0f ms)\n", r->status, r->elapsed_s * 1000);
  for (size_t i = 0; i < r->nheaders; i++)
    acmeh_strbuf_printf(t, "< %s: %s\n", r->headers[i].name, r->headers[i].value);
  log_body(t, r->body, r->body_len);
}

/* The request's timeout in ms; *by_deadline says the check's time budget, not
 * the per-request cap, set it (so running out is the harness's limit, not the peer's fault). */
static long timeout_ms(acmeh_http *h, int *by_deadline) {
  long ms = h->cfg.request_timeout_ms ? h->cfg.request_timeout_ms : 10000;
  *by_deadline = 0;
  if (h->cfg.deadline > 0) {
    double left = (h->cfg.deadline - acmeh_now_mono()) * 1000; /* double: no overflow for far deadlines */
    if (left < (double)ms) ms = left > 0 ? (long)left : 0, *by_deadline = 1;
  }
  return ms;
}

/* Copies curl's detail (or, without one, its generic text for cc) into out
 * as one line: messages end up in one-line report fields. */
static void curl_detail(const acmeh_http *h, CURLcode cc, char *out, size_t outlen) {
  snprintf(out, outlen, "%s", h->curl_err[0] ? h->curl_err : curl_easy_strerror(cc));
  size_t n = strlen(out);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ')) out[--n] = '\0';
  for (char *p = out; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
}

/* Explains an over-size response (curl refuses a body whose Content-Length
 * is announced over CURLOPT_MAXFILESIZE before on_body sees a byte). */
static int too_large_error(const sink *s, const char *what, char *err, size_t errlen) {
  if (s->header_fields > ACMEH_HTTP_MAX_HEADER_COUNT)
    return acmeh_msg(err, errlen, ACMEH_PEER_TOO_LARGE, "%s: response has %zu header fields, over the cap of %d", what,
                     s->header_fields, ACMEH_HTTP_MAX_HEADER_COUNT);
  if (s->too_large == 2)
    return acmeh_msg(err, errlen, ACMEH_PEER_TOO_LARGE, "%s: header section exceeds the cap of %u bytes", what,
                     ACMEH_HTTP_MAX_HEADERS);
  return acmeh_msg(err, errlen, ACMEH_PEER_TOO_LARGE, "%s: response body exceeds the cap of %u bytes", what,
                   ACMEH_HTTP_MAX_BODY);
}

/* 1 when url's scheme is not http or https. The CLI refuses such a
 * --server-url, so a request for one follows a URL the server handed out. */
static int not_http_url(const char *url) {
  return strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0;
}

/* 1 when a failed TLS handshake means the peer answered with something that
 * is not TLS at all: OpenSSL reads the first bytes of a plain-HTTP reply
 * ("HTTP/1.1 400") as a record header with a bad version or length. */
static int not_tls_reply(const char *detail) {
  return strstr(detail, "wrong version number") || strstr(detail, "packet length too long") ||
         strstr(detail, "http request");
}

/* Turns a failed transfer into an error code and a one-line message that
 * names the request and what went wrong with it. */
static int map_curl_error(acmeh_http *h, CURLcode cc, const sink *s, long ms, int by_deadline,
                          const char *method, const char *url, char *err, size_t errlen) {
  char what[512], detail[CURL_ERROR_SIZE];
  snprintf(what, sizeof what, "%s %.400s", method, url);
  curl_detail(h, cc, detail, sizeof detail);
  if (s->too_large || cc == CURLE_FILESIZE_EXCEEDED) return too_large_error(s, what, err, errlen);
  switch (cc) {
  case CURLE_OPERATION_TIMEDOUT:
    if (by_deadline && ms < ACMEH_HTTP_MIN_PATIENCE_MS)
      return acmeh_msg(err, errlen, ACMEH_DEADLINE, "%s: the check's time budget ran out after %ld ms of waiting", what, ms);
    return acmeh_msg(err, errlen, ACMEH_PEER_TIMEOUT, "%s: no complete response within %ld ms", what, ms);
  case CURLE_SSL_CACERT_BADFILE:
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "%s: cannot use the CA file: %s", what, detail);
  case CURLE_SSL_CONNECT_ERROR:
    if (not_tls_reply(detail))
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "%s: the server did not speak TLS on this https URL "
                       "(plain HTTP on a TLS port?): %s", what, detail);
    /* fall through */
  case CURLE_PEER_FAILED_VERIFICATION:
    return acmeh_msg(err, errlen, ACMEH_PEER_TLS, "%s: TLS: %s", what, detail);
  case CURLE_UNSUPPORTED_PROTOCOL: /* also how curl reports a reply without a status line or with a bad code */
  case CURLE_WEIRD_SERVER_REPLY:
    if (not_http_url(url))
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "%s: the server gave a URL whose scheme is not http(s) "
                       "(RFC 8555 §6.1 requires HTTPS)", what);
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "%s: reply is not a valid HTTP response (%s)", what, detail);
  case CURLE_OUT_OF_MEMORY: /* libcurl's answer to one header line over CURL_MAX_HTTP_HEADER */
    if (!s->resp->body_len)
      return acmeh_msg(err, errlen, ACMEH_PEER_TOO_LARGE, "%s: a response header line exceeds libcurl's cap of %d bytes "
                       "(header section cap %u)", what, CURL_MAX_HTTP_HEADER, ACMEH_HTTP_MAX_HEADERS);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "%s: out of memory: %s", what, detail);
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
    return acmeh_msg(err, errlen, ACMEH_PEER_UNREACHABLE, "%s: %s", what, detail);
  case CURLE_WRITE_ERROR: /* on_body refused a byte without being over the cap: realloc failed */
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "%s: out of memory storing the response", what);
  default:
    return acmeh_msg(err, errlen, ACMEH_PEER_CONN, "%s: connection failed: %s", what, detail);
  }
}

static struct curl_slist *build_headers(acmeh_http *h, const char *ctype, const char *const *extra) {
  struct curl_slist *l = NULL;
  char line[256];
  snprintf(line, sizeof line, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
  l = curl_slist_append(l, line); /* "Content-Type:" alone removes curl's default */
  l = curl_slist_append(l, "Expect:");
  int own_language = 0; /* a configured Accept-Language (or "Accept-Language:") replaces ours */
  for (size_t i = 0; h->cfg.extra_headers && h->cfg.extra_headers[i]; i++)
    own_language |= strncasecmp(h->cfg.extra_headers[i], "Accept-Language:", 16) == 0;
  if (!own_language) l = curl_slist_append(l, "Accept-Language: en");
  for (size_t i = 0; h->cfg.extra_headers && h->cfg.extra_headers[i]; i++) l = curl_slist_append(l, h->cfg.extra_headers[i]);
  for (size_t i = 0; extra && extra[i]; i++) l = curl_slist_append(l, extra[i]);
  return l;
}

static void setup_curl(acmeh_http *h, const char *method, const char *url, const char *body,
                       size_t body_len, long ms, sink *s, struct curl_slist *hdrs) {
  CURL *c = h->curl;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  h->curl_err[0] = '\0';
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ACMEH_HTTP_MAX_BODY);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (h->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "GET") != 0) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    if (strcmp(method, "POST") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
}

int acmeh_http_request(acmeh_http *h, const char *method, const char *url,
                       const char *content_type, const char *body, size_t body_len,
                       const char *const *extra_headers, acmeh_http_resp *resp, char *err,
                       size_t errlen) {
  memset(resp, 0, sizeof *resp);
  int by_deadline;
  long ms = timeout_ms(h, &by_deadline);
  if (ms <= 0) return acmeh_msg(err, errlen, ACMEH_DEADLINE, "check deadline reached before %s %s", method, url);
  sink s = {.resp = resp};
  struct curl_slist *hdrs = build_headers(h, content_type, extra_headers);
  setup_curl(h, method, url, body, body_len, ms, &s, hdrs);
  log_request(h, method, url, content_type, body, body_len, extra_headers);
  double t0 = acmeh_now_mono();
  CURLcode cc = curl_easy_perform(h->curl);
  resp->elapsed_s = acmeh_now_mono() - t0;
  curl_slist_free_all(hdrs);
  if (!resp->body) resp->body = strdup("");
  curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
  int rc = cc == CURLE_OK && resp->body ? ACMEH_OK : map_curl_error(h, cc, &s, ms, by_deadline, method, url, err, errlen);
  if (rc == ACMEH_OK && s.header_fields > ACMEH_HTTP_MAX_HEADER_COUNT) { /* the rest would be silently missing */
    char what[512];
    snprintf(what, sizeof what, "%s %.400s", method, url);
    rc = too_large_error(&s, what, err, errlen);
  }
  if (!resp->body) rc = ACMEH_NOMEM;
  log_response(h, resp, rc ? err : NULL);
  if (rc == ACMEH_OK && h->cfg.on_response) h->cfg.on_response(h->cfg.on_response_ud, method, url, resp);
  if (h->cfg.verbose && h->cfg.transcript == NULL)
    fprintf(stderr, "%s %s -> %ld\n", method, url, resp->status);
  return rc;
}

void acmeh_http_resp_free(acmeh_http_resp *r) {
  for (size_t i = 0; i < r->nheaders; i++) free(r->headers[i].name), free(r->headers[i].value);
  free(r->body);
  memset(r, 0, sizeof *r);
}

const char *acmeh_http_header_get(const acmeh_http_resp *r, const char *name) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
  return NULL;
}

size_t acmeh_http_header_count(const acmeh_http_resp *r, const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < r->nheaders; i++) n += strcasecmp(r->headers[i].name, name) == 0;
  return n;
}

/* Does the parameter list after "<url>" carry rel=<rel> (quoted or not, one of
 * several space-separated relation types)? */
static int has_rel(const char *params, size_t len, const char *rel) {
  char buf[512];
  if (len >= sizeof buf) len = sizeof buf - 1;
  memcpy(buf, params, len);
  buf[len] = '\0';
  for (char *p = strcasestr(buf, "rel="); p; p = strcasestr(p + 4, "rel=")) {
    char *v = p + 4, *end;
    if (*v == '"') v++, end = strchr(v, '"');
    else end = v + strcspn(v, ";,");
    if (!end) end = v + strlen(v);
    *end = '\0';
    for (char *tok = strtok(v, " "); tok; tok = strtok(NULL, " "))
      if (strcasecmp(tok, rel) == 0) return 1;
    return 0;
  }
  return 0;
}

char *acmeh_http_link(const acmeh_http_resp *r, const char *rel, size_t nth) {
  for (size_t i = 0; i < r->nheaders; i++) {
    if (strcasecmp(r->headers[i].name, "Link") != 0) continue;
    const char *p = r->headers[i].value;
    while ((p = strchr(p, '<')) != NULL) {
      const char *end = strchr(p, '>');
      if (!end) break;
      const char *next = strchr(end, '<');
      size_t plen = next ? (size_t)(next - end) : strlen(end);
      if (has_rel(end + 1, plen ? plen - 1 : 0, rel) && nth-- == 0) return strndup(p + 1, (size_t)(end - p - 1));
      p = end + 1;
    }
  }
  return NULL;
}

int acmeh_http_retry_after(const acmeh_http_resp *r, double *seconds) {
  const char *v = acmeh_http_header_get(r, "Retry-After");
  if (!v || !*v) return 0;
  char *end;
  long n = strtol(v, &end, 10);
  if (*end == '\0' && n >= 0 && end != v) {
    *seconds = (double)n;
    return 1;
  }
  time_t when = curl_getdate(v, NULL);
  if (when == -1) return 0;
  double d = (double)when - acmeh_now_wall();
  *seconds = d > 0 ? d : 0;
  return 1;
}

void acmeh_http_media_type(const acmeh_http_resp *r, char *out, size_t outlen) {
  const char *v = acmeh_http_header_get(r, "Content-Type");
  size_t n = v ? strcspn(v, ";") : 0;
  while (n && v[n - 1] == ' ') n--;
  if (n >= outlen) n = outlen - 1;
  for (size_t i = 0; i < n; i++) out[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
  out[n] = '\0';
}
