/* ACME profiles server checks (draft-ietf-acme-profiles-00 §3, §4, §6.3). */
#include <openssl/asn1.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/acme/cert.h"
#include "base/error.h"
#include "harness/kit/kit.h"

#define NO_PROFILES "server does not advertise meta.profiles"

/* PROF-S-006 retires a profile on the whole server for a moment. The checks
 * here that order under a chosen profile hold this lock shared, so none of
 * them runs into the retirement (checks run in parallel threads). */
static pthread_rwlock_t retire_lock = PTHREAD_RWLOCK_INITIALIZER;

#define SHARED(fn)                                                                                                   \
  static int fn(acmeh_check_ctx *ctx) {                                                                              \
    pthread_rwlock_rdlock(&retire_lock);                                                                             \
    int rc = fn##_body(ctx);                                                                                         \
    pthread_rwlock_unlock(&retire_lock);                                                                             \
    return rc;                                                                                                       \
  }

/* A client and the directory's meta.profiles (*profiles, borrowed from *c).
 * Skips when absent (or fails, when the target claims profiles); fails when
 * meta.profiles is not an object of strings (§3). */
static int prof_client(acmeh_check_ctx *ctx, acmeh_acme **c, const json_t **profiles) {
  char why[256] = "";
  int rc = acmeh_kit_client(ctx, c);
  int prc = rc ? rc : acmeh_profiles_from_directory(acmeh_acme_dir(*c), profiles, why, sizeof why);
  int claimed = json_is_true(json_object_get(ctx->env->claims, "profiles"));
  if (rc == ACMEH_OK && prc == ACMEH_UNSUPPORTED)
    rc = claimed ? acmeh_check_fail(ctx, "meta.profiles in the directory (§3)", "none, though the target claims profiles")
                 : acmeh_check_skip(ctx, NO_PROFILES);
  else if (rc == ACMEH_OK && prc != ACMEH_OK)
    rc = acmeh_check_fail(ctx, "meta.profiles an object of name -> description strings (§3)", "%s", why);
  else if (rc == ACMEH_OK && json_object_size(*profiles) == 0)
    rc = acmeh_check_fail(ctx, "at least one profile in meta.profiles (§3)", "an empty object");
  return rc;
}

/* prof_client plus a fresh account. */
static int prof_account(acmeh_check_ctx *ctx, acmeh_acme **c, const json_t **profiles) {
  int rc = prof_client(ctx, c, profiles);
  if (rc == ACMEH_OK) rc = acmeh_flow_new_account(*c, ACMEH_KEY_ES256, NULL, NULL, ctx->err, sizeof ctx->err);
  return rc;
}

/* One advertised profile name (borrowed), picked by the check's random sequence. */
static const char *pick(acmeh_check_ctx *ctx, const json_t *profiles) {
  size_t n = json_object_size(profiles), want = n ? (size_t)(acmeh_check_rand(ctx) % n) : 0, i = 0;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)profiles, k, v) if (i++ == want) return k;
  return NULL;
}

/* PROF-S01: meta.profiles is an object of string -> string (§3). */
static int s001(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL;
  int rc = prof_client(ctx, &c, &p);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "%zu profile(s) advertised", json_object_size(p));
  acmeh_acme_free(c);
  return rc;
}

/* PROF-S02 (strict = 0: the problem type) and PROF-S09 (strict = 1: also a
 * problem document, RFC 8555 §6.7) for a newOrder naming an unadvertised profile. */
static int unknown_profile(acmeh_check_ctx *ctx, int strict) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL;
  char name[256], bogus[64], mt[64];
  acmeh_http_resp r = {0};
  int rc = prof_account(ctx, &c, &p);
  snprintf(bogus, sizeof bogus, "acmeh-no-such-profile-%04x", (unsigned)(acmeh_check_rand(ctx) & 0xffff));
  const char *names[] = {acmeh_check_name(ctx, name, sizeof name)}, *what = "newOrder with an unadvertised profile";
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_new_order(ctx, c, names, 1, "profile", bogus, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 0, "invalidProfile", what);
  acmeh_http_media_type(&r, mt, sizeof mt);
  if (rc == ACMEH_OK && strict && strcmp(mt, "application/problem+json") != 0)
    rc = acmeh_check_fail(ctx, "the invalidProfile problem as application/problem+json (RFC 8555 §6.7)",
                          "%s answered Content-Type \"%s\"", what, mt);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "%s: HTTP %ld", what, r.status);
  acmeh_http_resp_free(&r);
  acmeh_acme_free(c);
  return rc;
}

