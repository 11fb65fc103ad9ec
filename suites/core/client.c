/* CORE-C-*: the client under test, judged from what it sent the reference
 * server in a scenario (RFC 8555 §6, §7, §8). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/acme/b64.h"
#include <openssl/x509.h>
#include "harness/acme/cert.h"
#include "harness/acme/jwk.h"
#include "harness/acme/jws.h"
#include "harness/client/http.h"
#include "base/error.h"
#include "harness/dns/update.h"
#include "harness/runner/scenario.h"
#include "harness/kit/record.h"
#include "harness/runner/suite.h"
#include "suites/core/core_suite.h"

/* String member k of protocol JSON (a payload, a response body, a JWS header,
 * the scenario's definition), NULL when absent or not a string. Exchanges
 * and validations are read through the kit's typed views instead. */
static const char *member(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* The client target lists challenge type `type` among those it answers. */
static int client_answers(const acmeh_check_ctx *ctx, const char *type) {
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(ctx->env->client, "challenges"), i, t) if (json_is_string(t) && !strcmp(json_string_value(t), type)) return 1;
  return 0;
}

/* ---- per-exchange checks (client_live.h): one predicate each, shared by
 * the suite below and serve's live verdicts ---------------------------- */

typedef struct core_judge {
  json_t *nonces;   /* nonce -> seq of the first request that used it */
  json_t *accounts; /* Location of every newAccount answer -> 1 */
  char *last_account;
} core_judge;

static void core_judge_free(core_judge *j);

static core_judge *core_judge_new(void) {
  core_judge *j = calloc(1, sizeof *j);
  if (j && (!(j->nonces = json_object()) || !(j->accounts = json_object()))) core_judge_free(j), j = NULL;
  return j;
}

static void core_judge_free(core_judge *j) {
  if (!j) return;
  json_decref(j->nonces), json_decref(j->accounts), free(j->last_account);
  free(j);
}

/* A rule's outcome: NA (does not apply to this exchange), PASS, FAIL with
 * `expected` (static text) and `actual` filled. */
enum { RULE_NA = -1, RULE_PASS = 0, RULE_FAIL = 1 };
typedef struct {
  const char *expected;
  char actual[600];
} rule_out;
typedef int (*rule_fn)(core_judge *j, const acmeh_kit_exchange *e, rule_out *o);

__attribute__((format(printf, 3, 4))) static int rule_fail(rule_out *o, const char *expected, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->actual, sizeof o->actual, fmt, ap);
  va_end(ap);
  o->expected = expected;
  return RULE_FAIL;
}

static int r_user_agent(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  (void)j;
  const char *ua = acmeh_kit_req_header(e, "user-agent");
  if (ua && *ua) return RULE_PASS;
  return rule_fail(o, "a User-Agent header on every request", "request #%lld (%s %s) has none", e->seq, e->method, e->path);
}

static int r_accept_language(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  (void)j;
  if (acmeh_kit_req_header(e, "accept-language")) return RULE_PASS;
  return rule_fail(o, "an Accept-Language header (SHOULD)", "request #%lld (%s %s) has none", e->seq, e->method, e->path);
}

static int r_jws_shape(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  (void)j;
  if (!acmeh_kit_is(e, "POST", NULL)) return RULE_NA;
  const char *ct = acmeh_kit_req_header(e, "content-type");
  json_t *body = json_loads(e->req_body ? e->req_body : "", 0, NULL);
  int rc = RULE_PASS;
  if (!ct || strncasecmp(ct, "application/jose+json", 21) != 0 || (ct[21] && ct[21] != ';'))
    rc = rule_fail(o, "Content-Type: application/jose+json on every POST", "request #%lld: %s", e->seq, ct ? ct : "(none)");
  else if (e->jws_error)
    rc = rule_fail(o, "a flattened JWS body", "request #%lld: %s", e->seq, e->jws_error);
  else if (json_object_get(body, "header") || json_object_get(body, "signatures"))
    rc = rule_fail(o, "no \"header\" or \"signatures\" member", "request #%lld has one", e->seq);
  else if (json_object_get(e->protected_hdr, "b64"))
    rc = rule_fail(o, "no \"b64\" header parameter (RFC 7797)", "request #%lld has one", e->seq);
  json_decref(body);
  return rc;
}

/* A body whose protected header is not a JSON object (has_jws, no
 * protected_hdr) lacks alg, nonce and url; no body at all is CORE-C-003's. */
static int r_header_members(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  (void)j;
  const json_t *p = e->protected_hdr;
  const char *res = e->resource ? e->resource : "?";
  int jwk = json_object_get(p, "jwk") != NULL, kid = json_object_get(p, "kid") != NULL;
  if (!acmeh_kit_is(e, "POST", NULL) || !e->has_jws) return RULE_NA;
  if (!member(p, "alg") || !member(p, "nonce") || !member(p, "url"))
    return rule_fail(o, "alg, nonce and url in every protected header", "request #%lld to %s lacks one", e->seq, res);
  if (jwk == kid) return rule_fail(o, "exactly one of jwk and kid", "request #%lld to %s has %s", e->seq, res, jwk ? "both" : "neither");
  if (jwk && strcmp(res, "newAccount") != 0 && strcmp(res, "revokeCert") != 0)
    return rule_fail(o, "jwk only on newAccount and revokeCert", "request #%lld to %s uses jwk", e->seq, res);
  if (kid && strcmp(res, "newAccount") == 0) return rule_fail(o, "jwk (not kid) on newAccount", "request #%lld uses kid", e->seq);
  return RULE_PASS;
}

/* Every account URL the server handed out counts (serve may see several clients). */
static int r_kid_is_location(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  const char *kid = member(e->protected_hdr, "kid"), *loc = acmeh_kit_resp_header(e, "location");
  int rc = !kid ? RULE_NA : json_object_get(j->accounts, kid) ? RULE_PASS
                          : rule_fail(o, "kid byte-identical to the newAccount Location", "request #%lld kid \"%s\" (Location \"%s\")",
                                      e->seq, kid, j->last_account ? j->last_account : "none yet");
  if (acmeh_kit_is(e, "POST", "newAccount") && loc) {
    json_object_set_new(j->accounts, loc, json_true());
    free(j->last_account), j->last_account = strdup(loc);
  }
  return rc;
}

static int r_url_is_request_url(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  (void)j;
  const char *u = member(e->protected_hdr, "url"), *req = e->url;
  if (!u || !req) return RULE_NA;
  if (strcmp(u, req) == 0) return RULE_PASS;
  return rule_fail(o, "the url header byte-identical to the request URL", "request #%lld to %s has url \"%s\"", e->seq, req, u);
}

static int r_no_padding(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  const struct {
    const char *name, *value;
  } parts[] = {{"protected_b64", e->protected_b64}, {"payload_b64", e->payload_b64}, {"signature_b64", e->signature_b64}};
  (void)j;
  if (!e->has_jws) return RULE_NA;
  for (int k = 0; k < 3; k++) {
    const char *v = parts[k].value;
    size_t n = v ? strlen(v) : 0;
    if (v && strchr(v, '='))
      return rule_fail(o, "base64url without '=' padding", "request #%lld %s ends \"%s\"", e->seq, parts[k].name, v + n - (n > 6 ? 6 : n));
  }
  return RULE_PASS;
}

