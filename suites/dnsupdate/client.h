/* DNSUP-C: the client under test publishes its dns-01 record by DNS UPDATE
 * (RFC 2136) signed with TSIG (RFC 8945) to the mock DNS. The scenario runner
 * calls these two around a client run whose scenario has a "dns_update"
 * object; the checks judge the mock's UPDATE journal. */
#ifndef ACMEH_SUITES_DNSUPDATE_CLIENT_H
#define ACMEH_SUITES_DNSUPDATE_CLIENT_H

#include <jansson.h>

#include "harness/targets/vars.h"
#include "mocks/mocks.h"

/* When def (a scenario) has "dns_update": {"algorithm": "hmac-sha256",
 * "skew_s": n, "policy": [...]} (all optional), makes the mock serve zone
 * `domain` (a leading "*." dropped) and accept one TSIG key scoped to
 * _acme-challenge.<domain> TXT, and sets the client's variables
 * DNS_UPDATE_SERVER (127.0.0.1), DNS_UPDATE_PORT, DNS_UPDATE_ZONE,
 * DNS_UPDATE_KEY_NAME, DNS_UPDATE_KEY_SECRET (base64),
 * DNS_UPDATE_KEY_ALGORITHM. skew_s shifts the mock's clock for that key (a
 * BADTIME fault). Returns NULL without "dns_update", else a state object
 * {"zone", "key", "t0_ms" (wall clock ms now), "setup_error"} for
 * acmeh_dnsup_scenario_end (new reference). Call after the server started. */
json_t *acmeh_dnsup_scenario_begin(acmeh_mocks *m, const json_t *def, const char *domain, acmeh_vars *v);

/* After the run: removes the key and zone, adds "entries" (the journal of the
 * zone) to state and returns it (reference passed on). NULL state -> NULL. */
json_t *acmeh_dnsup_scenario_end(acmeh_mocks *m, json_t *state);

#endif
