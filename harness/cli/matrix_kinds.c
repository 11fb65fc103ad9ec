/* acme-harness matrix: the column kinds after "issue" (one column each per
 * server, with the client's http-01 or first challenge):
 *   renew    issue, then renew (or issue again where the target claims
 *            "renew_by_issue"): a second certificate for the name, with
 *            another serial from the same issuer (on the reference server
 *            every ARI window is in the past, so ARI clients renew too);
 *   revoke   issue, then revoke: the server answered revokeCert 200 (the
 *            reference server's printed exchanges) or says the certificate is
 *            Revoked (Pebble's management API, /cert-status-by-serial/);
 *   ari      every renewal window moved into the past before the client's
 *            first RenewalInfo fetch (POST /acmeh/ari-window {"past":true}),
 *            then issue and renew: RenewalInfo fetched for the first
 *            certificate and the renewal newOrder carried replaces = its
 *            certID (RFC 9773 §4.1, §5);
 *   profiles the client configured with ${PROFILE} = shortlived: the newOrder
 *            carried that profile and the certificate's lifetime is the one
 *            the server target documents for it (claims.profile_validity).
 * Only the harness's own server shows what the client sent (serve prints each
 * exchange with its decoded payload), so ari and profiles are judged there
 * and skip, saying so, on other servers. */
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/cli/matrix_internal.h"
#include "harness/client/http.h"
#include "base/clock.h"
#include "base/error.h"

#define PROFILE "shortlived"
/* Lifetime tolerance against the server's documented profile validity, seconds
 * (servers backdate notBefore; PROF-S-008 allows the same). */
#define VALIDITY_SLACK_S 3600
/* Bytes of the server's log read for its exchanges. */
#define LOG_MAX (8 << 20)

#define reason acmeh_mx_set_reason

/* ---- what the server saw ------------------------------------------------- */

static int observed(const cell *c) { return c->server->observed != NULL; }

/* One "#N +T ms METHOD URL (resource) -> STATUS" line of serve's exchange
 * log (print_exchange, harness/cli/serve.c) into e; 1 when the line is one. */
static int exchange_head(const char *line, json_t **e) {
  char method[16], url[2048], res[64];
  int status = 0;
  long long seq, ms;
  if (sscanf(line, "#%lld +%lld ms %15s %2047s (%63[^)]) -> %d", &seq, &ms, method, url, res, &status) < 5) return 0;
  *e = json_pack("{s:s,s:s,s:s,s:i}", "method", method, "url", url, "resource", res, "status", status);
  return *e != NULL;
}

/* The exchanges the reference server printed (serve without --quiet), each
 * {method, url, resource, status, payload (parsed JSON or absent)}, in order.
 * An empty array when the log cannot be read. Caller decrefs. */
static json_t *server_exchanges(const cell *c) {
  char path[3600], line[8192];
  snprintf(path, sizeof path, "%s/server/target.log", c->work);
  json_t *all = json_array(), *cur = NULL;
  FILE *f = fopen(path, "r");
  for (long read = 0; f && read < LOG_MAX && fgets(line, sizeof line, f); read += (long)strlen(line)) {
    const char *t = line + strspn(line, " ");
    if (line[0] == '#' && exchange_head(line, &cur)) json_array_append_new(all, cur);
    else if (cur && t != line && strncmp(t, "payload ", 8) == 0)
      json_object_set_new(cur, "payload", json_loads(t + 8 + strspn(t + 8, " "), JSON_DECODE_ANY, NULL));
    else if (line[0] != ' ') cur = NULL;
  }
  if (f) fclose(f);
  return all;
}

static int is(const json_t *e, const char *resource) {
  const char *r = json_string_value(json_object_get(e, "resource"));
  return r && strcmp(r, resource) == 0;
}

static int status_of(const json_t *e) { return (int)json_integer_value(json_object_get(e, "status")); }

