/* The mock bundle node: a BPv7 router on loopback that speaks TCPCLv4
 * (RFC 9174) without TLS, so any BP agent with a TCPCL convergence layer can
 * be one of its neighbours (the reference DTN server and client, a CA or
 * client under test, or a real agent standing in for the mock itself).
 *
 * Each neighbour opens a session and names its Node ID in SESS_INIT. A bundle
 * received in a transfer is decoded (bpv7.h caps) and forwarded, as one
 * single-segment transfer, over every session whose Node ID its destination
 * names (RFC 9171 §4.2.5.2: "dtn://n/..." belongs to "dtn://n/", "ipn:N.S"
 * to "ipn:N.0"); a bundle for a node not connected yet waits (at most
 * ACMEH_BNODE_MAX_PENDING, until its lifetime ends). Faults change what is
 * forwarded, for bundles to a given destination.
 *
 * Caps and timeouts: every TCPCL message must arrive whole within
 * read_timeout_ms of its first byte (and the contact header within that time
 * of the connection); a transfer over ACMEH_BUNDLE_MAX is refused; a peer
 * breaking TCPCL gets SESS_TERM and is closed. Each event lands in the
 * journal. The node runs its own libuv loop on its own thread; every function
 * here is thread-safe. */
#ifndef ACMEH_MOCKS_BUNDLE_NODE_H
#define ACMEH_MOCKS_BUNDLE_NODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ACMEH_BNODE_MAX_PENDING 64
#define ACMEH_BNODE_MAX_SESSIONS 32

typedef struct acmeh_bundle_node acmeh_bundle_node;

typedef struct {
  const char *bind_addr;     /* loopback literal; NULL = "127.0.0.1" */
  int port;                  /* 0 = a free port */
  const char *node_id;       /* the mock's own Node ID; NULL = "dtn://mock-bundle-node/" */
  unsigned read_timeout_ms;  /* 0 = 5000 */
} acmeh_bundle_node_config;

typedef enum {
  ACMEH_BNODE_FAULT_NONE = 0,
  ACMEH_BNODE_FAULT_DROP,         /* never forwarded */
  ACMEH_BNODE_FAULT_DELAY,        /* forwarded after `param` ms */
  ACMEH_BNODE_FAULT_DUPLICATE,    /* forwarded twice, byte for byte */
  ACMEH_BNODE_FAULT_WRONG_SOURCE, /* primary block source replaced by `text` */
  ACMEH_BNODE_FAULT_BAD_DIGEST,   /* first byte of the ACME record's key-auth digest flipped */
  ACMEH_BNODE_FAULT_TRUNCATE,     /* the bundle's last `param` bytes cut (default 1) */
} acmeh_bnode_fault_kind;

typedef struct {
  acmeh_bnode_fault_kind kind;
  const char *dest;   /* Node ID the fault applies to; NULL = every bundle */
  uint64_t param;     /* DELAY ms (at most 60000), TRUNCATE bytes */
  const char *text;   /* WRONG_SOURCE: the EID written instead */
  int times;          /* bundles it applies to; 0 = every one */
} acmeh_bnode_fault;

/* Starts the node. Returns ACMEH_OK with *out set, or ACMEH_ENV_PORT_IN_USE,
 * ACMEH_ENV_IO, ACMEH_INVALID_ARG (bad node_id or address), ACMEH_NOMEM with
 * the reason in err. */
int acmeh_bundle_node_start(const acmeh_bundle_node_config *cfg, acmeh_bundle_node **out, char *err, size_t errlen);

/* Stops the loop, closes every session, joins the thread, frees n. NULL is a no-op. */
void acmeh_bundle_node_stop(acmeh_bundle_node *n);

/* The TCP port it listens on. */
int acmeh_bundle_node_port(const acmeh_bundle_node *n);

/* Adds a fault (applied in the order added; the first that matches a bundle
 * and has uses left wins). Returns ACMEH_OK or ACMEH_INVALID_ARG. */
int acmeh_bundle_node_add_fault(acmeh_bundle_node *n, const acmeh_bnode_fault *f);

/* Removes every fault. */
void acmeh_bundle_node_clear_faults(acmeh_bundle_node *n);

/* The journal so far, a new JSON array (caller decrefs) of objects
 * {"event", "peer", "detail"} in order: "session" (a SESS_INIT taken),
 * "forwarded", "held", "dropped", "duplicated", "delayed", "rewritten",
 * "undeliverable", "refused" (a bundle that did not decode), "error" (a
 * TCPCL violation or timeout that ended a session), "closed". A bundle event
 * also has "src", "dest", "flags" and "hex" (the bundle as received). At
 * most 1000 entries are kept. NULL when out of memory. */
json_t *acmeh_bundle_node_journal(acmeh_bundle_node *n);

#endif
