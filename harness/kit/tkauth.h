/* Check-writing kit for tkauth-01 (RFC 9447, RFC 9448, jwtclaimcon): an
 * account and an order for token identifiers, a token from the run's token
 * authority (optionally under one of the mock's faults), the response, and
 * the end of the challenge; finalize with a CSR carrying the extensions.
 * Shared by suites/tkauth and suites/jwtclaimcon. */
#ifndef ACMEH_KIT_TKAUTH_H
#define ACMEH_KIT_TKAUTH_H

#include <jansson.h>

#include "harness/client/flow.h"
#include "harness/client/http.h"
#include "harness/client/tkauth.h"
#include "harness/runner/check.h"

typedef struct {
  acmeh_acme *c;
  json_t *ids;        /* the identifiers ordered (owned) */
  char *order_url;
  json_t *order;      /* as created (owned) */
  json_t *final;      /* an authorization after its response (owned) */
  long answer_status; /* HTTP status of the last response POST */
  char *token;        /* the last token sent (owned), NULL with a payload */
  acmeh_issued is;    /* after acmeh_kit_tk_issue */
} acmeh_kit_tk;

/* Skips (ACMEH_UNSUPPORTED) unless the run has a token authority and the
 * server offers tkauth-01 (claims "challenges" when the target has claims). */
int acmeh_kit_tk_usable(acmeh_check_ctx *ctx);

/* A fresh account and an order for `ids` (JSON array of {type, value},
 * borrowed). A server refusing the type with unsupportedIdentifier is a
 * skip, unless the target claims tkauth-01. */
int acmeh_kit_tk_order(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const json_t *ids);

/* The order's i-th authorization URL (borrowed), NULL when none. */
const char *acmeh_kit_tk_authz(const acmeh_kit_tk *t, size_t i);

/* Answers authorization i with a token for identifier `for_id` (index into
 * ids) obtained under the mock's `fault` (NULL = none; a skip without the
 * mock's management API), ca as asked; or with `payload` verbatim when not
 * NULL. Leaves the authorization in t->final. */
int acmeh_kit_tk_answer(acmeh_check_ctx *ctx, acmeh_kit_tk *t, size_t i, size_t for_id, const char *fault, int ca,
                        const char *payload);

/* The tkauth-01 challenge status in t->final ("(missing)" when none). */
const char *acmeh_kit_tk_status(const acmeh_kit_tk *t);

/* Fails unless the tkauth-01 challenge ended "invalid" (RFC 9448 §6: any
 * failed step MUST make it invalid); `when` names the token. */
int acmeh_kit_tk_expect_invalid(acmeh_check_ctx *ctx, const acmeh_kit_tk *t, const char *when);

/* The challenge ended "valid", or a failure saying so (a set-up that the
 * check needs). */
int acmeh_kit_tk_expect_valid(acmeh_check_ctx *ctx, const acmeh_kit_tk *t, const char *when);

/* POSTs finalize with a CSR for a fresh P-256 key carrying `ids`'s
 * extensions (acmeh_tkauth_csr; ca, extra extension) and answers in *r. */
int acmeh_kit_tk_finalize_raw(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const json_t *ids, int ca, const char *extra_oid,
                              const char *extra_hex, acmeh_http_resp *r);

/* Finalizes with the order's own extensions and downloads into t->is. */
int acmeh_kit_tk_issue(acmeh_check_ctx *ctx, acmeh_kit_tk *t);

/* RFC 8555 §7.4 with token identifiers (RFC 9448 §3): a finalize whose CSR
 * carries `wrong`'s extensions is refused (`refused_what` names that
 * finalize in the failure), then the order's own CSR gives a certificate whose
 * extension is exactly the authorized DER (`expected` names it). t holds a
 * valid order. Returns ACMEH_OK or the failure stated. */
int acmeh_kit_tk_extension_held(acmeh_check_ctx *ctx, acmeh_kit_tk *t, const json_t *wrong, const char *refused_what,
                                const char *expected);

void acmeh_kit_tk_free(acmeh_kit_tk *t);

/* A JSON array of one identifier {type, value}; new reference. */
json_t *acmeh_kit_tk_ids(const char *type, const char *value);

#endif
