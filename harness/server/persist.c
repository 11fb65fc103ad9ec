/* dns-persist-01 on the reference server (draft-ietf-acme-dns-persist, the
 * revision of s->persist_rev): the challenge's issuer list (and, -01, its
 * accounturi), the -02 directory meta, and the validation of the TXT records
 * at "_validation-persist.<name>" (-02 §4.1, §4.2, §4.3.2; -01 §4.1-§4.3;
 * draft-ietf-acme-dns-persist-00 §4). Authorization reuse is the server's
 * usual one (the account's valid authorization for the name), which every
 * revision allows within the record's TTL rules (§7.8/§7.9): the mock DNS's
 * TTL is far above the reuse period. */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/acme/persist.h"
#include "harness/server/internal.h"

/* The deliberate deviations the harness's own tests use, one rule broken each
 * (server.h dns_persist); the names are the config's spelling, in order.
 * Not a deviation: "alt-accounturi" (-01 only) puts another URI of the
 * account, <base>/acct-alt/<id>, in the challenge and accepts only that one
 * (-01 §4.1 item 3 lets a CA use any URI that permanently identifies the
 * account), so a client that writes its account URL instead of the
 * challenge's accounturi is caught. */
typedef enum {
  PERSIST_OFF, PERSIST_ON, PERSIST_NO_ISSUERS, PERSIST_UPPER_ISSUER, PERSIST_NO_ACCOUNTURI_FIELD, PERSIST_NO_META,
  PERSIST_ANY_ISSUER, PERSIST_ANY_ACCOUNT, PERSIST_MISSING_ACCOUNT_OK, PERSIST_IGNORE_UNTIL, PERSIST_LAX_UNTIL,
  PERSIST_IGNORE_POLICY, PERSIST_UNKNOWN_FATAL, PERSIST_CASE_TAGS, PERSIST_FIRST_RECORD, PERSIST_DUPLICATE_OK,
  PERSIST_CASE_ACCOUNT, PERSIST_FIRST_STRING, PERSIST_RAW_URL, PERSIST_ALT_ACCOUNTURI, PERSIST_MODES
} srv_persist_mode;
static const char *const mode_names[PERSIST_MODES] = {
    "off", "on", "no-issuers", "upper-issuer", "no-accounturi-field", "no-meta", "any-issuer", "any-account",
    "missing-accounturi-ok", "ignore-persist-until", "lax-persist-until", "ignore-policy", "unknown-param-fatal",
    "case-sensitive-tags", "first-record-only", "duplicate-ok", "case-insensitive-account", "first-string-only",
    "raw-account-url", "alt-accounturi"};

/* The issuer domain names this CA lists (the draft's examples, §3.1). */
static const char *const issuers[] = {"authority.example", "ca.example.net", NULL};

int srv_persist_mode_parse(const char *name) {
  if (!name) return PERSIST_ON;
  for (int i = 0; i < PERSIST_MODES; i++)
    if (strcmp(name, mode_names[i]) == 0) return i;
  return -1;
}

int srv_persist01_enabled(const acmeh_server *s) { return s->persist_mode != PERSIST_OFF; }

static json_t *issuer_list(int mode) {
  json_t *l = json_array();
  for (int i = 0; mode != PERSIST_NO_ISSUERS && issuers[i]; i++)
    json_array_append_new(l, json_string(i == 0 && mode == PERSIST_UPPER_ISSUER ? "Authority.Example" : issuers[i]));
  return l;
}

void srv_persist01_chal_json(acmeh_server *s, const srv_authz *a, json_t *j) {
  json_object_del(j, "token"); /* §3.1: no token; the record is the same for every challenge */
  json_object_set_new(j, acmeh_persist_issuers_field((acmeh_persist_rev)s->persist_rev), issuer_list(s->persist_mode));
  if (s->persist_rev == ACMEH_PERSIST_I1 && s->persist_mode != PERSIST_NO_ACCOUNTURI_FIELD) {
    char *u = srv_url(s, s->persist_mode == PERSIST_ALT_ACCOUNTURI ? "acct-alt" : "acct", a->account); /* -01 §3.1 */
    json_object_set_new(j, "accounturi", json_string(u ? u : ""));
    free(u);
  }
}

static void hash_prefix(const acmeh_server *s, char *out, size_t len) { snprintf(out, len, "%s/account-hash/", s->base); }

