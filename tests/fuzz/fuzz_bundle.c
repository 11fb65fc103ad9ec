/* A bundle as the mock bundle node and the DTN reference sides read one from
 * a TCPCL transfer (RFC 9171 §4, RFC 9891 §3.3/§3.4): the CBOR pre-check and
 * bundle decoder (acmeh_bundle_decode), then the ACME administrative record in
 * its payload (acmeh_dtn_record_decode), and the record decoder alone on the
 * raw input, as a payload could hold anything. A decoded bundle is encoded
 * again (acmeh_bundle_encode) to exercise the writer on odd field values. */
#include <stdint.h>
#include <stdlib.h>

#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char msg[256];
  acmeh_bundle b;
  acmeh_dtn_record r;
  (void)acmeh_dtn_record_decode(data, size, &r, msg, sizeof msg);
  if (acmeh_bundle_decode(data, size, &b, msg, sizeof msg) != 0) return 0;
  (void)acmeh_dtn_record_decode(b.payload, b.payload_len, &r, msg, sizeof msg);
  unsigned char *out = NULL;
  size_t outlen = 0;
  if (acmeh_bundle_encode(&b, &out, &outlen) == 0) free(out);
  acmeh_bundle_clear(&b);
  return 0;
}
