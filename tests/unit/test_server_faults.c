/* Unit tests for the reference server's exchange observer and fault engine:
 * each test starts its own server in-process (rules keep per-server
 * counters), drives it with the reference client engine or raw TLS, and
 * checks that every action lands on exactly the matched request and that the
 * observer sees every exchange in the shape server.h documents. Then the
 * robustness items: malformed HTTP, a 1 MB header block, a client trickling
 * bytes, invalid JWS variants and unknown URLs, while a good client keeps
 * being served. */
#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/server/server.h"
#include "mocks/mocks.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static acmeh_mocks *M;
static acmeh_server *S;
static char RUN_DIR[] = "/tmp/acmeh-test-faults-XXXXXX";
static char ERR[1024];
static int NAME_SEQ;

/* ---------- the observer's record ---------- */

static pthread_mutex_t EX_LOCK = PTHREAD_MUTEX_INITIALIZER;
static json_t *EXCHANGES; /* every exchange of the current server, in order */

static void observe(void *ud, const json_t *ex) {
  (void)ud;
  pthread_mutex_lock(&EX_LOCK);
  json_array_append_new(EXCHANGES, json_deep_copy(ex));
  pthread_mutex_unlock(&EX_LOCK);
}

/* A copy of exchange i (new reference), or NULL. */
static json_t *exchange(size_t i) {
  pthread_mutex_lock(&EX_LOCK);
  json_t *e = json_deep_copy(json_array_get(EXCHANGES, i));
  pthread_mutex_unlock(&EX_LOCK);
  return e;
}

static size_t exchange_count(void) {
  pthread_mutex_lock(&EX_LOCK);
  size_t n = json_array_size(EXCHANGES);
  pthread_mutex_unlock(&EX_LOCK);
  return n;
}

/* The last exchange (new reference). */
static json_t *last_exchange(void) {
  size_t n = exchange_count();
  return n ? exchange(n - 1) : NULL;
}

/* 1 when exchange ex lists fault `name`. */
static int has_fault(const json_t *ex, const char *name) {
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(ex, "faults"), i, v) if (strcmp(json_string_value(v), name) == 0) return 1;
  return 0;
}

/* ---------- servers and clients ---------- */

/* Starts S with the rules in `rules_json` (NULL = none) and a fresh record. */
static int start(const char *rules_json) {
  json_t *rules = NULL;
  if (rules_json) {
    json_error_t je;
    rules = json_loads(rules_json, 0, &je);
    if (!rules) return fprintf(stderr, "rules: %s\n", je.text), -1;
  }
  pthread_mutex_lock(&EX_LOCK);
  json_decref(EXCHANGES);
  EXCHANGES = json_array();
  pthread_mutex_unlock(&EX_LOCK);
  acmeh_server_config sc = {.dns_port = acmeh_mocks_dns_port(M), .http01_port = acmeh_mocks_http01_port(M),
                            .tlsalpn01_port = acmeh_mocks_tlsalpn01_port(M), .run_dir = RUN_DIR,
                            .faults = rules, .observer = observe};
  int rc = acmeh_server_start(&sc, &S, ERR, sizeof ERR);
  json_decref(rules);
  if (rc) fprintf(stderr, "server: %s\n", ERR);
  return rc;
}

static void stop(void) {
  acmeh_server_stop(S);
  S = NULL;
}

static const char *fresh_name(char *buf, size_t len) {
  snprintf(buf, len, "f%d-%d.faults-test.example", (int)getpid(), NAME_SEQ++);
  return buf;
}

static acmeh_acme *client(void) {
  acmeh_acme_config cfg = {.directory_url = acmeh_server_directory_url(S), .ca_file = acmeh_server_ca_file(S)};
  acmeh_acme *c = NULL;
  if (acmeh_acme_new(&cfg, &c, ERR, sizeof ERR) != ACMEH_OK) fprintf(stderr, "client: %s\n", ERR);
  return c;
}

/* A client with a fresh ES256 account on S. */
static acmeh_acme *account(void) {
  acmeh_acme *c = client();
  if (c && acmeh_flow_new_account(c, ACMEH_KEY_ES256, NULL, NULL, ERR, sizeof ERR) != ACMEH_OK) {
    fprintf(stderr, "account: %s\n", ERR);
    acmeh_acme_free(c);
    c = NULL;
  }
  return c;
}

/* ---------- observer ---------- */

static void assert_shape(const json_t *ex) {
  static const char *const strings[] = {"method", "url", "path", "resource", "req_body", "resp_body"};
  for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) CU_ASSERT(json_is_string(json_object_get(ex, strings[i])));
  static const char *const ints[] = {"seq", "time_ms", "req_body_len", "status"};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) CU_ASSERT(json_is_integer(json_object_get(ex, ints[i])));
  CU_ASSERT(json_is_object(json_object_get(ex, "req_headers")));
  CU_ASSERT(json_is_object(json_object_get(ex, "resp_headers")));
  CU_ASSERT(json_is_array(json_object_get(ex, "faults")));
  json_t *jws = json_object_get(ex, "jws"), *acct = json_object_get(ex, "account");
  CU_ASSERT(json_is_null(jws) || json_is_object(jws));
  CU_ASSERT(json_is_null(acct) || json_is_string(acct));
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(ex, "resp_headers"), k, v) CU_ASSERT(json_is_string(v));
  json_object_foreach(json_object_get(ex, "req_headers"), k, v) CU_ASSERT(json_is_string(v));
}

