/* ARI server checks on the newOrder field "replaces" (RFC 9773 §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "suites/ari/ari_suite.h"

/* A certificate issued to a fresh account (f) and its certID (*id). */
static int replaced_cert(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, char **id) {
  const char *base = NULL;
  int rc = ari_fixture(ctx, f, &base);
  if (rc == ACMEH_OK) rc = ari_cert_id(ctx, f->is.chain_pem, id);
  return rc;
}

/* ARI-S10: an accepted replacing order echoes replaces, also when fetched later. */
static int s010(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char *id = NULL;
  acmeh_issued o = {0};
  json_t *again = NULL;
  int rc = replaced_cert(ctx, &f, &id);
  const char *names[] = {f.name};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_order(ctx, f.c, names, 1, "replaces", id, "newOrder replacing the account's certificate", &o);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_member(ctx, o.order, "replaces", id, "the newOrder response");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(f.c, o.order_url, &again, NULL, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_member(ctx, again, "replaces", id, "the order fetched again (POST-as-GET)");
  json_decref(again);
  acmeh_issued_clear(&o);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* 1 when r is 409 alreadyReplaced; else describes r into d. */
static int already_replaced(const acmeh_http_resp *r, char *d, size_t dlen) {
  char type[128];
  acmeh_resp_problem(r, type, sizeof type);
  acmeh_resp_describe(r, d, dlen);
  return r->status == 409 && strcmp(type, "alreadyReplaced") == 0;
}

/* Verdict of ARI-S11 from the pending-variant and finalized-variant answers. */
static int judge_s011(acmeh_check_ctx *ctx, int ok_pending, const char *d_pending, int ok_final, const char *d_final) {
  const char *want = "409 urn:ietf:params:acme:error:alreadyReplaced while another replacing order is not invalid";
  if (ok_pending && ok_final) return ACMEH_OK;
  if (!ok_final)
    return acmeh_check_fail(ctx, want, "with the first replacing order valid (finalized), the second answered %s; "
                            "with it pending, %s", d_final, ok_pending ? "409 alreadyReplaced" : d_pending);
  return acmeh_check_fail(ctx, want, "with the first replacing order pending, the second answered %s (with it "
                          "finalized: 409 alreadyReplaced). Interpretation difference: this server marks a "
                          "certificate replaced only once its replacing order is finalized (as Pebble does); "
                          "§5 counts any replacing order that is not invalid, pending included", d_pending);
}

/* ARI-S11: a second replacement of the same certificate gets 409 alreadyReplaced,
 * first while the first replacing order is pending, then once it is finalized. */
static int s011(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char *id = NULL, d_pending[300] = "", d_final[300] = "";
  acmeh_issued first = {0};
  acmeh_http_resp r1 = {0}, r2 = {0};
  int ok_pending = 0, ok_final = 0;
  int rc = replaced_cert(ctx, &f, &id);
  const char *names[] = {f.name};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_order(ctx, f.c, names, 1, "replaces", id, "the first replacing newOrder", &first);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_new_order(ctx, f.c, names, 1, "replaces", id, &r1);
  if (rc == ACMEH_OK) ok_pending = already_replaced(&r1, d_pending, sizeof d_pending);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_complete(ctx, f.c, &first);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_new_order(ctx, f.c, names, 1, "replaces", id, &r2);
  if (rc == ACMEH_OK) ok_final = already_replaced(&r2, d_final, sizeof d_final);
  if (rc == ACMEH_OK) rc = judge_s011(ctx, ok_pending, d_pending, ok_final, d_final);
  acmeh_http_resp_free(&r1), acmeh_http_resp_free(&r2);
  acmeh_issued_clear(&first);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* ARI-S12: another account may not replace this account's certificate. */
static int s012(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char *id = NULL;
  acmeh_acme *other = NULL;
  acmeh_http_resp r = {0};
  int rc = replaced_cert(ctx, &f, &id);
  const char *names[] = {f.name};
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &other);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_new_order(ctx, other, names, 1, "replaces", id, &r);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_expect_refused(ctx, &r, NULL, "newOrder by another account replacing this account's certificate");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(other);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* ARI-S13: a replacing order must share an identifier with the certificate. */
static int s013(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char *id = NULL, other[256];
  acmeh_http_resp r = {0};
  int rc = replaced_cert(ctx, &f, &id);
  const char *names[] = {acmeh_check_name(ctx, other, sizeof other)};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_new_order(ctx, f.c, names, 1, "replaces", id, &r);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_expect_refused(ctx, &r, NULL, "newOrder for an unrelated name replacing the certificate");
  acmeh_http_resp_free(&r);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Answers the authorization's http-01 challenge without publishing anything,
 * so a validating server fails it (RFC 8555 §8.3); a server that validated it
 * anyway gets the authorization deactivated (§7.5.2). */
static int spoil_authz(acmeh_check_ctx *ctx, acmeh_acme *c, const char *authz) {
  json_t *a = NULL, *final = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_acme_get_json(c, authz, &a, NULL, ctx->err, sizeof ctx->err);
  const char *chal = json_string_value(json_object_get(acmeh_flow_find_challenge(a, "http-01"), "url"));
  if (rc == ACMEH_OK && chal) rc = acmeh_kit_post(ctx, c, chal, "{}", NULL, &r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK && chal) rc = acmeh_flow_poll(c, authz, waiting, 2, &final, ctx->err, sizeof ctx->err);
  const char *st = json_string_value(json_object_get(final, "status"));
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK && strcmp(st ? st : "", "invalid") != 0) {
    rc = acmeh_kit_post(ctx, c, authz, "{\"status\":\"deactivated\"}", NULL, &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "authorization deactivation");
    acmeh_http_resp_free(&r);
  }
  json_decref(a), json_decref(final);
  return rc;
}

/* The first authorization of the order still "pending" (malloc'd URL), else
 * the first one: servers that reuse valid authorizations leave none pending. */
static char *pending_authz(acmeh_check_ctx *ctx, acmeh_acme *c, const json_t *order) {
  size_t i;
  const json_t *u;
  json_array_foreach(json_object_get(order, "authorizations"), i, u) {
    json_t *a = NULL;
    if (!json_is_string(u) || acmeh_acme_get_json(c, json_string_value(u), &a, NULL, ctx->err, sizeof ctx->err)) continue;
    const char *st = json_string_value(json_object_get(a, "status"));
    int pending = st && strcmp(st, "pending") == 0;
    json_decref(a);
    if (pending) return strdup(json_string_value(u));
  }
  const char *first = acmeh_kit_first_authz(order);
  return first ? strdup(first) : NULL;
}

/* Makes a pending order invalid through one of its authorizations; skips when
 * the server then shows the order in any other state. */
static int invalidate(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *o) {
  char *authz = pending_authz(ctx, c, o->order);
  json_t *now = NULL;
  int rc = authz ? spoil_authz(ctx, c, authz) : acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, o->order_url, &now, NULL, ctx->err, sizeof ctx->err);
  const char *st = json_string_value(json_object_get(now, "status"));
  if (rc == ACMEH_OK && strcmp(st ? st : "", "invalid") != 0)
    rc = acmeh_check_skip(ctx, "a failed or deactivated authorization left the replacing order \"%s\", not invalid",
                          st ? st : "(no status)");
  json_decref(now);
  free(authz);
  return rc;
}

/* ARI-S14: once the replacing order is invalid, the certificate may be replaced again. */
static int s014(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char *id = NULL;
  acmeh_issued first = {0}, second = {0};
  char extra[256];
  int rc = replaced_cert(ctx, &f, &id);
  /* a second, fresh name gives the first replacing order an authorization no
   * earlier order made valid, so it can be failed */
  const char *names[] = {f.name, acmeh_check_name(ctx, extra, sizeof extra)};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_order(ctx, f.c, names, 2, "replaces", id, "the first replacing newOrder", &first);
  if (rc == ACMEH_OK) rc = invalidate(ctx, f.c, &first);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_ext_order(ctx, f.c, names, 1, "replaces", id, "newOrder replacing a certificate whose replacing order is invalid",
                   &second);
  acmeh_issued_clear(&first), acmeh_issued_clear(&second);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

const acmeh_check_impl ari_replaces_checks[] = {
    {"ARI-S-010", s010}, {"ARI-S-011", s011}, {"ARI-S-012", s012}, {"ARI-S-013", s013},
    {"ARI-S-014", s014}, {NULL, NULL}};
