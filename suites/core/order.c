/* CORE-S-046..053, 067, 068, 079: orders, finalize, authorization state (RFC 8555 §7.1.2-§7.1.6, §7.4, §7.5.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/cert.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

static int order_created(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], payload[400];
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_account(ctx, &c);
  snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", acmeh_check_name(ctx, name, sizeof name));
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 201, "newOrder");
  if (rc == ACMEH_OK && !acmeh_http_header_get(&r, "Location")) rc = acmeh_check_fail(ctx, "a Location header", "none");
  json_t *o = rc ? NULL : acmeh_resp_json(&r);
  static const char *const fields[] = {"status", "expires", "identifiers", "authorizations", "finalize"};
  for (size_t i = 0; rc == ACMEH_OK && i < 5; i++)
    if (!json_object_get(o, fields[i])) rc = acmeh_check_fail(ctx, "status, expires, identifiers, authorizations, finalize", "no \"%s\"", fields[i]);
  if (rc == ACMEH_OK && !json_array_size(json_object_get(o, "authorizations")))
    rc = acmeh_check_fail(ctx, "a non-empty authorizations array", "an empty or non-array authorizations");
  json_decref(o);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

/* Fails unless `now` has the same identifiers and authorizations as `first` (as sets). */
static int same_arrays(acmeh_check_ctx *ctx, const json_t *first, const json_t *now, const char *when) {
  static const char *const keys[] = {"identifiers", "authorizations"};
  for (int k = 0; k < 2; k++) {
    const json_t *a = json_object_get(first, keys[k]), *b = json_object_get(now, keys[k]);
    int same = json_array_size(a) == json_array_size(b);
    size_t i, j;
    json_t *x, *y;
    json_array_foreach(a, i, x) {
      int found = 0;
      json_array_foreach(b, j, y) found |= json_equal(x, y);
      same &= found;
    }
    if (!same) return acmeh_check_fail(ctx, "identifiers and authorizations never change", "\"%s\" changed %s", keys[k], when);
  }
  return ACMEH_OK;
}

static int order_immutable(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *url = NULL;
  json_t *first = NULL, *now = NULL, *authz = NULL;
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &url, &first);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, url, &now, NULL, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = same_arrays(ctx, first, now, "between newOrder and the first poll");
  json_decref(now), now = NULL;
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(c, ctx->env->publisher, acmeh_kit_first_authz(first), "http-01", &authz, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, url, &now, NULL, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = same_arrays(ctx, first, now, "after the authorization became valid");
  json_decref(first), json_decref(now), json_decref(authz);
  free(url);
  acmeh_acme_free(c);
  return rc;
}

static int order_wildcard(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], wild[260], *url = NULL;
  json_t *order = NULL, *authz = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  snprintf(wild, sizeof wild, "*.%s", acmeh_check_name(ctx, name, sizeof name));
  const char *names[] = {wild};
  if (rc == ACMEH_OK) rc = acmeh_flow_new_order(c, names, 1, &url, &order, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, acmeh_kit_first_authz(order), &authz, NULL, ctx->err, sizeof ctx->err);
  const char *v = json_string_value(json_object_get(json_object_get(authz, "identifier"), "value"));
  if (rc == ACMEH_OK && (!v || strcmp(v, name) != 0))
    rc = acmeh_check_fail(ctx, "authorization identifier = the base name without \"*.\"", "value %s for order %s", v ? v : "absent", wild);
  if (rc == ACMEH_OK && !json_is_true(json_object_get(authz, "wildcard")))
    rc = acmeh_check_fail(ctx, "\"wildcard\": true in the authorization", "wildcard absent or false");
  json_decref(order), json_decref(authz);
  free(url);
  acmeh_acme_free(c);
  return rc;
}

static int order_bad_alabel(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], bad[300], payload[400];
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_account(ctx, &c);
  snprintf(bad, sizeof bad, "xn--zz.%s", acmeh_check_name(ctx, name, sizeof name));
  snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", bad);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "newOrder for an invalid A-label (xn--zz)");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

/* POSTs {"csr": csr} to the order's finalize URL. */
static int finalize_raw(acmeh_check_ctx *ctx, acmeh_acme *c, const json_t *order, const char *csr, acmeh_http_resp *r) {
  char *payload = NULL;
  const char *fin = json_string_value(json_object_get(order, "finalize"));
  if (!fin) return acmeh_kit_step_fault(ctx, "newOrder", "a finalize URL in the order", "none");
  if (asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) return ACMEH_NOMEM;
  int rc = acmeh_kit_post(ctx, c, fin, payload, NULL, r);
  free(payload);
  return rc;
}

