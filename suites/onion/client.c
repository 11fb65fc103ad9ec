/* ONION-C-*: a client under test ordering for a .onion name (RFC 9799),
 * judged from the record of the suite's scenarios (scenarios.json) against
 * the reference server. The scenario hook makes the onion service: a fresh
 * Ed25519 key written as PEM PKCS#8 to the client's folder (ONION_KEY) and its
 * v3 address as DOMAIN. A client whose claims lack "onion" is skipped
 * without being run. */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/csr.h"
#include "harness/acme/onion.h"
#include "harness/kit/record.h"
#include "harness/runner/scenario.h"
#include "harness/runner/suite.h"
#include "harness/targets/vars.h"
#include "suites/onion/onion.h"

#define TYPE "onion-csr-01"
#define NO_CLIENT "client does not implement onion-csr-01"

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* ---- the scenario hooks ---------------------------------------------------- */

json_t *onion_scenario_begin(const acmeh_scenario_hook_args *a) {
  const char *dir = acmeh_vars_get(a->vars, "WORK_DIR");
  if (!json_is_true(json_object_get(a->def, "onion")) || !dir) return NULL;
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  unsigned char pub[32];
  char name[63], path[4200];
  snprintf(path, sizeof path, "%s/onion-key.pem", dir);
  FILE *f = k ? fopen(path, "w") : NULL;
  int ok = f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
  if (f) fclose(f);
  ok = ok && acmeh_onion_pub(k, pub) == ACMEH_OK && acmeh_onion_address(pub, name) == ACMEH_OK;
  EVP_PKEY_free(k);
  if (!ok) return json_pack("{s:s}", "error", "cannot make the onion service key");
  acmeh_vars_set(a->vars, "ONION_KEY", path);
  acmeh_vars_set(a->vars, "DOMAIN", name);
  acmeh_vars_set(a->vars, "DOMAINS", name);
  char *hex = acmeh_b64url_encode(pub, 32);
  json_t *st = json_pack("{s:s,s:s}", "name", name, "pub", hex ? hex : "");
  free(hex);
  return st;
}

/* ---- the record's view ------------------------------------------------------ */

typedef struct {
  const char *name;            /* the onion address (borrowed from suite_data) */
  unsigned char pub[32];
  json_t *orders;              /* newOrder payloads' identifiers arrays (owned) */
  json_t *responses;           /* [{"type", "payload", "nonce"}] challenge response POSTs (owned) */
  json_t *finalizes;           /* finalize payloads (owned) */
} onion_view;

static void view_free(onion_view *v) {
  json_decref(v->orders), json_decref(v->responses), json_decref(v->finalizes);
}

static void view_build(const acmeh_client_run *r, onion_view *v) {
  const json_t *st = json_object_get(r->suite_data, "onion");
  v->name = json_string_value(json_object_get(st, "name"));
  unsigned char *raw = NULL;
  size_t n = 0;
  const char *pub = json_string_value(json_object_get(st, "pub"));
  if (pub && acmeh_b64url_decode(pub, strlen(pub), &raw, &n) == ACMEH_OK && n == 32) memcpy(v->pub, raw, 32);
  free(raw);
  v->orders = json_array(), v->responses = json_array(), v->finalizes = json_array();
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    json_t *p = e.payload && *e.payload ? json_loads(e.payload, 0, NULL) : NULL;
    if (p && streq(e.resource, "newOrder")) json_array_append(v->orders, json_object_get(p, "identifiers"));
    if (p && streq(e.resource, "finalize")) json_array_append(v->finalizes, p);
    if (p && streq(e.resource, "challenge")) {
      json_t *resp = acmeh_kit_resp_json(&e);
      json_array_append_new(v->responses, json_pack("{s:s?,s:O,s:s?}", "type", json_string_value(json_object_get(resp, "type")),
                                                    "payload", p, "nonce", json_string_value(json_object_get(resp, "nonce"))));
      json_decref(resp);
    }
    json_decref(p);
  }
}

/* The scenario's record and view; a skip for clients that do not claim RFC 9799. */
static int load(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r, onion_view *v) {
  if (!acmeh_kit_claims(ctx, "onion")) return acmeh_check_skip(ctx, NO_CLIENT " (its target claims no \"onion\")");
  int rc = acmeh_kit_record(ctx, scenario, r);
  if (rc) return rc;
  view_build(*r, v);
  if (!v->name) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "the scenario made no onion service");
  return ACMEH_OK;
}

