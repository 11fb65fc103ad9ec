/* The tkauth-01 kit (tkauth.h). */
#include "harness/kit/tkauth.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"

json_t *acmeh_kit_tk_ids(const char *type, const char *value) {
  return json_pack("[{s:s,s:s}]", "type", type, "value", value);
}

int acmeh_kit_tk_usable(acmeh_check_ctx *ctx) {
  const json_t *ch = json_object_get(ctx->env->claims, "challenges");
  int offered = 0;
  size_t i;
  const json_t *v;
  json_array_foreach(ch, i, v) offered |= json_is_string(v) && strcmp(json_string_value(v), "tkauth-01") == 0;
  if (ch && !offered) return acmeh_check_skip(ctx, "the target does not claim tkauth-01 (its \"claims\".challenges)");
  if (!ctx->env->token_authority)
    return acmeh_check_skip(ctx, "no token authority for the reference client (run --token-authority URL "
                                 "--ta-account ID --ta-secret S; `acme-harness token-authority` runs the mock)");
  return ACMEH_OK;
}

int acmeh_kit_tk_order(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const json_t *ids) {
  int rc = acmeh_kit_tk_usable(ctx);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &t->c);
  if (rc != ACMEH_OK) return rc;
  t->ids = json_deep_copy(ids);
  rc = acmeh_tkauth_new_order(t->c, ids, &t->order_url, &t->order, ctx->err, sizeof ctx->err);
  if (rc != ACMEH_OK && strstr(ctx->err, "unsupportedIdentifier") && !acmeh_kit_claims(ctx, "tkauth"))
    return acmeh_check_skip(ctx, "the server does not support %s identifiers (newOrder: %.200s)",
                            json_string_value(json_object_get(json_array_get(ids, 0), "type")), ctx->err);
  return rc;
}

const char *acmeh_kit_tk_authz(const acmeh_kit_tk *t, size_t i) {
  return json_string_value(json_array_get(json_object_get(t->order, "authorizations"), i));
}

int acmeh_kit_tk_answer(acmeh_check_ctx *ctx, acmeh_kit_tk *t, size_t i, size_t for_id, const char *fault, int ca,
                        const char *payload) {
  const acmeh_ta_env *ta = ctx->env->token_authority;
  const json_t *id = json_array_get(t->ids, for_id);
  const char *authz = acmeh_kit_tk_authz(t, i);
  char *token = NULL;
  if (!authz) return acmeh_check_fail(ctx, "an authorization per identifier (RFC 8555 §7.1.3)", "order has no authorization %zu", i);
  int rc = fault ? acmeh_tkauth_set_fault(ta, fault, ctx->err, sizeof ctx->err) : ACMEH_OK;
  if (rc == ACMEH_UNSUPPORTED) return acmeh_check_skip(ctx, "%s", ctx->err);
  if (rc == ACMEH_OK && !payload)
    rc = acmeh_tkauth_token(t->c, ta, json_string_value(json_object_get(id, "type")),
                            json_string_value(json_object_get(id, "value")), ca, &token, ctx->err, sizeof ctx->err);
  if (fault) acmeh_tkauth_set_fault(ta, "", NULL, 0);
  if (rc != ACMEH_OK && rc != ACMEH_UNSUPPORTED) { /* the authority is the harness's side: not the server's fault */
    char why[sizeof ctx->err];
    snprintf(why, sizeof why, "%s", ctx->err);
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_ENV_NOT_READY, "getting the Authority Token: %.400s", why);
  }
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "tkauth-01: token%s%s%s", fault ? " under the mock's fault " : "", fault ? fault : "",
                                       payload ? " (not used: payload given)" : "");
  json_decref(t->final), t->final = NULL;
  if (rc == ACMEH_OK)
    rc = acmeh_tkauth_respond(t->c, authz, token, payload, &t->final, &t->answer_status, ctx->err, sizeof ctx->err);
  free(t->token), t->token = token;
  if (rc == ACMEH_UNSUPPORTED) return acmeh_check_fail(ctx, "a tkauth-01 challenge for a token identifier (RFC 9448 §4)", "%s", ctx->err);
  return rc;
}

