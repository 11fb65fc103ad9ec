/* A request body as the reference server reads it: a flattened JWS
 * (acmeh_jws_parse, RFC 7515 §7.2.2), then its protected header's jwk as a
 * key (acmeh_key_from_jwk) and the signature checked with it, as for
 * newAccount (RFC 8555 §6.2). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness/acme/jwk.h"
#include "harness/acme/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  acmeh_jws_parsed p;
  char err[256];
  if (acmeh_jws_parse((const char *)data, size, &p, err, sizeof err) != 0) return 0;
  acmeh_key *key = NULL;
  if (acmeh_key_from_jwk(json_object_get(p.protected_hdr, "jwk"), &key) == 0) {
    acmeh_jws_verify(&p, key);
    acmeh_key_free(key);
  }
  acmeh_jws_parsed_free(&p);
  return 0;
}
