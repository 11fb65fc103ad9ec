/* CORE-S-055, 056, 069..072: certificate download and revocation (RFC 8555 §7.4.2, §7.6, §9.1). */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/cert.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

/* Fails unless the end-entity certificate's SANs are exactly the order's names. */
static int sans_match(acmeh_check_ctx *ctx, X509 *ee, const acmeh_issued *is) {
  char **sans = NULL;
  size_t n = 0;
  acmeh_cert_sans(ee, &sans, &n);
  int ok = n == is->nnames;
  for (size_t i = 0; ok && i < is->nnames; i++) {
    int found = 0;
    for (size_t j = 0; j < n; j++) found |= strcasecmp(sans[j], is->names[i]) == 0;
    ok &= found;
  }
  int rc = ok ? ACMEH_OK
              : acmeh_check_fail(ctx, "the first certificate's SANs equal the order identifiers", "%zu SANs, first %s (ordered %s)", n,
                                 n ? sans[0] : "(none)", is->names[0]);
  acmeh_names_free(sans, n);
  return rc;
}

static int cert_download(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_issued(ctx, &f);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f.c, f.is.cert_url, NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "certificate POST-as-GET");
  char mt[128];
  acmeh_http_media_type(&r, mt, sizeof mt);
  if (rc == ACMEH_OK && strcmp(mt, "application/pem-certificate-chain") != 0)
    rc = acmeh_check_fail(ctx, "Content-Type application/pem-certificate-chain", "\"%s\"", mt);
  STACK_OF(X509) *chain = NULL;
  char why[256];
  if (rc == ACMEH_OK && acmeh_pem_chain_parse(r.body, r.body_len, &chain, why, sizeof why))
    rc = acmeh_check_fail(ctx, "only CERTIFICATE PEM blocks (RFC 7468 strict)", "%s", why);
  if (rc == ACMEH_OK && sk_X509_num(chain) < 1) rc = acmeh_check_fail(ctx, "at least one certificate", "an empty chain");
  if (rc == ACMEH_OK) rc = sans_match(ctx, sk_X509_value(chain, 0), &f.is);
  sk_X509_pop_free(chain, X509_free);
  acmeh_http_resp_free(&r);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* Fetches alternate chain `url` and fails unless it starts with `ee`. */
static int alternate_starts_with(acmeh_check_ctx *ctx, acmeh_acme *c, const char *url, X509 *ee) {
  acmeh_http_resp r = {0};
  STACK_OF(X509) *chain = NULL;
  char why[256];
  int rc = acmeh_kit_post(ctx, c, url, NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "alternate chain POST-as-GET");
  if (rc == ACMEH_OK && acmeh_pem_chain_parse(r.body, r.body_len, &chain, why, sizeof why))
    rc = acmeh_check_fail(ctx, "a PEM certificate chain at the alternate link", "%s", why);
  if (rc == ACMEH_OK && (sk_X509_num(chain) < 1 || X509_cmp(sk_X509_value(chain, 0), ee) != 0))
    rc = acmeh_check_fail(ctx, "every alternate chain starts with the same end-entity certificate", "%s starts with another", url);
  sk_X509_pop_free(chain, X509_free);
  acmeh_http_resp_free(&r);
  return rc;
}

static int cert_alternates(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  STACK_OF(X509) *chain = NULL;
  int rc = acmeh_kit_fixture_issued(ctx, &f);
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f.c, f.is.cert_url, NULL, NULL, &r);
  if (rc == ACMEH_OK && acmeh_pem_chain_parse(r.body, r.body_len, &chain, ctx->err, sizeof ctx->err))
    rc = ACMEH_PEER_PROTOCOL;
  char *alt = rc ? NULL : acmeh_http_link(&r, "alternate", 0);
  if (rc == ACMEH_OK && !alt) rc = acmeh_check_skip(ctx, "server offers no Link rel=\"alternate\" chains");
  for (size_t i = 1; rc == ACMEH_OK && alt; i++) {
    rc = alternate_starts_with(ctx, f.c, alt, sk_X509_value(chain, 0));
    free(alt);
    alt = i < 8 ? acmeh_http_link(&r, "alternate", i) : NULL;
  }
  free(alt);
  sk_X509_pop_free(chain, X509_free);
  acmeh_http_resp_free(&r);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* The issued leaf as base64url DER, malloc'd. */
