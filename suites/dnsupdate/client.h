/* DNSUP-C: the client under test publishes its dns-01 record by DNS UPDATE
 * (RFC 2136) signed with TSIG (RFC 8945) to the mock DNS. The scenario runner
 * calls these two around a client run whose scenario has a "dns_update"
 * object; the checks judge the mock's UPDATE journal. */
#ifndef ACMEH_SUITES_DNSUPDATE_CLIENT_H
#define ACMEH_SUITES_DNSUPDATE_CLIENT_H

#include <jansson.h>

#include "harness/runner/suite.h"

/* The suite's scenario hooks (harness/runner/suite.h). When a->def (the
 * scenario) has "dns_update": {"algorithm": "hmac-sha256",
 * "skew_s": n, "policy": [...]} (all optional), makes the mock serve zone
 * a->domain (a leading "*." dropped) and accept one TSIG key scoped to
 * _acme-challenge.<domain> TXT, and sets the client's variables (a->vars)
 * DNS_UPDATE_SERVER (127.0.0.1), DNS_UPDATE_PORT, DNS_UPDATE_ZONE,
 * DNS_UPDATE_KEY_NAME, DNS_UPDATE_KEY_SECRET (base64),
 * DNS_UPDATE_KEY_ALGORITHM. skew_s shifts the mock's clock for that key (a
 * BADTIME fault). Returns NULL without "dns_update", else a state object
 * {"zone", "key", "t0_ms" (wall clock ms now), "setup_error"} for
 * dnsupdate_scenario_end (new reference). Call after the server started. */
json_t *dnsupdate_scenario_begin(const acmeh_scenario_hook_args *a);

/* After the run: removes the key and zone, adds "entries" (the journal of the
 * zone) to state and returns it (reference passed on). NULL state -> NULL. */
json_t *dnsupdate_scenario_end(const acmeh_scenario_hook_args *a, json_t *state);

#endif
