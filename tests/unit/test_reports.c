/* Unit tests for the report writers: a run with one result of each verdict
 * (plus a second spec/role) and hostile text, written to a temp dir and read
 * back. With ACMEH_JUNIT_OUT set, the JUnit file is also written there, for
 * tests/integration/test_junit_schema.sh to validate against the XSD. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, asprintf, open_memstream */
#endif
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "harness/runner/runner.h"
#include "reports/report_internal.h"
#include "reports/reports.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

#define NRESULTS 7
#define BIG_LEN (100 * 1024)
#define NASTY "bad <>&\"' \x01 \xff\xfe end"
#define NASTY_JSON "bad <>&\"' \x01 \xEF\xBF\xBD\xEF\xBF\xBD end"

static char tmpdir[64];
static acmeh_result results[NRESULTS];
static acmeh_run_report rep;

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* 100 KB of transcript with the things that break naive writers sprinkled in. */
static char *big_transcript(void) {
  static const char chunk[] = "POST /new-order HTTP/1.1\r\nX: ]]> <&> \x02\xc3\x28 é\n";
  char *t = malloc(BIG_LEN + 1);
  size_t n = 0;
  while (n + sizeof chunk - 1 <= BIG_LEN) {
    memcpy(t + n, chunk, sizeof chunk - 1);
    n += sizeof chunk - 1;
  }
  memset(t + n, 'z', BIG_LEN - n);
  t[BIG_LEN] = '\0';
  return t;
}

static void set_result(int i, const char *id, const char *spec, const char *role, acmeh_verdict v,
                       const char *msg, const char *xfail_reason) {
  acmeh_result *r = &results[i];
  r->id = id;
  r->title = "Title with <tag> & \"quotes\"";
  r->spec = spec;
  r->section = "RFC 8555 \xc2\xa7" "6.5";
  r->level = "MUST";
  r->role = role;
  r->verdict = v;
  r->message = xstrdup(msg);
  r->xfail_reason = xstrdup(xfail_reason);
  r->duration_s = 0.25 * (i + 1);
}

static void build_report(void) {
  set_result(0, "CORE-S-001", "core", "server", ACMEH_PASS, NULL, NULL);
  set_result(1, "CORE-S-002", "core", "server", ACMEH_FAIL, NASTY, NULL);
  set_result(2, "CORE-S-003", "core", "server", ACMEH_SKIP, "server does not advertise renewalInfo", NULL);
  set_result(3, "CORE-S-004", "core", "server", ACMEH_ERROR, "port in use", NULL);
  set_result(4, "CORE-S-005", "core", "server", ACMEH_XFAIL, "nonce reused", "known bug #12");
  set_result(5, "CORE-S-006", "core", "server", ACMEH_XPASS, NULL, "issue 7");
  set_result(6, "ARI-C-001", "ari", "client", ACMEH_PASS, NULL, NULL);
  results[1].expected = strdup("status 400 <urn:ietf:params:acme:error:badNonce>");
  results[1].actual = strdup("status 200 \x01\xff");
  results[1].transcript = big_transcript();
  results[0].transcript = strdup("GET /directory\n");
  results[6].transcript = strdup("client said hello\n");
  rep = (acmeh_run_report){.tool_version = "acme-harness 0.1.0", .target = "pebble & co",
                           .role = "server", .seed = 42, .started_unix = 1700000000.0,
                           .duration_s = 3.5, .results = results, .n = NRESULTS,
                           .all_transcripts = 1}; /* --report-transcripts all; test_ci_defaults covers the default */
}

static int suite_init(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/acmeh-reports-XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  build_report();
  return 0;
}

static int suite_clean(void) {
  for (int i = 0; i < NRESULTS; i++) acmeh_result_clear(&results[i]);
  return acmeh_test_rmtree(tmpdir);
}

