/* A CSR as the reference server's finalize reads it (RFC 8555 §7.4): the
 * "csr" string, base64url DER (acmeh_csr_read), then the checks finalize
 * applies in its order: the key's form (acmeh_spki_form_ok), the
 * self-signature (acmeh_csr_verify), the key's type and size
 * (acmeh_key_from_pkey, srv_key_acceptable, thumbprint; the account lookup
 * needs a server and is left out) and the names (srv_csr_names_ok) against
 * the order of the seeds: example.com, www.example.com, 192.0.2.1. The input
 * is the csr string itself, without JSON quoting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/csr.h"
#include "harness/server/internal.h"

static char *const ORDER[] = {"example.com", "www.example.com", "192.0.2.1"};

static void check_key(EVP_PKEY *pub) {
  acmeh_key *k = NULL;
  char why[256], tp[44];
  if (acmeh_key_from_pkey(pub, &k) == 0 && srv_key_acceptable(k, NULL, why, sizeof why)) (void)acmeh_key_thumbprint(k, tp);
  acmeh_key_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0'; /* as json_string_value hands it over (a NUL inside ends it) */
  acmeh_csr *req = NULL;
  if (acmeh_csr_read(text, &req) == 0) {
    char why[256] = "";
    if (acmeh_spki_form_ok(acmeh_csr_spki(req), why, sizeof why)) (void)acmeh_csr_verify(req);
    if (acmeh_csr_key(req)) check_key(acmeh_csr_key(req));
    (void)srv_csr_names_ok(req, ORDER, 3, why, sizeof why);
  }
  acmeh_csr_free(req);
  free(text);
  return 0;
}
