/* Configuration of harness/dns from the CLI and from nameserver targets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/dns/config.h"

int acmeh_dnsupdate_cfg_parse(const char *server, const char *zone, const char *key, acmeh_dnsupdate_cfg *out,
                              char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!server || !zone || !key)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--dns-update-server, --dns-update-zone and --tsig-key go together");
  const char *colon = strrchr(server, ':');
  char *end = NULL;
  long port = colon ? strtol(colon + 1, &end, 10) : 0;
  if (!colon || colon == server || (size_t)(colon - server) >= sizeof out->addr || !end || *end || port < 1 || port > 65535)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--dns-update-server \"%.80s\" is not ADDRESS:PORT", server);
  snprintf(out->addr, sizeof out->addr, "%.*s", (int)(colon - server), server);
  out->port = (int)port;
  size_t zl = strlen(zone);
  if (zl == 0 || zl > 250) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--dns-update-zone is empty or too long");
  snprintf(out->zone, sizeof out->zone, "%s%s", zone, zone[zl - 1] == '.' ? "" : ".");
  return acmeh_tsig_key_parse(key, &out->key, err, errlen);
}

static int key_from_json(const json_t *j, acmeh_tsig_key *k, char *err, size_t errlen) {
  return acmeh_tsig_key_set(k, json_string_value(json_object_get(j, "name")),
                            json_string_value(json_object_get(j, "algorithm")),
                            json_string_value(json_object_get(j, "secret")), err, errlen);
}

int acmeh_ns_env_from_json(const json_t *ns, acmeh_ns_env *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *addr = json_string_value(json_object_get(ns, "address"));
  const char *zone = json_string_value(json_object_get(ns, "zone"));
  json_int_t port = json_integer_value(json_object_get(ns, "port"));
  if (!addr || !zone || port < 1 || port > 65535 || strlen(addr) >= sizeof out->addr || strlen(zone) > 250)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "nameserver target needs \"address\", \"port\" and \"zone\"");
  snprintf(out->addr, sizeof out->addr, "%s", addr);
  snprintf(out->zone, sizeof out->zone, "%s%s", zone, zone[strlen(zone) - 1] == '.' ? "" : ".");
  out->port = (int)port;
  int rc = key_from_json(json_object_get(ns, "key"), &out->key, err, errlen);
  const json_t *k512 = json_object_get(ns, "key512"), *other = json_object_get(ns, "other");
  if (!rc && k512) rc = key_from_json(k512, &out->key512, err, errlen), out->have_key512 = !rc;
  if (!rc && other) {
    const char *scope = json_string_value(json_object_get(other, "scope"));
    rc = scope ? key_from_json(other, &out->other, err, errlen)
               : acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "nameserver \"other\" key needs a \"scope\"");
    if (!rc) snprintf(out->other_scope, sizeof out->other_scope, "%s", scope), out->have_other = 1;
  }
  return rc;
}
