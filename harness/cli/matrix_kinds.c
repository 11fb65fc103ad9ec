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
#include <time.h>

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

/* A real server whose management API replaces a certificate's RenewalInfo
 * (claim "set_renewal_info": Pebble 2.8 and later, POST /set-renewal-info/),
 * so that the harness can make a fresh certificate due. */
static int movable_window(const cell *c) { return !observed(c) && server_claims(c, "set_renewal_info") && server_claims(c, "ari"); }

/* A client that follows ARI renews when the server's window opens, which on
 * a fresh certificate is weeks away: it renews here only where the harness
 * can move the window (its reference server, or a server with a movable window). */
static int early_renew(cell *c) {
  int due = acmeh_mx_claims(c->client, "renew_when_due"); /* its renew action lets the client decide */
  if (observed(c) || movable_window(c) || (!due && !(acmeh_mx_claims(c->client, "ari") && server_claims(c, "ari")))) return 0;
  if (server_claims(c, "ari"))
    reason(c, ACMEH_SKIP, "the client renews when the server's ARI window opens; the harness cannot move %s's window into the past%s",
           c->server->name, "");
  else /* without ARI such a client falls back to its own schedule (e.g. 30 days before expiry): a fresh certificate is not due */
    reason(c, ACMEH_SKIP, "the client renews on its own schedule, and %s offers no ARI window to make a fresh certificate due%s",
           c->server->name, "");
  return 1;
}

static long scan_log(const char *path, long from, long *ri_at, long *order_at);

static void judge_renew(cell *c) {
  char why[700];
  if (acmeh_mx_judge_run(c)) return;
  if (movable_window(c) && !strstr(c->probe, " -> 200")) { /* a renewal left to the client needed the window moved */
    reason(c, ACMEH_ERROR, "could not move the renewal window: %s%s", c->probe[0] ? c->probe : "the client's first step never ended", "");
    return;
  }
  check_second_cert(c, why, sizeof why);
  long ri = -1, order;
  if (why[0] && movable_window(c) && acmeh_mx_claims(c->client, "renew_when_due")) scan_log(c->rec.server_log, c->log_mark, &ri, &order);
  if (why[0] && movable_window(c) && acmeh_mx_claims(c->client, "renew_when_due") && ri < 0) {
    reason(c, ACMEH_SKIP, "the client did not ask for RenewalInfo again after the window moved (it may follow the Retry-After of "
           "its first fetch, RFC 9773 §4.3): no renewal to judge in one run; %s%s", why, "");
    return;
  }
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

/* ---- moving a real server's window ---------------------------------------------- */

/* The first certificate (leaf only) as PEM text (caller frees), or NULL. */
static char *leaf_pem(const cell *c) {
  X509 *x = acmeh_mx_pem_cert(c->rec.first_cert_pem);
  BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
  char *data = NULL, *out = NULL;
  long n = b && PEM_write_bio_X509(b, x) == 1 ? BIO_get_mem_data(b, &data) : 0;
  if (n > 0) out = strndup(data, (size_t)n);
  BIO_free(b);
  X509_free(x);
  return out;
}

/* Pebble's log names every request it handles, one line each:
 * "GET /draft-ietf-acme-ari-03/renewalInfo/ -> calling handler()",
 * "POST /order-plz -> calling handler()". */
#define LOG_RENEWAL_INFO "/renewalInfo/ -> "
#define LOG_NEW_ORDER "/order-plz -> "

/* Reads the server target's log: its line count, and the first line at or
 * after `from` that asks for RenewalInfo / creates an order (-1: none). */
static long scan_log(const char *path, long from, long *ri_at, long *order_at) {
  FILE *f = path ? fopen(path, "r") : NULL;
  char line[1024];
  long n = 0;
  *ri_at = *order_at = -1;
  for (; f && fgets(line, sizeof line, f); n += strchr(line, '\n') != NULL) {
    if (n < from) continue;
    if (*ri_at < 0 && strstr(line, LOG_RENEWAL_INFO)) *ri_at = n;
    if (*order_at < 0 && strstr(line, LOG_NEW_ORDER)) *order_at = n;
  }
  if (f) fclose(f);
  return n;
}

/* Between issue and renew on a server with a movable window: the first
 * certificate's RenewalInfo becomes a window from two days to one day ago
 * (RFC 9773 §4.2: a client renews once the window's start has passed), so
 * the client's own ARI logic finds it due. The outcome goes to c->probe. */
static void between_window(cell *c) {
  if (!movable_window(c)) return;
  char mgmt[256], url[400], start[32], end[32];
  pebble_mgmt(c, mgmt, sizeof mgmt);
  char *pem = leaf_pem(c);
  time_t now = time(NULL), s = now - 2 * 86400, e = now - 86400;
  struct tm ts, te; /* gmtime_r: cells run on several threads */
  strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&s, &ts));
  strftime(end, sizeof end, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&e, &te));
  json_t *ari = json_pack("{s:{s:s, s:s}}", "suggestedWindow", "start", start, "end", end);
  char *ari_text = json_dumps(ari, JSON_COMPACT);
  json_t *body = pem && ari_text ? json_pack("{s:s, s:s}", "Certificate", pem, "ARIResponse", ari_text) : NULL;
  char *body_text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  snprintf(url, sizeof url, "https://%s/set-renewal-info/", mgmt);
  acmeh_http_resp r = {0};
  long ri, order;
  c->log_mark = scan_log(c->rec.server_log, 0, &ri, &order); /* what the client does next starts here */
  if (!mgmt[0] || !body_text) snprintf(c->probe, sizeof c->probe, "no %s", mgmt[0] ? "first certificate" : "management address");
  else if (request(c, "POST", url, body_text, &r) != ACMEH_OK) snprintf(c->probe, sizeof c->probe, "POST %.200s: %.300s", url, c->err);
  else snprintf(c->probe, sizeof c->probe, "POST %.200s with window %s..%s -> %ld", url, start, end, r.status);
  acmeh_http_resp_free(&r);
  free(pem), free(ari_text), free(body_text);
  json_decref(ari), json_decref(body);
}