/* Fetches are POST-as-GET with payload "" (an authorization also takes a deactivation), never GET. */
static int r_post_as_get(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  static const char *const fetch_only[] = {"order", "certificate", "orders"};
  static const char *const want = "POST-as-GET with the empty payload \"\" for fetches";
  (void)j;
  const char *p = e->payload;
  for (int k = 0; k < 3; k++)
    if (acmeh_kit_is(e, "POST", fetch_only[k]))
      return p && *p ? rule_fail(o, want, "request #%lld to the %s has payload %.80s", e->seq, fetch_only[k], p) : RULE_PASS;
  if (acmeh_kit_is(e, "POST", "authz")) {
    json_t *pj = acmeh_kit_payload_json(e);
    int bad = p && *p && !json_is_string(json_object_get(pj, "status"));
    json_decref(pj);
    return bad ? rule_fail(o, want, "request #%lld to the authz has payload %.80s", e->seq, p) : RULE_PASS;
  }
  if (acmeh_kit_is(e, "GET", "order") || acmeh_kit_is(e, "GET", "authz") || acmeh_kit_is(e, "GET", "certificate"))
    return rule_fail(o, "POST-as-GET, not GET, for resources", "request #%lld is a plain GET of %s", e->seq, e->path);
  return RULE_NA;
}

static int r_nonce_once(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  const char *n = member(e->protected_hdr, "nonce");
  if (!n) return RULE_NA;
  json_t *first = json_object_get(j->nonces, n);
  if (first)
    return rule_fail(o, "no nonce used twice", "request #%lld reuses the nonce of request #%lld", e->seq, json_integer_value(first));
  json_object_set_new(j->nonces, n, json_integer(e->seq));
  return RULE_PASS;
}

static int r_no_nonce_header(core_judge *j, const acmeh_kit_exchange *e, rule_out *o) {
  (void)j;
  if (!acmeh_kit_req_header(e, "replay-nonce")) return RULE_PASS;
  return rule_fail(o, "no Replay-Nonce request header (SHOULD NOT)", "request #%lld sends one", e->seq);
}

static const struct {
  const char *id;
  rule_fn fn;
  const char *holds; /* shown on a live pass */
} rules[] = {
    {"CORE-C-001", r_user_agent, "User-Agent sent"},
    {"CORE-C-002", r_accept_language, "Accept-Language sent"},
    {"CORE-C-003", r_jws_shape, "flattened JWS, Content-Type application/jose+json"},
    {"CORE-C-004", r_header_members, "alg, nonce, url and one of jwk/kid, as the resource wants"},
    {"CORE-C-005", r_kid_is_location, "kid is an account URL the server gave"},
    {"CORE-C-006", r_url_is_request_url, "url header is the request URL"},
    {"CORE-C-007", r_no_padding, "base64url without padding"},
    {"CORE-C-008", r_post_as_get, "fetched with POST-as-GET"},
    {"CORE-C-009", r_nonce_once, "nonce not used before"},
    {"CORE-C-012", r_no_nonce_header, "no Replay-Nonce request header"},
};
#define NRULES (sizeof rules / sizeof *rules)

/* A request the server refused before it could parse it (431, a header that
 * is not text) has no method, headers or JWS to judge: no rule applies. */
static int parsed(const acmeh_kit_exchange *e) { return e->method && *e->method; }

static size_t core_judge_exchange(core_judge *j, const json_t *x, acmeh_live_emit emit, void *ud) {
  size_t fails = 0;
  acmeh_kit_exchange e;
  acmeh_kit_exchange_read(x, &e);
  for (size_t k = 0; k < NRULES && parsed(&e); k++) {
    rule_out o = {0};
    int v = rules[k].fn(j, &e, &o);
    if (v == RULE_NA) continue;
    char msg[900];
    if (v == RULE_FAIL) snprintf(msg, sizeof msg, "%s; got %s", o.expected, o.actual), fails++;
    if (emit) emit(ud, rules[k].id, v == RULE_PASS, v == RULE_PASS ? rules[k].holds : msg);
  }
  return fails;
}

/* serve's live verdicts (harness/runner/suite.h) over the same rules. */
static void *live_create(void) { return core_judge_new(); }
static void live_destroy(void *state) { core_judge_free(state); }
static size_t live_exchange(void *state, const json_t *x, acmeh_live_emit emit, void *ud) {
  return core_judge_exchange(state, x, emit, ud);
}
const acmeh_live_judge core_live_judge = {live_create, live_destroy, live_exchange};

/* The suite's view of a per-request rule: every request of every scenario
 * the run made (the catalog's "scope": "every-scenario" makes
 * the runner start these checks after the others), as `serve` judges them live. A run that
 * selected only these checks makes plain-http01 for them. */
typedef struct {
  acmeh_check_ctx *ctx;
  rule_fn fn;
  size_t judged, scenarios, failing; /* requests the rule applied to; scenarios judged; failing ones */
  rule_out first;
  char first_scenario[96];
  acmeh_strbuf also; /* further failing scenarios, ", "-separated */
} sweep;

static int sweep_one(void *ud, const char *name, const acmeh_client_run *r) {
  sweep *w = ud;
  core_judge *j = core_judge_new();
  if (!j) return ACMEH_NOMEM;
  size_t i;
  acmeh_kit_exchange e;
  rule_out o;
  int failed = 0;
  w->scenarios++;
  ACMEH_KIT_EACH(r, i, e) if (!failed && parsed(&e)) {
    int v = w->fn(j, &e, &o);
    w->judged += v != RULE_NA;
    if (v != RULE_FAIL) continue;
    failed = 1;
    if (w->failing++) acmeh_strbuf_printf(&w->also, "%s%s", w->also.len ? ", " : "", name);
    else w->first = o, snprintf(w->first_scenario, sizeof w->first_scenario, "%s", name), acmeh_client_run_transcript(r, &w->ctx->transcript);
  }
  core_judge_free(j);
  return ACMEH_OK;
}

static int judge_record(acmeh_check_ctx *ctx, rule_fn fn) {
  sweep w = {.ctx = ctx, .fn = fn};
  size_t made = 0;
  int rc = acmeh_scenario_each(ctx, sweep_one, &w, &made);
  if (rc == ACMEH_OK && !made) {
    const acmeh_client_run *r;
    rc = acmeh_kit_record(ctx, "plain-http01", &r);
    if (rc == ACMEH_OK) rc = sweep_one(&w, "plain-http01", r);
  }
  if (rc == ACMEH_OK && w.failing)
    rc = acmeh_check_fail(ctx, w.first.expected, "scenario %s: %s%s%s%s", w.first_scenario, w.first.actual,
                          w.also.len ? " (also in scenarios " : "", w.also.len ? w.also.data : "", w.also.len ? ")" : "");
  else if (rc == ACMEH_OK && !w.judged)
    rc = acmeh_check_skip(ctx, "no request of the %zu scenarios made was one this rule applies to", w.scenarios);
  else if (rc == ACMEH_OK)
    acmeh_check_note(ctx, "judged %zu requests of %zu scenarios", w.judged, w.scenarios);
  free(w.also.data);
  return rc;
}

static int user_agent(acmeh_check_ctx *ctx) { return judge_record(ctx, r_user_agent); }
static int accept_language(acmeh_check_ctx *ctx) { return judge_record(ctx, r_accept_language); }
static int post_format(acmeh_check_ctx *ctx) { return judge_record(ctx, r_jws_shape); }
static int protected_members(acmeh_check_ctx *ctx) { return judge_record(ctx, r_header_members); }
static int kid_is_location(acmeh_check_ctx *ctx) { return judge_record(ctx, r_kid_is_location); }
static int url_is_request_url(acmeh_check_ctx *ctx) { return judge_record(ctx, r_url_is_request_url); }
static int no_padding(acmeh_check_ctx *ctx) { return judge_record(ctx, r_no_padding); }
static int post_as_get(acmeh_check_ctx *ctx) { return judge_record(ctx, r_post_as_get); }
static int nonce_once(acmeh_check_ctx *ctx) { return judge_record(ctx, r_nonce_once); }
static int no_nonce_header(acmeh_check_ctx *ctx) { return judge_record(ctx, r_no_nonce_header); }

