/* Shared helpers of the dns-account-01 suite (draft-ietf-acme-dns-account-label). */
#ifndef ACMEH_SUITES_DNSACCOUNT_H
#define ACMEH_SUITES_DNSACCOUNT_H

#include "harness/runner/check.h"

/* The skip reason every check gives when the server under test lists no
 * dns-account-01 challenge. */
#define DNSACCOUNT_NOT_OFFERED "server does not offer dns-account-01"

/* The validation name of account `url` for `identifier` ("*.<base>" for a
 * wildcard authorization) in the revision under test (--draft: ctx->env->wire,
 * set by this suite's wire hook in suite.c). malloc'd; NULL when none fits. */
char *dnsaccount_name(const acmeh_check_ctx *ctx, const char *url, const char *identifier);

#endif
