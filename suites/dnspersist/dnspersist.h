/* Shared helpers of the dns-persist-01 suite (draft-ietf-acme-dns-persist). */
#ifndef ACMEH_SUITES_DNSPERSIST_H
#define ACMEH_SUITES_DNSPERSIST_H

#include "harness/acme/persist.h"
#include "harness/runner/check.h"

/* The skip reason every server check gives when the server under test lists
 * no dns-persist-01 challenge. */
#define DNSPERSIST_NOT_OFFERED "server does not offer dns-persist-01"

/* The revision's wire format under test (--draft: ctx->env->wire, set by the
 * suite's wire hook in suite.c). */
acmeh_persist_rev dnspersist_rev(const acmeh_check_ctx *ctx);

/* "-00", "-01" or "-02": the wire format's name in messages. */
const char *dnspersist_rev_name(acmeh_persist_rev rev);

#endif