static int nonce_by_head(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-http01", &r);
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (!strcmp(e.resource ? e.resource : "", "newNonce"))
    return strcmp(e.method, "HEAD") == 0 ? rc
                                         : acmeh_check_fail(ctx, "the first nonce fetched with HEAD newNonce (SHOULD)",
                                                            "request #%lld is %s newNonce", e.seq, e.method);
  return rc ? rc : acmeh_check_fail(ctx, "a nonce fetched from newNonce", "the client never asked newNonce");
}

/* The DNS values the newOrder asked for, as a JSON array of strings (new reference). */
static json_t *ordered_names(const acmeh_client_run *r) {
  json_t *names = json_array();
  acmeh_kit_exchange e;
  size_t i, k;
  ACMEH_KIT_EACH(r, i, e) if (acmeh_kit_is(&e, "POST", "newOrder") && e.payload) {
    json_t *p = acmeh_kit_payload_json(&e), *id;
    json_array_foreach(json_object_get(p, "identifiers"), k, id) json_array_append(names, json_object_get(id, "value"));
    json_decref(p);
    break;
  }
  return names;
}

static int csr_names_match(acmeh_check_ctx *ctx, const char *csr, const json_t *want, long long at) {
  X509_REQ *req = NULL;
  char **sans = NULL;
  size_t n = 0;
  if (!csr || !acmeh_b64url_valid(csr) || acmeh_csr_parse(csr, &req) != ACMEH_OK)
    return acmeh_check_fail(ctx, "csr = base64url of a DER PKCS#10 request", "request #%lld csr is not", at);
  acmeh_csr_sans(req, &sans, &n);
  int ok = n == json_array_size(want);
  for (size_t i = 0; ok && i < n; i++) {
    int found = 0;
    for (size_t j = 0; j < json_array_size(want); j++) found |= strcasecmp(sans[i], json_string_value(json_array_get(want, j))) == 0;
    ok &= found;
  }
  int rc = ok ? ACMEH_OK
              : acmeh_check_fail(ctx, "a CSR naming exactly the ordered identifiers", "%zu names in the CSR (first %s) for %zu ordered", n,
                                 n ? sans[0] : "none", json_array_size(want));
  acmeh_names_free(sans, n);
  X509_REQ_free(req);
  return rc;
}

static int csr_format(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-http01", &r);
  size_t i;
  acmeh_kit_exchange e;
  json_t *want = ordered_names(r);
  int seen = 0;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "finalize") && e.payload) {
    json_t *p = acmeh_kit_payload_json(&e);
    rc = csr_names_match(ctx, member(p, "csr"), want, e.seq);
    seen = 1;
    json_decref(p);
  }
  if (rc == ACMEH_OK && !seen) rc = acmeh_kit_unreached(ctx, r, "a finalize request with a CSR", "the client never finalized");
  json_decref(want);
  return rc;
}

static int challenge_response(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-http01", &r);
  size_t i;
  acmeh_kit_exchange e;
  int responded = 0;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "challenge") && e.payload && *e.payload) {
    json_t *p = acmeh_kit_payload_json(&e); /* "" is a POST-as-GET poll of the challenge: allowed */
    if (!json_is_object(p) || json_object_size(p) != 0)
      rc = acmeh_check_fail(ctx, "the challenge response {} POSTed to the challenge URL", "request #%lld payload \"%.80s\"", e.seq, e.payload);
    responded = 1;
    json_decref(p);
  }
  if (rc == ACMEH_OK && !responded)
    rc = acmeh_check_fail(ctx, "the challenge response {} POSTed to the challenge URL",
                          "the client sent no {} to any challenge (only POST-as-GET polls, if anything)");
  return rc;
}

/* Did the server report the client's challenge or authorization valid, or
 * its order past validation? (A fast server answers the challenge POST
 * "valid" at once; then a client need not poll the authorization.) */
static int validation_seen(const acmeh_kit_exchange *e) {
  json_t *b = acmeh_kit_resp_json(e);
  const char *st = member(b, "status");
  int ok = st && ((acmeh_kit_is(e, "POST", "challenge") || acmeh_kit_is(e, "POST", "authz")) ? strcmp(st, "valid") == 0
               : (acmeh_kit_is(e, "POST", "order") || acmeh_kit_is(e, "POST", "finalize"))
                   ? strcmp(st, "ready") == 0 || strcmp(st, "processing") == 0 || strcmp(st, "valid") == 0
                   : 0);
  json_decref(b);
  return ok;
}

static int validated(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-http01", &r);
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (validation_seen(&e)) return rc;
  return rc ? rc : acmeh_check_fail(ctx, "the http-01 keyAuthorization served so that validation succeeds",
                                    "no challenge, authorization or order of the client got past validation");
}

/* After the faulted badNonce: the first POST the client sends next into
 * *post; 0 when there is none. */
static int post_after_bad_nonce(const acmeh_client_run *r, const char **fresh, acmeh_kit_exchange *post) {
  size_t i;
  *fresh = NULL;
  ACMEH_KIT_EACH(r, i, *post) {
    if (!*fresh && json_array_size(post->faults)) *fresh = acmeh_kit_resp_header(post, "replay-nonce");
    else if (*fresh && acmeh_kit_is(post, "POST", NULL)) return 1;
  }
  return 0;
}

