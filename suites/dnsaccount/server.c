/* DNSACCT-S-001..008, 010: a server under test offering dns-account-01
 * (draft-ietf-acme-dns-account-label-00 §3). Each check makes its own account
 * and order, publishes through the mocks and judges the challenge's end. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/dnsaccount/dnsaccount.h"

#define TYPE "dns-account-01"

/* The dns-account-01 challenge of authz, or a skip stated into *rc. */
static const json_t *offered(acmeh_check_ctx *ctx, const json_t *authz, int *rc) {
  const json_t *ch = acmeh_flow_find_challenge(authz, TYPE);
  if (!ch && *rc == ACMEH_OK) *rc = acmeh_check_skip(ctx, DNSACCOUNT_NOT_OFFERED);
  return ch;
}

/* Account, order for a fresh name, first authorization and its dns-account-01 challenge. */
static int fixture(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, const json_t **ch) {
  int rc = acmeh_kit_fixture_authz(ctx, f);
  *ch = rc ? NULL : offered(ctx, f->authz, &rc);
  return rc;
}

/* keyAuthorization digest of ch for c's account key into txt. */
static int digest_of(acmeh_check_ctx *ctx, acmeh_acme *c, const json_t *ch, char txt[44]) {
  char tp[44];
  if (acmeh_key_thumbprint(acmeh_acme_key(c), tp)) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no thumbprint");
  char *ka = acmeh_key_authorization(json_string_value(json_object_get(ch, "token")), tp);
  int rc = ka ? acmeh_dns01_txt(ka, txt) : acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_PEER_PROTOCOL, "challenge has no token");
  free(ka);
  return rc;
}

/* POSTs {} to the challenge and polls the authorization to its end; the
 * final challenge status into st (borrowed from *final). */
