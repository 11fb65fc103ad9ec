#include "harness/targets/target.h"
#include "harness/targets/vars.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "harness/client/chaltype.h"
#include "harness/client/http.h"
#include "harness/dns/update.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/self.h"
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
  json_t *mocks;      /* expanded "mocks" object of a mock target */
};

/* ---- validation: a malformed file is refused at load, naming the field,
 * rather than making every check skip for a reason nobody reads ------------ */

typedef enum {
  F_STR,      /* a non-empty string */
  F_STRS,     /* an array of strings */
  F_ARGV,     /* a non-empty array of strings, the program first (later ones may be "") */
  F_OBJ,      /* an object */
  F_STR_MAP,  /* an object of strings (an environment) */
  F_INT_MAP,  /* an object of integers */
  F_BOOL,
  F_MS        /* an integer of milliseconds, 1 or more */
} ftype;

typedef struct {
  const char *key;
  ftype type;
  int required;
} field;

static const char *const TYPE_NAMES[] = {"a non-empty string", "an array of strings",
                                         "a non-empty array of strings (a program, then its arguments)", "an object",
                                         "an object of strings", "an object of integers", "true or false",
                                         "an integer of milliseconds (1 or more)"};

static int all_members(const json_t *j, int (*ok)(const json_t *)) {
  size_t i;
  const char *k;
  json_t *v;
  if (json_is_array(j)) json_array_foreach(j, i, v) if (!ok(v)) return 0;
  if (json_is_object(j)) json_object_foreach((json_t *)j, k, v) if (!ok(v)) return 0;
  return 1;
}

static int is_str(const json_t *j) { return json_is_string(j); }
static int is_word(const json_t *j) { return json_is_string(j) && *json_string_value(j); }
static int is_int(const json_t *j) { return json_is_integer(j); }

static int type_ok(const json_t *j, ftype t) {
  switch (t) {
  case F_STR: return is_word(j);
  case F_STRS: return json_is_array(j) && all_members(j, is_str);
  case F_ARGV: return is_word(json_array_get(j, 0)) && all_members(j, is_str);
  case F_OBJ: return json_is_object(j);
  case F_STR_MAP: return json_is_object(j) && all_members(j, is_str);
  case F_INT_MAP: return json_is_object(j) && all_members(j, is_int);
  case F_BOOL: return json_is_boolean(j);
  case F_MS: return json_is_integer(j) && json_integer_value(j) >= 1;
  }
  return 0;
}

/* Checks `fields` of object `obj` (called `where`, "" at the top). */
static int check_fields(const json_t *obj, const char *where, const field *fields, const char *path, char *err,
                        size_t errlen) {
  for (const field *f = fields; f->key; f++) {
    const json_t *j = json_object_get(obj, f->key);
    if (!j && !f->required) continue;
    if (!j || !type_ok(j, f->type))
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: %s%s: %s %s", path, where, f->key,
                       j ? "must be" : "is required:", TYPE_NAMES[f->type]);
  }
  return ACMEH_OK;
}

static const field COMMON[] = {{"name", F_STR, 1},         {"role", F_STR, 1},     {"description", F_STR, 0},
                               {"requires", F_STRS, 0},    {"expectations", F_STR, 0}, {"claims", F_OBJ, 0},
                               {"version", F_ARGV, 0},
                               {NULL, 0, 0}};
static const field CLIENT[] = {{"actions", F_OBJ, 1},  {"cert_path", F_STR, 1}, {"publishes", F_STR, 1},
                               {"challenges", F_STRS, 0}, {NULL, 0, 0}};
static const field ACTION[] = {{"command", F_ARGV, 1}, {"env", F_STR_MAP, 0}, {"timeout_ms", F_MS, 0}, {NULL, 0, 0}};
/* What a started target (server or nameserver) may carry; "command" is
 * required unless the nameserver is the run's own mock DNS. */
static const field STARTED[] = {{"env", F_STR_MAP, 0},   {"ports", F_STRS, 0},    {"files", F_OBJ, 0},
                                {"secrets", F_INT_MAP, 0}, {"make_server_cert", F_BOOL, 0}, {"ready", F_OBJ, 0},
                                {"ca_file", F_STR, 0},   {NULL, 0, 0}};
