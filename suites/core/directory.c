/* CORE-S-001..005: the directory (RFC 8555 §7.1.1) and GET vs POST-as-GET (§6.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

static int dir_get(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc) return rc;
  if (!acmeh_acme_dir_url(c, "newNonce"))
    rc = acmeh_check_fail(ctx, "a \"newNonce\" URL string in the directory", "no newNonce member");
  acmeh_acme_free(c);
  return rc;
}

static int dir_urls(acmeh_check_ctx *ctx) {
  static const char *const names[] = {"newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"};
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  for (size_t i = 0; rc == ACMEH_OK && i < sizeof names / sizeof *names; i++) {
    const char *u = acmeh_acme_dir_url(c, names[i]);
    if (!u) rc = acmeh_check_fail(ctx, "every core resource URL in the directory", "no \"%s\" member", names[i]);
    else if (strncmp(u, "https://", 8) != 0)
      rc = acmeh_check_fail(ctx, "absolute https URLs (§6.1: HTTPS is REQUIRED)", "\"%s\": \"%s\"", names[i], u);
  }
  acmeh_acme_free(c);
  return rc;
}

static int dir_new_authz(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  const char *url = rc ? NULL : acmeh_acme_dir_url(c, "newAuthz");
  if (rc == ACMEH_OK && !url) rc = acmeh_check_skip(ctx, "server does not advertise newAuthz (no pre-authorization)");
  if (url) {
    char name[256], payload[400];
    acmeh_check_name(ctx, name, sizeof name);
    snprintf(payload, sizeof payload, "{\"identifier\":{\"type\":\"dns\",\"value\":\"%s\"}}", name);
    acmeh_http_resp r = {0};
    rc = acmeh_kit_post(ctx, c, url, payload, NULL, &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 201, "newAuthz (advertised in the directory)");
    if (rc == ACMEH_OK && !acmeh_http_header_get(&r, "Location"))
      rc = acmeh_check_fail(ctx, "201 with Location", "no Location header");
    acmeh_http_resp_free(&r);
  }
  acmeh_acme_free(c);
  return rc;
}

static int meta_field(acmeh_check_ctx *ctx, const json_t *meta, const char *name, int (*is)(const json_t *),
                      const char *type) {
  json_t *v = json_object_get(meta, name);
  if (v && !is(v)) return acmeh_check_fail(ctx, type, "meta.%s is of another JSON type", name);
  return ACMEH_OK;
}

static int is_string(const json_t *v) { return json_is_string(v); }
static int is_boolean(const json_t *v) { return json_is_boolean(v); }
static int is_string_array(const json_t *v) {
  size_t i;
  json_t *e;
  if (!json_is_array(v)) return 0;
  json_array_foreach(v, i, e) if (!json_is_string(e)) return 0;
  return 1;
}

static int dir_meta(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc) return rc;
  const json_t *meta = json_object_get(acmeh_acme_dir(c), "meta");
  if (!meta) rc = acmeh_check_skip(ctx, "directory has no meta object");
  else if (!json_is_object(meta)) rc = acmeh_check_fail(ctx, "meta to be a JSON object", "meta of another JSON type");
  if (rc == ACMEH_OK) rc = meta_field(ctx, meta, "termsOfService", is_string, "meta.termsOfService a string");
  if (rc == ACMEH_OK) rc = meta_field(ctx, meta, "website", is_string, "meta.website a string");
  if (rc == ACMEH_OK)
    rc = meta_field(ctx, meta, "caaIdentities", is_string_array, "meta.caaIdentities an array of strings");
  if (rc == ACMEH_OK)
    rc = meta_field(ctx, meta, "externalAccountRequired", is_boolean, "meta.externalAccountRequired a boolean");
  acmeh_acme_free(c);
  return rc;
}

static int dir_post_as_get(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, c, ctx->env->directory_url, NULL, NULL, &r);
  if (rc == ACMEH_OK) {
    json_t *j = acmeh_resp_json(&r);
    if (r.status != 200 || !json_is_object(j) || !json_object_get(j, "newNonce"))
      rc = acmeh_check_fail(ctx, "200 with the directory object", "POST-as-GET directory answered %ld", r.status);
    json_decref(j);
    acmeh_http_resp_free(&r);
  }
  const char *nn = rc ? NULL : acmeh_acme_dir_url(c, "newNonce");
  if (nn) rc = acmeh_kit_post(ctx, c, nn, NULL, NULL, &r);
  if (nn && rc == ACMEH_OK) {
    if (r.status / 100 != 2 || !acmeh_http_header_get(&r, "Replay-Nonce"))
      rc = acmeh_check_fail(ctx, "2xx with Replay-Nonce", "POST-as-GET newNonce answered %ld%s", r.status,
                            acmeh_http_header_get(&r, "Replay-Nonce") ? "" : " without Replay-Nonce");
    acmeh_http_resp_free(&r);
  }
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_directory_checks[] = {
    {"CORE-S-001", dir_get},  {"CORE-S-002", dir_urls},        {"CORE-S-003", dir_new_authz},
    {"CORE-S-004", dir_meta}, {"CORE-S-005", dir_post_as_get}, {NULL, NULL}};
