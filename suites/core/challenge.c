/* CORE-S-057..066, 074, 081..083, 101: challenges and validation (RFC 8555 §7.5.1, §8, RFC 8737). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

static const json_t *challenge_of(acmeh_check_ctx *ctx, const json_t *authz, const char *type, int *rc) {
  const json_t *ch = acmeh_flow_find_challenge(authz, type);
  if (!ch && *rc == ACMEH_OK) *rc = acmeh_check_skip(ctx, "authorization offers no %s challenge", type);
  return ch;
}

static int chal_response(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  const json_t *ch = challenge_of(ctx, f.authz, "http-01", &rc);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = acmeh_flow_publish(f.c, ctx->env->publisher, ch, f.name, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK)
    rc = acmeh_kit_post(ctx, f.c, json_string_value(json_object_get(ch, "url")), "{\"x-harness-unknown\":\"ignored\"}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "challenge response with an unknown extra field");
  json_t *obj = rc ? NULL : acmeh_resp_json(&r);
  if (rc == ACMEH_OK && (!json_is_object(obj) || !json_object_get(obj, "type") || !json_object_get(obj, "status")))
    rc = acmeh_check_fail(ctx, "the challenge object (type, url, status) in the response", "%.120s", r.body);
  if (ch) acmeh_flow_unpublish(f.c, ctx->env->publisher, ch, f.name);
  json_decref(obj);
  acmeh_http_resp_free(&r);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int chal_valid_fields(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  json_t *final = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(f.c, ctx->env->publisher, f.authz_url, "http-01", &final, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK && !json_is_string(json_object_get(final, "expires")))
    rc = acmeh_check_fail(ctx, "\"expires\" in a valid authorization", "none");
  const json_t *ch = rc ? NULL : acmeh_flow_find_challenge(final, "http-01");
  if (rc == ACMEH_OK && (!ch || !json_is_string(json_object_get(ch, "validated"))))
    rc = acmeh_check_fail(ctx, "\"validated\" in the valid challenge", "%s", ch ? "none" : "the http-01 challenge is gone from the authorization");
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Responds to http-01 while the mock serves `content` (NULL = nothing) and
 * polls the authorization to its end; the final authorization in *final. */
static int respond_with(acmeh_check_ctx *ctx, acmeh_acme *c, const char *authz_url, const json_t *ch, const char *content,
                        json_t **final) {
  const char *token = json_string_value(json_object_get(ch, "token"));
  const acmeh_publisher *pub = ctx->env->publisher;
  char err[256];
  if (content && token) pub->add_http01(pub, token, content, err, sizeof err); /* a refusal shows as the challenge's end */
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_post(ctx, c, json_string_value(json_object_get(ch, "url")), "{}", NULL, &r);
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(c, authz_url, waiting, 2, final, ctx->err, sizeof ctx->err);
  if (token) pub->del_http01(pub, token);
  return rc;
}

static int chal_invalid_error(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  json_t *final = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  const json_t *ch = challenge_of(ctx, f.authz, "http-01", &rc);
  if (rc == ACMEH_OK) rc = respond_with(ctx, f.c, f.authz_url, ch, NULL, &final);
  const json_t *fch = acmeh_flow_find_challenge(final, "http-01");
  const char *st = json_string_value(json_object_get(fch, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, "invalid") != 0))
    rc = acmeh_check_fail(ctx, "the challenge \"invalid\" when nothing is served", "challenge %s", st ? st : "missing");
  if (rc == ACMEH_OK && !json_is_object(json_object_get(fch, "error")))
    rc = acmeh_check_fail(ctx, "an \"error\" problem document on the invalid challenge", "no error member");
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* 1 when challenge type t defines a "token" (RFC 8555 §8.3, §8.4; RFC 8737
 * §3; dns-account-01). Types that define none, such as dns-persist-01 (its
 * TXT record names the CA, not a token), may leave it out. */
static int defines_token(const char *t) {
  static const char *const with_token[] = {"http-01", "dns-01", "tls-alpn-01", "dns-account-01"};
  for (size_t i = 0; t && i < sizeof with_token / sizeof *with_token; i++)
    if (strcmp(t, with_token[i]) == 0) return 1;
  return 0;
}

