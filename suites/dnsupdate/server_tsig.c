/* DNSUP-S checks of TSIG (RFC 8945) and access control (RFC 2136 §3.3) on
 * UPDATE: bad keys, MACs and times are refused with the right TSIG error
 * and nothing is applied; good answers are signed; policies hold; replays. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "suites/dnsupdate/server.h"

/* A signed ADD of a fresh value at a fresh in-policy owner with `key` and
 * `mut`; r receives the answer. owner/v receive the names used. */
static int try_add(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_tsig_key *key, const acmeh_tsig_mut *mut,
                   const char *what, char *owner, char *v, acmeh_dnsup_msg *keep, acmeh_dnsup_resp *r) {
  if (!owner[0]) dnsupdate_owner(ctx, ns, owner, 300);
  dnsupdate_value(ctx, v, 32);
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  int rc = u ? acmeh_dnsup_add_rr(u, owner, 60, "TXT", v) : ACMEH_NOMEM;
  if (!rc) rc = dnsupdate_send(ctx, ns, u, key, mut, what, keep, r);
  acmeh_dnsup_free(u);
  return rc;
}

/* An ADD bent by `mut` must answer NOTAUTH + tsig_error, with an unsigned
 * TSIG when `unsigned_reply` (RFC 8945 §5.3.2), and must not be applied. */
static int refused_add(acmeh_check_ctx *ctx, const acmeh_tsig_mut *mut, int tsig_error, int unsigned_reply,
                       const char *what) {
  const acmeh_ns_env *ns;
  char owner[300] = "", v[32];
  acmeh_dnsup_resp r = {0};
  int rc = dnsupdate_ns(ctx, &ns);
  if (!rc) rc = try_add(ctx, ns, &ns->key, mut, what, owner, v, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOTAUTH, tsig_error, what);
  if (!rc && unsigned_reply && r.tsig_mac_len != 0)
    rc = acmeh_check_fail(ctx, "an unsigned TSIG error answer (MAC size 0)", "%s answered with a %zu-octet MAC", what,
                          r.tsig_mac_len);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", v, 0, "although its UPDATE was refused");
  acmeh_dnsup_resp_clear(&r);
  return rc;
}

/* S-004 .. S-007 (RFC 8945 §5.2.1 - §5.2.3, §5.3.2). */
static int unknown_key(acmeh_check_ctx *ctx) {
  acmeh_tsig_mut m = {.key_name = "no-such-key.acmeh-harness.invalid."};
  return refused_add(ctx, &m, ACMEH_TSIG_BADKEY, 1, "ADD signed under an unknown key name");
}
static int unknown_alg(acmeh_check_ctx *ctx) {
  acmeh_tsig_mut m = {.alg_name = "hmac-acmeh-unknown."};
  return refused_add(ctx, &m, ACMEH_TSIG_BADKEY, 0, "ADD whose TSIG names an unknown algorithm");
}
static int bad_mac(acmeh_check_ctx *ctx) {
  acmeh_tsig_mut m = {.corrupt_mac = 1};
  return refused_add(ctx, &m, ACMEH_TSIG_BADSIG, 1, "ADD with one bit of its MAC flipped");
}
static int bad_time(acmeh_check_ctx *ctx) {
  acmeh_tsig_mut m = {.time_offset_s = -3600, .fudge = 300};
  return refused_add(ctx, &m, ACMEH_TSIG_BADTIME, 0, "ADD signed 3600 s in the past with fudge 300");
}

