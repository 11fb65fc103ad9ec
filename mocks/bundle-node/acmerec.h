/* The ACME administrative records of RFC 9891 (draft-ietf-acme-dtnnodeid-18
 * §3.3, §3.4, Appendix A) carried in a BPv7 payload block whose bundle has
 * flag 0x02 (payload is an administrative record): the CBOR array
 * [record-type-code, {1: id-chal, 2: token-bundle, 3: [alg, digest] | 4: [alg...]}].
 *
 * The record type code is a parameter: IANA's "Bundle Administrative Record
 * Types" registry assigns 255 to "ACME Node ID Validation" for BP version 7
 * (ACMEH_DTN_RECORD_TYPE); the draft's examples use the placeholder 0xFFFF.
 * Decoding takes peer bytes and applies the caps of bpv7.h. */
#ifndef ACMEH_MOCKS_ACMEREC_H
#define ACMEH_MOCKS_ACMEREC_H

#include <stddef.h>
#include <stdint.h>

#define ACMEH_DTN_RECORD_TYPE 255       /* IANA, Bundle Administrative Record Types, BP 7 (RFC 9891) */
#define ACMEH_DTN_RECORD_PLACEHOLDER 0xFFFF /* draft-18 Appendix A/B placeholder */
#define ACMEH_DTN_ALG_SHA256 (-16)      /* COSE "SHA-256" (RFC 9054) */
#define ACMEH_DTN_MAX_ALGS 16
#define ACMEH_DTN_MAX_BSTR 64           /* bytes of id-chal, token-bundle or a digest */

/* Record map keys (draft-18 §3.3, §3.4). */
#define ACMEH_DTN_KEY_ID_CHAL 1
#define ACMEH_DTN_KEY_TOKEN_BUNDLE 2
#define ACMEH_DTN_KEY_DIGEST 3
#define ACMEH_DTN_KEY_ALG_LIST 4

typedef struct {
  uint64_t type_code;                 /* first element of the admin record */
  unsigned keys;                      /* bit k set: map key k (1..4) present; bit 0: another key */
  unsigned char id_chal[ACMEH_DTN_MAX_BSTR];
  size_t id_chal_len;
  unsigned char token_bundle[ACMEH_DTN_MAX_BSTR];
  size_t token_bundle_len;
  int64_t digest_alg;                 /* key 3: alg (an int alg; a text alg is refused) */
  unsigned char digest[ACMEH_DTN_MAX_BSTR];
  size_t digest_len;
  int64_t algs[ACMEH_DTN_MAX_ALGS];   /* key 4, in the sender's order of preference */
  size_t alg_count;
  size_t alg_text_count;              /* text alg-ids in key 4, which this harness knows none of */
} acmeh_dtn_record;

/* Encodes the record as the payload of an administrative record bundle:
 * [type_code, map] with the keys r->keys names (1, 2 and 4 for a challenge,
 * 1, 2 and 3 for a response), in key order, shortest-form integers. *out is
 * malloc'd (caller frees). Returns ACMEH_OK, ACMEH_INVALID_ARG or ACMEH_NOMEM. */
int acmeh_dtn_record_encode(const acmeh_dtn_record *r, unsigned char **out, size_t *outlen);

/* Decodes a payload into *r (zeroed first). Accepts any record type code
 * (the caller compares r->type_code with its setting) and any subset of the
 * keys (the caller decides which are required, keys records what came).
 * Returns ACMEH_OK, or a PEER code with the reason in msg (malformed CBOR,
 * caps exceeded, a key of the wrong type, an over-long byte string, a
 * repeated key), or ACMEH_NOMEM. */
int acmeh_dtn_record_decode(const unsigned char *data, size_t len, acmeh_dtn_record *r, char *msg, size_t msglen);

#endif
