/* ONION-S-*: a server under test that issues for .onion names (RFC 9799).
 * Every check makes its own account and a fresh onion identity key (OpenSSL
 * Ed25519), so its v3 address is new to the server. A server that refuses
 * onion names, or offers no onion-csr-01 for them, is skipped unless its
 * claims say it implements RFC 9799 ("onion": true, or "onion-csr-01" among
 * its "challenges"), in which case that is the failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/rand.h"
#include "harness/acme/onion.h"
#include "harness/kit/kit.h"
#include "suites/onion/onion.h"

#define TYPE "onion-csr-01"

/* One onion service of a check: its key, address, client, order. */
typedef struct {
  EVP_PKEY *key;
  char name[63];
  acmeh_acme *c;
  acmeh_issued is;
  char *authz_url;
  json_t *authz;
  const json_t *chal; /* the onion-csr-01 challenge in authz (borrowed) */
} svc;

static void svc_free(svc *s) {
  EVP_PKEY_free(s->key);
  acmeh_acme_free(s->c);
  acmeh_issued_clear(&s->is);
  free(s->authz_url);
  json_decref(s->authz);
  memset(s, 0, sizeof *s);
}

int onion_claimed(const acmeh_check_ctx *ctx) {
  if (acmeh_kit_claims(ctx, "onion")) return 1;
  size_t i;
  const json_t *t;
  json_array_foreach(json_object_get(ctx->env->claims, "challenges"), i, t) if (json_is_string(t) && strcmp(json_string_value(t), TYPE) == 0) return 1;
  return 0;
}

/* The server's refusal of what it does not implement: a skip, or a failure
 * of a server that claims RFC 9799. */
static int unsupported(acmeh_check_ctx *ctx, const char *expected, const char *what) {
  if (onion_claimed(ctx)) return acmeh_check_fail(ctx, expected, "%s", what);
  return acmeh_check_skip(ctx, ONION_NOT_IMPLEMENTED " (%s; its claims have no \"onion\")", what);
}

/* A fresh Ed25519 identity key and its v3 address into s. */
static int new_service(acmeh_check_ctx *ctx, svc *s) {
  s->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  unsigned char pub[32];
  if (!s->key || acmeh_onion_pub(s->key, pub) || acmeh_onion_address(pub, s->name))
    return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "cannot make an Ed25519 onion key");
  acmeh_check_note(ctx, "onion service %s (a fresh Ed25519 key)", s->name);
  return ACMEH_OK;
}

/* newOrder for names (n), kept in s->is when created. */
static int order(acmeh_check_ctx *ctx, svc *s, const char *const *names, size_t n) {
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_ext_new_order(ctx, s->c, names, n, NULL, NULL, &r);
  const char *loc = acmeh_http_header_get(&r, "Location");
  json_t *o = rc == ACMEH_OK && r.status == 201 ? json_loads(r.body, 0, NULL) : NULL;
  if (rc == ACMEH_OK && (!o || !loc)) {
    char what[400];
    snprintf(what, sizeof what, "newOrder for %s answered %ld %.200s", names[0], r.status, r.body ? r.body : "");
    rc = unsupported(ctx, "a v3 onion name accepted as a dns identifier (RFC 9799 §2)", what);
  }
  if (rc == ACMEH_OK) {
    s->is.order_url = strdup(loc), s->is.order = json_incref(o);
    s->is.names = calloc(n, sizeof *s->is.names);
    for (size_t i = 0; s->is.names && i < n; i++) s->is.names[s->is.nnames++] = strdup(names[i]);
  }
  json_decref(o);
  acmeh_http_resp_free(&r);
  return rc;
}

/* The challenge types of an authorization, comma-separated, into buf. */
static const char *offered_types(const json_t *authz, char *buf, size_t len) {
  size_t i, at = 0;
  const json_t *ch;
  buf[0] = 0;
  json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
    const char *t = json_string_value(json_object_get(ch, "type"));
    int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", t ? t : "?");
    if (n < 0 || (size_t)n >= len - at) break;
    at += (size_t)n;
  }
  return at ? buf : "no challenge";
}

