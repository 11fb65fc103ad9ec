/* bp-nodeid-00 key authorization and digest (dtn.h). */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/dtn.h"

char *acmeh_dtn_key_authorization(const char *token_bundle, const char *token_chal, const char *thumbprint) {
  if (!token_bundle || !token_chal || !thumbprint) return NULL;
  size_t a = strlen(token_bundle), b = strlen(token_chal), c = strlen(thumbprint);
  char *ka = malloc(a + b + c + 2);
  if (!ka) return NULL;
  memcpy(ka, token_bundle, a);
  memcpy(ka + a, token_chal, b);
  ka[a + b] = '.';
  memcpy(ka + a + b + 1, thumbprint, c + 1);
  return ka;
}

int acmeh_dtn_digest_sha256(const char *keyauth, unsigned char out[32]) {
  if (!keyauth) return ACMEH_INVALID_ARG;
  unsigned int n = 0;
  return EVP_Digest(keyauth, strlen(keyauth), out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? ACMEH_OK : ACMEH_INTERNAL;
}
