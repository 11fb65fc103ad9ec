/* acme-harness matrix: the column kinds after "issue" (one column each per
 * server, with the client's http-01 or first challenge):
 *   renew    issue, then renew (or issue again where the target claims
 *            "renew_by_issue"): a second certificate for the name, with
 *            another serial from the same issuer (on the reference server
 *            every ARI window is in the past, so ARI clients renew too);
 *   revoke   issue, then revoke: the server answered revokeCert 200 (the
 *            reference server's recorded exchanges) or says the certificate is
 *            Revoked (Pebble's management API, /cert-status-by-serial/);
 *   ari      every renewal window in the past from the start (the scenario's
 *            server settings), then issue and renew: RenewalInfo fetched for
 *            the first certificate and the renewal newOrder carried replaces =
 *            its certID (RFC 9773 §4.1, §5);
 *   profiles the client configured with ${PROFILE} = shortlived: the newOrder
 *            carried that profile and the certificate's lifetime is the one
 *            the server target documents for it (claims.profile_validity).
 * Only the reference server shows what the client sent (the engine records
 * each exchange with its decoded payload), so ari and profiles are judged
 * there and skip, saying so, on other servers. */
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

#define reason acmeh_mx_set_reason

/* Every renewal window 2 days to 1 day in the past, so that an ARI client
 * renews at once (RFC 9773 §4.2): the reference server's setting. */
#define PAST_WINDOW "\"server\": {\"ari\": {\"window\": \"from_now\", \"start_offset\": -172800, \"end_offset\": -86400}}"

/* ---- what the server saw ------------------------------------------------- */

static int observed(const cell *c) { return c->server->reference; }

static int status_of(const json_t *e) { return (int)json_integer_value(json_object_get(e, "status")); }

/* ---- certificates ---------------------------------------------------------- */

/* Serial as hexadecimal into out ("?" when unreadable). */
static void serial_hex(X509 *x, char *out, size_t len) {
  BIGNUM *bn = x ? ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL) : NULL;
  char *h = bn ? BN_bn2hex(bn) : NULL;
  snprintf(out, len, "%s", h ? h : "?");
  OPENSSL_free(h);
  BN_free(bn);
}

/* "" when the certificate at cert_path is a second one for the name: another
 * serial than the first action's, the same issuer. Otherwise why not, in why. */
static void check_second_cert(cell *c, char *why, size_t len) {
  char a[80], b[80];
  acmeh_mx_check_cert(c, NULL, why, len);
  if (why[0]) return;
  X509 *old = acmeh_mx_pem_cert(c->rec.first_cert_pem), *now = acmeh_mx_pem_cert(c->rec.cert_pem);
  serial_hex(old, a, sizeof a), serial_hex(now, b, sizeof b);
  if (!old) snprintf(why, len, "the issue step left no certificate at the client's cert_path");
  else if (ASN1_INTEGER_cmp(X509_get0_serialNumber(old), X509_get0_serialNumber(now)) == 0)
    snprintf(why, len, "the client exited 0 but its certificate is still the first one (serial %s): no renewal", a);
  else if (X509_NAME_cmp(X509_get_issuer_name(old), X509_get_issuer_name(now)) != 0)
    snprintf(why, len, "the renewed certificate (serial %s) has another issuer than the first (serial %s)", b, a);
  X509_free(old), X509_free(now);
}

/* ---- renew ------------------------------------------------------------------ */

static int server_claims(const cell *c, const char *name) { return acmeh_mx_claims(c->server, name); }

/* A client that follows ARI renews when the server's window opens, which on
 * a fresh certificate is weeks away: it renews here only where the harness
 * can move the window (its reference server). */
static int early_renew(cell *c) {
  int due = acmeh_mx_claims(c->client, "renew_when_due"); /* its renew action lets the client decide */
  if (observed(c) || (!due && !(acmeh_mx_claims(c->client, "ari") && server_claims(c, "ari")))) return 0;
  if (server_claims(c, "ari"))
    reason(c, ACMEH_SKIP, "the client renews when the server's ARI window opens; the harness cannot move %s's window into the past%s",
           c->server->name, "");
  else /* without ARI such a client falls back to its own schedule (e.g. 30 days before expiry): a fresh certificate is not due */
    reason(c, ACMEH_SKIP, "the client renews on its own schedule, and %s offers no ARI window to make a fresh certificate due%s",
           c->server->name, "");
  return 1;
}

