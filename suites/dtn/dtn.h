/* The dtn suite (RFC 9891, bp-nodeid-00): what its files share. */
#ifndef ACMEH_SUITES_DTN_H
#define ACMEH_SUITES_DTN_H

#include <stddef.h>

#define DTN_NOT_IMPLEMENTED "server does not implement bp-nodeid-00"
#define DTN_CLIENT_NOT_IMPLEMENTED "client does not implement bp-nodeid-00"
#define DTN_STEP_ORDER "bundleEID newOrder" /* judged by DTN-S-001 */

/* A fresh Node ID "dtn://n<12 hex>/" into out (n bytes). */
void dtn_fresh_eid(char *out, size_t n);

#endif
