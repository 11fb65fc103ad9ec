#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static int reserve(acmeh_strbuf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return ACMEH_OK;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) return ACMEH_NOMEM;
  b->data = p;
  b->cap = cap;
  return ACMEH_OK;
}

/* Returns how many of `want` bytes still fit under b->max. */
static size_t room(acmeh_strbuf *b, size_t want) {
  if (!b->max || b->len + want <= b->max) return want;
  b->truncated = 1;
  return b->len < b->max ? b->max - b->len : 0;
}

int acmeh_strbuf_vprintf(acmeh_strbuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return ACMEH_INTERNAL;
  if (reserve(b, (size_t)n)) return ACMEH_NOMEM;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  size_t keep = room(b, (size_t)n);
  b->len += keep;
  b->data[b->len] = '\0';
  return ACMEH_OK;
}

int acmeh_strbuf_printf(acmeh_strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = acmeh_strbuf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

int acmeh_strbuf_append(acmeh_strbuf *b, const char *s, size_t len, int escape) {
  len = room(b, len);
  if (reserve(b, escape ? len * 4 : len)) return ACMEH_NOMEM;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (escape && c < 0x20 && c != '\n' && c != '\t' && c != '\r')
      b->len += (size_t)sprintf(b->data + b->len, "\\x%02x", c);
    else if (escape && c == 0x7f)
      b->len += (size_t)sprintf(b->data + b->len, "\\x7f");
    else
      b->data[b->len++] = (char)c;
  }
  b->data[b->len] = '\0';
  return ACMEH_OK;
}

char *acmeh_strbuf_take(acmeh_strbuf *b) {
  char *p = b->data;
  if (p && b->truncated) {
    acmeh_strbuf_printf(b, "\n[... transcript truncated ...]\n");
    p = b->data;
  }
  memset(b, 0, sizeof *b);
  return p;
}

void acmeh_strbuf_free(acmeh_strbuf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

int acmeh_list_has(const char *list, const char *item) {
  size_t n = item ? strlen(item) : 0;
  for (const char *p = item ? list : NULL; p && *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, item, n) == 0) return 1;
    p += len + (p[len] == ',');
  }
  return 0;
}

/* Bytes of a UTF-8 sequence a terminal acts on: C1 controls U+0080..U+009F
 * (C2 80..C2 9F: xterm takes CSI, OSC, ST in this form) and the bidi
 * overrides and isolates U+202A..U+202E, U+2066..U+2069; 0 for others. */
static size_t c1_or_bidi(const unsigned char *p) {
  if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) return 2;
  if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) return 3;
  if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9) return 3;
  return 0;
}

char *acmeh_term_clean(const char *s, char *buf, size_t len) {
  size_t i = 0;
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && i + 1 < len; p++) {
    size_t n = c1_or_bidi(p); /* reads at most 3 bytes: the NUL ends a shorter string first */
    buf[i++] = *p < 0x20 || *p == 0x7f || n ? '?' : (char)*p;
    if (n) p += n - 1;
  }
  buf[i] = '\0';
  return buf;
}
