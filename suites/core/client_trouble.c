/* Client under test: what a client does when the server is in trouble or
 * answers in ways fixed-interval, happy-path clients get wrong (RFC 8555
 * §6.5, §6.6, §6.7.1, §7.4; RFC 8738 §3). Each check judges one scenario
 * of suites/core/scenarios.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strbuf.h"
#include <openssl/x509.h>

#include "harness/acme/cert.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

static const char *member(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* The record of a scenario in which a client that waits is stopped at the
 * scenario's time limit: being stopped is then no error, only the end of
 * the observation. */
static int record_may_wait(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc == ACMEH_DEADLINE && *r && (*r)->timed_out) {
    acmeh_check_note(ctx, "the client was still running at the scenario's time limit (it waited): judged on what it sent");
    ctx->err[0] = 0;
    return ACMEH_OK;
  }
  return rc;
}

/* Several consecutive badNonce refusals: every retry must carry the nonce
 * of the refusal just before it (RFC 8555 §6.5), not an older or a fresh one. */
static int bad_nonce_chain(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "bad-nonce-thrice", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  const char *fresh = NULL;
  long long refused = 0;
  int retries = 0;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    if (rc || !acmeh_kit_is(&e, "POST", NULL)) continue;
    if (fresh && acmeh_kit_is(&e, "POST", "newOrder")) {
      const char *n = member(e.protected_hdr, "nonce");
      retries++;
      if (!n || strcmp(n, fresh) != 0)
        rc = acmeh_check_fail(ctx, "each retry signed with the Replay-Nonce of the badNonce error just before it",
                              "retry %d (request #%lld) uses nonce %s; the error of request #%lld gave %s", retries, e.seq, n ? n : "(none)",
                              refused, fresh);
    }
    fresh = NULL;
    if (json_array_size(e.faults)) fresh = acmeh_kit_resp_header(&e, "replay-nonce"), refused = e.seq;
  }
  if (rc == ACMEH_OK && !retries) return acmeh_check_skip(ctx, "the client did not retry the refused newOrder (judged by CORE-C-035)");
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "%d retries judged", retries);
  return rc;
}

/* After orderNotReady at finalize: stopping is fine; finalizing again is
 * fine after reading the order (its state may have changed), but not blindly
 * and not without end. */
static int order_not_ready_handled(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "order-not-ready", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "finalize");
  int finalizes = 0, read_since = 1;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    if (rc) break;
    if (acmeh_kit_is(&e, "POST", "order")) read_since = 1;
    if (!acmeh_kit_is(&e, "POST", "finalize")) continue;
    if (++finalizes > 3)
      rc = acmeh_check_fail(ctx, "at most 3 finalize requests after orderNotReady", "request #%lld is finalize number %d", e.seq, finalizes);
    else if (!read_since)
      rc = acmeh_check_fail(ctx, "the order read (POST-as-GET) before finalizing again after orderNotReady",
                            "request #%lld finalizes again with no read of the order since the refusal", e.seq);
    read_since = 0;
  }
  return rc;
}

/* RFC 8555 §6.7.1: each subproblem says what went wrong for one identifier;
 * a user who sees only the top-level detail cannot tell which name to fix. */
static int subproblems_surfaced(acmeh_check_ctx *ctx) {
  static const char *const marks[] = {"acme-harness-sub-a-7f3a", "acme-harness-sub-b-7f3a"};
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "subproblems", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  const char *log = r && r->client_log ? r->client_log : "";
  for (size_t k = 0; rc == ACMEH_OK && k < 2; k++)
    if (!strstr(log, marks[k]))
      rc = acmeh_check_fail(ctx, "every subproblem's detail shown to the user", "the client's output (%zu bytes) never mentions \"%s\"%s",
                            strlen(log), marks[k], strstr(log, "see subproblems") ? " (it shows the top-level detail only)" : "");
  return rc;
}

/* The ip identifier of the client's newOrder (RFC 8738 §3). */
static int ip_canonical(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = record_may_wait(ctx, "ip-long-form", &r);
  size_t i, k;
  acmeh_kit_exchange e;
  json_t *id;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "newOrder") && e.payload) {
    json_t *p = acmeh_kit_payload_json(&e);
    json_array_foreach(json_object_get(p, "identifiers"), k, id) if (rc == ACMEH_OK) {
      const char *type = member(id, "type"), *value = member(id, "value");
      if (!type || strcmp(type, "ip") != 0 || !value || strcmp(value, "::1") != 0)
        rc = acmeh_check_fail(ctx, "{\"type\": \"ip\", \"value\": \"::1\"} (RFC 5952 canonical form)", "request #%lld orders {\"type\": \"%.20s\", \"value\": \"%.60s\"}",
                              e.seq, type ? type : "(none)", value ? value : "(none)");
    }
    json_decref(p);
    return rc;
  }
  if (rc) return rc;
  return acmeh_check_skip(ctx, "the client sent no newOrder when asked for 0:0:0:0:0:0:0:1 (exit %d): it may not take IP addresses",
                          r->exit_status);
}

