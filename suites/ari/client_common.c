/* Shared by the ARI-C and PROF-C checks (client_common.h). */
#include "suites/ari/client_common.h"

#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/core/error.h"

const char *cc_field(const json_t *x, const char *k) { return json_string_value(json_object_get(x, k)); }
long long cc_seq(const json_t *x) { return json_integer_value(json_object_get(x, "seq")); }

int cc_is(const json_t *x, const char *method, const char *resource) {
  const char *m = cc_field(x, "method"), *res = cc_field(x, "resource");
  return m && res && strcmp(m, method) == 0 && (!resource || strcmp(res, resource) == 0);
}

double cc_wall(const acmeh_client_run *r, const json_t *x) {
  return r->started_wall + (double)json_integer_value(json_object_get(x, "time_ms")) / 1000.0;
}

int cc_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc == ACMEH_OK && !json_array_size((*r)->exchanges))
    rc = acmeh_check_fail(ctx, "ACME requests from the client", "none (client exit %d%s)", (*r)->exit_status,
                          (*r)->timed_out ? ", timed out" : "");
  return rc;
}

const char *cc_ari_base(const acmeh_client_run *r) {
  size_t i;
  json_t *x;
  CC_EACH(r, i, x) if (cc_is(x, "GET", "directory")) {
    json_t *d = json_loads(cc_field(x, "resp_body") ? cc_field(x, "resp_body") : "", 0, NULL);
    static __thread char base[512];
    const char *u = cc_field(d, "renewalInfo");
    int ok = u && strlen(u) < sizeof base;
    if (ok) strcpy(base, u);
    json_decref(d);
    if (ok) return base;
  }
  return NULL;
}

int cc_is_ari(const acmeh_client_run *r, const json_t *x) {
  const char *res = cc_field(x, "resource"), *url = cc_field(x, "url"), *base = cc_ari_base(r);
  if (res && strcmp(res, "renewalInfo") == 0) return 1;
  return base && url && strncmp(url, base, strlen(base)) == 0 && url[strlen(base)] == '/';
}

const char *cc_ari_id(const acmeh_client_run *r, const json_t *x) {
  const char *url = cc_field(x, "url"), *base = cc_ari_base(r);
  const char *p = base && url && strncmp(url, base, strlen(base)) == 0 ? url + strlen(base) : url ? strrchr(url, '/') : NULL;
  while (p && *p == '/') p++;
  return p ? p : "";
}

size_t cc_ari_count(const acmeh_client_run *r) {
  size_t i, n = 0;
  json_t *x;
  CC_EACH(r, i, x) n += (size_t)cc_is_ari(r, x);
  return n;
}

json_t *cc_order_payload(const json_t *x) {
  const char *p = cc_is(x, "POST", "newOrder") ? cc_field(json_object_get(x, "jws"), "payload") : NULL;
  return p ? json_loads(p, 0, NULL) : NULL;
}

json_t *cc_issued_ids(const acmeh_client_run *r) {
  json_t *out = json_array(), *x;
  size_t i;
  CC_EACH(r, i, x) if (cc_is(x, "POST", "certificate") && json_integer_value(json_object_get(x, "status")) == 200) {
    const char *pem = cc_field(x, "resp_body");
    char *id = NULL;
    if (pem && acmeh_ari_cert_id_pem(pem, strlen(pem), &id, NULL, 0) == ACMEH_OK) json_array_append_new(out, json_string(id));
    free(id);
  }
  return out;
}

int cc_client_uses_ari(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  return acmeh_scenario_get(ctx, "ari-window-past", &r) == ACMEH_OK && cc_ari_count(r) > 0;
}

int cc_disclaims(const acmeh_check_ctx *ctx, const char *name) {
  return json_is_false(json_object_get(json_object_get(ctx->env->client, "claims"), name));
}

int cc_claims(const acmeh_check_ctx *ctx, const char *name) {
  return json_is_true(json_object_get(ctx->env->claims, name)) ||
         json_is_true(json_object_get(json_object_get(ctx->env->client, "claims"), name));
}
