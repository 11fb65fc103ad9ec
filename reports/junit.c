/* JUnit XML writer, in the Ant/Jenkins shape that CI systems read
 * (tests/data/junit.xsd describes exactly what is emitted). Written with
 * plain stdio: the format is small and fixed, and escaping is done here. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "reports/report_internal.h"
#include "reports/reports.h"

/* True for the code points XML 1.0 allows in a document (production [2]). */
static int xml_char_ok(uint32_t cp) {
  if (cp < 0x20) return cp == 0x9 || cp == 0xA || cp == 0xD;
  if (cp <= 0xD7FF) return 1;
  if (cp >= 0xE000 && cp <= 0xFFFD) return 1;
  return cp >= 0x10000 && cp <= 0x10FFFF;
}

/* Writes one well-formed code point (len bytes at p) escaped. In attributes,
 * tab/LF/CR become character references because a parser would otherwise
 * normalise them to spaces; CR is referenced in text too, where parsers would
 * turn CRLF into LF. */
static void put_escaped_char(acmeh_rep_file *a, const unsigned char *p, size_t len, uint32_t cp,
                             int attr) {
  switch (cp) {
  case '&': acmeh_rep_puts(a, "&amp;"); return;
  case '<': acmeh_rep_puts(a, "&lt;"); return;
  case '>': acmeh_rep_puts(a, "&gt;"); return; /* also keeps "]]>" out of text */
  case '"': acmeh_rep_puts(a, "&quot;"); return;
  case '\'': acmeh_rep_puts(a, "&apos;"); return;
  case '\r': acmeh_rep_puts(a, "&#13;"); return;
  case '\t': acmeh_rep_puts(a, attr ? "&#9;" : "\t"); return;
  case '\n': acmeh_rep_puts(a, attr ? "&#10;" : "\n"); return;
  }
  if (xml_char_ok(cp))
    acmeh_rep_write(a, p, len);
  else
    acmeh_rep_putc(a, '?'); /* only ASCII controls get here; see put_escaped */
}

/* Writes s escaped for XML. Control characters XML forbids become '?', and
 * bytes that are not UTF-8 (or code points XML forbids, like U+FFFE) become
 * U+FFFD, so whatever a peer sent cannot make the report unparsable. */
static void put_escaped(acmeh_rep_file *a, const char *s, int attr) {
  if (!s) return;
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s), i = 0;
  while (i < n && !a->failed) {
    uint32_t cp;
    size_t len = acmeh_rep_utf8_next(p + i, n - i, &cp);
    if (len == 0) {
      acmeh_rep_puts(a, "\xEF\xBF\xBD");
      i++;
    } else if (cp < 0x80 || xml_char_ok(cp)) {
      put_escaped_char(a, p + i, len, cp, attr);
      i += len;
    } else {
      acmeh_rep_puts(a, "\xEF\xBF\xBD");
      i += len;
    }
  }
}

/* Writes ` name="value"` with value escaped. */
static void put_attr(acmeh_rep_file *a, const char *name, const char *value) {
  acmeh_rep_printf(a, " %s=\"", name);
  put_escaped(a, value ? value : "", 1);
  acmeh_rep_putc(a, '"');
}

static void put_attr_seconds(acmeh_rep_file *a, const char *name, double s) {
  char buf[64];
  acmeh_rep_seconds(s, buf, sizeof buf);
  acmeh_rep_printf(a, " %s=\"%s\"", name, buf);
}

/* Writes tests/failures/errors/skipped attributes from verdict counts:
 * xpass counts as a failure (an alarm); xfail, blocked and the `uncounted`
 * SHOULD/MAY failures as skipped, so that the file agrees with the exit status. */
static void put_counts(acmeh_rep_file *a, const size_t *c, size_t uncounted, size_t n) {
  acmeh_rep_printf(a, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"", n,
                   c[ACMEH_FAIL] - uncounted + c[ACMEH_XPASS], c[ACMEH_ERROR],
                   c[ACMEH_SKIP] + c[ACMEH_XFAIL] + c[ACMEH_BLOCKED] + uncounted);
}

static void put_property(acmeh_rep_file *a, const char *name, const char *value) {
  acmeh_rep_puts(a, "      <property");
  put_attr(a, "name", name);
  put_attr(a, "value", value);
  acmeh_rep_puts(a, "/>\n");
}