static int bad_nonce_retry(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  const char *fresh;
  acmeh_kit_exchange post;
  int rc = acmeh_kit_record(ctx, "bad-nonce-once", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  int found = rc == ACMEH_OK && post_after_bad_nonce(r, &fresh, &post);
  if (rc == ACMEH_OK && (!found || !acmeh_kit_is(&post, "POST", "newOrder")))
    return acmeh_check_skip(ctx, "the client did not retry the refused newOrder (judged by CORE-C-035)");
  const char *n = found ? member(post.protected_hdr, "nonce") : NULL;
  if (rc == ACMEH_OK && (!n || !fresh || strcmp(n, fresh) != 0))
    rc = acmeh_check_fail(ctx, "the retry signed with the badNonce response's Replay-Nonce", "request #%lld uses nonce %s, the error gave %s",
                          post.seq, n ? n : "(none)", fresh ? fresh : "(none)");
  return rc;
}

static int bad_nonce_retried(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  const char *fresh;
  acmeh_kit_exchange post;
  int rc = acmeh_kit_record(ctx, "bad-nonce-once", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  int found = rc == ACMEH_OK && post_after_bad_nonce(r, &fresh, &post);
  if (rc == ACMEH_OK && !found) rc = acmeh_check_fail(ctx, "the refused newOrder retried", "the client sent no request after the badNonce error");
  else if (rc == ACMEH_OK && !acmeh_kit_is(&post, "POST", "newOrder"))
    rc = acmeh_check_fail(ctx, "the refused newOrder retried", "its next POST (#%lld) went to %s", post.seq, post.resource);
  return rc;
}

static int malformed_nonce_ignored(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "malformed-nonce", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newAccount");
  size_t i;
  acmeh_kit_exchange e;
  int after = 0;
  ACMEH_KIT_EACH(r, i, e) {
    const char *n = member(e.protected_hdr, "nonce");
    if (rc == ACMEH_OK && n && strcmp(n, "abc def") == 0)
      rc = acmeh_check_fail(ctx, "a malformed Replay-Nonce ignored", "request #%lld uses the nonce \"abc def\"", e.seq);
    after |= acmeh_kit_is(&e, "POST", "newOrder");
  }
  if (rc == ACMEH_OK && !after) rc = acmeh_check_fail(ctx, "the client to go on (fetch a fresh nonce) after a malformed Replay-Nonce", "no newOrder followed");
  return rc;
}

/* Every poll of the order sooner than the last Retry-After asked (100 ms of
 * slack), each with its timing, so a fixed poller shows as one. */
static int polls_wait(acmeh_check_ctx *ctx, const char *scenario, const char *expected) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, scenario, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "finalize");
  long long ready_at = -1, asked_at = 0;
  int downloaded = 0, early = 0;
  acmeh_strbuf polls = {0};
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    long long t = e.time_ms;
    if (rc == ACMEH_OK && ready_at >= 0 && acmeh_kit_is(&e, "POST", "order") && t < ready_at && early++ < 12)
      acmeh_strbuf_printf(&polls, "%s#%lld after %lld ms (%lld ms early)", polls.len ? ", " : "", e.seq, t - asked_at, ready_at - t);
    const char *ra = acmeh_kit_resp_header(&e, "retry-after");
    if ((acmeh_kit_is(&e, "POST", "finalize") || acmeh_kit_is(&e, "POST", "order")) && ra)
      asked_at = t, ready_at = t + atoll(ra) * 1000 - 100;
    downloaded |= acmeh_kit_is(&e, "POST", "certificate");
  }
  if (rc == ACMEH_OK && early)
    rc = acmeh_check_fail(ctx, expected, "%d poll%s came early: %s%s", early, early > 1 ? "s" : "", polls.data, early > 12 ? ", ..." : "");
  else if (rc == ACMEH_OK && !downloaded)
    rc = acmeh_check_fail(ctx, "the client to poll on and download the certificate", "it never did");
  free(polls.data);
  return rc;
}

static int retry_after_honoured(acmeh_check_ctx *ctx) {
  return polls_wait(ctx, "slow-finalize", "no poll before Retry-After (1 s) has passed");
}

static int odd_retry_after_honoured(acmeh_check_ctx *ctx) {
  return polls_wait(ctx, "slow-finalize-odd", "no poll before Retry-After (4 s) has passed");
}

static int csr_key_not_account_key(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-http01", &r);
  acmeh_key *acct = NULL;
  size_t i;
  acmeh_kit_exchange e;
  int seen = 0;
  ACMEH_KIT_EACH(r, i, e) {
    const json_t *jwk = json_object_get(e.protected_hdr, "jwk");
    if (!acct && acmeh_kit_is(&e, "POST", "newAccount") && jwk) acmeh_key_from_jwk(jwk, &acct);
    if (rc || !acct || !acmeh_kit_is(&e, "POST", "finalize") || !e.payload) continue;
    json_t *p = acmeh_kit_payload_json(&e);
    X509_REQ *req = NULL;
    if (member(p, "csr") && acmeh_csr_parse(member(p, "csr"), &req) == ACMEH_OK &&
        EVP_PKEY_eq(X509_REQ_get0_pubkey(req), acmeh_key_pkey(acct)) == 1)
      rc = acmeh_check_fail(ctx, "a CSR key other than the account key", "request #%lld asks a certificate for the account key", e.seq);
    seen = 1;
    X509_REQ_free(req);
    json_decref(p);
  }
  acmeh_key_free(acct);
  if (rc == ACMEH_OK && !seen) rc = acmeh_kit_unreached(ctx, r, "a finalize request with a CSR", "the client never finalized");
  return rc;
}

/* Validation through `scenario`'s challenge type succeeded. */
static int validated_in(acmeh_check_ctx *ctx, const char *scenario, const char *expected) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, scenario, &r);
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (validation_seen(&e)) return rc;
  return rc ? rc : acmeh_check_fail(ctx, expected, "no challenge, authorization or order of the client got past validation");
}

static int dns01_validated(acmeh_check_ctx *ctx) {
  return validated_in(ctx, "plain-dns01", "the TXT record base64url(SHA-256(keyAuthorization)) at _acme-challenge.<name>");
}

static int tlsalpn01_validated(acmeh_check_ctx *ctx) {
  return validated_in(ctx, "plain-tlsalpn01", "a validation certificate with one SAN and the critical acmeIdentifier digest");
}

/* The client's own output mentions `needle` (what the server told it). */
static int surfaced(acmeh_check_ctx *ctx, const char *scenario, const char *needle, const char *what) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, scenario, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, scenario[0] == 'u' ? "newAccount" : "newOrder");
  if (rc == ACMEH_OK && (!r->client_log || !strstr(r->client_log, needle)))
    rc = acmeh_check_fail(ctx, what, "the client's output (%zu bytes) never mentions \"%s\"", r->client_log ? strlen(r->client_log) : 0, needle);
  return rc;
}

static int detail_surfaced(acmeh_check_ctx *ctx) {
  return surfaced(ctx, "rejected-identifier", "acme-harness-refusal-7f3a", "the problem's detail shown to the user");
}

static int user_action_surfaced(acmeh_check_ctx *ctx) {
  return surfaced(ctx, "user-action-required", "acme-harness-terms-7f3a", "userActionRequired and its detail shown to the user");
}

/* After the scenario's faulted newOrder (Retry-After: 2), no newOrder comes sooner. */
static int retry_after_kept(acmeh_check_ctx *ctx, const char *scenario, const char *expected) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, scenario, &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  long long refused_at = -1;
  size_t i;
  acmeh_kit_exchange e;
  int retried = 0;
  ACMEH_KIT_EACH(r, i, e) {
    long long t = e.time_ms;
    if (refused_at < 0 && json_array_size(e.faults)) refused_at = t;
    else if (refused_at >= 0 && acmeh_kit_is(&e, "POST", "newOrder")) {
      retried = 1;
      if (rc == ACMEH_OK && t - refused_at < 1900)
        rc = acmeh_check_fail(ctx, expected, "request #%lld retried after %lld ms", e.seq, t - refused_at);
    }
  }
  /* A client that never tries again waited forever: nothing about waiting was exercised. */
  if (rc == ACMEH_OK && !retried)
    rc = acmeh_check_skip(ctx, "the client did not send the refused newOrder again (exit %d), so its waiting was not exercised", r->exit_status);
  return rc;
}

static int rate_limit_respected(acmeh_check_ctx *ctx) {
  return retry_after_kept(ctx, "rate-limited-once", "no retry of a rateLimited request before its Retry-After (2 s)");
}

static int busy_respected(acmeh_check_ctx *ctx) {
  return retry_after_kept(ctx, "server-busy", "no retry of a 503 answer before its Retry-After (2 s)");
}

/* A mailto contact with hfields ("?") or several addresses (","). */
static const char *bad_mailto(const json_t *contacts) {
  size_t i;
  json_t *c;
  json_array_foreach(contacts, i, c) {
    const char *v = json_string_value(c);
    if (v && strncasecmp(v, "mailto:", 7) == 0 && strpbrk(v + 7, "?,")) return v;
  }
  return NULL;
}

