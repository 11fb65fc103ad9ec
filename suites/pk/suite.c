/* The pk suite: the pk-01 challenge and the key identifiers pk,
 * selfsign-cert and csr of draft-geng-acme-public-key, both roles. The
 * draft's -01 design as presented at IETF 122 is the one revision whose
 * fields are known (spec digest pk-challenges.md §1.0); the wire details it
 * leaves open are the harness's own (harness/acme/pk.h), so no wire hook. */
#include <string.h>

#include "harness/runner/suite.h"
#include "suites/pk/pk.h"

extern const acmeh_check_impl pk_server_checks[], pk_client_checks[];

static const acmeh_check_impl *const tables[] = {pk_server_checks, pk_client_checks, NULL};
static const char *const challenge_types[] = {"pk-01", NULL};
static const char *const identifier_types[] = {"pk", "selfsign-cert", "csr", NULL};

int pk_claimed(const acmeh_check_ctx *ctx) {
  const json_t *claims[] = {ctx->env->claims, json_object_get(ctx->env->client, "claims")};
  for (size_t k = 0; k < 2; k++) {
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(claims[k], "challenges"), i, t)
      if (json_is_string(t) && strcmp(json_string_value(t), "pk-01") == 0) return 1;
  }
  return 0;
}

/* PK-S-010 judges the reference client's pk-01 answer (a correct proof must validate). */
static const acmeh_step_judge step_judges[] = {{"pk-01 challenge", "PK-S-010"}, {NULL, NULL}};

const acmeh_suite pk_suite = {
    .name = "pk",
    .id_prefix = "PK",
    .checks = tables,
    .challenge_types = challenge_types,
    .identifier_types = identifier_types,
    .step_judges = step_judges,
};
