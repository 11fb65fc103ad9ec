/* The exchange observer (server.h, acmeh_server_observer): one JSON object
 * per exchange, built only when an observer is set, so a server without one
 * pays nothing. The JWS is decoded here on its own, leniently, because the
 * observer must see what the client sent even when verification refused it
 * before parsing (a wrong Content-Type, a broken envelope). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"
#include "harness/server/internal.h"

#define OBS_TEXT_CAP (64 * 1024) /* bytes of a body shown; the rest only counted */

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 if none.
 * NUL counts as ill-formed so the text stays usable as a C string. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!len || len > n) return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  /* Overlongs, surrogates and code points past U+10FFFF. */
  if (c == 0xe0 && p[1] < 0xa0) return 0;
  if (c == 0xed && p[1] > 0x9f) return 0;
  if (c == 0xf0 && p[1] < 0x90) return 0;
  if (c == 0xf4 && p[1] > 0x8f) return 0;
  return len;
}

json_t *srv_text_json(const char *data, size_t len) {
  const unsigned char *p = (const unsigned char *)(data ? data : "");
  size_t n = len > OBS_TEXT_CAP ? OBS_TEXT_CAP : len;
  acmeh_strbuf b = {0};
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq(p + i, n - i);
    if (k) {
      acmeh_strbuf_append(&b, (const char *)p + i, k, 0);
      i += k;
    } else {
      acmeh_strbuf_printf(&b, "\\x%02X", p[i]);
      i++;
    }
  }
  json_t *j = json_stringn(b.data ? b.data : "", b.len);
  acmeh_strbuf_free(&b);
  return j ? j : json_string("");
}

/* Decodes a base64url member as text (NULL when absent or not base64url). */
static json_t *b64_text(const char *b64) {
  if (!b64) return json_null();
  if (!*b64) return json_string("");
  unsigned char *raw = NULL;
  size_t n = 0;
  if (acmeh_b64url_decode(b64, strlen(b64), &raw, &n) != ACMEH_OK) return json_null();
  json_t *t = srv_text_json((const char *)raw, n);
  free(raw);
  return t;
}

/* Decodes the protected header as a JSON object (NULL when it is not one). */
static json_t *b64_object(const char *b64) {
  unsigned char *raw = NULL;
  size_t n = 0;
  if (!b64 || acmeh_b64url_decode(b64, strlen(b64), &raw, &n) != ACMEH_OK) return json_null();
  json_t *o = json_loadb((const char *)raw, n, 0, NULL);
  free(raw);
  if (json_is_object(o)) return o;
  json_decref(o);
  return json_null();
}

static json_t *str_or_null(const json_t *v) {
  return json_is_string(v) ? json_stringn(json_string_value(v), json_string_length(v)) : json_null();
}

json_t *srv_jws_view(const char *body, size_t len) {
  if (!body || len == 0) return json_null();
  char why[256] = "";
  acmeh_jws_parsed p = {0};
  int ok = acmeh_jws_parse(body, len, &p, why, sizeof why) == ACMEH_OK;
  acmeh_jws_parsed_free(&p);
  json_t *env = json_loadb(body, len, 0, NULL);
  const char *prot = json_string_value(json_object_get(env, "protected"));
  const char *payload = json_string_value(json_object_get(env, "payload"));
  json_t *v = json_object();
  json_object_set_new(v, "protected", b64_object(prot));
  json_object_set_new(v, "protected_b64", str_or_null(json_object_get(env, "protected")));
  json_object_set_new(v, "payload_b64", str_or_null(json_object_get(env, "payload")));
  json_object_set_new(v, "payload", b64_text(payload));
  json_object_set_new(v, "signature_b64", str_or_null(json_object_get(env, "signature")));
  json_object_set_new(v, "error", ok ? json_null() : json_string(why[0] ? why : "not a flattened JWS"));
  json_decref(env);
  return v;
}

static void lower(char *s) {
  for (; *s; s++)
    *s = (char)tolower((unsigned char)*s);
}

/* Adds name: value, joining a repeated header's values with ", " (RFC 9110 §5.3). */
static void header_add(json_t *h, const char *name, size_t nlen, const char *value, size_t vlen) {
  char key[256];
  snprintf(key, sizeof key, "%.*s", (int)(nlen < sizeof key ? nlen : sizeof key - 1), name);
  lower(key);
  json_t *val = srv_text_json(value, vlen);
  const char *old = json_string_value(json_object_get(h, key));
  if (old) {
    char *joined = NULL;
    if (asprintf(&joined, "%s, %s", old, json_string_value(val)) >= 0) json_object_set_new(h, key, json_string(joined));
    free(joined);
    json_decref(val);
  } else {
    json_object_set_new(h, key, val);
  }
}

static json_t *req_headers(const acmeh_httpsrv_req *req) {
  json_t *h = json_object();
  for (size_t i = 0; req && i < req->nheaders; i++)
    header_add(h, req->headers[i].name, strlen(req->headers[i].name), req->headers[i].value,
               strlen(req->headers[i].value));
  return h;
}

/* The response headers as httpsrv will frame them: Content-Type (when there
 * is one), Content-Length (not on 204), then the "Name: value\r\n" lines. */