static int contacts_ok(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-http01", &r);
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && (acmeh_kit_is(&e, "POST", "newAccount") || acmeh_kit_is(&e, "POST", "account")) && e.payload) {
    json_t *p = acmeh_kit_payload_json(&e);
    const char *bad = bad_mailto(json_object_get(p, "contact"));
    if (bad) rc = acmeh_check_fail(ctx, "mailto contacts with one address and no hfields", "request #%lld sends \"%.120s\"", e.seq, bad);
    json_decref(p);
  }
  return rc;
}

/* http-01 tokens the client was given (from the authorizations it fetched). */
static json_t *http01_tokens(const acmeh_client_run *r) {
  json_t *tokens = json_object(), *ch;
  acmeh_kit_exchange e;
  size_t i, k;
  ACMEH_KIT_EACH(r, i, e) if (acmeh_kit_is(&e, "POST", "authz")) {
    json_t *b = acmeh_kit_resp_json(&e);
    json_array_foreach(json_object_get(b, "challenges"), k, ch)
      if (member(ch, "token") && !strcmp(member(ch, "type") ? member(ch, "type") : "", "http-01"))
        json_object_set_new(tokens, member(ch, "token"), json_true());
    json_decref(b);
  }
  return tokens;
}

static int cleaned_up_in(acmeh_check_ctx *ctx, const char *scenario) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, scenario, &r);
  json_t *tokens = rc ? NULL : http01_tokens(r);
  const char *token;
  json_t *v;
  acmeh_http_config hc = {.request_timeout_ms = 3000, .transcript = &ctx->transcript};
  acmeh_http *h = NULL;
  if (rc == ACMEH_OK) rc = acmeh_http_new(&hc, &h);
  json_object_foreach(tokens, token, v) {
    char url[600];
    acmeh_http_resp resp = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/.well-known/acme-challenge/%s", acmeh_mocks_http01_port(ctx->env->mocks), token);
    int got = rc == ACMEH_OK ? acmeh_http_request(h, "GET", url, NULL, NULL, 0, NULL, &resp, ctx->err, sizeof ctx->err) : -1;
    if (got == ACMEH_OK && resp.status == 200)
      rc = acmeh_check_fail(ctx, "the http-01 resource removed once the challenge is over (SHOULD)",
                            "the mocks still serve token %.43s after the client finished", token);
    acmeh_http_resp_free(&resp);
  }
  acmeh_http_free(h);
  json_decref(tokens);
  return rc;
}

static int http01_cleaned_up(acmeh_check_ctx *ctx) { return cleaned_up_in(ctx, "plain-http01"); }

/* dns-01's half of CORE-C28: after the run, the mock DNS (what a validating
 * CA would ask) has no TXT left at _acme-challenge.<name> for the names the
 * client ordered (a wildcard's record sits at its base name). */
static int dns01_cleaned_up(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "plain-dns01", &r);
  json_t *names = rc ? NULL : ordered_names(r), *v;
  size_t i;
  if (rc == ACMEH_OK && !json_array_size(names)) rc = acmeh_check_fail(ctx, "a newOrder naming identifiers", "the client sent none");
  json_array_foreach(names, i, v) {
    const char *name = json_string_value(v);
    if (rc != ACMEH_OK || !name) break;
    char host[300], *answers = NULL;
    int rcode = 0;
    snprintf(host, sizeof host, "_acme-challenge.%s", strncmp(name, "*.", 2) == 0 ? name + 2 : name);
    rc = acmeh_dns_query("127.0.0.1", acmeh_mocks_dns_port(ctx->env->mocks), host, "TXT", 3000, &rcode, &answers, ctx->err,
                         sizeof ctx->err);
    if (rc == ACMEH_OK && answers && *answers)
      rc = acmeh_check_fail(ctx, "the dns-01 TXT record removed once the challenge is over (SHOULD)",
                            "the mock DNS still answers TXT %.120s at %s after the client finished", answers, host);
    free(answers);
  }
  json_decref(names);
  return rc;
}

/* ---- CORE-C17: the External Account Binding a client builds (§7.3.4) ---- */

typedef struct {
  const char *kid, *key_b64; /* what the scenario's CA gave the client */
  const acmeh_kit_exchange *outer; /* the newAccount exchange */
  acmeh_jws_parsed jws;      /* its binding, parsed */
} eab_view;

/* The binding's protected header against §7.3.4: NULL when fine, else what was
 * expected, with what arrived in `got`. */
static const char *eab_header_problem(const eab_view *e, char *got, size_t len) {
  const json_t *h = e->jws.protected_hdr;
  const char *alg = member(h, "alg"), *kid = member(h, "kid"), *url = member(h, "url");
  const char *outer_url = member(e->outer->protected_hdr, "url");
  if (!alg || (strcmp(alg, "HS256") && strcmp(alg, "HS384") && strcmp(alg, "HS512")))
    return snprintf(got, len, "alg %.40s", alg ? alg : "(none)"), "the binding's alg a MAC algorithm (HS256, HS384, HS512)";
  if (!kid || strcmp(kid, e->kid))
    return snprintf(got, len, "kid %.120s", kid ? kid : "(none)"), "the binding's kid the key identifier the CA gave (EAB_KID)";
  if (json_object_get(h, "nonce")) return snprintf(got, len, "a nonce"), "no nonce in the binding's protected header";
  if (!url || !outer_url || strcmp(url, outer_url))
    return snprintf(got, len, "url %.200s, the outer url %.200s", url ? url : "(none)", outer_url ? outer_url : "(none)"),
           "the binding's url equal to the outer JWS url";
  return NULL;
}

/* The payload is the account key of the outer JWS: the same JWK (§7.3.4 "identical"). */
static int eab_payload_is_outer_jwk(const eab_view *e) {
  json_t *p = json_loadb((const char *)e->jws.payload, e->jws.payload_len, 0, NULL);
  int same = json_is_object(p) && json_equal(p, json_object_get(e->outer->protected_hdr, "jwk"));
  json_decref(p);
  return same;
}

/* The MAC, with the key decoded from base64url; a MAC made over the key's
 * text instead (a common slip) is named as such. */
static int eab_mac_check(acmeh_check_ctx *ctx, const eab_view *e) {
  unsigned char *key = NULL;
  size_t len = 0;
  int ok = acmeh_b64url_decode(e->key_b64, strlen(e->key_b64), &key, &len) == ACMEH_OK &&
           acmeh_jws_verify_hmac(&e->jws, key, len) == ACMEH_OK;
  free(key);
  if (ok) return ACMEH_OK;
  int raw = acmeh_jws_verify_hmac(&e->jws, (const unsigned char *)e->key_b64, strlen(e->key_b64)) == ACMEH_OK;
  return acmeh_check_fail(ctx, "the binding's MAC made with the HMAC key decoded from base64url (EAB_HMAC_KEY)",
                          "request #%lld's MAC does not verify%s", e->outer->seq,
                          raw ? ": it verifies with the key's base64url text taken as the key bytes" : "");
}

/* Judges one newAccount's binding `b`. */
static int eab_judge(acmeh_check_ctx *ctx, eab_view *e, const json_t *b) {
  char *text = json_is_object(b) ? json_dumps(b, JSON_COMPACT) : NULL, why[200] = "", got[500];
  int rc = text && acmeh_jws_parse(text, strlen(text), &e->jws, why, sizeof why) == ACMEH_OK
               ? ACMEH_OK
               : acmeh_check_fail(ctx, "externalAccountBinding as a flattened JWS", "request #%lld: %s", e->outer->seq,
                                  json_is_object(b) ? why : "not a JSON object");
  free(text);
  const char *want = rc ? NULL : eab_header_problem(e, got, sizeof got);
  if (want) rc = acmeh_check_fail(ctx, want, "request #%lld's binding has %s", e->outer->seq, got);
  if (rc == ACMEH_OK && !eab_payload_is_outer_jwk(e))
    rc = acmeh_check_fail(ctx, "the binding's payload the account's public JWK (the outer jwk)", "request #%lld's payload %.200s",
                          e->outer->seq, e->jws.payload ? (const char *)e->jws.payload : "(none)");
  if (rc == ACMEH_OK) rc = eab_mac_check(ctx, e);
  acmeh_jws_parsed_free(&e->jws);
  memset(&e->jws, 0, sizeof e->jws);
  return rc;
}

