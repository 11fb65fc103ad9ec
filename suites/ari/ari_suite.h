/* Shared helpers of the ARI (RFC 9773) and ACME profiles
 * (draft-ietf-acme-profiles) server suites: the renewalInfo resource, newOrder
 * payloads with one extension member (replaces, profile), and completing such
 * an order. Built on the core suite's helpers (suites/core/core.h). */
#ifndef ACMEH_SUITES_ARI_H
#define ACMEH_SUITES_ARI_H

#include "suites/core/core.h"

/* The directory's top-level renewalInfo URL (borrowed from c), NULL when absent
 * or not a string (RFC 9773 §3). */
const char *ari_base(const acmeh_acme *c);

/* A client with a fresh account and a certificate issued for a fresh name
 * (f->name) through http-01, into f (zero-initialised; always release with
 * core_fixture_free). Skips first, before any issuance, when the directory has
 * no renewalInfo ("server does not advertise renewalInfo"). *base receives the
 * renewalInfo URL (borrowed from f->c). Returns ACMEH_OK, or the skip/failure. */
int ari_fixture(acmeh_check_ctx *ctx, core_fixture *f, const char **base);

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

/* newOrder for the DNS `names` with one extra top-level string member
 * (`member`: `value`; member NULL = none), response in *r (free with
 * acmeh_http_resp_free). Returns ACMEH_OK for any complete response. */
int ext_new_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n, const char *member,
                  const char *value, acmeh_http_resp *r);

/* ext_new_order that must answer 201 with Location and an order object: fills
 * out->order_url, out->order and out->names. Any other answer fails the check
 * with `what` naming the request. Returns ACMEH_OK or the failure. */
int ext_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n, const char *member,
              const char *value, const char *what, acmeh_issued *out);

/* Authorizes every authorization of out->order through http-01 and waits
 * until the order leaves "pending" (out->order updated; it should be "ready").
 * Returns ACMEH_OK or the failure (reason in ctx->err). */
int ext_ready(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out);

/* A CSR (base64url DER, malloc'd into *csr) for out->names with a fresh P-256
 * key, which replaces out->cert_key. Returns ACMEH_OK or ACMEH_INTERNAL. */
int ext_csr(acmeh_check_ctx *ctx, acmeh_issued *out, char **csr);

/* ext_ready, then finalize with ext_csr's CSR, poll to "valid" and download
 * the chain into out. Returns ACMEH_OK or the failure (reason in ctx->err). */
int ext_complete(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out);

/* Fails unless `got` (an order object) has a string member `member` equal to
 * `want`; `when` says which response it was. Returns ACMEH_OK or the failure. */
int ext_expect_member(acmeh_check_ctx *ctx, const json_t *got, const char *member, const char *want,
                      const char *when);

#endif
