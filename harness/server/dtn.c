/* bp-nodeid-00 (RFC 9891 = draft-ietf-acme-dtnnodeid-18) on the reference
 * server: bundleEID identifiers (§2), the challenge's id-chal / token-chal
 * (§3.1), the validation through the bundle node (§3.3 Challenge Bundle,
 * §3.4.1 Response Bundle checks, §3.5 incorrectResponse) and the
 * certificate's BundleEID SANs (§5; ca.c adds id-kp-bundleSecurity).
 *
 * The server's BP agent is a TCPCLv4 entity (mocks/bundle-node/entity.h)
 * that opens a session to the bundle node for each validation. BPSec is not
 * implemented: the Challenge Bundle carries no BIB and Response Bundles'
 * BIBs are not verified (DTN-S-012 / DTN-S-020 say so as skips). */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/rand.h"
#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/dtn.h"
#include "harness/server/internal.h"
#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/entity.h"

#define DTN_EPOCH 946684800.0 /* 2000-01-01T00:00:00Z, RFC 9171 §4.2.6 */

/* Deliberate deviations (server.h dtn_deviation), each breaking one rule a
 * DTN-S check judges; index 0 = none. */
enum { DEV_NONE, DEV_TOKEN_CHAL_IN_BUNDLE, DEV_NO_ACK_FLAG, DEV_NO_SHA256, DEV_SHORT_ID_CHAL, DEV_ANY_SOURCE, DEV_ANY_DIGEST,
       DEV_FIXED_TOKEN_BUNDLE, DEV_ANY_SCHEME, DEV_LENIENT_EID, DEV_ANY_EID_NODE, DEV_ANY_TOKEN, DEV_ANY_ALG, DEV_ACCEPT_SILENCE, DEV_IGNORE_RTT, DEV_LATE_OK };
static const char *const deviations[] = {"none", "token-chal-in-bundle", "no-ack-flag", "no-sha256", "short-id-chal",
                                         "any-source", "any-digest", "fixed-token-bundle", "any-scheme",
                                         "lenient-eid", "any-eid-node", "any-token", "any-alg", "accept-silence",
                                         "ignore-rtt", "late-ok"};

