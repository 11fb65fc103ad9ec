/* Object schemas (harness/acme/schema.h): a conforming object of each kind,
 * the first violation's field and message, the status-dependent fields,
 * nested kinds walked on their own, and the log's once-per-(origin, kind,
 * field) grouping. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/schema.h"
#include "tests/unit/support/unit_main.h"

static json_t *load(const char *text) {
  json_t *j = json_loads(text, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  return j;
}

/* The first violation of text as kind: "" when it conforms. */
static const char *first(const char *kind, const char *text) {
  static char field[256], msg[512];
  json_t *j = load(text);
  int rc = acmeh_schema_check(kind, j, field, sizeof field, msg, sizeof msg);
  json_decref(j);
  return rc == 0 ? "" : msg;
}

static const char ORDER[] =
    "{\"status\":\"pending\",\"expires\":\"2026-12-08T10:00:00Z\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],"
    "\"authorizations\":[\"https://ca.test/authz/1\"],\"finalize\":\"https://ca.test/order/1/finalize\"}";

static void test_conforming(void) {
  CU_ASSERT_STRING_EQUAL(first("order", ORDER), "");
  CU_ASSERT_STRING_EQUAL(first("directory", "{\"newNonce\":\"https://ca.test/n\",\"newAccount\":\"https://ca.test/a\","
                                            "\"newOrder\":\"https://ca.test/o\",\"meta\":{\"termsOfService\":\"data:text/plain,x\"}}"), "");
  CU_ASSERT_STRING_EQUAL(first("account", "{\"status\":\"valid\",\"orders\":\"https://ca.test/orders/1\",\"contact\":[\"mailto:a@b.test\"]}"), "");
  CU_ASSERT_STRING_EQUAL(first("challenge", "{\"type\":\"http-01\",\"url\":\"https://ca.test/c/1\",\"status\":\"valid\","
                                            "\"validated\":\"2026-12-08T10:00:00.123+01:00\",\"token\":\"abc\"}"), "");
  CU_ASSERT_STRING_EQUAL(first("problem", "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"status\":400,\"detail\":\"x\"}"), "");
  CU_ASSERT_STRING_EQUAL(first("renewalInfo", "{\"suggestedWindow\":{\"start\":\"2026-12-08T10:00:00Z\",\"end\":\"2026-12-09T10:00:00Z\"}}"), "");
  CU_ASSERT_STRING_EQUAL(first("newOrder", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]}"), "");
  CU_ASSERT_STRING_EQUAL(first("challengeResponse", "{}"), "");
  CU_ASSERT_STRING_EQUAL(first("finalize", "{\"csr\":\"MIIB\"}"), "");
}

static void test_violations(void) {
  CU_ASSERT_STRING_EQUAL(first("order", "{\"status\":\"pending\",\"expires\":\"tomorrow\",\"identifiers\":[],\"authorizations\":[],"
                                        "\"finalize\":\"https://ca.test/f\"}"),
                         "order.expires: not an RFC 3339 timestamp (got \"tomorrow\")");
  CU_ASSERT_STRING_EQUAL(first("order", "{\"status\":\"done\"}"),
                         "order.status: not one of pending,ready,processing,valid,invalid (got \"done\")");
  CU_ASSERT_STRING_EQUAL(first("order", "{\"status\":\"valid\"}"), "order.expires: required when status is \"valid\", missing");
  CU_ASSERT_STRING_EQUAL(first("order", "{\"status\":\"invalid\",\"identifiers\":[{\"type\":\"dns\"}]}"),
                         "order.identifiers[0].value: missing");
  CU_ASSERT_STRING_EQUAL(first("account", "{\"status\":\"valid\",\"orders\":\"/orders/1\"}"),
                         "account.orders: not an absolute http(s) URL (got \"/orders/1\")");
  CU_ASSERT_STRING_EQUAL(first("problem", "{\"status\":\"400\"}"), "problem.status: not an integer (got \"400\")");
  CU_ASSERT_STRING_EQUAL(first("renewalInfo", "{\"suggestedWindow\":{\"start\":\"2026-12-08T10:00:00Z\"}}"),
                         "renewalInfo.suggestedWindow.end: required, missing");
  CU_ASSERT_STRING_EQUAL(first("revokeCert", "{\"certificate\":\"MII=\",\"reason\":4}"),
                         "revokeCert.certificate: not base64url without padding (got \"MII=\")");
  CU_ASSERT_STRING_EQUAL(first("newOrder", "[1]"), "newOrder: not a JSON object (got [1])");
  char f[8], m[8];
  CU_ASSERT_EQUAL(acmeh_schema_check("nonsense", NULL, f, sizeof f, m, sizeof m), -1);
}

