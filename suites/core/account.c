/* CORE-S-028..045: accounts, key rollover, deactivation (RFC 8555 §6.3, §7.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

static int cross_account(acmeh_check_ctx *ctx) {
  acmeh_acme *a = NULL, *b = NULL;
  char name[256], *order_url = NULL;
  json_t *order = NULL;
  int rc = acmeh_kit_order(ctx, &a, name, sizeof name, &order_url, &order);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &b);
  const char *urls[] = {order_url, acmeh_kit_first_authz(order)};
  const char *what[] = {"POST-as-GET of another account's order", "POST-as-GET of another account's authorization"};
  for (int i = 0; rc == ACMEH_OK && i < 2 && urls[i]; i++) {
    acmeh_http_resp r = {0};
    rc = acmeh_kit_post(ctx, b, urls[i], NULL, NULL, &r);
    if (rc == ACMEH_OK && r.status != 401 && r.status != 403 && r.status != 404)
      rc = acmeh_check_fail(ctx, "401, 403 or 404", "%s answered %ld", what[i], r.status);
    acmeh_http_resp_free(&r);
  }
  free(order_url);
  json_decref(order);
  acmeh_acme_free(a);
  acmeh_acme_free(b);
  return rc;
}

/* newAccount with `payload` on a fresh client; the created account's object in *acct. */
static int new_account_obj(acmeh_check_ctx *ctx, acmeh_acme **c, const char *payload, acmeh_http_resp *r, json_t **acct) {
  int rc = acmeh_kit_client(ctx, c);
  if (rc == ACMEH_OK) rc = acmeh_flow_new_account(*c, ACMEH_KEY_ES256, payload, r, ctx->err, sizeof ctx->err);
  *acct = rc ? NULL : acmeh_resp_json(r);
  if (rc == ACMEH_OK && !json_is_object(*acct)) rc = acmeh_check_fail(ctx, "an account object", "newAccount body is not JSON");
  return rc;
}