static char *csr_for(const char *const *names, size_t n, EVP_PKEY *key) {
  char *csr = NULL;
  acmeh_key *k = NULL;
  if (!key && acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK) key = acmeh_key_pkey(k);
  if (key) acmeh_csr_build(key, names, n, &csr);
  acmeh_key_free(k);
  return csr;
}

static int finalize_pending(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *url = NULL;
  json_t *order = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &url, &order);
  const char *names[] = {name};
  char *csr = rc ? NULL : csr_for(names, 1, NULL);
  if (rc == ACMEH_OK) rc = finalize_raw(ctx, c, order, csr, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 403, "orderNotReady", "finalize of a pending order");
  acmeh_http_resp_free(&r);
  free(csr), free(url);
  json_decref(order);
  acmeh_acme_free(c);
  return rc;
}

static int order_status_is(acmeh_check_ctx *ctx, acmeh_acme *c, const char *url, const char *want, const char *when) {
  json_t *o = NULL;
  int rc = acmeh_acme_get_json(c, url, &o, NULL, ctx->err, sizeof ctx->err);
  const char *st = json_string_value(json_object_get(o, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, want) != 0)) {
    char exp[64];
    snprintf(exp, sizeof exp, "order status \"%s\"", want);
    rc = acmeh_check_fail(ctx, exp, "\"%s\" %s", st ? st : "absent", when);
  }
  json_decref(o);
  return rc;
}

static int finalize_bad_csr(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char extra[256];
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_ready(ctx, &f);
  const char *names[] = {f.name, acmeh_check_name(ctx, extra, sizeof extra)};
  char *csr = rc ? NULL : csr_for(names, 2, NULL);
  if (rc == ACMEH_OK) rc = finalize_raw(ctx, f.c, f.is.order, csr, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 0, "badCSR", "finalize with a CSR naming an extra identifier");
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) rc = order_status_is(ctx, f.c, f.is.order_url, "ready", "after a refused CSR");
  free(csr);
  csr = rc ? NULL : csr_for(names, 1, NULL);
  if (rc == ACMEH_OK) rc = acmeh_flow_finalize(f.c, &f.is, csr, ctx->err, sizeof ctx->err);
  free(csr);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int finalize_account_key(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_ready(ctx, &f);
  const char *names[] = {f.name};
  char *csr = rc ? NULL : csr_for(names, 1, acmeh_key_pkey(acmeh_acme_key(f.c)));
  if (rc == ACMEH_OK) rc = finalize_raw(ctx, f.c, f.is.order, csr, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "finalize with a CSR whose key is the account key");
  acmeh_http_resp_free(&r);
  free(csr);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int finalize_ok(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_ready(ctx, &f);
  const char *names[] = {f.name};
  char *csr = rc ? NULL : csr_for(names, 1, NULL);
  if (rc == ACMEH_OK) rc = finalize_raw(ctx, f.c, f.is.order, csr, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "finalize of a ready order");
  json_t *o = rc ? NULL : acmeh_resp_json(&r);
  const char *st = json_string_value(json_object_get(o, "status"));
  if (rc == ACMEH_OK && (!st || (strcmp(st, "processing") && strcmp(st, "valid"))))
    rc = acmeh_check_fail(ctx, "order \"processing\" or \"valid\" after finalize", "\"%s\"", st ? st : "absent");
  static const char *const waiting[] = {"processing"};
  json_t *fin = NULL;
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(f.c, f.is.order_url, waiting, 1, &fin, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK && !json_is_string(json_object_get(fin, "certificate")))
    rc = acmeh_check_fail(ctx, "a certificate URL in the valid order", "order %s without certificate",
                          json_string_value(json_object_get(fin, "status")) ? json_string_value(json_object_get(fin, "status")) : "(no status)");
  json_decref(o), json_decref(fin);
  acmeh_http_resp_free(&r);
  free(csr);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Longest wait for "pending" -> "ready" after the last authorization turned valid. */
#define READY_GRACE_S 5.0

static int order_ready(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *url = NULL;
  json_t *order = NULL, *now = NULL;
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &url, &order);
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(order, "authorizations"), i, a) {
    json_t *final = NULL;
    if (rc == ACMEH_OK)
      rc = json_is_string(a) ? acmeh_flow_authorize(c, ctx->env->publisher, json_string_value(a), "http-01", &final, ctx->err, sizeof ctx->err)
                             : acmeh_check_fail(ctx, "authorization URL strings in the order", "a non-string entry");
    json_decref(final);
  }
  /* Every authorization is valid now: the order must leave "pending" for "ready"
   * (§7.1.6). A server may take a moment; a fixed grace, not the whole budget, so
   * an order stuck in "pending" is a failure, not a harness timeout. */
  double start = acmeh_now_mono(), grace = acmeh_check_time_left(ctx) / 2;
  if (grace > READY_GRACE_S) grace = READY_GRACE_S;
  const char *st = NULL;
  for (long wait = 10; rc == ACMEH_OK;) {
    json_decref(now), now = NULL;
    rc = acmeh_acme_get_json(c, url, &now, NULL, ctx->err, sizeof ctx->err);
    st = json_string_value(json_object_get(now, "status"));
    if (rc || !st || strcmp(st, "pending") != 0 || acmeh_now_mono() - start + wait / 1000.0 > grace) break;
    acmeh_sleep_ms(wait);
    wait = wait * 2 > 500 ? 500 : wait * 2;
  }
  if (rc == ACMEH_OK && (!st || strcmp(st, "ready") != 0))
    rc = acmeh_check_fail(ctx, "order status \"ready\" once all its authorizations are valid",
                          "\"%s\" %.1f s after the last authorization turned valid", st ? st : "absent", acmeh_now_mono() - start);
  json_decref(order), json_decref(now);
  free(url);
  acmeh_acme_free(c);
  return rc;
}

