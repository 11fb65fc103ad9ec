/* ARI server checks on the directory and the RenewalInfo resource (RFC 9773
 * §3, §4.1, §4.2, §4.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/acme/cert.h"
#include "base/clock.h"
#include "base/error.h"
#include "suites/ari/ari_suite.h"

static int claims_ari(const acmeh_check_ctx *ctx) {
  return json_is_true(json_object_get(ctx->env->claims, "ari"));
}

static int is_abs_url(const char *s) {
  const char *p = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;
  return p && *p && *p != '/';
}

/* ARI-S01: renewalInfo is a top-level directory member holding a URL (§3). */
static int s001(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc) { /* no directory to judge */
    acmeh_acme_free(c);
    return rc;
  }
  const json_t *dir = acmeh_acme_dir(c);
  const json_t *v = json_object_get(dir, "renewalInfo");
  int in_meta = json_object_get(json_object_get(dir, "meta"), "renewalInfo") != NULL;
  if (rc == ACMEH_OK && !v && in_meta)
    rc = acmeh_check_fail(ctx, "renewalInfo as a top-level directory member (§3)", "renewalInfo only inside meta");
  else if (rc == ACMEH_OK && !v && claims_ari(ctx))
    rc = acmeh_check_fail(ctx, "renewalInfo in the directory (§3)", "none, though the target claims ARI");
  else if (rc == ACMEH_OK && !v)
    rc = acmeh_check_skip(ctx, "server does not advertise renewalInfo");
  else if (rc == ACMEH_OK && !(json_is_string(v) && is_abs_url(json_string_value(v))))
    rc = acmeh_check_fail(ctx, "renewalInfo an absolute URL string (§3)", "renewalInfo is %s",
                          json_is_string(v) ? json_string_value(v) : "not a string");
  acmeh_acme_free(c);
  return rc;
}

/* Fetches the fixture certificate's RenewalInfo into *r; fails unless 200. */
static int fetch_ok(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, const char *base, acmeh_http_resp *r, char **id) {
  int rc = ari_cert_id(ctx, f->is.chain_pem, id);
  memset(r, 0, sizeof *r);
  if (rc == ACMEH_OK) rc = ari_get(ctx, f->c, base, *id, r);
  if (rc == ACMEH_OK && r->status != 200) {
    char d[300];
    acmeh_resp_describe(r, d, sizeof d);
    rc = acmeh_check_fail(ctx, "200 with a RenewalInfo object for a plain GET (no JWS)",
                          "GET renewalInfo/%s answered %s", *id, d);
  }
  return rc;
}

typedef int (*judge_fn)(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *id);

/* Issues a certificate, fetches its RenewalInfo and hands the response to judge. */
static int with_renewal_info(acmeh_check_ctx *ctx, judge_fn judge) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  char *id = NULL;
  acmeh_http_resp r = {0};
  int rc = ari_fixture(ctx, &f, &base);
  if (rc == ACMEH_OK) rc = fetch_ok(ctx, &f, base, &r, &id);
  if (rc == ACMEH_OK && judge) rc = judge(ctx, &r, id);
  acmeh_http_resp_free(&r);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* ARI-S02: the GET above carried no JWS and no credentials (§4.1, §6). */
static int s002(acmeh_check_ctx *ctx) { return with_renewal_info(ctx, NULL); }

static int judge_window(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *id) {
  double s, e;
  char why[200];
  if (ari_window(r, &s, &e, why, sizeof why))
    return acmeh_check_fail(ctx, "suggestedWindow {start, end} as RFC 3339 date-times (§4.2)", "%s (certID %s)", why, id);
  return ACMEH_OK;
}

/* ARI-S03: suggestedWindow with RFC 3339 start and end (§4.2). */
static int s003(acmeh_check_ctx *ctx) { return with_renewal_info(ctx, judge_window); }

static int judge_order(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *id) {
  double s, e;
  char why[200], a[40], b[40];
  if (ari_window(r, &s, &e, why, sizeof why))
    return acmeh_check_fail(ctx, "a parseable suggestedWindow (§4.2)", "%s (certID %s)", why, id);
  if (e <= s)
    return acmeh_check_fail(ctx, "suggestedWindow end strictly after start (§4.2)", "start %s, end %s (certID %s)",
                            acmeh_rfc3339_format(s, a, sizeof a), acmeh_rfc3339_format(e, b, sizeof b), id);
  acmeh_check_note(ctx, "certID %s: window %.0f s long", id, e - s);
  return ACMEH_OK;
}

