/* CORE-S-108..112: External Account Binding (RFC 8555 §7.3.4). The CA hands
 * out key identifiers and MAC keys outside ACME, so these checks run only
 * when the target's claims give one:
 *   "eab": {"kid": "...", "key": "<HMAC key, base64url>"}  or a list of them.
 * The binding that must be accepted uses the first entry; the deliberately
 * wrong ones use the last, so a CA that lets a key bind one account only
 * does not refuse them merely for reuse when the claims list two keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

#define NO_EAB "the target claims no External Account Binding key (claims \"eab\": {\"kid\", \"key\"})"

typedef enum { EAB_GOOD, EAB_BAD_MAC, EAB_OTHER_KEY, EAB_WRONG_URL, EAB_NONE } eab_kind;

/* The claims' entry `last ? last : first`; 0 with a skip when none. */
static int eab_entry(acmeh_check_ctx *ctx, int last, const char **kid, const char **key, int *rc) {
  const json_t *e = json_object_get(ctx->env->claims, "eab");
  if (json_is_array(e)) e = json_array_get(e, last ? json_array_size(e) - 1 : 0);
  *kid = json_string_value(json_object_get(e, "kid"));
  *key = json_string_value(json_object_get(e, "key"));
  if (!*kid || !*key) return *rc = acmeh_check_skip(ctx, NO_EAB), 0;
  return 1;
}

/* The binding of `kind` for account key k: the MAC key flipped, the payload
 * another key, or the url not newAccount's. New reference or NULL. */
static json_t *binding(const acmeh_key *k, const char *url, const char *kid, unsigned char *mac, size_t maclen, eab_kind kind) {
  acmeh_key *other = NULL;
  if (kind == EAB_OTHER_KEY && acmeh_key_generate(ACMEH_KEY_ES256, &other) != ACMEH_OK) return NULL;
  if (kind == EAB_BAD_MAC) mac[0] ^= 0x01;
  json_t *b = acmeh_flow_eab_binding(other ? other : k, kind == EAB_WRONG_URL ? "https://example.invalid/new-account" : url,
                                     kid, mac, maclen);
  acmeh_key_free(other);
  return b;
}

/* newAccount with a fresh ES256 key and a binding of `kind`; the answer in
 * r, the binding sent in *sent (new reference) when sent != NULL. */
static int post_new_account(acmeh_acme *c, acmeh_check_ctx *ctx, eab_kind kind, const char *kid, const char *key_b64,
                            acmeh_http_resp *r, json_t **sent) {
  const char *url = acmeh_acme_dir_url(c, "newAccount");
  acmeh_key *k = NULL;
  unsigned char *mac = NULL;
  size_t maclen = 0;
  if (!url) return acmeh_check_fail(ctx, "a newAccount URL in the directory", "none");
  if (kind != EAB_NONE && acmeh_b64url_decode(key_b64, strlen(key_b64), &mac, &maclen) != ACMEH_OK)
    return acmeh_check_skip(ctx, "the claimed EAB key is not base64url");
  json_t *p = json_pack("{s:b}", "termsOfServiceAgreed", 1), *b = NULL;
  int rc = acmeh_key_generate(ACMEH_KEY_ES256, &k) == ACMEH_OK ? ACMEH_OK : ACMEH_INTERNAL;
  if (rc == ACMEH_OK && kind != EAB_NONE && !(b = binding(k, url, kid, mac, maclen, kind))) rc = ACMEH_INTERNAL;
  if (b && sent) *sent = json_incref(b);
  if (b) json_object_set_new(p, "externalAccountBinding", b);
  char *payload = rc ? NULL : json_dumps(p, JSON_COMPACT);
  acmeh_post_opts o = {.use_jwk = 1, .key = k};
  if (payload) rc = acmeh_kit_post(ctx, c, url, payload, &o, r);
  else if (rc == ACMEH_OK) rc = ACMEH_NOMEM;
  free(payload), free(mac);
  json_decref(p);
  acmeh_key_free(k);
  return rc;
}