/* Account, fresh service, order for its address (or "<prefix>.<address>"),
 * authorization `which` fetched and its onion-csr-01 challenge found. */
static int service_authz(acmeh_check_ctx *ctx, svc *s, const char *prefix) {
  char name[100];
  int rc = s->c ? ACMEH_OK : acmeh_kit_account(ctx, &s->c); /* a client given: its account orders */
  if (rc == ACMEH_OK) rc = new_service(ctx, s);
  snprintf(name, sizeof name, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", s->name);
  const char *names[] = {name};
  if (rc == ACMEH_OK) rc = order(ctx, s, names, 1);
  const char *az = rc ? NULL : acmeh_kit_first_authz(s->is.order);
  if (rc == ACMEH_OK && !az) rc = acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK) s->authz_url = strdup(az), rc = acmeh_acme_get_json(s->c, az, &s->authz, NULL, ctx->err, sizeof ctx->err);
  s->chal = rc ? NULL : acmeh_flow_find_challenge(s->authz, TYPE);
  if (rc == ACMEH_OK && !s->chal) {
    char what[400], types[300];
    snprintf(what, sizeof what, "the authorization for %s offers %s", name, offered_types(s->authz, types, sizeof types));
    rc = unsupported(ctx, "an onion-csr-01 challenge for a .onion identifier (RFC 9799 §3.2)", what);
  }
  return rc;
}

/* The challenge nonce's bytes into out; fails the check on a bad one. */
static int chal_nonce(acmeh_check_ctx *ctx, const json_t *ch, unsigned char *out, size_t *n) {
  const char *b64 = json_string_value(json_object_get(ch, "nonce"));
  if (b64 && acmeh_onion_nonce_decode(b64, out, ACMEH_ONION_NONCE_MAX, n) == ACMEH_OK && *n >= ACMEH_ONION_NONCE_MIN) return ACMEH_OK;
  return acmeh_check_fail(ctx, "a \"nonce\" of padded standard base64 (RFC 4648 §4) decoding to >= 8 bytes (RFC 9799 §3.2)",
                          "\"nonce\" %s%.100s%s", b64 ? "\"" : "", b64 ? b64 : "missing", b64 ? "\"" : "");
}

/* POSTs {"csr": csr} to the challenge and polls the authorization to its
 * end; the challenge's final status into st (static or borrowed from *final). */
static int respond(acmeh_check_ctx *ctx, svc *s, const char *csr, json_t **final, const char **st) {
  acmeh_http_resp r = {0};
  json_t *p = json_pack("{s:s}", "csr", csr);
  char *body = json_dumps(p, JSON_COMPACT);
  int rc = acmeh_kit_post(ctx, s->c, json_string_value(json_object_get(s->chal, "url")), body, NULL, &r);
  free(body), json_decref(p);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_status(ctx, &r, 200, "onion-csr-01 challenge response {\"csr\": ...}");
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(s->c, s->authz_url, waiting, 2, final, ctx->err, sizeof ctx->err);
  *st = json_string_value(json_object_get(acmeh_flow_find_challenge(*final, TYPE), "status"));
  if (!*st) *st = "(missing)";
  return rc;
}

/* Builds the CSR as `how` says and responds; the final challenge status in st. */
typedef struct {
  EVP_PKEY *key;         /* signing key (NULL = the service's) */
  int flip_nonce;        /* one byte of caSigningNonce flipped */
  int nonce_text;        /* the nonce's base64 text instead of its bytes */
  size_t app_len;        /* applicantSigningNonce bytes (0 = 10) */
  const char *subject;   /* CN and O of the subject, NULL = empty */
} csr_how;

