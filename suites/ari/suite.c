/* The ari suite: ACME Renewal Information (RFC 9773), both roles. Its descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl ari_window_checks[], ari_certid_checks[], ari_replaces_checks[], ari_client_checks[];

static const acmeh_check_impl *const tables[] = {ari_window_checks, ari_certid_checks, ari_replaces_checks,
                                                 ari_client_checks, NULL};

const acmeh_suite ari_suite = {
    .name = "ari",
    .id_prefix = "ARI",
    .checks = tables,
};
