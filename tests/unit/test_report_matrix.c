/* Unit tests for the interop matrix writer (reports/matrix.c): a 2 x 2
 * matrix with every verdict and hostile peer text (markup, table separators,
 * control bytes, ill-formed UTF-8) written to a temp dir and read back. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "reports/reports.h"
#include "tests/unit/support/unit_main.h"

#define NASTY "<script>x</script> | a&b \"q\" \x01 \xff end"

static char tmpdir[64];

static char *slurp(const char *name) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static const char *const clients[] = {"lego", "cl<i>ent|x"};
static const acmeh_mx_column cols[] = {{"reference", "issue", "http-01", NULL}, {"pebble", "issue", "tls-alpn-01", "2.4.0+ds1-2"}};
static const char *const versions[] = {"4.9.1-1", NULL};
static acmeh_mx_cell cells[] = {
    {ACMEH_PASS, "certificate issued", 1.25, "transcripts/lego--reference--http-01.txt", 9, "CORE-C-009,CORE-C-0<b>"},
    {ACMEH_SKIP, "lego lacks tls-alpn-01", 0, "transcripts/lego--pebble--tls-alpn-01.txt", 0, NULL},
    {ACMEH_FAIL, NASTY, 2.5, "transcripts/c--reference--http-01.txt", 3, NULL},
    {ACMEH_ERROR, "pebble is not installed", 0.1, NULL, 0, NULL},
};
static const acmeh_matrix m = {.clients = clients, .client_versions = versions, .nclients = 2, .columns = cols, .ncolumns = 2,
                               .cells = cells, .started_unix = 1.8e9, .duration_s = 12.5};

static void test_write(void) {
  char err[256];
  CU_ASSERT_EQUAL_FATAL(acmeh_report_matrix_write(&m, tmpdir, err, sizeof err), ACMEH_OK);
  const char *md = slurp("matrix.md");
  CU_ASSERT_PTR_NOT_NULL_FATAL(md);
  CU_ASSERT_PTR_NOT_NULL(strstr(md, "| client | reference / http-01 | pebble (2.4.0+ds1-2) / tls-alpn-01 |\n|---|---|---|\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(md, "| lego (4.9.1-1) | [pass](transcripts/lego--reference--http-01.txt) 1.2 s; request checks failed: CORE-C-009,CORE-C-0&lt;b&gt; |"));
  CU_ASSERT_PTR_NOT_NULL(strstr(md, "[skip](transcripts/lego--pebble--tls-alpn-01.txt): lego lacks tls-alpn-01 |"));
  /* Peer text can neither open a column nor inject markup. */
  CU_ASSERT_PTR_NOT_NULL(strstr(md, "| cl&lt;i&gt;ent\\|x |"));
  CU_ASSERT_PTR_NOT_NULL(strstr(md, "&lt;script&gt;x&lt;/script&gt; \\| a&amp;b"));
  CU_ASSERT_PTR_NULL(strstr(md, "<script>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(md, "**ERROR** 0.1 s: pebble is not installed |"));
  const char *html = slurp("matrix.html");
  CU_ASSERT_PTR_NOT_NULL_FATAL(html);
  CU_ASSERT_PTR_NULL(strstr(html, "<script>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "&lt;script&gt;x&lt;/script&gt; | a&amp;b &quot;q&quot;"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<td class=\"fail\"><a href=\"transcripts/c--reference--http-01.txt\">fail</a> 2.5 s"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<td class=\"error\">error 0.1 s"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<th>cl&lt;i&gt;ent|x</th>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "request checks failed: CORE-C-009,CORE-C-0&lt;b&gt;"));
  json_t *doc = json_loads(slurp("matrix.json"), 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
  json_t *c = json_array_get(json_object_get(doc, "cells"), 2);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "verdict")), "fail");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "client")), "cl<i>ent|x");
  CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(c, "reason")), "\xEF\xBF\xBD end"));
  CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(json_object_get(doc, "cells"), 3), "transcript")));
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "summary"), "skip")), 1);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(doc, "versions"), "lego")), "4.9.1-1");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(doc, "versions"), "pebble")), "2.4.0+ds1-2");
  CU_ASSERT_PTR_NULL(json_object_get(json_object_get(doc, "versions"), "reference"));
  /* Per-request client checks: judged and failed ones per cell; none on an unjudged cell. */
  json_t *rq = json_object_get(json_array_get(json_object_get(doc, "cells"), 0), "request_checks");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(rq, "judged")), 9);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(rq, "failed"), 0)), "CORE-C-009");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(rq, "failed"), 1)), "CORE-C-0<b>");
  CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(c, "request_checks"), "failed")), 0);
  CU_ASSERT_PTR_NULL(json_object_get(json_array_get(json_object_get(doc, "cells"), 1), "request_checks"));
  json_decref(doc);
}

static void test_bad_dir(void) {
  char err[256] = "";
  CU_ASSERT_EQUAL(acmeh_report_matrix_write(&m, "/nonexistent/dir", err, sizeof err), ACMEH_ENV_IO);
  CU_ASSERT_TRUE(strlen(err) > 0);
}

static int suite_init(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/acmeh-mx-unit-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : 1;
}

static int suite_clean(void) {
  static const char *const names[] = {"matrix.md", "matrix.html", "matrix.json"};
  char path[128];
  for (int i = 0; i < 3; i++) snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]), unlink(path);
  rmdir(tmpdir);
  return 0;
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"write md, html, json", test_write},
      {"unwritable folder", test_bad_dir},
  };
  return acmeh_unit_run("report_matrix", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