/* ARI-S04: end after start, sampled on three certificates (§4.2). */
static int s004(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  int rc = ari_fixture(ctx, &f, &base);
  for (int i = 0; rc == ACMEH_OK && i < 3; i++) {
    if (i) {
      acmeh_issued_clear(&f.is);
      const char *names[] = {f.name};
      rc = acmeh_flow_issue(f.c, ctx->env->publisher, names, 1, "http-01", &f.is, ctx->err, sizeof ctx->err);
    }
    char *id = NULL;
    acmeh_http_resp r = {0};
    if (rc == ACMEH_OK) rc = fetch_ok(ctx, &f, base, &r, &id);
    if (rc == ACMEH_OK) rc = judge_order(ctx, &r, id);
    acmeh_http_resp_free(&r);
    free(id);
  }
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int judge_retry_after(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *id) {
  const char *v = acmeh_http_header_get(r, "Retry-After");
  double secs = 0;
  if (!v) return acmeh_check_fail(ctx, "a Retry-After header on the RenewalInfo response (§4.3)", "none (certID %s)", id);
  if (acmeh_retry_after_parse(v, acmeh_now_wall(), &secs) != 0)
    return acmeh_check_fail(ctx, "Retry-After as delay-seconds or HTTP-date (RFC 9110 §10.2.3)", "\"%.80s\"", v);
  acmeh_check_note(ctx, "Retry-After %s = %.0f s; a client clamps it to %.0f s", v, secs, acmeh_ari_clamp_retry(secs));
  return ACMEH_OK;
}

/* ARI-S05: the response carries a usable Retry-After (§4.3, §4.3.3). */
static int s005(acmeh_check_ctx *ctx) { return with_renewal_info(ctx, judge_retry_after); }

static int judge_explanation(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *id) {
  json_t *body = acmeh_resp_json(r);
  const json_t *v = json_object_get(body, "explanationURL");
  int rc = ACMEH_OK;
  if (!v) rc = acmeh_check_skip(ctx, "the RenewalInfo of %s has no explanationURL (optional, §4.2)", id);
  else if (!json_is_string(v) || !is_abs_url(json_string_value(v)))
    rc = acmeh_check_fail(ctx, "explanationURL an absolute URL string (§4.2)", "explanationURL is %s",
                          json_is_string(v) ? json_string_value(v) : "not a string");
  json_decref(body);
  return rc;
}

/* ARI-S06: explanationURL, when present, is a URL string (§4.2). */
static int s006(acmeh_check_ctx *ctx) { return with_renewal_info(ctx, judge_explanation); }

/* ARI-S15: after revocation the window lies in the past, asking for renewal now. */
static int s015(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  char *id = NULL, *der = NULL, *payload = NULL;
  acmeh_http_resp r = {0}, rv = {0};
  int rc = ari_fixture(ctx, &f, &base);
  STACK_OF(X509) *chain = NULL;
  if (rc == ACMEH_OK && acmeh_pem_chain_parse(f.is.chain_pem, strlen(f.is.chain_pem), &chain, ctx->err, sizeof ctx->err))
    rc = acmeh_check_fail(ctx, "a PEM certificate chain", "%s", ctx->err);
  if (rc == ACMEH_OK) der = acmeh_cert_b64url_der(sk_X509_value(chain, 0));
  if (rc == ACMEH_OK && (!der || asprintf(&payload, "{\"certificate\":\"%s\"}", der) < 0)) rc = ACMEH_NOMEM;
  const char *url = acmeh_acme_dir_url(f.c, "revokeCert");
  if (rc == ACMEH_OK && !url) rc = acmeh_check_skip(ctx, "server does not advertise revokeCert");
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f.c, url, payload, NULL, &rv);
  if (rc == ACMEH_OK && rv.status != 200) rc = acmeh_kit_expect_status(ctx, &rv, 200, "revokeCert of the fresh certificate");
  if (rc == ACMEH_OK) rc = fetch_ok(ctx, &f, base, &r, &id);
  double s, e, now = acmeh_now_wall();
  char why[200], a[40];
  if (rc == ACMEH_OK && ari_window(&r, &s, &e, why, sizeof why))
    rc = acmeh_check_fail(ctx, "a parseable suggestedWindow (§4.2)", "%s", why);
  if (rc == ACMEH_OK && e > now + 60) /* a minute of clock skew allowed */
    rc = acmeh_check_fail(ctx, "a window already past for a revoked certificate (renew now)",
                          "window ends %s, %.0f s from now", acmeh_rfc3339_format(e, a, sizeof a), e - now);
  sk_X509_pop_free(chain, X509_free);
  free(der), free(payload), free(id);
  acmeh_http_resp_free(&r), acmeh_http_resp_free(&rv);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* ARI-S-016: every RenewalInfo object follows §4.2's schema. The runner judges
 * it from the run's schema log (suite.c schema_judges, harness/acme/schema.h)
 * over every RenewalInfo any check received; this fetches one, so that the
 * check run alone has one to judge. */
static int s016(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  char *id = NULL;
  acmeh_http_resp r = {0};
  int rc = ari_fixture(ctx, &f, &base);
  if (rc == ACMEH_OK) rc = ari_cert_id(ctx, f.is.chain_pem, &id);
  if (rc == ACMEH_OK) rc = ari_get(ctx, f.c, base, id, &r);
  acmeh_http_resp_free(&r);
  free(id);
  acmeh_kit_fixture_free(&f);
  return acmeh_kit_attribute(ctx, rc);
}

const acmeh_check_impl ari_window_checks[] = {
    {"ARI-S-001", s001}, {"ARI-S-002", s002}, {"ARI-S-003", s003}, {"ARI-S-004", s004},
    {"ARI-S-005", s005}, {"ARI-S-006", s006}, {"ARI-S-015", s015}, {"ARI-S-016", s016}, {NULL, NULL}};