static int eab_binding_ok(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "eab-issue", &r);
  const json_t *eab = json_object_get(json_object_get(rc ? NULL : r->def, "server"), "eab");
  eab_view e = {.kid = member(eab, "kid"), .key_b64 = member(eab, "key")};
  if (rc == ACMEH_OK && (!e.kid || !e.key_b64))
    return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "scenario eab-issue has no server.eab kid and key");
  size_t i, bindings = 0, accounts = 0;
  acmeh_kit_exchange ex;
  ACMEH_KIT_EACH(r, i, ex) if (rc == ACMEH_OK && acmeh_kit_is(&ex, "POST", "newAccount") && ex.payload) {
    json_t *p = acmeh_kit_payload_json(&ex);
    const json_t *b = json_object_get(p, "externalAccountBinding");
    accounts++;
    e.outer = &ex;
    if (b) bindings++, rc = eab_judge(ctx, &e, b);
    json_decref(p);
  }
  if (rc == ACMEH_OK && !bindings)
    rc = acmeh_check_skip(ctx, "the client did not use External Account Binding: %zu newAccount request(s), none with externalAccountBinding",
                          accounts);
  return rc;
}

/* ---- CORE-C27: nothing POSTed before its record is in place (§8.2) ---- */

/* The seq of the client's challenge response to `url` (a POST with a
 * non-empty payload), -1 when there is none. */
static long long challenge_post(const acmeh_client_run *r, const char *url) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (acmeh_kit_is(&e, "POST", "challenge") && e.payload && *e.payload && url && !strcmp(e.url, url)) return e.seq;
  return -1;
}

/* What "in place" means for one challenge type, for the message. */
static const char *in_place_wanted(const char *type) {
  if (!strcmp(type, "dns-01")) return "the dns-01 TXT record answerable at _acme-challenge.<name> when the challenge POST arrives (SHOULD NOT POST before)";
  if (!strcmp(type, "http-01")) return "the keyAuthorization served at /.well-known/acme-challenge/<token> when the challenge POST arrives (SHOULD NOT POST before)";
  return "the challenge's response in place when the challenge POST arrives (SHOULD NOT POST before)";
}

/* Judges scenario's validations: the server starts its one lookup as the
 * challenge response arrives (server.h, acmeh_server_validation_observer), so
 * a failed lookup is what a CA polling at once would have found. *judged
 * counts the validations that ran to an outcome. */
static int published_before_post_in(acmeh_check_ctx *ctx, const char *scenario, size_t *judged) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, scenario, &r);
  size_t i;
  acmeh_kit_validation v;
  ACMEH_KIT_EACH_VALIDATION(rc ? NULL : r, i, v) {
    const char *url = v.challenge, *type = v.type;
    if (rc != ACMEH_OK || !v.status || !strcmp(v.status, "cancelled")) continue; /* the server stopped first: no outcome */
    (*judged)++;
    if (strcmp(v.status, "invalid") != 0) continue;
    rc = acmeh_check_fail(ctx, in_place_wanted(type ? type : ""),
                          "request #%lld POSTed %s at %lld ms, and the %s lookup of %s the server started then (at %lld ms) found: %s",
                          challenge_post(r, url), url ? url : "?", v.arrived_ms, type ? type : "?", v.identifier ? v.identifier : "?",
                          v.started_ms, v.error_detail ? v.error_detail : "an error without detail");
  }
  return rc;
}

/* CORE-C27 in the http-01 scenario and, for a client that answers dns-01,
 * the dns-01 one: the two ways a record comes to be in place. */
static int published_before_post(acmeh_check_ctx *ctx) {
  size_t judged = 0;
  int rc = published_before_post_in(ctx, "plain-http01", &judged);
  if (rc == ACMEH_OK && client_answers(ctx, "dns-01")) rc = published_before_post_in(ctx, "plain-dns01", &judged);
  if (rc == ACMEH_OK && !judged)
    rc = acmeh_check_skip(ctx, "no challenge POST of the client started a validation (it sent no challenge response to a pending challenge)");
  return rc;
}

/* ---- CORE-C20: no reliance on the order of the order's arrays (§7.4) ----
 * Scenario reordered-authzs returns every order object with identifiers and
 * authorizations rotated, two different ways, away from the request's order.
 * Its challenge is dns-01, where answering for the wrong identifier shows: the
 * TXT record lands at another name than the one the server looks up. */

/* The authorization URLs of the client's first order, as the server listed them (new reference). */
static json_t *order_authzs(const acmeh_client_run *r) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (acmeh_kit_is(&e, "POST", "newOrder") && e.status == 201) {
    json_t *b = acmeh_kit_resp_json(&e);
    json_t *a = json_incref(json_object_get(b, "authorizations"));
    json_decref(b);
    return a;
  }
  return NULL;
}

/* 1 when the client answered authorization `url` (POSTed a response to one of
 * its challenges) or saw it valid; *ident gets its identifier from the
 * client's fetches of it. */
static int authz_answered(const acmeh_client_run *r, const char *url, char *ident, size_t len) {
  size_t i, k;
  acmeh_kit_exchange e;
  json_t *ch;
  int answered = 0;
  ACMEH_KIT_EACH(r, i, e) if (url && acmeh_kit_is(&e, "POST", "authz") && !strcmp(e.url ? e.url : "", url)) {
    json_t *b = acmeh_kit_resp_json(&e);
    const char *id = member(json_object_get(b, "identifier"), "value");
    if (id) snprintf(ident, len, "%s", id);
    answered |= !strcmp(member(b, "status") ? member(b, "status") : "", "valid");
    json_array_foreach(json_object_get(b, "challenges"), k, ch) answered |= challenge_post(r, member(ch, "url")) >= 0;
    json_decref(b);
  }
  return answered;
}

/* No validation failed: a failure here is a response published for another identifier. */
static int reordered_validations_ok(acmeh_check_ctx *ctx, const acmeh_client_run *r) {
  size_t i;
  acmeh_kit_validation v;
  ACMEH_KIT_EACH_VALIDATION(r, i, v) if (!strcmp(v.status ? v.status : "", "invalid")) {
    return acmeh_check_fail(ctx, "each authorization's challenge answered for that authorization's own identifier, whatever the order of the order's arrays",
                            "the %s validation of %s (challenge %s, POSTed by request #%lld) failed: %s", v.type ? v.type : "?",
                            v.identifier ? v.identifier : "?", v.challenge ? v.challenge : "?", challenge_post(r, v.challenge),
                            v.error_detail ? v.error_detail : "an error without detail");
  }
  return ACMEH_OK;
}

