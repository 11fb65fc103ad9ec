/* Verdicts and the results of a run, as the report writers see them. */
#ifndef ACMEH_RUNNER_RESULT_H
#define ACMEH_RUNNER_RESULT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  ACMEH_PASS = 0,
  ACMEH_FAIL,  /* the peer broke the rule */
  ACMEH_SKIP,  /* not applicable / feature not offered; reason given */
  ACMEH_ERROR, /* the harness or its environment could not run the check */
  ACMEH_XFAIL, /* failed, as the expectations file said it would */
  ACMEH_XPASS, /* listed as expected to fail, but passed: an alarm */
  ACMEH_BLOCKED /* not judged: a step it needs failed, and the check that judges that step says why */
} acmeh_verdict;

/* "pass", "fail", "skip", "error", "xfail", "xpass", "blocked". */
const char *acmeh_verdict_name(acmeh_verdict v);

typedef struct {
  /* From the catalog (borrowed strings, live as long as the catalog). */
  const char *id;      /* "CORE-S-012" */
  const char *title;
  const char *spec;    /* "core" */
  const char *section; /* "RFC 8555 §6.5" */
  const char *level;   /* "MUST", "SHOULD", "MAY" */
  const char *role;    /* "server" or "client" */
  const char *revision; /* the spec revision tested (--draft; borrowed), or NULL */
  /* Filled by the runner (owned, malloc'd; NULL when absent). */
  acmeh_verdict verdict;
  char *message;      /* one line: why it failed / was skipped / errored */
  char *expected;     /* what the spec wants, for failures */
  char *actual;       /* what arrived, for failures */
  char *xfail_reason; /* from the expectations file */
  char *transcript;   /* every exchange of the check, text */
  char *transcript_path; /* where the transcript file was written, if any */
  const char *blocked_by; /* blocked: the check that judges the step that failed (static), or NULL */
  double duration_s;
} acmeh_result;

typedef struct {
  const char *tool_version;
  const char *target;     /* "pebble" or the server URL */
  const char *peer_version; /* what the target's "version" command said, or NULL */
  const char *role;       /* "server" or "client" */
  uint64_t seed;
  double started_unix;    /* seconds since the epoch */
  double duration_s;
  acmeh_result *results;  /* n entries in catalog order */
  size_t n;
  size_t abandoned;       /* checks the watchdog gave up on: their threads may still run,
                             so the catalog, environment and mocks must outlive the report */
  int interrupted;        /* the run was cancelled (Ctrl-C) before every check ran */
  int strict;             /* --strict: SHOULD/MAY failures count (exit status, JUnit <failure>) */
  int all_transcripts;    /* --report-transcripts all: JUnit/JSON carry every check's transcript,
                             not only those of fail, error and xpass */
} acmeh_run_report;

/* Frees the owned strings of one result (not the struct itself). */
void acmeh_result_clear(acmeh_result *r);

#endif
