/* Shared pieces of the pk suite (draft-geng-acme-public-key, pk-01). */
#ifndef ACMEH_SUITES_PK_H
#define ACMEH_SUITES_PK_H

#include "harness/runner/check.h"

/* The skip reasons when the target's claims ("challenges") list no pk-01. */
#define PK_SERVER_LACKS "server does not implement pk-01"

/* 1 when the target's claims list "pk-01" among their "challenges". */
int pk_claimed(const acmeh_check_ctx *ctx);

#endif
