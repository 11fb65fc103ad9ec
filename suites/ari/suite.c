/* The ari suite: ACME Renewal Information (RFC 9773), both roles. Its descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl ari_window_checks[], ari_certid_checks[], ari_replaces_checks[], ari_client_checks[];

static const acmeh_check_impl *const tables[] = {ari_window_checks, ari_certid_checks, ari_replaces_checks,
                                                 ari_client_checks, NULL};

/* Which check judges RenewalInfo objects' schema (harness/acme/schema.h). */
static const acmeh_schema_judge schema_judges[] = {{"renewalInfo", "ARI-S-016"}, {NULL, NULL}};

const acmeh_suite ari_suite = {
    .name = "ari",
    .id_prefix = "ARI",
    .checks = tables,
    .schema_judges = schema_judges,
};