static void judge_renew(cell *c) {
  char why[700];
  if (acmeh_mx_judge_run(c)) return;
  check_second_cert(c, why, sizeof why);
  if (why[0]) {
    reason(c, ACMEH_FAIL, "%s%s", why, "");
    return;
  }
  reason(c, ACMEH_PASS, "a second certificate for %s issued by %s", c->domain, strcmp(c->actions[1], "issue") ? "renew" : "a second issue");
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
  reason(c, ACMEH_SKIP, "the harness can see revocations only on its reference server and Pebble, not on %s%s", c->server->name, "");
  return 1;
}

/* Sends one request with the server's trust anchor; the response in *r
 * (free it) when ACMEH_OK. */
static int request(cell *c, const char *method, const char *url, const char *body, acmeh_http_resp *r) {
  acmeh_http *h = NULL;
  acmeh_http_config cfg = {.ca_file = acmeh_clientrun_ca_file(c->run), .deadline = acmeh_now_mono() + 10};
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
  char mgmt[256], serial[80], url[600];
  pebble_mgmt(c, mgmt, sizeof mgmt);
  if (!mgmt[0]) return;
  X509 *x = acmeh_mx_pem_cert(c->rec.first_cert_pem);
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
  json_t *all = acmeh_client_run_exchanges(&c->rec, "revokeCert");
  const json_t *last = json_array_get(all, json_array_size(all) - 1);
  char st[16];
  snprintf(st, sizeof st, "%d", last ? status_of(last) : 0);
  if (!last) reason(c, ACMEH_FAIL, "the client exited 0 but the server saw no revokeCert%s%s", "", "");
  else if (status_of(last) != 200) reason(c, ACMEH_FAIL, "the server answered revokeCert %s%s", st, "");
  else reason(c, ACMEH_PASS, "revokeCert answered 200%s%s", "", "");
  json_decref(all);
}

static void judge_revoke(cell *c) {
  if (acmeh_mx_judge_run(c)) return;
  if (observed(c)) {
    judge_revoke_observed(c);
    return;
  }
  if (strstr(c->probe, "Status Revoked")) {
    reason(c, ACMEH_PASS, "Pebble says the certificate is revoked (%s)", c->probe, "");
    return;
  }
  if (strstr(c->probe, "Status ")) {
    reason(c, ACMEH_FAIL, "the client exited 0 but the certificate is not revoked: %s%s", c->probe, "");
    return;
  }
  reason(c, ACMEH_ERROR, "cannot look the certificate up: %s%s", c->probe[0] ? c->probe : "no management API address", "");
}

/* ---- ari ---------------------------------------------------------------------- */

static int early_ari(cell *c) {
  if (!acmeh_mx_claims(c->client, "ari")) return reason(c, ACMEH_SKIP, "client does not implement ARI%s%s", "", ""), 1;
  if (!server_claims(c, "ari")) return reason(c, ACMEH_SKIP, "server does not advertise renewalInfo%s%s", "", ""), 1;
  if (!observed(c))
    return reason(c, ACMEH_SKIP, "%s has no way to move its renewal window into the past, and the harness cannot see %s", c->server->name,
                  "the renewal newOrder's replaces there (only on its reference server)"), 1;
  return 0;
}

/* What was wrong with the client's ARI exchanges for certID id, or "". */
static void ari_findings(const acmeh_client_run *r, const char *id, char *why, size_t len) {
  int fetched = 0, replaced = 0;
  char other[120] = "";
  size_t i, n = strlen(id);
  json_t *e, *fetches = acmeh_client_run_exchanges(r, "renewalInfo"), *orders = acmeh_client_run_exchanges(r, "newOrder");
  json_array_foreach(fetches, i, e) {
    const char *url = json_string_value(json_object_get(e, "url"));
    size_t ul = url ? strlen(url) : 0;
    if (status_of(e) == 200 && ul > n && url[ul - n - 1] == '/' && !strcmp(url + ul - n, id)) fetched = 1;
  }
  json_array_foreach(orders, i, e) {
    json_t *p = acmeh_client_run_payload(e);
    const char *rep = json_string_value(json_object_get(p, "replaces"));
    if (rep && !strcmp(rep, id) && status_of(e) == 201) replaced = 1;
    else if (rep) snprintf(other, sizeof other, "%.100s", rep);
    json_decref(p);
  }
  json_decref(fetches), json_decref(orders);
  why[0] = '\0';
  if (!fetched) snprintf(why, len, "the client fetched no RenewalInfo for the first certificate (certID %s)", id);
  else if (!replaced && other[0]) snprintf(why, len, "the renewal newOrder carried replaces \"%s\", not the first certificate's certID %s (or was refused)", other, id);
  else if (!replaced) snprintf(why, len, "the renewal newOrder carried no replaces (the first certificate's certID is %s)", id);
}

