#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "suites/dnsupdate/server.h"

/* Per exchange: 3 s, never past the check's deadline. */
static int timeout_ms(const acmeh_check_ctx *ctx) {
  double left = acmeh_check_time_left(ctx) * 1000;
  return left < 3000 ? (left < 1 ? 1 : (int)left) : 3000;
}

int dnsupdate_ns(acmeh_check_ctx *ctx, const acmeh_ns_env **ns) {
  *ns = ctx->env->nameserver;
  if (*ns) return ACMEH_OK;
  return acmeh_check_skip(ctx, "no nameserver under test (run --nameserver TARGET)");
}

static void rand_label(acmeh_check_ctx *ctx, char *out) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 10; i++) out[i] = alphabet[acmeh_check_rand(ctx) % 36];
  out[10] = '\0';
}

void dnsupdate_owner(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, char *buf, size_t len) {
  char l[11];
  rand_label(ctx, l);
  snprintf(buf, len, "_x%s._acme-challenge.%s", l, ns->zone);
}

void dnsupdate_value(acmeh_check_ctx *ctx, char *buf, size_t len) {
  char l[11];
  rand_label(ctx, l);
  snprintf(buf, len, "\"v%s\"", l);
}

acmeh_dnsup *dnsupdate_new(acmeh_check_ctx *ctx, const acmeh_ns_env *ns) {
  return acmeh_dnsup_new(ns->zone, (uint16_t)acmeh_check_rand(ctx));
}

void dnsupdate_describe(const acmeh_dnsup_resp *r, char *buf, size_t len) {
  static const char *const st[] = {"no TSIG", "unsigned TSIG (MAC size 0)", "TSIG verified", "TSIG not verifying"};
  if (r->tsig == ACMEH_TSIG_ABSENT) snprintf(buf, len, "%s (no TSIG)", acmeh_rcode_name(r->rcode));
  else
    snprintf(buf, len, "%s (TSIG error %s, %s)", acmeh_rcode_name(r->rcode),
             r->tsig_error ? acmeh_rcode_name(r->tsig_error) : "0", st[r->tsig]);
}

static void note_exchange(acmeh_check_ctx *ctx, const char *what, const acmeh_dnsup_msg *m, const acmeh_dnsup_resp *r) {
  char *q = acmeh_dns_wire_text(m->wire, m->len), d[200];
  acmeh_check_note(ctx, "> %s (%zu octets%s)\n%s", what, m->len, m->is_signed ? ", TSIG" : ", unsigned",
                   q ? q : "(ldns cannot print it)");
  free(q);
  if (!r) return;
  dnsupdate_describe(r, d, sizeof d);
  acmeh_check_note(ctx, "< %s%s\n%s", d, r->tcp ? " over TCP" : "", r->text ? r->text : "(ldns cannot print it)");
}

int dnsupdate_resend(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_dnsup_msg *m, const char *what,
                 acmeh_dnsup_resp *r) {
  int rc = acmeh_dnsup_send(ns->addr, ns->port, m, timeout_ms(ctx), r, ctx->err, sizeof ctx->err);
  note_exchange(ctx, what, m, rc ? NULL : r);
  if (rc) acmeh_check_note(ctx, "< %s", ctx->err);
  if (rc == ACMEH_PEER_TIMEOUT)
    acmeh_msg(ctx->err, sizeof ctx->err, rc, "%s: no answer within %d ms", what, timeout_ms(ctx));
  return rc;
}

/* A correctly signed request answered BADTIME was most likely overtaken by
 * one signed a second later by a parallel check, for a server that keeps
 * each key's latest Time Signed (RFC 8945 §5.2.3 SHOULD). §5.2.3 asks the
 * client to send it again with a new TSIG: so do we, once, a second later. */
static int overtaken(const acmeh_tsig_key *key, const acmeh_tsig_mut *mut, const acmeh_dnsup_resp *r) {
  return key && !mut && r->rcode == ACMEH_RCODE_NOTAUTH && r->tsig_error == ACMEH_TSIG_BADTIME;
}

