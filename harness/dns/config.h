/* Configuration of harness/dns from the command line and from a nameserver
 * target's "nameserver" object (targets/bind.json). */
#ifndef ACMEH_DNS_CONFIG_H
#define ACMEH_DNS_CONFIG_H

#include <jansson.h>

#include "harness/dns/update.h"

/* The reference client's DNS-UPDATE mode from `run` options:
 * server "ADDRESS:PORT" (numeric), zone (apex, final dot optional) and
 * key "name:alg:base64secret". All three are needed. Returns ACMEH_OK or
 * ACMEH_INVALID_ARG with a message naming the option in err. */
int acmeh_dnsupdate_cfg_parse(const char *server, const char *zone, const char *key, acmeh_dnsupdate_cfg *out,
                              char *err, size_t errlen);

/* Fills *out from {"address","port","zone","key":{name,algorithm,secret},
 * "key512":{...}?, "other":{...,"scope"}?} (variables already expanded).
 * Returns ACMEH_OK or ACMEH_INVALID_ARG with the reason in err. */
int acmeh_ns_env_from_json(const json_t *ns, acmeh_ns_env *out, char *err, size_t errlen);

#endif
