/* DNSUP-S checks of RFC 2136 semantics: adds, deletes, prerequisites, zone
 * membership. Every UPDATE is signed with the nameserver's in-policy key, so
 * only the RFC 2136 behaviour is under test here. */
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "suites/dnsupdate/server.h"

/* S-001: add, NOERROR, then served (RFC 2136 §3.4.2.2, §3.4.2.5). */
static int add_served(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300], v[32];
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner), dnsupdate_value(ctx, v, sizeof v);
  rc = dnsupdate_add(ctx, ns, &ns->key, owner, v);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", v, 1, "after an ADD answered NOERROR");
  return rc;
}

/* Adds two values at a fresh owner in one UPDATE. */
static int add_two(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, char *owner, size_t olen, char *a, char *b) {
  dnsupdate_owner(ctx, ns, owner, olen), dnsupdate_value(ctx, a, 32), dnsupdate_value(ctx, b, 32);
  int rc = dnsupdate_add(ctx, ns, &ns->key, owner, a);
  if (!rc) rc = dnsupdate_add(ctx, ns, &ns->key, owner, b);
  return rc;
}

/* Sends one delete (one RR when rdata != NULL, else the RRset); expects NOERROR. */
static int send_delete(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const char *owner, const char *rdata) {
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  acmeh_dnsup_resp r;
  int rc = !u ? ACMEH_NOMEM : rdata ? acmeh_dnsup_del_rr(u, owner, "TXT", rdata) : acmeh_dnsup_del_rrset(u, owner, "TXT");
  const char *what = rdata ? "DELETE of one TXT RR (CLASS NONE)" : "DELETE of the TXT RRset (CLASS ANY)";
  if (!rc) rc = dnsupdate_send(ctx, ns, u, &ns->key, NULL, what, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOERROR, -1, what);
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_free(u);
  return rc;
}

/* Two values at a fresh owner, then a delete of the first RR (one_rr) or of
 * the RRset; the first value must be gone, the second kept only by the
 * one-RR delete. */
static int delete_case(acmeh_check_ctx *ctx, int one_rr) {
  const acmeh_ns_env *ns;
  char owner[300], a[32], b[32];
  const char *gone = one_rr ? "after its CLASS NONE delete" : "after a CLASS ANY delete of the TXT RRset";
  int rc = dnsupdate_ns(ctx, &ns);
  if (!rc) rc = add_two(ctx, ns, owner, sizeof owner, a, b);
  if (!rc) rc = send_delete(ctx, ns, owner, one_rr ? a : NULL);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", a, 0, gone);
  if (!rc)
    rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", b, one_rr, one_rr ? "after a CLASS NONE delete of another value" : gone);
  return rc;
}

/* S-002: CLASS NONE delete removes exactly one RR (RFC 2136 §2.5.4, §3.4.2.4). */
static int delete_rr(acmeh_check_ctx *ctx) { return delete_case(ctx, 1); }

/* S-003: CLASS ANY delete removes the whole RRset (RFC 2136 §2.5.2, §3.4.2.3). */
static int delete_rrset(acmeh_check_ctx *ctx) { return delete_case(ctx, 0); }

/* One prerequisite + an ADD of a fresh value at owner; expects `rcode` and the
 * ADD not applied. When `existing`, a TXT record is put at owner first. */
static int prereq_case(acmeh_check_ctx *ctx, acmeh_prereq_kind kind, int existing, const char *prdata,
                       int rcode, const char *what) {
  const acmeh_ns_env *ns;
  char owner[300], v[32], e[32];
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner), dnsupdate_value(ctx, v, sizeof v), dnsupdate_value(ctx, e, sizeof e);
  if (existing) rc = dnsupdate_add(ctx, ns, &ns->key, owner, e);
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  acmeh_dnsup_resp r = {0};
  if (!rc) rc = u ? acmeh_dnsup_prereq(u, kind, owner, "TXT", prdata) : ACMEH_NOMEM;
  if (!rc) rc = acmeh_dnsup_add_rr(u, owner, 60, "TXT", v);
  if (!rc) rc = dnsupdate_send(ctx, ns, u, &ns->key, NULL, what, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, rcode, -1, what);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", v, 0, "although its UPDATE's prerequisite failed");
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_free(u);
  return rc;
}

