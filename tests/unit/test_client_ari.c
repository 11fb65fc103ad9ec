/* The reference client's ARI schedule (RFC 9773 §4.2-§4.3) and the newOrder
 * payload members replaces (§5) and profile (draft-ietf-acme-profiles §4). */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/client/ari.h"
#include "harness/client/http.h"
#include "tests/unit/support/unit_main.h"

/* Digest vector ARI-V5: a window of 2025-01-02T04:00Z .. 2025-01-03T04:00Z. */
#define V5_START 1735790400.0
#define V5_END 1735876800.0

static acmeh_ari_fetch ok_fetch(double start, double end, double retry) {
  acmeh_ari_fetch f = {.outcome = ACMEH_ARI_FETCH_OK, .retry_after_ok = retry >= 0, .retry_after = retry};
  f.window.start = start, f.window.end = end;
  return f;
}

static void test_clamp(void) {
  CU_ASSERT_DOUBLE_EQUAL(acmeh_client_ari_clamp(NULL, 30), 60, 1e-9);       /* ARI-V5: 30 s -> 60 s */
  CU_ASSERT_DOUBLE_EQUAL(acmeh_client_ari_clamp(NULL, 604800), 86400, 1e-9); /* 7 days -> 1 day */
  CU_ASSERT_DOUBLE_EQUAL(acmeh_client_ari_clamp(NULL, 21600), 21600, 1e-9);
  acmeh_ari_policy p = {.min_retry = 1};
  CU_ASSERT_DOUBLE_EQUAL(acmeh_client_ari_clamp(&p, 0), 1, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(acmeh_client_ari_clamp(NULL, NAN), 21600, 1e-9);
}

static void test_window_choice(void) {
  acmeh_ari_schedule s = {0};
  acmeh_ari_fetch f = ok_fetch(V5_START, V5_END, 21600);
  double now = V5_START - 1000, until = 0;
  acmeh_client_ari_update(&s, &f, NULL, now, 0.25);
  CU_ASSERT_DOUBLE_EQUAL(s.renew_at, V5_START + 0.25 * 86400, 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(s.next_fetch, now + 21600, 1e-6);
  CU_ASSERT_EQUAL(acmeh_client_ari_next(&s, now, &until), ACMEH_ARI_WAIT);
  CU_ASSERT_DOUBLE_EQUAL(until, now + 21600, 1e-6); /* the re-fetch comes first */
  CU_ASSERT_EQUAL(acmeh_client_ari_next(&s, s.renew_at, &until), ACMEH_ARI_RENEW);
  /* ARI-V5: "now" 2025-01-04T00:00Z is past the window: renew at once. */
  acmeh_client_ari_update(&s, &f, NULL, 1735948800.0, 0.9);
  CU_ASSERT_EQUAL(acmeh_client_ari_next(&s, 1735948800.0, &until), ACMEH_ARI_RENEW);
  s.replaced = 1;
  CU_ASSERT_EQUAL(acmeh_client_ari_next(&s, 1735948800.0, &until), ACMEH_ARI_DONE);
}

static void test_errors(void) {
  acmeh_ari_schedule s = {0};
  acmeh_ari_fetch t = {.outcome = ACMEH_ARI_FETCH_TEMPORARY}, l = {.outcome = ACMEH_ARI_FETCH_LONG_TERM};
  double gaps[4];
  for (int i = 0; i < 4; i++) acmeh_client_ari_update(&s, &t, NULL, 1000, 0.5), gaps[i] = s.next_fetch - 1000;
  CU_ASSERT_DOUBLE_EQUAL(gaps[0], 1, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(gaps[1], 2, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(gaps[2], 4, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(gaps[3], 21600, 1e-9); /* tries exhausted: long-term (§4.3.3 MUST) */
  acmeh_client_ari_update(&s, &l, NULL, 1000, 0.5);
  CU_ASSERT_DOUBLE_EQUAL(s.next_fetch, 1000 + 21600, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(s.renew_at, 0, 1e-9); /* errors set no renewal */
  acmeh_ari_fetch no_ra = ok_fetch(V5_START, V5_END, -1);
  acmeh_client_ari_update(&s, &no_ra, NULL, 1000, 0.5);
  CU_ASSERT_DOUBLE_EQUAL(s.next_fetch, 1000 + 21600, 1e-9); /* missing Retry-After: long-term */
}

static void test_payload(void) {
  const char *names[] = {"a.example.com"};
  char *p = acmeh_client_order_payload(names, 1, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "shortlived");
  CU_ASSERT_STRING_EQUAL(p, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}],"
                            "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\",\"profile\":\"shortlived\"}");
  free(p);
  p = acmeh_client_order_payload(names, 1, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(p, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}]}");
  free(p);
}

/* acmeh_http_resp_from_buffer (the client_objects fuzz target's way in): a
 * status line after a 1xx starts the headers anew, values are trimmed, the
 * body is what follows the blank line. */
static void test_resp_from_buffer(void) {
  static const char raw[] = "HTTP/1.1 100 Continue\r\nX-Gone: 1\r\n"
                            "HTTP/1.1 200 OK\r\nRetry-After:  \t 7 \r\nLink: <https://x/d>;rel=\"index\"\r\n\r\n{\"a\":1}";
  acmeh_http_resp r;
  CU_ASSERT_EQUAL(acmeh_http_resp_from_buffer(raw, sizeof raw - 1, &r), ACMEH_OK);
  CU_ASSERT_EQUAL(r.status, 200);
  CU_ASSERT_PTR_NULL(acmeh_http_header_get(&r, "X-Gone"));
  CU_ASSERT_STRING_EQUAL(acmeh_http_header_get(&r, "Retry-After"), "7");
  char *link = acmeh_http_link(&r, "index", 0);
  CU_ASSERT_STRING_EQUAL(link ? link : "", "https://x/d");
  free(link);
  CU_ASSERT_STRING_EQUAL(r.body, "{\"a\":1}");
  acmeh_http_resp_free(&r);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"Retry-After clamp", test_clamp},
      {"window choice", test_window_choice},
      {"temporary and long-term errors", test_errors},
      {"newOrder payload", test_payload},
      {"a raw response read through the client's callbacks", test_resp_from_buffer},
  };
  return acmeh_unit_run("client_ari", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
