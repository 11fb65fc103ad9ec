/* What a client sends the mock Tor (mocks/socks5): the greeting, then the
 * CONNECT request, parsed as the proxy parses its buffer, byte prefix by byte
 * prefix as they may arrive (acmeh_socks5_parse_greeting,
 * acmeh_socks5_parse_request, RFC 1928 §3-§5). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mocks/socks5/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *why = NULL;
  int no_auth = 0;
  if (size > 2 * ACMEH_SOCKS5_MAX_REQUEST) size = 2 * ACMEH_SOCKS5_MAX_REQUEST; /* the proxy's buffer cap */
  for (size_t n = 0; n <= size; n++) {
    int g = acmeh_socks5_parse_greeting(data, n, &no_auth, &why);
    if (g < 0) return 0;
    if (g == 0) continue;
    for (size_t m = (size_t)g; m <= size; m++) {
      acmeh_socks5_request req;
      int r = acmeh_socks5_parse_request(data + g, m - (size_t)g, &req, &why);
      if (r > 0 && (r > (int)(m - (size_t)g) || strlen(req.host) > 255 || req.port < 0 || req.port > 65535)) abort();
      if (r != 0) break;
    }
    break;
  }
  return 0;
}