/* S-008: the BADTIME answer's TSIG (RFC 8945 §5.2.3, §5.3.2). */
static int badtime_answer(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300] = "", v[32];
  acmeh_tsig_mut m = {.time_offset_s = -3600, .fudge = 300};
  acmeh_dnsup_msg sent = {0};
  acmeh_dnsup_resp r = {0};
  const char *what = "ADD signed 3600 s in the past";
  int rc = dnsupdate_ns(ctx, &ns);
  if (!rc) rc = try_add(ctx, ns, &ns->key, &m, what, owner, v, &sent, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOTAUTH, ACMEH_TSIG_BADTIME, what);
  long skew = (long)r.server_time - (long)time(NULL);
  if (!rc && r.tsig != ACMEH_TSIG_VERIFIED)
    rc = acmeh_check_fail(ctx, "a BADTIME answer signed with the request's key", "its TSIG is %s (key %s, %s, MAC size %zu)",
                          r.tsig == ACMEH_TSIG_UNSIGNED ? "unsigned" : "not verifying", r.tsig_key, r.tsig_alg, r.tsig_mac_len);
  if (!rc && (r.tsig_time != sent.time_signed || r.tsig_fudge != sent.fudge))
    rc = acmeh_check_fail(ctx, "Time Signed and Fudge copied from the request", "Time Signed %llu Fudge %u, request had %llu and %u",
                          (unsigned long long)r.tsig_time, r.tsig_fudge, (unsigned long long)sent.time_signed, sent.fudge);
  if (!rc && (r.other_len != 6 || skew < -300 || skew > 300))
    rc = acmeh_check_fail(ctx, "Other Len 6 with the server's current time", "Other Len %d, Other Data time %llu (%ld s from ours)",
                          r.other_len, (unsigned long long)r.server_time, skew);
  acmeh_dnsup_msg_clear(&sent);
  acmeh_dnsup_resp_clear(&r);
  return rc;
}

/* An accepted ADD with `key` must come back NOERROR with a verifying TSIG. */
static int signed_answer(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_tsig_key *key) {
  char owner[300] = "", v[32], what[400];
  acmeh_dnsup_resp r = {0};
  snprintf(what, sizeof what, "ADD signed with %s (%s)", key->name, key->alg);
  int rc = try_add(ctx, ns, key, NULL, what, owner, v, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOERROR, -1, what);
  if (!rc && r.tsig != ACMEH_TSIG_VERIFIED)
    rc = acmeh_check_fail(ctx, "an answer TSIG with the request's key whose MAC verifies", "%s: the answer has %s", what,
                          r.tsig == ACMEH_TSIG_ABSENT ? "no TSIG" : r.tsig == ACMEH_TSIG_UNSIGNED ? "an unsigned TSIG" : "a TSIG that does not verify");
  acmeh_dnsup_resp_clear(&r);
  return rc;
}

/* S-009 (RFC 8945 §5.3, §5.4) and S-010 (§6, hmac-sha512). */
static int answer_signed(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  int rc = dnsupdate_ns(ctx, &ns);
  return rc ? rc : signed_answer(ctx, ns, &ns->key);
}
static int sha512_key(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  if (!ns->have_key512) return acmeh_check_skip(ctx, "the nameserver target has no hmac-sha512 key");
  return signed_answer(ctx, ns, &ns->key512);
}

/* An UPDATE that policy forbids: REFUSED and not applied (RFC 2136 §3.3). */
static int refused_by_policy(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_tsig_key *key,
                             const char *owner, const char *type, const char *rdata, const char *what) {
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  acmeh_dnsup_resp r = {0};
  int rc = u ? acmeh_dnsup_add_rr(u, owner, 60, type, rdata) : ACMEH_NOMEM;
  if (!rc) rc = dnsupdate_send(ctx, ns, u, key, NULL, what, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_REFUSED, -1, what);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, type, rdata, 0, "although policy forbids its UPDATE");
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_free(u);
  return rc;
}

/* S-011: unsigned. */
static int unsigned_update(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300], v[32];
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner), dnsupdate_value(ctx, v, sizeof v);
  return refused_by_policy(ctx, ns, NULL, owner, "TXT", v, "unsigned ADD");
}

/* S-012: names outside a key's scope, with the in-policy key and with the other key. */
static int policy_name(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300], v[32];
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_value(ctx, v, sizeof v);
  snprintf(owner, sizeof owner, "www-%.10s.%s", v + 2, ns->zone);
  rc = refused_by_policy(ctx, ns, &ns->key, owner, "TXT", v, "ADD by the _acme-challenge key outside _acme-challenge");
  if (rc || !ns->have_other) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner);
  return refused_by_policy(ctx, ns, &ns->other, owner, "TXT", v, "ADD at an _acme-challenge name by a key scoped elsewhere");
}

