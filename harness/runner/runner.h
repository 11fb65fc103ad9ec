/* Runs the selected checks of a catalog against one environment: a pool of
 * --jobs worker threads, a per-check time budget enforced by a watchdog, and
 * verdicts adjusted by the target's expectations (xfail / xpass). */
#ifndef ACMEH_RUNNER_RUNNER_H
#define ACMEH_RUNNER_RUNNER_H

#include <jansson.h>

#include "harness/runner/catalog.h"
#include "harness/runner/check.h"
#include "harness/runner/result.h"

typedef struct {
  const char *suite;        /* NULL = all suites */
  const char *const *ids;   /* check ID globs; NULL/0 = all */
  size_t nids;
  const char *level;        /* "MUST", "SHOULD", "MAY" or NULL */
  const char *role;         /* "server" / "client" / NULL */
  int jobs;                 /* parallel checks, >= 1 */
  double timeout_s;         /* per check; after it (+2 s grace) the check is an error */
  const json_t *expectations; /* {"ID or glob": "reason", ...} or NULL */
  int live;                 /* print each verdict to stderr as it arrives */
  const json_t *drafts;     /* {"<suite>": "<revision>"} under test (acmeh_catalog_drafts);
                               checks that do not apply to it are not run. NULL = all */
} acmeh_run_opts;

/* Runs the checks and fills *rep (results in catalog order; free with
 * acmeh_run_report_free). Returns ACMEH_OK, ACMEH_INVALID_ARG when nothing
 * matched the selection, ACMEH_NOMEM. */
int acmeh_runner_run(const acmeh_catalog *cat, const acmeh_env *env, const acmeh_run_opts *o,
                     acmeh_run_report *rep, char *err, size_t errlen);

void acmeh_run_report_free(acmeh_run_report *rep);

/* Exit status of a finished run (docs/architecture.md): 1 when a MUST check (any check
 * with `strict`) failed or errored, an xpass occurred, or such a check is blocked by a
 * step whose judging check the run did not include; else 0. */
int acmeh_runner_exit_status(const acmeh_run_report *rep, int strict);

/* The judging check (static string) of the first counted blocked result whose
 * judge is not among the run's results, or NULL. */
const char *acmeh_runner_unreported_block(const acmeh_run_report *rep, int strict);

/* Asks a running acmeh_runner_run to start no further checks (async-signal-safe). */
void acmeh_runner_cancel(void);

/* The expectations entry for check `id` (exact key, else the first matching
 * glob) when it applies to `revision` (the check's suite's revision under
 * test, or NULL): its reason, or NULL. An entry is "reason", or
 * {"reason": "...", "revisions": ["<revision>", ...], "message": "<glob>"}:
 * "revisions" for a deviation that shows only under those revisions (e.g. a
 * server implementing an older draft than the one tested); "message" is the
 * failure's signature, an fnmatch(3) glob over the failure message: a failure
 * that does not match is a plain fail ("differs from the expected failure"). */
const char *acmeh_expectation_for(const json_t *expectations, const char *id, const char *revision);

/* The "message" pattern of the entry for `id` (borrowed), or NULL. */
const char *acmeh_expectation_pattern(const json_t *expectations, const char *id);

/* Checks the shape of an expectations object: every value a non-empty
 * string, or an object with a non-empty string "reason" and optionally
 * "revisions", a non-empty array of strings. Returns ACMEH_OK, or
 * ACMEH_INVALID_ARG with "NAME: KEY: why" in err (name names the file). */
int acmeh_expectations_check(const json_t *expectations, const char *name, char *err, size_t errlen);

#endif