void srv_persist01_meta(acmeh_server *s, json_t *meta) {
  if (s->persist_mode == PERSIST_OFF) return;
  /* RFC 8555 §7.1.1 caaIdentities: the -00 texts name it as the source of the
   * issuer names (sheurich-00 SHOULD, later MAY); clients such as acme.sh
   * build their record from it. Always the full list, whatever the deviation. */
  json_t *caa = json_array();
  for (int i = 0; issuers[i]; i++) json_array_append_new(caa, json_string(issuers[i]));
  json_object_set_new(meta, "caaIdentities", caa);
  if (s->persist_rev != ACMEH_PERSIST_I2 || s->persist_mode == PERSIST_NO_META) return;
  char p[300];
  hash_prefix(s, p, sizeof p);
  json_object_set_new(meta, "accountHashPrefix", json_string(p)); /* -02 §3.2 */
  json_object_set_new(meta, "issuerDomainNames", issuer_list(s->persist_mode));
}

int srv_persist01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  int alt = s->persist_mode == PERSIST_ALT_ACCOUNTURI && s->persist_rev == ACMEH_PERSIST_I1;
  v->account_url = srv_url(s, alt ? "acct-alt" : "acct", rq->acct->e.id);
  v->wildcard = a->wildcard;
  v->persist_mode = s->persist_mode;
  v->persist_rev = s->persist_rev;
  memcpy(v->persist_thumb, rq->acct->thumb, sizeof v->persist_thumb);
  hash_prefix(s, v->hash_prefix, sizeof v->hash_prefix);
  v->now = acmeh_now_wall();
  return v->account_url ? ACMEH_OK : ACMEH_NOMEM;
}

/* ---- validation (thread pool) --------------------------------------------- */

/* The record's text: its character-strings joined (§9.1), or only the first
 * under PERSIST_FIRST_STRING. malloc'd; *len its length. */
static char *record_text(const ldns_rr *rr, int first_only, size_t *len) {
  size_t cap = 1;
  for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) cap += ldns_rdf_size(ldns_rr_rdf(rr, k));
  char *t = malloc(cap);
  *len = 0;
  for (size_t k = 0; t && k < ldns_rr_rd_count(rr) && !(first_only && k); k++) {
    const ldns_rdf *rd = ldns_rr_rdf(rr, k);
    size_t n = ldns_rdf_size(rd) ? ldns_rdf_data(rd)[0] : 0;
    if (n + 1 <= ldns_rdf_size(rd)) memcpy(t + *len, ldns_rdf_data(rd) + 1, n), *len += n;
  }
  if (t) t[*len] = '\0';
  return t;
}

static int listed(const srv_validation *v, char *issuer) {
  if (v->persist_mode == PERSIST_ANY_ISSUER) return 1;
  acmeh_persist_issuer_norm(issuer); /* DNS names compare case-insensitively; the list is normalized (§3.1) */
  for (int i = 0; issuers[i]; i++)
    if (strcmp(issuer, issuers[i]) == 0) return 1;
  return 0;
}

/* Whether the record's accounturi names this account (0 = no, -1 = malformed,
 * -02 §4.1: an algorithm this CA does not accept). */
static int account_matches(const srv_validation *v, const char *uri) {
  if (v->persist_mode == PERSIST_ANY_ACCOUNT) return 1;
  int (*cmp)(const char *, const char *) = v->persist_mode == PERSIST_CASE_ACCOUNT ? strcasecmp : strcmp;
  if (v->persist_rev != ACMEH_PERSIST_I2) return cmp(uri, v->account_url) == 0; /* RFC 3986 §6.2.1 simple comparison */
  if (v->persist_mode == PERSIST_RAW_URL && strcmp(uri, v->account_url) == 0) return 1;
  size_t pl = strlen(v->hash_prefix);
  if (strncasecmp(uri, v->hash_prefix, pl) != 0 || (cmp == strcmp && strncmp(uri, v->hash_prefix, pl) != 0)) return 0;
  if (strncmp(uri + pl, "sha-256/", 8) != 0) return -1;
  const char *domains[] = {v->name, "*"};
  for (int i = 0; i < 2; i++) {
    char h[44];
    if (acmeh_persist_account_hash(domains[i], v->persist_thumb, v->account_url, h) == ACMEH_OK && cmp(uri + pl + 8, h) == 0)
      return 1;
  }
  return 0;
}

/* The deviation PERSIST_CASE_TAGS: a tag spelled in another case than the
 * draft's is unknown, so "persistuntil=<past>" is ignored. */
static void case_sensitive_tags(const char *text, acmeh_persist_rec *r) {
  if (r->has_until && !strstr(text, "persistUntil=")) r->has_until = 0;
}

/* One record of ours: NULL when it authorizes, else why not into why, and
 * *syntax = 1 when it is malformed rather than unauthorized. */