/* The first onion-csr-01 response's payload (borrowed) and its nonce. */
static const json_t *csr_response(const onion_view *v, const char **nonce) {
  size_t i;
  const json_t *x;
  json_array_foreach(v->responses, i, x) if (streq(json_string_value(json_object_get(x, "type")), TYPE)) {
    if (nonce) *nonce = json_string_value(json_object_get(x, "nonce"));
    return json_object_get(x, "payload");
  }
  return NULL;
}

/* Runs judge on the first onion-csr-01 CSR of scenario "onion-issue". */
typedef int (*csr_judge)(acmeh_check_ctx *ctx, const onion_view *v, const acmeh_onion_csr_info *in, const char *nonce);

static int with_csr(acmeh_check_ctx *ctx, csr_judge judge) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc = load(ctx, "onion-issue", &r, &v);
  const char *nonce = NULL;
  const json_t *p = rc ? NULL : csr_response(&v, &nonce);
  if (rc == ACMEH_OK && !p) rc = acmeh_kit_unreached(ctx, r, "an onion-csr-01 response", "the client never answered onion-csr-01");
  acmeh_onion_csr_info in;
  char why[300];
  const char *csr = json_string_value(json_object_get(p, "csr"));
  if (rc == ACMEH_OK && acmeh_onion_csr_read(csr, &in, why, sizeof why) != ACMEH_OK)
    rc = acmeh_check_fail(ctx, "\"csr\": base64url DER of a PKCS#10 request (RFC 9799 §3.2)", "%s", why);
  if (rc == ACMEH_OK) rc = judge(ctx, &v, &in, nonce);
  view_free(&v);
  return rc;
}

/* ---- the checks ----------------------------------------------------------------- */

