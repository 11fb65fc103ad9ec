/* RFC 9799 responses of the reference client (onion.h). */
#include "harness/client/onion.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rand.h"
#include "harness/acme/onion.h"

int acmeh_client_onion_response(EVP_PKEY *onion_key, const json_t *chal, const acmeh_onion_response_opts *o,
                                char **payload, char *err, size_t errlen) {
  static const acmeh_onion_response_opts plain = {0};
  if (!o) o = &plain;
  *payload = NULL;
  const char *b64 = json_string_value(json_object_get(chal, "nonce"));
  unsigned char nonce[ACMEH_ONION_NONCE_MAX], app[64];
  size_t n = 0, alen = o->app_len ? o->app_len : 10;
  if (!b64 || acmeh_onion_nonce_decode(b64, nonce, sizeof nonce, &n) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "onion-csr-01 challenge without a padded standard base64 \"nonce\"");
  if (alen > sizeof app || acmeh_rand_bytes(app, alen) != ACMEH_OK) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "no random bytes");
  char *csr = NULL;
  int rc = acmeh_onion_csr_build(o->sign_key ? o->sign_key : onion_key, o->nonce_text ? (const unsigned char *)b64 : nonce,
                                 o->nonce_text ? strlen(b64) : n, app, alen, &csr);
  if (rc) return acmeh_msg(err, errlen, rc, "cannot build the onion-csr-01 CSR");
  json_t *p = json_pack("{s:s}", "csr", csr);
  *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p), free(csr);
  return *payload ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory");
}

json_t *acmeh_client_onion_caa(EVP_PKEY *onion_key, const char *const *names, size_t n, const char *caa, long long expiry) {
  json_t *all = json_object();
  for (size_t i = 0; all && i < n; i++) {
    char base[63], *sig = NULL;
    const char *name = strncmp(names[i], "*.", 2) == 0 ? names[i] + 2 : names[i];
    if (acmeh_onion_base(name, base) != ACMEH_OK || json_object_get(all, base)) continue;
    if (acmeh_onion_caa_sign(onion_key, expiry, caa, &sig) != ACMEH_OK) return json_decref(all), NULL;
    json_object_set_new(all, base, json_pack("{s:o,s:I,s:s}", "caa", caa ? json_string(caa) : json_null(), "expiry",
                                             (json_int_t)expiry, "signature", sig));
    free(sig);
  }
  if (all && json_object_size(all) == 0) json_decref(all), all = NULL;
  return all;
}
