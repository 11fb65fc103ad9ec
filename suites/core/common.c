#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/error.h"
#include "suites/core/core.h"

int core_client(acmeh_check_ctx *ctx, acmeh_acme **c) {
  acmeh_acme_config cfg = {.directory_url = ctx->env->directory_url, .ca_file = ctx->env->ca_file,
                           .transcript = &ctx->transcript, .deadline = ctx->deadline,
                           .verbose = ctx->env->verbose};
  return acmeh_acme_new(&cfg, c, ctx->err, sizeof ctx->err);
}

int core_account(acmeh_check_ctx *ctx, acmeh_acme **c) {
  int rc = core_client(ctx, c);
  if (rc == ACMEH_OK) rc = acmeh_flow_new_account(*c, ACMEH_KEY_ES256, NULL, NULL, ctx->err, sizeof ctx->err);
  if (rc && *c) acmeh_acme_free(*c), *c = NULL;
  return rc;
}

int core_order(acmeh_check_ctx *ctx, acmeh_acme **c, char *name, size_t namelen, char **order_url,
               json_t **order) {
  int rc = core_account(ctx, c);
  acmeh_check_name(ctx, name, namelen);
  const char *names[] = {name};
  if (rc == ACMEH_OK) rc = acmeh_flow_new_order(*c, names, 1, order_url, order, ctx->err, sizeof ctx->err);
  return rc;
}

int core_expect_status(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *what) {
  if (r->status == status) return ACMEH_OK;
  char d[300], want[64];
  acmeh_resp_describe(r, d, sizeof d);
  snprintf(want, sizeof want, "%ld", status);
  return acmeh_check_fail(ctx, want, "%s answered %s", what, d);
}

int core_expect_problem(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *type,
                        const char *what) {
  char got[128], d[300], want[200];
  acmeh_resp_problem(r, got, sizeof got);
  acmeh_resp_describe(r, d, sizeof d);
  int status_ok = status ? r->status == status : (r->status >= 400 && r->status < 500);
  snprintf(want, sizeof want, "%s%ld %s%s", status ? "" : "4xx, e.g. ", status ? status : 400,
           type ? ACMEH_PROBLEM_PREFIX : "an error", type ? type : "");
  if (!status_ok || (type && strcmp(got, type) != 0))
    return acmeh_check_fail(ctx, want, "%s answered %s", what, d);
  return ACMEH_OK;
}

int core_expect_refused(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *const *types,
                        const char *what) {
  char got[128], d[300], want[300] = "refusal (4xx) with type";
  acmeh_resp_problem(r, got, sizeof got);
  acmeh_resp_describe(r, d, sizeof d);
  int ok = r->status >= 400 && r->status < 500, type_ok = !types;
  for (size_t i = 0; types && types[i]; i++) {
    type_ok |= strcmp(got, types[i]) == 0;
    strncat(want, i ? " or " : " ", sizeof want - strlen(want) - 1);
    strncat(want, types[i], sizeof want - strlen(want) - 1);
  }
  if (!types) snprintf(want, sizeof want, "refusal (4xx)");
  if (!ok || !type_ok) return acmeh_check_fail(ctx, want, "%s answered %s", what, d);
  return ACMEH_OK;
}

int core_post(acmeh_check_ctx *ctx, acmeh_acme *c, const char *url, const char *payload,
              const acmeh_post_opts *o, acmeh_http_resp *r) {
  return acmeh_acme_post(c, url, payload, o, r, ctx->err, sizeof ctx->err);
}

const char *core_first_authz(const json_t *order) {
  return json_string_value(json_array_get(json_object_get(order, "authorizations"), 0));
}

int core_fixture_authz(acmeh_check_ctx *ctx, core_fixture *f) {
  int rc = core_order(ctx, &f->c, f->name, sizeof f->name, &f->is.order_url, &f->is.order);
  const char *u = core_first_authz(f->is.order);
  f->authz_url = u ? strdup(u) : NULL;
  if (rc == ACMEH_OK && !u) rc = acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(f->c, u, &f->authz, NULL, ctx->err, sizeof ctx->err);
  return rc;
}

static int fixture_flow(acmeh_check_ctx *ctx, core_fixture *f, int issue) {
  int rc = core_account(ctx, &f->c);
  const char *names[] = {acmeh_check_name(ctx, f->name, sizeof f->name)};
  if (rc == ACMEH_OK)
    rc = (issue ? acmeh_flow_issue : acmeh_flow_ready_order)(f->c, ctx->env->mocks, names, 1, "http-01", &f->is,
                                                            ctx->err, sizeof ctx->err);
  return rc;
}

int core_fixture_ready(acmeh_check_ctx *ctx, core_fixture *f) { return fixture_flow(ctx, f, 0); }
int core_fixture_issued(acmeh_check_ctx *ctx, core_fixture *f) { return fixture_flow(ctx, f, 1); }

void core_fixture_free(core_fixture *f) {
  acmeh_acme_free(f->c);
  free(f->authz_url);
  json_decref(f->authz);
  acmeh_issued_clear(&f->is);
  memset(f, 0, sizeof *f);
}
