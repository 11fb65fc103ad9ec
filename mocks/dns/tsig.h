/* TSIG (RFC 8945) on raw DNS wire: finding the TSIG RR, computing the MAC
 * over the RFC 8945 §4.3.3 digest components and appending a TSIG RR to a
 * response. Done on the wire, not through ldns_pkt_tsig_sign, because the mock
 * must sign with a chosen Time Signed, Error and Other Data (BADTIME replies,
 * §5.2.3) and ldns 1.8 always signs with the current time and Error 0. */
#ifndef ACMEH_MOCKS_DNS_TSIG_H
#define ACMEH_MOCKS_DNS_TSIG_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define ACMEH_TSIG_MAX_MAC 64    /* SHA-512 */
#define ACMEH_TSIG_MAX_OTHER 64  /* Other Data we keep; longer is FORMERR */
#define ACMEH_TSIG_BADSIG 16
#define ACMEH_TSIG_BADKEY 17
#define ACMEH_TSIG_BADTIME 18
#define ACMEH_TSIG_BADTRUNC 22

/* One TSIG RR's fields. Names are in canonical wire form (lower case,
 * uncompressed, RFC 8945 §4.3.3) and in presentation form with the dot. */
typedef struct {
  uint8_t key_wire[256];
  size_t key_wire_len;
  char key_name[256];
  uint8_t alg_wire[256];
  size_t alg_wire_len;
  char alg_name[256];
  uint64_t time_signed; /* seconds since the epoch, 48 bits */
  uint16_t fudge;       /* seconds */
  uint16_t mac_len;
  uint8_t mac[ACMEH_TSIG_MAX_MAC];
  uint16_t orig_id;
  uint16_t error;
  uint16_t other_len;
  uint8_t other[ACMEH_TSIG_MAX_OTHER];
  size_t rr_off;        /* offset of the TSIG RR in the message it came from */
} acmeh_tsig;

/* Looks for a TSIG RR in message `w` (len bytes). Returns ACMEH_OK with
 * *found = 1 and *t filled, or *found = 0 when it has none; ACMEH_PEER_PROTOCOL
 * (reason in err) when the message is malformed, has more than one TSIG or a
 * TSIG that is not the last additional RR (RFC 8945 §5.2: FORMERR), or a MAC
 * or Other Data longer than this code keeps. */
int acmeh_tsig_find(const uint8_t *w, size_t len, acmeh_tsig *t, int *found, char *err,
                    size_t errlen);

/* The digest of a TSIG algorithm name ("hmac-sha256." or without the dot, any
 * case): SHA-1/224/256/384/512; NULL for anything else (HMAC-MD5 included:
 * RFC 8945 §6 says it MUST NOT be used). */
const EVP_MD *acmeh_tsig_md(const char *alg_name);

/* MAC (RFC 8945 §4.3.1-4.3.3) into mac (>= ACMEH_TSIG_MAX_MAC bytes),
 * length in *mac_len. `msg` is the message without its TSIG RR (msg_len
 * bytes); the ID is replaced by t->orig_id and ARCOUNT taken as given (the
 * caller passes the count without the TSIG). `req_mac` (req_mac_len bytes)
 * is the request's MAC when signing a response, NULL for a request. The
 * variables come from t. Returns ACMEH_OK, ACMEH_INVALID_ARG (short msg or
 * unknown algorithm), ACMEH_NOMEM. */
int acmeh_tsig_mac(const acmeh_tsig *t, const uint8_t *secret, size_t secret_len,
                   const uint8_t *req_mac, size_t req_mac_len, const uint8_t *msg,
                   size_t msg_len, uint8_t *mac, unsigned *mac_len);

/* Verifies the TSIG of request `w` (len bytes, t from acmeh_tsig_find) with
 * `secret`. Returns 1 when the MAC matches (truncated MACs compare their
 * prefix), 0 when not or the algorithm is unknown. */
int acmeh_tsig_verify(const acmeh_tsig *t, const uint8_t *secret, size_t secret_len,
                      const uint8_t *w, size_t len);

/* Appends TSIG RR t to message *w (*len bytes, realloc'd) and increments
 * ARCOUNT. When secret is non-NULL the MAC is computed first (response form,
 * over req_mac and *w), else t->mac/mac_len are used as they are (MAC Size 0
 * for unsigned error replies). Returns ACMEH_OK, ACMEH_NOMEM,
 * ACMEH_INVALID_ARG. */
int acmeh_tsig_append(uint8_t **w, size_t *len, acmeh_tsig *t, const uint8_t *secret,
                      size_t secret_len, const uint8_t *req_mac, size_t req_mac_len);

/* Wire size in bytes of TSIG RR t once appended with a MAC of mac_len bytes
 * and other_len bytes of Other Data: what a signer must leave room for in a
 * size-limited (UDP) message, RFC 8945 §5.3. */
size_t acmeh_tsig_rr_size(const acmeh_tsig *t, size_t mac_len, size_t other_len);

/* Skips one domain name at *off in w (len bytes), labels or a compression
 * pointer, without following pointers. Returns 0 and moves *off, or -1 when
 * the name runs past the end or uses a reserved label type. */
int acmeh_wire_skip_name(const uint8_t *w, size_t len, size_t *off);

/* Offset just past the question section of message w (len bytes), names
 * skipped without following pointers; 0 when the header or a question runs
 * past the end. */
size_t acmeh_wire_question_end(const uint8_t *w, size_t len);

/* Whether message w (len bytes) may be given to ldns_wire2pkt: every RR walks
 * within bounds, and it holds no TSIG RR or exactly one that is the last RR.
 * ldns 1.8's ldns_wire2pkt keeps only the last TSIG of the additional section
 * and leaks any before it, so a peer repeating TSIG RRs would grow the mock
 * without bound; such messages are FORMERR anyway (RFC 8945 §5.2). Returns 1
 * or 0 (also 0 when the walk fails: ldns refuses those too, perhaps after
 * reading two TSIGs). */
int acmeh_wire_tsig_safe(const uint8_t *w, size_t len);

#endif
