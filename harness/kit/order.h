/* Check-writing kit: orders that carry one extension member in newOrder
 * (RFC 9773 "replaces", draft-ietf-acme-profiles "profile", and whatever
 * later specs add), taken step by step so a check can look at each answer. */
#ifndef ACMEH_KIT_ORDER_H
#define ACMEH_KIT_ORDER_H

#include <jansson.h>
#include <stddef.h>

#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "harness/runner/check.h"

/* newOrder (RFC 8555 §7.4) for the DNS `names` (n of them) with one extra
 * top-level string member (`member`: `value`; member NULL = none), answer in
 * *r (free with acmeh_http_resp_free). Returns ACMEH_OK for any complete
 * response; fails the check when the directory has no newOrder. */
int acmeh_kit_ext_new_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n,
                            const char *member, const char *value, acmeh_http_resp *r);

/* acmeh_kit_ext_new_order that must answer 201 with Location and an order
 * object: fills out->order_url, out->order and out->names. Any other answer
 * fails the check with `what` naming the request. */
int acmeh_kit_ext_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *const *names, size_t n,
                        const char *member, const char *value, const char *what, acmeh_issued *out);

/* Authorizes every authorization of out->order through http-01 and waits
 * until the order leaves "pending" (out->order updated; it should be "ready").
 * Returns ACMEH_OK or the failure (reason in ctx->err). */
int acmeh_kit_ext_ready(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out);

/* A CSR (base64url DER, malloc'd into *csr) for out->names with a fresh P-256
 * key, which replaces out->cert_key. Returns ACMEH_OK or ACMEH_INTERNAL. */
int acmeh_kit_ext_csr(acmeh_check_ctx *ctx, acmeh_issued *out, char **csr);

/* acmeh_kit_ext_ready, then finalize (§7.4) with acmeh_kit_ext_csr's CSR,
 * poll to "valid" and download the chain into out. Returns ACMEH_OK or the
 * failure (reason in ctx->err). */
int acmeh_kit_ext_complete(acmeh_check_ctx *ctx, acmeh_acme *c, acmeh_issued *out);

#endif