/* Returns the malloc'd contents of path (NUL-terminated) and its size. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static size_t count(const char *hay, const char *needle) {
  size_t k = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) k++;
  return k;
}

/* An independent check that every byte is a character XML 1.0 allows:
 * strict UTF-8, no C0 controls but tab/LF/CR, no U+FFFE/U+FFFF. */
static int xml_clean(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
      i++;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!len || c > 0xF4 || i + len > n) return 0;
    unsigned cp = c & (0x3F >> (len - 1));
    for (int k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF ||
        cp > 0x10FFFF)
      return 0;
    i += len;
  }
  return 1;
}

static char *path_in(const char *name) {
  char *p;
  if (asprintf(&p, "%s/%s", tmpdir, name) < 0) return NULL;
  return p;
}

/* Transcripts run first so the JUnit and JSON tests see the paths. */
static void test_transcripts(void) {
  char err[256] = "", *dir = path_in("t/nested");
  CU_ASSERT_EQUAL(acmeh_report_transcripts_write(&rep, dir, err, sizeof err), ACMEH_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(results[1].transcript_path);
  CU_ASSERT_PTR_NULL(results[2].transcript_path); /* no transcript, no file */
  size_t len = 0;
  char *t = slurp(results[1].transcript_path, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(len, BIG_LEN);
  CU_ASSERT(memcmp(t, results[1].transcript, BIG_LEN) == 0);
  CU_ASSERT(strstr(results[1].transcript_path, "/CORE-S-002.txt") != NULL);
  CU_ASSERT(strstr(results[6].transcript_path, "/ARI-C-001.txt") != NULL);
  free(t);
  free(dir);
}

/* --repeat puts one ID in a run several times; no run's transcript is lost. */
static void test_transcripts_repeat(void) {
  char err[256] = "", *dir = path_in("rep");
  acmeh_result r[2] = {{.id = "CORE-S-009", .transcript = strdup("first")},
                       {.id = "CORE-S-009", .transcript = strdup("second")}};
  acmeh_run_report two = {.results = r, .n = 2};
  CU_ASSERT_EQUAL(acmeh_report_transcripts_write(&two, dir, err, sizeof err), ACMEH_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r[1].transcript_path);
  CU_ASSERT(strstr(r[0].transcript_path, "/CORE-S-009.txt") != NULL);
  CU_ASSERT(strstr(r[1].transcript_path, "/CORE-S-009.2.txt") != NULL);
  char *t = slurp(r[1].transcript_path, NULL);
  CU_ASSERT(t && strcmp(t, "second") == 0);
  free(t);
  free(dir);
  acmeh_result_clear(&r[0]);
  acmeh_result_clear(&r[1]);
}

static void test_transcripts_bad_dir(void) {
  char err[256] = "";
  acmeh_run_report r2 = rep;
  r2.n = 1; /* only result 0, whose path would be replaced on success */
  CU_ASSERT_EQUAL(acmeh_report_transcripts_write(&r2, "/proc/no/such", err, sizeof err),
                  ACMEH_ENV_IO);
  CU_ASSERT(err[0] != '\0');
}

static void test_junit(void) {
  char err[256] = "", *path = path_in("junit.xml");
  CU_ASSERT_EQUAL_FATAL(acmeh_report_junit_write(&rep, path, err, sizeof err), ACMEH_OK);
  size_t len = 0;
  char *x = slurp(path, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT(xml_clean((unsigned char *)x, len));
  CU_ASSERT(strstr(x, "<testsuites name=\"acme-harness\" tests=\"7\" failures=\"2\" errors=\"1\" "
                      "skipped=\"2\" time=\"3.500\"") != NULL);
  CU_ASSERT_EQUAL(count(x, "<testsuite "), 2);
  CU_ASSERT(strstr(x, "<testsuite name=\"core server\" tests=\"6\" failures=\"2\" errors=\"1\" "
                      "skipped=\"2\"") != NULL);
  CU_ASSERT(strstr(x, "<testsuite name=\"ari client\" tests=\"1\" failures=\"0\"") != NULL);
  CU_ASSERT(strstr(x, "timestamp=\"2023-11-14T22:13:20Z\"") != NULL);
  CU_ASSERT_EQUAL(count(x, "<testcase "), 7);
  CU_ASSERT_EQUAL(count(x, "<failure "), 2);
  CU_ASSERT_EQUAL(count(x, "<skipped "), 2);
  CU_ASSERT_EQUAL(count(x, "<error "), 1);
  CU_ASSERT_EQUAL(count(x, "<system-out>"), 3);
  CU_ASSERT_EQUAL(count(x, "<property name=\"seed\" value=\"42\"/>"), 2);
  CU_ASSERT(strstr(x, "value=\"pebble &amp; co\"") != NULL);
  CU_ASSERT(strstr(x, "name=\"CORE-S-002 Title with &lt;tag&gt; &amp; &quot;quotes&quot;\" "
                      "classname=\"core\" time=\"0.500\"") != NULL);
  /* The nasty message: escaped, 0x01 -> '?', each invalid byte -> U+FFFD. */
  CU_ASSERT(strstr(x, "message=\"bad &lt;&gt;&amp;&quot;&apos; ? \xEF\xBF\xBD\xEF\xBF\xBD end\" "
                      "type=\"MUST\">expected: status 400 &lt;urn:") != NULL);
  CU_ASSERT(strstr(x, "\nactual: status 200 ?\xEF\xBF\xBD\nsection: RFC 8555 \xc2\xa7" "6.5\n"
                      "transcript: ") != NULL);
  CU_ASSERT(strstr(x, "/CORE-S-002.txt\n</failure>") != NULL);
  CU_ASSERT(strstr(x, "<skipped message=\"server does not advertise renewalInfo\"/>") != NULL);
  CU_ASSERT(strstr(x, "<skipped message=\"expected failure: known bug #12: nonce reused\"/>") !=
            NULL);
  CU_ASSERT(strstr(x, "<failure message=\"expected to fail (issue 7) but passed\"") != NULL);
  CU_ASSERT(strstr(x, "<error message=\"port in use\"") != NULL);
  /* The transcript: "]]>" harmless, CR kept as a reference, 100 KB present. */
  CU_ASSERT(strstr(x, "]]>") == NULL);
  CU_ASSERT(strstr(x, "HTTP/1.1&#13;\nX: ]]&gt; &lt;&amp;&gt; ?\xEF\xBF\xBD( \xc3\xa9\n") != NULL);
  CU_ASSERT(len > BIG_LEN);
  const char *out = getenv("ACMEH_JUNIT_OUT");
  if (out && *out) CU_ASSERT_EQUAL(acmeh_report_junit_write(&rep, out, err, sizeof err), ACMEH_OK);
  free(x);
  free(path);
}

static void test_junit_bad_path(void) {
  char err[256] = "";
  CU_ASSERT_EQUAL(acmeh_report_junit_write(&rep, "/nonexistent-dir/x/junit.xml", err, sizeof err),
                  ACMEH_ENV_IO);
  CU_ASSERT(strstr(err, "/nonexistent-dir/x/junit.xml") != NULL);
}

static void test_junit_empty(void) {
  char err[256] = "", *path = path_in("empty.xml");
  acmeh_run_report empty = {.seed = 1};
  CU_ASSERT_EQUAL_FATAL(acmeh_report_junit_write(&empty, path, err, sizeof err), ACMEH_OK);
  char *x = slurp(path, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT(strstr(x, "tests=\"0\"") != NULL);
  CU_ASSERT_EQUAL(count(x, "<testsuite "), 0);
  free(x);
  free(path);
}

static void check_json_result(json_t *r) {
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "id")), "CORE-S-002");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "verdict")), "fail");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "message")), NASTY_JSON);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "level")), "MUST");
  CU_ASSERT(json_is_null(json_object_get(r, "xfail_reason")));
  CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(r, "duration_s")), 0.5, 1e-9);
  CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(r, "transcript"))), BIG_LEN + 2 *
                  (BIG_LEN / 44)); /* each 44-byte chunk's one bad byte grew by two */
  CU_ASSERT(strstr(json_string_value(json_object_get(r, "transcript_path")), "CORE-S-002.txt") !=
            NULL);
}

