/* Authority Tokens and their DER as the reference server reads a tkauth-01
 * response and a newOrder identifier (harness/acme/atc.h): the input's first
 * byte picks the parser, the rest is the peer's bytes. 't': a compact JWS
 * through acmeh_atc_token_parse, then acmeh_atc_validate up to its x5c or
 * x5c step (no trust file: the chain is refused; a token naming an x5u is
 * only split, never fetched); 'v': an identifier value through
 * acmeh_atc_value_decode and acmeh_atc_der_check for each kind; anything
 * else: raw DER through acmeh_atc_der_check and acmeh_atc_jcc_kind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/atc.h"

static void der(const unsigned char *d, size_t n) {
  char why[256];
  for (int k = ACMEH_DER_TNAUTHLIST; k <= ACMEH_DER_EJCC; k++) (void)acmeh_atc_der_check((acmeh_atc_der_kind)k, d, n, why, sizeof why);
  (void)acmeh_atc_jcc_kind(d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char *text = malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  char why[512];
  if (data[0] == 't') {
    acmeh_atc_token t;
    int fetches = acmeh_atc_token_parse(text, &t, why, sizeof why) == 0 && json_object_get(t.header, "x5u");
    acmeh_atc_token_free(&t);
    if (fetches) { /* never a network fetch from a fuzz input */
      free(text);
      return 0;
    }
    acmeh_atc_expect e = {.tktype = "TNAuthList", .tkvalue = "MAigBhYEMTIzNA", .thumb = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                          .trust_file = NULL, .now = 1.7e9, .x5u_timeout_ms = 200};
    acmeh_atc_result r;
    (void)acmeh_atc_validate(text, &e, &r, why, sizeof why);
  } else if (data[0] == 'v') {
    unsigned char *d = NULL;
    size_t n = 0;
    if (acmeh_atc_value_decode(text, &d, &n, why, sizeof why) == 0) der(d, n);
    free(d);
  } else {
    der(data + 1, size - 1);
  }
  free(text);
  return 0;
}