static const char *payload_str(const json_t *e, const char *field) {
  return json_string_value(json_object_get(json_object_get(e, "payload"), field));
}

/* ---- certificates ---------------------------------------------------------- */

static X509 *load_cert(const char *path) {
  FILE *f = path ? fopen(path, "r") : NULL;
  X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  return x;
}

static void first_path(const cell *c, char *out, size_t len) { snprintf(out, len, "%s/first.pem", c->work); }

/* Serial as hexadecimal into out ("?" when unreadable). */
static void serial_hex(X509 *x, char *out, size_t len) {
  BIGNUM *bn = x ? ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL) : NULL;
  char *h = bn ? BN_bn2hex(bn) : NULL;
  snprintf(out, len, "%s", h ? h : "?");
  OPENSSL_free(h);
  BN_free(bn);
}

/* "" when the certificate at cert_path is a second one for the name: another
 * serial than first.pem's, the same issuer. Otherwise why not, in why. */
static void check_second_cert(cell *c, char *why, size_t len) {
  char fp[3600], a[80], b[80];
  first_path(c, fp, sizeof fp);
  acmeh_mx_check_cert(c, NULL, why, len);
  if (why[0]) return;
  char *path = acmeh_mx_cert_path(c);
  X509 *old = load_cert(fp), *now = load_cert(path);
  serial_hex(old, a, sizeof a), serial_hex(now, b, sizeof b);
  if (!old) snprintf(why, len, "the issue step left no certificate at the client's cert_path");
  else if (ASN1_INTEGER_cmp(X509_get0_serialNumber(old), X509_get0_serialNumber(now)) == 0)
    snprintf(why, len, "the client exited 0 but its certificate is still the first one (serial %s): no renewal", a);
  else if (X509_NAME_cmp(X509_get_issuer_name(old), X509_get_issuer_name(now)) != 0)
    snprintf(why, len, "the renewed certificate (serial %s) has another issuer than the first (serial %s)", b, a);
  X509_free(old), X509_free(now);
  free(path);
}

/* ---- renew ------------------------------------------------------------------ */

static int server_claims(const cell *c, const char *name) { return acmeh_mx_claims(c->server, name); }
static int prepare_ari(cell *c);

/* A client that follows ARI renews when the server's window opens, which on
 * a fresh certificate is weeks away: it renews here only where the harness
 * can move the window (its reference server). */
static int early_renew(cell *c) {
  if (!acmeh_mx_claims(c->client, "ari") || !server_claims(c, "ari") || observed(c)) return 0;
  reason(c, ACMEH_MX_SKIP, "the client renews when the server's ARI window opens; the harness cannot move %s's window into the past%s",
         c->server->name, "");
  return 1;
}

static int prepare_renew(cell *c) { return observed(c) && server_claims(c, "ari") ? prepare_ari(c) : ACMEH_OK; }

static void judge_renew(cell *c) {
  char why[700];
  if (acmeh_mx_judge_run(c)) return;
  check_second_cert(c, why, sizeof why);
  if (why[0]) {
    reason(c, ACMEH_MX_FAIL, "%s%s", why, "");
    return;
  }
  reason(c, ACMEH_MX_PASS, "a second certificate for %s issued by %s", c->domain, strcmp(c->actions[1], "issue") ? "renew" : "a second issue");
}

/* ---- revoke ----------------------------------------------------------------- */

/* Pebble's management listener address from the config the target wrote, or "". */
static void pebble_mgmt(const cell *c, char *out, size_t len) {
  char path[3600];
  out[0] = '\0';
  if (!json_object_get(json_object_get(c->server->doc, "files"), "pebble-config.json")) return;
  snprintf(path, sizeof path, "%s/server/pebble-config.json", c->work);
  json_t *doc = json_load_file(path, 0, NULL);
  const char *a = json_string_value(json_object_get(json_object_get(doc, "pebble"), "managementListenAddress"));
  if (a) snprintf(out, len, "%s", a);
  json_decref(doc);
}

