/* DNSUP-C-*: the client under test publishes its dns-01 TXT record by TSIG-
 * signed DNS UPDATE to the mock DNS (digest dns-update.md §5, §7 client
 * side); judged from the mock's UPDATE journal and the reference server's
 * exchanges of the dnsup-* scenarios (suites/dnsupdate/scenarios.json). */
#include "suites/dnsupdate/client.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/acme/challenge.h"
#include "harness/acme/jwk.h"
#include "base/error.h"
#include "harness/kit/record.h"
#include "harness/runner/scenario.h"
#include "mocks/dns/tsig.h"

#define MAX_SHORT_TTL 300 /* our recommendation: a validation record should not be cached for long */

/* ---- scenario set-up (the suite's scenario hooks, suite.c) ---- */

static const char *field0(const json_t *x, const char *k) { return json_string_value(json_object_get(x, k)); }
static const char *zone_of(const char *domain) { return strncmp(domain, "*.", 2) == 0 ? domain + 2 : domain; }

json_t *dnsupdate_scenario_begin(const acmeh_scenario_hook_args *a) {
  acmeh_mocks *m = a->mocks;
  acmeh_vars *v = a->vars;
  const char *domain = a->domain;
  const json_t *du = json_object_get(a->def, "dns_update");
  if (!du || !domain) return NULL;
  const char *zone = zone_of(domain), *alg = json_string_value(json_object_get(du, "algorithm"));
  char key[300], owner[300], seed[300], secret[64], err[256] = "";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  snprintf(key, sizeof key, "tsig-key.%s.", zone);
  snprintf(owner, sizeof owner, "_acme-challenge.%s", zone);
  snprintf(seed, sizeof seed, "acme-harness dns-update key for %s", zone); /* zone follows the run seed */
  SHA256((const unsigned char *)seed, strlen(seed), digest);
  EVP_EncodeBlock((unsigned char *)secret, digest, sizeof digest);
  json_t *policy = json_object_get(du, "policy") ? json_incref(json_object_get(du, "policy"))
                                                 : json_pack("[{s:s, s:[s]}]", "name", owner, "types", "TXT");
  json_t *k = json_pack("{s:s, s:s, s:s, s:o, s:I}", "name", key, "algorithm", alg ? alg : "hmac-sha256", "secret",
                        secret, "policy", policy, "skew_s", json_integer_value(json_object_get(du, "skew_s")));
  if (acmeh_mocks_add_zone(m, zone) != ACMEH_OK || !k || acmeh_mocks_add_tsig_key(m, k, err, sizeof err) != ACMEH_OK)
    snprintf(err + strlen(err), sizeof err - strlen(err), " (mock refused zone %s or its key)", zone);
  json_decref(k);
  acmeh_vars_set(v, "DNS_UPDATE_SERVER", "127.0.0.1");
  acmeh_vars_set_int(v, "DNS_UPDATE_PORT", acmeh_mocks_dns_port(m));
  acmeh_vars_set(v, "DNS_UPDATE_ZONE", zone);
  acmeh_vars_set(v, "DNS_UPDATE_KEY_NAME", key);
  acmeh_vars_set(v, "DNS_UPDATE_KEY_SECRET", secret);
  acmeh_vars_set(v, "DNS_UPDATE_KEY_ALGORITHM", alg ? alg : "hmac-sha256");
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return json_pack("{s:s, s:s, s:I, s:s}", "zone", zone, "key", key, "t0_ms",
                   (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, "setup_error", err);
}

json_t *dnsupdate_scenario_end(const acmeh_scenario_hook_args *a, json_t *state) {
  acmeh_mocks *m = a->mocks;
  if (!state) return NULL;
  json_t *entries = acmeh_mocks_dns_update_journal(m, field0(state, "zone"));
  json_object_set_new(state, "entries", entries ? entries : json_array());
  acmeh_mocks_del_tsig_key(m, field0(state, "key"));
  acmeh_mocks_del_zone(m, field0(state, "zone"));
  return state;
}

/* ---- the checks' view ---- */

static const char *field(const json_t *x, const char *k) { return json_string_value(json_object_get(x, k)); }
static long long num(const json_t *x, const char *k) { return json_integer_value(json_object_get(x, k)); }
#define EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(log, "entries"), i, e)

/* One line per journal entry in the transcript. */
static void transcribe(acmeh_check_ctx *ctx, const json_t *log) {
  size_t i, j;
  json_t *e, *u;
  acmeh_check_note(ctx, "DNS UPDATE journal of zone %s (%zu messages):", field(log, "zone"),
                   json_array_size(json_object_get(log, "entries")));
  EACH_UPDATE(log, i, e) {
    acmeh_check_note(ctx, "  #%zu %s %s id %lld from %s key %s time %lld: %s %s %s", i, field(e, "opcode"), field(e, "proto"), num(e, "id"),
                     field(e, "source"), field(e, "key") ? field(e, "key") : "(unsigned)", num(e, "time_signed"),
                     field(e, "verdict"), field(e, "rcode"), field(e, "reason") ? field(e, "reason") : "");
    json_array_foreach(json_object_get(e, "updates"), j, u)
        acmeh_check_note(ctx, "     %s %s %s %s ttl %lld %s", field(u, "op"), field(u, "name"), field(u, "class"),
                         field(u, "type"), num(u, "ttl"), field(u, "value") ? field(u, "value") : "");
  }
}

/* The scenario's run and its journal; skips when the client sent no UPDATE. */
static int journal(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r, const json_t **log) {
  int rc = acmeh_scenario_get(ctx, scenario, r);
  if (rc != ACMEH_OK) return rc;
  *log = json_object_get((*r)->suite_data, "dnsupdate");
  if (!*log) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "scenario %s has no dns_update", scenario);
  transcribe(ctx, *log);
  if (!json_array_size(json_object_get(*log, "entries")))
    return acmeh_check_skip(ctx, "the client sent no DNS UPDATE to the mock (it publishes dns-01 another way)");
  return ACMEH_OK;
}