static void test_observer_shape(void) {
  CU_ASSERT_EQUAL_FATAL(start(NULL), ACMEH_OK);
  acmeh_acme *c = account();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  size_t n = exchange_count();
  CU_ASSERT(n >= 3); /* GET directory, HEAD newNonce, POST newAccount */
  for (size_t i = 0; i < n; i++) {
    json_t *ex = exchange(i);
    assert_shape(ex);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(ex, "seq")), (json_int_t)i + 1);
    json_decref(ex);
  }
  json_t *dir = exchange(0), *na = last_exchange();
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(dir, "resource")), "directory");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(dir, "method")), "GET");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(dir, "url")), acmeh_server_directory_url(S));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(dir, "path")), "/dir");
  CU_ASSERT(json_is_null(json_object_get(dir, "jws")));
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(dir, "status")), 200);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(dir, "resp_headers"), "content-type")),
                         "application/json");
  /* newAccount: decoded JWS, the account it created, Location and a nonce. */
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(na, "resource")), "newAccount");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(na, "status")), 201);
  json_t *jws = json_object_get(na, "jws");
  CU_ASSERT(json_is_object(json_object_get(json_object_get(jws, "protected"), "jwk")));
  CU_ASSERT(json_is_null(json_object_get(jws, "error")));
  CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(jws, "payload")), "termsOfServiceAgreed"));
  CU_ASSERT(json_is_string(json_object_get(jws, "signature_b64")));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(na, "account")), acmeh_acme_kid(c));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(na, "resp_headers"), "location")),
                         acmeh_acme_kid(c));
  CU_ASSERT(json_is_string(json_object_get(json_object_get(na, "resp_headers"), "replay-nonce")));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(na, "req_headers"), "content-type")),
                         "application/jose+json");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(na, "req_body_len")),
                  (json_int_t)json_string_length(json_object_get(na, "req_body")));
  json_decref(dir), json_decref(na);
  /* A kid request is attributed to its account; a refused one to none. */
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), NULL, NULL, &r, ERR, sizeof ERR), ACMEH_OK);
  acmeh_http_resp_free(&r);
  json_t *ex = last_exchange();
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ex, "resource")), "account");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ex, "account")), acmeh_acme_kid(c));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(ex, "jws"), "payload")), "");
  json_decref(ex);
  acmeh_post_opts bad = {.raw_body = "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AAAA\"}"};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_kid(c), NULL, &bad, &r, ERR, sizeof ERR), ACMEH_OK);
  acmeh_http_resp_free(&r);
  ex = last_exchange();
  CU_ASSERT(json_is_null(json_object_get(ex, "account")));
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(ex, "status")), 400);
  CU_ASSERT(json_is_object(json_object_get(json_object_get(ex, "jws"), "protected")));
  json_decref(ex);
  /* newOrder: the identifiers in the decoded payload, no fault applied. */
  char name[128], *url = NULL;
  json_t *order = NULL;
  const char *names[] = {fresh_name(name, sizeof name)};
  CU_ASSERT_EQUAL(acmeh_flow_new_order(c, names, 1, &url, &order, ERR, sizeof ERR), ACMEH_OK);
  ex = last_exchange();
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ex, "resource")), "newOrder");
  CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(json_object_get(ex, "jws"), "payload")), name));
  CU_ASSERT_EQUAL(json_array_size(json_object_get(ex, "faults")), 0);
  CU_ASSERT_FALSE(has_fault(ex, "anything"));
  json_decref(ex), json_decref(order);
  free(url);
  acmeh_acme_free(c);
  stop();
}

/* Bytes that are not UTF-8 reach the observer escaped, never dropped. */
static void test_observer_escapes(void) {
  CU_ASSERT_EQUAL_FATAL(start(NULL), ACMEH_OK);
  acmeh_acme *c = client();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  acmeh_post_opts raw = {.raw_body = "\xff\xfe caf\xc3\xa9"};
  acmeh_http_resp r = {0};
  CU_ASSERT_EQUAL(acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), NULL, &raw, &r, ERR, sizeof ERR), ACMEH_OK);
  acmeh_http_resp_free(&r);
  json_t *ex = last_exchange();
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ex, "req_body")), "\\xFF\\xFE caf\xc3\xa9");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(ex, "req_body_len")), 8);
  CU_ASSERT(json_is_string(json_object_get(json_object_get(ex, "jws"), "error")));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ex, "resource")), "newOrder");
  json_decref(ex);
  acmeh_acme_free(c);
  stop();
}

/* ---------- wiring ---------- */

static int suite_init(void) {
  if (!mkdtemp(RUN_DIR)) return -1;
  acmeh_mocks_config mc = {.mgmt_port = -1};
  if (acmeh_mocks_start(&mc, &M, ERR, sizeof ERR)) return fprintf(stderr, "mocks: %s\n", ERR), -1;
  return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static int suite_clean(void) {
  acmeh_server_stop(S);
  acmeh_mocks_stop(M);
  json_decref(EXCHANGES);
  nftw(RUN_DIR, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* raw exchanges keep writing after the server hung up on purpose */
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  CU_pSuite s = CU_add_suite("server faults", suite_init, suite_clean);
  CU_add_test(s, "observer: every exchange, documented shape", test_observer_shape);
  CU_add_test(s, "observer: bytes outside UTF-8 escaped", test_observer_escapes);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  curl_global_cleanup();
  return failures ? 1 : 0;
}
