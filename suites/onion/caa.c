/* ONION-S-018..020: in-band CAA (RFC 9799 §6.4, §6.4.1): the finalize
 * payload's "onionCAA", signed by the onion identity key over
 * "onion-caa|<expiry>|<caa>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "harness/acme/onion.h"
#include "suites/onion/onion.h"

/* Finalizes o with a fresh P-256 CSR and onionCAA `caa` (NULL = none),
 * answer in *r. */
static int finalize(acmeh_check_ctx *ctx, onion_ready *o, json_t *caa, acmeh_http_resp *r) {
  char *csr = NULL;
  const char *url = json_string_value(json_object_get(o->is->order, "finalize"));
  if (!url) return acmeh_check_fail(ctx, "a \"finalize\" URL in the ready order", "none");
  int rc = acmeh_kit_ext_csr(ctx, o->is, &csr);
  json_t *p = rc ? NULL : json_pack("{s:s}", "csr", csr);
  if (p && caa) json_object_set(p, "onionCAA", caa);
  char *body = p ? json_dumps(p, JSON_COMPACT) : NULL;
  if (rc == ACMEH_OK) rc = body ? acmeh_kit_post(ctx, o->c, url, body, NULL, r) : ACMEH_NOMEM;
  free(body), free(csr);
  json_decref(p);
  return rc;
}

/* {"<name>": {"caa": caa, "expiry": expiry, "signature": sig}}, signed with
 * o's key over `signed_expiry` (a different value makes a bad signature). */
static json_t *statement(onion_ready *o, const char *caa, long long expiry, long long signed_expiry) {
  char *sig = NULL;
  if (acmeh_onion_caa_sign(o->key, signed_expiry, caa, &sig) != ACMEH_OK) return NULL;
  json_t *e = json_pack("{s:o,s:I,s:s}", "caa", caa ? json_string(caa) : json_null(), "expiry", (json_int_t)expiry, "signature", sig);
  free(sig);
  return json_pack("{s:o}", o->name, e);
}

/* After a finalize answered r: the order's status once it settles ("refused"
 * when finalize itself was refused). */
static const char *outcome(acmeh_check_ctx *ctx, onion_ready *o, const acmeh_http_resp *r, char *buf, size_t len) {
  if (r->status >= 400) return snprintf(buf, len, "refused with %ld %.200s", r->status, r->body ? r->body : ""), "refused";
  json_t *ord = NULL;
  static const char *const waiting[] = {"processing", "ready"};
  if (acmeh_flow_poll(o->c, o->is->order_url, waiting, 2, &ord, ctx->err, sizeof ctx->err) != ACMEH_OK)
    return snprintf(buf, len, "order poll failed: %.300s", ctx->err), "unknown";
  const char *st = json_string_value(json_object_get(ord, "status"));
  snprintf(buf, len, "finalize %ld, order \"%s\"", r->status, st ? st : "?");
  json_decref(ord);
  return strstr(buf, "\"valid\"") ? "valid" : "not valid";
}

int onion_caa_required(acmeh_check_ctx *ctx) {
  onion_ready o = {0};
  acmeh_http_resp r = {0};
  int rc = onion_ready_order(ctx, &o);
  const json_t *meta = rc ? NULL : json_object_get(acmeh_acme_dir(o.c), "meta");
  int inband = json_is_true(json_object_get(meta, "inBandOnionCAARequired")), iana = json_is_true(json_object_get(meta, "onionCAARequired"));
  if (rc == ACMEH_OK) {
    acmeh_check_note(ctx, "directory meta: inBandOnionCAARequired %s, onionCAARequired %s (RFC 9799 §6.4.1 text vs §7.3 IANA)",
                     inband ? "true" : "absent/false", iana ? "true" : "absent/false");
    if (!inband && !iana) rc = acmeh_check_skip(ctx, "server does not advertise in-band CAA as required (neither meta.inBandOnionCAARequired nor meta.onionCAARequired)");
  }
  if (rc == ACMEH_OK) rc = finalize(ctx, &o, NULL, &r);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_expect_problem(ctx, &r, 0, "onionCAARequired", "finalize without onionCAA at a server requiring in-band CAA (RFC 9799 §6.4.1)");
  acmeh_http_resp_free(&r);
  onion_ready_free(&o);
  return rc;
}

/* A ready order finalized with `caa_obj`; fails when it is issued. */
static int not_issued(acmeh_check_ctx *ctx, onion_ready *o, json_t *caa_obj, const char *why) {
  acmeh_http_resp r = {0};
  char got[400];
  int rc = caa_obj ? finalize(ctx, o, caa_obj, &r) : ACMEH_INTERNAL;
  const char *end = rc ? NULL : outcome(ctx, o, &r, got, sizeof got);
  if (end && strcmp(end, "valid") == 0) {
    char exp[300];
    snprintf(exp, sizeof exp, "no issuance when %s (RFC 9799 §6.4)", why);
    rc = acmeh_check_fail(ctx, exp, "%s", got);
  }
  if (end) acmeh_check_note(ctx, "%s: %s", why, got);
  acmeh_http_resp_free(&r);
  json_decref(caa_obj);
  return rc;
}

int onion_caa_refused(acmeh_check_ctx *ctx) {
  onion_ready a = {0}, b = {0};
  long long now = (long long)time(NULL);
  int rc = onion_ready_order(ctx, &a);
  if (rc == ACMEH_OK) rc = not_issued(ctx, &a, statement(&a, NULL, now + 3600, now + 3601), "the onionCAA signature does not verify");
  if (rc == ACMEH_OK) rc = onion_ready_order(ctx, &b);
  if (rc == ACMEH_OK) rc = not_issued(ctx, &b, statement(&b, NULL, now - 3600, now - 3600), "the onionCAA expiry has passed");
  onion_ready_free(&a), onion_ready_free(&b);
  return rc;
}

int onion_caa_64bit(acmeh_check_ctx *ctx) {
  onion_ready o = {0};
  acmeh_http_resp r = {0};
  char got[400];
  const long long far = 4294967296000LL; /* 1000 * 2^32: truncated to 32 bits it is 0 */
  int rc = onion_ready_order(ctx, &o);
  json_t *caa = rc ? NULL : statement(&o, NULL, far, far);
  if (rc == ACMEH_OK) rc = caa ? finalize(ctx, &o, caa, &r) : ACMEH_INTERNAL;
  const char *end = rc ? NULL : outcome(ctx, &o, &r, got, sizeof got);
  if (end && strcmp(end, "valid") != 0)
    rc = acmeh_check_fail(ctx, "issuance with a valid onionCAA whose expiry is 4294967296000 (a 64-bit integer, RFC 9799 §6.4)", "%s", got);
  json_decref(caa);
  acmeh_http_resp_free(&r);
  onion_ready_free(&o);
  return rc;
}
