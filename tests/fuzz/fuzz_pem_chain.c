/* A certificate download as the reference client reads it (RFC 8555 §7.4.2):
 * a PEM chain (acmeh_pem_chain_parse), capped at ACMEH_PEM_CHAIN_MAX. */
#include <openssl/x509.h>
#include <stdint.h>

#include "harness/acme/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  STACK_OF(X509) *chain = NULL;
  char err[256];
  if (acmeh_pem_chain_parse((const char *)data, size, &chain, err, sizeof err) == 0) sk_X509_pop_free(chain, X509_free);
  return 0;
}
