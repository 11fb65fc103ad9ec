/* The dnsaccount suite: the dns-account-01 challenge
 * (draft-ietf-acme-dns-account-label), both roles. Its descriptor. */
#include "harness/runner/suite.h"

extern const acmeh_check_impl dnsaccount_server_checks[], dnsaccount_client_checks[];

static const acmeh_check_impl *const tables[] = {dnsaccount_server_checks, dnsaccount_client_checks, NULL};
static const char *const challenge_types[] = {"dns-account-01", NULL};

const acmeh_suite dnsaccount_suite = {
    .name = "dnsaccount",
    .id_prefix = "DNSACCT",
    .checks = tables,
    .challenge_types = challenge_types,
};
