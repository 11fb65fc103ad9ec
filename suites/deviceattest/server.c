/* DA-S-001..010: a server under test offering device-attest-01 and the
 * permanent-identifier / hardware-module identifiers
 * (draft-ietf-acme-device-attest). The harness plays the device: its packed
 * attestations chain to the mocks' test root
 * (vectors/deviceattest/attestation-root.pem), which the server under test
 * must trust. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/deviceattest/deviceattest.h"

/* newOrder for one bad value must be refused as malformed (at the top or as
 * the identifier's subproblem, RFC 8555 §6.7.1). */
static int refused_malformed(acmeh_check_ctx *ctx, acmeh_acme *c, const char *type, const char *value) {
  acmeh_http_resp r = {0};
  int rc = da_new_order_raw(ctx, c, type, value, &r);
  json_t *p = rc ? NULL : acmeh_resp_json(&r);
  const char *t = json_string_value(json_object_get(p, "type"));
  if (rc == ACMEH_OK && r.status >= 400 && t && strstr(t, "unsupportedIdentifier"))
    rc = acmeh_check_skip(ctx, "server does not support %s identifiers (unsupportedIdentifier)", type);
  int malformed = t && strcmp(t, "urn:ietf:params:acme:error:malformed") == 0;
  size_t i;
  json_t *sp;
  json_array_foreach(json_object_get(p, "subproblems"), i, sp) {
    const char *st = json_string_value(json_object_get(sp, "type"));
    malformed |= st && strcmp(st, "urn:ietf:params:acme:error:malformed") == 0;
  }
  if (rc == ACMEH_OK && (r.status < 400 || !malformed)) {
    char exp[200];
    snprintf(exp, sizeof exp, "newOrder for %s \"%s\" refused as malformed", type, value);
    rc = acmeh_check_fail(ctx, exp, "HTTP %ld %s", r.status, t ? t : "(no problem type)");
  }
  json_decref(p);
  acmeh_http_resp_free(&r);
  return rc;
}

/* Only a server that takes a conforming value of `type` can be judged on the bad ones. */
static int takes(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_devid_type t) {
  char good[160];
  acmeh_http_resp r = {0};
  da_value(ctx, t, good, sizeof good);
  int rc = da_new_order_raw(ctx, c, acmeh_devid_type_name(t), good, &r);
  if (rc == ACMEH_OK && r.status != 201) rc = da_refused(ctx, &r, acmeh_devid_type_name(t));
  acmeh_http_resp_free(&r);
  return rc;
}

static int permanent_abnf(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = takes(ctx, c, ACMEH_DEVID_PERMANENT);
  static const char *const bad[] = {"A/B/1.2", "ABC/1.02", "ABC/"};
  for (size_t i = 0; rc == ACMEH_OK && i < 3; i++) rc = refused_malformed(ctx, c, "permanent-identifier", bad[i]);
  acmeh_acme_free(c);
  return rc;
}

static int hwmodule_abnf(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = takes(ctx, c, ACMEH_DEVID_HWMODULE);
  if (rc == ACMEH_OK) rc = refused_malformed(ctx, c, "hardware-module", "ABCD");
  acmeh_acme_free(c);
  return rc;
}

static int token_ok(acmeh_check_ctx *ctx) {
  da_fx f = {0};
  int rc = da_setup(ctx, &f, ACMEH_DEVID_PERMANENT);
  const char *tok = rc ? NULL : json_string_value(json_object_get(f.ch, "token"));
  regex_t re;
  regcomp(&re, "^[A-Za-z0-9_-]{22,}$", REG_EXTENDED | REG_NOSUB);
  if (rc == ACMEH_OK && (!tok || regexec(&re, tok, 0, NULL, 0) != 0))
    rc = acmeh_check_fail(ctx, "a token of >= 22 base64url characters (128 bits), no '='", "token \"%s\"", tok ? tok : "(none)");
  regfree(&re);
  da_free(&f);
  return rc;
}

/* One response on a fresh order, which must end badAttestationStatement. */
static int one_bad(acmeh_check_ctx *ctx, acmeh_devid_type t, const char *payload_fmt, const char *tbs, const char *attested,
                   acmeh_att_fault fault, const char *why) {
  da_fx f = {0};
  json_t *ch = NULL;
  int rc = da_setup(ctx, &f, t);
  char *att = rc ? NULL : da_attobj(ctx, &f, tbs, attested, fault), *payload = NULL;
  if (rc == ACMEH_OK && (!att || asprintf(&payload, payload_fmt, att) < 0)) rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no attestation");
  if (rc == ACMEH_OK) rc = da_respond(ctx, &f, payload, &ch);
  if (rc == ACMEH_OK) rc = da_expect_bad(ctx, ch, why);
  free(att), free(payload);
  json_decref(ch);
  da_free(&f);
  return rc;
}

static int bad_statement(acmeh_check_ctx *ctx) {
  int rc = one_bad(ctx, ACMEH_DEVID_PERMANENT, "{\"notAttObj\":\"%s\"}", NULL, NULL, ACMEH_ATT_OK, "the response has no attObj");
  if (rc == ACMEH_OK)
    rc = one_bad(ctx, ACMEH_DEVID_PERMANENT, "{\"attObj\":\"%s\"}", NULL, NULL, ACMEH_ATT_MALFORMED, "attObj is truncated CBOR");
  if (rc == ACMEH_OK)
    rc = one_bad(ctx, ACMEH_DEVID_PERMANENT, "{\"attObj\":\"%s\"}", NULL, NULL, ACMEH_ATT_UNKNOWN_FMT, "fmt is \"x-acmeh-unknown\"");
  return rc;
}

