#include "harness/targets/target.h"
#include "harness/targets/vars.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "harness/client/http.h"
#include "harness/dns/update.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/self.h"
#include "harness/runner/catalog.h"
#include "harness/targets/pki.h"
#include "harness/targets/process.h"


struct acmeh_target_run {
  acmeh_proc *proc;
  char *directory;
  char *ca_file;
  char log[4096];
  acmeh_vars vars;
  json_t *nameserver; /* expanded "nameserver" object of a nameserver target */
};

int acmeh_target_load(const char *name_or_path, json_t **doc, char *err, size_t errlen) {
  char path[4096];
  if (strchr(name_or_path, '/') || strstr(name_or_path, ".json"))
    snprintf(path, sizeof path, "%s", name_or_path);
  else
    snprintf(path, sizeof path, "%s/targets/%s.json", acmeh_data_dir(), name_or_path);
  json_error_t je;
  *doc = json_load_file(path, 0, &je);
  if (!*doc) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "target %s: %s (%s)", name_or_path, je.text, path);
  return ACMEH_OK;
}

int acmeh_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

static void set_var(acmeh_target_run *r, const char *name, const char *value) { acmeh_vars_set(&r->vars, name, value); }
static void set_var_int(acmeh_target_run *r, const char *name, int v) { acmeh_vars_set_int(&r->vars, name, v); }
static char *expand(const acmeh_target_run *r, const char *s) { return acmeh_vars_expand(&r->vars, s); }
static json_t *expand_json(const acmeh_target_run *r, const json_t *j) { return acmeh_vars_expand_json(&r->vars, j); }

static int write_files(acmeh_target_run *r, const json_t *doc, const char *run_dir, char *err, size_t errlen) {
  const char *name;
  json_t *content;
  json_object_foreach(json_object_get(doc, "files"), name, content) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", run_dir, name);
    json_t *x = expand_json(r, content);
    int rc = json_is_string(x) ? 0 : json_dump_file(x, path, JSON_INDENT(2));
    if (json_is_string(x)) {
      FILE *f = fopen(path, "w");
      rc = !f || fputs(json_string_value(x), f) < 0;
      if (f) rc |= fclose(f) != 0;
    }
    json_decref(x);
    if (rc) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot write %s", path);
  }
  return ACMEH_OK;
}

/* "secrets": {"NAME": octets} -> ${SECRET_NAME}, fresh random base64 per run
 * (a nameserver target's TSIG keys, shared with the checks via its files). */
static int make_secrets(acmeh_target_run *r, const json_t *doc, char *err, size_t errlen) {
  const char *name;
  json_t *n;
  json_object_foreach(json_object_get(doc, "secrets"), name, n) {
    unsigned char raw[64];
    char b64[100], var[96];
    json_int_t len = json_integer_value(n);
    if (len < 16 || len > 64 || RAND_bytes(raw, (int)len) != 1)
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "secret %s: give 16 to 64 octets", name);
    EVP_EncodeBlock((unsigned char *)b64, raw, (int)len);
    snprintf(var, sizeof var, "SECRET_%s", name);
    set_var(r, var, b64);
  }
  return ACMEH_OK;
}

static int prepare_vars(acmeh_target_run *r, const json_t *doc, const char *run_dir, acmeh_mocks *m,
                        char *err, size_t errlen) {
  set_var(r, "RUN_DIR", run_dir);
  /* The running binary, so a target can be the harness itself (reference.json: `serve`). */
  if (acmeh_self_exe()) set_var(r, "ACMEH_BIN", acmeh_self_exe());
  set_var_int(r, "DNS_PORT", acmeh_mocks_dns_port(m));
  set_var_int(r, "HTTP01_PORT", acmeh_mocks_http01_port(m));
  set_var_int(r, "TLSALPN01_PORT", acmeh_mocks_tlsalpn01_port(m));
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(doc, "ports"), i, p) {
    char name[96];
    int port = acmeh_free_port();
    if (port < 0 || !json_is_string(p)) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "no free port for the target");
    snprintf(name, sizeof name, "PORT_%s", json_string_value(p));
    set_var_int(r, name, port);
  }
  int rc = make_secrets(r, doc, err, errlen);
  if (rc) return rc;
  if (json_is_true(json_object_get(doc, "make_server_cert"))) {
    rc = acmeh_pki_make_server_cert(run_dir, err, errlen);
    if (rc) return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/ca.pem", run_dir), set_var(r, "CA_CERT", path);
    snprintf(path, sizeof path, "%s/server-cert.pem", run_dir), set_var(r, "SERVER_CERT", path);
    snprintf(path, sizeof path, "%s/server-key.pem", run_dir), set_var(r, "SERVER_KEY", path);
  }
  return write_files(r, doc, run_dir, err, errlen);
}