static void judge_ari(cell *c) {
  char why[700], err[256];
  if (acmeh_mx_judge_run(c)) return;
  X509 *x = acmeh_mx_pem_cert(c->rec.first_cert_pem);
  char *id = NULL;
  if (!x || acmeh_ari_cert_id(x, &id, err, sizeof err) != ACMEH_OK) {
    reason(c, ACMEH_FAIL, "no certID for the first certificate: %s%s", x ? err : "the issue step left none at cert_path", "");
    X509_free(x);
    return;
  }
  ari_findings(&c->rec, id, why, sizeof why);
  if (!why[0]) check_second_cert(c, why, sizeof why);
  if (why[0]) reason(c, ACMEH_FAIL, "%s%s", why, "");
  else reason(c, ACMEH_PASS, "RenewalInfo fetched and the renewal newOrder replaced %s%s", id, "");
  free(id);
  X509_free(x);
}

/* ---- profiles ------------------------------------------------------------------ */

static int early_profiles(cell *c) {
  if (!acmeh_mx_claims(c->client, "profiles")) return reason(c, ACMEH_SKIP, "client does not implement profiles%s%s", "", ""), 1;
  if (!server_claims(c, "profiles")) return reason(c, ACMEH_SKIP, "server does not advertise meta.profiles%s%s", "", ""), 1;
  if (!observed(c))
    return reason(c, ACMEH_SKIP, "the harness cannot see newOrder's profile on %s%s (only on its reference server)", c->server->name, ""), 1;
  return 0;
}

/* "" when the certificate's lifetime matches what the server documents for PROFILE. */
static void check_validity(cell *c, char *why, size_t len) {
  json_t *v = json_object_get(json_object_get(json_object_get(c->server->doc, "claims"), "profile_validity"), PROFILE);
  X509 *x = acmeh_mx_pem_cert(c->rec.cert_pem);
  int days = 0, secs = 0;
  why[0] = '\0';
  if (x && json_is_integer(v) && ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x))) {
    long got = days * 86400L + secs, want = (long)json_integer_value(v);
    if (got < want - VALIDITY_SLACK_S || got > want + VALIDITY_SLACK_S)
      snprintf(why, len, "the certificate is valid %ld s; the server documents %ld s for %s", got, want, PROFILE);
  }
  X509_free(x);
}

static void judge_profiles(cell *c) {
  char why[600];
  if (acmeh_mx_judge_run(c)) return;
  acmeh_mx_check_cert(c, NULL, why, sizeof why);
  if (why[0]) {
    reason(c, ACMEH_FAIL, "%s%s", why, "");
    return;
  }
  json_t *all = acmeh_client_run_exchanges(&c->rec, "newOrder"), *e, *p = NULL;
  const char *got = NULL;
  size_t i;
  json_array_foreach(all, i, e) if (status_of(e) == 201) {
    json_decref(p);
    p = acmeh_client_run_payload(e);
    got = json_string_value(json_object_get(p, "profile")) ? json_string_value(json_object_get(p, "profile")) : "";
  }
  if (!got) reason(c, ACMEH_FAIL, "the server created no order%s%s", "", "");
  else if (strcmp(got, PROFILE) != 0)
    reason(c, ACMEH_FAIL, "configured for profile " PROFILE ", the client's newOrder carried %s%.80s", *got ? "profile " : "no profile", got);
  else if (check_validity(c, why, sizeof why), why[0]) reason(c, ACMEH_FAIL, "%s%s", why, "");
  else reason(c, ACMEH_PASS, "newOrder carried profile " PROFILE " and the certificate's lifetime matches%s%s", "", "");
  json_decref(p), json_decref(all);
}

const scenario_kind acmeh_mx_extra_kinds[] = {
    {"renew", "{\"actions\": [\"issue\", \"renew\"], " PAST_WINDOW "}", {"issue", "renew"}, 0, early_renew, NULL, judge_renew},
    {"revoke", "{\"actions\": [\"issue\", \"revoke\"]}", {"issue", "revoke"}, 0, early_revoke, probe_revoke, judge_revoke},
    {"ari", "{\"actions\": [\"issue\", \"renew\"], " PAST_WINDOW "}", {"issue", "renew"}, 0, early_ari, NULL, judge_ari},
    {"profiles", "{\"action\": \"issue\", \"vars\": {\"PROFILE\": \"" PROFILE "\"}}", {"issue"}, 0, early_profiles, NULL, judge_profiles},
};
const size_t acmeh_mx_nextra_kinds = sizeof acmeh_mx_extra_kinds / sizeof *acmeh_mx_extra_kinds;
