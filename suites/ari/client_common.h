/* Helpers of the client-under-test checks of ARI (RFC 9773) and profiles
 * (draft-ietf-acme-profiles): reading a scenario's record (runner/scenario.h)
 * for RenewalInfo fetches, newOrder payloads and certificates. */
#ifndef ACMEH_SUITES_ARI_CLIENT_COMMON_H
#define ACMEH_SUITES_ARI_CLIENT_COMMON_H

#include <jansson.h>

#include "harness/runner/scenario.h"

#define CC_EACH(r, i, x) json_array_foreach((r)->exchanges, i, x)

/* String member k of x (borrowed), NULL when absent. */
const char *cc_field(const json_t *x, const char *k);
long long cc_seq(const json_t *x);
/* 1 when exchange x is `method` to `resource` (NULL = any resource). */
int cc_is(const json_t *x, const char *method, const char *resource);
/* Wall-clock time (s since the epoch) at which exchange x was answered. */
double cc_wall(const acmeh_client_run *r, const json_t *x);

/* The scenario's record; fails the check when the client sent nothing.
 * Returns as acmeh_scenario_get. */
int cc_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r);

/* The directory's renewalInfo URL as the client saw it (borrowed), NULL when absent. */
const char *cc_ari_base(const acmeh_client_run *r);
/* 1 when x addresses the renewalInfo resource. */
int cc_is_ari(const acmeh_client_run *r, const json_t *x);
/* The certID part of an ARI request URL (leading '/'s skipped; borrowed from x). */
const char *cc_ari_id(const acmeh_client_run *r, const json_t *x);
/* Number of ARI requests of the run. */
size_t cc_ari_count(const acmeh_client_run *r);

/* The newOrder payload of x parsed (new reference), NULL when not one. */
json_t *cc_order_payload(const json_t *x);
/* The certIDs of the certificates the client downloaded, in order (new reference: array of strings). */
json_t *cc_issued_ids(const acmeh_client_run *r);

/* 1 when the client fetched RenewalInfo in scenario "ari-window-past" (its
 * renewal run): the client implements ARI, so SHOULD checks apply. */
int cc_client_uses_ari(acmeh_check_ctx *ctx);

/* 1 when the target file's "claims" has `name`: true. */
int cc_claims(const acmeh_check_ctx *ctx, const char *name);
/* 1 when it has `name`: false (the feature is declared absent). */
int cc_disclaims(const acmeh_check_ctx *ctx, const char *name);

#endif