static int reordered_authzs_answered(acmeh_check_ctx *ctx, const acmeh_client_run *r) {
  json_t *authzs = order_authzs(r), *a;
  size_t i;
  int rc = ACMEH_OK;
  json_array_foreach(authzs, i, a) {
    char ident[300] = "identifier unknown: never fetched";
    if (rc == ACMEH_OK && !authz_answered(r, json_string_value(a), ident, sizeof ident))
      rc = acmeh_check_fail(ctx, "every authorization of the order answered, in whatever order the order lists them",
                            "authorization %zu of %zu, %s (%s), got no challenge response (client exit %d)", i + 1, json_array_size(authzs),
                            json_string_value(a) ? json_string_value(a) : "?", ident, r->exit_status);
  }
  json_decref(authzs);
  return rc;
}

/* The order finalized with a CSR for exactly the ordered names, and its certificate downloaded. */
static int reordered_issued(acmeh_check_ctx *ctx, const acmeh_client_run *r, const json_t *want) {
  size_t i;
  acmeh_kit_exchange e;
  int rc = ACMEH_OK, finalized = 0, downloaded = 0;
  ACMEH_KIT_EACH(r, i, e) {
    if (rc == ACMEH_OK && !finalized && acmeh_kit_is(&e, "POST", "finalize") && e.payload) {
      json_t *p = acmeh_kit_payload_json(&e);
      rc = csr_names_match(ctx, member(p, "csr"), want, e.seq);
      finalized = 1;
      json_decref(p);
    }
    downloaded |= acmeh_kit_is(&e, "POST", "certificate") && e.status == 200;
  }
  if (rc == ACMEH_OK && !finalized)
    rc = acmeh_check_fail(ctx, "the order finalized once its authorizations were valid", "the client never finalized (exit %d)", r->exit_status);
  if (rc == ACMEH_OK && !downloaded)
    rc = acmeh_check_fail(ctx, "the certificate downloaded", "the client finalized but never fetched the certificate (exit %d)", r->exit_status);
  return rc;
}

/* CORE-C20: the reordered order of several names still ends in a certificate,
 * each authorization answered for its own identifier. */
static int order_unassumed(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "reordered-authzs", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "newOrder");
  json_t *want = rc ? NULL : ordered_names(r);
  if (rc == ACMEH_OK && json_array_size(want) < 2)
    rc = acmeh_check_skip(ctx, "the client ordered %zu name(s) when asked for %s: it does not order several names in one run",
                          json_array_size(want), r->domains ? r->domains : "several");
  if (rc == ACMEH_OK) rc = reordered_validations_ok(ctx, r);
  if (rc == ACMEH_OK) rc = reordered_authzs_answered(ctx, r);
  if (rc == ACMEH_OK) rc = reordered_issued(ctx, r, want);
  json_decref(want);
  return rc;
}

/* ---- CORE-C32: a chain holding a PRIVATE KEY block is rejected (§11.4) ----
 * Scenario key-in-chain appends a PRIVATE KEY block to every certificate
 * download. "Rejected", for a client run as a command, is judged where the
 * target file says the issued chain is installed (cert_path): a client that
 * refuses the download (no file there) or keeps only its CERTIFICATE blocks
 * passes, whatever its exit status; one that installs the server's key block
 * there fails, whatever its exit status. */

/* The first base64 line of the block the scenario's fault appends (new
 * string), which names that block wherever a client copied it. */
static char *injected_line(const json_t *def) {
  const json_t *action = json_object_get(json_array_get(json_object_get(def, "faults"), 0), "action");
  const char *t = member(action, "append_body");
  const char *nl = t ? strchr(t, '\n') : NULL;
  size_t len = nl ? strcspn(nl + 1, "\r\n") : 0;
  return len ? strndup(nl + 1, len) : NULL;
}

static int key_in_chain_rejected(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "key-in-chain", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "certificate");
  char *line = rc ? NULL : injected_line(r->def);
  if (rc == ACMEH_OK && !line) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "scenario key-in-chain appends no PEM block");
  if (rc == ACMEH_OK && r->cert_pem && strstr(r->cert_pem, line))
    rc = acmeh_check_fail(ctx, "a certificate chain holding a PRIVATE KEY block rejected, not installed",
                          "the client (exit %d) installed it: the file at its cert_path (%zu bytes) holds the server's PRIVATE KEY block",
                          r->exit_status, strlen(r->cert_pem));
  else if (rc == ACMEH_OK)
    acmeh_check_note(ctx, "client exit %d; %s", r->exit_status,
                     r->cert_pem ? "its cert_path file holds no block of the server's key" : "nothing at its cert_path");
  free(line);
  return rc;
}

/* ---- CORE-C30: a token that is not base64url is refused (§8.3, MUST) ----
 * Scenario bad-token-http01 gives every http-01 challenge the token
 * "acmeh-c030.not+base64url" ('.' and '+' are outside base64url; no '/' or
 * "..", which would make a file-writing client fail for a missing folder, or
 * be removed by HTTP path normalisation, and so hide that the client took
 * the token) and the reference server validates that token as given. A client serving it, from memory (lego's listener) or through
 * its hook into the mocks, makes the validation succeed: that is the
 * failure. The mocks and `acme-harness hook` take any token on purpose, so
 * what the client decided is what shows, not a refusal of the harness's own.
 * A hook client that published it without POSTing the challenge is caught
 * by the mocks still serving it after the run. */

/* The token the scenario's server hands out (scenarios.json). */
static const char *bad_token(const acmeh_client_run *r) {
  return member(json_object_get(r->def, "server"), "http01_token");
}

/* 1 when the client fetched an authorization carrying `token`: it was offered the bad token. */
static int token_offered(const acmeh_client_run *r, const char *token) {
  json_t *tokens = http01_tokens(r);
  int seen = json_object_get(tokens, token) != NULL;
  json_decref(tokens);
  return seen;
}

/* The mocks still serve `token` after the run (a hook published it and left it). */
static int mocks_serve(acmeh_check_ctx *ctx, const char *token) {
  char url[600];
  acmeh_http_config hc = {.request_timeout_ms = 3000, .transcript = &ctx->transcript};
  acmeh_http *h = NULL;
  acmeh_http_resp resp = {0};
  snprintf(url, sizeof url, "http://127.0.0.1:%d/.well-known/acme-challenge/%s", acmeh_mocks_http01_port(ctx->env->mocks), token);
  int served = acmeh_http_new(&hc, &h) == ACMEH_OK && acmeh_http_request(h, "GET", url, NULL, NULL, 0, NULL, &resp, ctx->err, sizeof ctx->err) == ACMEH_OK &&
               resp.status == 200;
  acmeh_http_resp_free(&resp);
  acmeh_http_free(h);
  return served;
}

static int bad_token_refused(acmeh_check_ctx *ctx) {
  static const char *const want = "an http-01 token that is not base64url refused: no response served or published for it";
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "bad-token-http01", &r);
  const char *token = rc ? NULL : bad_token(r);
  if (rc == ACMEH_OK && !token) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "scenario bad-token-http01 has no server.http01_token");
  if (rc == ACMEH_OK && !token_offered(r, token))
    return acmeh_check_fail(ctx, "the client fetching its authorization (which carries the non-base64url token)",
                            "no authorization fetch of the client returned it (client exit %d)", r->exit_status);
  size_t i, started = 0;
  acmeh_kit_validation v;
  const char *other = NULL; /* a validation that failed for another reason than "nothing served there" */
  ACMEH_KIT_EACH_VALIDATION(rc ? NULL : r, i, v) {
    started++;
    if (rc == ACMEH_OK && !strcmp(v.status ? v.status : "", "valid"))
      rc = acmeh_check_fail(ctx, want, "the client served the key authorization at /.well-known/acme-challenge/%s: the validation its request #%lld started succeeded",
                            token, challenge_post(r, v.challenge));
    else if (rc == ACMEH_OK && v.error_detail && strstr(v.error_detail, " served \""))
      rc = acmeh_check_fail(ctx, want, "the client served a response at the token's path (the validation its request #%lld started found: %.200s)",
                            challenge_post(r, v.challenge), v.error_detail);
    else if (!other && v.error_detail && !strstr(v.error_detail, "answered HTTP 404") && !strstr(v.error_detail, "failed:"))
      other = v.error_detail;
  }
  if (rc == ACMEH_OK && mocks_serve(ctx, token))
    rc = acmeh_check_fail(ctx, want, "the client published it through its hook: the mocks still serve /.well-known/acme-challenge/%s after the run", token);
  /* A validation that failed for another reason than "nothing there" (a
   * redirect, a time-out, a DNS failure) says nothing about whether the
   * client would serve this token: the rule was not exercised. */
  if (rc == ACMEH_OK && other)
    rc = acmeh_check_skip(ctx, "a validation the client started failed for another reason (%.200s): whether it refuses the token is unknown", other);
  if (rc == ACMEH_OK)
    acmeh_check_note(ctx, "client exit %d; %zu validation(s) started, none found token %s served", r->exit_status, started, token);
  return rc;
}

