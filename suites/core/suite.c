/* The core suite: RFC 8555 with RFC 8737 (tls-alpn-01) and RFC 8738 (IP
 * identifiers), both roles. Its descriptor (harness/runner/suite.h). */
#include "suites/core/core_suite.h"

static const acmeh_check_impl *const tables[] = {
    core_directory_checks, core_nonce_checks,     core_jws_checks,  core_account_checks,
    core_keychange_checks, core_order_checks,     core_challenge_checks, core_cert_checks,
    core_error_checks,     core_client_checks,    core_ip_checks,   core_eab_checks, NULL};

static const char *const challenge_types[] = {"http-01", "dns-01", "tls-alpn-01", NULL};
static const char *const identifier_types[] = {"dns", "ip", NULL};

const acmeh_suite core_suite = {
    .name = "core",
    .id_prefix = "CORE",
    .checks = tables,
    .live = &core_live_judge,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
};
