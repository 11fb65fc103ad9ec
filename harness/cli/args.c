#include "harness/cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *opt, const char *s, const char *want) {
  fprintf(stderr, "acme-harness: --%s: \"%.80s\" is not %s\n", opt, s, want);
  return 2;
}

int acmeh_arg_long(const char *opt, const char *s, long min, long max, long *out) {
  char *end, want[96];
  errno = 0;
  long v = strtol(s, &end, 10);
  snprintf(want, sizeof want, "a whole number from %ld to %ld", min, max);
  if (!*s || *end || errno || v < min || v > max) return bad(opt, s, want);
  *out = v;
  return 0;
}

int acmeh_arg_int(const char *opt, const char *s, int min, int max, int *out) {
  long v;
  int rc = acmeh_arg_long(opt, s, min, max, &v);
  if (rc == 0) *out = (int)v;
  return rc;
}

int acmeh_arg_u64(const char *opt, const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *s == '-' || *s == '+' || *end || errno) return bad(opt, s, "an unsigned 64-bit number");
  *out = v;
  return 0;
}

int acmeh_arg_seconds(const char *opt, const char *s, double max, double *out) {
  char *end, want[64];
  double v = strtod(s, &end);
  snprintf(want, sizeof want, "a number of seconds above 0 and at most %.0f", max);
  if (!*s || *end || !isfinite(v) || v <= 0 || v > max) return bad(opt, s, want);
  *out = v;
  return 0;
}

int acmeh_arg_ids(const char *opt, char *list, const char **ids, size_t *n, size_t cap) {
  char *save = NULL;
  for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (*n == cap) {
      fprintf(stderr, "acme-harness: --%s: more than %zu check IDs; use globs such as CORE-S-0*\n", opt, cap);
      return 2;
    }
    ids[(*n)++] = t;
  }
  return 0;
}

int acmeh_arg_append(const char *opt, const char *value, char *buf, size_t cap) {
  size_t used = strlen(buf), add = strlen(value) + (used ? 1 : 0);
  if (!*value) return fprintf(stderr, "acme-harness: --%s needs a value\n", opt), 2;
  if (used + add + 1 > cap) return fprintf(stderr, "acme-harness: --%s: too many values (over %zu bytes)\n", opt, cap - 1), 2;
  snprintf(buf + used, cap - used, "%s%s", used ? "," : "", value);
  return 0;
}
