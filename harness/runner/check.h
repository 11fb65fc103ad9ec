/* What a check sees while it runs, and how it states its verdict.
 *
 * A check is a function `int fn(acmeh_check_ctx *ctx)`. It passes by
 * returning ACMEH_OK without having called acmeh_check_fail/skip. It fails by
 * calling acmeh_check_fail (which returns ACMEH_PEER_PROTOCOL, so
 * `return acmeh_check_fail(...)` reads naturally). Any other non-zero return
 * is judged by its class (base/error.h): PEER -> fail, UNSUP -> skip,
 * ENV/HARNESS -> error, with ctx->err as the message. */
#ifndef ACMEH_RUNNER_CHECK_H
#define ACMEH_RUNNER_CHECK_H

#include <jansson.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "harness/runner/result.h"
#include "harness/client/publish.h"
#include "mocks/mocks.h"

/* What the reference client and server put on the wire where the spec
 * revisions under test (--draft) differ. Every field's zero is the newest
 * revision's behaviour; a suite's `wire` hook (runner/suite.h) sets the
 * fields its chosen revision changes. */
typedef struct {
  int dnsacct_scheme; /* acmeh_dnsacct_scheme (harness/acme/challenge.h): where dns-account-01's TXT goes */
  int persist_rev;    /* acmeh_persist_rev (harness/acme/persist.h): dns-persist-01's fields and record */
  int devattest_rev;  /* draft-ietf-acme-device-attest: 0 = -09 (value ABNF with "/OID"), 1 = -01 (plain values) */
} acmeh_wire;

/* The run's environment, shared read-only by every check. */
typedef struct {
  const char *directory_url; /* the server under test's directory */
  const char *ca_file;       /* PEM bundle that verifies its TLS certificate (NULL = system) */
  acmeh_mocks *mocks;        /* DNS / HTTP-01 / TLS-ALPN-01 mocks the server validates against */
  const acmeh_publisher *publisher; /* where the reference client puts challenge responses
                                       (the mocks, or DNS UPDATE with --dns-update-server) */
  const char *target_name;
  const json_t *claims;      /* target's "claims" object (borrowed, may be NULL) */
  const char *domain;        /* parent of the names checks invent, e.g. "acmeh.example.com" */
  acmeh_wire wire;           /* the revisions' wire differences, both reference sides (acmeh_suites_wire) */
  uint64_t seed;
  int verbose;
  /* Client under test only: */
  const json_t *client;                /* the client target document */
  const char *client_dir;              /* the folder of its file: ${TARGET_DIR} in its commands */
  const char *run_dir;                 /* folder for the scenarios' work */
  struct acmeh_scenarios *scenarios;   /* shared, memoized scenario runs (runner/scenario.h) */
  /* tkauth-01 (suites tkauth, jwtclaimcon): the token authority the reference
   * client gets Authority Tokens from (`run --token-authority`); NULL = none */
  const struct acmeh_ta_env *token_authority;
  /* Nameserver under test only (suite dnsupdate, harness/dns/update.h): */
  const struct acmeh_ns_env *nameserver;
} acmeh_env;

typedef struct acmeh_check_ctx {
  const acmeh_env *env;
  const char *id;          /* the check's ID */
  const char *section;     /* the spec section, quoted in failure messages */
  const char *revision;    /* the revision of the check's spec under test (--draft), or NULL */
  acmeh_strbuf transcript; /* every exchange, in order */
  double deadline;         /* acmeh_now_mono() limit for every wait */
  uint64_t rng;            /* seeded from the run seed and the check ID */
  int concluded;           /* fail or skip was stated */
  acmeh_verdict verdict;
  char *message, *expected, *actual; /* owned, handed to the result */
  char err[512];           /* detail of a non-OK return from harness functions */
  const char *blocked_by;  /* the check named by acmeh_check_blocked (static), or NULL */
  const char *failed_step; /* the reference client's step (acmeh_acme_step) when its last operation was a
                              flow step that failed through the peer, else NULL (kit clients report here) */
  struct acmeh_schema_log *schema_log; /* the run's log of objects received and requests recorded, checked
                                          against their schemas (harness/acme/schema.h); kit clients and
                                          scenario records write here, the runner judges the schema checks
                                          from it (acmeh_suite.schema_judges); NULL = not kept */
} acmeh_check_ctx;

typedef int (*acmeh_check_fn)(acmeh_check_ctx *ctx);

typedef struct {
  const char *id;
  acmeh_check_fn fn;
} acmeh_check_impl;

/* States a failure: what the spec wants (`expected`, a short phrase) and what
 * arrived (printf-style). Keeps the first failure stated. Returns ACMEH_PEER_PROTOCOL. */
int acmeh_check_fail(acmeh_check_ctx *ctx, const char *expected, const char *actual_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* States a skip with its reason (printf-style). Returns ACMEH_UNSUPPORTED. */
int acmeh_check_skip(acmeh_check_ctx *ctx, const char *reason_fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* States that the check was not judged: the set-up step `step` failed with
 * `why` (ctx->err text), and check `judge` judges that step. The message is
 * "blocked: <step> failed: <why> (see <judge>)". Returns ACMEH_STEP_BLOCKED. */
int acmeh_check_blocked(acmeh_check_ctx *ctx, const char *step, const char *judge, const char *why);

/* Appends a note line to the transcript. */
void acmeh_check_note(acmeh_check_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Next pseudo-random number of the check's repeatable sequence. */
uint64_t acmeh_check_rand(acmeh_check_ctx *ctx);

/* Writes a fresh DNS name "<label>.<env->domain>" with a random 10-char label
 * into buf (len bytes). Returns buf. */
char *acmeh_check_name(acmeh_check_ctx *ctx, char *buf, size_t len);

/* Seconds left before the deadline (may be negative). */
double acmeh_check_time_left(const acmeh_check_ctx *ctx);

/* Looks up the implementation of check `id` among all suites; NULL if none. */
acmeh_check_fn acmeh_check_impl_find(const char *id);

#endif
