/* The mock authoritative DNS server: UDP and TCP (RFC 1035 §4.2.2 two-byte
 * length framing) on the same loopback port, answering from the record store
 * via acmeh_dns_answer. Loop-thread only, except that acmeh_mockdns_start may
 * run before the loop thread starts. */
#ifndef ACMEH_MOCKS_DNS_H
#define ACMEH_MOCKS_DNS_H

#include "mocks/common/history.h"
#include "mocks/common/records.h"
#include "mocks/dns/update.h"

#include <stddef.h>
#include <uv.h>

typedef struct acmeh_mockdns acmeh_mockdns;

/* Binds UDP and TCP on addr:port (port 0 = one ephemeral port free for both).
 * On success *out is the server (close, run the loop, then free). Returns
 * ACMEH_OK, ACMEH_ENV_PORT_IN_USE, ACMEH_ENV_IO, ACMEH_NOMEM,
 * ACMEH_INVALID_ARG with the reason in err. */
int acmeh_mockdns_start(uv_loop_t *loop, const char *addr, int port, acmeh_records *rec,
                        acmeh_history *hist, acmeh_mockdns **out, char *err, size_t errlen);

int acmeh_mockdns_port(const acmeh_mockdns *d);

/* Routes every message through upd (DNS UPDATE, TSIG, served zones; see
 * update.h), which the caller keeps alive until the server is freed. Call
 * before the loop runs. NULL = plain queries only. */
void acmeh_mockdns_set_update(acmeh_mockdns *d, acmeh_dnsupd *upd);

/* Limits on TCP connections (RFC 7766 §6.2.3, §10), so that clients that
 * trickle, stall or never read cannot exhaust the server's memory or lock out
 * other clients. Defaults: 64 connections, 10 s idle, 10 s per frame, 1 MiB /
 * 256 unread answers per connection, 10 s blocked. */
typedef struct {
  int max_conns;         /* connections; one more evicts the one stalled longest */
  unsigned idle_ms;      /* closed after this long without a byte read or written */
  unsigned frame_ms;     /* a message must be complete this long after its first byte */
  size_t queue_bytes;    /* unsent answer bytes above which reading stops (resumes at half) */
  unsigned max_answers;  /* unsent answers at which reading stops (resumes at half) */
  unsigned blocked_ms;   /* closed when reading stays stopped this long */
} acmeh_mockdns_tcp_limits;

/* Replaces the TCP limits (fields <= 0 keep the current value); tests use
 * small ones. Call before the loop runs or on the loop thread; applies to
 * every connection's next deadline. */
void acmeh_mockdns_set_tcp_limits(acmeh_mockdns *d, const acmeh_mockdns_tcp_limits *lim);

/* Counters of what the TCP limits did, since start (loop thread). */
typedef struct {
  int conns;               /* open now */
  size_t peak_queue_bytes; /* largest unsent answer bytes seen on one connection */
  unsigned long pauses;    /* times reading stopped for unread answers */
  unsigned long closed_blocked, closed_slow, closed_idle, evicted;
} acmeh_mockdns_tcp_stats;

/* Fills *st (loop thread). */
void acmeh_mockdns_tcp_stats_get(const acmeh_mockdns *d, acmeh_mockdns_tcp_stats *st);

/* Closes both sockets and every TCP connection (loop thread). Idempotent. */
void acmeh_mockdns_close(acmeh_mockdns *d);

/* Frees d once the loop has run the close callbacks. NULL is a no-op. */
void acmeh_mockdns_free(acmeh_mockdns *d);

#endif
