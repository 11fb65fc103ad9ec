/* A key identifier and a pk-01 proof as the reference server reads them
 * (draft-geng-acme-public-key; harness/acme/pk.h): the first byte picks the
 * identifier type (pk, selfsign-cert, csr), the rest up to the first NUL is
 * the identifier's value; after that NUL, the proof string, verified for the
 * token "t" under the identifier's key when it read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/pk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const types[] = {"pk", "selfsign-cert", "csr"};
  if (size < 1) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  size_t vlen = strlen(text);
  const char *proof = vlen + 1 < size ? text + vlen + 1 : "";
  EVP_PKEY *key = NULL;
  char why[300];
  if (acmeh_pk_ident_key(types[data[0] % 3], text, &key, why, sizeof why) == 0)
    (void)acmeh_pk_proof_verify(key, proof, "t", why, sizeof why);
  EVP_PKEY_free(key);
  free(text);
  return 0;
}
