/* Strict parsing of command-line values: a value that is not entirely a
 * number in range is a usage error, never silently 0 or truncated. */
#ifndef ACMEH_CLI_ARGS_H
#define ACMEH_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* Parses `s` (the value of option `opt`) as a base-10 integer in [min, max]
 * into *out. Returns 0, or 2 after printing "acme-harness: --opt: ..." to stderr. */
int acmeh_arg_long(const char *opt, const char *s, long min, long max, long *out);
int acmeh_arg_int(const char *opt, const char *s, int min, int max, int *out);

/* An unsigned 64-bit integer (no sign allowed). Same returns. */
int acmeh_arg_u64(const char *opt, const char *s, uint64_t *out);

/* A finite number of seconds in (0, max]. Same returns. */
int acmeh_arg_seconds(const char *opt, const char *s, double max, double *out);

/* Splits the comma-separated `list` (modified in place) into ids[*n...],
 * at most `cap` in all. Returns 0, or 2 (printed) when there are more. */
int acmeh_arg_ids(const char *opt, char *list, const char **ids, size_t *n, size_t cap);

/* Appends `value` to the comma-separated list in buf (cap bytes, NUL-terminated,
 * "" at first), for a repeatable option such as --draft. Returns 0, or 2 after
 * printing why (empty value, list full). */
int acmeh_arg_append(const char *opt, const char *value, char *buf, size_t cap);

#endif
