/* PERSIST-S-001..016: a server under test offering dns-persist-01
 * (draft-ietf-acme-dns-persist, the revision chosen by --draft). Each check
 * makes its own account and order, publishes records at
 * "_validation-persist.<name>" through the mocks, answers the challenge and
 * judges how it ends. The record names the challenge's first issuer and the
 * account as the revision says (-00: account URL, -01: the challenge's
 * accounturi, -02: the hashed URI under meta.accountHashPrefix). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/dnspersist/dnspersist.h"

#define TYPE "dns-persist-01"
#define FAR_FUTURE 4102444800LL /* 2100-01-01T00:00:00Z */

static const char *sval(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* One authorization to answer: its account, URL, dns-persist-01 challenge, name. */
typedef struct {
  acmeh_acme *c; /* borrowed */
  char *authz_url;
  json_t *authz, *order;
  const json_t *ch; /* in authz */
  char name[256];   /* the base name */
  int wildcard;
} pz;

static void pz_free(pz *p) {
  free(p->authz_url);
  json_decref(p->authz), json_decref(p->order);
}

/* An order for `name` (fresh when NULL; "*." prefixed when wildcard) by c and
 * its first authorization's dns-persist-01 challenge; a skip when none. */
static int pz_new(acmeh_check_ctx *ctx, acmeh_acme *c, const char *name, int wildcard, pz *p) {
  char *order_url = NULL, full[300];
  memset(p, 0, sizeof *p);
  p->c = c, p->wildcard = wildcard;
  if (name) snprintf(p->name, sizeof p->name, "%s", name);
  else acmeh_check_name(ctx, p->name, sizeof p->name);
  snprintf(full, sizeof full, "%s%s", wildcard ? "*." : "", p->name);
  const char *names[] = {full};
  int rc = acmeh_flow_new_order(c, names, 1, &order_url, &p->order, ctx->err, sizeof ctx->err);
  free(order_url);
  const char *az = rc ? NULL : acmeh_kit_first_authz(p->order);
  if (rc == ACMEH_OK && !az) rc = acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, az, &p->authz, NULL, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) p->authz_url = strdup(az);
  p->ch = rc ? NULL : acmeh_flow_find_challenge(p->authz, TYPE);
  if (rc == ACMEH_OK && !p->ch)
    rc = acmeh_check_skip(ctx, "%s%s", DNSPERSIST_NOT_OFFERED, wildcard ? " for a wildcard name" : "");
  return rc;
}

/* The challenge's issuer list: the revision's member, else the other
 * revisions' one (PERSIST-S-001 judges which member it is). */
static const json_t *issuer_list(const acmeh_check_ctx *ctx, const json_t *ch) {
  const json_t *l = json_object_get(ch, acmeh_persist_issuers_field(dnspersist_rev(ctx)));
  if (!l) l = json_object_get(ch, "issuer-domain-names");
  if (!l) l = json_object_get(ch, "issuerDomainNames");
  return l;
}

/* Our issuer (the list's first name) into out, lower-cased as the list must be. */
static int our_issuer(acmeh_check_ctx *ctx, const json_t *ch, char *out, size_t len) {
  const char *s = json_string_value(json_array_get(issuer_list(ctx, ch), 0));
  if (!s) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_PEER_PROTOCOL, "the dns-persist-01 challenge lists no issuer domain name (see PERSIST-S-001)");
  snprintf(out, len, "%s", s);
  return ACMEH_OK;
}

/* The record's accounturi value for account c and the base name, per the
 * revision: -00 its URL; -01 the challenge's accounturi (its URL when absent:
 * PERSIST-S-002 judges that); -02 meta.accountHashPrefix "sha-256/"
 * digest(domain, thumbprint, URL). malloc'd; NULL with the reason in ctx->err. */
