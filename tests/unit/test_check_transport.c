/* Unit tests for server checks whose own requests hit a transport error: the
 * reference server (in-process) drops the answer to the check's POST after
 * its headers, so the reference client holds a partial response. The check
 * must end with an error naming the connection and free what it received;
 * under AddressSanitizer a leak check after each run makes a leak this
 * test's failure (not only a report at exit). */
#include "base/clock.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "harness/runner/check.h"
#include "harness/server/server.h"
#include "mocks/mocks.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* Nonzero when LeakSanitizer finds unreachable blocks now. */
static int leaks_now(void) { return __lsan_do_recoverable_leak_check(); }
#else
static int leaks_now(void) { return 0; }
#endif

static acmeh_mocks *M;
static char RUN_DIR[] = "/tmp/acmeh-test-check-transport-XXXXXX";
static char ERR[512];

/* Every POST to an account URL loses its answer after the headers. */
static const char *const DROP_ACCOUNT_POST =
    "[{\"name\":\"cut\",\"match\":{\"resource\":\"account\",\"method\":\"POST\"},"
    "\"action\":{\"drop\":\"after_headers\"}}]";

/* Runs check `id` against a fresh server with DROP_ACCOUNT_POST; returns its
 * code and copies its message (or err) into msg. */
static int run_check(const char *id, char *msg, size_t msglen) {
  json_t *rules = json_loads(DROP_ACCOUNT_POST, 0, NULL);
  acmeh_server_config sc = {.dns_port = acmeh_mocks_dns_port(M), .http01_port = acmeh_mocks_http01_port(M),
                            .tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), .run_dir = RUN_DIR, .faults = rules};
  acmeh_server *s = NULL;
  int rc = acmeh_server_start(&sc, &s, ERR, sizeof ERR);
  json_decref(rules);
  if (rc) return snprintf(msg, msglen, "server: %s", ERR), -1;
  acmeh_env env = {.directory_url = acmeh_server_directory_url(s), .ca_file = acmeh_server_ca_file(s), .mocks = M,
                   .domain = "transport-test.example"};
  acmeh_check_ctx ctx = {.env = &env, .id = id, .section = "RFC 8555", .deadline = acmeh_now_mono() + 20, .rng = 7};
  acmeh_check_fn fn = acmeh_check_impl_find(id);
  rc = fn ? fn(&ctx) : -1;
  snprintf(msg, msglen, "%s", ctx.message ? ctx.message : ctx.err);
  free(ctx.message), free(ctx.expected), free(ctx.actual);
  acmeh_strbuf_free(&ctx.transcript);
  acmeh_server_stop(s);
  return rc;
}

static void expect_conn_error_no_leak(const char *id) {
  char msg[1024];
  int rc = run_check(id, msg, sizeof msg);
  fprintf(stderr, "\n%s: %s\n", id, msg);
  CU_ASSERT_EQUAL(rc, ACMEH_PEER_CONN);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "connection failed"));
  CU_ASSERT_EQUAL(leaks_now(), 0);
}

static void test_forged_nonce_post_cut(void) { expect_conn_error_no_leak("CORE-S-012"); }

static void test_not_b64_nonce_post_cut(void) { expect_conn_error_no_leak("CORE-S-014"); }

static int suite_init(void) {
  if (!mkdtemp(RUN_DIR)) return -1;
  acmeh_mocks_config mc = {.mgmt_port = -1};
  if (acmeh_mocks_start(&mc, &M, ERR, sizeof ERR)) return fprintf(stderr, "mocks: %s\n", ERR), -1;
  return 0;
}

static int suite_clean(void) {
  acmeh_mocks_stop(M);
  acmeh_test_rmtree(RUN_DIR);
  return 0;
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const acmeh_unit_test tests[] = {
      {"CORE-S-012: answer to the forged-nonce POST cut, nothing leaked", test_forged_nonce_post_cut},
      {"CORE-S-014: answer to the non-base64url-nonce POST cut, nothing leaked", test_not_b64_nonce_post_cut},
  };
  int rc = acmeh_unit_run("check transport errors", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
  curl_global_cleanup();
  return rc;
}
