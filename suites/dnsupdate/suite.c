/* The dnsupdate suite: DNS UPDATE (RFC 2136) with TSIG (RFC 8945) as the
 * way dns-01 records are provisioned, a nameserver under test (DNSUP-S) and
 * a client under test that publishes by UPDATE (DNSUP-C). Its descriptor. */
#include "harness/runner/suite.h"
#include "suites/dnsupdate/client.h"

extern const acmeh_check_impl dnsupdate_update_checks[], dnsupdate_tsig_checks[], dnsupdate_client_checks[];

static const acmeh_check_impl *const tables[] = {dnsupdate_update_checks, dnsupdate_tsig_checks,
                                                 dnsupdate_client_checks, NULL};

const acmeh_suite dnsupdate_suite = {
    .name = "dnsupdate",
    .id_prefix = "DNSUP",
    .checks = tables,
    .scenario_begin = dnsupdate_scenario_begin,
    .scenario_end = dnsupdate_scenario_end,
};
