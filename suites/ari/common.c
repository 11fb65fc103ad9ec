#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/acme/cert.h"
#include "harness/core/error.h"
#include "suites/ari/ari_suite.h"

const char *ari_base(const acmeh_acme *c) { return acmeh_acme_dir_url(c, "renewalInfo"); }

int ari_fixture(acmeh_check_ctx *ctx, core_fixture *f, const char **base) {
  int rc = core_client(ctx, &f->c);
  if (rc) return rc;
  *base = ari_base(f->c);
  if (!*base) return acmeh_check_skip(ctx, "server does not advertise renewalInfo");
  rc = acmeh_flow_new_account(f->c, ACMEH_KEY_ES256, NULL, NULL, ctx->err, sizeof ctx->err);
  const char *names[] = {acmeh_check_name(ctx, f->name, sizeof f->name)};
  if (rc == ACMEH_OK)
    rc = acmeh_flow_issue(f->c, ctx->env->mocks, names, 1, "http-01", &f->is, ctx->err, sizeof ctx->err);
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

int ext_new_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n, const char *member,
                  const char *value, acmeh_http_resp *r) {
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  if (!url) return acmeh_check_fail(ctx, "a newOrder URL in the directory", "none");
  json_t *ids = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", names[i]));
  json_t *p = json_pack("{s:o}", "identifiers", ids);
  if (member) json_object_set_new(p, member, json_string(value));
  char *payload = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  int rc = payload ? core_post(ctx, c, url, payload, NULL, r) : ACMEH_NOMEM;
  free(payload);
  return rc;
}

static void set_names(acmeh_issued *out, const char *const *names, size_t n) {
  out->names = calloc(n, sizeof *out->names);
  for (size_t i = 0; out->names && i < n; i++) out->names[out->nnames++] = strdup(names[i]);
}

int ext_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n, const char *member,
              const char *value, const char *what, acmeh_issued *out) {
  acmeh_http_resp r;
  int rc = ext_new_order(ctx, c, names, n, member, value, &r);
  const char *loc = rc ? NULL : acmeh_http_header_get(&r, "Location");
  json_t *o = rc ? NULL : acmeh_resp_json(&r);
  if (rc == ACMEH_OK && (r.status != 201 || !loc || !json_is_object(o))) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_check_fail(ctx, "201 with Location and an order object", "%s answered %s%s", what, d,
                          loc ? "" : " (no Location)");
  }
  if (rc == ACMEH_OK) {
    set_names(out, names, n);
    out->order_url = strdup(loc), out->order = o, o = NULL;
  }
  json_decref(o);
  acmeh_http_resp_free(&r);
  return rc;
}

int ext_ready(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out) {
  size_t i;
  const json_t *u;
  int rc = ACMEH_OK;
  json_array_foreach(json_object_get(out->order, "authorizations"), i, u) {
    json_t *final = NULL;
    if (rc == ACMEH_OK)
      rc = acmeh_flow_authorize(c, ctx->env->mocks, json_string_value(u) ? json_string_value(u) : "", "http-01",
                                &final, ctx->err, sizeof ctx->err);
    json_decref(final);
  }
  static const char *const waiting[] = {"pending"};
  json_t *o = NULL;
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(c, out->order_url, waiting, 1, &o, ctx->err, sizeof ctx->err);
  if (o) json_decref(out->order), out->order = o;
  return rc;
}

int ext_csr(acmeh_check_ctx *ctx, acmeh_issued *out, char **csr) {
  acmeh_key *ck = NULL;
  *csr = NULL;
  if (acmeh_key_generate(ACMEH_KEY_ES256, &ck)) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "key generation failed");
  int rc = acmeh_csr_build(acmeh_key_pkey(ck), (const char *const *)out->names, out->nnames, csr)
               ? acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "CSR build failed")
               : ACMEH_OK;
  EVP_PKEY_free(out->cert_key);
  out->cert_key = acmeh_key_pkey(ck), EVP_PKEY_up_ref(out->cert_key), acmeh_key_free(ck);
  return rc;
}

int ext_complete(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out) {
  char *csr = NULL;
  int rc = ext_ready(ctx, c, out);
  if (rc == ACMEH_OK) rc = ext_csr(ctx, out, &csr);
  if (rc == ACMEH_OK) rc = acmeh_flow_finalize(c, out, csr, ctx->err, sizeof ctx->err);
  free(csr);
  return rc;
}

int ext_expect_member(acmeh_check_ctx *ctx, const json_t *got, const char *member, const char *want,
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
