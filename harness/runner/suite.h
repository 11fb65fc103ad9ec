/* The suite descriptor: everything one spec brings to the harness, in one
 * value that its folder suites/<name>/ exports. The runner, `serve` and the
 * matrix reach suites only through these values (the registry,
 * suites/registry.c, lists them); no engine names a suite.
 * docs/architecture.md, "The suite descriptor" and "Adding a suite". */
#ifndef ACMEH_RUNNER_SUITE_H
#define ACMEH_RUNNER_SUITE_H

#include <jansson.h>
#include <stddef.h>

#include "harness/runner/check.h"
#include "harness/targets/vars.h"
#include "mocks/mocks.h"

/* What a suite's scenario hooks get around one client-under-test run
 * (runner/scenario.c). Everything is borrowed for the call. */
typedef struct {
  acmeh_mocks *mocks;  /* the run's mocks (DNS, HTTP-01, TLS-ALPN-01) */
  const json_t *def;   /* the scenario's definition (suites/<name>/scenarios.json) */
  const char *domain;  /* the first name the client is asked to certify */
  acmeh_vars *vars;    /* the client's variables: begin may add to them */
} acmeh_scenario_hook_args;

/* Called once per verdict a live judge reaches: `id` ("CORE-C-001", a static
 * string), `pass` 1 or 0, `message` ("expected ...; got ..." on a failure,
 * what held on a pass). Strings are valid only during the call. */
typedef void (*acmeh_live_emit)(void *ud, const char *id, int pass, const char *message);

/* Checks a suite can judge one exchange at a time, as `acme-harness serve`
 * shows them live. State holds what earlier exchanges showed (nonces used,
 * account URLs), one state per stream of exchanges. */
typedef struct {
  /* A new, empty state, or NULL when out of memory. */
  void *(*create)(void);
  /* Frees a state from create (NULL is a no-op). */
  void (*destroy)(void *state);
  /* Judges exchange `x` (an object as harness/server/server.h describes)
   * with every per-exchange check, calling emit for each verdict. Not
   * thread-safe per state. Returns the number of failures. */
  size_t (*exchange)(void *state, const json_t *x, acmeh_live_emit emit, void *ud);
} acmeh_live_judge;

/* A protocol step of the reference client (harness/client/acme.h,
 * acmeh_acme_step) and a check that judges it. */
typedef struct {
  const char *step;  /* "newAccount" */
  const char *check; /* "CORE-S-029" */
} acmeh_step_judge;

/* An object kind (harness/acme/schema.h: "order", "newOrder", ...) and the
 * check that judges every object of that kind the run saw. */
typedef struct {
  const char *kind;  /* "order" */
  const char *check; /* "CORE-S-115" */
} acmeh_schema_judge;

typedef struct acmeh_suite {
  /* The one spelling of the suite everywhere: `--suite`, the catalog's
   * "spec", suites/<name>/, vectors/<name>/ and the suite's C prefix. The
   * check-ID prefix (e.g. DNSACCT for dnsaccount) is published and stays. */
  const char *name;
  /* The check-ID prefix of its checks, e.g. "CORE" (informational). */
  const char *id_prefix;
  /* Its check implementations: a NULL-terminated list of tables, each
   * ending with an entry whose id is NULL. */
  const acmeh_check_impl *const *checks;
  /* Client scenarios: called before the client's first action (after the
   * reference server started) and after its last (after the server stopped).
   * begin returns the suite's state for this run or NULL when the scenario
   * is none of its business; end receives it (NULL too) and returns what the
   * suite keeps of the run (new reference, or NULL), found later under
   * acmeh_client_run.suite_data[name]. Either may be NULL; without an end,
   * begin's state is kept as it is. */
  json_t *(*scenario_begin)(const acmeh_scenario_hook_args *a);
  json_t *(*scenario_end)(const acmeh_scenario_hook_args *a, json_t *state);
  /* Per-exchange client checks for `serve`, or NULL. */
  const acmeh_live_judge *live;
  /* Challenge types and identifier types the suite adds to the reference
   * sides (NULL-terminated, or NULL for none). */
  const char *const *challenge_types;
  const char *const *identifier_types;
  /* Where the suite's revisions differ on the wire: sets the fields of *w
   * that revision `revision` (one of its catalog's "revisions") changes, so
   * that the reference client and server follow the revision under test
   * (--draft). NULL when every revision looks the same on the wire. */
  void (*wire)(const char *revision, acmeh_wire *w);
  /* The checks of this suite that judge the reference client's steps, ending
   * with {NULL, NULL} (or NULL): when a set-up step fails, every other check
   * that needed it is blocked, naming the first judge of the step
   * (acmeh_step_judge_of, harness/kit/fixture.h). */
  const acmeh_step_judge *step_judges;
  /* The checks of this suite that judge object schemas, ending with {NULL,
   * NULL} (or NULL): after the run, each such check fails with every
   * violation logged for its kind (once per receiving check and field),
   * passes when objects of its kind were checked without one, and skips when
   * none was seen (runner.c, docs/architecture.md "Object schemas"). */
  const acmeh_schema_judge *schema_judges;
} acmeh_suite;

/* Every registered suite, in registry order, NULL-terminated
 * (suites/registry.c; the only list of suites). */
const acmeh_suite *const *acmeh_suites(void);

/* The suite named `name` (exact), or NULL. */
const acmeh_suite *acmeh_suite_find(const char *name);

/* The first name in the comma-separated `list` that is no registered suite,
 * copied into bad (len bytes); 0 when every name is one, else 1. */
int acmeh_suite_unknown(const char *list, char *bad, size_t len);

/* The suite whose checks include `id`, or NULL. */
const acmeh_suite *acmeh_suite_of_check(const char *id);

/* Data paths of a suite under `data_dir` (NULL = acmeh_data_dir()), written
 * into buf (len bytes): "<data>/suites/<name>/catalog.json",
 * ".../scenarios.json" and "<data>/vectors/<name>". Return buf. */
char *acmeh_suite_catalog_path(const acmeh_suite *s, const char *data_dir, char *buf, size_t len);
char *acmeh_suite_scenarios_path(const acmeh_suite *s, const char *data_dir, char *buf, size_t len);
char *acmeh_suite_vectors_dir(const acmeh_suite *s, const char *data_dir, char *buf, size_t len);

/* The first check (of any suite) that judges `step`, or NULL when none; *is_judge
 * = 1 when `check_id` is one of the step's judges (its failure is its own). */
const char *acmeh_step_judge_of(const char *step, const char *check_id, int *is_judge);

/* The wire behaviour of the chosen revisions: `drafts` is {"<suite>":
 * "<revision>"} (acmeh_catalog_drafts); every suite with a wire hook is asked
 * with its revision. *w is zeroed first (the newest revisions' behaviour). */
void acmeh_suites_wire(const json_t *drafts, acmeh_wire *w);

/* Writes the registered suite names, comma-separated ("core, ari, ...")
 * into buf (len bytes), for usage text. Returns buf. */
char *acmeh_suite_names(char *buf, size_t len);

#endif
