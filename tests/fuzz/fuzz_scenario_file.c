/* A scenarios.json as acmeh_scenarios_load reads it: the JSON text, then
 * every definition through acmeh_scenario_check (harness/runner/scenario.h). */
#include <jansson.h>
#include <stdint.h>

#include "harness/runner/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  const char *name;
  json_t *def;
  char err[512];
  json_object_foreach(doc, name, def) acmeh_scenario_check("fuzz", name, def, err, sizeof err);
  json_decref(doc);
  return 0;
}