static int account_created(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  json_t *acct = NULL;
  int rc = new_account_obj(ctx, &c, NULL, &r, &acct);
  const char *st = json_string_value(json_object_get(acct, "status"));
  if (rc == ACMEH_OK && r.status != 201) rc = acmeh_kit_expect_status(ctx, &r, 201, "newAccount with a fresh key");
  if (rc == ACMEH_OK && (!st || strcmp(st, "valid") != 0))
    rc = acmeh_check_fail(ctx, "account status \"valid\"", "status %s", st ? st : "absent");
  if (rc == ACMEH_OK && !json_is_string(json_object_get(acct, "orders")))
    rc = acmeh_check_fail(ctx, "an \"orders\" URL string in the account", "none");
  json_decref(acct);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int account_no_echo(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  json_t *acct = NULL;
  int rc = new_account_obj(ctx, &c, "{\"termsOfServiceAgreed\":true,\"onlyReturnExisting\":false,\"x-harness\":1}", &r, &acct);
  const char *echoed = json_object_get(acct, "onlyReturnExisting") ? "onlyReturnExisting"
                       : json_object_get(acct, "x-harness")        ? "x-harness" : NULL;
  if (rc == ACMEH_OK && echoed)
    rc = acmeh_check_fail(ctx, "no onlyReturnExisting or unknown request field in the account", "\"%s\" echoed", echoed);
  json_decref(acct);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int account_orders_ignored(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  json_t *acct = NULL;
  const char *fake = "https://orders.acmeh.invalid/x";
  char payload[256];
  snprintf(payload, sizeof payload, "{\"termsOfServiceAgreed\":true,\"orders\":\"%s\"}", fake);
  int rc = new_account_obj(ctx, &c, payload, &r, &acct);
  const char *o = json_string_value(json_object_get(acct, "orders"));
  if (rc == ACMEH_OK && o && strcmp(o, fake) == 0)
    rc = acmeh_check_fail(ctx, "the server's own orders URL", "the client-supplied \"%s\"", fake);
  json_decref(acct);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

/* newAccount with `contact` (a JSON array text) must be refused with `type`. */
static int refused_contact(acmeh_check_ctx *ctx, acmeh_acme *c, const char *contact, const char *type) {
  char payload[512], what[300];
  snprintf(payload, sizeof payload, "{\"termsOfServiceAgreed\":true,\"contact\":%s}", contact);
  snprintf(what, sizeof what, "newAccount with contact %s", contact);
  acmeh_key *k = NULL;
  acmeh_key_generate(ACMEH_KEY_ES256, &k);
  acmeh_post_opts o = {.use_jwk = 1, .key = k};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"), payload, &o, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 0, type, what);
  acmeh_http_resp_free(&r);
  acmeh_key_free(k);
  return rc;
}

static int account_contacts(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK) rc = refused_contact(ctx, c, "[\"tel:+15555550100\"]", "unsupportedContact");
  acmeh_acme_free(c);
  return rc;
}

static int account_bad_mailto(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK) rc = refused_contact(ctx, c, "[\"mailto:a@example.com?subject=x\"]", "invalidContact");
  if (rc == ACMEH_OK) rc = refused_contact(ctx, c, "[\"mailto:a@example.com,b@example.com\"]", "invalidContact");
  acmeh_acme_free(c);
  return rc;
}

static int account_existing_key(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  acmeh_http_resp r = {0};
  acmeh_post_opts o = {.use_jwk = 1};
  if (rc == ACMEH_OK)
    rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"),
                   "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:changed@example.com\"]}", &o, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "newAccount with an already registered key");
  const char *loc = acmeh_http_header_get(&r, "Location");
  if (rc == ACMEH_OK && (!loc || strcmp(loc, acmeh_acme_kid(c)) != 0))
    rc = acmeh_check_fail(ctx, "Location of the existing account", "Location %s (account is %s)", loc ? loc : "absent", acmeh_acme_kid(c));
  json_t *acct = acmeh_resp_json(&r);
  if (rc == ACMEH_OK && strstr(r.body, "changed@example.com"))
    rc = acmeh_check_fail(ctx, "the account unchanged (request fields ignored)", "the new contact was applied");
  json_decref(acct);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int account_only_existing(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_key *k = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK && acmeh_key_generate(ACMEH_KEY_ES256, &k)) rc = ACMEH_INTERNAL;
  acmeh_post_opts o = {.use_jwk = 1, .key = k};
  for (int i = 0; rc == ACMEH_OK && i < 2; i++) { /* twice: the first must not have created it */
    acmeh_http_resp r = {0};
    rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"), "{\"onlyReturnExisting\":true}", &o, &r);
    if (rc == ACMEH_OK)
      rc = acmeh_kit_expect_problem(ctx, &r, 400, "accountDoesNotExist",
                               i ? "a second onlyReturnExisting lookup (no account may have been created)" : "onlyReturnExisting with an unknown key");
    acmeh_http_resp_free(&r);
  }
  acmeh_key_free(k);
  acmeh_acme_free(c);
  return rc;
}

static int account_update(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  json_t *before = NULL, *after = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, acmeh_acme_kid(c), &before, NULL, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c),
                   "{\"contact\":[\"mailto:updated@example.com\"],\"orders\":\"https://orders.acmeh.invalid/\",\"status\":\"valid\"}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "account update");
  after = rc ? NULL : acmeh_resp_json(&r);
  const char *contact = json_string_value(json_array_get(json_object_get(after, "contact"), 0));
  if (rc == ACMEH_OK && (!contact || strcmp(contact, "mailto:updated@example.com") != 0))
    rc = acmeh_check_fail(ctx, "the updated contact in the returned account", "contact %s", contact ? contact : "absent");
  if (rc == ACMEH_OK && !json_equal(json_object_get(before, "orders"), json_object_get(after, "orders")))
    rc = acmeh_check_fail(ctx, "the orders URL unchanged (client changes ignored)", "orders changed to the client's value");
  json_decref(before);
  json_decref(after);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_account_checks[] = {
    {"CORE-S-028", cross_account},        {"CORE-S-029", account_created},
    {"CORE-S-030", account_no_echo},      {"CORE-S-031", account_orders_ignored},
    {"CORE-S-033", account_contacts},     {"CORE-S-034", account_existing_key},
    {"CORE-S-035", account_only_existing}, {"CORE-S-036", account_update},
    {"CORE-S-084", account_bad_mailto},
    {NULL, NULL}};
