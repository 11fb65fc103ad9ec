/* CORE-S-006..014: nonces (RFC 8555 §6.5, §6.5.1, §6.5.2, §7.2). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

/* Nonces sampled by CORE-S-009 (the digest asks for 1000). */
#define NONCE_SAMPLES 1000
/* Attempts for checks that send their own nonce, because some servers (Pebble)
 * reject a share of good nonces on purpose. */
#define OWN_NONCE_TRIES 4

static int new_nonce(acmeh_check_ctx *ctx, acmeh_acme *c, const char *method, acmeh_http_resp *r) {
  const char *url = acmeh_acme_dir_url(c, "newNonce");
  if (!url) return acmeh_kit_step_fault(ctx, "directory", "a newNonce URL", "directory has none");
  return acmeh_http_request(acmeh_acme_http(c), method, url, NULL, NULL, 0, NULL, r, ctx->err, sizeof ctx->err);
}

static int nonce_head(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK) rc = new_nonce(ctx, c, "HEAD", &r);
  if (rc == ACMEH_OK && !acmeh_http_header_get(&r, "Replay-Nonce"))
    rc = acmeh_check_fail(ctx, "HEAD newNonce with a Replay-Nonce header", "status %ld without Replay-Nonce", r.status);
  if (rc == ACMEH_OK && r.status != 200)
    rc = acmeh_check_fail(ctx, "HEAD newNonce status 200 (SHOULD)", "status %ld", r.status);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int nonce_get(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK) rc = new_nonce(ctx, c, "GET", &r);
  if (rc == ACMEH_OK && (r.status != 204 || r.body_len || !acmeh_http_header_get(&r, "Replay-Nonce")))
    rc = acmeh_check_fail(ctx, "GET newNonce: 204, empty body, Replay-Nonce", "status %ld, %zu body bytes, %s",
                          r.status, r.body_len, acmeh_http_header_get(&r, "Replay-Nonce") ? "Replay-Nonce present" : "no Replay-Nonce");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int has_no_store(const acmeh_http_resp *r) {
  const char *cc = acmeh_http_header_get(r, "Cache-Control");
  return cc && strstr(cc, "no-store");
}

static int nonce_no_store(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  const char *methods[] = {"HEAD", "GET"};
  for (int i = 0; rc == ACMEH_OK && i < 2; i++) {
    acmeh_http_resp r = {0};
    rc = new_nonce(ctx, c, methods[i], &r);
    if (rc == ACMEH_OK && !has_no_store(&r))
      rc = acmeh_check_fail(ctx, "Cache-Control: no-store on newNonce responses", "%s newNonce Cache-Control: %s",
                            methods[i], acmeh_http_header_get(&r, "Cache-Control") ? acmeh_http_header_get(&r, "Cache-Control") : "(absent)");
    acmeh_http_resp_free(&r);
  }
  acmeh_acme_free(c);
  return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Stores a valid nonce of r into seen[*n] or fails the check. */
static int sample(acmeh_check_ctx *ctx, const acmeh_http_resp *r, regex_t *re, char **seen, size_t *n) {
  const char *v = acmeh_http_header_get(r, "Replay-Nonce");
  if (!v) return acmeh_check_fail(ctx, "a Replay-Nonce on every newNonce response", "response %zu had none", *n + 1);
  if (regexec(re, v, 0, NULL, 0) != 0)
    return acmeh_check_fail(ctx, "Replay-Nonce matching ^[A-Za-z0-9_-]+$", "\"%.80s\"", v);
  seen[(*n)++] = strdup(v);
  return ACMEH_OK;
}

static int nonce_unique(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_client(ctx, &c);
  if (rc) return rc;
  char **seen = calloc(NONCE_SAMPLES, sizeof *seen);
  size_t n = 0;
  regex_t re;
  regcomp(&re, "^[A-Za-z0-9_-]+$", REG_EXTENDED | REG_NOSUB);
  acmeh_check_note(ctx, "sampling %d nonces with HEAD newNonce (exchanges not logged)", NONCE_SAMPLES);
  acmeh_strbuf saved = ctx->transcript; /* 1000 exchanges would drown the transcript */
  ctx->transcript = (acmeh_strbuf){.max = 1};
  for (int i = 0; rc == ACMEH_OK && i < NONCE_SAMPLES; i++) {
    acmeh_http_resp r = {0};
    rc = new_nonce(ctx, c, "HEAD", &r);
    if (rc == ACMEH_OK) rc = sample(ctx, &r, &re, seen, &n);
    acmeh_http_resp_free(&r);
  }
  acmeh_strbuf_free(&ctx->transcript);
  ctx->transcript = saved;
  qsort(seen, n, sizeof *seen, cmp_str);
  for (size_t i = 1; rc == ACMEH_OK && i < n; i++)
    if (strcmp(seen[i - 1], seen[i]) == 0)
      rc = acmeh_check_fail(ctx, "every nonce unique", "nonce \"%s\" issued twice among %zu", seen[i], n);
  for (size_t i = 0; i < n; i++) free(seen[i]);
  free(seen);
  regfree(&re);
  acmeh_acme_free(c);
  return rc;
}

static int nonce_on_posts(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char name[256], *order_url = NULL;
  json_t *order = NULL;
  int rc = acmeh_kit_order(ctx, &c, name, sizeof name, &order_url, &order);
  const char *urls[] = {acmeh_acme_kid(c), order_url, acmeh_kit_first_authz(order)}; /* NULL-safe after a failed set-up */
  for (size_t i = 0; rc == ACMEH_OK && i < 3; i++) {
    acmeh_http_resp r = {0};
    rc = urls[i] ? acmeh_kit_post(ctx, c, urls[i], NULL, NULL, &r) : acmeh_check_fail(ctx, "an authorization URL", "order has none");
    if (rc == ACMEH_OK && r.status / 100 == 2 && !acmeh_http_header_get(&r, "Replay-Nonce"))
      rc = acmeh_check_fail(ctx, "Replay-Nonce on every successful POST response", "POST-as-GET %s answered %ld without Replay-Nonce",
                            urls[i], r.status);
    acmeh_http_resp_free(&r);
  }
  free(order_url);
  json_decref(order);
  acmeh_acme_free(c);
  return rc;
}

/* POST-as-GET of the account with exactly `nonce` (NULL = no nonce member), no retry. */
static int post_with_nonce(acmeh_check_ctx *ctx, acmeh_acme *c, const char *nonce, acmeh_http_resp *r) {
  acmeh_post_opts o = {.own_nonce = 1, .no_retry = 1};
  o.jws.nonce = nonce;
  return acmeh_kit_post(ctx, c, acmeh_acme_kid(c), NULL, &o, r);
}

static int nonce_replay(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c), used = 0;
  for (int t = 0; rc == ACMEH_OK && !used && t < OWN_NONCE_TRIES; t++) {
    char *nonce = NULL;
    acmeh_http_resp r = {0};
    rc = acmeh_acme_nonce(c, &nonce, ctx->err, sizeof ctx->err);
    if (rc == ACMEH_OK) rc = post_with_nonce(ctx, c, nonce, &r);
    used = rc == ACMEH_OK && r.status == 200; /* else the server refused a good nonce: take another */
    acmeh_http_resp_free(&r);
    if (used) {
      acmeh_check_note(ctx, "replaying nonce %s", nonce);
      rc = post_with_nonce(ctx, c, nonce, &r);
      if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 400, "badNonce", "request replaying a used nonce");
      acmeh_http_resp_free(&r);
    }
    free(nonce);
  }
  if (rc == ACMEH_OK && !used) rc = acmeh_check_fail(ctx, "a request with a fresh nonce to succeed", "%d attempts all refused", OWN_NONCE_TRIES);
  acmeh_acme_free(c);
  return rc;
}

