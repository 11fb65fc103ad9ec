/* A target file (targets/<name>.json, or one a user names with --target) as
 * acmeh_target_load reads it: JSON text, then the shape check by role
 * (acmeh_target_check). */
#include <jansson.h>
#include <stdint.h>

#include "harness/targets/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *doc = json_loadb((const char *)data, size, 0, NULL);
  if (!doc) return 0;
  char err[512];
  (void)acmeh_target_check(doc, "fuzz-input.json", err, sizeof err);
  json_decref(doc);
  return 0;
}
