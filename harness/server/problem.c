/* Responses: problem documents (RFC 7807, RFC 8555 §6.7), JSON bodies,
 * extra header lines, and RFC 3339 timestamps. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/server/internal.h"

json_t *srv_problem_obj(const char *type, const char *detail) {
  char t[128];
  snprintf(t, sizeof t, "%s%s", SRV_PROBLEM_NS, type);
  json_t *p = json_pack("{s:s,s:s}", "type", t, "detail", detail ? detail : "");
  if (p || !detail) return p;
  /* A peer's bytes quoted with a length cap ("%.60s") can end mid UTF-8
   * sequence, which jansson refuses: the problem still goes out, with every
   * non-ASCII byte shown as '?'. */
  char ascii[512];
  size_t n = 0;
  for (; detail[n] && n < sizeof ascii - 1; n++) ascii[n] = (unsigned char)detail[n] < 0x80 ? detail[n] : '?';
  ascii[n] = 0;
  return json_pack("{s:s,s:s}", "type", t, "detail", ascii);
}

void srv_json(srv_resp *rs, int status, json_t *body) {
  free(rs->body);
  rs->status = status;
  rs->ctype = "application/json";
  rs->body = body ? json_dumps(body, JSON_INDENT(2)) : NULL;
  rs->body_len = rs->body ? strlen(rs->body) : 0;
  json_decref(body);
}

void srv_problem_send(srv_resp *rs, int status, json_t *prob) {
  json_object_set_new(prob, "status", json_integer(status));
  srv_json(rs, status, prob);
  rs->ctype = "application/problem+json";
}

void srv_problem(srv_resp *rs, int status, const char *type, const char *fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  srv_problem_send(rs, status, srv_problem_obj(type, detail));
}

void srv_header(srv_resp *rs, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  acmeh_strbuf_vprintf(&rs->hdr, fmt, ap);
  va_end(ap);
  acmeh_strbuf_printf(&rs->hdr, "\r\n");
}

void srv_rfc3339(double t, char out[32]) {
  time_t secs = (time_t)t;
  struct tm tm;
  gmtime_r(&secs, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" (RFC 3339 §5.6). */
int srv_parse_rfc3339(const char *s, double *t) {
  struct tm tm = {0};
  const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  double frac = 0;
  if (*rest == '.') {
    char *end;
    frac = strtod(rest, &end);
    if (end == rest + 1) return 0;
    rest = end;
  }
  long off = 0;
  if (*rest == 'Z' || *rest == 'z') {
    rest++;
  } else if (*rest == '+' || *rest == '-') {
    int hh, mm, n = 0;
    if (sscanf(rest + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5) return 0;
    off = (hh * 3600L + mm * 60L) * (*rest == '-' ? -1 : 1);
    rest += 6;
  } else {
    return 0;
  }
  if (*rest) return 0;
  *t = (double)(timegm(&tm) - off) + frac;
  return 1;
}