static int bound_to_keyauth(acmeh_check_ctx *ctx) {
  da_fx f = {0};
  int rc = da_setup(ctx, &f, ACMEH_DEVID_PERMANENT);
  if (rc == ACMEH_OK) rc = da_ready(ctx, &f);
  da_free(&f);
  if (rc == ACMEH_OK) /* the thumbprint of RFC 7638's example key: no account of this run */
    rc = one_bad(ctx, ACMEH_DEVID_PERMANENT, "{\"attObj\":\"%s\"}", "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                 NULL, ACMEH_ATT_OK, "the attestation signs another key authorization");
  if (rc == ACMEH_OK)
    rc = one_bad(ctx, ACMEH_DEVID_PERMANENT, "{\"attObj\":\"%s\"}", NULL, NULL, ACMEH_ATT_BAD_SIG, "the signature is over other bytes");
  return rc;
}

static int identifier_match(acmeh_check_ctx *ctx) {
  acmeh_devid_type t = da_rev(ctx) == 1 ? ACMEH_DEVID_PERMANENT : ACMEH_DEVID_HWMODULE;
  char other[160];
  da_value(ctx, t, other, sizeof other);
  return one_bad(ctx, t, "{\"attObj\":\"%s\"}", NULL, other, ACMEH_ATT_OK, "the attestation names another device");
}

static int extra_fields(acmeh_check_ctx *ctx) {
  da_fx f = {0};
  json_t *ch = NULL;
  int rc = da_setup(ctx, &f, ACMEH_DEVID_PERMANENT);
  char *att = rc ? NULL : da_attobj(ctx, &f, NULL, NULL, ACMEH_ATT_OK), *payload = NULL;
  if (rc == ACMEH_OK && (!att || asprintf(&payload, "{\"attObj\":\"%s\",\"foo\":1}", att) < 0)) rc = ACMEH_NOMEM;
  if (rc == ACMEH_OK) rc = da_respond(ctx, &f, payload, &ch);
  const char *st = json_string_value(json_object_get(ch, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, "valid") != 0)) {
    char *e = json_dumps(json_object_get(ch, "error"), JSON_COMPACT);
    rc = acmeh_check_fail(ctx, "the challenge valid with {\"attObj\": ..., \"foo\": 1} (unknown fields ignored)", "challenge \"%s\", error %.300s",
                          st ? st : "?", e ? e : "none");
    free(e);
  }
  free(att), free(payload);
  json_decref(ch);
  da_free(&f);
  return rc;
}

/* Ready order, then one finalize judged by `accept`. */
static int finalize_case(acmeh_check_ctx *ctx, int other_key, int with_san, const char *other_san, int accept, const char *what) {
  da_fx f = {0};
  acmeh_http_resp r = {0};
  EVP_PKEY *k2 = NULL;
  int rc = da_setup(ctx, &f, ACMEH_DEVID_PERMANENT);
  if (rc == ACMEH_OK) rc = da_ready(ctx, &f);
  if (rc == ACMEH_OK && other_key && !(k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"))) rc = ACMEH_INTERNAL;
  if (rc == ACMEH_OK) rc = da_finalize(ctx, &f, k2 ? k2 : f.dev, with_san ? (other_san ? other_san : f.value) : NULL, &r);
  if (rc == ACMEH_OK && accept) rc = acmeh_kit_expect_status(ctx, &r, 200, what);
  if (rc == ACMEH_OK && !accept) rc = acmeh_kit_expect_problem(ctx, &r, 0, NULL, what);
  acmeh_http_resp_free(&r);
  EVP_PKEY_free(k2);
  da_free(&f);
  return rc;
}

static int csr_other_identifier(acmeh_check_ctx *ctx) {
  char other[160];
  da_value(ctx, ACMEH_DEVID_PERMANENT, other, sizeof other);
  return finalize_case(ctx, 0, 1, other, 0, "finalize with a CSR naming another permanent-identifier refused");
}
static int csr_privacy(acmeh_check_ctx *ctx) {
  return finalize_case(ctx, 0, 0, NULL, 1, "finalize with a CSR without the device identifier (privacy mode) accepted");
}
static int csr_other_key(acmeh_check_ctx *ctx) {
  return finalize_case(ctx, 1, 1, NULL, 0, "finalize with a CSR for another key than the attested one refused");
}

const acmeh_check_impl deviceattest_server_checks[] = {
    {"DA-S-001", permanent_abnf},   {"DA-S-002", hwmodule_abnf},    {"DA-S-003", token_ok},
    {"DA-S-004", bad_statement},    {"DA-S-005", bound_to_keyauth}, {"DA-S-006", identifier_match},
    {"DA-S-007", extra_fields},     {"DA-S-008", csr_other_identifier}, {"DA-S-009", csr_privacy},
    {"DA-S-010", csr_other_key},    {NULL, NULL}};
