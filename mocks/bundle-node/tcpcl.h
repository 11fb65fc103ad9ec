/* TCPCLv4 (RFC 9174) messages without I/O: the contact header (§4.2) and the
 * session messages the mock bundle node and its test entities exchange
 * (SESS_INIT §4.6, XFER_SEGMENT §5.2.2, XFER_ACK §5.2.3, XFER_REFUSE §5.2.4,
 * KEEPALIVE §5.1.1, SESS_TERM §6.1, MSG_REJECT §5.1.2). TLS is never offered
 * (CAN_TLS clear): loopback only. Parsing takes a peer's bytes: every length
 * field is checked against a cap before anything is kept, and extension
 * items are skipped, not stored (none is critical here: a critical one is
 * refused, §4.8). */
#ifndef ACMEH_MOCKS_TCPCL_H
#define ACMEH_MOCKS_TCPCL_H

#include <stddef.h>
#include <stdint.h>

#define ACMEH_TCPCL_CONTACT_LEN 6      /* "dtn!" version flags */
#define ACMEH_TCPCL_VERSION 4
#define ACMEH_TCPCL_MAX_NODE_ID 255    /* bytes of a peer's Node ID */
#define ACMEH_TCPCL_MAX_EXT 4096       /* bytes of session or transfer extension items */
#define ACMEH_TCPCL_SEGMENT_MRU 65536  /* largest segment data we take */
#define ACMEH_TCPCL_MAX_MSG (ACMEH_TCPCL_SEGMENT_MRU + ACMEH_TCPCL_MAX_EXT + 64)

enum {
  ACMEH_TCPCL_XFER_SEGMENT = 0x01,
  ACMEH_TCPCL_XFER_ACK = 0x02,
  ACMEH_TCPCL_XFER_REFUSE = 0x03,
  ACMEH_TCPCL_KEEPALIVE = 0x04,
  ACMEH_TCPCL_SESS_TERM = 0x05,
  ACMEH_TCPCL_MSG_REJECT = 0x06,
  ACMEH_TCPCL_SESS_INIT = 0x07,
};

#define ACMEH_TCPCL_FLAG_END 0x01   /* XFER_SEGMENT / XFER_ACK */
#define ACMEH_TCPCL_FLAG_START 0x02
#define ACMEH_TCPCL_TERM_REPLY 0x01 /* SESS_TERM */

typedef struct {
  uint8_t type;
  uint8_t flags;                 /* segment, ack and term flags */
  uint8_t reason;                /* SESS_TERM, XFER_REFUSE, MSG_REJECT */
  uint16_t keepalive;            /* SESS_INIT, seconds */
  uint64_t segment_mru, transfer_mru; /* SESS_INIT */
  char node_id[ACMEH_TCPCL_MAX_NODE_ID + 1]; /* SESS_INIT, NUL-terminated */
  uint64_t transfer_id;          /* XFER_* */
  uint64_t length;               /* XFER_ACK acknowledged length; XFER_SEGMENT data length */
  const unsigned char *data;     /* XFER_SEGMENT: points into the parsed buffer */
} acmeh_tcpcl_msg;

/* Parses a contact header from buf[0..len). Returns the bytes consumed (6),
 * 0 when more bytes are needed, or a PEER code (not "dtn!", version not 4)
 * with the reason in msg. *version gets the peer's version when the magic is
 * right, so a caller can answer a version mismatch (§4.3). */
int acmeh_tcpcl_contact_parse(const unsigned char *buf, size_t len, int *version, char *msg, size_t msglen);

/* Writes our contact header (version 4, no CAN_TLS) into out[6]. */
void acmeh_tcpcl_contact_write(unsigned char out[ACMEH_TCPCL_CONTACT_LEN]);

/* Parses one message from buf[0..len). Returns the bytes consumed (> 0) with
 * *m filled (m->data points into buf), 0 when more bytes are needed (never
 * more than ACMEH_TCPCL_MAX_MSG are ever needed), or a PEER code: unknown
 * type, a length over its cap (ACMEH_PEER_TOO_LARGE), a critical extension
 * item, an empty or non-UTF-8-safe Node ID. Reason in msg. */
int acmeh_tcpcl_parse(const unsigned char *buf, size_t len, acmeh_tcpcl_msg *m, char *msg, size_t msglen);

/* Serializes *m into a malloc'd *out (caller frees) of *outlen bytes. For
 * XFER_SEGMENT, m->data / m->length are the segment; a START segment carries
 * an empty extension list. Returns ACMEH_OK, ACMEH_INVALID_ARG or ACMEH_NOMEM. */
int acmeh_tcpcl_write(const acmeh_tcpcl_msg *m, unsigned char **out, size_t *outlen);

#endif