static char *leaf_b64(const acmeh_issued *is) {
  STACK_OF(X509) *chain = NULL;
  if (!is->chain_pem || acmeh_pem_chain_parse(is->chain_pem, strlen(is->chain_pem), &chain, NULL, 0)) return NULL;
  char *b = sk_X509_num(chain) ? acmeh_cert_b64url_der(sk_X509_value(chain, 0)) : NULL;
  sk_X509_pop_free(chain, X509_free);
  return b;
}

static int revoke(acmeh_check_ctx *ctx, acmeh_acme *c, const char *cert, const char *reason, const acmeh_post_opts *o,
                  acmeh_http_resp *r) {
  char *payload = NULL;
  if (!cert) /* the downloaded chain is no usable certificate chain: CORE-S-055's rule, not this check's */
    return acmeh_kit_step_fault(ctx, "certificate", "a downloaded chain whose first block is the certificate",
                                "the chain the server served could not be read as PEM CERTIFICATE blocks");
  const char *url = acmeh_acme_dir_url(c, "revokeCert");
  if (!url) return acmeh_check_fail(ctx, "a revokeCert URL in the directory", "none");
  if (asprintf(&payload, "{\"certificate\":\"%s\"%s%s}", cert, reason ? ",\"reason\":" : "", reason ? reason : "") < 0)
    return ACMEH_NOMEM;
  int rc = acmeh_kit_post(ctx, c, url, payload, o, r);
  free(payload);
  return rc;
}

static int revoke_by_account(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_issued(ctx, &f);
  char *cert = rc ? NULL : leaf_b64(&f.is);
  if (rc == ACMEH_OK) rc = revoke(ctx, f.c, cert, NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "revokeCert by the issuing account");
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) rc = revoke(ctx, f.c, cert, NULL, NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 400, "alreadyRevoked", "a second revokeCert of the same certificate");
  acmeh_http_resp_free(&r);
  free(cert);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int revoke_by_cert_key(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  acmeh_key *ck = NULL;
  int rc = acmeh_kit_fixture_issued(ctx, &f);
  char *cert = rc ? NULL : leaf_b64(&f.is);
  if (rc == ACMEH_OK && acmeh_key_from_pkey(f.is.cert_key, &ck)) rc = ACMEH_INTERNAL;
  acmeh_post_opts o = {.use_jwk = 1, .key = ck};
  if (rc == ACMEH_OK) rc = revoke(ctx, f.c, cert, "1", &o, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "revokeCert signed by the certificate key (jwk)");
  acmeh_http_resp_free(&r);
  acmeh_key_free(ck);
  free(cert);
  acmeh_kit_fixture_free(&f);
  return rc;
}

static int revoke_by_stranger(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_acme *other = NULL;
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_issued(ctx, &f);
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &other);
  char *cert = rc ? NULL : leaf_b64(&f.is);
  if (rc == ACMEH_OK) rc = revoke(ctx, other, cert, NULL, NULL, &r);
  static const char *const types[] = {"unauthorized", NULL};
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, "revokeCert by an unrelated account");
  acmeh_http_resp_free(&r);
  free(cert);
  acmeh_kit_fixture_free(&f);
  acmeh_acme_free(other);
  return rc;
}

static int revoke_bad_reason(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_fixture_issued(ctx, &f);
  char *cert = rc ? NULL : leaf_b64(&f.is);
  if (rc == ACMEH_OK) rc = revoke(ctx, f.c, cert, "7", NULL, &r); /* 7 is unassigned in RFC 5280 CRLReason */
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 400, "badRevocationReason", "revokeCert with reason 7");
  acmeh_http_resp_free(&r);
  free(cert);
  acmeh_kit_fixture_free(&f);
  return rc;
}

const acmeh_check_impl core_cert_checks[] = {
    {"CORE-S-055", cert_download},      {"CORE-S-056", cert_alternates},    {"CORE-S-069", revoke_by_account},
    {"CORE-S-070", revoke_by_cert_key}, {"CORE-S-071", revoke_by_stranger}, {"CORE-S-072", revoke_bad_reason},
    {NULL, NULL}};
