/* CORE-S-113..118: every directory, account, order, authorization, challenge
 * and problem document the reference client receives follows its schema
 * (RFC 8555 §7.1.1-§7.1.5, §6.7; harness/acme/schema.h). The reference
 * client logs each object any check receives; after the run, the runner
 * judges these checks from that log (the suite's schema_judges): a failure
 * lists each violation once per receiving check and field, with the first
 * exchange that showed it. What the functions below do is make sure at
 * least one object of the kind is received when a check runs alone.
 * CORE-C-048 judges the payloads a client under test sends, in every
 * scenario the run recorded (the scenario engine logs them). */
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

/* The steps a check needs failed: blocked, or the failure attributed. */
static int settled(acmeh_check_ctx *ctx, int rc) { return acmeh_kit_attribute(ctx, rc); }

static int directory(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  acmeh_acme_free(c);
  return settled(ctx, rc);
}

static int account(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  acmeh_acme_free(c);
  return settled(ctx, rc);
}

/* An order made ready: orders, authorizations, challenges on the way (no
 * issuance: the other checks finalize plenty, and it is the slow part). */
static int ready(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  int rc = acmeh_kit_fixture_ready(ctx, &f);
  acmeh_kit_fixture_free(&f);
  return settled(ctx, rc);
}

/* An error answer: onlyReturnExisting for a key the server never saw
 * (accountDoesNotExist, RFC 8555 §7.3.1). */
static int problem(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_key *k = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK && acmeh_key_generate(ACMEH_KEY_ES256, &k) != ACMEH_OK) rc = ACMEH_INTERNAL;
  acmeh_post_opts stranger = {.use_jwk = 1, .key = k};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"), "{\"onlyReturnExisting\":true}", &stranger, &r);
  acmeh_http_resp_free(&r);
  acmeh_key_free(k);
  acmeh_acme_free(c);
  return settled(ctx, rc);
}

/* A client's plain issuance, so that a check run alone has payloads to judge. */
static int requests(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  return acmeh_kit_record(ctx, "plain-http01", &r);
}

const acmeh_check_impl core_schema_checks[] = {
    {"CORE-S-113", directory}, {"CORE-S-114", account}, {"CORE-S-115", ready},
    {"CORE-S-116", ready},     {"CORE-S-117", ready},  {"CORE-S-118", problem},
    {"CORE-C-048", requests},  {NULL, NULL}};
