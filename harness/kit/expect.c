/* Expectations on a server's answer (expect.h). */
#include "harness/kit/expect.h"

#include <stdio.h>
#include <string.h>

#include "harness/client/acme.h"
#include "base/error.h"

int acmeh_kit_expect_status(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *what) {
  if (r->status == status) return ACMEH_OK;
  char d[300], want[64];
  acmeh_resp_describe(r, d, sizeof d);
  snprintf(want, sizeof want, "%ld", status);
  return acmeh_check_fail(ctx, want, "%s answered %s", what, d);
}

int acmeh_kit_expect_problem(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *type,
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

int acmeh_kit_expect_refused(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *const *types,
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

int acmeh_kit_expect_member(acmeh_check_ctx *ctx, const json_t *got, const char *member, const char *want,
                      const char *when) {
  const json_t *v = json_object_get(got, member);
  const char *s = json_string_value(v);
  char exp[300];
  snprintf(exp, sizeof exp, "\"%s\": \"%s\" in the order", member, want);
  if (!v) return acmeh_check_fail(ctx, exp, "%s has no \"%s\"", when, member);
  if (!s) return acmeh_check_fail(ctx, exp, "%s has a \"%s\" that is not a string", when, member);
  if (strcmp(s, want) != 0) return acmeh_check_fail(ctx, exp, "%s has \"%s\": \"%.200s\"", when, member, s);
  return ACMEH_OK;
}
