/* Helpers shared by the report writers. Internal to reports/: the public
 * interface is reports.h. */
#ifndef ACMEH_REPORTS_INTERNAL_H
#define ACMEH_REPORTS_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "harness/runner/result.h"

/* Verdict count; index an acmeh_rep_group.counts array with an acmeh_verdict. */
#define ACMEH_REP_NVERDICTS 7

/* The results of one (spec, role) pair: a JUnit <testsuite>, a summary line. */
typedef struct {
  const char *spec; /* borrowed from the first result of the group */
  const char *role;
  size_t counts[ACMEH_REP_NVERDICTS];
  size_t n;      /* results in the group */
  size_t uncounted; /* fail results that do not count (SHOULD/MAY without --strict) */
  double time_s; /* sum of the results' durations */
} acmeh_rep_group;

/* 1 when result r counts toward the exit status: --strict, or a MUST check
 * (harness/runner/runner.h, acmeh_runner_exit_status). */
int acmeh_rep_counted(const acmeh_run_report *rep, const acmeh_result *r);

/* 1 when the reports carry r's transcript: it failed, errored or xpassed, or
 * the run asked for every transcript. */
int acmeh_rep_keeps_transcript(const acmeh_run_report *rep, const acmeh_result *r);

/* The spec and role a result is reported under; never NULL (a result without a
 * role takes the run's, so a half-filled result still lands in a suite). */
const char *acmeh_rep_spec(const acmeh_result *r);
const char *acmeh_rep_role(const acmeh_run_report *rep, const acmeh_result *r);

/* Sets *out to a malloc'd array of the (spec, role) groups in order of first
 * appearance (NULL when rep has no results) and *nout to its length.
 * Returns ACMEH_OK or ACMEH_NOMEM. */
int acmeh_rep_groups(const acmeh_run_report *rep, acmeh_rep_group **out, size_t *nout);

/* Decodes one UTF-8 sequence at s (n bytes available). Returns its length and
 * sets *cp, or returns 0 when the bytes are not well-formed UTF-8 (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
size_t acmeh_rep_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* Returns a malloc'd copy of s with every ill-formed UTF-8 byte replaced by
 * U+FFFD, or NULL when out of memory. */
char *acmeh_rep_utf8_sanitize(const char *s);

/* Formats unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf. */
void acmeh_rep_iso8601(double unix_s, char *buf, size_t len);

/* Formats seconds as "%.3f" with a '.' whatever the locale, and 0 for
 * negative or non-finite values (xs:decimal has neither). */
void acmeh_rep_seconds(double s, char *buf, size_t len);

/* A file written under a temporary name and renamed into place on commit, so
 * a reader (CI uploading junit.xml) never sees half a report. Every write goes
 * through the helpers below, which record the first failure; commit reports it. */
typedef struct {
  FILE *f;
  char *tmp;        /* owned temporary path */
  const char *path; /* borrowed final path */
  int failed;
  int saved_errno;
} acmeh_rep_file;

/* Returns ACMEH_OK or ACMEH_ENV_IO / ACMEH_NOMEM with the reason in err. */
int acmeh_rep_file_open(acmeh_rep_file *a, const char *path, char *err, size_t errlen);
void acmeh_rep_puts(acmeh_rep_file *a, const char *s);
void acmeh_rep_putc(acmeh_rep_file *a, int c);
void acmeh_rep_write(acmeh_rep_file *a, const void *buf, size_t n);
void acmeh_rep_printf(acmeh_rep_file *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Marks the file failed with errno e (for writers that use a->f directly). */
void acmeh_rep_fail(acmeh_rep_file *a, int e);
/* Flushes, closes and renames onto the final path; on any earlier or present
 * failure removes the temporary file instead. Returns ACMEH_OK or ACMEH_ENV_IO. */
int acmeh_rep_file_commit(acmeh_rep_file *a, char *err, size_t errlen);
/* Closes and removes the temporary file (for errors before commit). */
void acmeh_rep_file_abort(acmeh_rep_file *a);

#endif