static char *account_value(acmeh_check_ctx *ctx, acmeh_acme *c, const json_t *ch, const char *domain) {
  const char *kid = acmeh_acme_kid(c), *u = sval(ch, "accounturi");
  acmeh_persist_rev rev = dnspersist_rev(ctx);
  if (rev != ACMEH_PERSIST_I2) return strdup(rev == ACMEH_PERSIST_I1 && u ? u : kid);
  const char *prefix = sval(json_object_get(acmeh_acme_dir(c), "meta"), "accountHashPrefix");
  char tp[44], h[44], *out = NULL;
  if (!prefix) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_PEER_PROTOCOL, "no meta.accountHashPrefix in the directory (see PERSIST-S-003)"), NULL;
  if (acmeh_acme_thumbprint(c, tp) || acmeh_persist_account_hash(domain, tp, kid, h) || asprintf(&out, "%ssha-256/%s", prefix, h) < 0)
    return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "cannot compute the account digest"), NULL;
  return out;
}

/* "<our issuer>; accounturi=<ours><tail>" for p's account; malloc'd. */
static char *our_record(acmeh_check_ctx *ctx, const pz *p, const char *tail) {
  char issuer[300], *acct = NULL, *rec = NULL;
  if (our_issuer(ctx, p->ch, issuer, sizeof issuer) || !(acct = account_value(ctx, p->c, p->ch, p->name))) return NULL;
  if (asprintf(&rec, "%s; accounturi=%s%s", issuer, acct, tail ? tail : "") < 0) rec = NULL;
  free(acct);
  return rec;
}

/* Publishes `records` (n) at the validation name, answers the challenge with
 * {} and polls the authorization to its end; the records go afterwards. The
 * final authorization in *final, the challenge's status in *st. */
static int attempt(acmeh_check_ctx *ctx, pz *p, const char *const *records, size_t n, json_t **final, const char **st) {
  char *host = acmeh_persist_name(p->name);
  int rc = host ? ACMEH_OK : acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no validation name for %s", p->name);
  *final = NULL, *st = "(missing)";
  for (size_t i = 0; rc == ACMEH_OK && i < n; i++) {
    acmeh_check_note(ctx, "TXT %s \"%.300s%s\"", host, records[i], strlen(records[i]) > 300 ? "..." : "");
    rc = acmeh_mocks_set_txt(ctx->env->mocks, host, records[i]);
  }
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, p->c, sval(p->ch, "url"), "{}", NULL, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "dns-persist-01 challenge response {}");
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(p->c, p->authz_url, waiting, 2, final, ctx->err, sizeof ctx->err);
  const char *s = sval(acmeh_flow_find_challenge(*final, TYPE), "status");
  if (s) *st = s;
  if (host) acmeh_mocks_clear_txt(ctx->env->mocks, host);
  free(host);
  return rc;
}

/* The challenge's error as compact JSON (malloc'd, "none" when absent). */
static char *error_of(const json_t *final) {
  json_t *e = json_object_get(acmeh_flow_find_challenge(final, TYPE), "error");
  return e ? json_dumps(e, JSON_COMPACT) : strdup("none");
}

/* Fails unless the challenge ended `want` ("valid" / "invalid"), saying why it should. */
static int expect_end(acmeh_check_ctx *ctx, const char *want, const char *st, const json_t *final, const char *why) {
  if (strcmp(st, want) == 0) return ACMEH_OK;
  char exp[400], *e = error_of(final);
  snprintf(exp, sizeof exp, "the dns-persist-01 challenge \"%s\" when %s (%s)", want, why, dnspersist_rev_name(dnspersist_rev(ctx)));
  int rc = acmeh_check_fail(ctx, exp, "challenge ended \"%s\", authorization \"%s\" (error %.400s)", st,
                            sval(final, "status") ? sval(final, "status") : "?", e ? e : "?");
  free(e);
  return rc;
}

