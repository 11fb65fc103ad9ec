/* ARI-C-*: the client under test and RFC 9773, judged from what it sent the
 * reference server in the ARI scenarios (suites/ari/scenarios.json). A client
 * that never fetches RenewalInfo skips ("client does not fetch renewalInfo"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "base/error.h"
#include "suites/ari/client_common.h"

#define NO_ARI "client does not fetch renewalInfo"

/* Skips, before running the scenario the check needs, a client whose target
 * declares "ari": false (no scenario runs: real clients are slow, and each
 * packaged one was seen to fetch nothing), or that neither claims ARI nor
 * fetched RenewalInfo when its renewal run needed it (scenario ari-window-past). */
static int ari_gate(acmeh_check_ctx *ctx) {
  if (acmeh_kit_disclaims(ctx, "ari")) return acmeh_check_skip(ctx, NO_ARI " (its target declares \"ari\": false)");
  if (acmeh_kit_claims(ctx, "ari") || ari_rec_client_uses_ari(ctx)) return ACMEH_OK;
  return acmeh_check_skip(ctx, NO_ARI " (no request to it in scenario ari-window-past, and the target claims no ARI)");
}

/* The scenario's record, skipping when the client made no ARI request in it. */
static int ari_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r) {
  static const acmeh_client_run none = {.name = "none"}; /* no exchanges: callers' loops stay safe */
  int rc = ari_gate(ctx);
  *r = &none;
  if (rc) return rc;
  rc = acmeh_kit_record(ctx, scenario, r);
  if (rc == ACMEH_OK && !ari_rec_count(*r)) rc = acmeh_check_skip(ctx, NO_ARI);
  return rc;
}

/* The "replaces" member of a newOrder payload (RFC 9773 §5), NULL when absent. */
static const char *replaces(const json_t *order_payload) { return json_string_value(json_object_get(order_payload, "replaces")); }

static int in_array(const json_t *a, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (s && strcmp(json_string_value(v), s) == 0) return 1;
  return 0;
}

static int cert_id_ok(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  json_t *ids = rc ? NULL : ari_rec_issued_ids(r);
  acmeh_kit_exchange e;
  size_t i;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && ari_rec_is_ari(r, &e) && !in_array(ids, ari_rec_id(r, &e)))
    rc = acmeh_check_fail(ctx, "certID = base64url(AKI keyIdentifier) \".\" base64url(serial DER content octets) of an issued certificate",
                          "request #%lld asks for \"%s\"; the certificates issued are %s", e.seq, ari_rec_id(r, &e),
                          json_string_value(json_array_get(ids, 0)) ? json_string_value(json_array_get(ids, 0)) : "none");
  json_decref(ids);
  return rc;
}

static int url_form(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  const char *base = rc ? NULL : ari_rec_base(r);
  size_t i, n = base ? strlen(base) : 0;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && ari_rec_is_ari(r, &e)) {
    const char *url = e.url, *rest = url && base && !strncmp(url, base, n) ? url + n : NULL;
    if (!rest || rest[0] != '/' || rest[1] == '/' || strchr(rest, '=') || strchr(rest + 1, '/'))
      rc = acmeh_check_fail(ctx, "renewalInfo + \"/\" + certID, base64url without '=' padding",
                            "request #%lld is %s (renewalInfo is %s)", e.seq, url ? url : "?", base ? base : "?");
  }
  return rc;
}

static int plain_get(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && ari_rec_is_ari(r, &e) && (strcmp(e.method, "GET") || e.has_jws))
    rc = acmeh_check_fail(ctx, "a plain GET of renewalInfo (no JWS, no POST)", "request #%lld is a %s%s", e.seq, e.method,
                          e.has_jws ? " with a JWS body" : "");
  return rc;
}

