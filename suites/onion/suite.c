/* The onion suite: ".onion" special-use domain names in ACME (RFC 9799):
 * v3 onion identifiers, the onion-csr-01 challenge and in-band CAA. Its
 * descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl onion_server_checks[], onion_client_checks[];
json_t *onion_scenario_begin(const acmeh_scenario_hook_args *a);

static const acmeh_check_impl *const tables[] = {onion_server_checks, onion_client_checks, NULL};
static const char *const challenge_types[] = {"onion-csr-01", NULL};

/* ONION-S-007 judges the reference client's onion-csr-01 answer. */
static const acmeh_step_judge step_judges[] = {{"onion-csr-01 challenge", "ONION-S-007"}, {NULL, NULL}};

const acmeh_suite onion_suite = {
    .name = "onion",
    .id_prefix = "ONION",
    .checks = tables,
    .challenge_types = challenge_types,
    .step_judges = step_judges,
    .scenario_begin = onion_scenario_begin,
};