/* The record could not be built (the reason in ctx->err): blocked on the
 * check that judges the missing piece (the issuer list: S-001; -02's
 * directory meta: S-003), so one missing field fails one check. */
static int unbuildable(acmeh_check_ctx *ctx) {
  char why[sizeof ctx->err];
  snprintf(why, sizeof why, "%s", ctx->err);
  const char *judge = strstr(why, "PERSIST-S-003") ? "PERSIST-S-003" : strstr(why, "PERSIST-S-001") ? "PERSIST-S-001" : NULL;
  return judge ? acmeh_check_blocked(ctx, "dns-persist-01 record", judge, why)
               : acmeh_check_fail(ctx, "what the record needs from the server", "%s", why);
}

/* One attempt on a fresh order of a fresh account: records built by `make`
 * from p, wanting the challenge to end `want`. */
typedef char *(*record_fn)(acmeh_check_ctx *ctx, const pz *p, size_t i);
static int one(acmeh_check_ctx *ctx, int wildcard, record_fn make, size_t n, const char *want, const char *why) {
  acmeh_acme *c = NULL;
  pz p = {0};
  json_t *final = NULL;
  const char *st = NULL;
  char *recs[8] = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = pz_new(ctx, c, NULL, wildcard, &p);
  ctx->err[0] = '\0';
  for (size_t i = 0; rc == ACMEH_OK && i < n && i < 8; i++)
    if (!(recs[i] = make(ctx, &p, i))) rc = ctx->err[0] ? ACMEH_PEER_PROTOCOL : ACMEH_NOMEM;
  if (rc == ACMEH_PEER_PROTOCOL) rc = unbuildable(ctx);
  if (rc == ACMEH_OK) rc = attempt(ctx, &p, (const char *const *)recs, n, &final, &st);
  if (rc == ACMEH_OK) rc = expect_end(ctx, want, st, final, why);
  for (size_t i = 0; i < 8; i++) free(recs[i]);
  json_decref(final);
  pz_free(&p);
  acmeh_acme_free(c);
  return rc;
}

/* ---- S-001..003: what the server offers ----------------------------------- */

static int issuers_offered(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  pz p = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = pz_new(ctx, c, NULL, 0, &p);
  const char *field = acmeh_persist_issuers_field(dnspersist_rev(ctx));
  const json_t *l = rc ? NULL : json_object_get(p.ch, field), *x;
  const char *other = strcmp(field, "issuerDomainNames") ? "issuerDomainNames" : "issuer-domain-names";
  char exp[200], why[200];
  snprintf(exp, sizeof exp, "\"%s\": an array of 1..10 issuer domain names (%s §3.1)", field, dnspersist_rev_name(dnspersist_rev(ctx)));
  size_t i;
  if (rc == ACMEH_OK && !json_is_array(l))
    rc = acmeh_check_fail(ctx, exp, "%s%s", l ? "not an array" : "no such member",
                          json_object_get(p.ch, other) ? json_is_array(json_object_get(p.ch, other)) && strcmp(other, "issuerDomainNames") == 0
                                                             ? " (the challenge has -02's \"issuerDomainNames\")"
                                                             : " (the challenge has -00/-01's \"issuer-domain-names\")"
                                                       : "");
  if (rc == ACMEH_OK && (json_array_size(l) == 0 || json_array_size(l) > ACMEH_PERSIST_MAX_ISSUERS))
    rc = acmeh_check_fail(ctx, exp, "%zu names", json_array_size(l));
  json_array_foreach(rc ? NULL : l, i, x) if (rc == ACMEH_OK && !acmeh_persist_issuer_ok(json_string_value(x), why, sizeof why))
      rc = acmeh_check_fail(ctx, "normalized issuer names: lower-case A-labels, no trailing dot, <= 253 octets (§3.1)", "%s", why);
  pz_free(&p);
  acmeh_acme_free(c);
  return rc;
}

