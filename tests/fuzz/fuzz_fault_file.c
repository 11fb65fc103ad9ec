/* A fault file (`serve --faults FILE`, harness/server/fault.h) as
 * acmeh_faults_load reads it: JSON text with duplicate keys refused, then
 * acmeh_faults_validate, which builds the server's rule table
 * (srv_faults_new) and frees it again. */
#include <jansson.h>
#include <stdint.h>

#include "harness/server/fault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *rules = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  if (!rules) return 0;
  char err[512];
  (void)acmeh_faults_validate(rules, err, sizeof err);
  json_decref(rules);
  return 0;
}
