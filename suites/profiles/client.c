/* PROF-C-*: the client under test and ACME profiles (draft-ietf-acme-profiles
 * §3, §4), judged from the profile scenarios (suites/profiles/scenarios.json).
 * The scenarios ask for a profile through the variable PROFILE; a client
 * whose target does not claim profile support skips where it must act. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/record.h"

#define NO_PROFILES "client does not claim profile support"

/* The first newOrder payload carrying "profile" (new reference), its exchange
 * into *at; NULL when none (then *at is left as it was). */
static json_t *profile_order(const acmeh_client_run *r, acmeh_kit_exchange *at) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    json_t *p = acmeh_kit_order_payload(&e);
    if (json_object_get(p, "profile")) return *at = e, p;
    json_decref(p);
  }
  return NULL;
}

/* The scenario's record; first skips a client whose target declares
 * "profiles": false (no scenario runs), or that neither claims profile
 * support nor sent a profile when configured with an offered one
 * (scenario prof-listed): its other scenarios could show nothing more. */
static int prof_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r) {
  static const acmeh_client_run none = {.name = "none"}; /* no exchanges: callers' loops stay safe */
  acmeh_kit_exchange x;
  *r = &none;
  if (acmeh_kit_disclaims(ctx, "profiles")) return acmeh_check_skip(ctx, NO_PROFILES " (its target declares \"profiles\": false)");
  int rc = acmeh_kit_claims(ctx, "profiles") ? ACMEH_OK : acmeh_kit_record(ctx, "prof-listed", r);
  json_t *p = rc || acmeh_kit_claims(ctx, "profiles") ? NULL : profile_order(*r, &x);
  if (rc == ACMEH_OK && !p && !acmeh_kit_claims(ctx, "profiles"))
    rc = acmeh_check_skip(ctx, NO_PROFILES " (and it sent none in scenario prof-listed)");
  json_decref(p);
  if (rc) *r = &none;
  return rc ? rc : acmeh_kit_record(ctx, scenario, r);
}

static int profiles_shown(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = prof_record(ctx, "prof-listed", &r);
  const char *log = r && r->client_log ? r->client_log : "";
  if (rc == ACMEH_OK && !acmeh_kit_claims(ctx, "profiles")) return acmeh_check_skip(ctx, NO_PROFILES);
  if (rc == ACMEH_OK && !(strstr(log, "classic") && strstr(log, "shortlived")))
    rc = acmeh_check_fail(ctx, "the offered profiles (classic, shortlived) shown to the operator (SHOULD)", "the client's output names %s",
                          strstr(log, "classic") || strstr(log, "shortlived") ? "only one of them" : "neither");
  return rc;
}

static int unlisted_not_sent(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  acmeh_kit_exchange x = {0};
  int rc = prof_record(ctx, "prof-unlisted", &r);
  json_t *p = rc ? NULL : profile_order(r, &x);
  const char *name = json_string_value(json_object_get(p, "profile"));
  if (p && name && !strcmp(name, "c"))
    rc = acmeh_check_fail(ctx, "no profile the directory does not list (SHOULD NOT; lists classic, shortlived)",
                          "newOrder #%lld asks for profile \"c\"", x.seq);
  json_decref(p);
  return rc;
}

static int profile_member(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  acmeh_kit_exchange x = {0};
  int rc = prof_record(ctx, "prof-listed", &r);
  json_t *p = rc ? NULL : profile_order(r, &x), *v = json_object_get(p, "profile");
  if (rc == ACMEH_OK && !p && !acmeh_kit_claims(ctx, "profiles")) rc = acmeh_check_skip(ctx, NO_PROFILES);
  else if (rc == ACMEH_OK && !p)
    rc = acmeh_check_fail(ctx, "newOrder with \"profile\": \"shortlived\" (the configured profile)", "no newOrder names a profile");
  else if (rc == ACMEH_OK && (!json_is_string(v) || strcmp(json_string_value(v), "shortlived")))
    rc = acmeh_check_fail(ctx, "newOrder with \"profile\": \"shortlived\" (the configured profile)", "newOrder #%lld has profile %s",
                          x.seq, json_is_string(v) ? json_string_value(v) : "of another JSON type");
  json_decref(p);
  return rc;
}

static int none_without_meta(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  acmeh_kit_exchange x = {0};
  int rc = prof_record(ctx, "prof-none", &r);
  json_t *p = rc ? NULL : profile_order(r, &x);
  if (p) rc = acmeh_check_fail(ctx, "no profile when the directory lists none", "newOrder #%lld has a profile member", x.seq);
  json_decref(p);
  return rc;
}