static void test_json(void) {
  char err[256] = "", *path = path_in("results.json");
  CU_ASSERT_EQUAL_FATAL(acmeh_report_json_write(&rep, path, err, sizeof err), ACMEH_OK);
  json_error_t jerr;
  json_t *doc = json_load_file(path, 0, &jerr);
  CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "target")), "pebble & co");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "seed")), 42);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "started")), "2023-11-14T22:13:20Z");
  json_t *sum = json_object_get(doc, "summary");
  static const int want[] = {2, 1, 1, 1, 1, 1};
  for (int v = 0; v < 6; v++)
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(sum, acmeh_verdict_name(v))), want[v]);
  json_t *res = json_object_get(doc, "results");
  CU_ASSERT_EQUAL_FATAL(json_array_size(res), NRESULTS);
  check_json_result(json_array_get(res, 1));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(res, 4), "xfail_reason")),
                         "known bug #12");
  json_decref(doc);
  free(path);
}

static char *summary_text(int color) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  acmeh_report_summary(&rep, f, color);
  fclose(f);
  return buf;
}

static void test_summary(void) {
  char *s = summary_text(0);
  CU_ASSERT(strstr(s, "core server: 1 passed, 1 failed, 1 skipped, 1 errors, 1 xfail, 1 xpass "
                      "(5.250 s)") == NULL); /* one decimal, not three */
  CU_ASSERT(strstr(s, "core server: 1 passed, 1 failed, 1 skipped, 1 errors, 1 xfail, 1 xpass "
                      "(5.2 s)\n") != NULL || strstr(s, "(5.3 s)\n") != NULL);
  CU_ASSERT(strstr(s, "ari client: 1 passed, 0 failed, 0 skipped, 0 errors, 0 xfail, 0 xpass") !=
            NULL);
  CU_ASSERT(strstr(s, "FAIL  CORE-S-002: bad <>&\"' ? ") != NULL);
  CU_ASSERT(strstr(s, "/CORE-S-002.txt)\n") != NULL);
  CU_ASSERT(strstr(s, "XPASS CORE-S-006: expected to fail (issue 7) but passed") != NULL);
  CU_ASSERT(strstr(s, "ERROR CORE-S-004: port in use") != NULL);
  CU_ASSERT(strstr(s, "CORE-S-003") == NULL); /* skips are not problems */
  CU_ASSERT(strstr(s, "seed 42\n") != NULL);
  CU_ASSERT(strchr(s, '\033') == NULL);
  free(s);
  s = summary_text(1);
  CU_ASSERT(strstr(s, "\033[31m") != NULL);
  CU_ASSERT(strstr(s, "\033[32mari client") != NULL);
  free(s);
}