/* The journal also holds TSIG-signed queries; most checks judge UPDATEs only. */
static int is_update(const json_t *e) { return !field(e, "opcode") || !strcmp(field(e, "opcode"), "UPDATE"); }
static int accepted(const json_t *e) { return field(e, "verdict") && strcmp(field(e, "verdict"), "accepted") == 0; }
static int op_is(const json_t *u, const char *op) { return field(u, "op") && strcmp(field(u, "op"), op) == 0; }

/* "_acme-challenge.<zone>" */
static void owner_of(const json_t *log, char out[300]) { snprintf(out, 300, "_acme-challenge.%s", field(log, "zone")); }

/* dns-01 TXT values the run's challenges call for (RFC 8555 §8.4), as a JSON array. */
static json_t *expected_values(const acmeh_client_run *r) {
  json_t *out = json_array(), *c;
  acmeh_kit_exchange x;
  char thumb[44] = "", value[44];
  size_t i, j;
  ACMEH_KIT_EACH(r, i, x) {
    const json_t *jwk = json_object_get(x.protected_hdr, "jwk");
    if (!thumb[0] && x.resource && strcmp(x.resource, "newAccount") == 0 && jwk)
      acmeh_jwk_thumbprint(jwk, thumb);
  }
  ACMEH_KIT_EACH(r, i, x) {
    json_t *b = acmeh_kit_resp_json(&x);
    json_array_foreach(json_object_get(b, "challenges"), j, c) {
      if (!field(c, "type") || strcmp(field(c, "type"), "dns-01") || !field(c, "token") || !thumb[0]) continue;
      char *ka = acmeh_key_authorization(field(c, "token"), thumb);
      if (ka && acmeh_dns01_txt(ka, value) == ACMEH_OK) json_array_append_new(out, json_string(value));
      free(ka);
    }
    json_decref(b);
  }
  return out;
}