static int accounturi_field(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  pz p = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = pz_new(ctx, c, NULL, 0, &p);
  const char *u = rc ? NULL : sval(p.ch, "accounturi");
  if (rc == ACMEH_OK && !u)
    rc = acmeh_check_fail(ctx, "the challenge's \"accounturi\" (-01 §3.1: required)", "no accounturi member (a -00 challenge)");
  if (rc == ACMEH_OK && strcmp(u, acmeh_acme_kid(c)) != 0)
    rc = acmeh_check_fail(ctx, "\"accounturi\" equal to the account URL", "\"%.200s\" (account %s)", u, acmeh_acme_kid(c));
  pz_free(&p);
  acmeh_acme_free(c);
  return rc;
}

static int directory_meta(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  pz p = {0};
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = pz_new(ctx, c, NULL, 0, &p); /* only a server offering the challenge owes the meta */
  const json_t *meta = rc ? NULL : json_object_get(acmeh_acme_dir(c), "meta"), *d = json_object_get(meta, "issuerDomainNames"), *x, *y;
  const char *prefix = sval(meta, "accountHashPrefix");
  if (rc == ACMEH_OK && (!prefix || strncmp(prefix, "https://", 8) != 0))
    rc = acmeh_check_fail(ctx, "directory meta.accountHashPrefix, an absolute https URI prefix (-02 §3.2)", "%s", prefix ? prefix : "none");
  if (rc == ACMEH_OK && (!json_is_array(d) || json_array_size(d) == 0))
    rc = acmeh_check_fail(ctx, "directory meta.issuerDomainNames, a non-empty array (-02 §3.2)", "%s", d ? "not a non-empty array" : "none");
  size_t i, j;
  json_array_foreach(rc ? NULL : d, i, y) {
    int in = 0;
    json_array_foreach(issuer_list(ctx, p.ch), j, x) in |= json_equal(x, y);
    if (!in && rc == ACMEH_OK)
      rc = acmeh_check_fail(ctx, "every meta.issuerDomainNames value in the challenge's issuerDomainNames (-02 §3.2)", "\"%s\" missing",
                            json_string_value(y) ? json_string_value(y) : "?");
  }
  pz_free(&p);
  acmeh_acme_free(c);
  return rc;
}

/* ---- S-004..016: records and their verdicts -------------------------------- */

static char *good(acmeh_check_ctx *ctx, const pz *p, size_t i) { (void)i; return our_record(ctx, p, NULL); }

/* The reference client answers through its challenge-table row and the
 * run's publisher (mocks or DNS UPDATE), writing the record in the
 * revision's syntax (harness/client/chaltype.c): the step this check judges. */
static int validates(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  pz p = {0};
  json_t *final = NULL;
  int rc = acmeh_kit_account(ctx, &c);
  if (rc == ACMEH_OK) rc = pz_new(ctx, c, NULL, 0, &p);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "the reference client publishes its %s record at _validation-persist.%s", dnspersist_rev_name(dnspersist_rev(ctx)), p.name);
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(c, ctx->env->publisher, p.authz_url, TYPE, &final, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_PEER_PROTOCOL) {
    char exp[200];
    snprintf(exp, sizeof exp, "the challenge and authorization valid with a %s record naming a listed issuer and this account",
             dnspersist_rev_name(dnspersist_rev(ctx)));
    char why[sizeof ctx->err];
    snprintf(why, sizeof why, "%s", ctx->err);
    rc = acmeh_check_fail(ctx, exp, "%s", why);
  }
  json_decref(final);
  pz_free(&p);
  acmeh_acme_free(c);
  return rc;
}

static char *foreign_issuer(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char *acct = account_value(ctx, p->c, p->ch, p->name), *rec = NULL;
  if (acct && asprintf(&rec, "wrong-issuer.example; accounturi=%s", acct) < 0) rec = NULL;
  free(acct);
  return rec;
}
static int issuer_refused(acmeh_check_ctx *ctx) {
  return one(ctx, 0, foreign_issuer, 1, "invalid", "the only record names an issuer not in the challenge's list");
}