/* A blocked check (a step it needed failed; another check judges that step):
 * JUnit writes it skipped with its reason, JSON counts it, the summary line
 * counts it separately and does not list it as a problem. */
static void test_blocked(void) {
  acmeh_result r2[2] = {
      {.id = "CORE-S-029", .title = "t", .spec = "core", .role = "server", .level = "MUST", .verdict = ACMEH_FAIL,
       .message = "expected Location; got none"},
      {.id = "CORE-S-046", .title = "t", .spec = "core", .role = "server", .level = "MUST", .verdict = ACMEH_BLOCKED,
       .message = "blocked: newAccount failed: no Location (see CORE-S-029)", .blocked_by = "CORE-S-029"}};
  acmeh_run_report r = {.tool_version = "t", .target = "x", .role = "server", .results = r2, .n = 2};
  char err[256], *junit = path_in("blocked.xml"), *json = path_in("blocked.json"), *buf = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(acmeh_report_junit_write(&r, junit, err, sizeof err), ACMEH_OK);
  char *x = slurp(junit, &len);
  CU_ASSERT(x && strstr(x, "<skipped message=\"blocked: newAccount failed: no Location (see CORE-S-029)\"") != NULL);
  CU_ASSERT(x && strstr(x, "failures=\"1\"") != NULL && strstr(x, "skipped=\"1\"") != NULL);
  CU_ASSERT_EQUAL_FATAL(acmeh_report_json_write(&r, json, err, sizeof err), ACMEH_OK);
  json_t *doc = json_load_file(json, 0, NULL);
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "summary"), "blocked")), 1);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(doc, "results"), 1), "verdict")), "blocked");
  FILE *f = open_memstream(&buf, &len);
  acmeh_report_summary(&r, f, 0);
  fclose(f);
  CU_ASSERT(strstr(buf, "core server: 0 passed, 1 failed, 0 skipped, 0 errors, 0 xfail, 0 xpass, 1 blocked (") != NULL);
  CU_ASSERT(strstr(buf, "CORE-S-046") == NULL); /* not a problem of its own */
  CU_ASSERT_EQUAL(acmeh_runner_exit_status(&r, 1), 1); /* the failure counts, the blocked check does not */
  r2[0].verdict = ACMEH_PASS;
  CU_ASSERT_EQUAL(acmeh_runner_exit_status(&r, 1), 0);
  /* The blocked check alone: the step's judge is not in the run, so nothing reports the fault. */
  acmeh_run_report only = {.results = r2 + 1, .n = 1};
  CU_ASSERT_EQUAL(acmeh_runner_exit_status(&only, 0), 1);
  CU_ASSERT_STRING_EQUAL(acmeh_runner_unreported_block(&only, 0), "CORE-S-029");
  json_decref(doc);
  free(x), free(buf), free(junit), free(json);
}

