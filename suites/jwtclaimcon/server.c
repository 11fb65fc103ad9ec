/* JCC-S-*: a server under test offering tkauth-01 for JWTClaimConstraints
 * identifiers (draft-ietf-acme-authority-token-jwtclaimcon; DER of RFC 8226
 * §8 and RFC 9118 §3). The draft's own section numbers are unverified: the
 * catalog cites the RFCs where they carry the rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/atc.h"
#include "harness/kit/kit.h"
#include "harness/kit/tkauth.h"

#define JCC "JWTClaimConstraints"
#define ATTEST "MBahFDASMBAWBmF0dGVzdDAGDAFBDAFC" /* permittedValues attest in {A, B} */
#define RCD "MAmgBzAFFgNyY2Q"                    /* mustInclude [rcd] */
#define EJCC_DIV_HEX "3009a20730051603646976"   /* Enhanced mustExclude [div] */

#define EJCC_DIV "MAmiBzAFFgNkaXY"               /* the same, base64url */

static int jcc_order_of(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const char *value, const char *fault) {
  json_t *ids = acmeh_kit_tk_ids(JCC, value);
  int rc = acmeh_kit_tk_order(ctx, t, ids);
  json_decref(ids);
  return rc ? rc : acmeh_kit_tk_answer(ctx, t, 0, 0, fault, 0, NULL);
}

static int jcc_order(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const char *fault) { return jcc_order_of(ctx, t, ATTEST, fault); }

/* JCC-S-001: a JWTClaimConstraints identifier (plain or Enhanced DER) is validated by tkauth-01
 * with tktype JWTClaimConstraints. */
static int s001(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0}, u = {0}, e = {0};
  int rc = jcc_order(ctx, &t, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_valid(ctx, &t, "a token with tktype JWTClaimConstraints and the identifier's DER");
  if (rc == ACMEH_OK) rc = jcc_order_of(ctx, &e, EJCC_DIV, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_valid(ctx, &e, "an EnhancedJWTClaimConstraints value (mustExclude [div]) and its token");
  acmeh_kit_tk_free(&e);
  if (rc == ACMEH_OK) rc = jcc_order(ctx, &u, "other-type");
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_invalid(ctx, &u, "a token with tktype TNAuthList (mock fault other-type)");
  acmeh_kit_tk_free(&t), acmeh_kit_tk_free(&u);
  return rc;
}

/* JCC-S-002: an order for a TNAuthList and a JWTClaimConstraints has two authorizations, each needing its own token. */
static int s002(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  json_t *ids = json_pack("[{s:s,s:s},{s:s,s:s}]", "type", "TNAuthList", "value", "MAigBhYEMTIzNA", "type", JCC, "value", ATTEST);
  json_t *authz = NULL;
  int rc = acmeh_kit_tk_order(ctx, &t, ids);
  size_t n = json_array_size(json_object_get(t.order, "authorizations")), jcc_at = 0;
  if (rc == ACMEH_OK && n != 2)
    rc = acmeh_check_fail(ctx, "two authorizations, one per identifier (RFC 8555 §7.1.3)", "%zu", n);
  for (size_t i = 0; rc == ACMEH_OK && i < 2; i++) { /* which one is the JWTClaimConstraints' */
    rc = acmeh_acme_get_json(t.c, acmeh_kit_tk_authz(&t, i), &authz, NULL, ctx->err, sizeof ctx->err);
    const char *type = json_string_value(json_object_get(json_object_get(authz, "identifier"), "type"));
    if (type && strcmp(type, JCC) == 0) jcc_at = i;
    json_decref(authz), authz = NULL;
  }
  /* the TNAuthList's token (identifier 0) offered for the JWTClaimConstraints authorization */
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_answer(ctx, &t, jcc_at, 0, NULL, 0, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_invalid(ctx, &t, "the JWTClaimConstraints authorization answered with the TNAuthList's token");
  json_decref(ids);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* JCC-S-003 (RFC 8226 §8, RFC 9118 §3): a constraints value with no component is malformed. */
static int s003(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_tk_usable(ctx);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newOrder"),
                        "{\"identifiers\":[{\"type\":\"JWTClaimConstraints\",\"value\":\"MAA\"}]}", NULL, &r);
  static const char *const types[] = {"malformed", "rejectedIdentifier", NULL};
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, "newOrder for an empty JWTClaimConstraints (30 00)");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

/* JCC-S-004: a CSR with other constraints is refused; the certificate carries exactly the authorized DER. */
static int s004(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  json_t *wrong = acmeh_kit_tk_ids(JCC, RCD);
  int rc = jcc_order(ctx, &t, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_valid(ctx, &t, "a good token");
  if (rc == ACMEH_OK)
    rc = acmeh_kit_tk_extension_held(ctx, &t, wrong, "finalize with a CSR whose JWTClaimConstraints is mustInclude [rcd] (authorized: attest in {A, B})",
                                     "the certificate's JWTClaimConstraints extension (1.3.6.1.5.5.7.1.27) equal to the authorized DER");
  json_decref(wrong);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* JCC-S-005 (RFC 9118 §6): never both the JWTClaimConstraints and the Enhanced extension. */
static int s005(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  acmeh_http_resp r = {0};
  int rc = jcc_order(ctx, &t, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_valid(ctx, &t, "a good token");
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_finalize_raw(ctx, &t, t.ids, 0, ACMEH_OID_EJWTCLAIMCON, EJCC_DIV_HEX, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "finalize with a CSR carrying both JWTClaimConstraints and EnhancedJWTClaimConstraints");
  acmeh_http_resp_free(&r);
  acmeh_kit_tk_free(&t);
  return rc;
}

const acmeh_check_impl jwtclaimcon_server_checks[] = {
    {"JCC-S-001", s001}, {"JCC-S-002", s002}, {"JCC-S-003", s003}, {"JCC-S-004", s004}, {"JCC-S-005", s005}, {NULL, NULL}};