/* After the scenario's refusal with Retry-After: 3600, the same request
 * again within the run (30 s) is sooner than asked: stopping and waiting are
 * both right. */
static int hour_kept(acmeh_check_ctx *ctx, const char *scenario, const char *expected) {
  const acmeh_client_run *r;
  int rc = record_may_wait(ctx, scenario, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  long long refused_at = -1;
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    if (rc) break;
    if (refused_at < 0 && json_array_size(e.faults)) refused_at = e.time_ms;
    else if (refused_at >= 0 && acmeh_kit_is(&e, "POST", "newOrder"))
      rc = acmeh_check_fail(ctx, expected, "request #%lld sent newOrder again %lld ms after the refusal", e.seq, e.time_ms - refused_at);
  }
  if (rc == ACMEH_OK)
    acmeh_check_note(ctx, "the client %s", r->timed_out ? "waited until the scenario's time limit" : "stopped without resending");
  return rc;
}

static int busy_hour_kept(acmeh_check_ctx *ctx) {
  return hour_kept(ctx, "busy-an-hour", "no newOrder sent again before the 503's Retry-After (3600 s)");
}

static int rate_limit_hour_kept(acmeh_check_ctx *ctx) {
  return hour_kept(ctx, "rate-limited-an-hour", "no newOrder sent again before the rateLimited Retry-After (3600 s)");
}

/* RFC 8555 §7.4: "the exact same set of requested identifiers" - a client
 * that lower-cases one side only sends a CSR a byte-comparing CA refuses. */
static int upper_case_consistent(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "upper-case-name", &r);
  json_t *ordered = NULL;
  size_t i, k;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    json_t *p = rc == ACMEH_OK && e.payload ? acmeh_kit_payload_json(&e) : NULL, *id;
    if (!ordered && acmeh_kit_is(&e, "POST", "newOrder") && p) {
      ordered = json_array();
      json_array_foreach(json_object_get(p, "identifiers"), k, id) json_array_append(ordered, json_object_get(id, "value"));
    } else if (ordered && acmeh_kit_is(&e, "POST", "finalize") && member(p, "csr")) {
      X509_REQ *req = NULL;
      char **sans = NULL;
      size_t n = 0;
      if (acmeh_csr_parse(member(p, "csr"), &req) == ACMEH_OK) acmeh_csr_sans(req, &sans, &n);
      int same = req && n == json_array_size(ordered);
      for (size_t a = 0; same && a < n; a++) {
        int found = 0;
        json_array_foreach(ordered, k, id) found |= json_is_string(id) && strcmp(json_string_value(id), sans[a]) == 0;
        same = found;
      }
      if (!same) {
        acmeh_strbuf got = {0};
        for (size_t a = 0; a < n && a < 8; a++) acmeh_strbuf_printf(&got, "%s\"%.80s\"", a ? ", " : "", sans[a]);
        char *want = json_dumps(ordered, JSON_COMPACT);
        rc = acmeh_check_fail(ctx, "the CSR's names byte-identical to the newOrder identifiers", "request #%lld's CSR names %zu: %s; the newOrder had %s",
                              e.seq, n, got.data ? got.data : "nothing", want ? want : "?");
        free(got.data), free(want);
      }
      acmeh_names_free(sans, n);
      X509_REQ_free(req);
      json_decref(p), json_decref(ordered);
      return rc;
    }
    json_decref(p);
  }
  int got_order = ordered != NULL;
  json_decref(ordered);
  if (rc) return rc;
  if (!got_order) return acmeh_check_skip(ctx, "the client sent no newOrder for the upper-case name (exit %d)", r->exit_status);
  return acmeh_kit_unreached(ctx, r, "a finalize request with a CSR", "the client never finalized");
}

const acmeh_check_impl core_client_trouble_checks[] = {
    {"CORE-C-042", bad_nonce_chain},  {"CORE-C-043", order_not_ready_handled}, {"CORE-C-044", subproblems_surfaced},
    {"CORE-C-045", ip_canonical},     {"CORE-C-046", busy_hour_kept},          {"CORE-C-047", rate_limit_hour_kept},
    {"CORE-C-049", upper_case_consistent}, {0}};
