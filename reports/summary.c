/* Console summary: the failures worth reading first, then one line per suite. */
#include <stdlib.h>

#include "reports/report_internal.h"
#include "reports/reports.h"

#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

/* Prints s with control bytes shown as '?': messages carry peer-sent text,
 * and a hostile server must not drive the user's terminal. */
static void put_clean(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

static const char *verdict_label(acmeh_verdict v, const char **colour) {
  switch (v) {
  case ACMEH_FAIL: *colour = RED; return "FAIL ";
  case ACMEH_XPASS: *colour = RED; return "XPASS";
  default: *colour = YELLOW; return "ERROR";
  }
}

static void put_problem(const acmeh_run_report *rep, const acmeh_result *r, FILE *out, int color) {
  const char *colour;
  const char *label = verdict_label(r->verdict, &colour);
  fprintf(out, "%s%s%s ", color ? colour : "", label, color ? RESET : "");
  put_clean(out, r->id ? r->id : "UNKNOWN");
  /* a failure the exit status ignores says so where it is listed */
  if (r->verdict == ACMEH_FAIL && !acmeh_rep_counted(rep, r)) fprintf(out, " (%s, not counted)", r->level ? r->level : "SHOULD");
  fputs(": ", out);
  if (r->verdict == ACMEH_XPASS) {
    fputs("expected to fail (", out);
    put_clean(out, r->xfail_reason ? r->xfail_reason : "no reason given");
    fputs(") but passed", out);
  } else {
    put_clean(out, r->message ? r->message : (r->title ? r->title : ""));
  }
  if (r->transcript_path) {
    fputs(" (transcript: ", out);
    put_clean(out, r->transcript_path);
    fputc(')', out);
  }
  fputc('\n', out);
}

/* `seconds`: wall time of the run when it has one suite (checks overlap with --jobs,
 * so their sum would overstate it), else the suite's summed check time. */
static void put_group(const acmeh_rep_group *g, double seconds, FILE *out, int color) {
  const size_t *c = g->counts;
  const char *colour = GREEN;
  if (c[ACMEH_FAIL] || c[ACMEH_XPASS])
    colour = RED;
  else if (c[ACMEH_ERROR])
    colour = YELLOW;
  fprintf(out, "%s", color ? colour : "");
  put_clean(out, g->spec);
  fputc(' ', out);
  put_clean(out, g->role);
  fprintf(out, ": %zu passed, %zu failed, %zu skipped, %zu errors, %zu xfail, %zu xpass", c[ACMEH_PASS], c[ACMEH_FAIL],
          c[ACMEH_SKIP], c[ACMEH_ERROR], c[ACMEH_XFAIL], c[ACMEH_XPASS]);
  if (c[ACMEH_BLOCKED]) fprintf(out, ", %zu blocked", c[ACMEH_BLOCKED]); /* shown when there are any: one fault upstream */
  fprintf(out, " (%.1f s)%s\n", seconds, color ? RESET : "");
}

void acmeh_report_summary(const acmeh_run_report *rep, FILE *out, int color) {
  for (size_t i = 0; i < rep->n; i++) {
    acmeh_verdict v = rep->results[i].verdict;
    if (v != ACMEH_PASS && v != ACMEH_SKIP && v != ACMEH_XFAIL && v != ACMEH_BLOCKED) put_problem(rep, &rep->results[i], out, color);
  }
  acmeh_rep_group *g;
  size_t ng;
  if (acmeh_rep_groups(rep, &g, &ng) != 0) {
    fputs("(summary unavailable: out of memory)\n", out);
    return;
  }
  for (size_t i = 0; i < ng; i++) put_group(&g[i], ng == 1 ? rep->duration_s : g[i].time_s, out, color);
  free(g);
  /* The design promises the seed in every report, so a failure can be replayed. */
  fprintf(out, "seed %llu\n", (unsigned long long)rep->seed);
}