int srv_dtn_config(srv_dtn *d, const acmeh_server_config *cfg, char *err, size_t errlen) {
  memset(d, 0, sizeof *d);
  d->port = cfg->bundle_node_port > 0 ? cfg->bundle_node_port : 0;
  snprintf(d->node_id, sizeof d->node_id, "%s", cfg->dtn_node_id ? cfg->dtn_node_id : "dtn://acme-server/");
  if (!acmeh_eid_is_admin_node_id(d->node_id)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: dtn_node_id %.100s is not a Node ID", d->node_id);
  d->record_type = cfg->dtn_record_type ? cfg->dtn_record_type : ACMEH_DTN_RECORD_TYPE;
  if (d->record_type > 0xFFFF) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: dtn_record_type above 65535 (RFC 9713)");
  d->window_ms = cfg->dtn_window_ms ? cfg->dtn_window_ms : 5000;
  if (d->window_ms > 60000) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: dtn_window_ms above 60000");
  for (size_t i = 0; cfg->dtn_deviation && i < sizeof deviations / sizeof *deviations; i++)
    if (strcmp(cfg->dtn_deviation, deviations[i]) == 0) d->deviation = (int)i;
  if (cfg->dtn_deviation && strcmp(cfg->dtn_deviation, "none") != 0 && d->deviation == 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown dtn_deviation \"%.40s\"", cfg->dtn_deviation);
  return ACMEH_OK;
}

int srv_bpnodeid00_enabled(const acmeh_server *s) { return s->dtn.port > 0; }

int srv_is_eid(const char *name) { return !srv_is_ip(name) && acmeh_is_bundle_eid(name); }

int srv_eid_is_node_id(const acmeh_server *s, const char *name) {
  return s->dtn.deviation == DEV_ANY_EID_NODE || acmeh_eid_is_admin_node_id(name);
}

/* ---- identifiers (§2) ---- */

static int hexval(int c) { return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1; }

/* Percent-decodes value (RFC 3986 §2.1) into out (outlen bytes). Returns 1, or 0 when a '%' is not
 * followed by two hex digits or a decoded byte is not printable ASCII. */
static int percent_decode(const char *value, char *out, size_t outlen) {
  size_t o = 0;
  for (const char *p = value; *p; p++) {
    int c = (unsigned char)*p;
    if (c == '%') {
      int hi = hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
      if (lo < 0) return 0;
      c = hi * 16 + lo, p += 2;
    }
    if (c <= 0x20 || c >= 0x7f || o + 1 >= outlen) return 0;
    out[o++] = (char)c;
  }
  out[o] = 0;
  return o > 0;
}

/* "ipn:N.S" with decimal numbers, written back without leading zeros. */
static int ipn_normal(const char *ssp, char *out, size_t outlen) {
  char *end;
  if (!isdigit((unsigned char)ssp[0])) return 0;
  unsigned long long n = strtoull(ssp, &end, 10);
  if (*end != '.' || !isdigit((unsigned char)end[1])) return 0;
  unsigned long long sv = strtoull(end + 1, &end, 10);
  return *end == '\0' && snprintf(out, outlen, "ipn:%llu.%llu", n, sv) < (int)outlen;
}

/* "dtn://node/demux": node of unreserved characters (RFC 9171 §4.2.5.1.1), demux of visible characters. */
static int dtn_ok(const char *t) {
  if (strncmp(t, "dtn://", 6) != 0) return 0;
  const char *node = t + 6, *slash = strchr(node, '/');
  if (!slash || slash == node) return 0;
  for (const char *p = node; p < slash; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-._~", *p)) return 0;
  return 1;
}

char *srv_eid_name(const srv_dtn *d, const char *value, const char **type, char *why, size_t whylen) {
  char text[ACMEH_EID_MAX], norm[ACMEH_EID_MAX];
  *type = "malformed";
  if (d->deviation == DEV_LENIENT_EID && acmeh_is_bundle_eid(value) && strlen(value) < ACMEH_EID_MAX) return strdup(value); /* as sent */
  if (!percent_decode(value, text, sizeof text))
    return snprintf(why, whylen, "\"%.100s\" does not percent-decode to a URI (RFC 9891 §2, RFC 3986 §2.1)", value), NULL;
  const char *colon = strchr(text, ':');
  if (!colon || colon == text) return snprintf(why, whylen, "\"%.100s\" is not a URI with a scheme (RFC 9891 §2)", value), NULL;
  int dtn = colon - text == 3 && strncmp(text, "dtn", 3) == 0, ipn = colon - text == 3 && strncmp(text, "ipn", 3) == 0;
  if (!dtn && !ipn && d->deviation != DEV_ANY_SCHEME) {
    *type = "rejectedIdentifier";
    return snprintf(why, whylen, "scheme \"%.*s\" is not a Bundle Protocol URI scheme this server handles (dtn, ipn; RFC 9891 §2)", (int)(colon - text), text), NULL;
  }
  if (ipn && !ipn_normal(colon + 1, norm, sizeof norm))
    return snprintf(why, whylen, "\"%.100s\" is not ipn:<node>.<service> (RFC 9171 §4.2.5.1.2)", value), NULL;
  if (dtn && !dtn_ok(text))
    return snprintf(why, whylen, "\"%.100s\" is not dtn://<node-name>/<demux> (RFC 9171 §4.2.5.1.1)", value), NULL;
  return strdup(ipn ? norm : text);
}

int srv_bpnodeid00_tokens(const acmeh_server *s, srv_chal *c) {
  unsigned char raw[32];
  size_t idlen = s->dtn.deviation == DEV_SHORT_ID_CHAL ? 8 : 16;
  if (acmeh_rand_bytes(raw, 16 + idlen) != ACMEH_OK) return ACMEH_INTERNAL;
  char *tok = acmeh_b64url_encode(raw, 16), *id = acmeh_b64url_encode(raw + 16, idlen);
  int rc = tok && id ? ACMEH_OK : ACMEH_NOMEM;
  if (rc == ACMEH_OK) snprintf(c->token, sizeof c->token, "%s", tok), snprintf(c->id_chal, sizeof c->id_chal, "%s", id);
  free(tok), free(id);
  return rc;
}

int srv_bpnodeid00_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  v->dtn = s->dtn;
  memcpy(v->dtn_thumb, rq->acct->thumb, sizeof v->dtn_thumb);
  for (int i = 0; i < a->nchal; i++)
    if (a->chal[i].type == CHAL_BPNODEID00) memcpy(v->id_chal, a->chal[i].id_chal, sizeof v->id_chal);
  const json_t *rtt = json_object_get(rq->payload, "rtt"); /* §3.2: a hint, at least 0 */
  v->rtt = json_is_number(rtt) && json_number_value(rtt) >= 0 ? json_number_value(rtt) : -1;
  return ACMEH_OK;
}

int srv_dtn_add_names(X509 *leaf, char *const *names, size_t n) { return acmeh_x509_add_sans(leaf, (const char *const *)names, n); }

/* ---- validation (§3.3, §3.4.1) ---- */

static json_t *failure(const srv_validation *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *failure(const srv_validation *v, const char *fmt, ...) {
  char d[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  /* §3.5: the challenge fails with incorrectResponse; the one perspective's failure is its subproblem (§3.4.1). */
  json_t *p = srv_problem_obj("incorrectResponse", d), *sub = srv_problem_obj("incorrectResponse", d);
  json_object_set_new(sub, "identifier", json_pack("{s:s,s:s}", "type", "bundleEID", "value", v->name));
  json_object_set_new(p, "subproblems", json_pack("[o]", sub));
  return p;
}

/* The Challenge Bundle (§3.3) for this validation; *token_bundle gets its fresh token-bundle. */
static int challenge_bundle(const srv_validation *v, unsigned window_ms, unsigned char token_bundle[16], unsigned char **out, size_t *outlen) {
  acmeh_dtn_record r = {.type_code = v->dtn.record_type, .keys = 2 | 4 | 16, .algs = {ACMEH_DTN_ALG_SHA256}, .alg_count = 1};
  unsigned char *id = NULL;
  size_t idlen = 0;
  if (acmeh_b64url_decode(v->id_chal, strlen(v->id_chal), &id, &idlen) != ACMEH_OK || idlen > sizeof r.id_chal) return free(id), ACMEH_INTERNAL;
  memcpy(r.id_chal, id, idlen), r.id_chal_len = idlen;
  free(id);
  if (v->dtn.deviation == DEV_FIXED_TOKEN_BUNDLE) memset(token_bundle, 0x5a, 16);
  else if (acmeh_rand_bytes(token_bundle, 16) != ACMEH_OK) return ACMEH_INTERNAL;
  if (v->dtn.deviation == DEV_TOKEN_CHAL_IN_BUNDLE) { /* token-chal must never travel on the BP channel (§3.1) */
    unsigned char *tc = NULL;
    size_t tclen = 0;
    if (acmeh_b64url_decode(v->token, strlen(v->token), &tc, &tclen) == ACMEH_OK && tclen == 16) memcpy(token_bundle, tc, 16);
    free(tc);
  }
  memcpy(r.token_bundle, token_bundle, 16), r.token_bundle_len = 16;
  if (v->dtn.deviation == DEV_NO_SHA256) r.algs[0] = -43; /* SHA-384 only */
  acmeh_bundle b = {.flags = ACMEH_BPF_ADMIN_RECORD | (v->dtn.deviation == DEV_NO_ACK_FLAG ? 0 : ACMEH_BPF_USER_APP_ACK),
                    .created_ms = (uint64_t)((acmeh_now_wall() - DTN_EPOCH) * 1000.0), .lifetime_ms = window_ms};
  snprintf(b.dest, sizeof b.dest, "%s", v->name);
  snprintf(b.src, sizeof b.src, "%s", v->dtn.node_id);
  int rc = acmeh_dtn_record_encode(&r, &b.payload, &b.payload_len);
  if (rc == ACMEH_OK) rc = acmeh_bundle_encode(&b, out, outlen);
  free(b.payload);
  return rc;
}

/* Judges one Response Bundle that carries this challenge's id-chal and
 * token-bundle: NULL = valid, else the failure. */
static json_t *judge(const srv_validation *v, const acmeh_bundle *b, const acmeh_dtn_record *r, const unsigned char token_bundle[16]) {
  if (strcmp(b->src, v->name) != 0 && v->dtn.deviation != DEV_ANY_SOURCE)
    return failure(v, "the Response Bundle's source %s is not the Node ID under validation %s (RFC 9891 §3.4.1, RFC 9174 §4.4.1)", b->src, v->name);
  if (!(r->keys & 8)) return failure(v, "the Response Bundle has no key-auth-digest (key 3; RFC 9891 §3.4)");
  if (r->digest_alg != ACMEH_DTN_ALG_SHA256 && v->dtn.deviation != DEV_ANY_ALG)
    return failure(v, "the Response Bundle's digest algorithm %" PRId64 " was not in the server's alg-list [-16] (RFC 9891 §3.4.1)", r->digest_alg);
  char *tb = acmeh_b64url_encode(token_bundle, 16), *ka = tb ? acmeh_dtn_key_authorization(tb, v->token, v->dtn_thumb) : NULL;
  unsigned char want[32];
  int ok = ka && acmeh_dtn_digest_sha256(ka, want) == ACMEH_OK;
  free(tb), free(ka);
  if (!ok) return failure(v, "cannot compute the key authorization digest");
  if ((r->digest_len != 32 || memcmp(r->digest, want, 32) != 0) && v->dtn.deviation != DEV_ANY_DIGEST)
    return failure(v, "the Response Bundle's key-auth-digest does not match SHA-256(token-bundle || token-chal \".\" thumbprint) (RFC 9891 §3.4.1)");
  return NULL;
}

/* Whether a received bundle answers this challenge; *why says why not. */
static int answers(const srv_validation *v, const unsigned char *bytes, size_t len, const unsigned char token_bundle[16], acmeh_bundle *b,
                   acmeh_dtn_record *r, char *why, size_t whylen) {
  char msg[200];
  if (acmeh_bundle_decode(bytes, len, b, msg, sizeof msg)) return snprintf(why, whylen, "a bundle that does not decode: %s", msg), 0;
  if (!(b->flags & ACMEH_BPF_ADMIN_RECORD) || (b->flags & ACMEH_BPF_USER_APP_ACK))
    return snprintf(why, whylen, "a bundle with flags 0x%" PRIx64 ", not a Response Bundle's 0x02 without 0x20 (RFC 9891 §3.4)", b->flags), 0;
  if (acmeh_dtn_record_decode(b->payload, b->payload_len, r, msg, sizeof msg)) return snprintf(why, whylen, "a record that does not decode: %s", msg), 0;
  if (r->type_code != v->dtn.record_type) return snprintf(why, whylen, "an administrative record of type %" PRIu64 ", not %u", r->type_code, v->dtn.record_type), 0;
  unsigned char *id = NULL;
  size_t idlen = 0;
  int same = acmeh_b64url_decode(v->id_chal, strlen(v->id_chal), &id, &idlen) == ACMEH_OK && idlen == r->id_chal_len && memcmp(id, r->id_chal, idlen) == 0 &&
             r->token_bundle_len == 16 && (memcmp(r->token_bundle, token_bundle, 16) == 0 || v->dtn.deviation == DEV_ANY_TOKEN);
  free(id);
  if (!same) return snprintf(why, whylen, "a Response Bundle whose id-chal / token-bundle match no Challenge Bundle sent (RFC 9891 §3.4.1)"), 0;
  return 1;
}

json_t *srv_validate_bpnodeid00(const srv_validation *v) {
  unsigned window = v->rtt >= 0 && v->dtn.deviation != DEV_IGNORE_RTT ? (unsigned)(v->rtt * 2000.0 < 1000 ? 1000 : v->rtt * 2000.0 > 60000 ? 60000 : v->rtt * 2000.0) : v->dtn.window_ms;
  char msg[300], why[300] = "nothing arrived";
  acmeh_tcpcl_entity *e = NULL;
  if (acmeh_tcpcl_entity_connect("127.0.0.1", v->dtn.port, v->dtn.node_id, 2000, &e, msg, sizeof msg))
    return srv_problem_obj("serverInternal", msg);
  unsigned char token_bundle[16], *bundle = NULL, *got = NULL;
  size_t len = 0, glen = 0;
  /* §3.4.1: a response counts only inside the Challenge Bundle's own lifetime (late-ok waits three times as long) */
  double deadline = acmeh_now_mono() + window / 1000.0 * (v->dtn.deviation == DEV_LATE_OK ? 3 : 1);
  json_t *verdict = NULL;
  int rc = challenge_bundle(v, window, token_bundle, &bundle, &len);
  if (rc == ACMEH_OK) rc = acmeh_tcpcl_entity_send(e, bundle, len, 2000, msg, sizeof msg);
  if (rc) verdict = failure(v, "the Challenge Bundle could not be sent through the bundle node: %s", rc == ACMEH_OK ? "" : msg);
  while (!verdict) {
    double left = deadline - acmeh_now_mono();
    if (left <= 0 || (rc = acmeh_tcpcl_entity_recv(e, (unsigned)(left * 1000.0) + 1, &got, &glen, msg, sizeof msg)) != ACMEH_OK) {
      if (v->dtn.deviation == DEV_ACCEPT_SILENCE) break; /* valid without an answer */
      verdict = failure(v, "no Response Bundle for id-chal %s within the %u ms response interval (RFC 9891 §3.4.1; last: %s)", v->id_chal, window,
                        rc == ACMEH_PEER_TIMEOUT || left <= 0 ? why : msg);
      break;
    }
    acmeh_bundle b;
    acmeh_dtn_record r;
    if (answers(v, got, glen, token_bundle, &b, &r, why, sizeof why)) {
      verdict = judge(v, &b, &r, token_bundle);
      acmeh_bundle_clear(&b), free(got);
      if (!verdict) break; /* valid */
      continue;
    }
    acmeh_bundle_clear(&b), free(got);
  }
  free(bundle);
  acmeh_tcpcl_entity_close(e);
  return verdict;
}