static int answer(acmeh_check_ctx *ctx, svc *s, const csr_how *how, json_t **final, const char **st) {
  unsigned char nonce[ACMEH_ONION_NONCE_MAX], app[32];
  size_t n = 0, alen = how->app_len ? how->app_len : 10;
  int rc = chal_nonce(ctx, s->chal, nonce, &n);
  if (rc == ACMEH_OK && acmeh_rand_bytes(app, alen) != ACMEH_OK) rc = ACMEH_INTERNAL;
  if (how->flip_nonce) nonce[0] ^= 0x01;
  const char *text = json_string_value(json_object_get(s->chal, "nonce"));
  char *csr = NULL;
  if (rc == ACMEH_OK)
    rc = acmeh_onion_csr_build_subject(how->key ? how->key : s->key, how->nonce_text ? (const unsigned char *)text : nonce,
                                       how->nonce_text ? strlen(text) : n, app, alen, how->subject, &csr);
  if (rc == ACMEH_OK) rc = respond(ctx, s, csr, final, st);
  free(csr);
  return rc;
}

/* One service answered as `how` says; fails unless the challenge ends `want`. */
static int expect_end(acmeh_check_ctx *ctx, const csr_how *how, const char *want, const char *why) {
  svc s = {0};
  json_t *final = NULL;
  const char *st = NULL;
  int rc = service_authz(ctx, &s, NULL);
  if (rc == ACMEH_OK) rc = answer(ctx, &s, how, &final, &st);
  if (rc == ACMEH_OK && strcmp(st, want) != 0) {
    char exp[300], *e = json_dumps(json_object_get(acmeh_flow_find_challenge(final, TYPE), "error"), JSON_COMPACT);
    snprintf(exp, sizeof exp, "the onion-csr-01 challenge \"%s\" when %s", want, why);
    rc = acmeh_check_fail(ctx, exp, "challenge ended \"%s\" (error %.300s)", st, e ? e : "none");
    free(e);
  }
  json_decref(final);
  svc_free(&s);
  return rc;
}

/* ---- identifiers (§2) and challenges offered (§3) ------------------------ */

static int accepts_v3(acmeh_check_ctx *ctx) {
  svc s = {0};
  char sub[100];
  int rc = acmeh_kit_account(ctx, &s.c);
  if (rc == ACMEH_OK) rc = new_service(ctx, &s);
  snprintf(sub, sizeof sub, "www.%s", s.name);
  const char *names[] = {s.name, sub};
  if (rc == ACMEH_OK) rc = order(ctx, &s, names, 2);
  size_t i, offered = 0;
  json_t *u;
  char types[300] = "", what[500];
  json_array_foreach(rc ? NULL : json_object_get(s.is.order, "authorizations"), i, u) {
    json_t *az = NULL;
    if (acmeh_acme_get_json(s.c, json_string_value(u), &az, NULL, ctx->err, sizeof ctx->err) == ACMEH_OK) {
      if (acmeh_flow_find_challenge(az, TYPE)) offered++;
      else offered_types(az, types, sizeof types);
    }
    json_decref(az);
  }
  snprintf(what, sizeof what, "an authorization of the order for %s and www.%s offers %s", s.name, s.name, types);
  if (rc == ACMEH_OK && offered < 2)
    rc = unsupported(ctx, "onion-csr-01 offered in both authorizations (the address and www.<address>)", what);
  svc_free(&s);
  return rc;
}

/* newOrder for `name` must be refused; `what` names the fault. */
static int refuses(acmeh_check_ctx *ctx, const char *name, const char *what) {
  svc s = {0};
  acmeh_http_resp r = {0};
  int rc = service_authz(ctx, &s, NULL); /* the server does take v3 names: else this rule is untested */
  const char *names[] = {name};
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "ordering %s (%s)", name, what);
  if (rc == ACMEH_OK) rc = acmeh_kit_ext_new_order(ctx, s.c, names, 1, NULL, NULL, &r);
  char exp[200];
  snprintf(exp, sizeof exp, "newOrder refused for %s (RFC 9799 §2)", what);
  if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, NULL, exp);
  acmeh_http_resp_free(&r);
  svc_free(&s);
  return rc;
}

static int refuses_v2(acmeh_check_ctx *ctx) { return refuses(ctx, "expyuzz4wqqyqhjn.onion", "a v2 onion address"); }