static int identifiers(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc = load(ctx, "onion-issue", &r, &v);
  size_t i, j, seen = 0;
  const json_t *ids, *id;
  json_array_foreach(rc ? NULL : v.orders, i, ids) json_array_foreach(ids, j, id) {
    const char *type = json_string_value(json_object_get(id, "type")), *val = json_string_value(json_object_get(id, "value"));
    char why[200] = "", low[300];
    snprintf(low, sizeof low, "%s", val ? val : "");
    for (char *c = low; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    if (!val || !acmeh_onion_is(val) || rc) continue;
    seen++;
    if (!streq(type, "dns") || strcmp(low, val) != 0 || acmeh_onion_parse(val, NULL, why, sizeof why) != ACMEH_OK)
      rc = acmeh_check_fail(ctx, "onion identifiers of type \"dns\" holding the lower-case v3 address (RFC 9799 §2)",
                            "{\"type\": \"%s\", \"value\": \"%.100s\"} %s", type ? type : "?", val, why);
  }
  if (rc == ACMEH_OK && !seen) rc = acmeh_kit_unreached(ctx, r, "a newOrder for the onion address", "no newOrder named a .onion name");
  view_free(&v);
  return rc;
}

static int signed_by_onion_key(acmeh_check_ctx *ctx, const onion_view *v, const acmeh_onion_csr_info *in, const char *nonce) {
  (void)nonce;
  if (!in->has_pub || memcmp(in->pub, v->pub, 32) != 0 || !in->sig_ok)
    return acmeh_check_fail(ctx, "the onion-csr-01 CSR's key (Ed25519, 1.3.101.112) = the onion address's key, signature valid (RFC 9799 §3.2)",
                            "%s", !in->has_pub ? "a key that is not Ed25519" : !in->sig_ok ? "a signature that does not verify" : "another Ed25519 key");
  return ACMEH_OK;
}

static int ca_nonce(acmeh_check_ctx *ctx, const onion_view *v, const acmeh_onion_csr_info *in, const char *nonce) {
  (void)v;
  unsigned char raw[ACMEH_ONION_NONCE_MAX];
  size_t n = 0;
  if (!nonce || acmeh_onion_nonce_decode(nonce, raw, sizeof raw, &n) != ACMEH_OK) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no nonce recorded");
  if (in->ca_len != (int)n || memcmp(in->ca_nonce, raw, n) != 0)
    return acmeh_check_fail(ctx, "caSigningNonce (2.23.140.41) = the challenge nonce's decoded bytes (RFC 9799 §3.2)",
                            "%s (nonce \"%s\")", in->ca_len < 0 ? "no caSigningNonce" : "other bytes", nonce);
  return ACMEH_OK;
}

static int app_nonce(acmeh_check_ctx *ctx, const onion_view *v, const acmeh_onion_csr_info *in, const char *nonce) {
  (void)v, (void)nonce;
  if (in->app_len < ACMEH_ONION_NONCE_MIN)
    return acmeh_check_fail(ctx, "an applicantSigningNonce (2.23.140.42) of >= 8 random bytes (RFC 9799 §3.2)", "%s",
                            in->app_len < 0 ? "none" : in->app_len == 0 ? "0 bytes" : "fewer than 8 bytes");
  acmeh_check_note(ctx, "applicantSigningNonce of %d bytes (one attempt: whether it differs between attempts is not seen)", in->app_len);
  return ACMEH_OK;
}

static int payload_exact(acmeh_check_ctx *ctx, const onion_view *v, const acmeh_onion_csr_info *in, const char *nonce) {
  (void)in, (void)nonce;
  const json_t *p = csr_response(v, NULL);
  const char *csr = json_string_value(json_object_get(p, "csr"));
  if (json_object_size(p) != 1 || !csr || !acmeh_b64url_valid(csr)) {
    char *s = json_dumps(p, JSON_COMPACT);
    int rc = acmeh_check_fail(ctx, "the onion-csr-01 response payload exactly {\"csr\": base64url without padding} (RFC 9799 §3.2)", "%.300s", s ? s : "?");
    free(s);
    return rc;
  }
  return ACMEH_OK;
}

static int c02(acmeh_check_ctx *ctx) { return with_csr(ctx, signed_by_onion_key); }
static int c03(acmeh_check_ctx *ctx) { return with_csr(ctx, ca_nonce); }
static int c04(acmeh_check_ctx *ctx) { return with_csr(ctx, app_nonce); }
static int c06(acmeh_check_ctx *ctx) { return with_csr(ctx, payload_exact); }

/* The first finalize payload of scenario `sc` (owned by v), or the check's end in *rc. */
static const json_t *first_finalize(acmeh_check_ctx *ctx, const char *sc, const acmeh_client_run **r, onion_view *v, int *rc) {
  *rc = load(ctx, sc, r, v);
  const json_t *f = *rc ? NULL : json_array_get(v->finalizes, 0);
  if (*rc == ACMEH_OK && !f) *rc = acmeh_kit_unreached(ctx, *r, "a finalize request", "the client never finalized");
  return f;
}

static int finalize_key(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc;
  const json_t *f = first_finalize(ctx, "onion-issue", &r, &v, &rc);
  acmeh_csr *csr = NULL;
  unsigned char pub[32];
  if (f && acmeh_csr_read(json_string_value(json_object_get(f, "csr")), &csr) == ACMEH_OK &&
      acmeh_onion_pub(acmeh_csr_key(csr), pub) == ACMEH_OK && memcmp(pub, v.pub, 32) == 0)
    rc = acmeh_check_fail(ctx, "a finalize CSR on a key other than the onion identity key (RFC 9799 §3.2)", "the onion key %s", v.name);
  acmeh_csr_free(csr);
  view_free(&v);
  return rc;
}

/* The onionCAA entry for v->name in finalize f, or a failure into *rc. */
static const json_t *caa_of(acmeh_check_ctx *ctx, const onion_view *v, const json_t *f, int *rc) {
  const json_t *all = json_object_get(f, "onionCAA"), *e = json_object_get(all, v->name);
  if (!e) {
    char *s = json_dumps(all, JSON_COMPACT);
    *rc = acmeh_check_fail(ctx, "an onionCAA entry for the onion address in finalize (RFC 9799 §6.4)", "onionCAA %.300s", s ? s : "absent");
    free(s);
  }
  return e;
}

static int caa_entry(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc;
  const json_t *f = first_finalize(ctx, "onion-issue", &r, &v, &rc);
  const json_t *e = rc ? NULL : caa_of(ctx, &v, f, &rc);
  const json_t *caa = json_object_get(e, "caa"), *exp = json_object_get(e, "expiry");
  const char *sig = json_string_value(json_object_get(e, "signature"));
  if (e && (!(json_is_string(caa) || json_is_null(caa)) || !json_is_integer(exp) || !sig))
    rc = acmeh_check_fail(ctx, "onionCAA entry {\"caa\": string or null, \"expiry\": integer, \"signature\": string} (RFC 9799 §6.4)", "%s",
                          !json_is_integer(exp) ? "no integer expiry" : !sig ? "no signature" : "caa neither string nor null");
  long long x = json_is_integer(exp) ? (long long)json_integer_value(exp) : 0;
  if (rc == ACMEH_OK && e && !acmeh_onion_caa_verify(v.pub, x, json_string_value(caa), sig))
    rc = acmeh_check_fail(ctx, "an Ed25519 signature by the onion key over \"onion-caa|<expiry>|<caa>\" (RFC 9799 §6.4)", "a signature that does not verify");
  if (rc == ACMEH_OK && e) acmeh_check_note(ctx, "expiry %lld, %lld s after the finalize (SHOULD be <= 8 h)", x, x - (long long)time(NULL));
  view_free(&v);
  return rc;
}

static int caa_for_flag(acmeh_check_ctx *ctx, const char *scenario) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc;
  const json_t *f = first_finalize(ctx, scenario, &r, &v, &rc);
  if (rc == ACMEH_OK && f) caa_of(ctx, &v, f, &rc);
  view_free(&v);
  return rc;
}

