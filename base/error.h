/* acme-harness error codes.
 *
 * Every function that can fail returns an int: 0 (ACMEH_OK) on success or one of
 * the negative codes below. Each code belongs to a class that says who is at
 * fault; the runner turns the class into a verdict:
 *   PEER     the implementation under test broke the spec       -> fail
 *   ENV      the environment failed (port in use, binary gone)  -> error
 *   HARNESS  the harness itself failed                          -> error
 *   UNSUP    the peer does not offer the feature                -> skip
 *   BLOCKED  a step the check needs failed, and another check
 *            judges that step                                   -> blocked
 * Details go into a caller-owned message buffer (see acmeh_msg); no code below
 * the CLI calls exit(). */
#ifndef ACMEH_BASE_ERROR_H
#define ACMEH_BASE_ERROR_H

#include <stddef.h>

typedef enum {
  ACMEH_CLASS_NONE = 0,
  ACMEH_CLASS_PEER,
  ACMEH_CLASS_ENV,
  ACMEH_CLASS_HARNESS,
  ACMEH_CLASS_UNSUP,
  ACMEH_CLASS_BLOCKED
} acmeh_errclass;

/* XX(name, value, class, description) */
#define ACMEH_ERRNO_MAP(XX)                                                        \
  XX(OK, 0, NONE, "success")                                                     \
  XX(PEER_PROTOCOL, -1, PEER, "peer broke the protocol")                         \
  XX(PEER_TIMEOUT, -2, PEER, "peer did not answer in time")                      \
  XX(PEER_CONN, -3, PEER, "connection to peer failed or was reset")              \
  XX(PEER_TOO_LARGE, -4, PEER, "peer sent more bytes than the size cap")        \
  XX(PEER_BAD_JSON, -5, PEER, "peer sent a body that is not the JSON expected")  \
  XX(PEER_TLS, -6, PEER, "TLS handshake with peer failed")                       \
  XX(PEER_UNREACHABLE, -7, PEER, "nothing answers at the peer's address")          \
  XX(ENV_PORT_IN_USE, -20, ENV, "port already in use")                           \
  XX(ENV_MISSING_BINARY, -21, ENV, "required program not found")                 \
  XX(ENV_SPAWN, -22, ENV, "could not start a child process")                     \
  XX(ENV_IO, -23, ENV, "file or socket I/O failed")                              \
  XX(ENV_NOT_READY, -24, ENV, "target did not become ready")                     \
  XX(INTERNAL, -40, HARNESS, "internal harness error")                           \
  XX(NOMEM, -41, HARNESS, "out of memory")                                       \
  XX(INVALID_ARG, -42, HARNESS, "invalid argument")                              \
  XX(DEADLINE, -43, HARNESS, "check exceeded its time budget")                   \
  XX(CANCELLED, -44, HARNESS, "run was interrupted")                             \
  XX(UNSUPPORTED, -60, UNSUP, "feature not offered by the peer")                 \
  XX(STEP_BLOCKED, -61, BLOCKED, "a step the check needs failed; another check judges that step")

typedef enum {
#define XX(name, val, cls, desc) ACMEH_##name = val,
  ACMEH_ERRNO_MAP(XX)
#undef XX
} acmeh_errno;

/* Returns the static description of code `err` ("unknown error" if not in the table). */
const char *acmeh_strerror(int err);

/* Returns the static name of `err` without prefix, e.g. "PEER_TIMEOUT". */
const char *acmeh_err_name(int err);

/* Returns the class of `err`; ACMEH_CLASS_HARNESS for codes not in the table. */
acmeh_errclass acmeh_err_class(int err);

/* Formats into a caller-owned buffer `buf` of `len` bytes (printf-style), always
 * NUL-terminated, truncating silently. Returns `err` so callers can write
 * `return acmeh_msg(buf, len, ACMEH_PEER_PROTOCOL, "...", ...)`. Safe with buf == NULL. */
int acmeh_msg(char *buf, size_t len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