static const field READY[] = {{"timeout_ms", F_MS, 0}, {NULL, 0, 0}};
/* "reference": true marks the harness's own reference server (started as
 * `serve`): where the harness drives a client against it (matrix), it runs
 * the same server in its own process instead, recording every exchange. */
static const field SERVER[] = {{"command", F_ARGV, 1}, {"directory", F_STR, 1}, {"reference", F_BOOL, 0}, {NULL, 0, 0}};
static const field NAMESERVER[] = {{"command", F_ARGV, 1}, {"nameserver", F_OBJ, 1}, {NULL, 0, 0}};
static const field MOCK_DNS[] = {{"mock_dns", F_OBJ, 1}, {NULL, 0, 0}};
/* A mock target (role "mocks", `run --mocks`): a process standing in for the
 * harness's mocks; "directory" is any URL of it that answers 200 once it is up. */
static const field MOCKS[] = {{"command", F_ARGV, 1}, {"directory", F_STR, 1}, {"mocks", F_OBJ, 1}, {NULL, 0, 0}};

/* A client's "challenges": types the harness knows (harness/client/chaltype.h),
 * at least one; a list naming none it can run would skip every check. */
static int check_challenges(const json_t *list, const char *path, char *err, size_t errlen) {
  size_t i;
  json_t *t;
  if (list && !json_array_size(list))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: challenges: names no challenge type", path);
  json_array_foreach(list, i, t) if (!acmeh_chaltype_find(json_string_value(t)))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: challenges[%zu]: \"%.60s\" is no challenge type the harness knows",
                     path, i, json_string_value(t));
  return ACMEH_OK;
}

/* "files" are written into the run folder: plain names only, never a path. */
static int check_file_names(const json_t *files, const char *path, char *err, size_t errlen) {
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)files, name, v) if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: files: \"%.60s\" must be a plain file name (no '/')", path, name);
  return ACMEH_OK;
}

static int check_client(const json_t *doc, const char *path, char *err, size_t errlen) {
  int rc = check_fields(doc, "", CLIENT, path, err, errlen);
  if (!rc) rc = check_challenges(json_object_get(doc, "challenges"), path, err, errlen);
  const char *pub = json_string_value(json_object_get(doc, "publishes"));
  if (!rc && strcmp(pub, "hook") && strcmp(pub, "http-01-standalone"))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: publishes: must be \"hook\" or \"http-01-standalone\"", path);
  if (!rc && !json_object_size(json_object_get(doc, "actions")))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: actions: has no action (issue, renew, ...)", path);
  const char *name;
  json_t *a;
  json_object_foreach(rc ? NULL : json_object_get(doc, "actions"), name, a) {
    char where[160];
    snprintf(where, sizeof where, "actions.%s", name);
    if (!json_is_object(a)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: %s: must be an object", path, where);
    snprintf(where, sizeof where, "actions.%s.", name);
    if ((rc = check_fields(a, where, ACTION, path, err, errlen))) return rc;
  }
  return rc;
}

static int check_started(const json_t *doc, const char *role, const char *path, char *err, size_t errlen) {
  int rc = check_fields(doc, "", STARTED, path, err, errlen);
  if (!rc) rc = check_file_names(json_object_get(doc, "files"), path, err, errlen);
  if (!rc) rc = check_fields(json_object_get(doc, "ready"), "ready.", READY, path, err, errlen);
  if (!rc && strcmp(role, "server") == 0) rc = check_fields(doc, "", SERVER, path, err, errlen);
  if (!rc && strcmp(role, "nameserver") == 0)
    rc = check_fields(doc, "", json_object_get(doc, "mock_dns") ? MOCK_DNS : NAMESERVER, path, err, errlen);
  if (!rc && strcmp(role, "mocks") == 0) rc = check_fields(doc, "", MOCKS, path, err, errlen);
  return rc;
}

int acmeh_target_check(const json_t *doc, const char *path, char *err, size_t errlen) {
  if (!json_is_object(doc)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: must be a JSON object", path);
  int rc = check_fields(doc, "", COMMON, path, err, errlen);
  if (rc) return rc;
  const char *role = json_string_value(json_object_get(doc, "role"));
  if (strcmp(role, "client") == 0) return check_client(doc, path, err, errlen);
  if (strcmp(role, "server") == 0 || strcmp(role, "nameserver") == 0 || strcmp(role, "mocks") == 0)
    return check_started(doc, role, path, err, errlen);
  return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "target %s: role: must be \"client\", \"server\", \"nameserver\" or \"mocks\"", path);
}

