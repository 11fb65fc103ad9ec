/* Reading scenario records (record.h). The string keys of server.h's
 * exchange and validation objects are read here and nowhere else. */
#include "harness/kit/record.h"

#include <string.h>

#include "base/error.h"

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static long long num(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

void acmeh_kit_exchange_read(const json_t *x, acmeh_kit_exchange *e) {
  const json_t *jws = json_object_get(x, "jws"), *prot = json_object_get(jws, "protected");
  *e = (acmeh_kit_exchange){
      .seq = num(x, "seq"),
      .time_ms = num(x, "time_ms"),
      .method = str(x, "method"),
      .url = str(x, "url"),
      .path = str(x, "path"),
      .resource = str(x, "resource"),
      .req_headers = json_object_get(x, "req_headers"),
      .req_body = str(x, "req_body"),
      .req_body_len = num(x, "req_body_len"),
      .has_jws = json_is_object(jws),
      .protected_hdr = json_is_object(prot) ? prot : NULL,
      .protected_b64 = str(jws, "protected_b64"),
      .payload_b64 = str(jws, "payload_b64"),
      .signature_b64 = str(jws, "signature_b64"),
      .payload = str(jws, "payload"),
      .jws_error = str(jws, "error"),
      .account = str(x, "account"),
      .status = (long)num(x, "status"),
      .resp_headers = json_object_get(x, "resp_headers"),
      .resp_body = str(x, "resp_body"),
      .faults = json_object_get(x, "faults"),
  };
}

int acmeh_kit_exchange_at(const acmeh_client_run *r, size_t i, acmeh_kit_exchange *e) {
  const json_t *x = r ? json_array_get(r->exchanges, i) : NULL;
  if (x) acmeh_kit_exchange_read(x, e);
  return x != NULL;
}

const char *acmeh_kit_req_header(const acmeh_kit_exchange *e, const char *name) { return str(e->req_headers, name); }

const char *acmeh_kit_resp_header(const acmeh_kit_exchange *e, const char *name) { return str(e->resp_headers, name); }

int acmeh_kit_is(const acmeh_kit_exchange *e, const char *method, const char *resource) {
  return e->method && e->resource && strcmp(e->method, method) == 0 && (!resource || strcmp(e->resource, resource) == 0);
}

double acmeh_kit_wall(const acmeh_client_run *r, const acmeh_kit_exchange *e) {
  return r->started_wall + (double)e->time_ms / 1000.0;
}

json_t *acmeh_kit_payload_json(const acmeh_kit_exchange *e) { return e->payload ? json_loads(e->payload, 0, NULL) : NULL; }

json_t *acmeh_kit_order_payload(const acmeh_kit_exchange *e) {
  return acmeh_kit_is(e, "POST", "newOrder") ? acmeh_kit_payload_json(e) : NULL;
}

json_t *acmeh_kit_resp_json(const acmeh_kit_exchange *e) { return e->resp_body ? json_loads(e->resp_body, 0, NULL) : NULL; }

void acmeh_kit_validation_read(const json_t *x, acmeh_kit_validation *v) {
  *v = (acmeh_kit_validation){
      .challenge = str(x, "challenge"),
      .type = str(x, "type"),
      .identifier = str(x, "identifier"),
      .arrived_ms = num(x, "arrived_ms"),
      .started_ms = num(x, "started_ms"),
      .ended_ms = num(x, "ended_ms"),
      .status = str(x, "status"),
      .error_detail = str(json_object_get(x, "error"), "detail"),
  };
}

int acmeh_kit_validation_at(const acmeh_client_run *r, size_t i, acmeh_kit_validation *v) {
  const json_t *x = r ? json_array_get(r->validations, i) : NULL;
  if (x) acmeh_kit_validation_read(x, v);
  return x != NULL;
}

int acmeh_kit_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc == ACMEH_OK && !json_array_size((*r)->exchanges))
    rc = acmeh_check_fail(ctx, "ACME requests from the client", "none (client exit %d%s)", (*r)->exit_status,
                          (*r)->timed_out ? ", timed out" : "");
  return rc;
}

int acmeh_kit_fault_fired(acmeh_check_ctx *ctx, const acmeh_client_run *r, const char *resource) {
  size_t i;
  acmeh_kit_exchange e;
  int reached = 0;
  ACMEH_KIT_EACH(r, i, e) {
    if (json_array_size(e.faults)) return ACMEH_OK;
    reached |= acmeh_kit_is(&e, "POST", resource);
  }
  char what[160];
  snprintf(what, sizeof what, "the client sent no POST to %s", resource);
  if (!reached) return acmeh_kit_unreached(ctx, r, "a request to the resource the scenario disturbs", what);
  return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "scenario %s: its fault was never applied", r->name);
}

int acmeh_kit_unreached(acmeh_check_ctx *ctx, const acmeh_client_run *r, const char *expected, const char *what) {
  if (!r || (!r->exit_status && !r->timed_out)) return acmeh_check_fail(ctx, expected, "%s", what);
  char step[160], how[96];
  snprintf(step, sizeof step, "scenario %s", r->name);
  if (r->timed_out) snprintf(how, sizeof how, "%s: the client was stopped at its time limit", what);
  else snprintf(how, sizeof how, "%s: the client exited %d first", what, r->exit_status);
  return acmeh_check_blocked(ctx, step, "the client's output in the transcript", how);
}

int acmeh_kit_disclaims(const acmeh_check_ctx *ctx, const char *name) {
  return json_is_false(json_object_get(json_object_get(ctx->env->client, "claims"), name));
}

int acmeh_kit_claims(const acmeh_check_ctx *ctx, const char *name) {
  return json_is_true(json_object_get(ctx->env->claims, name)) ||
         json_is_true(json_object_get(json_object_get(ctx->env->client, "claims"), name));
}