static int s002(acmeh_check_ctx *ctx) { return unknown_profile(ctx, 0); }
static int s009(acmeh_check_ctx *ctx) { return unknown_profile(ctx, 1); }

/* newOrder for the IP identifier 127.0.0.1 (RFC 8738) under `profile`. */
static int ip_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *profile, acmeh_http_resp *r) {
  json_t *p = json_pack("{s:[{s:s,s:s}],s:s}", "identifiers", "type", "ip", "value", "127.0.0.1", "profile", profile);
  char *payload = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  int rc = payload ? acmeh_kit_post(ctx, c, acmeh_acme_dir_url(c, "newOrder"), payload, NULL, r) : ACMEH_NOMEM;
  free(payload);
  return rc;
}

/* PROF-S03: a profile that cannot carry the order's identifiers is refused with
 * invalidProfile (§4). An ip identifier is tried under every profile: when some
 * profile takes it, the ones that refuse it must say invalidProfile. */
static int s003_body(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL, *v;
  const char *k, *taker = NULL, *bad = NULL;
  char bad_d[300] = "";
  int refused_ok = 0, rc = prof_account(ctx, &c, &p);
  json_object_foreach((json_t *)p, k, v) {
    acmeh_http_resp r = {0};
    char type[128];
    if (rc == ACMEH_OK) rc = ip_order(ctx, c, k, &r);
    acmeh_resp_problem(&r, type, sizeof type);
    if (rc == ACMEH_OK && r.status == 201) taker = k;
    else if (rc == ACMEH_OK && strcmp(type, "invalidProfile") == 0) refused_ok++;
    else if (rc == ACMEH_OK && !bad) bad = k, acmeh_resp_describe(&r, bad_d, sizeof bad_d);
    acmeh_http_resp_free(&r);
  }
  if (rc == ACMEH_OK && !taker)
    rc = acmeh_check_skip(ctx, "no profile takes an ip identifier: no profile/identifier conflict to test");
  else if (rc == ACMEH_OK && bad)
    rc = acmeh_check_fail(ctx, "invalidProfile for a profile that cannot carry the order's identifiers",
                          "profile \"%s\" takes an ip identifier, but newOrder for 127.0.0.1 under \"%s\" answered %s",
                          taker, bad, bad_d);
  else if (rc == ACMEH_OK && !refused_ok)
    rc = acmeh_check_skip(ctx, "every advertised profile takes an ip identifier: no conflict to test");
  acmeh_acme_free(c);
  return rc;
}