const char *acmeh_kit_tk_status(const acmeh_kit_tk *t) {
  const char *st = json_string_value(json_object_get(acmeh_flow_find_challenge(t->final, "tkauth-01"), "status"));
  return st ? st : "(missing)";
}

int acmeh_kit_tk_expect_invalid(acmeh_check_ctx *ctx, const acmeh_kit_tk *t, const char *when) {
  if (t->answer_status >= 400) return ACMEH_OK; /* refused at once: the response was not accepted either */
  if (strcmp(acmeh_kit_tk_status(t), "invalid") == 0) return ACMEH_OK;
  char exp[300];
  snprintf(exp, sizeof exp, "the tkauth-01 challenge \"invalid\" for %s", when);
  return acmeh_check_fail(ctx, exp, "challenge ended \"%s\", authorization \"%s\"", acmeh_kit_tk_status(t),
                          json_string_value(json_object_get(t->final, "status")));
}

int acmeh_kit_tk_expect_valid(acmeh_check_ctx *ctx, const acmeh_kit_tk *t, const char *when) {
  if (strcmp(acmeh_kit_tk_status(t), "valid") == 0) return ACMEH_OK;
  char *e = json_dumps(json_object_get(acmeh_flow_find_challenge(t->final, "tkauth-01"), "error"), JSON_COMPACT);
  char exp[300];
  snprintf(exp, sizeof exp, "the tkauth-01 challenge \"valid\" for %s (RFC 9448 §6: all steps pass)", when);
  int rc = acmeh_check_fail(ctx, exp, "challenge ended \"%s\" (response POST %ld; error %.300s)", acmeh_kit_tk_status(t),
                            t->answer_status, e ? e : "none");
  free(e);
  return rc;
}

int acmeh_kit_tk_finalize_raw(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const json_t *ids, int ca, const char *extra_oid,
                              const char *extra_hex, acmeh_http_resp *r) {
  static const char *const waiting[] = {"pending"};
  json_t *o = NULL;
  int rc = acmeh_flow_poll(t->c, t->order_url, waiting, 1, &o, ctx->err, sizeof ctx->err);
  const char *fin = json_string_value(json_object_get(o, "finalize"));
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char *csr = NULL, *payload = NULL;
  if (rc == ACMEH_OK && !fin) rc = acmeh_check_fail(ctx, "an order with a finalize URL", "none");
  if (rc == ACMEH_OK) rc = key ? acmeh_tkauth_csr(key, ids, ca, extra_oid, extra_hex, &csr, ctx->err, sizeof ctx->err) : ACMEH_INTERNAL;
  if (rc == ACMEH_OK && asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) payload = NULL, rc = ACMEH_NOMEM;
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, t->c, fin, payload, NULL, r);
  free(csr), free(payload);
  EVP_PKEY_free(key);
  json_decref(o);
  return rc;
}

int acmeh_kit_tk_issue(acmeh_check_ctx *ctx, acmeh_kit_tk *t) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char *csr = NULL;
  int rc = key ? acmeh_tkauth_csr(key, t->ids, 0, NULL, NULL, &csr, ctx->err, sizeof ctx->err) : ACMEH_INTERNAL;
  t->is.order_url = strdup(t->order_url);
  t->is.order = json_incref(t->order);
  t->is.cert_key = key;
  if (rc == ACMEH_OK) rc = acmeh_flow_finalize(t->c, &t->is, csr, ctx->err, sizeof ctx->err);
  free(csr);
  return rc;
}

void acmeh_kit_tk_free(acmeh_kit_tk *t) {
  acmeh_acme_free(t->c);
  json_decref(t->ids), json_decref(t->order), json_decref(t->final);
  free(t->order_url), free(t->token);
  acmeh_issued_clear(&t->is);
  memset(t, 0, sizeof *t);
}

int acmeh_kit_tk_extension_held(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const json_t *wrong, const char *refused_what,
                                const char *expected) {
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_tk_finalize_raw(ctx, t, wrong, 0, NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, refused_what);
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) rc = acmeh_kit_tk_issue(ctx, t);
  char why[300];
  if (rc == ACMEH_OK && acmeh_tkauth_cert_check(t->is.chain_pem, t->ids, why, sizeof why) != ACMEH_OK)
    rc = acmeh_check_fail(ctx, expected, "%s", why);
  return rc;
}
