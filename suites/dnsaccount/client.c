/* DNSACCT-C-001..005: a client under test answering dns-account-01
 * (draft-ietf-acme-dns-account-label-00 §3.2, §3.3), judged from the record of
 * the suite's scenarios (suites/dnsaccount/scenarios.json) against the
 * reference server, which derives the validation name from the kid of the
 * response itself and, on failure, puts validationName, accountUrl and
 * txtRecords in the challenge's problem document (harness/server/validate.c). */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "base/error.h"
#include "harness/kit/record.h"
#include "harness/runner/scenario.h"
#include "suites/dnsaccount/dnsaccount.h"

#define TYPE "dns-account-01"

static const char *field(const json_t *x, const char *k) { return json_string_value(json_object_get(x, k)); }
static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* What the record says about the client's dns-account-01 challenge. */
typedef struct {
  json_t *last;        /* the last challenge object the server showed (owned), NULL = none */
  char *account_url;   /* the account the client authenticated as */
  const char *answer;  /* payload of its first response POST (borrowed), NULL = none */
  long long answer_seq;
} da_view;

/* The dns-account-01 challenge in a response body (authorization or challenge). */
static json_t *chal_in(const acmeh_kit_exchange *e) {
  json_t *b = acmeh_kit_resp_json(e), *ch = NULL;
  if (streq(field(b, "type"), TYPE)) ch = json_incref(b);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(b, "challenges"), i, c) if (streq(field(c, "type"), TYPE)) ch = json_incref(c);
  json_decref(b);
  return ch;
}

static void view_build(const acmeh_client_run *r, da_view *v) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    const char *res = e.resource;
    if (!streq(res, "authz") && !streq(res, "challenge")) continue;
    json_t *ch = chal_in(&e);
    if (ch) json_decref(v->last), v->last = ch;
    const char *payload = e.payload;
    int answers = streq(res, "challenge") && payload && *payload && ch; /* POST-as-GET polls have "" */
    if (answers && !v->answer) v->answer = payload, v->answer_seq = e.seq;
    if (e.account && !v->account_url) v->account_url = strdup(e.account);
  }
}

static void view_free(da_view *v) {
  json_decref(v->last);
  free(v->account_url);
}

/* The scenario's record and view; skips when the client offers no
 * dns-account-01 or never saw one. */
static int load(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r, da_view *v) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc) return rc;
  view_build(*r, v);
  if (!v->last) return acmeh_check_fail(ctx, "the client fetching its authorization with the dns-account-01 challenge",
                                        "no authorization or challenge exchange shows one (client exit %d)", (*r)->exit_status);
  if (!v->answer) return acmeh_check_fail(ctx, "a response POST to the dns-account-01 challenge", "none (client exit %d)", (*r)->exit_status);
  return ACMEH_OK;
}

static json_int_t txt_records(const da_view *v) {
  const json_t *n = json_object_get(json_object_get(v->last, "error"), "txtRecords");
  return json_is_integer(n) ? json_integer_value(n) : -1;
}

/* C-001 / C-005: the reference server found a TXT at the name it derived. */
static int published_at(acmeh_check_ctx *ctx, const char *scenario) {
  const acmeh_client_run *r;
  da_view v = {0};
  int rc = load(ctx, scenario, &r, &v);
  const char *st = field(v.last, "status");
  char *want = rc ? NULL : dnsaccount_name(ctx, v.account_url, r->domain);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "account %s: the validation name is %s", v.account_url ? v.account_url : "?", want ? want : "?");
  if (rc == ACMEH_OK && !streq(st, "valid") && txt_records(&v) <= 0) {
    char *e = json_dumps(json_object_get(v.last, "error"), JSON_COMPACT);
    rc = acmeh_check_fail(ctx, "a TXT record at the name derived from the client's account URL", "no TXT at %s; the challenge ended \"%s\" (%.400s)",
                          want ? want : "?", st ? st : "?", e ? e : "no error");
    free(e);
  }
  free(want);
  view_free(&v);
  return rc;
}