static int early_revoke(cell *c) {
  int pebble = json_object_get(json_object_get(c->server->doc, "files"), "pebble-config.json") != NULL;
  if (observed(c) || pebble) return 0;
  reason(c, ACMEH_MX_SKIP, "the harness can see revocations only on its reference server and Pebble, not on %s%s", c->server->name, "");
  return 1;
}

/* Sends one request with the server's trust anchor; the response in *r
 * (free it) when ACMEH_OK. */
static int request(cell *c, const char *method, const char *url, const char *body, acmeh_http_resp *r) {
  acmeh_http *h = NULL;
  acmeh_http_config cfg = {.ca_file = acmeh_target_ca_file(c->tr), .deadline = acmeh_now_mono() + 10};
  int rc = acmeh_http_new(&cfg, &h);
  if (rc == ACMEH_OK)
    rc = acmeh_http_request(h, method, url, body ? "application/json" : NULL, body, body ? strlen(body) : 0, NULL, r, c->err, sizeof c->err);
  if (rc != ACMEH_OK && rc != ACMEH_NOMEM) acmeh_http_resp_free(r);
  acmeh_http_free(h);
  return rc;
}

/* Pebble: the first certificate's status from /cert-status-by-serial/ on the
 * management port, into c->probe ("Revoked", "Valid", or what went wrong). */
static void probe_revoke(cell *c) {
  char mgmt[256], fp[3600], serial[80], url[600];
  pebble_mgmt(c, mgmt, sizeof mgmt);
  if (!mgmt[0]) return;
  first_path(c, fp, sizeof fp);
  X509 *x = load_cert(fp);
  serial_hex(x, serial, sizeof serial);
  X509_free(x);
  if (!x) {
    snprintf(c->probe, sizeof c->probe, "no first certificate to look up");
    return;
  }
  snprintf(url, sizeof url, "https://%s/cert-status-by-serial/%s", mgmt, serial);
  acmeh_http_resp r = {0};
  if (request(c, "GET", url, NULL, &r) != ACMEH_OK) {
    snprintf(c->probe, sizeof c->probe, "GET %.300s: %.250s", url, c->err);
    return;
  }
  json_t *j = json_loads(r.body, 0, NULL);
  const char *st = json_string_value(json_object_get(j, "Status"));
  snprintf(c->probe, sizeof c->probe, "GET %.400s -> %ld, Status %.60s", url, r.status, st ? st : "(none)");
  json_decref(j);
  acmeh_http_resp_free(&r);
}

/* The reference server: its revokeCert exchanges. */
static void judge_revoke_observed(cell *c) {
  json_t *all = server_exchanges(c), *e, *last = NULL;
  size_t i;
  json_array_foreach(all, i, e) if (is(e, "revokeCert")) last = e;
  char st[16];
  snprintf(st, sizeof st, "%d", last ? status_of(last) : 0);
  if (!last) reason(c, ACMEH_MX_FAIL, "the client exited 0 but the server saw no revokeCert%s%s", "", "");
  else if (status_of(last) != 200) reason(c, ACMEH_MX_FAIL, "the server answered revokeCert %s%s", st, "");
  else reason(c, ACMEH_MX_PASS, "revokeCert answered 200%s%s", "", "");
  json_decref(all);
}

static void judge_revoke(cell *c) {
  if (acmeh_mx_judge_run(c)) return;
  if (observed(c)) {
    judge_revoke_observed(c);
    return;
  }
  if (strstr(c->probe, "Status Revoked")) {
    reason(c, ACMEH_MX_PASS, "Pebble says the certificate is revoked (%s)", c->probe, "");
    return;
  }
  if (strstr(c->probe, "Status ")) {
    reason(c, ACMEH_MX_FAIL, "the client exited 0 but the certificate is not revoked: %s%s", c->probe, "");
    return;
  }
  reason(c, ACMEH_MX_ERROR, "cannot look the certificate up: %s%s", c->probe[0] ? c->probe : "no management API address", "");
}

