/* Shared helpers of the core (RFC 8555) server suite. */
#ifndef ACMEH_SUITES_CORE_H
#define ACMEH_SUITES_CORE_H

#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "harness/runner/check.h"

/* A reference client bound to the check's transcript and deadline, with the
 * directory fetched. Returns ACMEH_OK or the failure (err in ctx->err). */
int core_client(acmeh_check_ctx *ctx, acmeh_acme **c);

/* core_client plus a fresh ES256 account. */
int core_account(acmeh_check_ctx *ctx, acmeh_acme **c);

/* core_account plus an order for one fresh name; *order_url / *order owned by caller. */
int core_order(acmeh_check_ctx *ctx, acmeh_acme **c, char *name, size_t namelen, char **order_url,
               json_t **order);

/* Fails the check unless r is an error with HTTP status `status` (0 = any 4xx)
 * and problem type `type` (suffix after the ACME prefix; NULL = any). `what`
 * names the request in the message. Returns ACMEH_OK or ACMEH_PEER_PROTOCOL. */
int core_expect_problem(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *type,
                        const char *what);

/* Fails unless r was refused (4xx) in one of the accepted problem types (a
 * NULL-terminated list; NULL = any type). */
int core_expect_refused(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *const *types,
                        const char *what);

/* Fails unless r has status `status`. */
int core_expect_status(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *what);

/* A signed POST of `payload` (NULL = POST-as-GET) to url, mutated by o (may be NULL). */
int core_post(acmeh_check_ctx *ctx, acmeh_acme *c, const char *url, const char *payload,
              const acmeh_post_opts *o, acmeh_http_resp *r);

/* The first authorization URL of an order (borrowed), NULL when none. */
const char *core_first_authz(const json_t *order);

/* What most checks start from: a client with a fresh account and one fresh
 * name, then an order and its first authorization, or a ready or issued
 * order. Zero-initialise, set up with one of the functions below, and always
 * release with core_fixture_free (also after a failed set-up). */
typedef struct {
  acmeh_acme *c;
  char name[256];
  char *authz_url; /* first authorization of the order (owned) */
  json_t *authz;   /* that authorization as first fetched (owned) */
  acmeh_issued is; /* order URL, order, and after issuance chain and key */
} core_fixture;

/* Account, order for f->name, first authorization fetched. Returns ACMEH_OK or the failure. */
int core_fixture_authz(acmeh_check_ctx *ctx, core_fixture *f);

/* Account and an order for f->name made ready through http-01. */
int core_fixture_ready(acmeh_check_ctx *ctx, core_fixture *f);

/* Account and a certificate issued for f->name through http-01. */
int core_fixture_issued(acmeh_check_ctx *ctx, core_fixture *f);

void core_fixture_free(core_fixture *f);

#endif