/* "mock_dns": {"zone", "keys": [mocks key definitions]}: the run's own mock DNS
 * is the nameserver under test, configured in process (nothing to start). */
static int configure_mock_dns(acmeh_target_run *r, const json_t *doc, acmeh_mocks *m, char *err, size_t errlen) {
  json_t *cfg = expand_json(r, json_object_get(doc, "mock_dns"));
  const char *zone = json_string_value(json_object_get(cfg, "zone"));
  int rc = zone ? acmeh_mocks_add_zone(m, zone) : acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "mock_dns needs a \"zone\"");
  if (zone && rc) acmeh_msg(err, errlen, rc, "mock DNS refused zone %s", zone);
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(cfg, "keys"), i, k) if (!rc) rc = acmeh_mocks_add_tsig_key(m, k, err, errlen);
  json_decref(cfg);
  snprintf(r->log, sizeof r->log, "(none: the run's mock DNS, in process)");
  return rc;
}

static int spawn(acmeh_target_run *r, const json_t *doc, const char *run_dir, char *err, size_t errlen) {
  json_t *argv_j = expand_json(r, json_object_get(doc, "command"));
  json_t *env_j = expand_json(r, json_object_get(doc, "env"));
  size_t n = json_array_size(argv_j), ne = json_object_size(env_j), i = 0;
  const char **argv = calloc(n + 1, sizeof *argv);
  char **env = calloc(ne + 1, sizeof *env);
  json_t *v;
  const char *k;
  json_array_foreach(argv_j, i, v) argv[i] = json_string_value(v);
  i = 0;
  json_object_foreach(env_j, k, v) if (asprintf(&env[i], "%s=%s", k, json_string_value(v)) >= 0) i++;
  snprintf(r->log, sizeof r->log, "%s/target.log", run_dir);
  int rc = n && argv[0] ? acmeh_proc_start(argv, (const char *const *)env, run_dir, r->log, &r->proc, err, errlen)
                        : acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target has no \"command\"");
  for (i = 0; i < ne; i++) free(env[i]);
  free(env);
  free(argv);
  json_decref(argv_j);
  json_decref(env_j);
  return rc;
}

static void log_tail(const char *path, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  out[0] = '\0';
  if (!f) return;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, size > 400 ? size - 400 : 0, SEEK_SET);
  size_t got = fread(out, 1, len - 1, f);
  out[got] = '\0';
  for (char *p = out; *p; p++) if (*p == '\n') *p = ' ';
  fclose(f);
}

/* A nameserver target is ready when it answers NOERROR to its zone's SOA. */
static int ns_ready(const acmeh_target_run *r) {
  const char *addr = json_string_value(json_object_get(r->nameserver, "address"));
  const char *zone = json_string_value(json_object_get(r->nameserver, "zone"));
  int port = (int)json_integer_value(json_object_get(r->nameserver, "port")), rcode = -1;
  char *ans = NULL;
  int rc = addr && zone ? acmeh_dns_query(addr, port, zone, "SOA", 500, &rcode, &ans, NULL, 0) : ACMEH_INVALID_ARG;
  free(ans);
  return rc == ACMEH_OK && rcode == 0;
}

