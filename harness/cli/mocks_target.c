/* `run --mocks NAME` (mocks_target.h). */
#include "harness/cli/mocks_target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "harness/client/challtestsrv.h"
#include "harness/targets/process.h"

/* A port of the expanded "mocks" object: an integer in 1..65535, or -1. */
static int port_of(const json_t *mocks, const char *key) {
  json_int_t v = json_integer_value(json_object_get(mocks, key));
  return v > 0 && v < 65536 ? (int)v : -1;
}

static int fill(const char *name, acmeh_cli_mocks_target *t) {
  const json_t *mk = acmeh_target_mocks(t->tr);
  const char *mgmt = json_string_value(json_object_get(mk, "management"));
  t->ports = (acmeh_target_ports){port_of(mk, "dns_port"), port_of(mk, "http01_port"), port_of(mk, "tlsalpn01_port")};
  if (!mgmt || t->ports.dns < 0 || t->ports.http01 < 0 || t->ports.tlsalpn01 < 0)
    return fprintf(stderr, "acme-harness: mock target %s: \"mocks\" needs dns_port, http01_port, tlsalpn01_port "
                           "(\"${PORT_x:int}\") and management (a URL)\n", name), 2;
  snprintf(t->mgmt, sizeof t->mgmt, "%s", mgmt);
  return 0;
}

int acmeh_cli_mocks_start(const char *name, const char *run_dir, acmeh_mocks *m, acmeh_cli_mocks_target *t,
                          acmeh_publisher *p) {
  char err[1024], dir[4096], tdir[4096];
  json_t *doc = NULL;
  if (acmeh_target_load(name, &doc, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  const char *role = json_string_value(json_object_get(doc, "role"));
  if (strcmp(role, "mocks") != 0) {
    fprintf(stderr, "acme-harness: target %s is a %s target; --mocks wants a mocks target (challtestsrv)\n", name, role);
    return json_decref(doc), 2;
  }
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(doc, "requires"), i, r) if (!acmeh_proc_in_path(json_string_value(r))) {
    fprintf(stderr, "acme-harness: %s needs %s, which is not installed (run ci/setup)\n", name, json_string_value(r));
    return json_decref(doc), 2;
  }
  snprintf(dir, sizeof dir, "%s/mocks", run_dir);
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return fprintf(stderr, "acme-harness: %s: %s\n", dir, strerror(errno)), json_decref(doc), 2;
  int rc = acmeh_target_start(doc, dir, m, &t->tr, err, sizeof err);
  if (rc == ACMEH_OK && acmeh_target_version(doc, acmeh_target_dir(name, tdir, sizeof tdir), t->version, sizeof t->version))
    t->version[0] = '\0';
  json_decref(doc);
  if (rc) return fprintf(stderr, "acme-harness: mock target %s: %s\n", name, err), 2;
  if (fill(name, t)) return 2;
  if (acmeh_challtestsrv_wait(t->mgmt, 10000, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  if (acmeh_publisher_challtestsrv(p, m, t->mgmt)) return fputs("acme-harness: out of memory\n", stderr), 2;
  printf("mocks %s%s%s: DNS on 127.0.0.1:%d, http-01 on :%d, tls-alpn-01 on :%d, management API %s (its log %s)\n", name,
         t->version[0] ? " " : "", t->version, t->ports.dns, t->ports.http01, t->ports.tlsalpn01, t->mgmt, acmeh_target_log(t->tr));
  fflush(stdout);
  return 0;
}

void acmeh_cli_mocks_stop(acmeh_cli_mocks_target *t) {
  acmeh_target_stop(t->tr);
  t->tr = NULL;
}