static int respond(acmeh_check_ctx *ctx, acmeh_acme *c, const char *authz_url, const json_t *ch, json_t **final,
                   const char **st) {
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_post(ctx, c, json_string_value(json_object_get(ch, "url")), "{}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "dns-account-01 challenge response {}");
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(c, authz_url, waiting, 2, final, ctx->err, sizeof ctx->err);
  *st = json_string_value(json_object_get(acmeh_flow_find_challenge(*final, TYPE), "status"));
  if (!*st) *st = "(missing)";
  return rc;
}

/* Fails unless the challenge ended "invalid" (draft §3.3: MUST mark invalid). */
static int expect_invalid(acmeh_check_ctx *ctx, const char *st, const json_t *final, const char *why) {
  if (strcmp(st, "invalid") == 0) return ACMEH_OK;
  char exp[300];
  snprintf(exp, sizeof exp, "the dns-account-01 challenge \"invalid\" when %s", why);
  return acmeh_check_fail(ctx, exp, "challenge ended \"%s\", authorization \"%s\"", st,
                          json_string_value(json_object_get(final, "status")) ? json_string_value(json_object_get(final, "status")) : "?");
}

static int token_ok(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const json_t *ch = NULL;
  int rc = fixture(ctx, &f, &ch);
  const char *tok = ch ? json_string_value(json_object_get(ch, "token")) : NULL;
  regex_t re;
  regcomp(&re, "^[A-Za-z0-9_-]{22,}$", REG_EXTENDED | REG_NOSUB);
  if (rc == ACMEH_OK && (!tok || regexec(&re, tok, 0, NULL, 0) != 0))
    rc = acmeh_check_fail(ctx, "a token of >= 22 base64url characters (128 bits), no '='", "token \"%s\"", tok ? tok : "(none)");
  regfree(&re);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int validates_scoped(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const json_t *ch = NULL;
  json_t *final = NULL, *order = NULL;
  int rc = fixture(ctx, &f, &ch);
  char *host = rc ? NULL : dnsaccount_name(ctx, acmeh_acme_kid(f.c), f.name);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "publishing at %s (account URL %s)", host ? host : "?", acmeh_acme_kid(f.c));
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(f.c, ctx->env->publisher, f.authz_url, TYPE, &final, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_PEER_PROTOCOL)
    rc = acmeh_check_fail(ctx, "the challenge and authorization valid with the TXT at the account-scoped name", "%s", ctx->err);
  const json_t *fch = acmeh_flow_find_challenge(final, TYPE);
  if (rc == ACMEH_OK && !json_is_string(json_object_get(fch, "validated")))
    rc = acmeh_check_fail(ctx, "\"validated\" in the valid challenge (RFC 8555 §7.1.6)", "none");
  static const char *const waiting[] = {"pending"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(f.c, f.is.order_url, waiting, 1, &order, ctx->err, sizeof ctx->err);
  const char *ost = json_string_value(json_object_get(order, "status"));
  if (rc == ACMEH_OK && (!ost || strcmp(ost, "ready") != 0))
    rc = acmeh_check_fail(ctx, "the order \"ready\" once its dns-account-01 authorization is valid", "order \"%s\"", ost ? ost : "?");
  free(host);
  json_decref(final), json_decref(order);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Publishes the right digest at `host`, responds, and wants "invalid". */
static int wrong_place(acmeh_check_ctx *ctx, acmeh_acme *responder, const json_t *ch, const char *authz_url,
                       const char *host, const char *value, const char *why) {
  char txt[44];
  json_t *final = NULL;
  const char *st = NULL;
  int rc = value ? ACMEH_OK : digest_of(ctx, responder, ch, txt);
  acmeh_check_note(ctx, "publishing %s at %s only", value ? value : txt, host);
  const acmeh_publisher *pub = ctx->env->publisher; /* where the server under test resolves */
  if (rc == ACMEH_OK) rc = pub->set_txt(pub, host, value ? value : txt, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = respond(ctx, responder, authz_url, ch, &final, &st);
  if (rc == ACMEH_OK) rc = expect_invalid(ctx, st, final, why);
  pub->clear_txt(pub, host);
  json_decref(final);
  return rc;
}

static int dns01_name_refused(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const json_t *ch = NULL;
  int rc = fixture(ctx, &f, &ch);
  char host[300];
  snprintf(host, sizeof host, "_acme-challenge.%s", f.name);
  if (rc == ACMEH_OK)
    rc = wrong_place(ctx, f.c, ch, f.authz_url, host, NULL, "the TXT is only at the dns-01 name _acme-challenge.<name>");
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int wrong_value_refused(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const json_t *ch = NULL;
  int rc = fixture(ctx, &f, &ch);
  char *host = rc ? NULL : dnsaccount_name(ctx, acmeh_acme_kid(f.c), f.name);
  if (rc == ACMEH_OK)
    rc = wrong_place(ctx, f.c, ch, f.authz_url, host, "LhKR2b-8ON5CUWpiq6ToNr8oBovvFOhFD4HJzQqlYUk",
                     "the account-scoped TXT holds another digest");
  free(host);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int other_account_refused(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0}; /* account A: its label is the wrong place */
  const json_t *ch = NULL;
  acmeh_acme *b = NULL;
  char *b_url = NULL, *host = NULL;
  json_t *b_order = NULL, *b_authz = NULL;
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &b);
  const char *names[] = {f.name};
  if (rc == ACMEH_OK) rc = acmeh_flow_new_order(b, names, 1, &b_url, &b_order, ctx->err, sizeof ctx->err);
  const char *az = acmeh_kit_first_authz(b_order);
  if (rc == ACMEH_OK) rc = az ? acmeh_acme_get_json(b, az, &b_authz, NULL, ctx->err, sizeof ctx->err)
                              : acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK) ch = offered(ctx, b_authz, &rc);
  host = rc ? NULL : dnsaccount_name(ctx, acmeh_acme_kid(f.c), f.name);
  if (rc == ACMEH_OK) {
    acmeh_check_note(ctx, "account B %s answers; its digest is published under account A's (%s) label", acmeh_acme_kid(b), acmeh_acme_kid(f.c));
    rc = wrong_place(ctx, b, ch, az, host, NULL, "the TXT is under another account's label");
  }
  free(host), free(b_url);
  json_decref(b_order), json_decref(b_authz);
  acmeh_acme_free(b);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int wildcard_base(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], wild[300], *order_url = NULL;
  json_t *order = NULL, *authz = NULL, *final = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  snprintf(wild, sizeof wild, "*.%s", acmeh_check_name(ctx, name, sizeof name));
  const char *names[] = {wild};
  if (rc == ACMEH_OK) rc = acmeh_flow_new_order(c, names, 1, &order_url, &order, ctx->err, sizeof ctx->err);
  const char *az = acmeh_kit_first_authz(order);
  if (rc == ACMEH_OK) rc = az ? acmeh_acme_get_json(c, az, &authz, NULL, ctx->err, sizeof ctx->err)
                              : acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK && !acmeh_flow_find_challenge(authz, TYPE))
    rc = acmeh_check_skip(ctx, "%s for the wildcard %s (the draft lets a server choose)", DNSACCOUNT_NOT_OFFERED, wild);
  char *host = rc ? NULL : dnsaccount_name(ctx, acmeh_acme_kid(c), wild);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "publishing at %s, under the base name", host ? host : "?");
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(c, ctx->env->publisher, az, TYPE, &final, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_PEER_PROTOCOL)
    rc = acmeh_check_fail(ctx, ctx->env->wire.dnsacct_scheme ? "a wildcard authorization valid with the TXT at <label>._acme-wildcard-challenge.<base name>"
                                                              : "a wildcard authorization valid with the TXT at <label>._acme-challenge.<base name>",
                          "%s", ctx->err);
  free(host), free(order_url);
  json_decref(order), json_decref(authz), json_decref(final);
  acmeh_acme_free(c);
  return rc;
}

/* Responds with nothing published; the final authorization into *final. */
static int respond_unpublished(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, json_t **final, const char **st) {
  const json_t *ch = NULL;
  int rc = fixture(ctx, f, &ch);
  if (rc == ACMEH_OK) rc = respond(ctx, f->c, f->authz_url, ch, final, st);
  return rc;
}

static int missing_record_invalid(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  json_t *final = NULL;
  const char *st = NULL;
  int rc = respond_unpublished(ctx, &f, &final, &st);
  if (rc == ACMEH_OK) rc = expect_invalid(ctx, st, final, "no TXT record is published");
  const json_t *err = json_object_get(acmeh_flow_find_challenge(final, TYPE), "error");
  const char *type = json_string_value(json_object_get(err, "type"));
  static const char *const ok[] = {"urn:ietf:params:acme:error:dns", "urn:ietf:params:acme:error:incorrectResponse",
                                   "urn:ietf:params:acme:error:unauthorized", NULL};
  int known = 0;
  for (size_t i = 0; type && ok[i]; i++) known |= strcmp(type, ok[i]) == 0;
  if (rc == ACMEH_OK && !known)
    rc = acmeh_check_fail(ctx, "an \"error\" problem document of type dns, incorrectResponse or unauthorized (RFC 8555 §6.7, §8)",
                          "%s", err ? (type ? type : "an error without a type") : "no error member");
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int error_names_account(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  json_t *final = NULL;
  const char *st = NULL;
  int rc = respond_unpublished(ctx, &f, &final, &st);
  const json_t *err = json_object_get(acmeh_flow_find_challenge(final, TYPE), "error");
  char *text = err ? json_dumps(err, JSON_COMPACT) : NULL;
  const char *url = f.c ? acmeh_acme_kid(f.c) : NULL;
  if (rc == ACMEH_OK && (!text || !url || !strstr(text, url)))
    rc = acmeh_check_fail(ctx, "the account URL used for the validation name in the problem document (SHOULD)",
                          "%.400s", text ? text : "no error member");
  free(text);
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int cname_followed(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const json_t *ch = NULL;
  json_t *final = NULL;
  const char *st = NULL;
  char txt[44], target[300];
  const acmeh_publisher *pub = ctx->env->publisher; /* where the server under test resolves */
  int rc = fixture(ctx, &f, &ch);
  char *host = rc ? NULL : dnsaccount_name(ctx, acmeh_acme_kid(f.c), f.name);
  snprintf(target, sizeof target, "delegated-dnsacct.%s", f.name);
  if (rc == ACMEH_OK) rc = digest_of(ctx, f.c, ch, txt);
  if (rc == ACMEH_OK) {
    acmeh_check_note(ctx, "%s is a CNAME to %s, which holds the TXT", host, target);
    rc = pub->set_cname(pub, host, target, ctx->err, sizeof ctx->err);
    if (rc == ACMEH_OK) rc = pub->set_txt(pub, target, txt, ctx->err, sizeof ctx->err);
    if (rc == ACMEH_OK) rc = respond(ctx, f.c, f.authz_url, ch, &final, &st);
  }
  if (rc == ACMEH_OK && strcmp(st, "valid") != 0) {
    char *e = json_dumps(json_object_get(acmeh_flow_find_challenge(final, TYPE), "error"), JSON_COMPACT);
    rc = acmeh_check_fail(ctx, "the challenge valid through a CNAME at the validation name", "challenge \"%s\" (error %.300s)", st, e ? e : "none");
    free(e);
  }
  if (host) pub->clear_cname(pub, host);
  pub->clear_txt(pub, target);
  free(host);
  json_decref(final);
  acmeh_kit_fixture_free(&f);
  return rc;
}

const acmeh_check_impl dnsaccount_server_checks[] = {
    {"DNSACCT-S-001", token_ok},           {"DNSACCT-S-002", validates_scoped},     {"DNSACCT-S-003", dns01_name_refused},
    {"DNSACCT-S-004", other_account_refused}, {"DNSACCT-S-005", wrong_value_refused}, {"DNSACCT-S-006", wildcard_base},
    {"DNSACCT-S-007", error_names_account}, {"DNSACCT-S-008", cname_followed},     {"DNSACCT-S-009", missing_record_invalid},
    {NULL, NULL}};