/* Another account's record for the same name: a second account's value. */
static char *other_account(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  acmeh_acme *b = NULL;
  char *rec = NULL;
  if (acmeh_kit_account(ctx, &b) == ACMEH_OK) {
    pz q = *p;
    q.c = b;
    json_t *ch = json_deep_copy(p->ch);
    json_object_del(ch, "accounturi"); /* -01: B's own URL */
    q.ch = ch;
    rec = our_record(ctx, &q, NULL);
    json_decref(ch);
  }
  acmeh_acme_free(b);
  return rec;
}
static int account_refused(acmeh_check_ctx *ctx) {
  return one(ctx, 0, other_account, 1, "invalid", "the record's accounturi names another account");
}

static char *no_account(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char issuer[300], *rec = NULL;
  if (our_issuer(ctx, p->ch, issuer, sizeof issuer) == ACMEH_OK && asprintf(&rec, "%s; policy=wildcard", issuer) < 0) rec = NULL;
  return rec;
}
static int missing_account_refused(acmeh_check_ctx *ctx) {
  return one(ctx, 0, no_account, 1, "invalid", "the record has no accounturi");
}

static char *expired(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char tail[64];
  snprintf(tail, sizeof tail, "; persistUntil=%lld", (long long)acmeh_now_wall() - 86400);
  return our_record(ctx, p, tail);
}
static char *far_future(acmeh_check_ctx *ctx, const pz *p, size_t i) { (void)i; return our_record(ctx, p, "; persistUntil=4102444800"); }
static int persist_until(acmeh_check_ctx *ctx) {
  int rc = one(ctx, 0, expired, 1, "invalid", "the record's persistUntil is a day in the past");
  return rc ? rc : one(ctx, 0, far_future, 1, "valid", "the record's persistUntil is 4102444800 (2100)");
}

static char *bad_until(acmeh_check_ctx *ctx, const pz *p, size_t i) { (void)i; return our_record(ctx, p, "; persistUntil=not-a-unix-timestamp"); }
static int persist_until_syntax(acmeh_check_ctx *ctx) {
  return one(ctx, 0, bad_until, 1, "invalid", "persistUntil is not a base-10 integer (malformed)");
}

static char *wild_upper(acmeh_check_ctx *ctx, const pz *p, size_t i) { (void)i; return our_record(ctx, p, "; policy=WILDCARD"); }
static char *wild_other(acmeh_check_ctx *ctx, const pz *p, size_t i) { (void)i; return our_record(ctx, p, "; policy=subdomains"); }
static int wildcard_policy(acmeh_check_ctx *ctx) {
  int rc = one(ctx, 1, good, 1, "invalid", "a wildcard authorization's record has no policy=wildcard");
  if (rc == ACMEH_OK) rc = one(ctx, 1, wild_other, 1, "invalid", "a wildcard authorization's record has policy=subdomains (= absent)");
  return rc ? rc : one(ctx, 1, wild_upper, 1, "valid", "a wildcard authorization's record has policy=WILDCARD (value case-insensitive)");
}

static char *unknown_param(acmeh_check_ctx *ctx, const pz *p, size_t i) { (void)i; return our_record(ctx, p, "; foo=bar"); }
static int unknown_ignored(acmeh_check_ctx *ctx) {
  return one(ctx, 0, unknown_param, 1, "valid", "the record has an unknown parameter foo=bar (ignored, §4)");
}

static char *upper_until(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char tail[64];
  snprintf(tail, sizeof tail, "; PERSISTUNTIL=%lld", (long long)acmeh_now_wall() - 86400);
  return our_record(ctx, p, tail);
}
static int tag_case(acmeh_check_ctx *ctx) {
  return one(ctx, 0, upper_until, 1, "invalid", "the record has PERSISTUNTIL=<yesterday> (tags case-insensitive, RFC 8659)");
}

