/* The kit's typed views of a scenario record (harness/kit/record.h): every
 * field of an exchange and of a validation as server.h shapes them, the
 * three forms of "jws" (a JWS, a body that is not one, no body), and the
 * walks over a run, a NULL run included. */
#include <CUnit/Basic.h>
#include <string.h>

#include "harness/kit/record.h"
#include "tests/unit/support/unit_main.h"

/* A newOrder as the reference server records it. */
static const char *const NEW_ORDER =
    "{\"seq\": 7, \"time_ms\": 1500, \"method\": \"POST\", \"url\": \"https://127.0.0.1:1/new-order\","
    " \"path\": \"/new-order\", \"resource\": \"newOrder\","
    " \"req_headers\": {\"content-type\": \"application/jose+json\"},"
    " \"req_body\": \"{\\\"protected\\\": \\\"eyJ9\\\"}\", \"req_body_len\": 70000,"
    " \"jws\": {\"protected\": {\"alg\": \"ES256\"}, \"protected_b64\": \"eyJhbGciOiJFUzI1NiJ9\","
    "          \"payload_b64\": \"e30=\", \"payload\": \"{\\\"identifiers\\\": []}\", \"signature_b64\": \"c2ln\", \"error\": null},"
    " \"account\": \"https://127.0.0.1:1/acct/1\", \"status\": 201,"
    " \"resp_headers\": {\"location\": \"https://127.0.0.1:1/order/1\"}, \"resp_body\": \"{\\\"status\\\": \\\"pending\\\"}\","
    " \"faults\": [\"slow\"]}";

static json_t *load(const char *text) {
  json_t *j = json_loads(text, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  return j;
}

static void test_exchange_fields(void) {
  json_t *x = load(NEW_ORDER);
  acmeh_kit_exchange e;
  acmeh_kit_exchange_read(x, &e);
  CU_ASSERT_EQUAL(e.seq, 7);
  CU_ASSERT_EQUAL(e.time_ms, 1500);
  CU_ASSERT_STRING_EQUAL(e.method, "POST");
  CU_ASSERT_STRING_EQUAL(e.url, "https://127.0.0.1:1/new-order");
  CU_ASSERT_STRING_EQUAL(e.path, "/new-order");
  CU_ASSERT_STRING_EQUAL(e.resource, "newOrder");
  CU_ASSERT_STRING_EQUAL(acmeh_kit_req_header(&e, "content-type"), "application/jose+json");
  CU_ASSERT_PTR_NULL(acmeh_kit_req_header(&e, "user-agent"));
  CU_ASSERT_STRING_EQUAL(e.req_body, "{\"protected\": \"eyJ9\"}");
  CU_ASSERT_EQUAL(e.req_body_len, 70000);
  CU_ASSERT_TRUE(e.has_jws);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e.protected_hdr, "alg")), "ES256");
  CU_ASSERT_STRING_EQUAL(e.protected_b64, "eyJhbGciOiJFUzI1NiJ9");
  CU_ASSERT_STRING_EQUAL(e.payload_b64, "e30=");
  CU_ASSERT_STRING_EQUAL(e.signature_b64, "c2ln");
  CU_ASSERT_STRING_EQUAL(e.payload, "{\"identifiers\": []}");
  CU_ASSERT_PTR_NULL(e.jws_error);
  CU_ASSERT_STRING_EQUAL(e.account, "https://127.0.0.1:1/acct/1");
  CU_ASSERT_EQUAL(e.status, 201);
  CU_ASSERT_STRING_EQUAL(acmeh_kit_resp_header(&e, "location"), "https://127.0.0.1:1/order/1");
  CU_ASSERT_STRING_EQUAL(e.resp_body, "{\"status\": \"pending\"}");
  CU_ASSERT_EQUAL(json_array_size(e.faults), 1);
  json_decref(x);
}

/* A body that is not a JWS still counts as one read (has_jws) with no
 * protected header; no body at all has no JWS fields. */
