/* The reference client and the usual fixtures of server checks (fixture.h). */
#include "harness/kit/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/runner/suite.h"

int acmeh_kit_attribute(acmeh_check_ctx *ctx, int rc) {
  if (!ctx->failed_step || acmeh_err_class(rc) != ACMEH_CLASS_PEER || ctx->concluded) return rc;
  int own = 0;
  const char *judge = acmeh_step_judge_of(ctx->failed_step, ctx->id, &own);
  return judge && !own ? acmeh_check_blocked(ctx, ctx->failed_step, judge, ctx->err) : rc;
}

int acmeh_kit_attribute_own(acmeh_check_ctx *ctx, int rc, const char *own) {
  return ctx->failed_step && own && strcmp(ctx->failed_step, own) == 0 ? rc : acmeh_kit_attribute(ctx, rc);
}

int acmeh_kit_step_fault(acmeh_check_ctx *ctx, const char *step, const char *expected, const char *actual) {
  int own = 0;
  const char *judge = acmeh_step_judge_of(step, ctx->id, &own);
  if (judge && !own) {
    char why[400];
    snprintf(why, sizeof why, "expected %s; got %s", expected, actual);
    return acmeh_check_blocked(ctx, step, judge, why);
  }
  return acmeh_check_fail(ctx, expected, "%s", actual);
}

int acmeh_kit_client(acmeh_check_ctx *ctx, acmeh_acme **c) {
  acmeh_acme_config cfg = {.directory_url = ctx->env->directory_url, .ca_file = ctx->env->ca_file,
                           .transcript = &ctx->transcript, .deadline = ctx->deadline,
                           .verbose = ctx->env->verbose, .dnsacct_scheme = ctx->env->wire.dnsacct_scheme,
                           .persist_rev = ctx->env->wire.persist_rev,
                           .failed_step = &ctx->failed_step, .schema_log = ctx->schema_log,
                           .schema_origin = ctx->id};
  return acmeh_acme_new(&cfg, c, ctx->err, sizeof ctx->err);
}

int acmeh_kit_account(acmeh_check_ctx *ctx, acmeh_acme **c) {
  int rc = acmeh_kit_client(ctx, c);
  if (rc == ACMEH_OK) rc = acmeh_flow_new_account(*c, ACMEH_KEY_ES256, NULL, NULL, ctx->err, sizeof ctx->err);
  if (rc && *c) acmeh_acme_free(*c), *c = NULL;
  return rc;
}

int acmeh_kit_order(acmeh_check_ctx *ctx, acmeh_acme **c, char *name, size_t namelen, char **order_url,
               json_t **order) {
  int rc = acmeh_kit_account(ctx, c);
  acmeh_check_name(ctx, name, namelen);
  const char *names[] = {name};
  if (rc == ACMEH_OK) rc = acmeh_flow_new_order(*c, names, 1, order_url, order, ctx->err, sizeof ctx->err);
  return rc;
}

int acmeh_kit_post(acmeh_check_ctx *ctx, acmeh_acme *c, const char *url, const char *payload,
              const acmeh_post_opts *o, acmeh_http_resp *r) {
  return acmeh_acme_post(c, url, payload, o, r, ctx->err, sizeof ctx->err);
}

const char *acmeh_kit_first_authz(const json_t *order) {
  return json_string_value(json_array_get(json_object_get(order, "authorizations"), 0));
}

int acmeh_kit_fixture_authz(acmeh_check_ctx *ctx, acmeh_kit_fixture *f) {
  int rc = acmeh_kit_order(ctx, &f->c, f->name, sizeof f->name, &f->is.order_url, &f->is.order);
  const char *u = acmeh_kit_first_authz(f->is.order);
  f->authz_url = u ? strdup(u) : NULL;
  if (rc == ACMEH_OK && !u) /* the order object is newOrder's answer */
    rc = acmeh_acme_step_result(f->c, acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_PEER_PROTOCOL, "the order has no authorization URL"));
  if (rc == ACMEH_OK) acmeh_acme_step_set(f->c, "authorization");
  if (rc == ACMEH_OK) rc = acmeh_acme_step_result(f->c, acmeh_acme_get_json(f->c, u, &f->authz, NULL, ctx->err, sizeof ctx->err));
  return rc;
}

static int fixture_flow(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, int issue) {
  int rc = acmeh_kit_account(ctx, &f->c);
  const char *names[] = {acmeh_check_name(ctx, f->name, sizeof f->name)};
  if (rc == ACMEH_OK)
    rc = (issue ? acmeh_flow_issue : acmeh_flow_ready_order)(f->c, ctx->env->publisher, names, 1, "http-01", &f->is,
                                                            ctx->err, sizeof ctx->err);
  return rc;
}

int acmeh_kit_fixture_ready(acmeh_check_ctx *ctx, acmeh_kit_fixture *f) { return fixture_flow(ctx, f, 0); }
int acmeh_kit_fixture_issued(acmeh_check_ctx *ctx, acmeh_kit_fixture *f) { return fixture_flow(ctx, f, 1); }

void acmeh_kit_fixture_free(acmeh_kit_fixture *f) {
  acmeh_acme_free(f->c);
  free(f->authz_url);
  json_decref(f->authz);
  acmeh_issued_clear(&f->is);
  memset(f, 0, sizeof *f);
}