static int refuses_bad_checksum(acmeh_check_ctx *ctx) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  unsigned char pub[32];
  char name[63];
  if (!k || acmeh_onion_pub(k, pub) || acmeh_onion_address(pub, name)) return EVP_PKEY_free(k), ACMEH_INTERNAL;
  EVP_PKEY_free(k);
  for (int i = 0; i < 20; i++) { /* one pubkey character changed: a checksum mismatch (1 - 2^-16) */
    name[i] = name[i] == 'a' ? 'b' : 'a';
    if (acmeh_onion_parse(name, NULL, NULL, 0) != ACMEH_OK) break;
  }
  return refuses(ctx, name, "a v3 label whose checksum does not match");
}

static int wildcard_csr(acmeh_check_ctx *ctx) {
  svc s = {0};
  int rc = service_authz(ctx, &s, "*");
  const char *w = rc ? NULL : json_is_true(json_object_get(s.authz, "wildcard")) ? "true" : "absent";
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "the authorization for *.%s has \"wildcard\": %s", s.name, w);
  svc_free(&s);
  return rc;
}

static int no_dns01(acmeh_check_ctx *ctx) {
  svc s = {0};
  int rc = service_authz(ctx, &s, NULL);
  if (rc == ACMEH_OK && acmeh_flow_find_challenge(s.authz, "dns-01"))
    rc = acmeh_check_fail(ctx, "no dns-01 challenge for a .onion identifier (RFC 9799 §3.1.1)", "dns-01 offered for %s", s.name);
  svc_free(&s);
  return rc;
}

static int nonce_ok(acmeh_check_ctx *ctx) {
  svc a = {0}, b = {0};
  unsigned char n1[ACMEH_ONION_NONCE_MAX], n2[ACMEH_ONION_NONCE_MAX];
  size_t l1 = 0, l2 = 0;
  int rc = service_authz(ctx, &a, NULL);
  if (rc == ACMEH_OK) rc = chal_nonce(ctx, a.chal, n1, &l1);
  if (rc == ACMEH_OK) rc = service_authz(ctx, &b, NULL);
  if (rc == ACMEH_OK) rc = chal_nonce(ctx, b.chal, n2, &l2);
  if (rc == ACMEH_OK && l1 == l2 && memcmp(n1, n2, l1) == 0)
    rc = acmeh_check_fail(ctx, "a fresh nonce per challenge (RFC 9799 §3.2: >= 64 bits of entropy)", "two challenges with nonce %s",
                          json_string_value(json_object_get(a.chal, "nonce")));
  svc_free(&a), svc_free(&b);
  return rc;
}

