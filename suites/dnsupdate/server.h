/* Helpers shared by the DNSUP-S checks (a nameserver under test, reached
 * through harness/dns): fresh names, sending with transcript notes, and the
 * common verdicts. */
#ifndef ACMEH_SUITES_DNSUPDATE_SERVER_H
#define ACMEH_SUITES_DNSUPDATE_SERVER_H

#include "harness/dns/update.h"
#include "harness/runner/check.h"

/* The nameserver of the run, or a skip when the run has none (returns
 * ACMEH_UNSUPPORTED after acmeh_check_skip). */
int dnsupdate_ns(acmeh_check_ctx *ctx, const acmeh_ns_env **ns);

/* A fresh owner "_x<10 random>._acme-challenge.<zone>" inside the keys' policy. */
void dnsupdate_owner(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, char *buf, size_t len);
/* A fresh TXT rdata in presentation form, quoted: "\"v<10 random>\"". */
void dnsupdate_value(acmeh_check_ctx *ctx, char *buf, size_t len);

/* A new UPDATE for the nameserver's zone with a random ID (NULL on OOM). */
acmeh_dnsup *dnsupdate_new(acmeh_check_ctx *ctx, const acmeh_ns_env *ns);

/* Signs u with key (NULL = unsigned) and mut, sends it and notes both
 * messages in the transcript under `what`. When keep != NULL the signed
 * message is handed over (caller clears it). Returns ACMEH_OK or the
 * exchange's error (reason in ctx->err). r is filled on ACMEH_OK. */
int dnsupdate_send(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_dnsup *u, const acmeh_tsig_key *key,
               const acmeh_tsig_mut *mut, const char *what, acmeh_dnsup_msg *keep, acmeh_dnsup_resp *r);
/* Sends an already signed message again, byte for byte (a replay). */
int dnsupdate_resend(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_dnsup_msg *m, const char *what,
                 acmeh_dnsup_resp *r);

/* Signed ADD of TXT `value` at owner with `key`; fails the check unless the
 * answer is NOERROR ("the set-up ADD"). */
int dnsupdate_add(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const acmeh_tsig_key *key, const char *owner,
              const char *value);

/* "NOERROR (TSIG error BADKEY, answer MAC size 0)" style description. */
void dnsupdate_describe(const acmeh_dnsup_resp *r, char *buf, size_t len);

/* Fails unless r's RCODE is `rcode` and (tsig_error >= 0) its TSIG Error is
 * tsig_error. `want` is the expected phrase. */
int dnsupdate_expect(acmeh_check_ctx *ctx, const acmeh_dnsup_resp *r, int rcode, int tsig_error, const char *what);

/* Queries TXT (or `type`) at owner and fails unless `value` is served
 * (present = 1) or not served (present = 0). `why` ends the failure text. */
int dnsupdate_expect_served(acmeh_check_ctx *ctx, const acmeh_ns_env *ns, const char *owner, const char *type,
                        const char *value, int present, const char *why);

#endif