/* S-013: a type outside the policy at an allowed name. */
static int policy_type(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300];
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner);
  return refused_by_policy(ctx, ns, &ns->key, owner, "A", "192.0.2.7", "ADD of an A record at an _acme-challenge name");
}

/* S-014: after an UPDATE signed now, one signed 100 s earlier (inside the
 * fudge) must answer BADTIME (RFC 8945 §5.2.3 SHOULD). */
static int earlier_time(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300] = "", v1[32], v2[32];
  acmeh_tsig_mut old = {.time_offset_s = -100};
  acmeh_dnsup_resp r = {0};
  int rc = dnsupdate_ns(ctx, &ns);
  if (!rc) rc = try_add(ctx, ns, &ns->key, NULL, "ADD signed now", owner, v1, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOERROR, -1, "ADD signed now");
  acmeh_dnsup_resp_clear(&r);
  const char *what = "ADD signed 100 s before an accepted one (inside the fudge)";
  if (!rc) rc = try_add(ctx, ns, &ns->key, &old, what, owner, v2, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOTAUTH, ACMEH_TSIG_BADTIME, what);
  acmeh_dnsup_resp_clear(&r);
  return rc;
}

/* S-015: delete V (kept), add V again, replay the delete: V must stay. */
static int replay(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300], v[32];
  acmeh_dnsup_msg del = {0};
  acmeh_dnsup_resp r = {0};
  int rc = dnsupdate_ns(ctx, &ns);
  if (rc) return rc;
  dnsupdate_owner(ctx, ns, owner, sizeof owner), dnsupdate_value(ctx, v, sizeof v);
  rc = dnsupdate_add(ctx, ns, &ns->key, owner, v);
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  if (!rc) rc = u ? acmeh_dnsup_del_rr(u, owner, "TXT", v) : ACMEH_NOMEM;
  if (!rc) rc = dnsupdate_send(ctx, ns, u, &ns->key, NULL, "signed DELETE of the value", &del, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_NOERROR, -1, "signed DELETE of the value");
  acmeh_dnsup_resp_clear(&r);
  if (!rc) rc = dnsupdate_add(ctx, ns, &ns->key, owner, v);
  if (!rc) rc = dnsupdate_resend(ctx, ns, &del, "the same DELETE, byte for byte (replay)", &r);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", v, 1, "after a replay of an earlier signed DELETE");
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_msg_clear(&del);
  acmeh_dnsup_free(u);
  return rc;
}

/* S-022: TSIG followed by another additional RR (RFC 8945 §5.2). */
static int tsig_not_last(acmeh_check_ctx *ctx) {
  const acmeh_ns_env *ns;
  char owner[300] = "", v[32];
  acmeh_tsig_mut m = {.tsig_not_last = 1};
  acmeh_dnsup_resp r = {0};
  const char *what = "ADD whose TSIG is followed by an A RR in the additional section";
  int rc = dnsupdate_ns(ctx, &ns);
  if (!rc) rc = try_add(ctx, ns, &ns->key, &m, what, owner, v, NULL, &r);
  if (!rc) rc = dnsupdate_expect(ctx, &r, ACMEH_RCODE_FORMERR, -1, what);
  if (!rc) rc = dnsupdate_expect_served(ctx, ns, owner, "TXT", v, 0, "although its UPDATE was malformed");
  acmeh_dnsup_resp_clear(&r);
  return rc;
}

const acmeh_check_impl dnsupdate_tsig_checks[] = {
    {"DNSUP-S-004", unknown_key},  {"DNSUP-S-005", unknown_alg},     {"DNSUP-S-006", bad_mac},
    {"DNSUP-S-007", bad_time},     {"DNSUP-S-008", badtime_answer},  {"DNSUP-S-009", answer_signed},
    {"DNSUP-S-010", sha512_key},   {"DNSUP-S-011", unsigned_update}, {"DNSUP-S-012", policy_name},
    {"DNSUP-S-013", policy_type},  {"DNSUP-S-014", earlier_time},    {"DNSUP-S-015", replay},
    {"DNSUP-S-022", tsig_not_last}, {NULL, NULL}};