/* The authKey of an onion-csr-01 challenge as compact JSON (malloc'd), NULL when none. */
static char *auth_key(const json_t *ch) {
  const json_t *k = json_object_get(ch, "authKey");
  return k ? json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static int auth_key_per_service(acmeh_check_ctx *ctx) {
  svc a = {0}, b = {0};
  int rc = service_authz(ctx, &a, NULL);
  char *ka = rc ? NULL : auth_key(a.chal), *kb = NULL;
  const json_t *k = json_object_get(a.chal, "authKey");
  if (rc == ACMEH_OK && !ka) rc = acmeh_check_skip(ctx, "the server sends no authKey (optional, RFC 9799 §4)");
  if (rc == ACMEH_OK && (!json_is_string(json_object_get(k, "x")) || strcmp(json_string_value(json_object_get(k, "kty")) ? json_string_value(json_object_get(k, "kty")) : "", "OKP") != 0 ||
                         strcmp(json_string_value(json_object_get(k, "crv")) ? json_string_value(json_object_get(k, "crv")) : "", "Ed25519") != 0))
    rc = acmeh_check_fail(ctx, "authKey an RFC 8037 JWK {\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"x\"} (RFC 9799 §4)", "%.200s", ka);
  if (rc == ACMEH_OK) b.c = a.c, rc = service_authz(ctx, &b, NULL); /* a second service, same account */
  kb = rc ? NULL : auth_key(b.chal);
  if (rc == ACMEH_OK && kb && strcmp(ka, kb) == 0)
    rc = acmeh_check_fail(ctx, "a different authKey for a different onion service (RFC 9799 §4: MUST NOT reuse)",
                          "%s and %s both got %.200s", a.name, b.name, ka);
  b.c = NULL; /* a's */
  free(ka), free(kb);
  svc_free(&b), svc_free(&a);
  return rc;
}

static int not_for_other_names(acmeh_check_ctx *ctx) {
  acmeh_kit_fixture f = {0};
  int rc = acmeh_kit_fixture_authz(ctx, &f);
  if (rc == ACMEH_OK && acmeh_flow_find_challenge(f.authz, TYPE))
    rc = acmeh_check_fail(ctx, "no onion-csr-01 challenge for a non-.onion identifier (RFC 9799 §3.2)", "offered for %s", f.name);
  acmeh_kit_fixture_free(&f);
  return rc;
}

/* ---- the CSR (§3.2) -------------------------------------------------------- */

static int csr_variants(acmeh_check_ctx *ctx) {
  static const csr_how good = {0}, flipped = {.flip_nonce = 1}, text = {.nonce_text = 1}, short_app = {.app_len = 4};
  int rc = expect_end(ctx, &good, "valid", "the CSR is signed by the onion key with caSigningNonce = the nonce's bytes");
  if (rc == ACMEH_OK) rc = expect_end(ctx, &flipped, "invalid", "one byte of caSigningNonce differs from the nonce");
  if (rc == ACMEH_OK) rc = expect_end(ctx, &text, "invalid", "caSigningNonce holds the nonce's base64 text, not its bytes");
  if (rc == ACMEH_OK) rc = expect_end(ctx, &short_app, "invalid", "applicantSigningNonce has 4 bytes (32 bits)");
  return rc;
}

static int other_key(acmeh_check_ctx *ctx) {
  csr_how how = {.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")};
  int rc = how.key ? expect_end(ctx, &how, "invalid", "the CSR is signed by an Ed25519 key other than the onion address's") : ACMEH_INTERNAL;
  EVP_PKEY_free(how.key);
  return rc;
}

static int junk_subject(acmeh_check_ctx *ctx) {
  static const csr_how how = {.subject = "junk subject \x7e 12345"};
  return expect_end(ctx, &how, "valid", "the CSR's subject is junk (servers MUST NOT validate it)");
}

const acmeh_check_impl onion_server_checks[] = {
    {"ONION-S-001", accepts_v3},   {"ONION-S-002", refuses_v2},        {"ONION-S-003", refuses_bad_checksum},
    {"ONION-S-004", no_dns01},     {"ONION-S-005", wildcard_csr},     {"ONION-S-006", nonce_ok},          {"ONION-S-007", csr_variants},
    {"ONION-S-008", other_key},    {"ONION-S-010", junk_subject},      {"ONION-S-011", not_for_other_names},
    {"ONION-S-013", auth_key_per_service},
    {"ONION-S-018", onion_caa_required}, {"ONION-S-019", onion_caa_refused}, {"ONION-S-020", onion_caa_64bit},
    {NULL, NULL}};

/* ---- shared with caa.c ------------------------------------------------------ */

int onion_ready_order(acmeh_check_ctx *ctx, onion_ready *o) {
  svc *s = calloc(1, sizeof *s);
  json_t *final = NULL, *ord = NULL;
  const char *st = NULL;
  static const csr_how good = {0};
  if (!s) return ACMEH_NOMEM;
  o->svc = s;
  int rc = service_authz(ctx, s, NULL);
  if (rc == ACMEH_OK) rc = answer(ctx, s, &good, &final, &st);
  if (rc == ACMEH_OK && strcmp(st, "valid") != 0)
    rc = acmeh_kit_step_fault(ctx, "onion-csr-01 challenge", "the onion-csr-01 challenge valid", "it ended invalid");
  static const char *const waiting[] = {"pending"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(s->c, s->is.order_url, waiting, 1, &ord, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) json_decref(s->is.order), s->is.order = json_incref(ord);
  o->c = s->c, o->is = &s->is, o->key = s->key, o->name = s->name;
  json_decref(final), json_decref(ord);
  return rc;
}

void onion_ready_free(onion_ready *o) {
  if (o->svc) svc_free(o->svc);
  free(o->svc);
  memset(o, 0, sizeof *o);
}