static int nonce_forged(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  const char *cases[] = {"AAAAAAAAAAAAAAAAAAAAAA", NULL};
  const char *what[] = {"request with a made-up nonce", "request without a nonce"};
  for (int i = 0; rc == ACMEH_OK && i < 2; i++) {
    acmeh_http_resp r = {0};
    rc = post_with_nonce(ctx, c, cases[i], &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 400, "badNonce", what[i]);
    acmeh_http_resp_free(&r); /* also after a transport error: r holds what arrived */
  }
  acmeh_acme_free(c);
  return rc;
}

static int nonce_retry(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = post_with_nonce(ctx, c, "AAAAAAAAAAAAAAAAAAAAAA", &r);
  if (rc) {
    acmeh_http_resp_free(&r);
    acmeh_acme_free(c);
    return rc;
  }
  rc = acmeh_kit_expect_problem(ctx, &r, 400, "badNonce", "request with a made-up nonce");
  for (int t = 0; rc == ACMEH_OK && t < OWN_NONCE_TRIES; t++) {
    const char *fresh = acmeh_http_header_get(&r, "Replay-Nonce");
    if (!fresh || !acmeh_b64url_valid(fresh)) {
      rc = acmeh_check_fail(ctx, "a valid Replay-Nonce on the badNonce response", "%s", fresh ? fresh : "none");
      break;
    }
    char *n = strdup(fresh);
    acmeh_http_resp_free(&r);
    rc = post_with_nonce(ctx, c, n, &r);
    free(n);
    if (rc || r.status == 200) break;
    char type[64];
    acmeh_resp_problem(&r, type, sizeof type);
    if (strcmp(type, "badNonce") != 0 || t == OWN_NONCE_TRIES - 1)
      rc = acmeh_kit_expect_status(ctx, &r, 200, "request resent with the badNonce response's Replay-Nonce");
  }
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int nonce_not_b64(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = post_with_nonce(ctx, c, "a+b/c=", &r);
  if (rc == ACMEH_OK) {
    static const char *const ok[] = {"badNonce", "malformed", NULL};
    rc = acmeh_kit_expect_refused(ctx, &r, ok, "request with nonce \"a+b/c=\"");
  }
  acmeh_http_resp_free(&r); /* also after a transport error: r holds what arrived */
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_nonce_checks[] = {
    {"CORE-S-006", nonce_head},     {"CORE-S-007", nonce_get},    {"CORE-S-008", nonce_no_store},
    {"CORE-S-009", nonce_unique},   {"CORE-S-010", nonce_on_posts}, {"CORE-S-011", nonce_replay},
    {"CORE-S-012", nonce_forged},   {"CORE-S-013", nonce_retry},  {"CORE-S-014", nonce_not_b64},
    {NULL, NULL}};
