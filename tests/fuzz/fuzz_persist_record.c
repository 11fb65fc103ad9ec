/* A dns-persist-01 TXT record as the reference server reads it
 * (harness/server/persist.c): the joined character-strings, parsed by
 * acmeh_persist_parse (RFC 8659 issue-value; harness/acme/persist.h), the
 * issuer normalized and checked as a challenge list entry would be, and the
 * -02 account digest computed over the parsed accounturi as a domain. The
 * input is the record's octets, NULs included. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  acmeh_persist_rec r;
  char why[200], h[44];
  (void)acmeh_persist_parse((const char *)data, size, &r, why, sizeof why);
  if (r.issuer) (void)acmeh_persist_issuer_ok(acmeh_persist_issuer_norm(r.issuer), why, sizeof why);
  if (r.accounturi) (void)acmeh_persist_account_hash(r.accounturi, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", r.issuer, h);
  char *name = r.issuer ? acmeh_persist_name(r.issuer) : NULL;
  free(name);
  acmeh_persist_rec_free(&r);
  return 0;
}