static void test_jws_forms(void) {
  json_t *bad = load("{\"method\": \"POST\", \"jws\": {\"protected\": null, \"protected_b64\": null, \"payload_b64\": null,"
                     " \"payload\": null, \"signature_b64\": null, \"error\": \"not JSON\"}}");
  json_t *none = load("{\"method\": \"GET\", \"jws\": null}");
  acmeh_kit_exchange e;
  acmeh_kit_exchange_read(bad, &e);
  CU_ASSERT_TRUE(e.has_jws);
  CU_ASSERT_PTR_NULL(e.protected_hdr);
  CU_ASSERT_PTR_NULL(e.payload);
  CU_ASSERT_PTR_NULL(e.protected_b64);
  CU_ASSERT_STRING_EQUAL(e.jws_error, "not JSON");
  acmeh_kit_exchange_read(none, &e);
  CU_ASSERT_FALSE(e.has_jws);
  CU_ASSERT_PTR_NULL(e.protected_hdr);
  CU_ASSERT_PTR_NULL(e.jws_error);
  CU_ASSERT_PTR_NULL(e.resource);
  CU_ASSERT_EQUAL(e.seq, 0);
  json_decref(bad), json_decref(none);
}

static void test_helpers(void) {
  json_t *x = load(NEW_ORDER);
  acmeh_client_run r = {.started_wall = 1000.0};
  acmeh_kit_exchange e;
  acmeh_kit_exchange_read(x, &e);
  CU_ASSERT_TRUE(acmeh_kit_is(&e, "POST", "newOrder"));
  CU_ASSERT_TRUE(acmeh_kit_is(&e, "POST", NULL));
  CU_ASSERT_FALSE(acmeh_kit_is(&e, "GET", NULL));
  CU_ASSERT_FALSE(acmeh_kit_is(&e, "POST", "finalize"));
  CU_ASSERT_DOUBLE_EQUAL(acmeh_kit_wall(&r, &e), 1001.5, 1e-9);
  json_t *p = acmeh_kit_order_payload(&e), *b = acmeh_kit_resp_json(&e);
  CU_ASSERT_TRUE(json_is_array(json_object_get(p, "identifiers")));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(b, "status")), "pending");
  json_decref(p), json_decref(b);
  e.resource = "finalize";
  CU_ASSERT_PTR_NULL(acmeh_kit_order_payload(&e));
  e.payload = "", e.resp_body = NULL;
  CU_ASSERT_PTR_NULL(acmeh_kit_payload_json(&e)); /* POST-as-GET */
  CU_ASSERT_PTR_NULL(acmeh_kit_resp_json(&e));
  json_decref(x);
}

static void test_walks(void) {
  acmeh_client_run r = {.exchanges = json_array(), .validations = json_array()};
  json_array_append_new(r.exchanges, load("{\"seq\": 1, \"method\": \"HEAD\"}"));
  json_array_append_new(r.exchanges, load("{\"seq\": 2, \"method\": \"POST\"}"));
  json_array_append_new(r.validations,
                        load("{\"challenge\": \"https://127.0.0.1:1/chal/1\", \"type\": \"dns-01\", \"identifier\": \"a.test\","
                             " \"arrived_ms\": 10, \"started_ms\": 11, \"ended_ms\": 12, \"status\": \"invalid\","
                             " \"error\": {\"type\": \"urn:ietf:params:acme:error:dns\", \"detail\": \"no TXT\"}}"));
  size_t i, n = 0;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(&r, i, e) {
    n++;
    CU_ASSERT_EQUAL(e.seq, (long long)n);
  }
  CU_ASSERT_EQUAL(n, 2);
  ACMEH_KIT_EACH((const acmeh_client_run *)NULL, i, e) n++;
  CU_ASSERT_EQUAL(n, 2);
  acmeh_kit_validation v;
  ACMEH_KIT_EACH_VALIDATION(&r, i, v) {
    CU_ASSERT_STRING_EQUAL(v.challenge, "https://127.0.0.1:1/chal/1");
    CU_ASSERT_STRING_EQUAL(v.type, "dns-01");
    CU_ASSERT_STRING_EQUAL(v.identifier, "a.test");
    CU_ASSERT_EQUAL(v.arrived_ms, 10);
    CU_ASSERT_EQUAL(v.started_ms, 11);
    CU_ASSERT_EQUAL(v.ended_ms, 12);
    CU_ASSERT_STRING_EQUAL(v.status, "invalid");
    CU_ASSERT_STRING_EQUAL(v.error_detail, "no TXT");
    n++;
  }
  CU_ASSERT_EQUAL(n, 3);
  json_decref(r.exchanges), json_decref(r.validations);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"exchange fields", test_exchange_fields},
      {"jws: a JWS, not a JWS, no body", test_jws_forms},
      {"is, wall, payload and body parsed", test_helpers},
      {"walks over exchanges and validations", test_walks},
  };
  return acmeh_unit_run("kit_record", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