/* ---- ari ---------------------------------------------------------------------- */

static int early_ari(cell *c) {
  if (!acmeh_mx_claims(c->client, "ari")) return reason(c, ACMEH_MX_SKIP, "client does not implement ARI%s%s", "", ""), 1;
  if (!server_claims(c, "ari")) return reason(c, ACMEH_MX_SKIP, "server does not advertise renewalInfo%s%s", "", ""), 1;
  if (!observed(c))
    return reason(c, ACMEH_MX_SKIP, "%s has no way to move its renewal window into the past, and the harness cannot see %s", c->server->name,
                  "the renewal newOrder's replaces there (only on its reference server)"), 1;
  return 0;
}

/* Every window in the past before the client's first fetch: a cron-style
 * client keeps the Retry-After of that fetch (hours), so a window moved
 * after it would not be seen within the cell. */
static int prepare_ari(cell *c) {
  const char *dir = acmeh_target_directory(c->tr), *p = dir ? strstr(dir, "://") : NULL;
  const char *slash = p ? strchr(p + 3, '/') : NULL;
  char url[600];
  snprintf(url, sizeof url, "%.*s/acmeh/ari-window", slash ? (int)(slash - dir) : 0, dir ? dir : "");
  acmeh_http_resp r = {0};
  int rc = request(c, "POST", url, "{\"past\":true}", &r);
  if (rc != ACMEH_OK) return rc;
  if (r.status != 200) rc = acmeh_msg(c->err, sizeof c->err, ACMEH_INTERNAL, "POST %s {\"past\":true} answered %ld: %.200s", url, r.status, r.body);
  acmeh_http_resp_free(&r);
  return rc;
}

/* What was wrong with the client's ARI exchanges for certID id, or "". */
static void ari_findings(const json_t *all, const char *id, char *why, size_t len) {
  int fetched = 0, replaced = 0;
  const char *other = NULL;
  size_t i, n = strlen(id);
  json_t *e;
  json_array_foreach(all, i, e) {
    const char *url = json_string_value(json_object_get(e, "url")), *rep = payload_str(e, "replaces");
    size_t ul = url ? strlen(url) : 0;
    if (is(e, "renewalInfo") && status_of(e) == 200 && ul > n && url[ul - n - 1] == '/' && !strcmp(url + ul - n, id)) fetched = 1;
    if (is(e, "newOrder") && rep && !strcmp(rep, id) && status_of(e) == 201) replaced = 1;
    else if (is(e, "newOrder") && rep) other = rep;
  }
  why[0] = '\0';
  if (!fetched) snprintf(why, len, "the client fetched no RenewalInfo for the first certificate (certID %s)", id);
  else if (!replaced && other) snprintf(why, len, "the renewal newOrder carried replaces \"%.100s\", not the first certificate's certID %s (or was refused)", other, id);
  else if (!replaced) snprintf(why, len, "the renewal newOrder carried no replaces (the first certificate's certID is %s)", id);
}

static void judge_ari(cell *c) {
  char fp[3600], why[700], err[256];
  if (acmeh_mx_judge_run(c)) return;
  first_path(c, fp, sizeof fp);
  X509 *x = load_cert(fp);
  char *id = NULL;
  if (!x || acmeh_ari_cert_id(x, &id, err, sizeof err) != ACMEH_OK) {
    reason(c, ACMEH_MX_FAIL, "no certID for the first certificate: %s%s", x ? err : "the issue step left none at cert_path", "");
    X509_free(x);
    return;
  }
  json_t *all = server_exchanges(c);
  ari_findings(all, id, why, sizeof why);
  if (!why[0]) check_second_cert(c, why, sizeof why);
  if (why[0]) reason(c, ACMEH_MX_FAIL, "%s%s", why, "");
  else reason(c, ACMEH_MX_PASS, "RenewalInfo fetched and the renewal newOrder replaced %s%s", id, "");
  json_decref(all);
  free(id);
  X509_free(x);
}

