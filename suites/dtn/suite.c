/* The dtn suite: bundleEID identifiers and the bp-nodeid-00 challenge of
 * RFC 9891 (draft-ietf-acme-dtnnodeid-18), Challenge and Response Bundles as
 * BPv7 administrative records over the run's mock bundle node (TCPCLv4).
 * Its descriptor. */
#include "harness/runner/suite.h"
#include "suites/dtn/dtn.h"

extern const acmeh_check_impl dtn_server_checks[], dtn_client_checks[];

static const acmeh_check_impl *const tables[] = {dtn_server_checks, dtn_client_checks, NULL};
static const char *const challenge_types[] = {"bp-nodeid-00", NULL};
static const char *const identifier_types[] = {"bundleEID", NULL};
static const acmeh_step_judge step_judges[] = {{DTN_STEP_ORDER, "DTN-S-001"}, {NULL, NULL}};

const acmeh_suite dtn_suite = {
    .name = "dtn",
    .id_prefix = "DTN",
    .checks = tables,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
    .step_judges = step_judges,
};
