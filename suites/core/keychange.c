/* CORE-S-041..045: key rollover (RFC 8555 §7.3.5) and deactivation (§7.3.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

/* How a keyChange request deviates from a correct one. */
typedef struct {
  int inner_nonce, inner_kid, inner_url_differs, wrong_account, wrong_old_key, inner_bad_sig;
} kc_fault;

static char *inner_payload(acmeh_acme *c, const kc_fault *f, const acmeh_key *other) {
  json_t *old = acmeh_key_jwk(f->wrong_old_key ? other : acmeh_acme_key(c));
  char acct[600];
  snprintf(acct, sizeof acct, "%s%s", acmeh_acme_kid(c), f->wrong_account ? "x" : "");
  json_t *p = json_pack("{s:s,s:o}", "account", acct, "oldKey", old);
  char *s = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  return s;
}

/* Sends keyChange to `newkey` with fault f; response in r. */
static int key_change(acmeh_check_ctx *ctx, acmeh_acme *c, const acmeh_key *newkey, const kc_fault *f,
                      acmeh_http_resp *r) {
  const char *url = acmeh_acme_dir_url(c, "keyChange");
  if (!url) return acmeh_check_skip(ctx, "server does not advertise keyChange");
  acmeh_key *other = NULL;
  acmeh_key_generate(ACMEH_KEY_ES256, &other);
  char *payload = inner_payload(c, f, other), *inner = NULL, wrong_url[600];
  snprintf(wrong_url, sizeof wrong_url, "%s/other", url);
  acmeh_jws_opts io = {.use_jwk = !f->inner_kid, .kid = f->inner_kid ? acmeh_acme_kid(c) : NULL,
                       .nonce = f->inner_nonce ? "AAAAAAAAAAAAAAAAAAAAAA" : NULL,
                       .url = f->inner_url_differs ? wrong_url : url, .flip_signature_bit = f->inner_bad_sig};
  int rc = acmeh_jws_build(newkey, payload, strlen(payload), &io, &inner);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, url, inner, NULL, r);
  else acmeh_msg(ctx->err, sizeof ctx->err, rc, "could not build the inner JWS");
  free(payload);
  free(inner);
  acmeh_key_free(other);
  return rc;
}

static int rollover_ok(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_key *newkey = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = acmeh_key_generate(ACMEH_KEY_ES256, &newkey);
  kc_fault none = {0};
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = key_change(ctx, c, newkey, &none, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "a correct keyChange");
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) { /* old key must now fail, new key must work */
    acmeh_post_opts o = {.key = acmeh_acme_key(c)};
    rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, &o, &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "POST-as-GET signed with the replaced key");
    acmeh_http_resp_free(&r);
  }
  if (rc == ACMEH_OK) {
    acmeh_acme_set_account(c, newkey, acmeh_acme_kid(c));
    newkey = NULL;
    rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, NULL, &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "POST-as-GET signed with the new key");
    acmeh_http_resp_free(&r);
  }
  acmeh_key_free(newkey);
  acmeh_acme_free(c);
  return rc;
}

static int rollover_refusals(acmeh_check_ctx *ctx) {
  static const kc_fault faults[] = {{.inner_nonce = 1}, {.inner_kid = 1}, {.inner_url_differs = 1},
                                    {.wrong_account = 1}, {.wrong_old_key = 1}, {.inner_bad_sig = 1}};
  static const char *const what[] = {"keyChange whose inner JWS has a nonce", "keyChange whose inner JWS uses kid, not jwk",
                                     "keyChange whose inner url differs from the outer", "keyChange naming another account",
                                     "keyChange whose oldKey is not the account key", "keyChange whose inner signature is bad"};
  acmeh_acme *c = NULL;
  acmeh_key *newkey = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = acmeh_key_generate(ACMEH_KEY_ES256, &newkey);
  for (size_t i = 0; rc == ACMEH_OK && i < sizeof faults / sizeof *faults; i++) {
    acmeh_http_resp r = {0};
    rc = key_change(ctx, c, newkey, &faults[i], &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, what[i]);
    acmeh_http_resp_free(&r);
  }
  acmeh_key_free(newkey);
  acmeh_acme_free(c);
  return rc;
}

static int rollover_conflict(acmeh_check_ctx *ctx) {
  acmeh_acme *a = NULL, *b = NULL;
  int rc = acmeh_kit_account(ctx, &a);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &b);
  kc_fault none = {0};
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = key_change(ctx, a, acmeh_acme_key(b), &none, &r); /* b's key is taken */
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 409, "keyChange to a key another account uses");
  const char *loc = acmeh_http_header_get(&r, "Location");
  if (rc == ACMEH_OK && (!loc || strcmp(loc, acmeh_acme_kid(b)) != 0))
    rc = acmeh_check_fail(ctx, "Location of the account holding that key", "Location %s (that account is %s)", loc ? loc : "absent",
                          acmeh_acme_kid(b));
  acmeh_http_resp_free(&r);
  acmeh_acme_free(a);
  acmeh_acme_free(b);
  return rc;
}

static int rollover_keeps_orders(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *order_url = NULL;
  json_t *order = NULL, *after = NULL;
  acmeh_key *newkey = NULL;
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &order_url, &order);
  if (rc == ACMEH_OK) rc = acmeh_key_generate(ACMEH_KEY_ES256, &newkey);
  kc_fault none = {0};
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = key_change(ctx, c, newkey, &none, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "a correct keyChange");
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) {
    acmeh_acme_set_account(c, newkey, acmeh_acme_kid(c));
    newkey = NULL;
    rc = acmeh_acme_get_json(c, order_url, &after, NULL, ctx->err, sizeof ctx->err);
  }
  const char *st = json_string_value(json_object_get(after, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, "pending") != 0))
    rc = acmeh_check_fail(ctx, "the pending order still pending after rollover", "status %s", st ? st : "absent");
  acmeh_key_free(newkey);
  json_decref(order);
  json_decref(after);
  free(order_url);
  acmeh_acme_free(c);
  return rc;
}

static int deactivate(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), "{\"status\":\"deactivated\"}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "account deactivation");
  json_t *acct = rc ? NULL : acmeh_resp_json(&r);
  const char *st = json_string_value(json_object_get(acct, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, "deactivated") != 0))
    rc = acmeh_check_fail(ctx, "status \"deactivated\" in the returned account", "status %s", st ? st : "absent");
  json_decref(acct);
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 401, "unauthorized", "POST-as-GET by a deactivated account");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_keychange_checks[] = {
    {"CORE-S-041", rollover_ok},         {"CORE-S-042", rollover_refusals},
    {"CORE-S-043", rollover_conflict},   {"CORE-S-044", rollover_keeps_orders},
    {"CORE-S-045", deactivate},          {NULL, NULL}};
