/* The dnspersist suite: the dns-persist-01 challenge
 * (draft-sheurich-acme-dns-persist-00/-01, draft-ietf-acme-dns-persist-00..02),
 * both roles. Its descriptor. */
#include <string.h>

#include "harness/runner/suite.h"
#include "suites/dnspersist/dnspersist.h"

extern const acmeh_check_impl dnspersist_server_checks[], dnspersist_client_checks[];

static const acmeh_check_impl *const tables[] = {dnspersist_server_checks, dnspersist_client_checks, NULL};
static const char *const challenge_types[] = {"dns-persist-01", NULL};

/* Three wire formats (harness/acme/persist.h): -02 (the zero), -01 (the
 * challenge's accounturi), and everything before it (no accounturi in the
 * challenge, the account URL in the record). */
static void wire(const char *revision, acmeh_wire *w) {
  if (strcmp(revision, "dns-persist-01") == 0) w->persist_rev = ACMEH_PERSIST_I1;
  else if (strcmp(revision, "dns-persist-02") != 0) w->persist_rev = ACMEH_PERSIST_R0;
}

acmeh_persist_rev dnspersist_rev(const acmeh_check_ctx *ctx) { return (acmeh_persist_rev)ctx->env->wire.persist_rev; }

const char *dnspersist_rev_name(acmeh_persist_rev rev) {
  return rev == ACMEH_PERSIST_I2 ? "-02" : rev == ACMEH_PERSIST_I1 ? "-01" : "-00";
}

/* PERSIST-S-004 judges the reference client's dns-persist-01 answer. */
static const acmeh_step_judge step_judges[] = {{"dns-persist-01 challenge", "PERSIST-S-004"}, {NULL, NULL}};

const acmeh_suite dnspersist_suite = {
    .name = "dnspersist",
    .id_prefix = "PERSIST",
    .checks = tables,
    .challenge_types = challenge_types,
    .wire = wire,
    .step_judges = step_judges,
};
