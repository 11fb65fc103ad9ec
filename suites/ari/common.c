#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/acme/cert.h"
#include "base/error.h"
#include "suites/ari/ari_suite.h"

const char *ari_base(const acmeh_acme *c) { return acmeh_acme_dir_url(c, "renewalInfo"); }

int ari_fixture(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, const char **base) {
  int rc = acmeh_kit_client(ctx, &f->c);
  if (rc) return rc;
  *base = ari_base(f->c);
  if (!*base) return acmeh_check_skip(ctx, "server does not advertise renewalInfo");
  rc = acmeh_flow_new_account(f->c, ACMEH_KEY_ES256, NULL, NULL, ctx->err, sizeof ctx->err);
  const char *names[] = {acmeh_check_name(ctx, f->name, sizeof f->name)};
  if (rc == ACMEH_OK)
    rc = acmeh_flow_issue(f->c, ctx->env->publisher, names, 1, "http-01", &f->is, ctx->err, sizeof ctx->err);
  return rc;
}

int ari_cert_id(acmeh_check_ctx *ctx, const char *chain_pem, char **id) {
  char err[256] = "";
  *id = NULL;
  if (!chain_pem || acmeh_ari_cert_id_pem(chain_pem, strlen(chain_pem), id, err, sizeof err) != 0 || !*id) {
    free(*id), *id = NULL;
    return acmeh_check_fail(ctx, "an issued certificate carrying an Authority Key Identifier keyIdentifier (§4.1)",
                            "no certID could be built: %s", err[0] ? err : "unparsable certificate");
  }
  return ACMEH_OK;
}

int ari_get(acmeh_check_ctx *ctx, acmeh_acme *c, const char *base, const char *cert_id, acmeh_http_resp *r) {
  size_t bl = strlen(base);
  char *url = NULL;
  /* a directory value that already ends in "/" must not give "//" (§4.1) */
  if (asprintf(&url, "%s%s%s", base, bl && base[bl - 1] == '/' ? "" : "/", cert_id) < 0) return ACMEH_NOMEM;
  static const char *const hdrs[] = {"Accept: application/json", NULL};
  int rc = acmeh_http_request(acmeh_acme_http(c), "GET", url, NULL, NULL, 0, hdrs, r, ctx->err, sizeof ctx->err);
  free(url);
  return rc;
}

static int window_time(const json_t *w, const char *member, double *t, char *why, size_t whylen) {
  const char *s = json_string_value(json_object_get(w, member));
  if (!s) return snprintf(why, whylen, "suggestedWindow.%s is absent or not a string", member), -1;
  if (acmeh_rfc3339_parse(s, t) != 0)
    return snprintf(why, whylen, "suggestedWindow.%s \"%.60s\" is not an RFC 3339 date-time", member, s), -1;
  return 0;
}

int ari_window(const acmeh_http_resp *r, double *start, double *end, char *why, size_t whylen) {
  json_t *body = acmeh_resp_json(r);
  json_t *w = json_object_get(body, "suggestedWindow");
  int rc = 0;
  if (!json_is_object(body)) rc = -1, snprintf(why, whylen, "the body is not a JSON object");
  else if (!json_is_object(w)) rc = -1, snprintf(why, whylen, "no suggestedWindow object");
  else rc = window_time(w, "start", start, why, whylen) || window_time(w, "end", end, why, whylen) ? -1 : 0;
  json_decref(body);
  return rc;
}

