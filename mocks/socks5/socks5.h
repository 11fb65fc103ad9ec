/* A mock Tor: a SOCKS5 proxy (RFC 1928) on loopback that connects .onion
 * names (the DOMAINNAME address type, as a Tor client's SocksPort takes
 * them) to loopback services the run registers, with faults standing in for
 * what Tor does to a validation: an unreachable service, a slow circuit, the
 * wrong service, a broken SOCKS reply. A CA validating onion names (RFC 9799
 * §3.1.2, §3.1.3) is pointed at it. Anything but a CONNECT to a registered
 * .onion name is refused and recorded (§8.4: a CA MUST NOT use Tor for other
 * names). Every read is capped and every wait timed; the proxy runs its own
 * libuv loop on its own thread, and every function below is thread-safe. */
#ifndef ACMEH_MOCKS_SOCKS5_H
#define ACMEH_MOCKS_SOCKS5_H

#include <jansson.h>
#include <stddef.h>

/* ---- the parser (pure; tests/fuzz/fuzz_socks5.c drives it) ---------------- */

#define ACMEH_SOCKS5_MAX_REQUEST 262 /* 4 + 1 + 255 + 2: the longest CONNECT with a name */

/* What a CONNECT request asked for. */
typedef struct {
  int cmd;          /* 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE */
  int atyp;         /* 1 IPv4, 3 DOMAINNAME, 4 IPv6 */
  char host[256];   /* the name, or the address as text */
  int port;
} acmeh_socks5_request;

/* The greeting (VER 5, NMETHODS, METHODS) at the start of b[0..n): returns
 * its length when whole, 0 when more bytes are needed, -1 when it is no
 * SOCKS5 greeting (why says what). *no_auth = 1 when method 0 is offered. */
int acmeh_socks5_parse_greeting(const unsigned char *b, size_t n, int *no_auth, const char **why);

/* The request (VER 5, CMD, RSV 0, ATYP, address, port) at the start of
 * b[0..n): its length when whole (req filled), 0 when more bytes are
 * needed, -1 when malformed (why says what; a name with a NUL or an empty
 * one included). Never reads past n. */
int acmeh_socks5_parse_request(const unsigned char *b, size_t n, acmeh_socks5_request *req, const char **why);

/* ---- the proxy ---------------------------------------------------------------- */

typedef struct acmeh_socks5 acmeh_socks5;

typedef struct {
  const char *bind_addr;  /* loopback literal (NULL = "127.0.0.1") */
  int port;               /* 0 = pick a free port */
  unsigned handshake_ms;  /* greeting and request must be whole within this; 0 = 5000 */
  unsigned idle_ms;       /* a relayed connection idle this long is closed; 0 = 30000 */
  unsigned slow_ms;       /* the slow-circuit fault's delay before connecting; 0 = 3000 */
  const char *default_ip; /* loopback address for .onion names nobody registered, at the port asked
                             (NULL = those are unreachable, reply 0x04) */
} acmeh_socks5_config;

/* Starts the proxy and its thread. On success *out is the caller's (stop it
 * with acmeh_socks5_stop). Returns ACMEH_OK, ACMEH_INVALID_ARG (not a
 * loopback address), ACMEH_ENV_PORT_IN_USE, ACMEH_ENV_IO or ACMEH_NOMEM, with
 * the reason in err. */
int acmeh_socks5_start(const acmeh_socks5_config *cfg, acmeh_socks5 **out, char *err, size_t errlen);

/* Closes every connection, stops the thread, frees p. NULL is a no-op. */
void acmeh_socks5_stop(acmeh_socks5 *p);

/* The port it listens on. */
int acmeh_socks5_port(const acmeh_socks5 *p);

/* Registers onion name `onion` (any case; "<label>.onion" or a name under
 * it, matched exactly) as the loopback service ip:port (port 0 = the port
 * the client asks for). Replaces an earlier mapping. Returns ACMEH_OK,
 * ACMEH_INVALID_ARG (no .onion name, not a loopback address) or ACMEH_NOMEM. */
int acmeh_socks5_map(acmeh_socks5 *p, const char *onion, const char *ip, int port);
/* Forgets a mapping. Returns ACMEH_OK or ACMEH_INVALID_ARG when unknown. */
int acmeh_socks5_unmap(acmeh_socks5 *p, const char *onion);

typedef enum {
  ACMEH_SOCKS5_NONE = 0,
  ACMEH_SOCKS5_UNREACHABLE,   /* reply 0x04 host unreachable (no descriptor, no introduction) */
  ACMEH_SOCKS5_SLOW,          /* connect only after slow_ms (circuit building) */
  ACMEH_SOCKS5_WRONG_SERVICE, /* connect to another service (ip:port given) */
  ACMEH_SOCKS5_BAD_REPLY      /* answer the request with a malformed reply, then close */
} acmeh_socks5_fault;

/* Sets the fault for `onion` (NULL = every name); WRONG_SERVICE connects to
 * ip:port instead. ACMEH_SOCKS5_NONE clears it. Returns ACMEH_OK,
 * ACMEH_INVALID_ARG or ACMEH_NOMEM. */
int acmeh_socks5_set_fault(acmeh_socks5 *p, const char *onion, acmeh_socks5_fault f, const char *ip, int port);

/* What clients asked, oldest first (at most 1000): a new array of
 * {"host", "port", "atyp", "reply" (the SOCKS reply code, or -1 when the
 * connection ended before one), "error" (why, when refused or malformed)}. */
json_t *acmeh_socks5_history(acmeh_socks5 *p);

#endif
