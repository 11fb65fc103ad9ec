/* The dnsaccount suite: the dns-account-01 challenge
 * (draft-ietf-acme-dns-account-label, and its predecessor
 * draft-ietf-acme-scoped-dns-challenges-00), both roles. Its descriptor. */
#include <string.h>

#include "harness/acme/challenge.h"
#include "harness/runner/suite.h"
#include "suites/dnsaccount/dnsaccount.h"

extern const acmeh_check_impl dnsaccount_server_checks[], dnsaccount_client_checks[];

static const acmeh_check_impl *const tables[] = {dnsaccount_server_checks, dnsaccount_client_checks, NULL};
static const char *const challenge_types[] = {"dns-account-01", NULL};

/* The revisions differ on the wire in one place: scoped-dns-challenges-00
 * puts the TXT under "_acme-host-challenge" / "_acme-wildcard-challenge"
 * where every dns-account-label revision has "_acme-challenge". */
static void wire(const char *revision, acmeh_wire *w) {
  if (strcmp(revision, "scoped-dns-challenges-00") == 0) w->dnsacct_scheme = ACMEH_DNSACCT_SCOPED;
}

char *dnsaccount_name(const acmeh_check_ctx *ctx, const char *url, const char *identifier) {
  return acmeh_dnsaccount_name_in((acmeh_dnsacct_scheme)ctx->env->wire.dnsacct_scheme, url, identifier);
}

/* DNSACCT-S-002 judges the reference client's dns-account-01 answer. */
static const acmeh_step_judge step_judges[] = {{"dns-account-01 challenge", "DNSACCT-S-002"}, {NULL, NULL}};

const acmeh_suite dnsaccount_suite = {
    .name = "dnsaccount",
    .id_prefix = "DNSACCT",
    .checks = tables,
    .challenge_types = challenge_types,
    .wire = wire,
    .step_judges = step_judges,
};