static int fetch_after_issue(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_gate(ctx);
  if (rc) return rc;
  rc = acmeh_kit_record(ctx, "ari-issue", &r);
  long long cert = 0;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    if (!cert && acmeh_kit_is(&e, "POST", "certificate") && e.status == 200) cert = e.seq;
    if (cert && ari_rec_is_ari(r, &e)) return rc;
  }
  if (rc == ACMEH_OK && !ari_rec_client_uses_ari(ctx)) return acmeh_check_skip(ctx, NO_ARI);
  if (rc == ACMEH_OK)
    rc = acmeh_check_fail(ctx, "a RenewalInfo fetch right after the certificate download (SHOULD)",
                          cert ? "the issue run downloaded the certificate (#%lld) and never fetched its RenewalInfo"
                               : "the issue run downloaded no certificate (#%lld)", cert);
  return rc;
}

/* The first newOrder after the first certificate download, the renewal, into
 * *ord; 0 when there is none. */
static int renewal_order(const acmeh_client_run *r, acmeh_kit_exchange *ord) {
  int issued = 0;
  size_t i;
  ACMEH_KIT_EACH(r, i, *ord) {
    if (issued && acmeh_kit_is(ord, "POST", "newOrder")) return 1;
    issued |= acmeh_kit_is(ord, "POST", "certificate") && ord->status == 200;
  }
  return 0;
}

/* The window of the last 200 RenewalInfo answer before seq (0 = any); 0 when none. */
static int last_window(const acmeh_client_run *r, long long before, double *st, double *en, long long *at) {
  int found = 0;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (ari_rec_is_ari(r, &e) && (!before || e.seq < before) && e.status == 200) {
    json_t *b = acmeh_kit_resp_json(&e);
    acmeh_ari_window w;
    if (acmeh_ari_window_parse(b, &w, NULL, 0) == ACMEH_OK) *st = w.start, *en = w.end, *at = e.seq, found = 1;
    acmeh_ari_window_clear(&w);
    json_decref(b);
  }
  return found;
}

/* Exchange number seq of r into *e; left as it was when there is none. */
static void by_seq(const acmeh_client_run *r, long long seq, acmeh_kit_exchange *e) {
  size_t i;
  acmeh_kit_exchange x;
  ACMEH_KIT_EACH(r, i, x) if (x.seq == seq) {
    *e = x;
    return;
  }
}

/* Where in [start, end] scenario `name`'s renewal came (0 = start, 1 = end); NAN = no renewal. */
static int renewal_position(acmeh_check_ctx *ctx, const char *name, double *pos) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, name, &r);
  acmeh_kit_exchange ord;
  int renewed = rc == ACMEH_OK && renewal_order(r, &ord);
  double st = 0, en = 0, t = renewed ? acmeh_kit_wall(r, &ord) : 0;
  long long at = 0;
  *pos = NAN;
  if (renewed && last_window(r, ord.seq, &st, &en, &at)) *pos = (t - st) / (en - st);
  if (renewed && !isnan(*pos) && (t < st - 0.5 || t > en + 2))
    rc = acmeh_check_fail(ctx, "a renewal inside the suggested window", "scenario %s: newOrder #%lld came %.1f s %s the window [%.0f, %.0f]",
                          name, ord.seq, t < st ? st - t : t - en, t < st ? "before" : "after", st, en);
  return rc;
}

static int renews_in_window(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  acmeh_kit_exchange ord, w = {0};
  int renewed = rc == ACMEH_OK && renewal_order(r, &ord);
  double st, en, pos;
  long long at = 0;
  if (rc == ACMEH_OK && !last_window(r, 0, &st, &en, &at))
    return acmeh_check_skip(ctx, "the client's RenewalInfo requests got no window (see ARI-C-001/002)");
  by_seq(r, at, &w);
  if (rc == ACMEH_OK && (!renewed || acmeh_kit_wall(r, &ord) > acmeh_kit_wall(r, &w) + 10))
    rc = acmeh_check_fail(ctx, "a renewal right away when the window lies in the past (§4.2 steps 2-3)",
                          renewed ? "newOrder #%lld came %.1f s after the window arrived" : "no renewal after the window arrived (#%lld)",
                          renewed ? ord.seq : at, renewed ? acmeh_kit_wall(r, &ord) - acmeh_kit_wall(r, &w) : 0.0);
  if (rc == ACMEH_OK) rc = renewal_position(ctx, "ari-window-soon", &pos);
  if (rc == ACMEH_OK && isnan(pos)) acmeh_check_note(ctx, "scenario ari-window-soon: the client did not renew within the run");
  return rc;
}

