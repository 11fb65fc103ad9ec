/* Helpers shared by the report writers: grouping, UTF-8, time formatting and
 * write-then-rename output files. */
#include "reports/report_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"

const char *acmeh_rep_spec(const acmeh_result *r) { return r->spec ? r->spec : "unknown"; }

const char *acmeh_rep_role(const acmeh_run_report *rep, const acmeh_result *r) {
  if (r->role) return r->role;
  return rep->role ? rep->role : "unknown";
}

static acmeh_rep_group *find_group(acmeh_rep_group *g, size_t n, const char *spec,
                                   const char *role) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(g[i].spec, spec) == 0 && strcmp(g[i].role, role) == 0) return &g[i];
  return NULL;
}

int acmeh_rep_groups(const acmeh_run_report *rep, acmeh_rep_group **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  if (rep->n == 0) return ACMEH_OK;
  /* At most one group per result, so one allocation suffices. */
  acmeh_rep_group *g = calloc(rep->n, sizeof *g);
  if (!g) return ACMEH_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < rep->n; i++) {
    const acmeh_result *r = &rep->results[i];
    const char *spec = acmeh_rep_spec(r), *role = acmeh_rep_role(rep, r);
    acmeh_rep_group *cur = find_group(g, n, spec, role);
    if (!cur) {
      cur = &g[n++];
      cur->spec = spec;
      cur->role = role;
    }
    unsigned v = (unsigned)r->verdict < ACMEH_REP_NVERDICTS ? (unsigned)r->verdict : ACMEH_ERROR;
    cur->counts[v]++;
    if (v == ACMEH_FAIL && !acmeh_rep_counted(rep, r)) cur->uncounted++;
    cur->n++;
    if (r->duration_s > 0) cur->time_s += r->duration_s;
  }
  *out = g;
  *nout = n;
  return ACMEH_OK;
}

int acmeh_rep_counted(const acmeh_run_report *rep, const acmeh_result *r) {
  return rep->strict || !r->level || strncmp(r->level, "MUST", 4) == 0;
}

int acmeh_rep_keeps_transcript(const acmeh_run_report *rep, const acmeh_result *r) {
  return rep->all_transcripts || r->verdict == ACMEH_FAIL || r->verdict == ACMEH_ERROR || r->verdict == ACMEH_XPASS;
}

size_t acmeh_rep_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
  if (n == 0) return 0;
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0; /* stray continuation byte, 0xC0/0xC1 (always overlong), or 0xF5+ */
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

char *acmeh_rep_utf8_sanitize(const char *s) {
  size_t n = strlen(s);
  /* Each bad byte grows to the 3 bytes of U+FFFD at most. */
  char *out = malloc(n * 3 + 1);
  if (!out) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, o = 0;
  while (i < n) {
    uint32_t cp;
    size_t len = acmeh_rep_utf8_next(p + i, n - i, &cp);
    if (len == 0) {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    } else {
      memcpy(out + o, p + i, len);
      o += len;
      i += len;
    }
  }
  out[o] = '\0';
  return out;
}

void acmeh_rep_iso8601(double unix_s, char *buf, size_t len) {
  time_t t = unix_s > 0 && unix_s < 253402300800.0 ? (time_t)unix_s : 0;
  struct tm tm;
  if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(buf, len, "1970-01-01T00:00:00Z");
}

void acmeh_rep_seconds(double s, char *buf, size_t len) {
  /* s == s is false for NaN; 1e12 s bounds the width of the output. */
  if (!(s == s) || s < 0 || s > 1e12) s = 0;
  snprintf(buf, len, "%.3f", s);
  /* A locale set by the CLI may print a decimal comma, which no schema accepts. */
  for (char *p = buf; *p; p++)
    if (*p == ',') *p = '.';
}

void acmeh_rep_fail(acmeh_rep_file *a, int e) {
  if (!a->failed) {
    a->failed = 1;
    a->saved_errno = e ? e : EIO;
  }
}

int acmeh_rep_file_open(acmeh_rep_file *a, const char *path, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  a->path = path;
  size_t n = strlen(path);
  static const char suffix[] = ".tmp.XXXXXX";
  a->tmp = malloc(n + sizeof suffix);
  if (!a->tmp) return acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory writing %s", path);
  memcpy(a->tmp, path, n);
  memcpy(a->tmp + n, suffix, sizeof suffix);
  /* Temp file beside the target so rename() stays on one file system. */
  int fd = mkstemp(a->tmp);
  if (fd < 0) {
    int e = errno;
    free(a->tmp);
    a->tmp = NULL;
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot create %s: %s", path, strerror(e));
  }
  /* mkstemp makes 0600; reports are meant to be read by CI and other users. */
  (void)fchmod(fd, 0644);
  a->f = fdopen(fd, "w");
  if (!a->f) {
    int e = errno;
    close(fd);
    unlink(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot open %s: %s", path, strerror(e));
  }
  return ACMEH_OK;
}

void acmeh_rep_puts(acmeh_rep_file *a, const char *s) {
  if (!a->failed && fputs(s, a->f) == EOF) acmeh_rep_fail(a, errno);
}

void acmeh_rep_putc(acmeh_rep_file *a, int c) {
  if (!a->failed && putc(c, a->f) == EOF) acmeh_rep_fail(a, errno);
}

void acmeh_rep_write(acmeh_rep_file *a, const void *buf, size_t n) {
  if (!a->failed && n && fwrite(buf, 1, n, a->f) != n) acmeh_rep_fail(a, errno);
}

void acmeh_rep_printf(acmeh_rep_file *a, const char *fmt, ...) {
  if (a->failed) return;
  va_list ap;
  va_start(ap, fmt);
  int rc = vfprintf(a->f, fmt, ap);
  va_end(ap);
  if (rc < 0) acmeh_rep_fail(a, errno);
}

static void drop_tmp(acmeh_rep_file *a) {
  if (a->tmp) unlink(a->tmp);
  free(a->tmp);
  a->tmp = NULL;
}

int acmeh_rep_file_commit(acmeh_rep_file *a, char *err, size_t errlen) {
  if (!a->f) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "%s was not opened", a->path);
  /* Buffered write errors (ENOSPC) surface only at flush or close. */
  if (fflush(a->f) == EOF) acmeh_rep_fail(a, errno);
  if (fclose(a->f) == EOF) acmeh_rep_fail(a, errno);
  a->f = NULL;
  if (a->failed) {
    drop_tmp(a);
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "writing %s: %s", a->path,
                     strerror(a->saved_errno));
  }
  if (rename(a->tmp, a->path) != 0) {
    int e = errno;
    drop_tmp(a);
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot rename onto %s: %s", a->path,
                     strerror(e));
  }
  free(a->tmp);
  a->tmp = NULL;
  return ACMEH_OK;
}

void acmeh_rep_file_abort(acmeh_rep_file *a) {
  if (a->f) fclose(a->f);
  a->f = NULL;
  drop_tmp(a);
}
