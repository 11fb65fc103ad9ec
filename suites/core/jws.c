/* CORE-S-015..027: request format and JWS validation (RFC 8555 §6.1-§6.4). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

/* POST-as-GET of the check's own account, mutated by o; the response in r. */
static int mutated_get(acmeh_check_ctx *ctx, acmeh_acme *c, const acmeh_post_opts *o, acmeh_http_resp *r) {
  return acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, o, r);
}

/* Runs `n` mutations of a POST-as-GET of the account; each must be refused
 * with one of `types` (NULL = any 4xx). */
static int expect_all_refused(acmeh_check_ctx *ctx, const acmeh_post_opts *muts, const char *const *what, size_t n,
                              const char *const *types) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  for (size_t i = 0; rc == ACMEH_OK && i < n; i++) {
    acmeh_http_resp r = {0};
    rc = mutated_get(ctx, c, &muts[i], &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, what[i]);
    acmeh_http_resp_free(&r);
  }
  acmeh_acme_free(c);
  return rc;
}

static int jws_content_type(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[2] = {{.content_type = "application/json"}, {.content_type = ""}};
  const char *what[] = {"POST with Content-Type application/json", "POST without Content-Type"};
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  for (int i = 0; rc == ACMEH_OK && i < 2; i++) {
    acmeh_http_resp r = {0};
    rc = mutated_get(ctx, c, &m[i], &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 415, what[i]);
    acmeh_http_resp_free(&r);
  }
  acmeh_acme_free(c);
  return rc;
}

static int jws_plain_get(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *order_url = NULL;
  json_t *order = NULL;
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &order_url, &order);
  const char *urls[] = {c ? acmeh_acme_kid(c) : NULL, order_url, acmeh_kit_first_authz(order)};
  const char *what[] = {"plain GET of the account URL", "plain GET of the order URL", "plain GET of an authorization URL"};
  for (int i = 0; rc == ACMEH_OK && i < 3; i++) {
    acmeh_http_resp r = {0};
    if (!urls[i]) break;
    rc = acmeh_http_request(acmeh_acme_http(c), "GET", urls[i], NULL, NULL, 0, NULL, &r, ctx->err, sizeof ctx->err);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 405, "malformed", what[i]);
    acmeh_http_resp_free(&r);
  }
  free(order_url);
  json_decref(order);
  acmeh_acme_free(c);
  return rc;
}

static const unsigned char mac_key[32] = "acme-harness-hs256-test-key-0001";

static int jws_alg_none_hs256(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[2] = {{.jws = {.alg_override = "none", .no_signature = 1}},
                          {.jws = {.alg_override = "HS256", .mac_key = mac_key, .mac_key_len = sizeof mac_key}}};
  const char *what[] = {"request with alg \"none\"", "request with alg \"HS256\""};
  static const char *const types[] = {"badSignatureAlgorithm", NULL};
  return expect_all_refused(ctx, m, what, 2, types);
}

static int jws_algorithms_member(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  acmeh_post_opts m = {.jws = {.alg_override = "HS256", .mac_key = mac_key, .mac_key_len = sizeof mac_key}};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = mutated_get(ctx, c, &m, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 400, "badSignatureAlgorithm", "request with alg \"HS256\"");
  json_t *p = rc ? NULL : acmeh_resp_json(&r);
  json_t *algs = json_object_get(p, "algorithms");
  size_t i;
  json_t *a;
  int ok = json_is_array(algs) && json_array_size(algs) > 0;
  json_array_foreach(algs, i, a) ok &= json_is_string(a);
  if (rc == ACMEH_OK && !ok)
    rc = acmeh_check_fail(ctx, "an \"algorithms\" array of supported alg names in the badSignatureAlgorithm problem",
                          "%s", algs ? "a malformed algorithms member" : "no algorithms member");
  json_decref(p);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int account_with(acmeh_check_ctx *ctx, acmeh_keytype kt, const char *alg) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK) rc = acmeh_kit_attribute_own(ctx, acmeh_flow_new_account(c, kt, NULL, &r, ctx->err, sizeof ctx->err), "newAccount");
  if (acmeh_err_class(rc) == ACMEH_CLASS_PEER)
    rc = acmeh_check_fail(ctx, "201 for a newAccount signed with a supported algorithm", "%s-signed newAccount: %s", alg, ctx->err);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int jws_es256(acmeh_check_ctx *ctx) { return account_with(ctx, ACMEH_KEY_ES256, "ES256"); }
static int jws_eddsa(acmeh_check_ctx *ctx) { return account_with(ctx, ACMEH_KEY_EDDSA, "EdDSA"); }

static int jws_jwk_and_kid(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[1] = {{.both_jwk_and_kid = 1}};
  const char *what[] = {"request carrying both jwk and kid"};
  return expect_all_refused(ctx, m, what, 1, NULL);
}