/* S-016 .. S-020 (RFC 2136 §2.4.1-§2.4.5, §3.2.5). */
static int prereq_name_in_use(acmeh_check_ctx *ctx) {
  return prereq_case(ctx, ACMEH_PREREQ_NAME_IN_USE, 0, NULL, ACMEH_RCODE_NXDOMAIN,
                     "UPDATE with prerequisite \"name is in use\" on an absent name");
}
static int prereq_name_not_in_use(acmeh_check_ctx *ctx) {
  return prereq_case(ctx, ACMEH_PREREQ_NAME_NOT_IN_USE, 1, NULL, ACMEH_RCODE_YXDOMAIN,
                     "UPDATE with prerequisite \"name is not in use\" on an existing name");
}
static int prereq_rrset_exists(acmeh_check_ctx *ctx) {
  return prereq_case(ctx, ACMEH_PREREQ_RRSET_EXISTS, 0, NULL, ACMEH_RCODE_NXRRSET,
                     "UPDATE with prerequisite \"TXT RRset exists\" on an absent RRset");
}
static int prereq_rrset_absent(acmeh_check_ctx *ctx) {
  return prereq_case(ctx, ACMEH_PREREQ_RRSET_ABSENT, 1, NULL, ACMEH_RCODE_YXRRSET,
                     "UPDATE with prerequisite \"TXT RRset does not exist\" on a present RRset");
}
static int prereq_value(acmeh_check_ctx *ctx) {
  return prereq_case(ctx, ACMEH_PREREQ_RRSET_EXISTS_VALUE, 1, "\"not-the-value\"", ACMEH_RCODE_NXRRSET,
                     "UPDATE with value-dependent prerequisite naming a value not in the RRset");
}

/* S-021: a prerequisite outside the zone (RFC 2136 §3.2, §3.2.5). An update RR
 * outside the zone is no test of NOTZONE: §3.3's permission check comes first
 * and a scoped key may be REFUSED there (BIND answers NOTZONE, the mock DNS
 * REFUSED; both follow the RFC). */
static int notzone(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char outside[300], owner[300], v[32], l[32];
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner), dnsupdate_value(ctx, v, sizeof v), dnsupdate_value(ctx, l, sizeof l);
  snprintf(outside, sizeof outside, "_acme-challenge.%.11s.outside-the-zone.invalid.", l + 1);
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  acmeh_dnsup_resp r = {0};
  const char *what = "UPDATE with a prerequisite on a name outside the zone";
  rc = u ? acmeh_dnsup_prereq(u, ACMEH_PREREQ_NAME_NOT_IN_USE, outside, NULL, NULL) : ACMEH_NOMEM;
  if (!rc) rc = acmeh_dnsup_add_rr(u, owner, 60, "TXT", v);
  if (!rc) rc = dnsupdate_send(ctx, ns, u, &ns->key, NULL, what, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOTZONE, -1, what);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", v, 0, "although its UPDATE's prerequisite was outside the zone");
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_free(u);
  return rc;
}

const acmeh_check_impl dnsupdate_update_checks[] = {
    {"DNSUP-S-001", add_served},         {"DNSUP-S-002", delete_rr},
    {"DNSUP-S-003", delete_rrset},       {"DNSUP-S-016", prereq_name_in_use},
    {"DNSUP-S-017", prereq_name_not_in_use}, {"DNSUP-S-018", prereq_rrset_exists},
    {"DNSUP-S-019", prereq_rrset_absent}, {"DNSUP-S-020", prereq_value},
    {"DNSUP-S-021", notzone},            {NULL, NULL}};
