/* Internal to mocks/bundle-node: the streaming pre-check behind
 * acmeh_cbor_check (bpv7.h), also for CBOR sequences such as a BPSec ASB
 * (RFC 9172 §3.6). */
#ifndef ACMEH_MOCKS_CBORSAFE_H
#define ACMEH_MOCKS_CBORSAFE_H

#include <stddef.h>

/* Checks the first CBOR item of data[0..len) against the caps of bpv7.h and
 * stores its length in *first_len (may be NULL). With sequence == 0 bytes
 * after it are an error; with 1 they are left for the caller. Returns
 * ACMEH_OK or a PEER code with the reason in msg. */
int acmeh_cbor_scan(const unsigned char *data, size_t len, int sequence, size_t *first_len, char *msg, size_t msglen);

#endif
