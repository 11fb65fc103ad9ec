/* `run --mocks NAME`: a mock target (targets/NAME.json, role "mocks") started
 * beside the harness's own mocks, whose DNS, http-01 and tls-alpn-01 ports the
 * server target is pointed at and whose management API the reference client
 * publishes through (today pebble-challtestsrv: targets/challtestsrv.json,
 * harness/client/challtestsrv.h). Not a public API: run.c's helper. */
#ifndef ACMEH_CLI_MOCKS_TARGET_H
#define ACMEH_CLI_MOCKS_TARGET_H

#include <stddef.h>

#include "harness/client/publish.h"
#include "harness/targets/target.h"

typedef struct {
  acmeh_target_run *tr;     /* the started process */
  acmeh_target_ports ports; /* its DNS, http-01 and tls-alpn-01 ports */
  char mgmt[256];           /* its management API's base URL */
  char version[128];        /* its "version" command's answer, or "" */
} acmeh_cli_mocks_target;

/* Loads mock target `name` (a name in targets/ or a path), starts it with its
 * files and log in <run_dir>/mocks/ (made here), waits for its management
 * API and fills *t and the publisher *p (free with acmeh_cli_mocks_stop).
 * `m` is the run's own mocks (borrowed; kept in p->mocks). Returns 0, or 2
 * (usage or environment error) after printing why. */
int acmeh_cli_mocks_start(const char *name, const char *run_dir, acmeh_mocks *m, acmeh_cli_mocks_target *t,
                          acmeh_publisher *p);

/* Stops the process. Safe on a zeroed t. The publisher stays valid (a check
 * abandoned past its budget may still call it; its posts then fail): free it
 * with acmeh_publisher_challtestsrv_free once no check runs. */
void acmeh_cli_mocks_stop(acmeh_cli_mocks_target *t);

#endif
