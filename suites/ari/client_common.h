/* Helpers of the ARI-C checks (RFC 9773): a scenario's RenewalInfo fetches
 * and the certificates the client downloaded, read with the kit
 * (harness/kit/record.h). */
#ifndef ACMEH_SUITES_ARI_CLIENT_COMMON_H
#define ACMEH_SUITES_ARI_CLIENT_COMMON_H

#include <jansson.h>

#include "harness/kit/record.h"

/* The directory's renewalInfo URL as the client saw it (borrowed), NULL when absent. */
const char *ari_rec_base(const acmeh_client_run *r);
/* 1 when exchange e of run r addresses the renewalInfo resource. */
int ari_rec_is_ari(const acmeh_client_run *r, const acmeh_kit_exchange *e);
/* The certID part of an ARI request URL (leading '/'s skipped; borrowed from e's exchange). */
const char *ari_rec_id(const acmeh_client_run *r, const acmeh_kit_exchange *e);
/* Number of ARI requests of the run. */
size_t ari_rec_count(const acmeh_client_run *r);

/* The certIDs of the certificates the client downloaded, in order (new reference: array of strings). */
json_t *ari_rec_issued_ids(const acmeh_client_run *r);

/* 1 when the client fetched RenewalInfo in scenario "ari-window-past" (its
 * renewal run): the client implements ARI, so SHOULD checks apply. */
int ari_rec_client_uses_ari(acmeh_check_ctx *ctx);

#endif