/* PROF-S04: an accepted profile is echoed by newOrder and by a later fetch (§4). */
static int s004_body(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL;
  char name[256];
  acmeh_issued o = {0};
  json_t *again = NULL;
  int rc = prof_account(ctx, &c, &p);
  const char *prof = rc ? NULL : pick(ctx, p), *names[] = {acmeh_check_name(ctx, name, sizeof name)};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_order(ctx, c, names, 1, "profile", prof, "newOrder with an advertised profile", &o);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_member(ctx, o.order, "profile", prof, "the newOrder response");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(c, o.order_url, &again, NULL, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_member(ctx, again, "profile", prof, "the order fetched again (POST-as-GET)");
  json_decref(again);
  acmeh_issued_clear(&o);
  acmeh_acme_free(c);
  return rc;
}

/* PROF-S05: without a requested profile the server names the one it chose (§4). */
static int s005_body(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL;
  char name[256];
  acmeh_issued o = {0};
  int rc = prof_account(ctx, &c, &p);
  const char *names[] = {acmeh_check_name(ctx, name, sizeof name)};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_order(ctx, c, names, 1, NULL, NULL, "newOrder without a profile", &o);
  const char *got = json_string_value(json_object_get(o.order, "profile"));
  if (rc == ACMEH_OK && !got)
    rc = acmeh_check_fail(ctx, "the order names the profile the server chose", "the order has no string \"profile\"");
  else if (rc == ACMEH_OK && !json_object_get(p, got))
    rc = acmeh_check_fail(ctx, "the chosen profile is one of meta.profiles", "\"profile\": \"%.100s\" is not advertised", got);
  acmeh_issued_clear(&o);
  acmeh_acme_free(c);
  return rc;
}

/* Asks the target's profile administration endpoint (claims "profile_admin":
 * a path on the directory's origin taking {"retire"|"restore": name}, as the
 * reference server's /acmeh/profiles does) to `verb` profile `name`. */
static int admin(acmeh_check_ctx *ctx, acmeh_acme *c, const char *path, const char *verb, const char *name) {
  const char *dir = ctx->env->directory_url, *host = strstr(dir, "://");
  const char *slash = host ? strchr(host + 3, '/') : NULL;
  char *url = NULL, *body = NULL;
  acmeh_http_resp r = {0};
  int n = slash ? (int)(slash - dir) : (int)strlen(dir);
  json_t *b = json_pack("{s:s}", verb, name);
  body = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  int rc = body && asprintf(&url, "%.*s%s", n, dir, path) >= 0 ? ACMEH_OK : ACMEH_NOMEM;
  if (rc == ACMEH_OK)
    rc = acmeh_http_request(acmeh_acme_http(c), "POST", url, "application/json", body, strlen(body), NULL, &r,
                            ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK && r.status / 100 != 2)
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_ENV_IO, "%s %s at %s answered %ld", verb, name, url, r.status);
  acmeh_http_resp_free(&r);
  free(url), free(body);
  return rc;
}

/* A profile other than the one the server picks for orders without any (so
 * retiring it disturbs no other check's default orders); NULL when none. */
static const char *retiree(acmeh_check_ctx *ctx, acmeh_acme *c, const json_t *profiles) {
  char name[256];
  acmeh_issued o = {0};
  const char *names[] = {acmeh_check_name(ctx, name, sizeof name)}, *k, *found = NULL;
  const json_t *v;
  if (acmeh_kit_ext_order(ctx, c, names, 1, NULL, NULL, "newOrder without a profile", &o)) return NULL;
  const char *def = json_string_value(json_object_get(o.order, "profile"));
  json_object_foreach((json_t *)profiles, k, v) if (!found && def && strcmp(k, def) != 0) found = k;
  acmeh_issued_clear(&o);
  return found;
}

/* Finalizes the ready order o while profile `prof` is retired; *r the answer. */
static int finalize_retired(acmeh_check_ctx *ctx, acmeh_acme *c, const char *path, const char *prof,
                            acmeh_issued *o, acmeh_http_resp *r) {
  char *csr = NULL, *payload = NULL;
  int rc = acmeh_kit_ext_csr(ctx, o, &csr);
  if (rc == ACMEH_OK && asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) rc = ACMEH_NOMEM;
  pthread_rwlock_wrlock(&retire_lock);
  if (rc == ACMEH_OK) rc = admin(ctx, c, path, "retire", prof);
  if (rc == ACMEH_OK) {
    rc = acmeh_kit_post(ctx, c, json_string_value(json_object_get(o->order, "finalize")), payload, NULL, r);
    char keep[sizeof ctx->err];
    memcpy(keep, ctx->err, sizeof keep);
    int rrc = admin(ctx, c, path, "restore", prof);
    if (rc == ACMEH_OK) rc = rrc;
    else memcpy(ctx->err, keep, sizeof keep);
  }
  pthread_rwlock_unlock(&retire_lock);
  free(csr), free(payload);
  return rc;
}

/* PROF-S06: finalize of an order whose profile was retired meanwhile gets
 * invalidProfile (§4); needs the target's profile administration (claims). */