/* The seed is in every suite so a single suite's report still replays. */
static void put_properties(acmeh_rep_file *a, const acmeh_run_report *rep, const char *revision) {
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)rep->seed);
  acmeh_rep_puts(a, "    <properties>\n");
  put_property(a, "seed", seed);
  put_property(a, "target", rep->target ? rep->target : "");
  put_property(a, "tool_version", rep->tool_version ? rep->tool_version : "");
  if (rep->peer_version) put_property(a, "peer_version", rep->peer_version); /* the target's "version" command */
  if (revision) put_property(a, "revision", revision); /* the spec revision tested (--draft) */
  acmeh_rep_puts(a, "    </properties>\n");
}

/* The body of <failure>/<error>: what the design promises a failure says. */
static void put_details(acmeh_rep_file *a, const acmeh_result *r, const char *expected,
                        const char *actual) {
  static const char none[] = "(none)";
  acmeh_rep_puts(a, "expected: ");
  put_escaped(a, expected ? expected : none, 0);
  acmeh_rep_puts(a, "\nactual: ");
  put_escaped(a, actual ? actual : none, 0);
  acmeh_rep_puts(a, "\nsection: ");
  put_escaped(a, r->section ? r->section : none, 0);
  acmeh_rep_puts(a, "\ntranscript: ");
  put_escaped(a, r->transcript_path ? r->transcript_path : none, 0);
  acmeh_rep_puts(a, "\n");
}

static void put_failure(acmeh_rep_file *a, const acmeh_result *r) {
  acmeh_rep_puts(a, "      <failure");
  put_attr(a, "message", r->message ? r->message : r->title);
  put_attr(a, "type", r->level ? r->level : "MUST");
  acmeh_rep_puts(a, ">");
  put_details(a, r, r->expected, r->actual);
  acmeh_rep_puts(a, "</failure>\n");
}

/* An xpass is reported as a failure: the expectations file is now wrong and
 * CI should notice, as BoGo does. */
static void put_xpass(acmeh_rep_file *a, const acmeh_result *r) {
  const char *reason = r->xfail_reason ? r->xfail_reason : "no reason given";
  acmeh_rep_puts(a, "      <failure message=\"expected to fail (");
  put_escaped(a, reason, 1);
  acmeh_rep_puts(a, ") but passed\"");
  put_attr(a, "type", r->level ? r->level : "MUST");
  acmeh_rep_puts(a, ">");
  put_details(a, r, r->expected ? r->expected : "a failure, per the expectations file",
              r->actual ? r->actual : "pass");
  acmeh_rep_puts(a, "</failure>\n");
}

static void put_skipped(acmeh_rep_file *a, const acmeh_result *r) {
  acmeh_rep_puts(a, "      <skipped");
  put_attr(a, "message", r->message ? r->message : "skipped");
  acmeh_rep_puts(a, "/>\n");
}

static void put_xfail(acmeh_rep_file *a, const acmeh_result *r) {
  acmeh_rep_puts(a, "      <skipped message=\"expected failure: ");
  put_escaped(a, r->xfail_reason ? r->xfail_reason : "no reason given", 1);
  acmeh_rep_puts(a, ": ");
  put_escaped(a, r->message ? r->message : "", 1);
  acmeh_rep_puts(a, "\"/>\n");
}

static void put_error(acmeh_rep_file *a, const acmeh_result *r) {
  acmeh_rep_puts(a, "      <error");
  put_attr(a, "message", r->message ? r->message : "harness error");
  put_attr(a, "type", "error");
  acmeh_rep_puts(a, ">");
  put_details(a, r, r->expected, r->actual);
  acmeh_rep_puts(a, "</error>\n");
}

/* A SHOULD/MAY failure without --strict: the exit status ignores it, so CI
 * dashboards must not turn red; it stays visible as a skip saying so. */
static void put_uncounted(acmeh_rep_file *a, const acmeh_result *r) {
  char head[96];
  snprintf(head, sizeof head, "%s failure, not counted without --strict: ", r->level ? r->level : "SHOULD");
  acmeh_rep_puts(a, "      <skipped message=\"");
  put_escaped(a, head, 1);
  put_escaped(a, r->message ? r->message : r->title, 1);
  acmeh_rep_puts(a, "\"/>\n");
}

