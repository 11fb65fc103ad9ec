/* Client under test: scenarios. A scenario is one run of the client under
 * test (an action such as "issue") against a fresh reference server loaded
 * with fault rules; every exchange is recorded. Scenarios are data
 * (suites/<spec>/scenarios.json); each runs at most once per harness run, the
 * first time a check asks for it, through the client-run engine
 * (runner/clientrun.h), and any number of checks judge its record. */
#ifndef ACMEH_RUNNER_SCENARIO_H
#define ACMEH_RUNNER_SCENARIO_H

#include <jansson.h>

#include "harness/runner/check.h"
#include "harness/runner/clientrun.h"


typedef struct acmeh_scenarios acmeh_scenarios;

/* Loads the scenarios.json of every registered suite (runner/suite.h) under data_dir (NULL = acmeh_data_dir()):
 * {"name": {"description", "action": "issue" (or "actions": ["issue", "revoke"], run in
 *  order in one client folder, stopping at the first that fails), "challenge": "http-01",
 *  "faults": [rules, harness/server/fault.h],
 *  "server": {"ari": {"off": bool, "window": "default" | "from_now" | "from_not_before",
 *                     "start_offset": s, "end_offset": s, "explanation_url", "retry_after": s},
 *             "profiles": {...} (server.h), "default_profile": name,
 *             "eab": {"kid", "key" (base64url), "required": bool} (one External Account
 *                     Binding key, RFC 8555 §7.3.4; the client gets EAB_KID and EAB_HMAC_KEY),
 *             "http01_token": "a/b+c=" (every http-01 challenge's token, validated as given;
 *                     server.h),
 *             "pk": "other-key" (pk-01's mode or deviation, server.h)},
 *  "vars": {"NAME": "value"} (extra variables for the client's commands, e.g. PROFILE),
 *  "wildcard": true (the client is asked for "*.<domain>"),
 *  "names": n (1-8, default 1: the client is asked for n names in one order, in
 *             ${DOMAINS}, comma-separated, ${DOMAIN} first; its "issue-multi"
 *             action orders them all),
 *  "identifier": "0:0:0:0:0:0:0:1" (the client is asked for exactly this, e.g. an
 *             IP address as a user might type it, instead of a fresh name),
 *  "upper_case": true (the names are given in upper case),
 *  "timeout_ms": n (>= 1000: the client is stopped after n ms, for scenarios
 *             where waiting is right; the record then says timed_out)}}.
 * Returns ACMEH_OK, ACMEH_ENV_IO / ACMEH_INTERNAL (bad file) with err. */
int acmeh_scenarios_load(const char *data_dir, acmeh_scenarios **out, char *err, size_t errlen);
void acmeh_scenarios_free(acmeh_scenarios *s);

/* Checks one scenario definition `d` named `name` from file `path` against
 * the shape above (an object; a known challenge type; actions 1 to 8 strings;
 * names 1 to 8; server and vars objects; fault rules acmeh_faults_validate
 * takes): a wrong type would let a check pass on a scenario that never ran as
 * written. Returns ACMEH_OK or ACMEH_INTERNAL with "PATH: scenario NAME:
 * FIELD ..." in err. acmeh_scenarios_load runs it on every definition. */
int acmeh_scenario_check(const char *path, const char *name, const json_t *d, char *err, size_t errlen);

/* The record of scenario `name` for the check in ctx, running it first if no
 * check did yet (others wait). Appends the run's summary and exchanges to the
 * check's transcript (*out is NULL when there is no such scenario). Returns ACMEH_OK; ACMEH_UNSUPPORTED after stating a skip
 * when the client cannot do it; ACMEH_INTERNAL for an unknown scenario;
 * ENV codes when the run could not be made (reason in ctx->err). */
int acmeh_scenario_get(acmeh_check_ctx *ctx, const char *name, const acmeh_client_run **out);

/* Calls fn(ud, name, record) for every scenario this run has already made
 * and whose client ran (not skipped as unsupported, not failed to start), in
 * scenarios.json order; stops at the first non-zero return and gives it back.
 * Runs nothing itself and appends nothing to the transcript. Checks whose
 * catalog scope is every-scenario (catalog.h) use it once the others are done.
 * *made is the number of such scenarios. Returns 0 or fn's first non-zero. */
typedef int (*acmeh_scenario_fn)(void *ud, const char *name, const acmeh_client_run *r);
int acmeh_scenario_each(acmeh_check_ctx *ctx, acmeh_scenario_fn fn, void *ud, size_t *made);

#endif
