/* ATC-S-*: a server under test offering tkauth-01 for TNAuthList
 * identifiers (RFC 9447, RFC 9448). Each check makes its own account and
 * order, gets its token from the run's token authority (the mock's faults
 * give the bad tokens) and judges the challenge's or the finalize's end. */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/atc.h"
#include "harness/kit/kit.h"
#include "harness/kit/tkauth.h"

#define TN "TNAuthList"
#define SPC1234 "MAigBhYEMTIzNA"              /* RFC 9118 §5 Figure 1's TNAuthList: SPC "1234" */
#define SPC1235_HEX "3008a006160431323335"     /* SPC "1235" */
#define SPC1235 "MAigBhYEMTIzNQ"

/* An order for SPC 1234 answered with a token under `fault`; *t is the caller's to free. */
static int answered(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const char *fault, const char *payload) {
  json_t *ids = acmeh_kit_tk_ids(TN, SPC1234);
  int rc = acmeh_kit_tk_order(ctx, t, ids);
  json_decref(ids);
  return rc ? rc : acmeh_kit_tk_answer(ctx, t, 0, 0, fault, 0, payload);
}

/* A fresh order answered under each fault in turn; every one must end invalid. */
static int invalid_under(acmeh_check_ctx *ctx, const char *const *faults, const char *const *whens) {
  int rc = ACMEH_OK;
  for (size_t i = 0; rc == ACMEH_OK && faults[i]; i++) {
    acmeh_kit_tk t = {0};
    rc = answered(ctx, &t, faults[i], NULL);
    if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_invalid(ctx, &t, whens[i]);
    acmeh_kit_tk_free(&t);
  }
  return rc;
}

