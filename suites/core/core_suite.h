/* What the core suite's files share (suite.c assembles the descriptor).
 * Internal to suites/core/. */
#ifndef ACMEH_SUITES_CORE_SUITE_H
#define ACMEH_SUITES_CORE_SUITE_H

#include "harness/runner/check.h"
#include "harness/runner/suite.h"

/* The CORE-C checks that can be judged one exchange at a time (RFC 8555
 * §6.1-§6.5, §7.3): User-Agent, Accept-Language, JWS envelope and
 * Content-Type, protected header members, kid = account URL, url = request
 * URL, no base64 padding, POST-as-GET, no nonce reuse, no Replay-Nonce
 * request header. The client checks judge a scenario's record with the same
 * predicates, so `serve` and `run --client` say the same thing (client.c). */
extern const acmeh_live_judge core_live_judge;

extern const acmeh_check_impl core_directory_checks[], core_nonce_checks[], core_jws_checks[],
    core_account_checks[], core_keychange_checks[], core_order_checks[], core_challenge_checks[],
    core_cert_checks[], core_error_checks[], core_client_checks[], core_ip_checks[], core_eab_checks[], core_client_trouble_checks[],
    core_schema_checks[];

#endif