static int spread(acmeh_check_ctx *ctx) {
  static const char *const names[] = {"ari-window-soon", "ari-window-soon-2", "ari-window-soon-3"};
  double pos[3];
  int n = 0, low = 0, high = 0;
  for (int i = 0; i < 3; i++) {
    int rc = renewal_position(ctx, names[i], &pos[n]);
    if (rc) return rc;
    if (!isnan(pos[n])) low += pos[n] < 0.1, high += pos[n] > 0.9, n++;
  }
  if (n < 2) return acmeh_check_skip(ctx, "the client renewed inside the window in %d of 3 runs: too few to judge the spread", n);
  if (low == n || high == n)
    return acmeh_check_fail(ctx, "renewal instants spread across the window (uniform choice, RECOMMENDED)",
                            "all %d renewals came in the window's %s tenth (positions %.2f, %.2f%s)", n, low == n ? "first" : "last", pos[0],
                            pos[1], n > 2 ? ", ..." : "");
  return ACMEH_OK;
}

static int bad_window_ignored(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-bad-window", &r);
  long long first = 0;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    if (!first && ari_rec_is_ari(r, &e)) first = e.seq;
    if (rc == ACMEH_OK && first && acmeh_kit_is(&e, "POST", "newOrder"))
      rc = acmeh_check_fail(ctx, "no renewal triggered by a window with end <= start (treated as a failed fetch)",
                            "newOrder #%lld followed the invalid RenewalInfo of #%lld", e.seq, first);
  }
  return rc;
}

/* Seconds between the first two ARI requests of the run; -1 when there was one. */
static double first_gap(const acmeh_client_run *r, long long *a, long long *b) {
  double t0 = -1;
  size_t i;
  acmeh_kit_exchange e;
  *a = *b = 0;
  ACMEH_KIT_EACH(r, i, e) if (ari_rec_is_ari(r, &e)) {
    if (t0 >= 0) return *b = e.seq, acmeh_kit_wall(r, &e) - t0;
    t0 = acmeh_kit_wall(r, &e), *a = e.seq;
  }
  return -1;
}

/* Fails when two ARI requests of the run came closer than `min` seconds. */
static int no_gap_below(acmeh_check_ctx *ctx, const acmeh_client_run *r, double min, const char *expected) {
  double prev = -1;
  long long ps = 0;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (ari_rec_is_ari(r, &e)) {
    if (prev >= 0 && acmeh_kit_wall(r, &e) - prev < min)
      return acmeh_check_fail(ctx, expected, "request #%lld came %.2f s after #%lld", e.seq, acmeh_kit_wall(r, &e) - prev, ps);
    prev = acmeh_kit_wall(r, &e), ps = e.seq;
  }
  return ACMEH_OK;
}

static int refetch_at_retry_after(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-retry-short", &r);
  long long a, b;
  if (rc == ACMEH_OK) rc = no_gap_below(ctx, r, 1.7, "no RenewalInfo re-fetch before its Retry-After (2 s)");
  if (rc == ACMEH_OK && first_gap(r, &a, &b) < 0)
    rc = acmeh_check_skip(ctx, "the client fetched RenewalInfo once and not again within the run (its clamp floor or next run lies beyond it)");
  return rc;
}

static int retry_after_clamped(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-retry-zero", &r);
  if (rc == ACMEH_OK && ari_rec_count(r) > 20)
    rc = acmeh_check_fail(ctx, "Retry-After: 0 clamped to a sane floor (RFC example: 60 s)", "%zu RenewalInfo requests in one run",
                          ari_rec_count(r));
  if (rc == ACMEH_OK) rc = no_gap_below(ctx, r, 0.9, "Retry-After: 0 clamped to a sane floor (RFC example: 60 s)");
  return rc;
}

