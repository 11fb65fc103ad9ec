/* Check-writing kit: expectations on a server's answer. Each fails the check
 * with "expected ...; got <what> answered <status, problem type, detail>"
 * and returns ACMEH_PEER_PROTOCOL, or returns ACMEH_OK when the answer is
 * as expected. `what` names the request in the message ("newOrder"). */
#ifndef ACMEH_KIT_EXPECT_H
#define ACMEH_KIT_EXPECT_H

#include <jansson.h>

#include "harness/client/http.h"
#include "harness/runner/check.h"

/* Fails unless r has HTTP status `status`. */
int acmeh_kit_expect_status(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *what);

/* Fails unless r is an error with HTTP status `status` (0 = any 4xx) and
 * problem type `type` (the part after urn:ietf:params:acme:error:, RFC 8555
 * §6.7; NULL = any). */
int acmeh_kit_expect_problem(acmeh_check_ctx *ctx, const acmeh_http_resp *r, long status, const char *type,
                             const char *what);

/* Fails unless r was refused (4xx) with one of the accepted problem types (a
 * NULL-terminated list; NULL = any type). */
int acmeh_kit_expect_refused(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *const *types,
                             const char *what);

/* Fails unless `got` (an order object) has a string member `member` equal to
 * `want`; `when` says which response it was. */
int acmeh_kit_expect_member(acmeh_check_ctx *ctx, const json_t *got, const char *member, const char *want,
                            const char *when);

#endif