static int in_list(const json_t *list, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) if (s && strcmp(json_string_value(v), s) == 0) return 1;
  return 0;
}

/* DNSUP-C-001: what is added is the dns-01 record of RFC 8555 §8.4. */
static int record_content(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log), adds = 0;
  if (rc) return rc;
  char owner[300];
  owner_of(log, owner);
  json_t *want = expected_values(r), *e, *u;
  size_t i, j;
  EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (rc || !op_is(u, "add")) continue;
    adds++;
    if (strcmp(field(u, "name"), owner) || strcmp(field(u, "type"), "TXT"))
      rc = acmeh_check_fail(ctx, "the TXT record at _acme-challenge.<identifier>", "message #%zu adds %s %s", i,
                            field(u, "name"), field(u, "type"));
    else if (!in_list(want, field(u, "value")))
      rc = acmeh_check_fail(ctx, "TXT value base64url(SHA-256(keyAuthorization)) of a dns-01 challenge of the run",
                            "message #%zu adds \"%s\" (%zu challenge value(s) expected)", i, field(u, "value"),
                            json_array_size(want));
  }
  json_decref(want);
  if (!rc && !adds) rc = acmeh_check_fail(ctx, "an UPDATE adding the TXT record", "no UPDATE added anything");
  return rc;
}

/* DNSUP-C-002: header and zone section (RFC 2136 §2.2, §2.3). */
static int zone_section(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  size_t i;
  json_t *e;
  EACH_UPDATE(log, i, e) {
    const char *hex = field(e, "wire");
    uint8_t w[600];
    if (!is_update(e)) continue;
    size_t n = strlen(hex) / 2 < sizeof w ? strlen(hex) / 2 : sizeof w, off = 12;
    for (size_t k = 0; k < n; k++) sscanf(hex + 2 * k, "%2hhx", &w[k]);
    int ok = n >= 12 && w[4] == 0 && w[5] == 1 && acmeh_wire_skip_name(w, n, &off) == 0 && off + 4 <= n &&
             w[off] == 0 && w[off + 1] == 6 && w[off + 2] == 0 && w[off + 3] == 1;
    if (rc) break;
    if (!ok || strcmp(field(e, "zone"), field(log, "zone")))
      rc = acmeh_check_fail(ctx, "one zone entry naming the zone apex, ZTYPE SOA, ZCLASS IN",
                            "message #%zu: zone %s, %s", i, field(e, "zone"), ok ? "not the apex" : "count/type/class wrong");
    else if (num(e, "z") != 0 || (w[2] & 0x07) || (w[3] & 0x80))
      rc = acmeh_check_fail(ctx, "only QR used in the header, Z = 0", "message #%zu has header flags %02x%02x", i, w[2], w[3]);
  }
  return rc;
}

/* Every add, with `bad` judging its TTL; DNSUP-C-003 and -011. */
static int each_add_ttl(acmeh_check_ctx *ctx, int (*bad)(long long), const char *expected) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  size_t i, j;
  json_t *e, *u;
  EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (!rc && op_is(u, "add") && bad(num(u, "ttl")))
      rc = acmeh_check_fail(ctx, expected, "message #%zu adds %s with TTL %lld", i, field(u, "name"), num(u, "ttl"));
  }
  return rc;
}
static int ttl_zero(long long ttl) { return ttl <= 0; }
static int ttl_long(long long ttl) { return ttl > MAX_SHORT_TTL; }
static int add_ttl(acmeh_check_ctx *ctx) { return each_add_ttl(ctx, ttl_zero, "ADD with class IN and a non-zero TTL"); }
static int short_ttl(acmeh_check_ctx *ctx) { return each_add_ttl(ctx, ttl_long, "ADD with a TTL of at most 300 s"); }