static int backoff(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-503", &r);
  double prev = -1, gap = -1;
  size_t i, n = 0;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && ari_rec_is_ari(r, &e)) {
    double g = prev >= 0 ? acmeh_kit_wall(r, &e) - prev : -1;
    if (g >= 0 && gap >= 0 && g < gap * 1.2)
      rc = acmeh_check_fail(ctx, "exponential back-off between RenewalInfo retries after 503", "request #%lld came %.2f s after the previous, "
                            "the gap before was %.2f s", e.seq, g, gap);
    prev = acmeh_kit_wall(r, &e), gap = g >= 0 ? g : gap, n++;
  }
  if (rc == ACMEH_OK && n > 8)
    rc = acmeh_check_fail(ctx, "a capped number of retries, then the long-term delay", "%zu RenewalInfo requests after 503s in one run", n);
  return rc;
}

static int long_term_delay(acmeh_check_ctx *ctx) {
  static const char *const names[] = {"ari-404", "ari-no-retry-after"};
  for (int k = 0; k < 2; k++) {
    const acmeh_client_run *r;
    long long a, b;
    int rc = ari_record(ctx, names[k], &r);
    double g = rc ? -1 : first_gap(r, &a, &b);
    if (rc) return rc;
    if (g >= 0)
      return acmeh_check_fail(ctx, "the next RenewalInfo request no sooner than the long-term delay (6 h or a configured default)",
                              "scenario %s: request #%lld came %.1f s after #%lld", names[k], b, g, a);
  }
  return ACMEH_OK;
}

/* Fails for an ARI request for `id` after sequence number `after`. */
static int no_fetch_of(acmeh_check_ctx *ctx, const acmeh_client_run *r, const char *id, long long after, const char *why) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (e.seq > after && ari_rec_is_ari(r, &e) && id && strcmp(ari_rec_id(r, &e), id) == 0)
    return acmeh_check_fail(ctx, "no RenewalInfo request for a certificate already replaced", "request #%lld asks for %s, %s", e.seq, id, why);
  return ACMEH_OK;
}

/* Sequence number of the first certificate download whose leaf's certID is
 * not `first`: the successor's; 0 when none. A download of an alternate chain
 * (RFC 8555 §7.4.2, the Link rel="alternate" URLs, which lego 4.35 fetches
 * right after the certificate) carries the same leaf, so it is no successor. */
static long long successor_download(const acmeh_client_run *r, const char *first) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (first && acmeh_kit_is(&e, "POST", "certificate") && e.status == 200) {
    char *id = NULL;
    int other = e.resp_body && acmeh_ari_cert_id_pem(e.resp_body, strlen(e.resp_body), &id, NULL, 0) == ACMEH_OK && strcmp(id, first) != 0;
    free(id);
    if (other) return e.seq;
  }
  return 0;
}

static int none_after_replaced(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  json_t *ids = rc ? NULL : ari_rec_issued_ids(r);
  const char *first = json_string_value(json_array_get(ids, 0));
  long long second = rc ? 0 : successor_download(r, first);
  acmeh_kit_exchange e;
  size_t i;
  if (rc == ACMEH_OK && second)
    rc = no_fetch_of(ctx, r, first, second, "whose successor was downloaded before");
  json_decref(ids);
  if (rc == ACMEH_OK) rc = acmeh_kit_record(ctx, "ari-already-replaced", &r);
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && e.status == 409 && acmeh_kit_is(&e, "POST", "newOrder")) {
    json_t *p = acmeh_kit_order_payload(&e);
    rc = no_fetch_of(ctx, r, replaces(p), e.seq, "which the server called alreadyReplaced");
    json_decref(p);
  }
  return rc;
}

static int sends_replaces(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  acmeh_kit_exchange ord;
  int renewed = rc == ACMEH_OK && renewal_order(r, &ord);
  json_t *ids = rc ? NULL : ari_rec_issued_ids(r), *p = renewed ? acmeh_kit_order_payload(&ord) : NULL;
  const char *want = json_string_value(json_array_get(ids, 0)), *got = replaces(p);
  if (rc == ACMEH_OK && !renewed) rc = acmeh_check_skip(ctx, "the client did not renew");
  else if (rc == ACMEH_OK && (!got || !want || strcmp(got, want)))
    rc = acmeh_check_fail(ctx, "the renewal's newOrder with replaces = the predecessor's certID (SHOULD)", "newOrder #%lld has replaces %s (certID %s)",
                          ord.seq, got ? got : "(none)", want ? want : "?");
  json_decref(ids), json_decref(p);
  return rc;
}

