/* BPv7 bundles (RFC 9171) as the mock bundle node and the DTN reference sides
 * read and write them, through libcbor.
 *
 * Decoding takes a peer's bytes: acmeh_cbor_check walks the input with
 * libcbor's streaming decoder first and refuses it before anything is built
 * when it nests deeper than ACMEH_CBOR_MAX_DEPTH, declares more items or bytes
 * than the input holds (a 4 GB length in a 60-byte bundle), is truncated, has
 * trailing bytes, carries a tag, or exceeds ACMEH_BUNDLE_MAX bytes. Only then
 * is the tree built (cbor_load) and read.
 *
 * What is read and written: the primary block (§4.3.1: version 7, flags, CRC
 * type, destination, source, report-to, creation timestamp, lifetime), then
 * canonical blocks (§4.3.2); the payload block (type 1), the Bundle Age block
 * (type 7, §4.4.2) and the presence of BPSec blocks (RFC 9172: BIB type 11,
 * BCB type 12; a BIB's security targets are read from its ASB, §3.6). CRC
 * values are carried but not verified (the mock writes CRC type 0, "none").
 * Fragments (flag 0x01) are refused. Endpoint IDs (§4.2.5.1) are text:
 * "dtn://node/demux", "dtn:none", "ipn:N.S". */
#ifndef ACMEH_MOCKS_BPV7_H
#define ACMEH_MOCKS_BPV7_H

#include <stddef.h>
#include <stdint.h>

#define ACMEH_BUNDLE_MAX 65536  /* bytes: no ACME bundle comes near it */
#define ACMEH_CBOR_MAX_DEPTH 8  /* bundle > block > ASB results: 4 suffice */
#define ACMEH_EID_MAX 256       /* bytes of an EID's text form, NUL included */

/* Bundle processing control flags (RFC 9171 §4.2.3). */
#define ACMEH_BPF_FRAGMENT 0x01
#define ACMEH_BPF_ADMIN_RECORD 0x02
#define ACMEH_BPF_USER_APP_ACK 0x20

/* Block type codes (RFC 9171 §9.1, RFC 9172 §11.1). */
#define ACMEH_BLOCK_PAYLOAD 1
#define ACMEH_BLOCK_BUNDLE_AGE 7
#define ACMEH_BLOCK_BIB 11
#define ACMEH_BLOCK_BCB 12

typedef struct {
  uint64_t flags;          /* bundle processing control flags */
  uint64_t crc_type;       /* of the primary block: 0 none, 1 CRC-16, 2 CRC-32C */
  char dest[ACMEH_EID_MAX], src[ACMEH_EID_MAX], report_to[ACMEH_EID_MAX];
  uint64_t created_ms;     /* creation time, ms since the DTN epoch (2000-01-01); 0 = no clock */
  uint64_t seq;            /* creation sequence number */
  uint64_t lifetime_ms;
  int has_age;             /* a Bundle Age block was present / is written */
  uint64_t age_ms;
  int has_bib, has_bcb;    /* BPSec blocks present */
  int bib_covers_primary, bib_covers_payload; /* the BIB's targets include block 0 / block 1 */
  unsigned char *payload;  /* payload block data, malloc'd, owned by the bundle */
  size_t payload_len;
} acmeh_bundle;

/* Checks that data[0..len) is exactly one well-formed CBOR item within the
 * caps above (depth, declared lengths against the bytes left, no tags, at
 * most ACMEH_BUNDLE_MAX bytes). Returns ACMEH_OK, ACMEH_PEER_TOO_LARGE (too
 * big or too deep) or ACMEH_PEER_PROTOCOL (truncated, malformed, trailing
 * bytes), with the reason in msg[0..msglen). */
int acmeh_cbor_check(const unsigned char *data, size_t len, char *msg, size_t msglen);

/* Decodes a bundle from data[0..len) into *out (zeroed first; release with
 * acmeh_bundle_clear). Returns ACMEH_OK, or a PEER code (as acmeh_cbor_check,
 * or ACMEH_PEER_PROTOCOL for a structure RFC 9171 §4.3 does not allow) with
 * the reason in msg, or ACMEH_NOMEM. */
int acmeh_bundle_decode(const unsigned char *data, size_t len, acmeh_bundle *out, char *msg, size_t msglen);

/* Encodes b as an indefinite-length CBOR array of the primary block, a Bundle
 * Age block when b->has_age, then the payload block (CRC type none,
 * shortest-form integers, as the draft's Appendix B examples). *out is
 * malloc'd, the caller frees it. Returns ACMEH_OK, ACMEH_INVALID_ARG (an EID
 * that does not parse, a payload over the cap) or ACMEH_NOMEM. BPSec blocks
 * are not written. */
int acmeh_bundle_encode(const acmeh_bundle *b, unsigned char **out, size_t *outlen);

/* Frees b's payload and zeroes it. Safe on a zeroed bundle. */
void acmeh_bundle_clear(acmeh_bundle *b);

/* Whether text is an EID this module can encode: "dtn:none",
 * "dtn://<node>/<demux>" (node non-empty, no '/' in it) or "ipn:N.S" with
 * decimal N and S (RFC 9171 §4.2.5.1; RFC 9758's three-part ipn form is not
 * read). Returns 1 or 0. */
int acmeh_eid_valid(const char *text);

/* Whether text names a singleton endpoint usable as a Node ID in the
 * administrative form (RFC 9171 §4.2.5.2: "dtn://node/" with an empty demux,
 * or "ipn:N.0"). Returns 1 or 0. */
int acmeh_eid_is_admin_node_id(const char *text);

#endif