/* DNSUP-C-004: every UPDATE carries one TSIG that verifies (RFC 8945 §5.1). */
static int signed_updates(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  size_t i;
  json_t *e;
  EACH_UPDATE(log, i, e) {
    const char *v = field(e, "verdict");
    if (rc) break;
    if (!is_update(e)) continue;
    if (!field(e, "key"))
      rc = acmeh_check_fail(ctx, "every UPDATE signed with TSIG (the key given)", "message #%zu is unsigned", i);
    else if (!strcmp(v, "badsig") || !strcmp(v, "badkey") || (!strcmp(v, "formerr") && strstr(field(e, "reason"), "TSIG")))
      rc = acmeh_check_fail(ctx, "one TSIG RR, last, whose MAC verifies with the key given",
                            "message #%zu: %s (%s)", i, v, field(e, "reason"));
  }
  return rc;
}

/* DNSUP-C-005: only _acme-challenge.<identifier> TXT is touched. */
static int scope(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  char owner[300];
  owner_of(log, owner);
  size_t i, j;
  json_t *e, *u;
  EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (!rc && (strcmp(field(u, "name"), owner) || strcmp(field(u, "type"), "TXT")))
      rc = acmeh_check_fail(ctx, "changes only to _acme-challenge.<identifier> TXT", "message #%zu: %s %s %s (%s)", i,
                            field(u, "op"), field(u, "name"), field(u, "type"), field(e, "verdict"));
  }
  return rc;
}

/* Challenge responses ({} POSTed to a challenge URL) of the run. */
static int is_challenge_response(const acmeh_kit_exchange *x) {
  return acmeh_kit_is(x, "POST", "challenge") && x->payload && *x->payload;
}

/* DNSUP-C-006: the challenge is answered only once an UPDATE was accepted (RFC 8555 §8.4). */
static int order_in(acmeh_check_ctx *ctx, const char *scenario) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, scenario, &r, &log);
  if (rc) return rc;
  long long first_add = -1;
  size_t i, j;
  json_t *e, *u;
  acmeh_kit_exchange x;
  EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (first_add < 0 && accepted(e) && op_is(u, "add")) first_add = num(e, "time_ms");
  }
  ACMEH_KIT_EACH(r, i, x) {
    if (!is_challenge_response(&x)) continue;
    long long at = num(log, "t0_ms") + x.time_ms; /* an upper bound: the server started before t0 */
    if (first_add < 0)
      return acmeh_check_fail(ctx, "no challenge response before an UPDATE answered NOERROR",
                              "scenario %s: request #%lld answers the challenge though no UPDATE was accepted", scenario,
                              x.seq);
    if (at < first_add)
      return acmeh_check_fail(ctx, "no challenge response before an UPDATE answered NOERROR",
                              "request #%lld answers the challenge %lld ms before the first accepted ADD", x.seq,
                              first_add - at);
  }
  return ACMEH_OK;
}
static int update_before_challenge(acmeh_check_ctx *ctx) {
  int rc = order_in(ctx, "dnsup-issue");
  return rc ? rc : order_in(ctx, "dnsup-badtime");
}

/* Whether entry e (accepted) removes `value` at owner. */
static int removes(const json_t *e, const char *owner, const char *value) {
  size_t j;
  json_t *u;
  json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (strcmp(field(u, "name"), owner)) continue;
    if (op_is(u, "delete-name") || (op_is(u, "delete-rrset") && !strcmp(field(u, "type"), "TXT"))) return 1;
    if (op_is(u, "delete-rr") && !strcmp(field(u, "type"), "TXT") && field(u, "value") && !strcmp(field(u, "value"), value))
      return 1;
  }
  return 0;
}