json_t *srv_resp_headers(const acmeh_httpsrv_resp *out) {
  json_t *h = json_object();
  int status = out->status ? out->status : 200;
  const char *ctype = out->content_type ? out->content_type : status == 204 ? NULL : "text/plain";
  if (ctype && *ctype) json_object_set_new(h, "content-type", json_string(ctype));
  if (status != 204) json_object_set_new(h, "content-length", json_integer((json_int_t)out->body_len));
  for (const char *l = out->headers; l && *l;) {
    const char *eol = strstr(l, "\r\n");
    size_t n = eol ? (size_t)(eol - l) : strlen(l);
    const char *colon = memchr(l, ':', n);
    if (colon) {
      const char *v = colon + 1;
      while (v < l + n && (*v == ' ' || *v == '\t'))
        v++;
      header_add(h, l, (size_t)(colon - l), v, (size_t)(l + n - v));
    }
    l += n + (eol ? 2 : 0);
  }
  /* Content-Length is a number in the JSON only for the framing header; keep
   * every value a string as server.h promises. */
  json_t *cl = json_object_get(h, "content-length");
  if (json_is_integer(cl)) {
    char n[32];
    snprintf(n, sizeof n, "%lld", (long long)json_integer_value(cl));
    json_object_set_new(h, "content-length", json_string(n));
  }
  return h;
}

/* The account the request proved it speaks for: only after the JWS verified. */
static json_t *account_of(const srv_req *rq) {
  if (!rq->verified) return json_null();
  srv_account *a = rq->acct;
  if (!a && rq->jwk_thumb[0]) a = srv_account_by_key(rq->s, rq->jwk_thumb);
  if (!a) return json_null();
  char *u = srv_url(rq->s, "acct", a->e.id);
  json_t *j = u ? json_string(u) : json_null();
  free(u);
  return j;
}

static json_t *request_part(acmeh_server *s, const srv_req *rq) {
  const acmeh_httpsrv_req *req = rq ? rq->http : NULL;
  json_t *ex = json_object();
  json_object_set_new(ex, "seq", json_integer((json_int_t)++s->obs_seq));
  json_object_set_new(ex, "time_ms", json_integer((json_int_t)((uv_hrtime() - s->t0_ns) / 1000000)));
  json_object_set_new(ex, "method", srv_text_json(req ? req->method : "", req ? strlen(req->method) : 0));
  json_object_set_new(ex, "url", srv_text_json(rq && rq->url ? rq->url : "", rq && rq->url ? strlen(rq->url) : 0));
  json_object_set_new(ex, "path", srv_text_json(rq && rq->path ? rq->path : "", rq && rq->path ? strlen(rq->path) : 0));
  json_object_set_new(ex, "resource", json_string(rq && rq->resource ? rq->resource : "unknown"));
  json_object_set_new(ex, "req_headers", req_headers(req));
  json_object_set_new(ex, "req_body", srv_text_json(req ? req->body : "", req ? req->body_len : 0));
  json_object_set_new(ex, "req_body_len", json_integer(req ? (json_int_t)req->body_len : 0));
  json_object_set_new(ex, "jws", req ? srv_jws_view(req->body, req->body_len) : json_null());
  json_object_set_new(ex, "account", rq ? account_of(rq) : json_null());
  return ex;
}

void srv_observe(acmeh_server *s, const srv_req *rq, const acmeh_httpsrv_resp *out, const srv_outcome *oc) {
  if (!s->observer) return;
  json_t *ex = request_part(s, rq);
  int dropped_early = oc && oc->drop == SRV_DROP_BEFORE_HEADERS;
  int dropped = oc && oc->drop != 0;
  int head = rq && rq->http && strcmp(rq->http->method, "HEAD") == 0;
  json_object_set_new(ex, "status", json_integer(dropped ? 0 : out->status ? out->status : 200));
  json_object_set_new(ex, "resp_headers", dropped_early ? json_object() : srv_resp_headers(out));
  json_object_set_new(ex, "resp_body", dropped || head ? json_string("") : srv_text_json(out->body, out->body_len));
  json_object_set_new(ex, "faults", oc && oc->faults ? json_incref(oc->faults) : json_array());
  s->observer(s->observer_ud, ex);
  json_decref(ex);
}

static json_int_t ms_since_start(const acmeh_server *s, uint64_t t_ns) {
  return t_ns > s->t0_ns ? (json_int_t)((t_ns - s->t0_ns) / 1000000) : 0;
}

void srv_observe_validation(acmeh_server *s, const srv_validation_report *r) {
  if (!s->validation_observer) return;
  const char *status = r->cancelled ? "cancelled" : r->result ? "invalid" : "valid";
  json_t *v = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "challenge", r->challenge_url ? r->challenge_url : "", "type",
                        r->type ? r->type : "", "identifier", r->identifier ? r->identifier : "", "arrived_ms",
                        ms_since_start(s, r->arrived_ns), "started_ms", ms_since_start(s, r->started_ns), "ended_ms",
                        ms_since_start(s, r->ended_ns), "status", status);
  if (!v) return;
  json_object_set_new(v, "error", !r->cancelled && r->result ? json_deep_copy(r->result) : json_null());
  s->validation_observer(s->validation_observer_ud, v);
  json_decref(v);
}