static int label_from_url(acmeh_check_ctx *ctx) { return published_at(ctx, "dnsaccount-issue"); }
static int wildcard_base(acmeh_check_ctx *ctx) { return published_at(ctx, "dnsaccount-wildcard"); }

static int txt_value(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  da_view v = {0};
  int rc = load(ctx, "dnsaccount-issue", &r, &v);
  const char *st = field(v.last, "status");
  if (rc == ACMEH_OK && !streq(st, "valid") && txt_records(&v) <= 0)
    rc = acmeh_check_skip(ctx, "no TXT record at the account-scoped name to judge (see DNSACCT-C-001)");
  if (rc == ACMEH_OK && !streq(st, "valid")) {
    const char *d = field(json_object_get(v.last, "error"), "detail");
    rc = acmeh_check_fail(ctx, "a TXT value base64url(SHA-256(keyAuthorization))", "%.400s", d ? d : "the challenge did not become valid");
  }
  view_free(&v);
  return rc;
}

static int empty_answer(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  da_view v = {0};
  int rc = load(ctx, "dnsaccount-issue", &r, &v);
  json_t *p = rc ? NULL : json_loads(v.answer, 0, NULL);
  if (rc == ACMEH_OK && (!json_is_object(p) || json_object_size(p) != 0))
    rc = acmeh_check_fail(ctx, "the payload {} in the challenge response", "request #%lld sends %.200s", v.answer_seq, v.answer);
  json_decref(p);
  view_free(&v);
  return rc;
}

/* TXT records at name on the mock DNS (-1 when the query failed). */
static int txt_count(acmeh_check_ctx *ctx, const char *name) {
  ldns_resolver *res = ldns_resolver_new();
  ldns_rdf *ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1"), *dn = ldns_dname_new_frm_str(name);
  ldns_pkt *pkt = NULL;
  int n = -1;
  if (res && ns && dn && ldns_resolver_push_nameserver(res, ns) == LDNS_STATUS_OK) {
    ldns_resolver_set_port(res, (uint16_t)acmeh_mocks_dns_port(ctx->env->mocks));
    ldns_resolver_set_timeout(res, (struct timeval){2, 0});
    ldns_resolver_set_retry(res, 1);
    if (ldns_resolver_query_status(&pkt, res, dn, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD) == LDNS_STATUS_OK && pkt) {
      ldns_rr_list *l = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER);
      n = l ? (int)ldns_rr_list_rr_count(l) : 0;
      ldns_rr_list_deep_free(l);
    }
  }
  ldns_pkt_free(pkt);
  ldns_rdf_deep_free(ns), ldns_rdf_deep_free(dn);
  ldns_resolver_deep_free(res);
  return n;
}

static int cleaned_up(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  da_view v = {0};
  int rc = load(ctx, "dnsaccount-issue", &r, &v);
  const char *st = field(v.last, "status");
  if (rc == ACMEH_OK && !streq(st, "valid") && txt_records(&v) <= 0)
    rc = acmeh_check_skip(ctx, "the client's record was never at the account-scoped name (see DNSACCT-C-001)");
  char *name = rc ? NULL : dnsaccount_name(ctx, v.account_url, r->domain);
  int n = name ? txt_count(ctx, name) : -1;
  if (rc == ACMEH_OK && n < 0) rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_ENV_IO, "cannot query the mock DNS for %s", name ? name : "?");
  if (rc == ACMEH_OK && n > 0)
    rc = acmeh_check_fail(ctx, "the TXT record removed once the challenge is over (SHOULD)", "%d TXT record(s) still at %s after the client finished", n, name);
  free(name);
  view_free(&v);
  return rc;
}

const acmeh_check_impl dnsaccount_client_checks[] = {
    {"DNSACCT-C-001", label_from_url}, {"DNSACCT-C-002", txt_value},     {"DNSACCT-C-003", empty_answer},
    {"DNSACCT-C-004", cleaned_up},     {"DNSACCT-C-005", wildcard_base}, {NULL, NULL}};