static int flag_both_names(acmeh_check_ctx *ctx) {
  int rc = caa_for_flag(ctx, "onion-flag-inband");
  return rc ? rc : caa_for_flag(ctx, "onion-flag-iana");
}

static int no_dns01(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc = load(ctx, "onion-dns01-offered", &r, &v);
  size_t i, n = 0;
  const json_t *x;
  json_array_foreach(rc ? NULL : v.responses, i, x) {
    n++;
    if (rc == ACMEH_OK && streq(json_string_value(json_object_get(x, "type")), "dns-01"))
      rc = acmeh_check_fail(ctx, "no dns-01 response for a .onion name, though the server offered one (RFC 9799 §3.1.1)", "the client answered dns-01 for %s", v.name);
  }
  if (rc == ACMEH_OK && !n) rc = acmeh_kit_unreached(ctx, r, "a challenge response", "the client answered no challenge");
  view_free(&v);
  return rc;
}

static int caa_exact(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  onion_view v = {0};
  int rc;
  const json_t *f = first_finalize(ctx, "onion-issue", &r, &v, &rc);
  const json_t *e = rc ? NULL : caa_of(ctx, &v, f, &rc);
  const json_t *caa = json_object_get(e, "caa");
  long long x = (long long)json_integer_value(json_object_get(e, "expiry"));
  const char *sig = json_string_value(json_object_get(e, "signature"));
  if (e && !json_is_null(caa))
    rc = acmeh_check_fail(ctx, "\"caa\": null for a service without CAA records (RFC 9799 §6.4)", "\"caa\": %s%.100s%s",
                          json_is_string(caa) ? "\"" : "", json_is_string(caa) ? json_string_value(caa) : "(not a string)", json_is_string(caa) ? "\"" : "");
  if (rc == ACMEH_OK && e && !acmeh_onion_caa_verify(v.pub, x, NULL, sig)) {
    char *wrong = NULL; /* the prefix an early certbot-onion signed */
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v.pub, 32);
    unsigned char *raw = NULL;
    size_t rl = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int old = asprintf(&wrong, "onion-csr|%lld|", x) > 0 && sig && acmeh_b64url_decode(sig, strlen(sig), &raw, &rl) == ACMEH_OK && md &&
              EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 && EVP_DigestVerify(md, raw, rl, (unsigned char *)wrong, strlen(wrong)) == 1;
    rc = acmeh_check_fail(ctx, "the signed text \"onion-caa|<expiry without leading zeros>|\" (RFC 9799 §6.4)", "%s",
                          old ? "a signature over \"onion-csr|...\"" : "a signature over some other text");
    EVP_MD_CTX_free(md), EVP_PKEY_free(k);
    free(wrong), free(raw);
  }
  view_free(&v);
  return rc;
}

const acmeh_check_impl onion_client_checks[] = {
    {"ONION-C-001", identifiers}, {"ONION-C-002", c02},          {"ONION-C-003", c03},
    {"ONION-C-004", c04},         {"ONION-C-005", finalize_key}, {"ONION-C-006", c06},
    {"ONION-C-008", caa_entry},   {"ONION-C-009", flag_both_names}, {"ONION-C-013", no_dns01},
    {"ONION-C-014", caa_exact},   {NULL, NULL}};
