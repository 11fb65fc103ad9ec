/* Report writers: JUnit XML, JSON results, per-check transcripts, and the
 * console summary. */
#ifndef ACMEH_REPORTS_H
#define ACMEH_REPORTS_H

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

#endif