/* ---- profiles ------------------------------------------------------------------ */

static int early_profiles(cell *c) {
  if (!acmeh_mx_claims(c->client, "profiles")) return reason(c, ACMEH_MX_SKIP, "client does not implement profiles%s%s", "", ""), 1;
  if (!server_claims(c, "profiles")) return reason(c, ACMEH_MX_SKIP, "server does not advertise meta.profiles%s%s", "", ""), 1;
  if (!observed(c))
    return reason(c, ACMEH_MX_SKIP, "the harness cannot see newOrder's profile on %s%s (only on its reference server)", c->server->name, ""), 1;
  return 0;
}

/* The client target's ${PROFILE} (see suites/profiles/scenarios.json). */
static int prepare_profiles(cell *c) {
  acmeh_vars_set(&c->vars, "PROFILE", PROFILE);
  return ACMEH_OK;
}

/* "" when the certificate's lifetime matches what the server documents for PROFILE. */
static void check_validity(cell *c, char *why, size_t len) {
  json_t *v = json_object_get(json_object_get(json_object_get(c->server->doc, "claims"), "profile_validity"), PROFILE);
  char *path = acmeh_mx_cert_path(c);
  X509 *x = load_cert(path);
  int days = 0, secs = 0;
  why[0] = '\0';
  if (x && json_is_integer(v) && ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x))) {
    long got = days * 86400L + secs, want = (long)json_integer_value(v);
    if (got < want - VALIDITY_SLACK_S || got > want + VALIDITY_SLACK_S)
      snprintf(why, len, "the certificate is valid %ld s; the server documents %ld s for %s", got, want, PROFILE);
  }
  X509_free(x);
  free(path);
}

static void judge_profiles(cell *c) {
  char why[600];
  if (acmeh_mx_judge_run(c)) return;
  acmeh_mx_check_cert(c, NULL, why, sizeof why);
  if (why[0]) {
    reason(c, ACMEH_MX_FAIL, "%s%s", why, "");
    return;
  }
  json_t *all = server_exchanges(c), *e;
  const char *got = NULL;
  size_t i;
  json_array_foreach(all, i, e) if (is(e, "newOrder") && status_of(e) == 201) got = payload_str(e, "profile") ? payload_str(e, "profile") : "";
  if (!got) reason(c, ACMEH_MX_FAIL, "the server created no order%s%s", "", "");
  else if (strcmp(got, PROFILE) != 0)
    reason(c, ACMEH_MX_FAIL, "configured for profile " PROFILE ", the client's newOrder carried %s%.80s", *got ? "profile " : "no profile", got);
  else if (check_validity(c, why, sizeof why), why[0]) reason(c, ACMEH_MX_FAIL, "%s%s", why, "");
  else reason(c, ACMEH_MX_PASS, "newOrder carried profile " PROFILE " and the certificate's lifetime matches%s%s", "", "");
  json_decref(all);
}

const scenario_kind acmeh_mx_extra_kinds[] = {
    {"renew", {"issue", "renew"}, 0, 0, early_renew, prepare_renew, NULL, judge_renew},
    {"revoke", {"issue", "revoke"}, 0, 1, early_revoke, NULL, probe_revoke, judge_revoke},
    {"ari", {"issue", "renew"}, 0, 1, early_ari, prepare_ari, NULL, judge_ari},
    {"profiles", {"issue"}, 0, 1, early_profiles, prepare_profiles, NULL, judge_profiles},
};
const size_t acmeh_mx_nextra_kinds = sizeof acmeh_mx_extra_kinds / sizeof *acmeh_mx_extra_kinds;
