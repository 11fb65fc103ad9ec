/* The profiles suite: ACME profiles (draft-ietf-acme-profiles), both roles. Its descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl profiles_checks[], profiles_client_checks[];

static const acmeh_check_impl *const tables[] = {profiles_checks, profiles_client_checks, NULL};

const acmeh_suite profiles_suite = {
    .name = "profiles",
    .id_prefix = "PROF",
    .checks = tables,
};
