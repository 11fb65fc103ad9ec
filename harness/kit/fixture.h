/* Check-writing kit: the reference client set up for a server check, and the
 * account, order and certificate most server checks start from. Every suite
 * that puts a server under test builds on these (docs/architecture.md). */
#ifndef ACMEH_KIT_FIXTURE_H
#define ACMEH_KIT_FIXTURE_H

#include <jansson.h>
#include <stddef.h>

#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "harness/runner/check.h"

/* A reference client bound to the check's transcript and deadline, with the
 * directory fetched, into *c (free with acmeh_acme_free). Returns ACMEH_OK or
 * the failure (reason in ctx->err). */
int acmeh_kit_client(acmeh_check_ctx *ctx, acmeh_acme **c);

/* acmeh_kit_client plus a fresh ES256 account (RFC 8555 §7.3). */
int acmeh_kit_account(acmeh_check_ctx *ctx, acmeh_acme **c);

/* acmeh_kit_account plus an order (§7.4) for one fresh name, written into
 * name (namelen bytes); *order_url and *order are owned by the caller. */
int acmeh_kit_order(acmeh_check_ctx *ctx, acmeh_acme **c, char *name, size_t namelen, char **order_url,
                    json_t **order);

/* A signed POST of `payload` (NULL = POST-as-GET, §6.3) to url, mutated by o
 * (may be NULL), answer in *r (free with acmeh_http_resp_free). Returns
 * ACMEH_OK for any complete response, else the transport error. */
int acmeh_kit_post(acmeh_check_ctx *ctx, acmeh_acme *c, const char *url, const char *payload,
                   const acmeh_post_opts *o, acmeh_http_resp *r);

/* The first authorization URL of an order (borrowed), NULL when none. */
const char *acmeh_kit_first_authz(const json_t *order);

/* What most checks start from: a client with a fresh account and one fresh
 * name, then an order and its first authorization, or a ready or issued
 * order. Zero-initialise, set up with one of the functions below, and always
 * release with acmeh_kit_fixture_free (also after a failed set-up). */
typedef struct {
  acmeh_acme *c;
  char name[256];
  char *authz_url; /* first authorization of the order (owned) */
  json_t *authz;   /* that authorization as first fetched (owned) */
  acmeh_issued is; /* order URL, order, and after issuance chain and key */
} acmeh_kit_fixture;

/* Account, order for f->name, first authorization fetched. Returns ACMEH_OK or the failure. */
int acmeh_kit_fixture_authz(acmeh_check_ctx *ctx, acmeh_kit_fixture *f);

/* Account and an order for f->name made ready through http-01. */
int acmeh_kit_fixture_ready(acmeh_check_ctx *ctx, acmeh_kit_fixture *f);

/* Account and a certificate issued for f->name through http-01. */
int acmeh_kit_fixture_issued(acmeh_check_ctx *ctx, acmeh_kit_fixture *f);

/* Attribution (docs/architecture.md, "Verdicts"): a check that finds a
 * set-up step broken which another check judges (the suites' step_judges,
 * runner/suite.h) is blocked, not failed. acmeh_kit_attribute turns a peer
 * failure rc that came from the reference client's last flow step
 * (ctx->failed_step) into ACMEH_STEP_BLOCKED naming the judge, unless this
 * check judges that step; other codes pass through. Call it before stating a
 * failure of your own about a flow that failed. */
int acmeh_kit_attribute(acmeh_check_ctx *ctx, int rc);

/* acmeh_kit_attribute for a check whose own rule is step `own` (e.g. an
 * EdDSA newAccount check: "newAccount"): a failure of that step stays its own. */
int acmeh_kit_attribute_own(acmeh_check_ctx *ctx, int rc, const char *own);

/* A check's own finding that set-up step `step` ("directory", "newOrder", ...)
 * is broken: blocked naming the step's judge, or, when this check is one of
 * them (or no check judges it), acmeh_check_fail(ctx, expected, actual). */
int acmeh_kit_step_fault(acmeh_check_ctx *ctx, const char *step, const char *expected, const char *actual);

/* Releases everything the fixture holds and zeroes it. */
void acmeh_kit_fixture_free(acmeh_kit_fixture *f);

/* The validation requests the run's responders saw for `host`, kind "http",
 * "dns" or "tlsalpn", in acmeh_mocks_history's shape: from the run's
 * publisher when it has its own responders (pebble-challtestsrv, whose http
 * entries carry no "method"), else from the mocks. A new array reference the
 * caller decrefs; NULL when they could not be read. */
json_t *acmeh_kit_history(acmeh_check_ctx *ctx, const char *kind, const char *host);

#endif