static void put_outcome(acmeh_rep_file *a, const acmeh_run_report *rep, const acmeh_result *r) {
  switch (r->verdict) {
  case ACMEH_PASS: break;
  case ACMEH_FAIL: acmeh_rep_counted(rep, r) ? put_failure(a, r) : put_uncounted(a, r); break;
  case ACMEH_XPASS: put_xpass(a, r); break;
  case ACMEH_SKIP:
  case ACMEH_BLOCKED: put_skipped(a, r); break; /* the message starts "blocked: " and names the judging check */
  case ACMEH_XFAIL: put_xfail(a, r); break;
  case ACMEH_ERROR:
  default: put_error(a, r); break;
  }
}

static void put_testcase(acmeh_rep_file *a, const acmeh_run_report *rep, const acmeh_result *r) {
  acmeh_rep_puts(a, "    <testcase name=\"");
  put_escaped(a, r->id ? r->id : "UNKNOWN", 1);
  acmeh_rep_putc(a, ' ');
  put_escaped(a, r->title ? r->title : "", 1);
  acmeh_rep_putc(a, '"');
  put_attr(a, "classname", acmeh_rep_spec(r));
  put_attr_seconds(a, "time", r->duration_s);
  acmeh_rep_puts(a, ">\n");
  put_outcome(a, rep, r);
  if (r->transcript && *r->transcript && acmeh_rep_keeps_transcript(rep, r)) {
    /* Escaped text rather than CDATA: a transcript may itself contain "]]>". */
    acmeh_rep_puts(a, "      <system-out>");
    put_escaped(a, r->transcript, 0);
    acmeh_rep_puts(a, "</system-out>\n");
  }
  acmeh_rep_puts(a, "    </testcase>\n");
}

static void put_testsuite(acmeh_rep_file *a, const acmeh_run_report *rep,
                          const acmeh_rep_group *g, const char *timestamp, const char *host) {
  acmeh_rep_puts(a, "  <testsuite name=\"");
  put_escaped(a, g->spec, 1);
  acmeh_rep_putc(a, ' ');
  put_escaped(a, g->role, 1);
  acmeh_rep_putc(a, '"');
  put_counts(a, g->counts, g->uncounted, g->n);
  put_attr_seconds(a, "time", g->time_s);
  put_attr(a, "timestamp", timestamp);
  put_attr(a, "hostname", host);
  acmeh_rep_puts(a, ">\n");
  const char *revision = NULL;
  for (size_t i = 0; i < rep->n && !revision; i++)
    if (strcmp(acmeh_rep_spec(&rep->results[i]), g->spec) == 0) revision = rep->results[i].revision;
  put_properties(a, rep, revision);
  for (size_t i = 0; i < rep->n; i++) {
    const acmeh_result *r = &rep->results[i];
    if (strcmp(acmeh_rep_spec(r), g->spec) == 0 && strcmp(acmeh_rep_role(rep, r), g->role) == 0)
      put_testcase(a, rep, r);
  }
  acmeh_rep_puts(a, "  </testsuite>\n");
}

static void put_document(acmeh_rep_file *a, const acmeh_run_report *rep,
                         const acmeh_rep_group *g, size_t ng) {
  size_t total[ACMEH_REP_NVERDICTS] = {0}, uncounted = 0;
  for (size_t i = 0; i < ng; i++) {
    for (size_t v = 0; v < ACMEH_REP_NVERDICTS; v++) total[v] += g[i].counts[v];
    uncounted += g[i].uncounted;
  }
  char timestamp[32], host[256];
  acmeh_rep_iso8601(rep->started_unix, timestamp, sizeof timestamp);
  if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
  host[sizeof host - 1] = '\0'; /* gethostname may truncate without a NUL */

  acmeh_rep_puts(a, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acme-harness\"");
  put_counts(a, total, uncounted, rep->n);
  put_attr_seconds(a, "time", rep->duration_s);
  acmeh_rep_puts(a, ">\n");
  for (size_t i = 0; i < ng; i++) put_testsuite(a, rep, &g[i], timestamp, host);
  acmeh_rep_puts(a, "</testsuites>\n");
}

int acmeh_report_junit_write(const acmeh_run_report *rep, const char *path, char *err,
                             size_t errlen) {
  acmeh_rep_group *g;
  size_t ng;
  if (acmeh_rep_groups(rep, &g, &ng) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory writing %s", path);
  acmeh_rep_file a;
  int rc = acmeh_rep_file_open(&a, path, err, errlen);
  if (rc == ACMEH_OK) {
    put_document(&a, rep, g, ng);
    rc = acmeh_rep_file_commit(&a, err, errlen);
  }
  free(g);
  return rc;
}
