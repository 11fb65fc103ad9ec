/* The jwtclaimcon suite: tkauth-01 for JWTClaimConstraints identifiers
 * (draft-ietf-acme-authority-token-jwtclaimcon), a server under test. Its
 * descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl jwtclaimcon_server_checks[];

static const acmeh_check_impl *const tables[] = {jwtclaimcon_server_checks, NULL};
static const char *const challenge_types[] = {"tkauth-01", NULL};
static const char *const identifier_types[] = {"JWTClaimConstraints", NULL};

const acmeh_suite jwtclaimcon_suite = {
    .name = "jwtclaimcon",
    .id_prefix = "JCC",
    .checks = tables,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
};
