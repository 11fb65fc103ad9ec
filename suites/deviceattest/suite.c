/* The deviceattest suite: device-attest-01 and the permanent-identifier /
 * hardware-module identifiers (draft-ietf-acme-device-attest), server role.
 * Its descriptor. */
#include <string.h>

#include "harness/runner/suite.h"

extern const acmeh_check_impl deviceattest_server_checks[];

static const acmeh_check_impl *const tables[] = {deviceattest_server_checks, NULL};
static const char *const challenge_types[] = {"device-attest-01", NULL};
static const char *const identifier_types[] = {"permanent-identifier", "hardware-module", NULL};

/* device-attest-01 (Jan 2026) has no value syntax: a permanent-identifier
 * value is all identifierValue ("/" is an ordinary character) and
 * hardware-module has no string form; -02 onwards (to -09, the newest text
 * found) have "<id>[/<assigner OID>]" and "<serial>/<type OID>". */
static void wire(const char *revision, acmeh_wire *w) {
  if (strcmp(revision, "device-attest-01") == 0) w->devattest_rev = 1;
}

/* DA-S-005 judges the reference client's device-attest-01 answer. */
static const acmeh_step_judge step_judges[] = {{"device-attest-01 challenge", "DA-S-005"}, {NULL, NULL}};

const acmeh_suite deviceattest_suite = {
    .name = "deviceattest",
    .id_prefix = "DA",
    .checks = tables,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
    .wire = wire,
    .step_judges = step_judges,
};