/* The defaults a CI user gets: transcripts only of what failed, and a SHOULD
 * failure that does not change the exit status written as skipped, saying so;
 * with --strict it is a <failure>. */
static void test_ci_defaults(void) {
  acmeh_result r2[3] = {
      {.id = "CORE-S-001", .title = "t", .spec = "core", .role = "server", .level = "MUST", .verdict = ACMEH_PASS,
       .transcript = "pass transcript"},
      {.id = "CORE-S-063", .title = "t", .spec = "core", .role = "server", .level = "SHOULD", .verdict = ACMEH_FAIL,
       .message = "expected x; got y", .transcript = "should transcript"},
      {.id = "CORE-S-002", .title = "t", .spec = "core", .role = "server", .level = "MUST", .verdict = ACMEH_FAIL,
       .message = "expected a; got b", .transcript = "must transcript"}};
  acmeh_run_report r = {.tool_version = "t", .target = "x", .role = "server", .results = r2, .n = 3};
  char err[256], *junit = path_in("ci.xml"), *json = path_in("ci.json");
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(acmeh_report_junit_write(&r, junit, err, sizeof err), ACMEH_OK);
  char *x = slurp(junit, &len);
  CU_ASSERT(x && strstr(x, "pass transcript") == NULL);
  CU_ASSERT(x && strstr(x, "must transcript") != NULL && strstr(x, "should transcript") != NULL);
  CU_ASSERT(x && strstr(x, "<skipped message=\"SHOULD failure, not counted without --strict: expected x; got y\"") != NULL);
  CU_ASSERT(x && count(x, "<failure") == 1 && strstr(x, "failures=\"1\"") != NULL && strstr(x, "skipped=\"1\"") != NULL);
  free(x);
  char *buf = NULL;
  FILE *f = open_memstream(&buf, &len);
  acmeh_report_summary(&r, f, 0);
  fclose(f);
  CU_ASSERT(strstr(buf, "FAIL  CORE-S-063 (SHOULD, not counted): expected x; got y") != NULL);
  CU_ASSERT(strstr(buf, "FAIL  CORE-S-002: expected a; got b") != NULL);
  free(buf);
  CU_ASSERT_EQUAL_FATAL(acmeh_report_json_write(&r, json, err, sizeof err), ACMEH_OK);
  json_t *doc = json_load_file(json, 0, NULL), *res = json_object_get(doc, "results");
  CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(res, 0), "transcript")));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(res, 2), "transcript")), "must transcript");
  json_decref(doc);
  r.strict = 1;
  CU_ASSERT_EQUAL_FATAL(acmeh_report_junit_write(&r, junit, err, sizeof err), ACMEH_OK);
  x = slurp(junit, &len);
  CU_ASSERT(x && count(x, "<failure") == 2 && strstr(x, "failures=\"2\"") != NULL);
  free(x), free(junit), free(json);
}