int dnsupdate_send(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_dnsup *u, const acmeh_tsig_key *key,
               const acmeh_tsig_mut *mut, const char *what, acmeh_dnsup_msg *keep, acmeh_dnsup_resp *r) {
  acmeh_dnsup_msg m;
  memset(r, 0, sizeof *r);
  if (!u) return acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_NOMEM, "cannot build the UPDATE");
  int rc = acmeh_dnsup_sign(u, key, mut, &m);
  if (rc) return acmeh_msg(ctx->err, sizeof ctx->err, rc, "cannot sign the UPDATE");
  rc = dnsupdate_resend(ctx, ns, &m, what, r);
  if (!rc && overtaken(key, mut, r) && acmeh_check_time_left(ctx) > 5) {
    acmeh_check_note(ctx, "BADTIME to a current request: re-signed and sent once more in 1 s (RFC 8945 §5.2.3)");
    acmeh_sleep_ms(1100);
    acmeh_dnsup_msg_clear(&m), acmeh_dnsup_resp_clear(r);
    rc = acmeh_dnsup_sign(u, key, mut, &m);
    if (rc) return acmeh_msg(ctx->err, sizeof ctx->err, rc, "cannot sign the UPDATE");
    rc = dnsupdate_resend(ctx, ns, &m, what, r);
  }
  if (keep) *keep = m;
  else acmeh_dnsup_msg_clear(&m);
  return rc;
}

int dnsupdate_add(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_tsig_key *key, const char *owner,
              const char *value) {
  acmeh_dnsup *u = dnsupdate_new(ctx, ns);
  acmeh_dnsup_resp r;
  int rc = u ? acmeh_dnsup_add_rr(u, owner, 60, "TXT", value) : ACMEH_NOMEM;
  if (!rc) rc = dnsupdate_send(ctx, ns, u, key, NULL, "set-up ADD", NULL, &r);
  acmeh_dnsup_free(u);
  if (!rc && r.rcode != ACMEH_RCODE_NOERROR) {
    char d[200];
    dnsupdate_describe(&r, d, sizeof d);
    rc = acmeh_check_fail(ctx, "NOERROR to an authorized ADD", "the set-up ADD of %s TXT %s answered %s", owner, value, d);
  }
  acmeh_dnsup_resp_clear(&r);
  return rc;
}

int dnsupdate_expect(acmeh_check_ctx *ctx, const acmeh_dnsup_resp *r, int rcode, int tsig_error, const char *what) {
  if (r->rcode == rcode && (tsig_error < 0 || r->tsig_error == tsig_error)) return ACMEH_OK;
  char want[96], d[200];
  if (tsig_error < 0) snprintf(want, sizeof want, "%s", acmeh_rcode_name(rcode));
  else snprintf(want, sizeof want, "%s with TSIG error %s", acmeh_rcode_name(rcode), acmeh_rcode_name(tsig_error));
  dnsupdate_describe(r, d, sizeof d);
  return acmeh_check_fail(ctx, want, "%s answered %s", what, d);
}

static int has_line(const char *answers, const char *value) {
  size_t n = strlen(value);
  for (const char *p = answers; p && *p;) {
    const char *e = strchr(p, '\n');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == n && strncmp(p, value, n) == 0) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

int dnsupdate_expect_served(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const char *owner, const char *type,
                        const char *value, int present, const char *why) {
  int rcode = -1;
  char *ans = NULL;
  int rc = acmeh_dns_query(ns->addr, ns->port, owner, type, timeout_ms(ctx), &rcode, &ans, ctx->err, sizeof ctx->err);
  acmeh_check_note(ctx, "query %s %s: %s%s[%s]", owner, type, rc ? ctx->err : acmeh_rcode_name(rcode), rc ? "" : " ",
                   ans ? ans : "");
  if (!rc && has_line(ans, value) != present)
    rc = acmeh_check_fail(ctx, present ? "the record served" : "the record not served", "%s %s %s is %sserved %s", owner,
                          type, value, present ? "not " : "still ", why);
  free(ans);
  return rc;
}