typedef struct {
  int objects, bad;
  char kinds[256];
} tally;

static void count(void *ud, const char *kind, const char *path, const char *field, const char *msg) {
  tally *t = ud;
  (void)path, (void)msg;
  t->objects++, t->bad += field != NULL;
  strncat(t->kinds, kind, sizeof t->kinds - strlen(t->kinds) - 2);
  strcat(t->kinds, " ");
}

/* An authorization's malformed challenge is the challenge's violation, not the authorization's. */
static void test_nested(void) {
  json_t *a = load("{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"pending\",\"challenges\":["
                   "{\"type\":\"http-01\",\"url\":\"https://ca.test/c/1\",\"status\":\"pending\"},"
                   "{\"type\":\"dns-01\",\"url\":\"https://ca.test/c/2\",\"status\":\"weird\","
                   "\"error\":{\"type\":\"urn:ietf:params:acme:error:dns\",\"subproblems\":[{\"detail\":3}]}}]}");
  tally t = {0};
  CU_ASSERT_EQUAL(acmeh_schema_walk("authorization", a, count, &t), 2);
  CU_ASSERT_EQUAL(t.objects, 5);
  CU_ASSERT_STRING_EQUAL(t.kinds, "authorization challenge challenge problem problem ");
  char f[128], m[256];
  CU_ASSERT_EQUAL(acmeh_schema_check("authorization", a, f, sizeof f, m, sizeof m), 0);
  json_decref(a);
}

static void test_log(void) {
  acmeh_schema_log *log = acmeh_schema_log_new();
  json_t *bad = load("{\"status\":\"valid\",\"orders\":7}"), *good = load("{\"status\":\"valid\",\"orders\":\"https://ca.test/o\"}");
  CU_ASSERT_EQUAL(acmeh_schema_log_object(log, "CORE-S-001", "account", bad, "POST https://ca.test/a answered 201"), 1);
  CU_ASSERT_EQUAL(acmeh_schema_log_object(log, "CORE-S-001", "account", bad, "POST https://ca.test/b answered 200"), 1);
  CU_ASSERT_EQUAL(acmeh_schema_log_object(log, "CORE-S-002", "account", bad, "POST https://ca.test/c answered 201"), 1);
  CU_ASSERT_EQUAL(acmeh_schema_log_object(log, "CORE-S-002", "account", good, "POST https://ca.test/d answered 200"), 0);
  CU_ASSERT_EQUAL(acmeh_schema_log_count(log, "account"), 4);
  CU_ASSERT_EQUAL(acmeh_schema_log_count(log, "order"), 0);
  size_t n = 0;
  char *v = acmeh_schema_log_violations(log, "account", &n);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_STRING_EQUAL(v, "account.orders: not a string (got 7) (first in CORE-S-001: POST https://ca.test/a answered 201)"
                            " (also in 1 more: CORE-S-002)");
  free(v);
  CU_ASSERT_PTR_NULL(acmeh_schema_log_violations(log, "order", &n));
  CU_ASSERT_EQUAL(n, 0);
  json_decref(bad), json_decref(good);
  acmeh_schema_log_free(log);
  CU_ASSERT_EQUAL(acmeh_schema_log_object(NULL, "x", "account", NULL, NULL), 0);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"conforming objects of each kind", test_conforming},
      {"first violation: field and message", test_violations},
      {"nested kinds walked on their own", test_nested},
      {"log: once per origin, kind and field, grouped", test_log},
  };
  return acmeh_unit_run("acme_schema", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