/* ---- ari ---------------------------------------------------------------------- */

static int early_ari(cell *c) {
  if (!acmeh_mx_claims(c->client, "ari")) return reason(c, ACMEH_SKIP, "client does not implement ARI%s%s", "", ""), 1;
  if (!server_claims(c, "ari")) return reason(c, ACMEH_SKIP, "server does not advertise renewalInfo%s%s", "", ""), 1;
  if (movable_window(c) && !acmeh_mx_claims(c->client, "renew_when_due"))
    return reason(c, ACMEH_SKIP, "the client's renew forces a renewal, so on %s, whose exchanges the harness cannot see, a renewal %s",
                  c->server->name, "would not show its ARI logic at work"), 1;
  if (movable_window(c)) return 0;
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

/* A server with a movable window, whose exchanges the harness cannot see but
 * whose log it reads: after the move, did the client ask for RenewalInfo,
 * and did it renew, and in which order? A client that does not ask again may
 * be honouring the Retry-After of its first fetch (Pebble says 6 h; RFC 9773
 * §4.3), which one run cannot wait out: that is a skip, not a failure. */
static void judge_ari_moved(cell *c) {
  char why[700];
  long ri, order;
  if (!strstr(c->probe, " -> 200")) {
    reason(c, ACMEH_ERROR, "could not move the renewal window: %s%s", c->probe[0] ? c->probe : "the client's first step never ended", "");
    return;
  }
  scan_log(c->rec.server_log, c->log_mark, &ri, &order);
  check_second_cert(c, why, sizeof why);
  int renewed = !why[0], asked_first = ri >= 0 && (order < 0 || ri < order);
  if (renewed && asked_first)
    reason(c, ACMEH_PASS, "with its window moved into the past (set-renewal-info), the client asked for RenewalInfo, then renewed "
           "(whether the newOrder carried replaces is not visible on %s)%s", c->server->name, "");
  else if (renewed)
    reason(c, ACMEH_SKIP, "the client renewed without asking for RenewalInfo first (%s's log), so the renewal was not shown to be "
           "ARI's decision%s", c->server->name, "");
  else if (ri >= 0)
    reason(c, ACMEH_FAIL, "the client asked for RenewalInfo after its window was moved into the past (RFC 9773 §4.2: renew), yet %s%s", why, "");
  else
    reason(c, ACMEH_SKIP, "the client did not ask for RenewalInfo again after the window moved (it may follow the Retry-After of its "
           "first fetch, RFC 9773 §4.3): no renewal to judge in one run; %s%s", why, "");
}

static void judge_ari(cell *c) {
  char why[700], err[256];
  if (acmeh_mx_judge_run(c)) return;
  if (movable_window(c)) {
    judge_ari_moved(c);
    return;
  }
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
    {"renew", "{\"actions\": [\"issue\", \"renew\"], " PAST_WINDOW "}", {"issue", "renew"}, 0, early_renew, NULL, judge_renew, between_window},
    {"revoke", "{\"actions\": [\"issue\", \"revoke\"]}", {"issue", "revoke"}, 0, early_revoke, probe_revoke, judge_revoke, NULL},
    {"ari", "{\"actions\": [\"issue\", \"renew\"], " PAST_WINDOW "}", {"issue", "renew"}, 0, early_ari, NULL, judge_ari, between_window},
    {"profiles", "{\"action\": \"issue\", \"vars\": {\"PROFILE\": \"" PROFILE "\"}}", {"issue"}, 0, early_profiles, NULL, judge_profiles, NULL},
};
const size_t acmeh_mx_nextra_kinds = sizeof acmeh_mx_extra_kinds / sizeof *acmeh_mx_extra_kinds;
