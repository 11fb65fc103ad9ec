/* The registry: every suite the harness has, one line each. This file is the
 * only place that names suites; the runner, `serve` and the matrix walk the
 * list (harness/runner/suite.h). Adding a spec: its folder suites/<name>/
 * exporting `const acmeh_suite <name>_suite`, and one line here. */
#include "harness/runner/suite.h"

/* One line per suite, each ending in a backslash. */
#define ACMEH_SUITE_LIST(X) \
  X(core)                   \
  X(ari)                    \
  X(profiles)               \
  X(dnsaccount)             \
  X(dnsupdate)              \
  X(tkauth)                 \
  X(jwtclaimcon)            \
  X(pk)                     \
  X(dnspersist)             \
  X(dtn)                    \
  X(deviceattest)           \
  X(onion)                  \


#define DECLARE(name) extern const acmeh_suite name##_suite;
#define ENTRY(name) &name##_suite,
ACMEH_SUITE_LIST(DECLARE)
const acmeh_suite *const acmeh_suite_registry[] = {ACMEH_SUITE_LIST(ENTRY) NULL};
