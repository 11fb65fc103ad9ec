#include "tests/unit/support/server_client.h"

#include <stdio.h>

#include "harness/client/flow.h"
#include "base/error.h"

acmeh_acme *acmeh_test_client(const acmeh_server *s) {
  acmeh_acme_config cfg = {.directory_url = acmeh_server_directory_url(s), .ca_file = acmeh_server_ca_file(s)};
  acmeh_acme *c = NULL;
  char err[1024];
  if (acmeh_acme_new(&cfg, &c, err, sizeof err) != ACMEH_OK) fprintf(stderr, "client: %s\n", err);
  return c;
}

acmeh_acme *acmeh_test_account(const acmeh_server *s) {
  acmeh_acme *c = acmeh_test_client(s);
  char err[1024];
  if (c && acmeh_flow_new_account(c, ACMEH_KEY_ES256, NULL, NULL, err, sizeof err) != ACMEH_OK) {
    fprintf(stderr, "account: %s\n", err);
    acmeh_acme_free(c);
    c = NULL;
  }
  return c;
}
