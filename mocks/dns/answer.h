/* The mock DNS server's brain: one query in wire format -> one response in
 * wire format, from the record store, with ldns doing all encoding and
 * decoding. Transport-free so the UDP and TCP servers share it. */
#ifndef ACMEH_MOCKS_DNS_ANSWER_H
#define ACMEH_MOCKS_DNS_ANSWER_H

#include "mocks/common/history.h"
#include "mocks/common/records.h"

#include <stddef.h>
#include <stdint.h>

/* Answers query q (qlen bytes) received over `proto` ("udp" or "tcp"),
 * recording it in hist (may be NULL). Responses larger than `max_len` are
 * sent truncated (TC set, no answers); for UDP pass 512, for TCP 65535 - the
 * limit grows to the query's EDNS buffer size when it advertises one.
 * Rules: names with SERVFAIL set -> SERVFAIL; CNAME is answered and chased
 * (up to 8 hops); A falls back to the store's default IPv4 and AAAA to its
 * default IPv6; other types or names without data -> NOERROR, no answers;
 * an unparsable query with a readable header, or one with repeated TSIG RRs
 * or one not last (RFC 8945 §5.2; ldns would leak them) -> FORMERR; an opcode other
 * than QUERY -> NOTIMP.
 * Returns ACMEH_OK with *out (malloc'd, caller frees) and *outlen, or
 * ACMEH_PEER_PROTOCOL when the input deserves no answer at all (shorter
 * than a header, or itself a response), or ACMEH_NOMEM. */
int acmeh_dns_answer(acmeh_records *rec, acmeh_history *hist, const char *proto, const uint8_t *q,
                     size_t qlen, size_t max_len, uint8_t **out, size_t *outlen);

#endif
