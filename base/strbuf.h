/* A growable NUL-terminated text buffer (transcripts, messages). */
#ifndef ACMEH_BASE_STRBUF_H
#define ACMEH_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
  char *data; /* NUL-terminated, owned; NULL until the first append */
  size_t len; /* bytes, excluding the NUL */
  size_t cap;
  size_t max; /* 0 = unbounded; beyond max bytes appends are dropped and `truncated` set */
  int truncated;
} acmeh_strbuf;

/* Appends printf-style text. Returns ACMEH_OK or ACMEH_NOMEM. */
int acmeh_strbuf_printf(acmeh_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int acmeh_strbuf_vprintf(acmeh_strbuf *b, const char *fmt, va_list ap);

/* Appends `len` raw bytes (non-printable bytes shown as \xNN when `escape`). */
int acmeh_strbuf_append(acmeh_strbuf *b, const char *s, size_t len, int escape);

/* Hands the text to the caller (malloc'd, may be NULL when empty) and resets b. */
char *acmeh_strbuf_take(acmeh_strbuf *b);

void acmeh_strbuf_free(acmeh_strbuf *b);

/* Copies `s` (NULL = "") into buf (len >= 1 bytes, cut to fit) with every
 * control byte (below 0x20, and 0x7f), every UTF-8 C1 control (U+0080..U+009F)
 * and bidi override shown as one '?': text a peer sent must not drive the
 * user's terminal when printed. Returns buf. */
char *acmeh_term_clean(const char *s, char *buf, size_t len);

/* Is `item` one of the comma-separated entries of `list` ("ari,profiles"),
 * compared exactly? 1 or 0; NULL list or item -> 0. For option values such
 * as --suite and --kinds. */
int acmeh_list_has(const char *list, const char *item);

#endif
