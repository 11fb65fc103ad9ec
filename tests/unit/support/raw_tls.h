/* Test support: a raw TLS exchange with a server on loopback, for requests
 * no HTTP library would send (malformed HTTP, huge headers, trickled bytes). */
#ifndef ACMEH_TESTS_RAW_TLS_H
#define ACMEH_TESTS_RAW_TLS_H

#include <stddef.h>

/* One TLS connection to 127.0.0.1:`port`, verified with `ca_file`, SNI
 * "localhost": sends `len` bytes of req, `trickle_ms` milliseconds apart one
 * byte at a time when non-zero (stopping quietly when the server hangs up),
 * and reads the reply into out (outlen bytes, NUL-terminated) until the
 * server closes. Every wait is bounded (5 s). Returns bytes read, or -1 when
 * no TLS connection was made. */
long acmeh_test_raw_exchange(int port, const char *ca_file, const char *req, size_t len, char *out, size_t outlen,
                             long trickle_ms);

#endif