static int wait_ready(acmeh_target_run *r, const json_t *doc, char *err, size_t errlen) {
  json_int_t ms = json_integer_value(json_object_get(json_object_get(doc, "ready"), "timeout_ms"));
  double until = acmeh_now_mono() + (ms > 0 ? (double)ms : 15000) / 1000;
  acmeh_http_config hc = {.ca_file = r->ca_file, .request_timeout_ms = 2000};
  acmeh_http *h = NULL;
  if (acmeh_http_new(&hc, &h)) return ACMEH_NOMEM;
  int rc = ACMEH_ENV_NOT_READY, status = 0;
  while (acmeh_now_mono() < until && rc && !acmeh_proc_interrupted()) {
    if (r->proc && !acmeh_proc_running(r->proc, &status)) break;
    acmeh_http_resp resp = {0};
    if (r->nameserver ? ns_ready(r)
                      : acmeh_http_request(h, "GET", r->directory, NULL, NULL, 0, NULL, &resp, NULL, 0) == ACMEH_OK &&
                            resp.status == 200)
      rc = ACMEH_OK;
    acmeh_http_resp_free(&resp);
    if (rc) acmeh_sleep_ms(20);
  }
  acmeh_http_free(h);
  if (rc && acmeh_proc_interrupted())
    return acmeh_msg(err, errlen, rc, "target start interrupted (Ctrl-C) before %s answered",
                     r->nameserver ? "the SOA query of its zone" : "its directory");
  if (rc) {
    char tail[512];
    log_tail(r->log, tail, sizeof tail);
    int running = r->proc ? acmeh_proc_running(r->proc, &status) : 1;
    acmeh_msg(err, errlen, rc, "target %s (%s %d) before %s %s answered; log %s ends: %s",
              running ? "timed out" : "exited", running ? "pid" : "status", running ? (r->proc ? acmeh_proc_pid(r->proc) : 0) : status,
              r->nameserver ? "the SOA query of its zone" : "its directory",
              r->nameserver ? json_string_value(json_object_get(r->nameserver, "zone")) : r->directory, r->log, tail);
  }
  return rc;
}

static int start_once(const json_t *doc, const char *run_dir, acmeh_mocks *mocks, acmeh_target_run **out, char *err,
                      size_t errlen) {
  acmeh_target_run *r = calloc(1, sizeof *r);
  if (!r) return ACMEH_NOMEM;
  int rc = prepare_vars(r, doc, run_dir, mocks, err, errlen);
  if (rc == ACMEH_OK) {
    r->directory = expand(r, json_string_value(json_object_get(doc, "directory")) ? json_string_value(json_object_get(doc, "directory")) : "");
    const char *ca = json_string_value(json_object_get(doc, "ca_file"));
    r->ca_file = ca ? expand(r, ca) : NULL;
    const json_t *ns = json_object_get(doc, "nameserver");
    r->nameserver = ns ? expand_json(r, ns) : NULL;
    rc = json_object_get(doc, "mock_dns") ? configure_mock_dns(r, doc, mocks, err, errlen)
                                          : spawn(r, doc, run_dir, err, errlen);
  }
  if (rc == ACMEH_OK) rc = wait_ready(r, doc, err, errlen);
  if (rc) {
    acmeh_target_stop(r);
    return rc;
  }
  *out = r;
  return ACMEH_OK;
}

int acmeh_target_start(const json_t *doc, const char *run_dir, acmeh_mocks *mocks,
                       acmeh_target_run **out, char *err, size_t errlen) {
  /* Ports are found free and then handed to the target, so another process
   * can take one in between (seen with Pebble's admin port while other runs
   * shared the machine). A target that died of that gets fresh ports; its
   * log keeps every attempt. */
  for (int attempt = 1;; attempt++) {
    int rc = start_once(doc, run_dir, mocks, out, err, errlen);
    if (rc == ACMEH_OK || attempt == 3 || !strstr(err, "address already in use")) return rc;
  }
}

const char *acmeh_target_directory(const acmeh_target_run *r) { return r->directory; }
const char *acmeh_target_ca_file(const acmeh_target_run *r) { return r->ca_file; }
const char *acmeh_target_log(const acmeh_target_run *r) { return r->log; }
const json_t *acmeh_target_nameserver(const acmeh_target_run *r) { return r->nameserver; }

void acmeh_target_stop(acmeh_target_run *r) {
  if (!r) return;
  acmeh_proc_stop(r->proc, 3000);
  acmeh_vars_free(&r->vars);
  free(r->directory);
  free(r->ca_file);
  json_decref(r->nameserver);
  free(r);
}

json_t *acmeh_target_expectations(const json_t *doc) {
  const char *f = json_string_value(json_object_get(doc, "expectations"));
  if (!f) return NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/targets/%s", acmeh_data_dir(), f);
  return json_load_file(path, 0, NULL);
}
