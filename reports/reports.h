/* Report writers: JUnit XML, JSON results, per-check transcripts, and the
 * console summary. */
#ifndef ACMEH_REPORTS_H
#define ACMEH_REPORTS_H

#include <stddef.h>
#include <stdio.h>

#include "harness/runner/result.h"

/* Writes JUnit XML to `path`: one <testsuite> per (spec, role) pair, one
 * <testcase> per result (name = "ID title", classname = spec), <failure> with
 * expected / actual / section / transcript path for fail and xpass,
 * <skipped message=...> for skip and xfail, <error> for error, the transcript
 * in <system-out>. Text is XML-escaped and invalid XML characters replaced.
 * Returns ACMEH_OK or ACMEH_ENV_IO with the reason in err (errlen bytes). */
int acmeh_report_junit_write(const acmeh_run_report *rep, const char *path, char *err,
                             size_t errlen);

/* Writes the JSON results document to `path`:
 * {"tool":..,"target":..,"seed":..,"started":..,"duration_s":..,
 *  "summary":{"pass":n,...},"results":[{"id","title","spec","section","level","role",
 *  "verdict","message","expected","actual","xfail_reason","duration_s","transcript"}]}.
 * Returns ACMEH_OK or ACMEH_ENV_IO. */
int acmeh_report_json_write(const acmeh_run_report *rep, const char *path, char *err,
                            size_t errlen);

/* Writes each non-empty transcript to `dir`/<ID>.txt (creating dir) and sets
 * result->transcript_path. Returns ACMEH_OK or ACMEH_ENV_IO. */
int acmeh_report_transcripts_write(acmeh_run_report *rep, const char *dir, char *err,
                                   size_t errlen);

/* Prints one line per failing/erroring check (ID, message, transcript path)
 * and one summary line per (spec, role):
 *   "core server: 40 passed, 3 failed, 2 skipped, 0 errors, 1 xfail, 0 xpass (12.3 s)".
 * Colours only when `color` is non-zero. */
void acmeh_report_summary(const acmeh_run_report *rep, FILE *out, int color);

/* ---- interop matrix (acme-harness matrix; writer in reports/matrix.c) ----
 * Rows are client targets; a column is one server target x one scenario kind
 * ("issue", later "ari", "profiles") x, for kinds that have one, a challenge
 * type. A cell is one client run against one server, judged with the verdicts
 * of every other report (harness/runner/result.h): pass, fail, skip, error. */
typedef struct {
  const char *server;    /* server target name */
  const char *kind;      /* scenario kind, e.g. "issue" */
  const char *challenge; /* "http-01", "dns-01", "tls-alpn-01", or NULL */
  const char *server_version; /* the server target's version (its "version" command), or NULL */
} acmeh_mx_column;

typedef struct {
  acmeh_verdict verdict;
  char *reason;           /* one line saying why (owned by the caller; may be NULL for pass) */
  double duration_s;      /* wall time of the cell, seconds */
  char *transcript;       /* path relative to the output folder, or NULL (owned by the caller) */
  /* The per-request client checks (every suite's live judge, e.g. CORE-C-001..009)
   * run over the exchanges the reference server recorded: how many checks
   * judged at least one request, and the IDs of those that failed,
   * comma-separated (owned; NULL when none failed). checks_judged 0 = not
   * judged (a server target, or no request). */
  size_t checks_judged;
  char *checks_failed;
} acmeh_mx_cell;

typedef struct {
  const char *const *clients; /* row names */
  const char *const *client_versions; /* their versions (NULL, or entries NULL when unknown) */
  size_t nclients;
  const acmeh_mx_column *columns;
  size_t ncolumns;
  const acmeh_mx_cell *cells; /* nclients * ncolumns, row by row */
  double started_unix;        /* wall clock at the start, seconds since 1970 */
  double duration_s;          /* the whole matrix, seconds */
  int interrupted;            /* Ctrl-C: unfinished cells are errors saying so */
} acmeh_matrix;

/* Writes `dir`/matrix.md (Markdown table, each cell a link to its
 * transcript), `dir`/matrix.html (self-contained, no script, a colour per
 * verdict) and `dir`/matrix.json ({"started","duration_s","interrupted",
 * "clients":[..],"columns":[{"server","kind","challenge"}],"summary":{verdict:n},
 * "cells":[{"client","server","kind","challenge","verdict","reason",
 * "duration_s","transcript"}]}). `dir` must exist. Every string a peer could
 * influence is escaped for its format (HTML, Markdown, JSON with ill-formed
 * UTF-8 replaced). Each file is written under a temporary name and renamed.
 * Returns ACMEH_OK, ACMEH_ENV_IO or ACMEH_NOMEM with the reason in err. */
int acmeh_report_matrix_write(const acmeh_matrix *m, const char *dir, char *err, size_t errlen);

#endif
