/* CORE-S-073, 076..078: Link rel="index" and problem documents (RFC 8555 §6.7, §7.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

#define NERR 4

/* Provokes NERR different errors from the server. */
static int provoke(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_http_resp *r, const char **what) {
  acmeh_post_opts bad_nonce = {.own_nonce = 1, .no_retry = 1};
  bad_nonce.jws.nonce = "AAAAAAAAAAAAAAAAAAAAAA";
  acmeh_key *k = NULL;
  acmeh_key_generate(ACMEH_KEY_ES256, &k);
  acmeh_post_opts stranger = {.use_jwk = 1, .key = k};
  what[0] = "request with a made-up nonce";
  int rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, &bad_nonce, &r[0]);
  what[1] = "onlyReturnExisting with an unknown key";
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"), "{\"onlyReturnExisting\":true}", &stranger, &r[1]);
  what[2] = "plain GET of the account URL";
  if (rc == ACMEH_OK) rc = acmeh_http_request(acmeh_acme_http(c), "GET", acmeh_acme_kid(c), NULL, NULL, 0, NULL, &r[2], ctx->err, sizeof ctx->err);
  what[3] = "POST with Content-Type application/json";
  acmeh_post_opts json_ct = {.content_type = "application/json"};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, &json_ct, &r[3]);
  acmeh_key_free(k);
  return rc;
}

typedef int (*judge_fn)(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *what);

static int over_errors(acmeh_check_ctx *ctx, judge_fn judge) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r[NERR] = {0};
  const char *what[NERR] = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = provoke(ctx, c, r, what);
  for (int i = 0; rc == ACMEH_OK && i < NERR; i++) {
    if (r[i].status < 400) rc = acmeh_check_fail(ctx, "an error response", "%s answered %ld", what[i], r[i].status);
    else rc = judge(ctx, &r[i], what[i]);
  }
  for (int i = 0; i < NERR; i++) acmeh_http_resp_free(&r[i]);
  acmeh_acme_free(c);
  return rc;
}

static int judge_problem_json(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *what) {
  char mt[128];
  acmeh_http_media_type(r, mt, sizeof mt);
  json_t *j = acmeh_resp_json(r);
  int rc = ACMEH_OK;
  if (strcmp(mt, "application/problem+json") != 0)
    rc = acmeh_check_fail(ctx, "Content-Type application/problem+json", "%s: \"%s\"", what, mt);
  else if (!json_is_string(json_object_get(j, "type")) || !json_is_string(json_object_get(j, "detail")))
    rc = acmeh_check_fail(ctx, "a problem document with string \"type\" and \"detail\"", "%s: %.120s", what, r->body);
  json_decref(j);
  return rc;
}

static int judge_no_identifier(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *what) {
  json_t *j = acmeh_resp_json(r);
  int rc = json_object_get(j, "identifier") ? acmeh_check_fail(ctx, "no top-level \"identifier\" in problem documents", "%s: %.120s", what, r->body)
                                            : ACMEH_OK;
  json_t *sub;
  size_t i;
  json_array_foreach(json_object_get(j, "subproblems"), i, sub) {
    json_t *id = json_object_get(sub, "identifier");
    if (rc == ACMEH_OK && id && (!json_is_string(json_object_get(id, "type")) || !json_is_string(json_object_get(id, "value"))))
      rc = acmeh_check_fail(ctx, "subproblem identifiers of the form {type, value}", "%s: %.120s", what, r->body);
  }
  json_decref(j);
  return rc;
}

/* RFC 8555 §9.7.4 plus registered extensions (RFC 9773 alreadyReplaced; profiles draft; RFC 9799). */
static const char *const registered[] = {
    "accountDoesNotExist", "alreadyRevoked", "badCSR", "badNonce", "badPublicKey", "badRevocationReason",
    "badSignatureAlgorithm", "caa", "compound", "connection", "dns", "externalAccountRequired",
    "incorrectResponse", "invalidContact", "malformed", "orderNotReady", "rateLimited", "rejectedIdentifier",
    "serverInternal", "tls", "unauthorized", "unsupportedContact", "unsupportedIdentifier", "userActionRequired",
    "alreadyReplaced", "invalidProfile", "onionCAARequired", NULL};

static int judge_registered(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *what) {
  json_t *j = acmeh_resp_json(r);
  const char *t = json_string_value(json_object_get(j, "type"));
  int rc = ACMEH_OK;
  if (t && strncmp(t, ACMEH_PROBLEM_PREFIX, strlen(ACMEH_PROBLEM_PREFIX)) == 0) {
    int known = 0;
    for (const char *const *p = registered; *p; p++) known |= strcmp(t + strlen(ACMEH_PROBLEM_PREFIX), *p) == 0;
    if (!known) rc = acmeh_check_fail(ctx, "only registered urn:ietf:params:acme:error: types", "%s: \"%s\"", what, t);
  }
  json_decref(j);
  return rc;
}

static int judge_index(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *what) {
  char *idx = acmeh_http_link(r, "index", 0);
  int rc = idx && strcmp(idx, ctx->env->directory_url) == 0
               ? ACMEH_OK
               : acmeh_check_fail(ctx, "Link: <directory>;rel=\"index\" on every non-directory response", "%s: %s", what,
                                  idx ? idx : "no rel=\"index\" link");
  free(idx);
  return rc;
}

static int problem_json(acmeh_check_ctx *ctx) { return over_errors(ctx, judge_problem_json); }
static int no_identifier(acmeh_check_ctx *ctx) { return over_errors(ctx, judge_no_identifier); }
static int registered_types(acmeh_check_ctx *ctx) { return over_errors(ctx, judge_registered); }

static int link_index(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK)
    rc = acmeh_http_request(acmeh_acme_http(c), "HEAD", acmeh_acme_dir_url(c, "newNonce"), NULL, NULL, 0, NULL, &r, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = judge_index(ctx, &r, "HEAD newNonce");
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = judge_index(ctx, &r, "POST-as-GET account");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc == ACMEH_OK ? over_errors(ctx, judge_index) : rc;
}

const acmeh_check_impl core_error_checks[] = {
    {"CORE-S-073", link_index},       {"CORE-S-076", no_identifier},
    {"CORE-S-077", registered_types}, {"CORE-S-078", problem_json},
    {NULL, NULL}};
