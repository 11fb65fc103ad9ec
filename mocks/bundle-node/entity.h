/* A blocking TCPCLv4 entity (RFC 9174, active side, no TLS): what the DTN
 * reference server and client use as their BP agents' convergence layer to
 * reach the mock bundle node (or a real BP agent), and what the tests use to
 * play a faulty neighbour. One thread at a time per entity. Every wait has a
 * deadline; messages are parsed with the caps of tcpcl.h and a received
 * transfer is capped at ACMEH_BUNDLE_MAX bytes. */
#ifndef ACMEH_MOCKS_TCPCL_ENTITY_H
#define ACMEH_MOCKS_TCPCL_ENTITY_H

#include <stddef.h>

typedef struct acmeh_tcpcl_entity acmeh_tcpcl_entity;

/* Connects to addr:port (loopback literal), exchanges contact headers and
 * SESS_INIT naming node_id (a Node ID), all within timeout_ms. Returns
 * ACMEH_OK with *out set, ACMEH_PEER_UNREACHABLE, ACMEH_PEER_TIMEOUT,
 * ACMEH_PEER_PROTOCOL (the peer broke TCPCL), ACMEH_INVALID_ARG or
 * ACMEH_NOMEM, with the reason in msg. */
int acmeh_tcpcl_entity_connect(const char *addr, int port, const char *node_id, unsigned timeout_ms, acmeh_tcpcl_entity **out, char *msg, size_t msglen);

/* The Node ID the peer named in its SESS_INIT. */
const char *acmeh_tcpcl_entity_peer(const acmeh_tcpcl_entity *e);

/* Sends one bundle as a single-segment transfer and waits for its XFER_ACK
 * (transfers arriving meanwhile are queued for recv). Returns ACMEH_OK,
 * ACMEH_PEER_PROTOCOL (XFER_REFUSE, SESS_TERM), ACMEH_PEER_TIMEOUT,
 * ACMEH_PEER_CONN, ACMEH_INVALID_ARG (over the cap) with the reason in msg. */
int acmeh_tcpcl_entity_send(acmeh_tcpcl_entity *e, const unsigned char *bundle, size_t len, unsigned timeout_ms, char *msg, size_t msglen);

/* Waits up to timeout_ms for the next received bundle (acknowledged on
 * arrival). *bundle is malloc'd, the caller frees it. Returns ACMEH_OK,
 * ACMEH_PEER_TIMEOUT (nothing came), ACMEH_PEER_CONN (session ended),
 * ACMEH_PEER_PROTOCOL / ACMEH_PEER_TOO_LARGE with the reason in msg. */
int acmeh_tcpcl_entity_recv(acmeh_tcpcl_entity *e, unsigned timeout_ms, unsigned char **bundle, size_t *len, char *msg, size_t msglen);

/* Writes raw bytes on the session (tests: malformed messages). Returns
 * ACMEH_OK or ACMEH_PEER_CONN. */
int acmeh_tcpcl_entity_raw(acmeh_tcpcl_entity *e, const void *bytes, size_t len);

/* Sends SESS_TERM, closes the socket, frees e. NULL is a no-op. */
void acmeh_tcpcl_entity_close(acmeh_tcpcl_entity *e);

#endif
