/* ARI server checks on certID handling (RFC 9773 §4.1): the DER serial with
 * its leading zero, malformed certIDs, unknown serials. The RFC names no status
 * for bad certIDs; these are interop practice (Boulder, Pebble). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/acme/b64.h"
#include "base/error.h"
#include "suites/ari/ari_suite.h"

#define S07_MAX_CERTS 8 /* P(no high-bit serial among 8 random serials) = 1/256 */

/* The certID's serial part starts with the 00 that DER adds before a set top bit. */
static int has_sign_zero(const char *id) {
  unsigned char *aki = NULL, *serial = NULL;
  size_t akilen = 0, slen = 0;
  char err[128];
  int yes = acmeh_ari_cert_id_parse(id, &aki, &akilen, &serial, &slen, err, sizeof err) == 0 && slen > 1 &&
            serial[0] == 0x00;
  free(aki), free(serial);
  return yes;
}

/* Issues up to S07_MAX_CERTS certificates until one has a high-bit serial; *id its certID. */
static int high_bit_cert(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, char **id) {
  int rc = ACMEH_OK;
  for (int i = 0; rc == ACMEH_OK && i < S07_MAX_CERTS; i++) {
    if (i) {
      acmeh_issued_clear(&f->is);
      const char *names[] = {f->name};
      rc = acmeh_flow_issue(f->c, ctx->env->publisher, names, 1, "http-01", &f->is, ctx->err, sizeof ctx->err);
    }
    if (rc == ACMEH_OK) rc = ari_cert_id(ctx, f->is.chain_pem, id);
    if (rc == ACMEH_OK && has_sign_zero(*id)) return ACMEH_OK;
    free(*id), *id = NULL;
  }
  return rc ? rc : acmeh_check_skip(ctx, "none of %d issued certificates has a serial with its top bit set", S07_MAX_CERTS);
}

/* ARI-S07: a certID whose serial keeps DER's leading 00 resolves (§4.1). */
static int s007(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  char *id = NULL;
  acmeh_http_resp r = {0}, r2 = {0};
  int rc = ari_fixture(ctx, &f, &base);
  if (rc == ACMEH_OK) rc = high_bit_cert(ctx, &f, &id);
  if (rc == ACMEH_OK) rc = ari_get(ctx, f.c, base, id, &r);
  double s, e;
  char why[200], d[300];
  acmeh_resp_describe(&r, d, sizeof d);
  if (rc == ACMEH_OK && (r.status != 200 || ari_window(&r, &s, &e, why, sizeof why)))
    rc = acmeh_check_fail(ctx, "200 with a RenewalInfo object for the RFC certID (serial with its leading 00)",
                          "GET renewalInfo/%s answered %s", id, d);
  if (rc == ACMEH_OK) { /* the stripped (non-conformant) form: leniency, recorded only */
    const char *dot = strchr(id, '.');
    char stripped[512];
    unsigned char *aki = NULL, *serial = NULL;
    size_t al, sl;
    acmeh_ari_cert_id_parse(id, &aki, &al, &serial, &sl, why, sizeof why);
    char *enc = serial ? acmeh_b64url_encode(serial + 1, sl - 1) : NULL;
    snprintf(stripped, sizeof stripped, "%.*s.%s", (int)(dot - id), id, enc ? enc : "");
    if (enc && ari_get(ctx, f.c, base, stripped, &r2) == ACMEH_OK)
      acmeh_check_note(ctx, "magnitude-only serial %s (no leading 00, not RFC 9773) answered %ld", stripped, r2.status);
    free(aki), free(serial), free(enc);
  }
  acmeh_http_resp_free(&r), acmeh_http_resp_free(&r2);
  free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Random base64url of n bytes whose first byte is 0x01..0x7f (a positive DER serial). */
static char *random_part(acmeh_check_ctx *ctx, size_t n) {
  unsigned char b[32];
  for (size_t i = 0; i < n && i < sizeof b; i++) b[i] = (unsigned char)acmeh_check_rand(ctx);
  b[0] = (unsigned char)(1 + b[0] % 0x7f);
  return acmeh_b64url_encode(b, n < sizeof b ? n : sizeof b);
}

/* Fails unless r is a 4xx answer to certID `id` (`what` describes it). */
static int expect_4xx(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *what, const char *id) {
  if (r->status >= 400 && r->status < 500) return ACMEH_OK;
  char d[300];
  acmeh_resp_describe(r, d, sizeof d);
  return acmeh_check_fail(ctx, "a 4xx refusal (never 5xx or 2xx) for a malformed certID",
                          "GET renewalInfo/%s (%s) answered %s", id, what, d);
}

/* ARI-S08: malformed certIDs are refused with 4xx (§4.1, practice). */
static int s008(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  char *id = NULL;
  int rc = ari_fixture(ctx, &f, &base);
  if (rc == ACMEH_OK) rc = ari_cert_id(ctx, f.is.chain_pem, &id);
  if (rc) {
    acmeh_kit_fixture_free(&f);
    return rc;
  }
  const char *dot = strchr(id, '.');
  char *fake_aki = random_part(ctx, 20);
  char cases[4][600];
  static const char *const what[] = {"no \".\" separator", "'=' padding on both parts", "characters outside base64url",
                                     "an AKI of no issuer of this CA"};
  snprintf(cases[0], sizeof cases[0], "%.*s", (int)(dot - id), id);
  snprintf(cases[1], sizeof cases[1], "%.*s=.%s=", (int)(dot - id), id, dot + 1);
  snprintf(cases[2], sizeof cases[2], "%.*s!*.%s~$", (int)(dot - id), id, dot + 1);
  snprintf(cases[3], sizeof cases[3], "%s%s", fake_aki ? fake_aki : "AAAA", dot);
  for (int i = 0; rc == ACMEH_OK && i < 4; i++) {
    acmeh_http_resp r = {0};
    rc = ari_get(ctx, f.c, base, cases[i], &r);
    if (rc == ACMEH_OK) rc = expect_4xx(ctx, &r, what[i], cases[i]);
    acmeh_http_resp_free(&r);
  }
  free(fake_aki), free(id);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* ARI-S09: a known AKI with a serial this CA never issued answers 404. */
static int s009(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  const char *base = NULL;
  char *id = NULL, *serial = NULL, unknown[600];
  acmeh_http_resp r = {0};
  int rc = ari_fixture(ctx, &f, &base);
  if (rc == ACMEH_OK) rc = ari_cert_id(ctx, f.is.chain_pem, &id);
  if (rc == ACMEH_OK) {
    serial = random_part(ctx, 16);
    snprintf(unknown, sizeof unknown, "%.*s.%s", (int)(strchr(id, '.') - id), id, serial ? serial : "AQ");
    rc = ari_get(ctx, f.c, base, unknown, &r);
  }
  if (rc == ACMEH_OK && r.status != 404) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_check_fail(ctx, "404 for a serial this CA never issued", "GET renewalInfo/%s answered %s", unknown, d);
  }
  acmeh_http_resp_free(&r);
  free(id), free(serial);
  acmeh_kit_fixture_free(&f);
  return rc;
}

const acmeh_check_impl ari_certid_checks[] = {
    {"ARI-S-007", s007}, {"ARI-S-008", s008}, {"ARI-S-009", s009}, {NULL, NULL}};
