/* The tkauth suite: tkauth-01 for TNAuthList identifiers (RFC 9447, RFC
 * 9448), a server under test. Its descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl tkauth_server_checks[];

static const acmeh_check_impl *const tables[] = {tkauth_server_checks, NULL};
static const char *const challenge_types[] = {"tkauth-01", NULL};
static const char *const identifier_types[] = {"TNAuthList", NULL};

const acmeh_suite tkauth_suite = {
    .name = "tkauth",
    .id_prefix = "ATC",
    .checks = tables,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
};
