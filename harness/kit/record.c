/* Reading scenario records (record.h). */
#include "harness/kit/record.h"

#include <string.h>

#include "base/error.h"

const char *acmeh_kit_x_field(const json_t *x, const char *k) { return json_string_value(json_object_get(x, k)); }
long long acmeh_kit_x_seq(const json_t *x) { return json_integer_value(json_object_get(x, "seq")); }

void acmeh_kit_exchange_read(const json_t *x, acmeh_kit_exchange *e) {
  const json_t *jws = json_object_get(x, "jws");
  *e = (acmeh_kit_exchange){
      .seq = acmeh_kit_x_seq(x),
      .time_ms = json_integer_value(json_object_get(x, "time_ms")),
      .method = acmeh_kit_x_field(x, "method"),
      .url = acmeh_kit_x_field(x, "url"),
      .path = acmeh_kit_x_field(x, "path"),
      .resource = acmeh_kit_x_field(x, "resource"),
      .req_headers = json_object_get(x, "req_headers"),
      .protected_hdr = json_is_object(json_object_get(jws, "protected")) ? json_object_get(jws, "protected") : NULL,
      .payload = acmeh_kit_x_field(jws, "payload"),
      .jws_error = acmeh_kit_x_field(jws, "error"),
      .account = acmeh_kit_x_field(x, "account"),
      .status = (long)json_integer_value(json_object_get(x, "status")),
      .resp_headers = json_object_get(x, "resp_headers"),
      .resp_body = acmeh_kit_x_field(x, "resp_body"),
      .faults = json_object_get(x, "faults"),
  };
}

const char *acmeh_kit_req_header(const acmeh_kit_exchange *e, const char *name) {
  return acmeh_kit_x_field(e->req_headers, name);
}

const char *acmeh_kit_resp_header(const acmeh_kit_exchange *e, const char *name) {
  return acmeh_kit_x_field(e->resp_headers, name);
}

int acmeh_kit_x_is(const json_t *x, const char *method, const char *resource) {
  const char *m = acmeh_kit_x_field(x, "method"), *res = acmeh_kit_x_field(x, "resource");
  return m && res && strcmp(m, method) == 0 && (!resource || strcmp(res, resource) == 0);
}

double acmeh_kit_x_wall(const acmeh_client_run *r, const json_t *x) {
  return r->started_wall + (double)json_integer_value(json_object_get(x, "time_ms")) / 1000.0;
}

json_t *acmeh_kit_x_order_payload(const json_t *x) {
  const char *p = acmeh_kit_x_is(x, "POST", "newOrder") ? acmeh_kit_x_field(json_object_get(x, "jws"), "payload") : NULL;
  return p ? json_loads(p, 0, NULL) : NULL;
}

int acmeh_kit_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc == ACMEH_OK && !json_array_size((*r)->exchanges))
    rc = acmeh_check_fail(ctx, "ACME requests from the client", "none (client exit %d%s)", (*r)->exit_status,
                          (*r)->timed_out ? ", timed out" : "");
  return rc;
}

int acmeh_kit_disclaims(const acmeh_check_ctx *ctx, const char *name) {
  return json_is_false(json_object_get(json_object_get(ctx->env->client, "claims"), name));
}

int acmeh_kit_claims(const acmeh_check_ctx *ctx, const char *name) {
  return json_is_true(json_object_get(ctx->env->claims, name)) ||
         json_is_true(json_object_get(json_object_get(ctx->env->client, "claims"), name));
}
