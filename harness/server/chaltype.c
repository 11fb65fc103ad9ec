/* The challenge types the reference server offers and validates (internal.h,
 * srv_chaltype_row). The rows' order is the order authorizations list them:
 * dns-account-01 comes last so clients that pick the first type they know
 * are not steered to it. */
#include "harness/server/internal.h"

/* .onion names (RFC 9799): the rows' last field says which types reach them;
 * srv_onion_offers (onion.c) applies it with the server's onion mode. */
static int dnsaccount01_enabled(const acmeh_server *s) { return s->dnsacct != DNSACCT_OFF; }

static const srv_chaltype_row rows[CHAL_COUNT] = {
    /* RFC 8738 §7: http-01 and tls-alpn-01 for ip identifiers, never a DNS method */
    [CHAL_HTTP01] = {"http-01", 1, 1, 0, NULL, NULL, srv_validate_http01},
    [CHAL_DNS01] = {"dns-01", 1, 0, 1, NULL, NULL, srv_validate_dns01},
    [CHAL_TLSALPN01] = {"tls-alpn-01", 1, 1, 0, NULL, NULL, srv_validate_tlsalpn01},
    /* a DNS method for dns identifiers (the draft's IANA entry), so with dns-01, wildcards included */
    [CHAL_DNSACCT01] = {"dns-account-01", 1, 0, 1, dnsaccount01_enabled, srv_dnsaccount01_inputs,
                        srv_validate_dnsaccount01},
    /* RFC 9799 §3.2: .onion names only, wildcards included (the CA/B CSR method) */
    [CHAL_ONIONCSR01] = {"onion-csr-01", 1, 0, 1, NULL, srv_onioncsr01_inputs, srv_validate_onioncsr01, 2},
};

const srv_chaltype_row *srv_chaltype(srv_chal_type t) { return &rows[t]; }