int acmeh_target_load(const char *name_or_path, json_t **doc, char *err, size_t errlen) {
  char path[4096];
  if (strchr(name_or_path, '/') || strstr(name_or_path, ".json"))
    snprintf(path, sizeof path, "%s", name_or_path);
  else
    snprintf(path, sizeof path, "%s/targets/%s.json", acmeh_data_dir(), name_or_path);
  json_error_t je;
  *doc = json_load_file(path, 0, &je);
  if (!*doc && je.line < 0) /* not opened: jansson's text repeats the path */
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "target %s: cannot read %s (%s)", name_or_path, path, strerror(errno));
  if (!*doc) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "target %s: %s:%d: %s", name_or_path, path, je.line, je.text);
  int rc = acmeh_target_check(*doc, path, err, errlen);
  if (rc) {
    json_decref(*doc);
    *doc = NULL;
  }
  return rc;
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
                        const acmeh_target_ports *ports, char *err, size_t errlen) {
  set_var(r, "RUN_DIR", run_dir);
  /* The running binary, so a target can be the harness itself (reference.json: `serve`). */
  if (acmeh_self_exe()) set_var(r, "ACMEH_BIN", acmeh_self_exe());
  set_var_int(r, "DNS_PORT", ports ? ports->dns : acmeh_mocks_dns_port(m));
  set_var_int(r, "HTTP01_PORT", ports ? ports->http01 : acmeh_mocks_http01_port(m));
  set_var_int(r, "TLSALPN01_PORT", ports ? ports->tlsalpn01 : acmeh_mocks_tlsalpn01_port(m));
  set_var_int(r, "BUNDLE_NODE_PORT", acmeh_mocks_bundle_node_port(m)); /* RFC 9891's TCPCL neighbour */
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

static int start_once(const json_t *doc, const char *run_dir, acmeh_mocks *mocks, const acmeh_target_ports *ports,
                      const char *drafts, acmeh_target_run **out, char *err, size_t errlen) {
  acmeh_target_run *r = calloc(1, sizeof *r);
  if (!r) return ACMEH_NOMEM;
  set_var(r, "DRAFT", drafts ? drafts : ""); /* the revisions under test, for a server that can follow them */
  int rc = prepare_vars(r, doc, run_dir, mocks, ports, err, errlen);
  if (rc == ACMEH_OK) {
    r->directory = expand(r, json_string_value(json_object_get(doc, "directory")) ? json_string_value(json_object_get(doc, "directory")) : "");
    const char *ca = json_string_value(json_object_get(doc, "ca_file"));
    r->ca_file = ca ? expand(r, ca) : NULL;
    const json_t *ns = json_object_get(doc, "nameserver");
    r->nameserver = ns ? expand_json(r, ns) : NULL;
    const json_t *mk = json_object_get(doc, "mocks");
    r->mocks = mk ? expand_json(r, mk) : NULL;
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
  return acmeh_target_start_drafts(doc, run_dir, mocks, NULL, out, err, errlen);
}

int acmeh_target_start_drafts(const json_t *doc, const char *run_dir, acmeh_mocks *mocks, const char *drafts,
                              acmeh_target_run **out, char *err, size_t errlen) {
  return acmeh_target_start_with(doc, run_dir, mocks, NULL, drafts, out, err, errlen);
}

int acmeh_target_start_with(const json_t *doc, const char *run_dir, acmeh_mocks *mocks, const acmeh_target_ports *ports,
                            const char *drafts, acmeh_target_run **out, char *err, size_t errlen) {
  /* Ports are found free and then handed to the target, so another process
   * can take one in between (seen with Pebble's admin port while other runs
   * shared the machine). A target that died of that gets fresh ports; its
   * log keeps every attempt. */
  for (int attempt = 1;; attempt++) {
    int rc = start_once(doc, run_dir, mocks, ports, drafts, out, err, errlen);
    if (rc == ACMEH_OK || attempt == 3 || !strstr(err, "address already in use")) return rc;
  }
}

const char *acmeh_target_directory(const acmeh_target_run *r) { return r->directory; }
const char *acmeh_target_ca_file(const acmeh_target_run *r) { return r->ca_file; }
const char *acmeh_target_log(const acmeh_target_run *r) { return r->log; }
const json_t *acmeh_target_nameserver(const acmeh_target_run *r) { return r->nameserver; }
const json_t *acmeh_target_mocks(const acmeh_target_run *r) { return r->mocks; }

void acmeh_target_stop(acmeh_target_run *r) {
  if (!r) return;
  acmeh_proc_stop(r->proc, 3000);
  acmeh_vars_free(&r->vars);
  free(r->directory);
  free(r->ca_file);
  json_decref(r->nameserver);
  json_decref(r->mocks);
  free(r);
}

int acmeh_target_expectations(const json_t *doc, json_t **out, char *err, size_t errlen) {
  const char *f = json_string_value(json_object_get(doc, "expectations"));
  *out = NULL;
  if (!f) return ACMEH_OK;
  if (!*f || strchr(f, '/') || !strcmp(f, "..") || !strcmp(f, "."))
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "expectations \"%.100s\": must be a file name in the targets folder", f);
  char path[4096];
  snprintf(path, sizeof path, "%s/targets/%s", acmeh_data_dir(), f);
  json_error_t je;
  json_t *e = json_load_file(path, 0, &je);
  if (json_is_object(e)) return *out = e, ACMEH_OK;
  json_decref(e);
  return acmeh_msg(err, errlen, ACMEH_ENV_IO, "expectations %s: %s", path, e ? "must be a JSON object of check ID -> reason" : je.text);
}

char *acmeh_target_dir(const char *arg, char *dir, size_t len) {
  if (strchr(arg, '/') || strstr(arg, ".json")) {
    char *real = realpath(arg, NULL);
    snprintf(dir, len, "%s", real ? real : arg);
    free(real);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
  } else {
    snprintf(dir, len, "%s/targets", acmeh_data_dir());
  }
  return dir;
}

/* Bytes of a version command's output read; its first line is kept. */
#define VERSION_OUTPUT_MAX 4096

/* The first non-empty line of file `path`, trimmed, into out. */
static void first_line(const char *path, char *out, size_t len) {
  char buf[VERSION_OUTPUT_MAX + 1];
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, VERSION_OUTPUT_MAX, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  char *p = buf + strspn(buf, " \t\r\n");
  p[strcspn(p, "\r\n")] = '\0';
  for (size_t e = strlen(p); e && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--) p[e - 1] = '\0';
  snprintf(out, len, "%s", p);
}

int acmeh_target_version(const json_t *doc, const char *target_dir, char *out, size_t len) {
  snprintf(out, len, "unknown");
  const json_t *cmd = json_object_get(doc, "version");
  if (!json_array_size(cmd)) return ACMEH_UNSUPPORTED;
  acmeh_vars v = {0};
  if (target_dir) acmeh_vars_set(&v, "TARGET_DIR", target_dir);
  if (acmeh_self_exe()) acmeh_vars_set(&v, "ACMEH_BIN", acmeh_self_exe());
  json_t *argv_j = acmeh_vars_expand_json(&v, cmd);
  size_t n = json_array_size(argv_j), i;
  const char **argv = calloc(n + 1, sizeof *argv);
  json_t *e;
  json_array_foreach(argv_j, i, e) if (argv) argv[i] = json_string_value(e);
  char log[] = "/tmp/acmeh-version-XXXXXX", err[256], line[256] = "";
  int fd = mkstemp(log), status = -1;
  int rc = fd < 0 || !argv ? ACMEH_ENV_IO : ACMEH_OK;
  if (fd >= 0) close(fd);
  if (rc == ACMEH_OK) rc = acmeh_proc_run(argv, NULL, "/", log, 10000, &status, err, sizeof err);
  if (rc == ACMEH_OK && status == 0) first_line(log, line, sizeof line);
  if (line[0]) snprintf(out, len, "%.100s", line);
  else if (rc == ACMEH_OK) rc = ACMEH_ENV_IO; /* failed or printed nothing */
  if (fd >= 0) unlink(log);
  free(argv);
  json_decref(argv_j);
  acmeh_vars_free(&v);
  return rc;
}