static int no_replaces_without_ari(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_gate(ctx), orders = 0;
  if (rc) return rc;
  rc = acmeh_kit_record(ctx, "ari-off", &r);
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "newOrder")) {
    json_t *p = acmeh_kit_order_payload(&e);
    orders++;
    if (json_object_get(p, "replaces"))
      rc = acmeh_check_fail(ctx, "no replaces when the directory has no renewalInfo (SHOULD NOT)", "newOrder #%lld has replaces", e.seq);
    json_decref(p);
  }
  if (rc == ACMEH_OK && orders < 2) rc = acmeh_check_skip(ctx, "the client did not renew");
  return rc;
}

#define EXPLANATION "acme-harness-ari-7f3a"

static int explanation_shown(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-window-past", &r);
  if (rc == ACMEH_OK && !(r->client_log && strstr(r->client_log, EXPLANATION)))
    rc = acmeh_check_fail(ctx, "the explanationURL shown to the operator (SHOULD)", "the client's output never mentions \"%s\"", EXPLANATION);
  return rc;
}

static int no_loop_on_replaced(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = ari_record(ctx, "ari-already-replaced", &r);
  char refused[256] = "";
  long long at = 0;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "newOrder")) {
    json_t *p = acmeh_kit_order_payload(&e);
    const char *rep = replaces(p);
    if (*refused && rep && strcmp(rep, refused) == 0)
      rc = acmeh_check_fail(ctx, "no new order with the same replaces after 409 alreadyReplaced", "newOrder #%lld repeats replaces %s refused at #%lld",
                            e.seq, rep, at);
    if (!*refused && rep && e.status == 409) snprintf(refused, sizeof refused, "%s", rep), at = e.seq;
    json_decref(p);
  }
  if (rc == ACMEH_OK && !*refused) rc = acmeh_check_skip(ctx, "the client's renewal carried no replaces, so it met no alreadyReplaced");
  return rc;
}

static int http_date(acmeh_check_ctx *ctx) {
  const acmeh_client_run *zero, *date;
  long long a, b, c, d;
  int rc = ari_record(ctx, "ari-retry-zero", &zero);
  if (rc == ACMEH_OK) rc = ari_record(ctx, "ari-retry-date", &date);
  double g0 = rc ? -1 : first_gap(zero, &a, &b), g1 = rc ? -1 : first_gap(date, &c, &d);
  if (rc == ACMEH_OK && g0 < 0 && g1 < 0)
    rc = acmeh_check_skip(ctx, "no RenewalInfo re-fetch within the run for Retry-After 0 nor for a past HTTP-date: nothing to compare");
  else if (rc == ACMEH_OK && g0 >= 0 && (g1 < 0 || fabs(g1 - g0) > 2 + g0))
    rc = acmeh_check_fail(ctx, "an HTTP-date Retry-After read like its delay-seconds form (RFC 9110 §10.2.3)",
                          "a past HTTP-date gave %s, while Retry-After: 0 gave a re-fetch after %.1f s", g1 < 0 ? "no re-fetch in the run" : "a different delay", g0);
  return rc;
}

const acmeh_check_impl ari_client_checks[] = {
    {"ARI-C-001", cert_id_ok},         {"ARI-C-002", url_form},           {"ARI-C-003", plain_get},
    {"ARI-C-004", fetch_after_issue},  {"ARI-C-005", renews_in_window},   {"ARI-C-006", spread},
    {"ARI-C-007", bad_window_ignored}, {"ARI-C-008", refetch_at_retry_after}, {"ARI-C-009", retry_after_clamped},
    {"ARI-C-010", backoff},            {"ARI-C-011", long_term_delay},    {"ARI-C-012", none_after_replaced},
    {"ARI-C-013", sends_replaces},     {"ARI-C-014", no_replaces_without_ari}, {"ARI-C-015", explanation_shown},
    {"ARI-C-016", no_loop_on_replaced}, {"ARI-C-017", http_date},         {NULL, NULL}};
