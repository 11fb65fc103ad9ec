/* Fault rules for the reference ACME server: scripted deviations that client
 * suites (and users, with `acme-harness serve --faults FILE`) load to see how
 * a client copes with a misbehaving server.
 *
 * A fault file is a JSON array of at most ACMEH_FAULTS_MAX_RULES rules,
 * applied in file order:
 *
 *   [{"name": "slow-order",
 *     "match": {"resource": "newOrder", "method": "POST", "nth": 2},
 *     "action": {"status": 503, "problem": {"type": "rateLimited", "detail": "busy"},
 *                "retry_after": "3"}}]
 *
 * "name" (required, unique, non-empty) is what the exchange observer lists in
 * "faults" for every exchange the rule touched.
 *
 * "match" (optional; every member optional; absent = every request):
 *   "resource"   one of server.h's resource names ("directory", "newNonce",
 *                "newAccount", "account", "orders", "newOrder", "order",
 *                "newAuthz", "authz", "challenge", "finalize", "certificate",
 *                "revokeCert", "keyChange", "renewalInfo", "unknown");
 *                the management endpoints (POST /acmeh/...) are never matched
 *   "method"     "GET" | "HEAD" | "POST"
 *   "nth"        n >= 1: the rule starts at the nth request that matches the
 *                other members (1-based)
 *   "times"      n >= 1: applied to at most n requests; absent = 1 when "nth"
 *                is given, else unlimited
 *   "account"    "any" (default) | "first" (the first account created on this
 *                server) | "none" (no account: plain GETs, unknown keys) | an
 *                account URL; read from the request's kid or jwk before any
 *                verification, so a forged request can match too
 *   "identifier" substring of a DNS identifier the request carries (newOrder,
 *                newAuthz payloads) or names (the order, authorization or
 *                challenge its URL addresses)
 *
 * "action" (required, at least one member):
 *   "problem"          {"type": "badNonce", "detail": "..."}: the request is not
 *                      processed (its nonce is used up all the same, as a real
 *                      server checks nonces first); the answer is this problem document (the ACME
 *                      URN prefix is added to a type without ':'), with
 *                      "status" or a default for the type (400; unauthorized
 *                      403, rateLimited 429, serverInternal 500); optional
 *                      "subproblems": [{"type", "detail", "identifier": {"type",
 *                      "value"}}] (1 to 16, RFC 8555 §6.7.1), types prefixed alike
 *   "status"           100-599: without "problem", the request is processed and
 *                      only the status code is replaced
 *   "reject_nonce"     true: answer 400 badNonce (with a fresh Replay-Nonce) even
 *                      when the nonce was good; the nonce is consumed and the
 *                      request not processed
 *   "headers"          {"Name": "value"}: added, or replacing a header of that
 *                      name ("Content-Type" sets the media type)
 *   "remove_headers"   ["Replay-Nonce", ...]; "Content-Type" removes it
 *   "retry_after"      "seconds" or an HTTP-date, or a number of seconds
 *   "replay_nonce"     value sent instead of the fresh nonce (e.g. "abc def")
 *   "content_type"     media type sent instead of the real one
 *   "corrupt_field"    dotted path into the JSON body ("status",
 *                      "challenges.0.url"): the value is replaced by a wrong
 *                      one of the same type (a string gets "corrupted-"
 *                      prefixed, a URL "/corrupted" appended so it names
 *                      nothing; numbers +1; booleans negated; arrays lose their
 *                      last element; objects are emptied)
 *   "remove_field"     dotted path: that member or element is removed
 *   "shuffle"          ["identifiers", "authorizations"]: those arrays rotated
 *                      by one place, so the order always differs (2+ elements);
 *                      a path listed twice is rotated twice
 *   "append_body"      text added at the end of the body, whatever its media
 *                      type (e.g. a PEM PRIVATE KEY block after a certificate
 *                      chain); applied after the JSON actions
 *   "processing_polls" n >= 1 (match.resource "order" or "finalize"): this
 *                      response and the next n POST-as-GETs of the order read
 *                      "status": "processing" without "certificate", with
 *                      Retry-After ("retry_after" or 1)
 *   "delay_ms"         0-25000: the response waits this long on a timer (the
 *                      server keeps serving others; below the 30 s idle cut)
 *   "ari_window"       {"start_offset": s, "end_offset": s} (match.resource
 *                      "renewalInfo"): the suggestedWindow becomes now +
 *                      start_offset .. now + end_offset (end may precede start);
 *                      each within +-3.2e9 s, as /acmeh/ari-window takes
 *   "drop"             "before_headers" (close without a byte) | "after_headers"
 *                      (status line and headers, then close): the request is
 *                      processed, only the answer is lost; the observer sees
 *                      status 0
 * Header and body actions apply to whatever answer the request got, including
 * one made by an earlier rule. Unknown members are refused, so a typo does not
 * silently make a rule inert. */
#ifndef ACMEH_SERVER_FAULT_H
#define ACMEH_SERVER_FAULT_H

#include <jansson.h>
#include <stddef.h>

/* The most rules a file may hold: far beyond any test's need, and every
 * request is matched against each rule in turn. */
#define ACMEH_FAULTS_MAX_RULES 10000

/* Checks that `rules` is a valid rules array (see above; at most
 * ACMEH_FAULTS_MAX_RULES rules). Returns ACMEH_OK or
 * ACMEH_INVALID_ARG with the first problem in err (errlen bytes), naming the
 * rule's index and name and the field, e.g.
 * "rules[1] \"slow\": action.delay_ms: must be an integer from 0 to 25000";
 * ACMEH_NOMEM. */
int acmeh_faults_validate(const json_t *rules, char *err, size_t errlen);

/* Reads and validates the fault file at `path`; on success *rules is the
 * array (new reference). Returns ACMEH_OK, ACMEH_ENV_IO (unreadable),
 * ACMEH_INVALID_ARG (not JSON, with line and column, or an invalid rule),
 * ACMEH_NOMEM, with the reason in err. */
int acmeh_faults_load(const char *path, json_t **rules, char *err, size_t errlen);

#endif