/* Other CA's record, ours for another account, ours for this account. */
static char *several(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  if (i == 0) {
    char *acct = account_value(ctx, p->c, p->ch, p->name), *rec = NULL;
    if (acct && asprintf(&rec, "other-ca.example; accounturi=%s", acct) < 0) rec = NULL;
    free(acct);
    return rec;
  }
  return i == 1 ? other_account(ctx, p, i) : our_record(ctx, p, NULL);
}
static int several_records(acmeh_check_ctx *ctx) {
  return one(ctx, 0, several, 3, "valid", "three records: another CA's, ours for another account, ours for this account (§4.3.2)");
}

static char *duplicate(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char *tail = NULL, *rec;
  if (asprintf(&tail, "; ACCOUNTURI=%s", "https://attacker.example/acct/1") < 0) return NULL;
  rec = our_record(ctx, p, tail);
  free(tail);
  return rec;
}
static int duplicate_refused(acmeh_check_ctx *ctx) {
  return one(ctx, 0, duplicate, 1, "invalid", "the record has accounturi twice (ACCOUNTURI= too; malformed, §9.2.1)");
}

/* Our account value with its letters' case swapped. */
static char *case_changed(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char issuer[300], *acct = account_value(ctx, p->c, p->ch, p->name), *rec = NULL;
  if (!acct || our_issuer(ctx, p->ch, issuer, sizeof issuer)) return free(acct), NULL;
  char *tail = strrchr(acct, '/') ? strrchr(acct, '/') + 1 : acct; /* the id or digest part */
  for (char *q = tail; *q; q++) *q = (char)(isupper((unsigned char)*q) ? tolower((unsigned char)*q) : toupper((unsigned char)*q));
  if (asprintf(&rec, "%s; accounturi=%s", issuer, acct) < 0) rec = NULL;
  free(acct);
  return rec;
}
static int account_case(acmeh_check_ctx *ctx) {
  return one(ctx, 0, case_changed, 1, "invalid", "the accounturi differs from this account's in letter case only (simple string comparison)");
}

/* "<issuer>; x-pad=<300 a>; accounturi=<ours>": the accounturi lies in the second string. */
static char *long_record(acmeh_check_ctx *ctx, const pz *p, size_t i) {
  (void)i;
  char issuer[300], pad[301], *acct = account_value(ctx, p->c, p->ch, p->name), *rec = NULL;
  memset(pad, 'a', 300), pad[300] = '\0';
  if (acct && our_issuer(ctx, p->ch, issuer, sizeof issuer) == ACMEH_OK &&
      asprintf(&rec, "%s; x-pad=%s; accounturi=%s", issuer, pad, acct) < 0)
    rec = NULL;
  free(acct);
  return rec;
}
static int long_split(acmeh_check_ctx *ctx) {
  return one(ctx, 0, long_record, 1, "valid", "the record is over 255 octets, sent as two character-strings (§9.1)");
}

const acmeh_check_impl dnspersist_server_checks[] = {
    {"PERSIST-S-001", issuers_offered},   {"PERSIST-S-002", accounturi_field},     {"PERSIST-S-003", directory_meta},
    {"PERSIST-S-004", validates},         {"PERSIST-S-005", issuer_refused},       {"PERSIST-S-006", account_refused},
    {"PERSIST-S-007", missing_account_refused}, {"PERSIST-S-008", persist_until},  {"PERSIST-S-009", persist_until_syntax},
    {"PERSIST-S-010", wildcard_policy},   {"PERSIST-S-011", unknown_ignored},      {"PERSIST-S-012", tag_case},
    {"PERSIST-S-013", several_records},   {"PERSIST-S-014", duplicate_refused},    {"PERSIST-S-015", account_case},
    {"PERSIST-S-016", long_split},        {NULL, NULL}};
