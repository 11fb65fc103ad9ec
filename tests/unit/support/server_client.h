/* Test support: ACME clients of a reference server started in-process. */
#ifndef ACMEH_TESTS_SERVER_CLIENT_H
#define ACMEH_TESTS_SERVER_CLIENT_H

#include "harness/client/acme.h"
#include "harness/server/server.h"

/* A client of s's directory that trusts s's TLS CA (free with
 * acmeh_acme_free); NULL, with the reason on stderr, when it cannot be made. */
acmeh_acme *acmeh_test_client(const acmeh_server *s);

/* The same with a fresh ES256 account created on s (RFC 8555 §7.3). */
acmeh_acme *acmeh_test_account(const acmeh_server *s);

#endif
