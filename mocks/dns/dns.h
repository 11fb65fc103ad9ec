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

/* Closes both sockets and every TCP connection (loop thread). Idempotent. */
void acmeh_mockdns_close(acmeh_mockdns *d);

/* Frees d once the loop has run the close callbacks. NULL is a no-op. */
void acmeh_mockdns_free(acmeh_mockdns *d);

#endif