static int s006(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL;
  const char *path = json_string_value(json_object_get(ctx->env->claims, "profile_admin")), *prof = NULL;
  char name[256];
  acmeh_issued o = {0};
  acmeh_http_resp r = {0};
  int rc = prof_account(ctx, &c, &p);
  if (rc == ACMEH_OK && !path)
    rc = acmeh_check_skip(ctx, "retiring a profile needs its operator; the target names no way to do it "
                               "(claims \"profile_admin\")");
  if (rc == ACMEH_OK && !(prof = retiree(ctx, c, p)))
    rc = ctx->concluded ? ACMEH_PEER_PROTOCOL
                        : acmeh_check_skip(ctx, "no advertised profile besides the server's default to retire");
  const char *names[] = {acmeh_check_name(ctx, name, sizeof name)};
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_order(ctx, c, names, 1, "profile", prof, "newOrder with an advertised profile", &o);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_ready(ctx, c, &o);
  if (rc == ACMEH_OK) rc = finalize_retired(ctx, c, path, prof, &o, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_problem(ctx, &r, 0, "invalidProfile", "finalize of an order whose profile was retired");
  acmeh_http_resp_free(&r);
  acmeh_issued_clear(&o);
  acmeh_acme_free(c);
  return rc;
}

/* PROF-S07: whether an operator retires a profile that unexpired orders use is
 * their policy; nothing on the wire shows it. */
static int s007(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL;
  int rc = prof_client(ctx, &c, &p);
  acmeh_acme_free(c);
  return rc ? rc : acmeh_check_skip(ctx, "operator practice (when to retire a profile) that no request can observe");
}

/* Seconds between notBefore and notAfter of the chain's first certificate; -1 if unreadable. */
static double validity(const char *pem) {
  STACK_OF(X509) *chain = NULL;
  char err[128];
  int days = 0, secs = 0;
  double d = -1;
  if (pem && acmeh_pem_chain_parse(pem, strlen(pem), &chain, err, sizeof err) == 0 &&
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(sk_X509_value(chain, 0)),
                     X509_get0_notAfter(sk_X509_value(chain, 0))))
    d = days * 86400.0 + secs;
  sk_X509_pop_free(chain, X509_free);
  return d;
}

/* Issues a certificate under `prof` and checks its lifetime against `want` s. */
static int lifetime(acmeh_check_ctx *ctx, acmeh_acme *c, const char *prof, double want) {
  char name[256];
  acmeh_issued o = {0};
  const char *names[] = {acmeh_check_name(ctx, name, sizeof name)};
  int rc = acmeh_kit_ext_order(ctx, c, names, 1, "profile", prof, "newOrder with an advertised profile", &o);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_complete(ctx, c, &o);
  double got = rc ? 0 : validity(o.chain_pem);
  /* notAfter is inclusive (RFC 5280 §4.1.2.5), and CAs backdate notBefore: 1 h slack */
  if (rc == ACMEH_OK && (got < want - 3600 || got > want + 3600))
    rc = acmeh_check_fail(ctx, "certificate validity as the profile documents",
                          "profile \"%s\": %.0f s (documented %.0f s)", prof, got, want);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "profile %s: validity %.0f s as documented", prof, got);
  acmeh_issued_clear(&o);
  return rc;
}

/* PROF-S08: issued certificates carry the lifetime the target documents per
 * profile (claims "profile_validity": {name: seconds}). */
static int s008_body(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  const json_t *p = NULL, *want = json_object_get(ctx->env->claims, "profile_validity"), *v;
  const char *k;
  int tried = 0, rc = prof_account(ctx, &c, &p);
  if (rc == ACMEH_OK && !json_object_size(want))
    rc = acmeh_check_skip(ctx, "the target documents no per-profile validity (claims \"profile_validity\")");
  json_object_foreach((json_t *)want, k, v) {
    if (rc != ACMEH_OK || !json_is_number(v) || !json_object_get(p, k)) continue;
    rc = lifetime(ctx, c, k, json_number_value(v));
    tried++;
  }
  if (rc == ACMEH_OK && !tried)
    rc = acmeh_check_skip(ctx, "no profile of claims \"profile_validity\" is advertised");
  acmeh_acme_free(c);
  return rc;
}

SHARED(s003)
SHARED(s004)
SHARED(s005)
SHARED(s008)

const acmeh_check_impl profiles_checks[] = {
    {"PROF-S-001", s001}, {"PROF-S-002", s002}, {"PROF-S-003", s003}, {"PROF-S-004", s004}, {"PROF-S-005", s005},
    {"PROF-S-006", s006}, {"PROF-S-007", s007}, {"PROF-S-008", s008}, {"PROF-S-009", s009}, {NULL, NULL}};