static int stops_on_invalid(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  acmeh_kit_exchange x = {0};
  int rc = prof_record(ctx, "prof-invalid-neworder", &r), again = 0;
  json_t *p = rc ? NULL : profile_order(r, &x);
  acmeh_kit_exchange y;
  size_t i;
  ACMEH_KIT_EACH(r, i, y) if (p && y.seq > x.seq) {
    json_t *q = acmeh_kit_order_payload(&y);
    again += json_equal(json_object_get(q, "profile"), json_object_get(p, "profile"));
    json_decref(q);
  }
  if (rc == ACMEH_OK && !p) rc = acmeh_check_skip(ctx, "the client sent no profile");
  else if (rc == ACMEH_OK && again)
    rc = acmeh_check_fail(ctx, "the client stops after invalidProfile (no retry loop)", "%d more newOrders with the same profile after #%lld", again,
                          x.seq);
  else if (rc == ACMEH_OK && !(r->client_log && strstr(r->client_log, "invalidProfile")))
    rc = acmeh_check_fail(ctx, "the invalidProfile error reported to the operator", "the client's output never mentions invalidProfile");
  json_decref(p);
  return rc;
}

/* Blanks every word of `line` that holds a '/': a file path or URL names a
 * place, it says nothing about the profile. The client's folder is named after
 * the scenario (prof-ignored) inside the run folder (which a caller may call
 * run-profiles), so a client printing its paths would otherwise "say" it. */
static void blank_paths(char *line) {
  for (char *w = line; *w;) {
    size_t n = strcspn(w, " \t");
    if (memchr(w, '/', n)) memset(w, ' ', n);
    w += n;
    w += strspn(w, " \t");
  }
}

/* 1 when some output line speaks of the profile as missing or ignored. */
static int says_profile_missing(const char *log) {
  for (const char *l = log; l && *l;) {
    const char *nl = strchr(l, '\n');
    size_t n = nl ? (size_t)(nl - l) : strlen(l);
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), l);
    blank_paths(line);
    if (strstr(line, "profile") && (strstr(line, "ignor") || strstr(line, "without") || strstr(line, "missing") || strstr(line, "not applied")))
      return 1;
    l = nl ? nl + 1 : NULL;
  }
  return 0;
}

static int notices_ignored(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  acmeh_kit_exchange x = {0};
  int rc = prof_record(ctx, "prof-ignored", &r), finalized = 0;
  json_t *p = rc ? NULL : profile_order(r, &x);
  acmeh_kit_exchange y;
  size_t i;
  ACMEH_KIT_EACH(r, i, y) finalized |= p && y.seq > x.seq && acmeh_kit_is(&y, "POST", "finalize");
  if (rc == ACMEH_OK && !p) rc = acmeh_check_skip(ctx, "the client sent no profile");
  else if (rc == ACMEH_OK && finalized && !says_profile_missing(r->client_log))
    rc = acmeh_check_fail(ctx, "the client notices an order returned without the requested profile",
                          "it finalized the order of #%lld and its output never says the profile was missing", x.seq);
  json_decref(p);
  return rc;
}

static int new_order_after_finalize_refusal(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  acmeh_kit_exchange x = {0};
  int rc = prof_record(ctx, "prof-invalid-finalize", &r), orders_after = 0;
  json_t *p = rc ? NULL : profile_order(r, &x);
  acmeh_kit_exchange y;
  const char *refused = NULL;
  size_t i;
  ACMEH_KIT_EACH(r, i, y) {
    if (refused && acmeh_kit_is(&y, "POST", "finalize") && !strcmp(y.url, refused) && rc == ACMEH_OK)
      rc = acmeh_check_fail(ctx, "a new order, not the same finalize again, after invalidProfile", "finalize #%lld repeats %s", y.seq, refused);
    orders_after += refused && acmeh_kit_is(&y, "POST", "newOrder");
    if (!refused && acmeh_kit_is(&y, "POST", "finalize") && y.status >= 400) refused = y.url;
  }
  if (rc == ACMEH_OK && !p) rc = acmeh_check_skip(ctx, "the client sent no profile");
  else if (rc == ACMEH_OK && refused && !orders_after)
    rc = acmeh_check_fail(ctx, "a new order after invalidProfile at finalize", "no newOrder followed the refused finalize");
  json_decref(p);
  return rc;
}

const acmeh_check_impl profiles_client_checks[] = {
    {"PROF-C-001", profiles_shown},   {"PROF-C-002", unlisted_not_sent}, {"PROF-C-003", profile_member},
    {"PROF-C-004", none_without_meta}, {"PROF-C-005", stops_on_invalid}, {"PROF-C-006", notices_ignored},
    {"PROF-C-007", new_order_after_finalize_refusal}, {NULL, NULL}};
