/* Orders with one newOrder extension member (order.h). */
#include "harness/kit/order.h"

#include <stdlib.h>
#include <string.h>

#include "harness/acme/cert.h"
#include "base/error.h"
#include "harness/kit/fixture.h"

int acmeh_kit_ext_new_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n, const char *member,
                  const char *value, acmeh_http_resp *r) {
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  if (!url) return acmeh_check_fail(ctx, "a newOrder URL in the directory", "none");
  json_t *ids = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", names[i]));
  json_t *p = json_pack("{s:o}", "identifiers", ids);
  if (member) json_object_set_new(p, member, json_string(value));
  char *payload = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  int rc = payload ? acmeh_kit_post(ctx, c, url, payload, NULL, r) : ACMEH_NOMEM;
  free(payload);
  return rc;
}

static void set_names(acmeh_issued *out, const char *const *names, size_t n) {
  out->names = calloc(n, sizeof *out->names);
  for (size_t i = 0; out->names && i < n; i++) out->names[out->nnames++] = strdup(names[i]);
}

int acmeh_kit_ext_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n, const char *member,
              const char *value, const char *what, acmeh_issued *out) {
  acmeh_http_resp r;
  int rc = acmeh_kit_ext_new_order(ctx, c, names, n, member, value, &r);
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

int acmeh_kit_ext_ready(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out) {
  size_t i;
  const json_t *u;
  int rc = ACMEH_OK;
  json_array_foreach(json_object_get(out->order, "authorizations"), i, u) {
    json_t *final = NULL;
    if (rc == ACMEH_OK)
      rc = acmeh_flow_authorize(c, ctx->env->publisher, json_string_value(u) ? json_string_value(u) : "", "http-01",
                                &final, ctx->err, sizeof ctx->err);
    json_decref(final);
  }
  static const char *const waiting[] = {"pending"};
  json_t *o = NULL;
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(c, out->order_url, waiting, 1, &o, ctx->err, sizeof ctx->err);
  if (o) json_decref(out->order), out->order = o;
  return rc;
}

int acmeh_kit_ext_csr(acmeh_check_ctx *ctx, acmeh_issued *out, char **csr) {
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

int acmeh_kit_ext_complete(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out) {
  char *csr = NULL;
  int rc = acmeh_kit_ext_ready(ctx, c, out);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_csr(ctx, out, &csr);
  if (rc == ACMEH_OK) rc = acmeh_flow_finalize(c, out, csr, ctx->err, sizeof ctx->err);
  free(csr);
  return rc;
}