static int authz_deactivate(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_ready(ctx, &f);
  const char *authz = acmeh_kit_first_authz(f.is.order);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f.c, authz, "{\"status\":\"deactivated\"}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "authorization deactivation");
  json_t *a = rc ? NULL : acmeh_resp_json(&r);
  const char *st = json_string_value(json_object_get(a, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, "deactivated") != 0))
    rc = acmeh_check_fail(ctx, "authorization status \"deactivated\"", "\"%s\"", st ? st : "absent");
  json_decref(a);
  acmeh_http_resp_free(&r);
  const char *names[] = {f.name};
  char *csr = rc ? NULL : csr_for(names, 1, NULL);
  if (rc == ACMEH_OK) rc = finalize_raw(ctx, f.c, f.is.order, csr, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "finalize of an order whose authorization was deactivated");
  acmeh_http_resp_free(&r);
  free(csr);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int orders_list(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *url = NULL;
  json_t *order = NULL, *acct = NULL, *list = NULL;
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &url, &order);
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, acmeh_acme_kid(c), &acct, NULL, ctx->err, sizeof ctx->err);
  const char *orders = json_string_value(json_object_get(acct, "orders"));
  if (rc == ACMEH_OK && !orders) rc = acmeh_check_skip(ctx, "account has no orders URL (see CORE-S-029)");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, orders, &list, NULL, ctx->err, sizeof ctx->err);
  json_t *arr = json_object_get(list, "orders");
  if (rc == ACMEH_OK && !json_is_array(arr)) rc = acmeh_check_fail(ctx, "an object with an \"orders\" array", "no orders array");
  size_t i;
  json_t *u;
  int found = 0;
  json_array_foreach(arr, i, u) found |= json_is_string(u) && strcmp(json_string_value(u), url) == 0;
  if (rc == ACMEH_OK && !found && json_array_size(arr) < 100) /* paginated lists may hold it further on */
    acmeh_check_note(ctx, "the pending order %s is not in the first page (SHOULD be listed)", url);
  json_decref(order), json_decref(acct), json_decref(list);
  free(url);
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_order_checks[] = {
    {"CORE-S-046", order_created},     {"CORE-S-047", order_immutable},   {"CORE-S-048", order_wildcard},
    {"CORE-S-049", order_bad_alabel},  {"CORE-S-050", finalize_pending},  {"CORE-S-051", finalize_bad_csr},
    {"CORE-S-052", finalize_account_key}, {"CORE-S-053", finalize_ok},    {"CORE-S-067", order_ready},
    {"CORE-S-068", authz_deactivate},  {"CORE-S-079", orders_list},       {NULL, NULL}};
