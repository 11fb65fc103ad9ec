/* Bytes a TCPCLv4 neighbour sends the mock bundle node or a DTN reference
 * side's entity (RFC 9174): the contact header (acmeh_tcpcl_contact_parse),
 * then messages parsed one after another as a session reads them
 * (acmeh_tcpcl_parse, which must ask for more or refuse, never read past the
 * input), each parsed message written back (acmeh_tcpcl_write) and a
 * segment's data decoded as a bundle (acmeh_bundle_decode). */
#include <stdint.h>
#include <stdlib.h>

#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/tcpcl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char msg[256];
  int version;
  int used = acmeh_tcpcl_contact_parse(data, size, &version, msg, sizeof msg);
  size_t off = used > 0 ? (size_t)used : 0;
  while (off < size) {
    acmeh_tcpcl_msg m;
    int n = acmeh_tcpcl_parse(data + off, size - off, &m, msg, sizeof msg);
    if (n <= 0) break;
    off += (size_t)n;
    unsigned char *out;
    size_t outlen;
    if (acmeh_tcpcl_write(&m, &out, &outlen) == 0) free(out);
    acmeh_bundle b;
    if (m.type == ACMEH_TCPCL_XFER_SEGMENT && acmeh_bundle_decode(m.data, m.length, &b, msg, sizeof msg) == 0) acmeh_bundle_clear(&b);
  }
  return 0;
}