static int judge(const srv_validation *v, const char *text, size_t len, acmeh_persist_rec *r, int *syntax, char *why,
                 size_t wl) {
  int rc = acmeh_persist_parse(text, len, r, why, wl);
  if (rc == ACMEH_PEER_PROTOCOL && v->persist_mode == PERSIST_LAX_UNTIL && strstr(why, "persistUntil")) {
    acmeh_persist_rec_free(r);
    char *cut = strndup(text, (size_t)(strstr(text, "persistUntil") ? strstr(text, "persistUntil") - text : (long)len));
    size_t cl = cut ? strlen(cut) : 0;
    while (cl && (cut[cl - 1] == ' ' || cut[cl - 1] == ';')) cut[--cl] = '\0';
    rc = cut ? acmeh_persist_parse(cut, cl, r, why, wl) : ACMEH_NOMEM;
    free(cut);
  }
  if (rc == ACMEH_PEER_PROTOCOL && v->persist_mode == PERSIST_DUPLICATE_OK && strstr(why, "twice")) {
    acmeh_persist_rec_free(r);
    const char *first = strcasestr(text, "accounturi="), *second = first ? strcasestr(first + 1, "accounturi=") : NULL;
    char *cut = second ? strndup(text, (size_t)(second - text)) : NULL;
    size_t cl = cut ? strlen(cut) : 0;
    while (cl && (cut[cl - 1] == ' ' || cut[cl - 1] == ';')) cut[--cl] = '\0';
    rc = cut ? acmeh_persist_parse(cut, cl, r, why, wl) : rc;
    free(cut);
  }
  if (rc) return *syntax = 1, 0;
  if (v->persist_mode == PERSIST_UNKNOWN_FATAL && strstr(text, "=") &&
      (strstr(text, "foo=") || strstr(text, "unknown=")))
    return *syntax = 1, snprintf(why, wl, "unknown parameter"), 0;
  if (v->persist_mode == PERSIST_CASE_TAGS) case_sensitive_tags(text, r);
  if (!r->accounturi && v->persist_mode != PERSIST_MISSING_ACCOUNT_OK)
    return *syntax = 1, snprintf(why, wl, "no accounturi parameter"), 0;
  int m = r->accounturi ? account_matches(v, r->accounturi) : 1;
  if (m < 0) return *syntax = 1, snprintf(why, wl, "accounturi \"%.120s\" uses a hash algorithm other than sha-256", r->accounturi), 0;
  if (!m) return snprintf(why, wl, "accounturi \"%.200s\" does not name account %s", r->accounturi, v->account_url), 0;
  if (v->wildcard && !r->wildcard && v->persist_mode != PERSIST_IGNORE_POLICY)
    return snprintf(why, wl, "the authorization is for *.%s and the record has no policy=wildcard", v->name), 0;
  if (r->has_until && r->until < (long long)v->now && v->persist_mode != PERSIST_IGNORE_UNTIL)
    return snprintf(why, wl, "persistUntil %lld is in the past", r->until), 0;
  return 1;
}

json_t *srv_validate_persist01(const srv_validation *v) {
  char *host = acmeh_persist_name(v->name);
  if (!host) return srv_problem_obj("malformed", "no dns-persist-01 validation name for this identifier");
  ldns_rr_list *list = NULL;
  json_t *err = srv_txt_query(v, host, &list);
  size_t n = list ? ldns_rr_list_rr_count(list) : 0, ours = 0;
  char syntax_why[400] = "", auth_why[400] = "";
  int ok = 0;
  for (size_t i = 0; !err && !ok && i < n; i++) {
    size_t len = 0;
    char *text = record_text(ldns_rr_list_rr(list, i), v->persist_mode == PERSIST_FIRST_STRING, &len);
    acmeh_persist_rec r = {0};
    char why[300] = "";
    int syntax = 0;
    if (text && strlen(text) == len) acmeh_persist_parse(text, len, &r, why, sizeof why); /* the issuer at least */
    if (text && r.issuer && strlen(text) == len && listed(v, r.issuer)) {
      if (v->persist_mode == PERSIST_FIRST_RECORD && ours++) goto next;
      acmeh_persist_rec_free(&r);
      ok = judge(v, text, len, &r, &syntax, why, sizeof why);
      char *into = syntax ? syntax_why : auth_why;
      if (!ok && !*into) snprintf(into, 400, "%s", why); /* §4.3.2: any one record may authorize */
    }
  next:
    acmeh_persist_rec_free(&r);
    free(text);
  }
  ldns_rr_list_deep_free(list);
  if (!err && !ok && *syntax_why) err = srv_problem_obj("malformed", syntax_why);
  if (!err && !ok && *auth_why) {
    char d[600];
    snprintf(d, sizeof d, "%s: %s", host, auth_why);
    err = srv_problem_obj("unauthorized", d);
  }
  if (!err && !ok) {
    char d[600];
    snprintf(d, sizeof d, "none of the %zu TXT records at %s names an issuer of this CA (%s, %s)", n, host, issuers[0], issuers[1]);
    err = srv_problem_obj("unauthorized", d);
  }
  free(host);
  return err;
}