/* DNSUP-C-007: every TXT value added is removed again later (RFC 8555 §8.4). */
static int cleanup(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  char owner[300];
  owner_of(log, owner);
  const json_t *entries = json_object_get(log, "entries");
  size_t i, j;
  json_t *e, *u;
  EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (rc || !accepted(e) || !op_is(u, "add") || strcmp(field(u, "name"), owner)) continue;
    int gone = 0;
    for (size_t k = i + 1; k < json_array_size(entries) && !gone; k++)
      gone = accepted(json_array_get(entries, k)) && removes(json_array_get(entries, k), owner, field(u, "value"));
    if (!gone)
      rc = acmeh_check_fail(ctx, "the TXT record removed by UPDATE after validation",
                            "\"%s\" added by message #%zu was never removed (client exit %d)", field(u, "value"), i,
                            r->exit_status);
  }
  return rc;
}

/* DNSUP-C-008: deletes name the exact RR, never the whole RRset or name. */
static int exact_delete(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  size_t i, j;
  json_t *e, *u;
  EACH_UPDATE(log, i, e) json_array_foreach(json_object_get(e, "updates"), j, u) {
    if (!rc && (op_is(u, "delete-rrset") || op_is(u, "delete-name")))
      rc = acmeh_check_fail(ctx, "deletes of its own TXT value only (CLASS NONE with the rdata)",
                            "message #%zu sends %s %s %s, which also removes other clients' values", i, field(u, "op"),
                            field(u, "name"), field(u, "type"));
  }
  return rc;
}

/* DNSUP-C-009: after BADTIME no retry signed with the server's clock, and no success (RFC 8945 §5.4.3). */
static int badtime(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-badtime", &r, &log);
  if (rc) return rc;
  const json_t *bt = NULL, *e;
  size_t i;
  EACH_UPDATE(log, i, e) {
    if (!bt && !strcmp(field(e, "verdict"), "badtime")) bt = e;
    else if (bt && field(e, "key")) {
      long long told = num(bt, "reported_time") + (num(e, "time_ms") - num(bt, "time_ms")) / 1000;
      long long t = num(e, "time_signed"), fudge = num(e, "fudge") ? num(e, "fudge") : 300;
      if (llabs(t - told) <= fudge && llabs(t - num(e, "server_time")) > fudge)
        return acmeh_check_fail(ctx, "no clock adjustment from a BADTIME reply's Other Data",
                                "message #%zu is signed at %lld, the server's reported time (its own clock says %lld)", i,
                                t, num(e, "server_time"));
    }
  }
  if (!bt) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "the BADTIME fault never fired (no signed UPDATE)");
  if (r->exit_status == 0)
    return acmeh_check_fail(ctx, "the client to report failure after BADTIME", "it exited 0");
  return ACMEH_OK;
}

/* DNSUP-C-010: a fresh message ID per UPDATE. */
static int fresh_ids(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  const json_t *log = NULL;
  int rc = journal(ctx, "dnsup-issue", &r, &log);
  const json_t *entries = json_object_get(log, "entries");
  for (size_t i = 0; !rc && i < json_array_size(entries); i++)
    for (size_t k = 0; k < i; k++)
      if (is_update(json_array_get(entries, i)) && is_update(json_array_get(entries, k)) &&
          num(json_array_get(entries, i), "id") == num(json_array_get(entries, k), "id"))
        return acmeh_check_fail(ctx, "a fresh message ID for each UPDATE", "messages #%zu and #%zu both use ID %lld", k, i,
                                num(json_array_get(entries, i), "id"));
  return rc;
}

const acmeh_check_impl dnsupdate_client_checks[] = {
    {"DNSUP-C-001", record_content},  {"DNSUP-C-002", zone_section},
    {"DNSUP-C-003", add_ttl},         {"DNSUP-C-004", signed_updates},
    {"DNSUP-C-005", scope},           {"DNSUP-C-006", update_before_challenge},
    {"DNSUP-C-007", cleanup},         {"DNSUP-C-008", exact_delete},
    {"DNSUP-C-009", badtime},         {"DNSUP-C-010", fresh_ids},
    {"DNSUP-C-011", short_ttl},       {NULL, NULL}};
