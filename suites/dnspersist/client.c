/* PERSIST-C-001..007: a client under test answering dns-persist-01
 * (draft-ietf-acme-dns-persist, the revision chosen by --draft), judged from
 * the record of the suite's scenarios (suites/dnspersist/scenarios.json)
 * against the reference server, which follows the same revision and says in
 * the challenge's problem document why no record authorized
 * (harness/server/persist.c): how many TXT records it saw at the validation
 * name, the account mismatch, the missing policy=wildcard, the syntax error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/kit/record.h"
#include "harness/runner/scenario.h"
#include "suites/dnspersist/dnspersist.h"

#define TYPE "dns-persist-01"

static const char *field(const json_t *x, const char *k) { return json_string_value(json_object_get(x, k)); }
static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* What the record says about the client's dns-persist-01 challenge. */
typedef struct {
  json_t *last;        /* the last challenge object the server showed (owned), NULL = none */
  const char *answer;  /* payload of its first response POST (borrowed), NULL = none */
  long long answer_seq;
} dp_view;

static json_t *chal_in(const acmeh_kit_exchange *e) {
  json_t *b = acmeh_kit_resp_json(e), *ch = NULL, *c;
  if (streq(field(b, "type"), TYPE)) ch = json_incref(b);
  size_t i;
  json_array_foreach(json_object_get(b, "challenges"), i, c) if (streq(field(c, "type"), TYPE)) ch = json_incref(c);
  json_decref(b);
  return ch;
}

static void view_build(const acmeh_client_run *r, dp_view *v) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    if (!streq(e.resource, "authz") && !streq(e.resource, "challenge")) continue;
    json_t *ch = chal_in(&e);
    if (ch) json_decref(v->last), v->last = ch;
    int answers = streq(e.resource, "challenge") && e.payload && *e.payload && ch; /* POST-as-GET polls have "" */
    if (answers && !v->answer) v->answer = e.payload, v->answer_seq = e.seq;
  }
}

/* The scenario's record and view; fails when the client never answered. */
static int load(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r, dp_view *v) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc) return rc;
  view_build(*r, v);
  if (!v->last) return acmeh_check_fail(ctx, "the client fetching its authorization with the dns-persist-01 challenge",
                                        "no authorization or challenge exchange shows one (client exit %d)", (*r)->exit_status);
  if (!v->answer) return acmeh_check_fail(ctx, "a response POST to the dns-persist-01 challenge", "none (client exit %d)", (*r)->exit_status);
  return ACMEH_OK;
}

/* The reference server's reason the challenge failed ("" when it is valid). */
static const char *why_not(const dp_view *v) {
  return streq(field(v->last, "status"), "valid") ? "" : field(json_object_get(v->last, "error"), "detail") ? field(json_object_get(v->last, "error"), "detail") : "the challenge did not become valid";
}

static int no_record(const dp_view *v) { return strstr(why_not(v), "none of the 0 TXT records") != NULL; }

/* One judged scenario: fails with `expected` when the server's reason
 * contains `marker` (NULL: any reason); skips when there was no record. */
static int judged(acmeh_check_ctx *ctx, const char *scenario, const char *marker, const char *expected, int needs_record) {
  const acmeh_client_run *r;
  dp_view v = {0};
  int rc = load(ctx, scenario, &r, &v);
  const char *why = rc ? "" : why_not(&v);
  if (rc == ACMEH_OK && needs_record && no_record(&v))
    rc = acmeh_check_skip(ctx, "no record at _validation-persist.<name> to judge (see PERSIST-C-001)");
  if (rc == ACMEH_OK && *why && (!marker || strstr(why, marker)))
    rc = acmeh_check_fail(ctx, expected, "the reference server (%s) answered: %.500s", dnspersist_rev_name(dnspersist_rev(ctx)), why);
  json_decref(v.last);
  return rc;
}

static int at_name(acmeh_check_ctx *ctx) {
  return judged(ctx, "dnspersist-issue", "none of the 0 TXT records", "a TXT record at _validation-persist.<name>", 0);
}
static int listed_issuer(acmeh_check_ctx *ctx) {
  return judged(ctx, "dnspersist-issue", "names an issuer of this CA", "a record naming an issuer of the challenge's list", 1);
}
static int account_named(acmeh_check_ctx *ctx) {
  const char *exp[] = {"accounturi = the challenge's accounturi verbatim (-01 §3.1)", "accounturi = the account URL (-00 §4)",
                       "accounturi = meta.accountHashPrefix \"sha-256/\" base64url digest of this account (-02 §4.1)"};
  acmeh_persist_rev rev = dnspersist_rev(ctx);
  const char *e = rev == ACMEH_PERSIST_I1 ? exp[0] : rev == ACMEH_PERSIST_R0 ? exp[1] : exp[2];
  int rc = judged(ctx, "dnspersist-issue", "does not name account", e, 1);
  return rc ? rc : judged(ctx, "dnspersist-issue", "no accounturi", e, 1);
}
static int wildcard_policy(acmeh_check_ctx *ctx) {
  return judged(ctx, "dnspersist-wildcard", "policy=wildcard", "policy=wildcard in the record of a wildcard authorization", 1);
}
static int syntax(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  dp_view v = {0};
  int rc = load(ctx, "dnspersist-issue", &r, &v);
  const char *type = field(json_object_get(v.last, "error"), "type");
  if (rc == ACMEH_OK && type && strstr(type, ":malformed") && !strstr(why_not(&v), "no accounturi"))
    rc = acmeh_check_fail(ctx, "a record in RFC 8659 issue-value syntax", "the reference server found it malformed: %.400s", why_not(&v));
  json_decref(v.last);
  return rc;
}

static int empty_answer(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  dp_view v = {0};
  int rc = load(ctx, "dnspersist-issue", &r, &v);
  json_t *p = rc ? NULL : json_loads(v.answer, 0, NULL);
  if (rc == ACMEH_OK && (!json_is_object(p) || json_object_size(p) != 0))
    rc = acmeh_check_fail(ctx, "the payload {} in the challenge response", "request #%lld sends %.200s", v.answer_seq, v.answer);
  json_decref(p);
  json_decref(v.last);
  return rc;
}

static int empty_list_refused(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  dp_view v = {0};
  int rc = acmeh_scenario_get(ctx, "dnspersist-no-issuers", &r);
  if (rc == ACMEH_OK) view_build(r, &v);
  if (rc == ACMEH_OK && !v.last)
    rc = acmeh_check_skip(ctx, "the client never fetched the authorization with the malformed challenge (exit %d)", r->exit_status);
  if (rc == ACMEH_OK && v.answer)
    rc = acmeh_check_fail(ctx, "no response to a dns-persist-01 challenge whose issuer list is empty (malformed, §3.1)",
                          "request #%lld answered it with %.100s", v.answer_seq, v.answer);
  json_decref(v.last);
  return rc;
}

const acmeh_check_impl dnspersist_client_checks[] = {
    {"PERSIST-C-001", at_name},         {"PERSIST-C-002", listed_issuer}, {"PERSIST-C-003", empty_list_refused},
    {"PERSIST-C-004", account_named},   {"PERSIST-C-005", wildcard_policy}, {"PERSIST-C-006", syntax},
    {"PERSIST-C-007", empty_answer},    {NULL, NULL}};