/* One newAccount of `kind` from a fresh client; r holds the answer. */
static int eab_attempt(acmeh_check_ctx *ctx, eab_kind kind, acmeh_http_resp *r, json_t **sent) {
  const char *kid, *key;
  int rc = ACMEH_OK;
  if (!eab_entry(ctx, kind != EAB_GOOD, &kid, &key, &rc)) return rc;
  acmeh_acme *c = NULL;
  rc = acmeh_kit_client(ctx, &c);
  if (rc == ACMEH_OK) rc = post_new_account(c, ctx, kind, kid, key, r, sent);
  acmeh_acme_free(c);
  return rc;
}

/* §7.3.4: a binding made as the section says (HS256 over the account JWK,
 * kid, url) is accepted, and the account returned carries that binding,
 * identical to the request's. */
static int eab_accepted(acmeh_check_ctx *ctx) {
  acmeh_http_resp r = {0};
  json_t *sent = NULL;
  int rc = eab_attempt(ctx, EAB_GOOD, &r, &sent);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 201, "newAccount with a valid externalAccountBinding");
  json_t *acct = rc ? NULL : acmeh_resp_json(&r);
  const json_t *echo = json_object_get(acct, "externalAccountBinding");
  if (rc == ACMEH_OK && !json_equal(echo, sent)) {
    char *got = echo ? json_dumps(echo, JSON_COMPACT) : NULL;
    rc = acmeh_check_fail(ctx, "the account's externalAccountBinding identical to the request's",
                          "%.200s", got ? got : "no externalAccountBinding in the account");
    free(got);
  }
  json_decref(acct), json_decref(sent);
  acmeh_http_resp_free(&r);
  return rc;
}

static int eab_refused(acmeh_check_ctx *ctx, eab_kind kind, const char *what) {
  static const char *const types[] = {"unauthorized", "malformed", "badSignature", "badPublicKey", NULL};
  acmeh_http_resp r = {0};
  int rc = eab_attempt(ctx, kind, &r, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, what);
  acmeh_http_resp_free(&r);
  return rc;
}

/* §7.3.4 step 4: the MAC must verify with the kid's key. */
static int eab_bad_mac(acmeh_check_ctx *ctx) {
  return eab_refused(ctx, EAB_BAD_MAC, "newAccount whose externalAccountBinding MAC uses a wrong key");
}

/* §7.3.4 step 5: the payload must be the outer JWS's key. */
static int eab_other_key(acmeh_check_ctx *ctx) {
  return eab_refused(ctx, EAB_OTHER_KEY, "newAccount whose externalAccountBinding binds another public key");
}

/* §7.3.4 step 2: the binding's url must be the newAccount URL. */
static int eab_wrong_url(acmeh_check_ctx *ctx) {
  return eab_refused(ctx, EAB_WRONG_URL, "newAccount whose externalAccountBinding url is not the newAccount URL");
}

/* §7.3.4: a CA whose directory says externalAccountRequired answers a
 * newAccount without binding with externalAccountRequired (SHOULD). */
static int eab_required(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_client(ctx, &c);
  const json_t *req = json_object_get(json_object_get(acmeh_acme_dir(c), "meta"), "externalAccountRequired");
  if (rc == ACMEH_OK && !json_is_true(req)) rc = acmeh_check_skip(ctx, "server does not require external account binding");
  if (rc == ACMEH_OK) rc = post_new_account(c, ctx, EAB_NONE, NULL, NULL, &r, NULL);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 0, "externalAccountRequired", "newAccount without externalAccountBinding");
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_eab_checks[] = {
    {"CORE-S-108", eab_accepted}, {"CORE-S-109", eab_bad_mac},  {"CORE-S-110", eab_other_key},
    {"CORE-S-111", eab_wrong_url}, {"CORE-S-112", eab_required}, {NULL, NULL}};
