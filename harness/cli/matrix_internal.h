/* acme-harness matrix internals shared by harness/cli/matrix.c (targets,
 * cells, scheduling, reports) and harness/cli/matrix_kinds.c (the column
 * kinds beyond "issue": renew, revoke, ari, profiles). Not a public API. */
#ifndef ACMEH_CLI_MATRIX_INTERNAL_H
#define ACMEH_CLI_MATRIX_INTERNAL_H

#include <jansson.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "harness/runner/clientrun.h"
#include "harness/runner/result.h"
#include "harness/targets/target.h"
#include "mocks/mocks.h"
#include "reports/reports.h"

/* Client actions one cell runs at most, one after the other. */
#define MX_MAX_STEPS 3

typedef struct cell cell;

/* A column kind: one scenario a client runs against a server, through the
 * client-run engine (runner/clientrun.h). A column is a server x kind (x
 * challenge when per_challenge). early and probe may be NULL. */
typedef struct {
  const char *name;                  /* "issue", "renew", ... */
  const char *def;                   /* the scenario (runner/scenario.h's shape, JSON text); the
                                        cell's challenge is added as "challenge" */
  const char *steps[MX_MAX_STEPS];   /* client actions in order, NULL after the last */
  int per_challenge;                 /* one column per challenge type; else the client's http-01 or first */
  int (*early)(cell *c);             /* 1 when it decided the cell (skip) before anything starts */
  void (*probe)(cell *c);            /* main thread, client finished, server still up */
  void (*judge)(cell *c);            /* sets c->out verdict and reason from the record */
  void (*between)(cell *c);          /* client thread, after the first step exited 0, before the second; may be NULL */
} scenario_kind;

typedef struct {
  char *name;          /* the target's "name" (or the argument) */
  json_t *doc;
  int reference;       /* a server target with "reference": true: the engine runs the reference server
                          in this process and records every exchange */
  char dir[4096];      /* folder of its file: ${TARGET_DIR} */
  char missing[256];   /* a required program that is not installed, or "" */
  char version[128];   /* its "version" command's answer, or "" when it has none or failed */
} target_def;

typedef struct {
  const scenario_kind *kind;
  size_t server; /* index into servers */
} column_def;

struct cell {
  const target_def *client, *server;
  const column_def *col;
  const char *challenge;
  json_t *def;                       /* the kind's scenario with the cell's challenge (owned) */
  const char *actions[MX_MAX_STEPS]; /* the kind's steps resolved to the client's actions */
  size_t nsteps;
  char work[3500], domain[128], err[1024];
  char probe[600];                   /* what a probe found, for the judge and the transcript */
  long log_mark;                     /* lines of a server target's log when the kind's between hook acted */
  acmeh_clientrun *run;              /* between start and finish */
  acmeh_client_run rec;              /* the engine's record of the run */
  struct req_checks *req;            /* per-request client checks over rec's exchanges, or NULL */
  pthread_t thread;
  atomic_int done;
  int running, run_rc;
  double t0;
  acmeh_mx_cell *out;
};

/* The kinds after "issue", in column order (matrix_kinds.c). */
extern const scenario_kind acmeh_mx_extra_kinds[];
extern const size_t acmeh_mx_nextra_kinds;

/* Sets the cell's verdict and reason (printf format with two string arguments). */
void acmeh_mx_set_reason(cell *c, acmeh_verdict v, const char *fmt, const char *a, const char *b);

/* Decides the cell from how its client run ended when that was not a clean
 * exit 0 of every step (interrupted, not runnable, timed out, 127, non-zero
 * exit): returns 1 when decided, 0 when every step exited 0. */
int acmeh_mx_judge_run(cell *c);

/* "" when PEM text `pem` (NULL: the record's cert_pem) holds a certificate
 * naming the cell's domain; otherwise what is wrong, in why. */
void acmeh_mx_check_cert(cell *c, const char *pem, char *why, size_t len);

/* The first certificate of PEM text (NULL when none); caller X509_free's. */
X509 *acmeh_mx_pem_cert(const char *pem);

/* Client target claim `name` is JSON true. */
int acmeh_mx_claims(const target_def *t, const char *name);

#endif