static int jws_wrong_identification(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"), "{\"termsOfServiceAgreed\":true}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "newAccount signed with kid instead of jwk");
  acmeh_http_resp_free(&r);
  char name[256], payload[400];
  snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", acmeh_check_name(ctx, name, sizeof name));
  acmeh_post_opts jwk = {.use_jwk = 1};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newOrder"), payload, &jwk, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "newOrder signed with jwk instead of kid");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int jws_serializations(acmeh_check_ctx *ctx) {
  static const json_t *unprot;
  json_t *u = json_pack("{s:s}", "x-harness", "unprotected");
  unprot = u;
  acmeh_post_opts m[5] = {{.jws = {.general_serialization = 1}}, {.jws = {.unprotected = unprot}},
                          {.jws = {.b64_false = 1}}, {.jws = {.compact_serialization = 1}},
                          {.jws = {.empty_signature = 1}}};
  const char *what[] = {"JWS in general serialization (\"signatures\" array)", "JWS with an unprotected \"header\"",
                        "JWS with \"b64\": false", "JWS in compact serialization", "JWS with an empty signature"};
  int rc = expect_all_refused(ctx, m, what, 5, NULL);
  json_decref(u);
  return rc;
}

static int jws_bad_signature(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[1] = {{.jws = {.flip_signature_bit = 1}}};
  const char *what[] = {"request whose signature has one bit flipped"};
  return expect_all_refused(ctx, m, what, 1, NULL);
}

/* newAccount signed by `key` claiming alg `alg`: must be refused with badPublicKey. */
static int refused_key(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_key *key, const char *alg, const char *what) {
  acmeh_post_opts o = {.use_jwk = 1, .key = key};
  o.jws.alg_override = alg;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newAccount"), "{\"termsOfServiceAgreed\":true}", &o, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 400, "badPublicKey", what);
  acmeh_http_resp_free(&r);
  return rc;
}

static int jws_bad_key(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_key *p384 = NULL, *rsa1024 = NULL;
  EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK && (acmeh_key_generate(ACMEH_KEY_ES384, &p384) || !small || acmeh_key_from_pkey(small, &rsa1024)))
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "key generation failed");
  if (rc == ACMEH_OK) rc = refused_key(ctx, c, p384, "ES256", "newAccount with alg ES256 and a P-384 jwk");
  if (rc == ACMEH_OK) rc = refused_key(ctx, c, rsa1024, "RS256", "newAccount with RS256 and a 1024-bit RSA jwk");
  EVP_PKEY_free(small);
  acmeh_key_free(p384);
  acmeh_key_free(rsa1024);
  acmeh_acme_free(c);
  return rc;
}

static int jws_url_mismatch(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  char *wrong = NULL;
  if (rc == ACMEH_OK && asprintf(&wrong, "%s/", acmeh_acme_kid(c)) < 0) rc = ACMEH_NOMEM;
  acmeh_post_opts slash = {.own_url = 1}, none = {.own_url = 1};
  slash.jws.url = wrong;
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = mutated_get(ctx, c, &slash, &r);
  static const char *const unauthorized[] = {"unauthorized", NULL};
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, unauthorized, "request whose url has a trailing slash added");
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) rc = mutated_get(ctx, c, &none, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, "request without a url header member");
  acmeh_http_resp_free(&r);
  free(wrong);
  acmeh_acme_free(c);
  return rc;
}

static int jws_padding(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[3] = {{.jws = {.pad_protected = 1}}, {.jws = {.pad_payload = 1}}, {.jws = {.pad_signature = 1}}};
  const char *what[] = {"JWS whose protected part ends in '='", "JWS whose payload part ends in '='",
                        "JWS whose signature ends in '='"};
  return expect_all_refused(ctx, m, what, 3, NULL);
}

static int jws_unknown_kid(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  char *kid = NULL;
  if (rc == ACMEH_OK && asprintf(&kid, "%s-acmeh-unknown", acmeh_acme_kid(c)) < 0) rc = ACMEH_NOMEM;
  acmeh_post_opts o = {.jws = {.kid = kid}};
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = mutated_get(ctx, c, &o, &r);
  static const char *const types[] = {"accountDoesNotExist", "unauthorized", "malformed", NULL};
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, "request whose kid names no account");
  acmeh_http_resp_free(&r);
  free(kid);
  acmeh_acme_free(c);
  return rc;
}

static int jws_payload_not_b64(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[1] = {{.jws = {.payload_b64_override = "e30+not*base64url"}}};
  const char *what[] = {"JWS whose payload is not base64url"};
  static const char *const types[] = {"malformed", NULL};
  return expect_all_refused(ctx, m, what, 1, types);
}

static int jws_empty_body(acmeh_check_ctx *ctx) {
  acmeh_post_opts m[2] = {{.raw_body = ""}, {.raw_body = "{}"}};
  const char *what[] = {"POST with an empty body", "POST whose body is {}"};
  static const char *const types[] = {"malformed", NULL};
  return expect_all_refused(ctx, m, what, 2, types);
}

const acmeh_check_impl core_jws_checks[] = {
    {"CORE-S-085", jws_unknown_kid},    {"CORE-S-086", jws_payload_not_b64},
    {"CORE-S-087", jws_empty_body},
    {"CORE-S-015", jws_content_type},   {"CORE-S-016", jws_plain_get},
    {"CORE-S-017", jws_alg_none_hs256}, {"CORE-S-018", jws_algorithms_member},
    {"CORE-S-019", jws_es256},          {"CORE-S-020", jws_eddsa},
    {"CORE-S-021", jws_jwk_and_kid},    {"CORE-S-022", jws_wrong_identification},
    {"CORE-S-023", jws_serializations}, {"CORE-S-024", jws_bad_signature},
    {"CORE-S-025", jws_bad_key},        {"CORE-S-026", jws_url_mismatch},
    {"CORE-S-027", jws_padding},        {NULL, NULL}};
