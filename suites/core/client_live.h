/* The CORE-C checks that can be judged one exchange at a time (RFC 8555
 * §6.1, §6.2, §6.3, §6.4, §6.5, §7.3): User-Agent, Accept-Language, JWS
 * envelope and Content-Type, protected header members, kid = account URL,
 * url = request URL, no base64 padding, POST-as-GET, no nonce reuse, no
 * Replay-Nonce request header. The client suite (suites/core/client.c)
 * judges a scenario's record with them; `acme-harness serve` judges each
 * exchange live. One set of predicates, so both say the same thing. */
#ifndef ACMEH_SUITES_CORE_CLIENT_LIVE_H
#define ACMEH_SUITES_CORE_CLIENT_LIVE_H

#include <jansson.h>
#include <stddef.h>

/* What has been seen so far (nonces used, account URLs handed out): some
 * checks depend on earlier exchanges. One per stream of exchanges. */
typedef struct acmeh_core_judge acmeh_core_judge;

/* A new, empty state, or NULL when out of memory. Free with acmeh_core_judge_free. */
acmeh_core_judge *acmeh_core_judge_new(void);
void acmeh_core_judge_free(acmeh_core_judge *j);

/* Called once per check that applies to the exchange: `id` ("CORE-C-001"),
 * `pass` 1 or 0, `message` (the failure as "expected; got actual", or on a
 * pass what held). Strings are valid only during the call. */
typedef void (*acmeh_core_judge_emit)(void *ud, const char *id, int pass, const char *message);

/* Judges exchange `x` (an object as harness/server/server.h describes: method,
 * url, path, resource, req_headers, jws, resp_headers, seq) with every
 * per-exchange check, in ID order, and records what later exchanges are
 * judged against. Not thread-safe: one caller per state (the server's loop
 * thread for serve). Returns the number of failures. */
size_t acmeh_core_judge_exchange(acmeh_core_judge *j, const json_t *x, acmeh_core_judge_emit emit, void *ud);

#endif