static int cleaned_up_after_refusal(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "challenge-refused", &r);
  if (rc == ACMEH_OK) rc = acmeh_kit_fault_fired(ctx, r, "challenge");
  return rc ? rc : cleaned_up_in(ctx, "challenge-refused");
}

static int revoke_format(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "issue-revoke", &r);
  size_t i;
  acmeh_kit_exchange e;
  int seen = 0;
  ACMEH_KIT_EACH(r, i, e) if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "revokeCert") && e.payload) {
    json_t *p = acmeh_kit_payload_json(&e), *reason = json_object_get(p, "reason");
    const char *cert = member(p, "certificate");
    unsigned char *der = NULL;
    size_t len = 0;
    const unsigned char *q;
    X509 *c = cert && acmeh_b64url_decode(cert, strlen(cert), &der, &len) == ACMEH_OK ? (q = der, d2i_X509(NULL, &q, (long)len)) : NULL;
    if (!c) rc = acmeh_check_fail(ctx, "certificate = base64url of the DER certificate", "request #%lld sends %.60s", e.seq, cert ? cert : "none");
    else if (reason && !json_is_integer(reason))
      rc = acmeh_check_fail(ctx, "reason as an integer CRLReason code", "request #%lld sends a reason of another JSON type", e.seq);
    X509_free(c);
    free(der);
    json_decref(p);
    seen = 1;
  }
  if (rc == ACMEH_OK && !seen) rc = acmeh_check_fail(ctx, "a revokeCert request", "the client's revoke action sent none");
  return rc;
}

static int skips_valid_authz(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "issue-twice", &r);
  json_t *valid_chals = json_object(), *ch;
  acmeh_kit_exchange e;
  size_t i, k;
  ACMEH_KIT_EACH(r, i, e) {
    json_t *b = acmeh_kit_is(&e, "POST", "authz") ? acmeh_kit_resp_json(&e) : NULL;
    if (b && !strcmp(member(b, "status") ? member(b, "status") : "", "valid"))
      json_array_foreach(json_object_get(b, "challenges"), k, ch) if (member(ch, "url")) json_object_set_new(valid_chals, member(ch, "url"), json_true());
    json_decref(b);
    if (rc == ACMEH_OK && acmeh_kit_is(&e, "POST", "challenge") && e.payload && *e.payload && json_object_get(valid_chals, e.url))
      rc = acmeh_check_fail(ctx, "no challenge answered again for an authorization already valid (SHOULD)",
                            "request #%lld answers %s of a valid authorization", e.seq, e.path);
  }
  if (rc == ACMEH_OK && !json_object_size(valid_chals))
    rc = acmeh_check_skip(ctx, "the client never saw an already valid authorization (did it run twice?)");
  json_decref(valid_chals);
  return rc;
}

/* Adds e's account identity (the newAccount jwk, or the kid) to seen; returns the key. */
static void note_account(json_t *seen, const acmeh_kit_exchange *e) {
  const json_t *jwk = json_object_get(e->protected_hdr, "jwk");
  const char *kid = member(e->protected_hdr, "kid");
  char *id = jwk && acmeh_kit_is(e, "POST", "newAccount") ? json_dumps(jwk, JSON_SORT_KEYS | JSON_COMPACT) : kid ? strdup(kid) : NULL;
  if (id && !json_object_get(seen, id)) json_object_set_new(seen, id, json_integer(e->seq));
  free(id);
}

/* A client run again with its state keeps its account (RFC 8555 §7.3.1: a
 * fresh key each run leaves one orphaned account per run at the CA). */
static int account_reused(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  int rc = acmeh_kit_record(ctx, "issue-twice", &r);
  json_t *keys = json_object(), *kids = json_object();
  acmeh_kit_exchange e;
  size_t i, orders = 0;
  ACMEH_KIT_EACH(r, i, e) {
    orders += acmeh_kit_is(&e, "POST", "newOrder");
    note_account(json_object_get(e.protected_hdr, "jwk") ? keys : kids, &e);
  }
  if (rc == ACMEH_OK && orders < 2)
    rc = acmeh_check_skip(ctx, "the client did not order again in its second run");
  else if (rc == ACMEH_OK && (json_object_size(keys) > 1 || json_object_size(kids) > 1))
    rc = acmeh_check_fail(ctx, "the second run signs with the first run's account (same key and kid)",
                          "%zu account keys at newAccount and %zu kids over the two runs", json_object_size(keys),
                          json_object_size(kids));
  json_decref(keys), json_decref(kids);
  return rc;
}

const acmeh_check_impl core_client_checks[] = {
    {"CORE-C-022", skips_valid_authz}, {"CORE-C-039", account_reused}, {"CORE-C-026", cleaned_up_after_refusal}, {"CORE-C-034", revoke_format},
    {"CORE-C-019", csr_key_not_account_key}, {"CORE-C-031", dns01_validated}, {"CORE-C-033", detail_surfaced},
    {"CORE-C-036", rate_limit_respected},   {"CORE-C-037", user_action_surfaced}, {"CORE-C-101", tlsalpn01_validated},
    {"CORE-C-015", contacts_ok},           {"CORE-C-028", http01_cleaned_up},    {"CORE-C-038", busy_respected},
    {"CORE-C-040", dns01_cleaned_up},      {"CORE-C-027", published_before_post},
    {"CORE-C-017", eab_binding_ok},    {"CORE-C-020", order_unassumed},
    {"CORE-C-032", key_in_chain_rejected}, {"CORE-C-030", bad_token_refused},
{"CORE-C-001", user_agent},        {"CORE-C-002", accept_language},   {"CORE-C-003", post_format},
    {"CORE-C-004", protected_members}, {"CORE-C-005", kid_is_location},   {"CORE-C-006", url_is_request_url},
    {"CORE-C-007", no_padding},        {"CORE-C-008", post_as_get},       {"CORE-C-009", nonce_once},
    {"CORE-C-041", odd_retry_after_honoured}, {"CORE-C-010", bad_nonce_retry},   {"CORE-C-011", malformed_nonce_ignored}, {"CORE-C-012", no_nonce_header},
    {"CORE-C-013", nonce_by_head},     {"CORE-C-023", csr_format},        {"CORE-C-024", retry_after_honoured},
    {"CORE-C-025", challenge_response}, {"CORE-C-029", validated},        {"CORE-C-035", bad_nonce_retried},
    {NULL, NULL}};
