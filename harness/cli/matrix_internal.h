/* acme-harness matrix internals shared by harness/cli/matrix.c (targets,
 * cells, scheduling, reports) and harness/cli/matrix_kinds.c (the column
 * kinds beyond "issue": renew, revoke, ari, profiles). Not a public API. */
#ifndef ACMEH_CLI_MATRIX_INTERNAL_H
#define ACMEH_CLI_MATRIX_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "harness/targets/target.h"
#include "harness/targets/vars.h"
#include "mocks/mocks.h"
#include "reports/reports.h"

/* Client actions one cell runs at most, one after the other. */
#define MX_MAX_STEPS 3

typedef struct cell cell;

/* A column kind: one scenario a client runs against a server. A column is a
 * server x kind (x challenge when per_challenge). The hooks other than judge
 * may be NULL. */
typedef struct {
  const char *name;                  /* "issue", "renew", ... */
  const char *steps[MX_MAX_STEPS];   /* client actions in order, NULL after the last */
  int per_challenge;                 /* one column per challenge type; else the client's http-01 or first */
  int observe;                       /* needs the reference server's printed exchanges (serve without --quiet) */
  int (*early)(cell *c);             /* 1 when it decided the cell (skip) before anything starts */
  int (*prepare)(cell *c);           /* main thread, server up, client not yet started; ACMEH_* (err in c->err) */
  void (*probe)(cell *c);            /* main thread, client finished, server still up */
  void (*judge)(cell *c);            /* sets c->out verdict and reason from the finished run */
} scenario_kind;

typedef struct {
  char *name;          /* the target's "name" (or the argument) */
  json_t *doc;
  json_t *observed;    /* servers run by `serve`: doc printing each exchange (no --quiet), else NULL */
  char dir[4096];      /* folder of its file: ${TARGET_DIR} */
  char missing[256];   /* a required program that is not installed, or "" */
} target_def;

typedef struct {
  const scenario_kind *kind;
  size_t server; /* index into servers */
} column_def;

struct cell {
  const target_def *client, *server;
  const column_def *col;
  const char *challenge;
  const char *actions[MX_MAX_STEPS]; /* the kind's steps resolved to the client's actions */
  size_t nsteps, step;               /* step: index of the last action run */
  char work[3500], domain[128], err[1024];
  char probe[600];                   /* what a probe found, for the judge and the transcript */
  acmeh_mocks *mocks;
  acmeh_target_run *tr;
  acmeh_vars vars;
  pthread_t thread;
  atomic_int done;
  int running, exit_status, timed_out, run_rc;
  double t0, deadline;
  acmeh_mx_cell *out;
};

/* The kinds after "issue", in column order (matrix_kinds.c). */
extern const scenario_kind acmeh_mx_extra_kinds[];
extern const size_t acmeh_mx_nextra_kinds;

/* Sets the cell's verdict and reason (printf format with two string arguments). */
void acmeh_mx_set_reason(cell *c, acmeh_mx_verdict v, const char *fmt, const char *a, const char *b);

/* Decides the cell from how its client run ended when that was not a clean
 * exit 0 of every step (interrupted, not runnable, timed out, 127, non-zero
 * exit): returns 1 when decided, 0 when every step exited 0. */
int acmeh_mx_judge_run(cell *c);

/* "" when the PEM file `path` (NULL: the client's cert_path) holds a
 * certificate naming the cell's domain; otherwise what is wrong, in why. */
void acmeh_mx_check_cert(cell *c, const char *path, char *why, size_t len);

/* The client's cert_path expanded (malloc'd, caller frees), or NULL. */
char *acmeh_mx_cert_path(cell *c);

/* Client target claim `name` is JSON true. */
int acmeh_mx_claims(const target_def *t, const char *name);

#endif
