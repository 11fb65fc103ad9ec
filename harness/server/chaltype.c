/* The challenge types the reference server offers and validates (internal.h,
 * srv_chaltype_row). The rows' order is the order authorizations list them:
 * dns-account-01 comes last so clients that pick the first type they know
 * are not steered to it. */
#include "harness/server/internal.h"

/* .onion names (RFC 9799): the rows' last field says which types reach them;
 * srv_onion_offers (onion.c) applies it with the server's onion mode. */
static int dnsaccount01_enabled(const acmeh_server *s) { return s->dnsacct != DNSACCT_OFF; }
static int devattest01_enabled(const acmeh_server *s) { return s->devattest != NULL; }

static const srv_chaltype_row rows[CHAL_COUNT] = {
    /* RFC 8738 §7: http-01 and tls-alpn-01 for ip identifiers, never a DNS method */
    [CHAL_HTTP01] = {"http-01", 1, 1, 0, NULL, NULL, srv_validate_http01},
    [CHAL_DNS01] = {"dns-01", 1, 0, 1, NULL, NULL, srv_validate_dns01},
    [CHAL_TLSALPN01] = {"tls-alpn-01", 1, 1, 0, NULL, NULL, srv_validate_tlsalpn01},
    /* a DNS method for dns identifiers (the draft's IANA entry), so with dns-01, wildcards included */
    [CHAL_DNSACCT01] = {"dns-account-01", 1, 0, 1, dnsaccount01_enabled, srv_dnsaccount01_inputs,
                        srv_validate_dnsaccount01},
    /* draft-ietf-acme-dns-persist (every revision to -02): dns identifiers, wildcards included */
    [CHAL_PERSIST01] = {"dns-persist-01", 1, 0, 1, srv_persist01_enabled, srv_persist01_inputs, srv_validate_persist01},
    /* RFC 9447 §6.1 (TNAuthList), jwtclaimcon (JWTClaimConstraints): for token identifiers only */
    [CHAL_TKAUTH01] = {"tkauth-01", 0, 0, 0, NULL, srv_tkauth01_inputs, srv_validate_tkauth01, .for_atc = 1},
    /* draft-geng-acme-public-key: for the key identifiers only */
    [CHAL_PK01] = {"pk-01", 0, 0, 0, srv_pk01_enabled, srv_pk01_inputs, srv_validate_pk01, .for_key = 1},
    /* RFC 9891 §3: only for bundleEID identifiers, when the server has a bundle node */
    [CHAL_BPNODEID00] = {"bp-nodeid-00", 0, 0, 0, srv_bpnodeid00_enabled, srv_bpnodeid00_inputs, srv_validate_bpnodeid00, .for_eid = 1},
    /* draft-ietf-acme-device-attest §5: for permanent-identifier and hardware-module identifiers only */
    [CHAL_DEVATTEST01] = {"device-attest-01", 0, 0, 0, devattest01_enabled, srv_devattest01_inputs,
                          srv_validate_devattest01, .for_devid = 1},
    /* RFC 9799 §3.2: .onion names only, wildcards included (the CA/B CSR method) */
    [CHAL_ONIONCSR01] = {"onion-csr-01", 1, 0, 1, NULL, srv_onioncsr01_inputs, srv_validate_onioncsr01, .onion = 2},
};

const srv_chaltype_row *srv_chaltype(srv_chal_type t) { return &rows[t]; }
