/* The core suite: RFC 8555 with RFC 8737 (tls-alpn-01) and RFC 8738 (IP
 * identifiers), both roles. Its descriptor (harness/runner/suite.h). */
#include "suites/core/core_suite.h"

static const acmeh_check_impl *const tables[] = {
    core_directory_checks, core_nonce_checks,     core_jws_checks,  core_account_checks,
    core_keychange_checks, core_order_checks,     core_challenge_checks, core_cert_checks,
    core_error_checks,     core_client_checks,    core_ip_checks,   core_eab_checks, core_client_trouble_checks,
    core_schema_checks,    NULL};

static const char *const challenge_types[] = {"http-01", "dns-01", "tls-alpn-01", NULL};
static const char *const identifier_types[] = {"dns", "ip", NULL};

/* Which check judges each step the reference client takes in set-up
 * (harness/client/acme.h, acmeh_acme_step): when a step fails, the other
 * checks that needed it are blocked and point here. The first judge of a step
 * is the one named. */
static const acmeh_step_judge step_judges[] = {
    {"directory", "CORE-S-001"},     {"directory", "CORE-S-002"},     {"newNonce", "CORE-S-006"},
    {"newAccount", "CORE-S-029"},    {"newAccount", "CORE-S-019"},    {"newOrder", "CORE-S-046"},
    {"authorization", "CORE-S-058"}, {"http-01 challenge", "CORE-S-081"}, {"http-01 challenge", "CORE-S-062"},
    {"dns-01 challenge", "CORE-S-082"}, {"dns-01 challenge", "CORE-S-066"}, {"tls-alpn-01 challenge", "CORE-S-083"},
    {"tls-alpn-01 challenge", "CORE-S-101"}, {"ready", "CORE-S-067"}, {"finalize", "CORE-S-053"},
    {"certificate", "CORE-S-055"},   {"certificate", "CORE-S-081"}, /* the end-to-end check needs the download too */
    {NULL, NULL}};

/* Which check judges each object kind's schema (harness/acme/schema.h;
 * schema.c). The request kinds are the client under test's payloads. */
static const acmeh_schema_judge schema_judges[] = {
    {"directory", "CORE-S-113"}, {"account", "CORE-S-114"},   {"order", "CORE-S-115"},
    {"authorization", "CORE-S-116"}, {"challenge", "CORE-S-117"}, {"problem", "CORE-S-118"},
    {"newAccount|newOrder|finalize|challengeResponse|revokeCert|keyChange", "CORE-C-048"},
    {NULL, NULL}};

const acmeh_suite core_suite = {
    .name = "core",
    .id_prefix = "CORE",
    .checks = tables,
    .live = &core_live_judge,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
    .step_judges = step_judges,
    .schema_judges = schema_judges,
};
