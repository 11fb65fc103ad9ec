/* Helpers of the ARI (RFC 9773) server checks: the renewalInfo resource and
 * certID. Built on the check-writing kit (harness/kit/kit.h). */
#ifndef ACMEH_SUITES_ARI_H
#define ACMEH_SUITES_ARI_H

#include "harness/kit/kit.h"

/* The directory's top-level renewalInfo URL (borrowed from c), NULL when absent
 * or not a string (RFC 9773 §3). */
const char *ari_base(const acmeh_acme *c);

/* A client with a fresh account and a certificate issued for a fresh name
 * (f->name) through http-01, into f (zero-initialised; always release with
 * acmeh_kit_fixture_free). Skips first, before any issuance, when the directory has
 * no renewalInfo ("server does not advertise renewalInfo"). *base receives the
 * renewalInfo URL (borrowed from f->c). Returns ACMEH_OK, or the skip/failure. */
int ari_fixture(acmeh_check_ctx *ctx, acmeh_kit_fixture *f, const char **base);

/* certID (RFC 9773 §4.1) of the first certificate of a PEM chain, malloc'd
 * into *id. A certificate without Authority Key Identifier fails the check
 * (the RFC assumes RFC 5280 certificates). Returns ACMEH_OK or the failure. */
int ari_cert_id(acmeh_check_ctx *ctx, const char *chain_pem, char **id);

/* Unauthenticated GET {base}/{cert_id} with Accept: application/json (§4.1),
 * into *r (free with acmeh_http_resp_free). Returns ACMEH_OK for any complete
 * response, else the transport error (reason in ctx->err). */
int ari_get(acmeh_check_ctx *ctx, acmeh_acme *c, const char *base, const char *cert_id, acmeh_http_resp *r);

/* Reads suggestedWindow {start, end} of a RenewalInfo response body as Unix
 * seconds (§4.2). Returns 0, or -1 with what is wrong in why (whylen bytes).
 * Does not compare start and end. */
int ari_window(const acmeh_http_resp *r, double *start, double *end, char *why, size_t whylen);

#endif
