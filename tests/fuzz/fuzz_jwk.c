/* A JWK as the reference server reads one from a request's protected header
 * (RFC 7515 §4.1.3, RFC 8555 §6.2) and the client from a key file: JSON text
 * (jansson, as acmeh_jws_parse reads it), the RSA size pre-check
 * (acmeh_jwk_rsa_bits), the key itself (acmeh_key_from_jwk), then the RFC 7638
 * thumbprint of both the JSON (acmeh_jwk_thumbprint) and the key built from it
 * (acmeh_key_thumbprint, acmeh_key_jwk), as account lookup does. */
#include <jansson.h>
#include <stdint.h>

#include "harness/acme/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *jwk = json_loadb((const char *)data, size, 0, NULL);
  if (!jwk) return 0;
  char tp[44];
  (void)acmeh_jwk_rsa_bits(jwk);
  (void)acmeh_jwk_thumbprint(jwk, tp);
  acmeh_key *key = NULL;
  if (acmeh_key_from_jwk(jwk, &key) == 0) {
    (void)acmeh_key_thumbprint(key, tp);
    json_decref(acmeh_key_jwk(key));
    acmeh_key_free(key);
  }
  json_decref(jwk);
  return 0;
}
