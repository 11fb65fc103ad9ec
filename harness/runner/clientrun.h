/* Client under test: the one engine that runs a client (docs/architecture.md,
 * "Flows"). One client run = a server (the reference server in this process,
 * loaded with the scenario's fault rules and settings, or a real server
 * target such as Pebble started for the run), mocks the client publishes
 * into, the variables of targets/README.md, the client's actions in order,
 * and a structured record of what happened. `run --client` (runner/scenario.c),
 * `matrix` and the real-client smoke test all go through it.
 *
 * The run has three phases so that a caller can run many at once: start and
 * finish touch processes and servers (call them from the thread that owns
 * them; harness/targets/process.h wants the main thread when a server target
 * is started), the client phase may run on any thread. acmeh_clientrun_run does
 * all three in one call. */
#ifndef ACMEH_RUNNER_CLIENTRUN_H
#define ACMEH_RUNNER_CLIENTRUN_H

#include <jansson.h>

#include "base/strbuf.h"
#include "harness/runner/check.h"
#include "mocks/mocks.h"

/* The record of one client run. Everything is owned by the record
 * (acmeh_client_run_clear frees it) except name and def. */
typedef struct {
  const char *name;     /* the scenario's name (borrowed) */
  const json_t *def;    /* the scenario's definition (borrowed) */
  int unsupported;      /* the client cannot do it (no such action, challenge, or exit 127) */
  char *why;            /* reason for unsupported, or what went wrong */
  int exit_status;      /* the last action's exit status (128 + signal when killed) */
  int timed_out;        /* the client had to be killed */
  size_t actions_run;   /* actions started; the last of them is the one that ended the run */
  const char *last_action; /* its name (borrowed from the arguments), or NULL */
  int observed;         /* 1: exchanges and validations are the server's own complete record
                           (the reference server); 0: a server target, whose exchanges the
                           harness cannot see (both arrays empty) */
  json_t *exchanges;    /* every exchange, as harness/server/server.h describes them */
  json_t *validations;  /* every validation the client's challenge responses started, in the order they
                           ended (server.h, acmeh_server_validation_observer) */
  json_t *mock_history; /* {"http", "dns", "tlsalpn": [requests]} when the run had its own mocks, else NULL */
  char *domain;         /* the name the client was asked to certify (the first of domains) */
  char *domains;        /* every name the client was asked to certify in one order, comma-separated */
  char *cert_pem;       /* the file at the target's cert_path after the run, or NULL */
  char *first_cert_pem; /* the same file after the first action, when there were more, or NULL */
  char *client_log;     /* the client's output (first 64 KiB) */
  char *directory_url;  /* the server's directory */
  char *server_log;     /* a server target's log file (path), or NULL */
  double duration_s;    /* time the client's actions took */
  json_t *suite_data;   /* {"<suite name>": what that suite's scenario_end kept of the run} (runner/suite.h) */
  double started_wall;  /* wall clock (s since the epoch) at server start: exchanges' time_ms count from it */
} acmeh_client_run;

typedef struct {
  const json_t *client;      /* the client target document (borrowed) */
  const char *client_dir;    /* the folder of its file: ${TARGET_DIR}, or NULL */
  /* NULL: the reference server in this process, with the scenario's "faults"
   * and "server" settings (runner/scenario.h). Else a server target document
   * (harness/targets/target.h) started for this run as its file says: fault
   * rules need the reference server (such a scenario is unsupported) and the
   * "server" settings do not apply. */
  const json_t *server;
  acmeh_mocks *mocks;        /* the mocks to publish into and validate against; NULL: the run starts its own */
  const char *name;          /* the scenario's name (borrowed by the record) */
  const json_t *def;         /* its definition, runner/scenario.h's shape (borrowed by the record) */
  const char *const *actions; /* the client's actions to run in order, or NULL: def's "actions" / "action" */
  size_t nactions;
  const char *domain;        /* ${DOMAIN} */
  const char *domains;       /* ${DOMAINS} (NULL: domain) */
  const char *work;          /* an existing folder of this run: server/, client/ and client.log go there */
  const acmeh_wire *wire;    /* what the reference server puts on the wire per revision (NULL: newest) */
  double budget_s;           /* the whole run's time limit, seconds */
  /* NULL, or called on the client phase's thread once the first of several
   * actions exited 0 (its certificate in the record's first_cert_pem) and
   * before the second starts: the matrix moves a real server's renewal window
   * there (Pebble's /set-renewal-info/). */
  void (*between)(void *arg, const acmeh_client_run *rec);
  void *between_arg;
} acmeh_clientrun_args;

typedef struct acmeh_clientrun acmeh_clientrun;

/* Phase 1: checks that the client can run the scenario, starts the mocks (when
 * a->mocks is NULL) and the server, sets the variables and calls every
 * suite's scenario_begin (runner/suite.h). Fills rec (zeroed by the caller;
 * rec keeps pointers into *a, which must outlive the run). Returns ACMEH_OK
 * with *out to pass to the next phases; ACMEH_UNSUPPORTED with rec->unsupported
 * and rec->why set (nothing started, *out NULL); or an ENV / INTERNAL code
 * with the reason in err (nothing left running, *out NULL). */
int acmeh_clientrun_start(const acmeh_clientrun_args *a, acmeh_client_run *rec, acmeh_clientrun **out, char *err,
                          size_t errlen);

/* Phase 2, any thread: the client's actions one after the other in one
 * client folder, stopping at the first that does not exit 0 (later ones build
 * on it) or at the budget. Returns ACMEH_OK (the client's exit status and
 * time-out are in the record), or the code of a client that could not be
 * started, reason in err. */
int acmeh_clientrun_client(acmeh_clientrun *r, char *err, size_t errlen);

/* The running server's directory URL and CA file (borrowed; valid until finish). */
const char *acmeh_clientrun_directory(const acmeh_clientrun *r);
const char *acmeh_clientrun_ca_file(const acmeh_clientrun *r);

/* Phase 3: stops the server (no exchange is recorded after it), calls every
 * suite's scenario_end, fills the rest of the record (output, certificate,
 * mock history), stops the run's own mocks and frees r. NULL is a no-op. A
 * client that answered 127 makes the record unsupported. */
void acmeh_clientrun_finish(acmeh_clientrun *r);

/* The three phases in one call. Returns what start or the client phase returned. */
int acmeh_clientrun_run(const acmeh_clientrun_args *a, acmeh_client_run *rec, char *err, size_t errlen);

/* Frees what the record owns and zeroes it (name and def stay). */
void acmeh_client_run_clear(acmeh_client_run *rec);

/* Appends the record to t, readable: a summary line, every exchange with its
 * decoded protected header and payload and the answer, every validation, and
 * the client's output. */
void acmeh_client_run_transcript(const acmeh_client_run *r, acmeh_strbuf *t);

/* The record's exchanges on `resource` (server.h's names), in order; a new
 * array reference (empty for an unobserved run). Caller decrefs. */
json_t *acmeh_client_run_exchanges(const acmeh_client_run *r, const char *resource);

/* The JSON payload of an exchange's JWS parsed (new reference), or NULL. */
json_t *acmeh_client_run_payload(const json_t *exchange);

#endif