static int chal_tokens(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  regex_t re;
  regcomp(&re, "^[A-Za-z0-9_-]{22,}$", REG_EXTENDED | REG_NOSUB);
  size_t i;
  json_t *ch;
  json_array_foreach(json_object_get(f.authz, "challenges"), i, ch) {
    const char *tok = json_string_value(json_object_get(ch, "token"));
    if (!json_object_get(ch, "token") && !defines_token(json_string_value(json_object_get(ch, "type")))) continue;
    if (rc == ACMEH_OK && (!tok || regexec(&re, tok, 0, NULL, 0) != 0))
      rc = acmeh_check_fail(ctx, "tokens of >= 22 base64url characters (128 bits), no '='", "%s token \"%s\"",
                            json_string_value(json_object_get(ch, "type")), tok ? tok : "(none)");
  }
  regfree(&re);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int chal_http01_request(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char path[300];
  json_t *final = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  const json_t *ch = challenge_of(ctx, f.authz, "http-01", &rc);
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(f.c, ctx->env->publisher, f.authz_url, "http-01", &final, ctx->err, sizeof ctx->err);
  snprintf(path, sizeof path, "/.well-known/acme-challenge/%s", ch ? json_string_value(json_object_get(ch, "token")) : "");
  json_t *hist = rc ? NULL : acmeh_kit_history(ctx, "http", f.name);
  char *seen_text = json_dumps(hist, JSON_COMPACT);
  acmeh_check_note(ctx, "http-01 requests the mock received for %s: %.2000s", f.name, seen_text ? seen_text : "[]");
  free(seen_text);
  size_t i;
  json_t *h;
  int seen = 0, unknown_method = 0;
  json_array_foreach(hist, i, h) {
    const char *p = json_string_value(json_object_get(h, "path")), *m = json_string_value(json_object_get(h, "method"));
    seen |= p && m && strcmp(p, path) == 0 && strcmp(m, "GET") == 0;
    unknown_method |= p && !m && strcmp(p, path) == 0;
  }
  if (rc == ACMEH_OK && !seen && unknown_method) /* pebble-challtestsrv records no method (run --mocks challtestsrv) */
    rc = acmeh_check_skip(ctx, "the responders (%s) saw a request for %s with Host %s but record no HTTP method",
                          ctx->env->publisher->name, path, f.name);
  if (rc == ACMEH_OK && !seen)
    rc = acmeh_check_fail(ctx, "a GET of /.well-known/acme-challenge/<token> with Host = the identifier",
                          "%zu validation requests with Host %s, none for %s", json_array_size(hist), f.name, path);
  json_decref(hist), json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Serves the right keyAuthorization changed by `suffix`; the challenge must end `want`. */
static int served_variant(acmeh_check_ctx *ctx, const char *suffix, const char *want, const char *what) {
  acmeh_kit_fixture f = {0};
  char tp[44];
  json_t *final = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  const json_t *ch = challenge_of(ctx, f.authz, "http-01", &rc);
  char *ka = rc || acmeh_key_thumbprint(acmeh_acme_key(f.c), tp) ? NULL
                                                               : acmeh_key_authorization(json_string_value(json_object_get(ch, "token")), tp);
  char *content = NULL;
  if (ka && asprintf(&content, "%s%s", ka, suffix) < 0) content = NULL;
  if (rc == ACMEH_OK) rc = respond_with(ctx, f.c, f.authz_url, ch, content, &final);
  const char *st = json_string_value(json_object_get(acmeh_flow_find_challenge(final, "http-01"), "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, want) != 0)) {
    char exp[200];
    snprintf(exp, sizeof exp, "challenge \"%s\" for %s", want, what);
    rc = acmeh_check_fail(ctx, exp, "challenge ended \"%s\"", st ? st : "(missing)");
  }
  free(ka), free(content);
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int chal_trailing_ws(acmeh_check_ctx *ctx) { return served_variant(ctx, "\r\n", "valid", "a body with trailing CRLF"); }
static int chal_wrong_body(acmeh_check_ctx *ctx) { return served_variant(ctx, "x", "invalid", "a body that is not the keyAuthorization"); }

/* Issues a certificate for one fresh name through challenge `type`. */
static int issue_via(acmeh_check_ctx *ctx, const char *type) {
  acmeh_acme *c = NULL;
  acmeh_issued is = {0};
  char name[256];
  int rc = acmeh_kit_account(ctx, &c);
  const char *names[] = {acmeh_check_name(ctx, name, sizeof name)};
  if (rc == ACMEH_OK) rc = acmeh_flow_issue(c, ctx->env->publisher, names, 1, type, &is, ctx->err, sizeof ctx->err);
  acmeh_issued_clear(&is);
  acmeh_acme_free(c);
  return rc;
}

static int issue_http01(acmeh_check_ctx *ctx) { return issue_via(ctx, "http-01"); }
static int issue_dns01(acmeh_check_ctx *ctx) { return issue_via(ctx, "dns-01"); }
static int issue_tlsalpn01(acmeh_check_ctx *ctx) { return issue_via(ctx, "tls-alpn-01"); }

static int dns01_several_txt(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  char host[300];
  json_t *final = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  challenge_of(ctx, f.authz, "dns-01", &rc);
  snprintf(host, sizeof host, "_acme-challenge.%s", f.name);
  const acmeh_publisher *pub = ctx->env->publisher;
  if (rc == ACMEH_OK) rc = pub->set_txt(pub, host, "decoy-value-published-first-by-acme-harness", ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(f.c, pub, f.authz_url, "dns-01", &final, ctx->err, sizeof ctx->err);
  pub->clear_txt(pub, host);
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int chal_link_up(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  const json_t *ch = challenge_of(ctx, f.authz, "http-01", &rc);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f.c, json_string_value(json_object_get(ch, "url")), NULL, NULL, &r);
  char *up = rc ? NULL : acmeh_http_link(&r, "up", 0);
  if (rc == ACMEH_OK && (!up || strcmp(up, f.authz_url) != 0))
    rc = acmeh_check_fail(ctx, "Link: <authorization URL>;rel=\"up\" on the challenge", "%s", up ? up : "no rel=\"up\" link");
  free(up);
  acmeh_http_resp_free(&r);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int alpn_handshake(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  json_t *final = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  challenge_of(ctx, f.authz, "tls-alpn-01", &rc);
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(f.c, ctx->env->publisher, f.authz_url, "tls-alpn-01", &final, ctx->err, sizeof ctx->err);
  json_t *hist = rc ? NULL : acmeh_kit_history(ctx, "tlsalpn", f.name);
  json_t *h = json_array_get(hist, json_array_size(hist) ? json_array_size(hist) - 1 : 0);
  json_t *alpn = json_object_get(h, "alpn"); /* the protocols the validator offered */
  const char *one = json_is_string(alpn) ? json_string_value(alpn) : json_string_value(json_array_get(alpn, 0));
  int exact = one && strcmp(one, "acme-tls/1") == 0 && (json_is_string(alpn) || json_array_size(alpn) == 1);
  if (rc == ACMEH_OK && !h) rc = acmeh_check_fail(ctx, "a TLS handshake with SNI = the identifier", "none recorded for %s", f.name);
  if (rc == ACMEH_OK && !exact) {
    char *got = json_dumps(alpn, JSON_COMPACT | JSON_ENCODE_ANY);
    rc = acmeh_check_fail(ctx, "ALPN offering exactly [\"acme-tls/1\"]", "ALPN offered %s", got ? got : "nothing");
    free(got);
  }
  json_decref(hist), json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

const acmeh_check_impl core_challenge_checks[] = {
    {"CORE-S-057", chal_response},     {"CORE-S-058", chal_valid_fields}, {"CORE-S-059", chal_invalid_error},
    {"CORE-S-061", chal_tokens},       {"CORE-S-062", chal_http01_request}, {"CORE-S-063", chal_trailing_ws},
    {"CORE-S-065", chal_wrong_body},   {"CORE-S-066", dns01_several_txt}, {"CORE-S-074", chal_link_up},
    {"CORE-S-081", issue_http01},      {"CORE-S-082", issue_dns01},       {"CORE-S-083", issue_tlsalpn01},
    {"CORE-S-101", alpn_handshake},    {NULL, NULL}};