/* ATC-S-001 (RFC 9448 §4): a TNAuthList authorization offers tkauth-01 with "tkauth-type": "atc". */
static int s001(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  json_t *ids = acmeh_kit_tk_ids(TN, SPC1234), *authz = NULL;
  int rc = acmeh_kit_tk_order(ctx, &t, ids);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(t.c, acmeh_kit_tk_authz(&t, 0), &authz, NULL, ctx->err, sizeof ctx->err);
  const json_t *ch = rc ? NULL : acmeh_flow_find_challenge(authz, "tkauth-01");
  const char *tt = json_string_value(json_object_get(ch, "tkauth-type"));
  if (rc == ACMEH_OK && (!ch || !tt || strcmp(tt, "atc") != 0))
    rc = acmeh_check_fail(ctx, "a tkauth-01 challenge with \"tkauth-type\": \"atc\" for a TNAuthList identifier",
                          ch ? "tkauth-01 with tkauth-type %s" : "%sno tkauth-01 challenge", ch ? (tt ? tt : "(absent)") : "");
  json_decref(ids), json_decref(authz);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* ATC-S-002 (RFC 9448 §4, MAY): "token-authority", when present, is an https URL. */
static int s002(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  json_t *ids = acmeh_kit_tk_ids(TN, SPC1234), *authz = NULL;
  int rc = acmeh_kit_tk_order(ctx, &t, ids);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(t.c, acmeh_kit_tk_authz(&t, 0), &authz, NULL, ctx->err, sizeof ctx->err);
  const json_t *ta = rc ? NULL : json_object_get(acmeh_flow_find_challenge(authz, "tkauth-01"), "token-authority");
  if (rc == ACMEH_OK && !ta) acmeh_check_note(ctx, "no token-authority member: the client uses its own configuration");
  if (rc == ACMEH_OK && ta && (!json_is_string(ta) || strncmp(json_string_value(ta), "https://", 8) != 0))
    rc = acmeh_check_fail(ctx, "\"token-authority\" absent or an https URL of the token authority",
                          "token-authority %.200s", json_is_string(ta) ? json_string_value(ta) : "(not a string)");
  json_decref(ids), json_decref(authz);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* ATC-S-003 (RFC 9448 §4, §6 step 1): no "tkauth", or one that is not a JWS with an atc object -> invalid. */
static int s003(acmeh_check_ctx *ctx) {
  static const char *const payloads[] = {"{}", "{\"tkauth\":\"not-a-jws\"}", NULL};
  static const char *const whens[] = {"a response without \"tkauth\"", "a \"tkauth\" that is not a JWS"};
  int rc = ACMEH_OK;
  for (size_t i = 0; rc == ACMEH_OK && payloads[i]; i++) {
    acmeh_kit_tk t = {0};
    rc = answered(ctx, &t, NULL, payloads[i]);
    if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_invalid(ctx, &t, whens[i]);
    acmeh_kit_tk_free(&t);
  }
  return rc;
}

/* ATC-S-004 (RFC 9448 §6 steps 2-4): bad signature, untrusted issuer, non-https x5u -> invalid. */
static int s004(acmeh_check_ctx *ctx) {
  static const char *const f[] = {"bad-signature", "unknown-x5u", "http-x5u", "unreachable-x5u", NULL};
  static const char *const w[] = {"a token whose signature does not verify (mock fault bad-signature)",
                                  "a token signed by an untrusted authority (mock fault unknown-x5u)",
                                  "a token whose x5u is http:// (mock fault http-x5u)",
                                  "a token whose x5u cannot be fetched (mock fault unreachable-x5u)"};
  return invalid_under(ctx, f, w);
}

/* ATC-S-005 (§6 step 5): tktype not "TNAuthList" -> invalid. */
static int s005(acmeh_check_ctx *ctx) {
  static const char *const f[] = {"other-type", NULL};
  static const char *const w[] = {"a token with tktype JWTClaimConstraints (mock fault other-type)"};
  return invalid_under(ctx, f, w);
}

/* ATC-S-006 (§6 step 6): tkvalue not the identifier's -> invalid. */
static int s006(acmeh_check_ctx *ctx) {
  static const char *const f[] = {"wrong-tkvalue", "widened-tkvalue", NULL};
  static const char *const w[] = {"a token for SPC 9999 (mock fault wrong-tkvalue)",
                                  "a token whose TNAuthList adds SPC 9999 (mock fault widened-tkvalue)"};
  return invalid_under(ctx, f, w);
}

/* ATC-S-007 (§6 step 8): fingerprint of another key -> invalid. */
static int s007(acmeh_check_ctx *ctx) {
  static const char *const f[] = {"wrong-fingerprint", NULL};
  static const char *const w[] = {"a token bound to another account key (mock fault wrong-fingerprint)"};
  return invalid_under(ctx, f, w);
}

/* ATC-S-008 (§6 step 7, RFC 9447 §4): expired, or without exp or jti -> invalid. */
static int s008(acmeh_check_ctx *ctx) {
  static const char *const f[] = {"expired", "no-exp", "no-jti", NULL};
  static const char *const w[] = {"an expired token (mock fault expired)", "a token without exp (mock fault no-exp)",
                                  "a token without jti (mock fault no-jti)"};
  return invalid_under(ctx, f, w);
}

/* ATC-S-009 (RFC 9447 §3.3/§4, MAY): a token whose jti was already used is refused. */
static int s009(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  json_t *ids = acmeh_kit_tk_ids(TN, SPC1234), *ids2 = acmeh_kit_tk_ids(TN, SPC1235);
  int rc = acmeh_kit_tk_order(ctx, &t, ids);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_answer(ctx, &t, 0, 0, NULL, 0, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_valid(ctx, &t, "a fresh token (the first use of its jti)");
  /* a second order of the same account, answered with a token reusing that jti */
  json_decref(t.ids), json_decref(t.order), free(t.order_url);
  t.ids = json_incref(ids2), t.order = NULL, t.order_url = NULL;
  if (rc == ACMEH_OK) rc = acmeh_tkauth_new_order(t.c, ids2, &t.order_url, &t.order, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_answer(ctx, &t, 0, 0, "reused-jti", 0, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_expect_invalid(ctx, &t, "a token whose jti was used before (mock fault reused-jti)");
  json_decref(ids), json_decref(ids2);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* A valid SPC 1234 authorization: the start of the finalize checks. */
static int valid_order(acmeh_check_ctx *ctx, acmeh_kit_tk *t) {
  int rc = answered(ctx, t, NULL, NULL);
  return rc ? rc : acmeh_kit_tk_expect_valid(ctx, t, "a good token");
}

/* ATC-S-010 (RFC 8555 §7.4, RFC 9448 §3): a CSR whose TNAuthList differs is refused; the
 * right one gives a certificate carrying exactly the authorized TNAuthList. */
static int s010(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  json_t *wrong = acmeh_kit_tk_ids(TN, SPC1235);
  int rc = valid_order(ctx, &t);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_tk_extension_held(ctx, &t, wrong, "finalize with a CSR whose TNAuthList is SPC 1235 (authorized: 1234)",
                                     "the certificate's TNAuthList extension (1.3.6.1.5.5.7.1.26) equal to the authorized DER");
  json_decref(wrong);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* ATC-S-011 (RFC 9448 §6 step 9): atc.ca false with a CA CSR (BasicConstraints cA TRUE) is refused. */
static int s011(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  acmeh_http_resp r = {0};
  int rc = valid_order(ctx, &t);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_finalize_raw(ctx, &t, t.ids, 1, NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "finalize with a CA CSR (cA TRUE) under a token with ca false");
  acmeh_http_resp_free(&r);
  acmeh_kit_tk_free(&t);
  return rc;
}

/* newOrder for a TNAuthList `value` must be refused: `what` names the defect. */
static int order_refused(acmeh_check_ctx *ctx, const char *value, const char *what) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  char *payload = NULL;
  int rc = acmeh_kit_tk_usable(ctx);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK && asprintf(&payload, "{\"identifiers\":[{\"type\":\"TNAuthList\",\"value\":\"%s\"}]}", value) < 0)
    payload = NULL, rc = ACMEH_NOMEM;
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, &r);
  static const char *const types[] = {"malformed", "rejectedIdentifier", NULL};
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, what);
  acmeh_http_resp_free(&r);
  free(payload);
  acmeh_acme_free(c);
  return rc;
}

/* ATC-S-012 (RFC 8226 Appendix A: EXPLICIT TAGS): an IMPLICIT-tagged TNAuthList is not valid DER of the type. */
static int s012(acmeh_check_ctx *ctx) {
  return order_refused(ctx, "MAaABDEyMzQ", "newOrder for a TNAuthList with an IMPLICIT [0] SPC (30 06 80 04 \"1234\")");
}

/* ATC-S-014 (RFC 8226 §9): ranges with count < 2 or start + count >= 10^D are malformed. */
static int s014(acmeh_check_ctx *ctx) {
  int rc = order_refused(ctx, "MBShEjAQFgsxMjE1NTU1MTAwMAIBAQ", "newOrder for a TelephoneNumberRange with count 1");
  return rc ? rc : order_refused(ctx, "MAuhCTAHFgIxMAIBWw", "newOrder for range start \"10\" count 91 (start + count >= 10^2)");
}

/* ATC-S-015 (RFC 9447 §7, SHOULD NOT): the certificate does not outlive the token. */
static int s015(acmeh_check_ctx *ctx) {
  acmeh_kit_tk t = {0};
  acmeh_atc_token tok = {0};
  char why[300];
  int rc = valid_order(ctx, &t);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_issue(ctx, &t);
  if (rc == ACMEH_OK && acmeh_atc_token_parse(t.token, &tok, why, sizeof why) != ACMEH_OK)
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "the token sent: %s", why);
  BIO *b = rc ? NULL : BIO_new_mem_buf(t.is.chain_pem, -1);
  X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  double exp = json_number_value(json_object_get(tok.claims, "exp"));
  int day = 0, sec = 0;
  ASN1_TIME *e = ASN1_TIME_new();
  if (leaf && e && ASN1_TIME_set(e, (time_t)exp)) ASN1_TIME_diff(&day, &sec, e, X509_get0_notAfter(leaf));
  if (rc == ACMEH_OK && !leaf) rc = acmeh_check_fail(ctx, "a certificate chain in PEM", "none readable");
  else if (rc == ACMEH_OK && (day > 0 || sec > 0))
    rc = acmeh_check_fail(ctx, "notAfter no later than the Authority Token's exp", "notAfter is %d days %d s after exp %.0f", day, sec, exp);
  ASN1_TIME_free(e), X509_free(leaf), BIO_free(b);
  acmeh_atc_token_free(&tok);
  acmeh_kit_tk_free(&t);
  return rc;
}

const acmeh_check_impl tkauth_server_checks[] = {
    {"ATC-S-001", s001}, {"ATC-S-002", s002}, {"ATC-S-003", s003}, {"ATC-S-004", s004}, {"ATC-S-005", s005},
    {"ATC-S-006", s006}, {"ATC-S-007", s007}, {"ATC-S-008", s008}, {"ATC-S-009", s009}, {"ATC-S-010", s010},
    {"ATC-S-011", s011}, {"ATC-S-012", s012}, {"ATC-S-014", s014}, {"ATC-S-015", s015}, {NULL, NULL}};