static void test_utf8_decoder(void) {
  uint32_t cp = 0;
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
  CU_ASSERT_EQUAL(cp, 0xE9);
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
  CU_ASSERT_EQUAL(cp, 0x1F600);
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xc0\xaf", 2, &cp), 0); /* overlong */
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0); /* surrogate */
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
  CU_ASSERT_EQUAL(acmeh_rep_utf8_next((const unsigned char *)"\xe2\x82", 2, &cp), 0); /* truncated */
}

/* U+FFFE is well-formed UTF-8 but not an XML character. */
static void test_junit_nonchar(void) {
  char err[256] = "", *path = path_in("nonchar.xml");
  acmeh_result r = {.id = "X-S-001", .title = "t", .spec = "x", .verdict = ACMEH_SKIP,
                    .message = strdup("a\xef\xbf\xbe" "b\x1b[31m")};
  acmeh_run_report one = {.results = &r, .n = 1};
  CU_ASSERT_EQUAL_FATAL(acmeh_report_junit_write(&one, path, err, sizeof err), ACMEH_OK);
  size_t len;
  char *x = slurp(path, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT(xml_clean((unsigned char *)x, len));
  CU_ASSERT(strstr(x, "message=\"a\xef\xbf\xbd" "b?[31m\"") != NULL);
  CU_ASSERT(strstr(x, "<testsuite name=\"x unknown\"") != NULL); /* no role anywhere */
  free(x);
  free(path);
  acmeh_result_clear(&r);
}

/* Peer text for the terminal: C0, DEL, UTF-8 C1 controls and bidi overrides
 * become one '?' each; other UTF-8 stays; the copy is cut to the buffer. */
static void test_term_clean(void) {
  char buf[64];
  CU_ASSERT_STRING_EQUAL(acmeh_term_clean("a\x1b[2Jb\x7f", buf, sizeof buf), "a?[2Jb?");
  CU_ASSERT_STRING_EQUAL(acmeh_term_clean("x\xc2\x9b" "2J\xc2\x9d" "0;t\xc2\x9c", buf, sizeof buf), "x?2J?0;t?");
  CU_ASSERT_STRING_EQUAL(acmeh_term_clean("abc\xe2\x80\xae" "def\xe2\x81\xa6", buf, sizeof buf), "abc?def?");
  CU_ASSERT_STRING_EQUAL(acmeh_term_clean("caf\xc3\xa9 \xc2", buf, sizeof buf), "caf\xc3\xa9 \xc2");
  CU_ASSERT_STRING_EQUAL(acmeh_term_clean(NULL, buf, sizeof buf), "");
  CU_ASSERT_STRING_EQUAL(acmeh_term_clean("abcdef", buf, 4), "abc");
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"terminal text", test_term_clean},
      {"utf8 decoder", test_utf8_decoder},
      {"transcripts", test_transcripts},
      {"transcripts repeat", test_transcripts_repeat},
      {"transcripts bad dir", test_transcripts_bad_dir},
      {"junit", test_junit},
      {"junit bad path", test_junit_bad_path},
      {"junit empty run", test_junit_empty},
      {"junit noncharacters", test_junit_nonchar},
      {"json", test_json},
      {"summary", test_summary},
      {"blocked", test_blocked},
      {"ci defaults", test_ci_defaults},
  };
  return acmeh_unit_run("reports", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
