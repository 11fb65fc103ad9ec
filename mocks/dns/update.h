/* The mock DNS's authenticated side: DNS UPDATE (RFC 2136) applied to the
 * record store, TSIG (RFC 8945) on updates and queries, per-key name/type
 * policy, replay rejection, served zones (SOA answers), and a bounded journal
 * of every UPDATE message. The configuration and journal are guarded by one
 * mutex, so check threads and the management API may change keys while the
 * loop thread answers. */
#ifndef ACMEH_MOCKS_DNS_UPDATE_H
#define ACMEH_MOCKS_DNS_UPDATE_H

#include "mocks/common/history.h"
#include "mocks/common/records.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acmeh_dnsupd acmeh_dnsupd;

/* New state with no zones, no keys, unsigned updates refused, a journal of at
 * most journal_cap messages (0 = 1000; oldest dropped). NULL when out of memory. */
acmeh_dnsupd *acmeh_dnsupd_new(size_t journal_cap);
void acmeh_dnsupd_free(acmeh_dnsupd *u);

/* Serves / stops serving zone `zone` (apex name, trailing dot optional): UPDATEs
 * naming it are processed (others get NOTAUTH, RFC 2136 §3.1.1) and SOA
 * queries for the apex are answered. Return ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_dnsupd_add_zone(acmeh_dnsupd *u, const char *zone);
/* Same, with the reason for ACMEH_INVALID_ARG in err (errlen bytes, may be
 * NULL): not a host name (empty label, label over 63 bytes, '*' or other
 * characters than letters, digits, '-', '_'), or 64 zones already served. */
int acmeh_dnsupd_add_zone_msg(acmeh_dnsupd *u, const char *zone, char *err, size_t errlen);
int acmeh_dnsupd_del_zone(acmeh_dnsupd *u, const char *zone);

/* Adds (or replaces, by name) a TSIG key from def:
 * {"name": "key.", "algorithm": "hmac-sha256" (sha1/224/256/384/512),
 *  "secret": base64, "policy": [{"name": "_acme-challenge.*", "types": ["TXT"]}],
 *  "skew_s": n}. policy absent = any name/type in a served zone; a rule's name is
 * an exact name or an fnmatch pattern ('*' also matches dots); "types" absent or
 * containing "ANY" = every type; a present "types" must be a non-empty array of
 * type names, and every field must have its type ("algorithm": 7 or
 * "types": "TXT" is ACMEH_INVALID_ARG, never a default). skew_s (an integer,
 * |skew_s| <= 10 years) shifts the mock's clock for this key
 * only (a scripted BADTIME fault). Returns ACMEH_OK, ACMEH_INVALID_ARG (reason
 * in err), ACMEH_NOMEM. */
int acmeh_dnsupd_add_key(acmeh_dnsupd *u, const json_t *def, char *err, size_t errlen);

/* Removes key `name`. Returns ACMEH_OK, or ACMEH_INVALID_ARG when unknown. */
int acmeh_dnsupd_del_key(acmeh_dnsupd *u, const char *name);

/* Whether unsigned UPDATEs are processed (1) or REFUSED (0, the default). */
void acmeh_dnsupd_set_allow_unsigned(acmeh_dnsupd *u, int allow);

/* Fixes the mock's clock at `epoch_s` seconds (0 = the real clock again); tests only. */
void acmeh_dnsupd_set_time(acmeh_dnsupd *u, int64_t epoch_s);

/* Journal entries (new array, caller decrefs), oldest first, of messages whose
 * zone is `zone` or below it (NULL = all): every UPDATE, and every TSIG-signed
 * query ("opcode": "QUERY", "zone" = its qname, verdict "answered" or a TSIG
 * one). Each entry: {"opcode", "time_ms", "source",
 * "proto", "id", "zone", "key", "algorithm", "time_signed", "fudge",
 * "server_time", "reported_time" (BADTIME: the time put in Other Data), "verdict" ("accepted", "refused", "formerr", "badkey",
 * "badsig", "badtime", "replay", "notauth", "notzone", "prereq-failed"),
 * "rcode" (name), "tsig_error" (0 or 16..22), "reason", "prerequisites": [{"name",
 * "type", "class", "meaning"}], "updates": [{"op" ("add", "delete-rrset",
 * "delete-name", "delete-rr"), "name", "type", "class", "ttl", "value"}],
 * "applied" (bool), "wire" (hex of the request), "z" (header Z bits)}.
 * Bounded so a flood cannot exhaust memory: "wire" keeps the first 1024 bytes
 * and each section its first 64 RRs ("wire_len", "prerequisite_count" and
 * "update_count" give the full sizes, "truncated": true marks a cut); an RR
 * value keeps 512 bytes ("value_truncated": true). Messages not authenticated
 * and not accepted (unsigned refused, BADKEY, BADSIG, FORMERR, NOTAUTH) are
 * kept as a summary: 256 bytes of wire, 8 RRs per section. The journal holds
 * at most journal_cap entries and 4 MB of JSON, oldest dropped first.
 * NULL when out of memory. */
json_t *acmeh_dnsupd_journal(acmeh_dnsupd *u, const char *zone);
void acmeh_dnsupd_clear_journal(acmeh_dnsupd *u);

/* Sets the journal's byte cap (serialised JSON, 0 = the 4 MB default); tests only. */
void acmeh_dnsupd_set_journal_max_bytes(acmeh_dnsupd *u, size_t bytes);

/* Answers one message q (qlen bytes) from `source` ("ip:port") over `proto`:
 * UPDATE messages are processed here, TSIG-signed queries are verified,
 * answered by acmeh_dns_answer and signed, SOA queries for a served zone's apex
 * get a synthetic SOA, anything else goes to acmeh_dns_answer unchanged.
 * Returns ACMEH_OK with *out (malloc'd, caller frees), ACMEH_PEER_PROTOCOL
 * when the input deserves no answer (short, or a response), ACMEH_NOMEM. */
int acmeh_dnsupd_answer(acmeh_dnsupd *u, acmeh_records *rec, acmeh_history *hist,
                        const char *proto, const char *source, const uint8_t *q, size_t qlen,
                        size_t max_len, uint8_t **out, size_t *outlen);

#endif
