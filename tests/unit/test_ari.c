/* Runs every vector of vectors/ari/ and vectors/profiles/ through
 * harness/acme/ari. The expected values were computed outside this library
 * (openssl's printout and Python, see vectors/ari/gen.py). */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "base/error.h"
#include "tests/unit/support/vectors.h"
#include "tests/unit/support/unit_main.h"

static json_t *g_vectors; /* every vector of both directories */
static size_t g_ran;      /* vectors that an op handler ran */

static const char *exp_err(const json_t *v) { return sget(vexp(v), "error"); }


static int suite_init(void) {
  g_vectors = json_array();
  return acmeh_test_vectors_load(g_vectors, "ari") || acmeh_test_vectors_load(g_vectors, "profiles");
}
static int suite_clean(void) {
  json_decref(g_vectors);
  return 0;
}

static void run_cert_id(const json_t *v) {
  const char *pem = sget(vin(v), "pem");
  char *id = NULL, err[256] = "";
  int rc = acmeh_ari_cert_id_pem(pem, strlen(pem), &id, err, sizeof err);
  if (exp_err(v)) {
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)) && id == NULL && err[0], v);
  } else {
    VCHECK(rc == ACMEH_OK && streq(id, sget(vexp(v), "cert_id")), v);
    if (rc == ACMEH_OK && !streq(id, sget(vexp(v), "cert_id"))) fprintf(stderr, "  got %s\n", id);
  }
  free(id);
}

static void run_cert_id_parse(const json_t *v) {
  unsigned char *aki = NULL, *ser = NULL;
  size_t al = 0, sl = 0;
  char err[256] = "";
  int rc = acmeh_ari_cert_id_parse(sget(vin(v), "cert_id"), &aki, &al, &ser, &sl, err, sizeof err);
  if (exp_err(v)) {
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)) && !aki && !ser && err[0], v);
    return;
  }
  char *ah = rc ? NULL : acmeh_test_hex(aki, al), *sh = rc ? NULL : acmeh_test_hex(ser, sl);
  VCHECK(rc == ACMEH_OK && streq(ah, sget(vexp(v), "aki_hex")) && streq(sh, sget(vexp(v), "serial_hex")), v);
  VCHECK(rc == ACMEH_OK &&
             acmeh_ari_serial_der_minimal(ser, sl) == json_is_true(json_object_get(vexp(v), "serial_der_minimal")),
         v);
  free(ah), free(sh), free(aki), free(ser);
}

static void run_url(const json_t *v) {
  char *u = acmeh_ari_url(sget(vin(v), "renewal_info"), sget(vin(v), "cert_id"));
  VCHECK(streq(u, sget(vexp(v), "url")), v);
  free(u);
}

static void run_rfc3339(const json_t *v) {
  double t = -1;
  int rc = acmeh_rfc3339_parse(sget(vin(v), "s"), &t);
  if (exp_err(v))
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)), v);
  else
    VCHECK(rc == ACMEH_OK && fabs(t - json_number_value(json_object_get(vexp(v), "epoch"))) < 1e-5, v);
}

static void run_format(const json_t *v) {
  char buf[32];
  VCHECK(streq(acmeh_rfc3339_format(json_number_value(json_object_get(vin(v), "epoch")), buf, sizeof buf),
               sget(vexp(v), "s")),
         v);
  VCHECK(acmeh_rfc3339_format(0, buf, 20) == NULL, v);
}

static void run_window(const json_t *v) {
  acmeh_ari_window w;
  char err[256] = "";
  int rc = acmeh_ari_window_parse(json_object_get(vin(v), "body"), &w, err, sizeof err);
  if (exp_err(v)) {
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)) && err[0] && !w.explanation_url, v);
  } else {
    const json_t *e = vexp(v);
    VCHECK(rc == ACMEH_OK && fabs(w.start - json_number_value(json_object_get(e, "start"))) < 1e-5 &&
               fabs(w.end - json_number_value(json_object_get(e, "end"))) < 1e-5,
           v);
    const char *url = sget(e, "explanation_url");
    VCHECK(url ? streq(w.explanation_url, url) : w.explanation_url == NULL, v);
  }
  acmeh_ari_window_clear(&w);
}

static void run_retry(const json_t *v) {
  double s = -1;
  int rc = acmeh_retry_after_parse(sget(vin(v), "value"), json_number_value(json_object_get(vin(v), "now")), &s);
  if (exp_err(v)) {
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)), v);
    return;
  }
  VCHECK(rc == ACMEH_OK && fabs(s - json_number_value(json_object_get(vexp(v), "seconds"))) < 1e-6, v);
  VCHECK(acmeh_ari_clamp_retry(s) == json_number_value(json_object_get(vexp(v), "clamped")), v);
}

static void run_dir_profiles(const json_t *v) {
  const json_t *p = NULL;
  char err[256] = "";
  int rc = acmeh_profiles_from_directory(json_object_get(vin(v), "directory"), &p, err, sizeof err);
  if (exp_err(v)) {
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)) && p == NULL && err[0], v);
    return;
  }
  const json_t *names = json_object_get(vexp(v), "names");
  VCHECK(rc == ACMEH_OK && json_object_size(p) == json_array_size(names), v);
  size_t i;
  const json_t *n;
  json_array_foreach(names, i, n) VCHECK(json_is_string(json_object_get(p, json_string_value(n))), v);
}

static void run_order_profile(const json_t *v) {
  char err[256] = "";
  int rc = acmeh_order_profile_check(json_object_get(vin(v), "order"), sget(vin(v), "requested"), err, sizeof err);
  if (exp_err(v))
    VCHECK(streq(acmeh_err_name(rc), exp_err(v)) && err[0], v);
  else
    VCHECK(rc == ACMEH_OK, v);
}

static void run_problem(const json_t *v) {
  int m = acmeh_problem_type_is(json_object_get(vin(v), "problem"), sget(vin(v), "type"));
  VCHECK(m == json_is_true(json_object_get(vexp(v), "match")), v);
}

static const struct {
  const char *op;
  void (*fn)(const json_t *v);
} OPS[] = {{"cert_id", run_cert_id},           {"cert_id_parse", run_cert_id_parse},
           {"url", run_url},                   {"rfc3339_parse", run_rfc3339},
           {"rfc3339_format", run_format},     {"window_parse", run_window},
           {"retry_after", run_retry},         {"directory_profiles", run_dir_profiles},
           {"order_profile", run_order_profile}, {"problem_type", run_problem}};

static void test_all_vectors(void) {
  size_t i;
  const json_t *v;
  CU_ASSERT(json_array_size(g_vectors) >= 70);
  json_array_foreach(g_vectors, i, v) {
    const char *op = sget(vin(v), "op");
    size_t k = 0;
    while (k < sizeof OPS / sizeof OPS[0] && !streq(op, OPS[k].op)) k++;
    VCHECK(k < sizeof OPS / sizeof OPS[0], v);
    if (k == sizeof OPS / sizeof OPS[0]) continue;
    OPS[k].fn(v);
    g_ran++;
  }
  CU_ASSERT_EQUAL(g_ran, json_array_size(g_vectors));
}

/* Edges the JSON cannot express: NULL arguments, validate-only parsing, clamp NaN. */
static void test_edges(void) {
  char *id = (char *)1;
  CU_ASSERT_EQUAL(acmeh_ari_cert_id(NULL, &id, NULL, 0), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_ari_cert_id_pem("junk", 4, &id, NULL, 0), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_PTR_NULL(id);
  CU_ASSERT_EQUAL(acmeh_ari_cert_id_parse("YQ.YQ", NULL, NULL, NULL, NULL, NULL, 0), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_ari_cert_id_parse(NULL, NULL, NULL, NULL, NULL, NULL, 0), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_ari_clamp_retry(NAN), ACMEH_ARI_LONG_TERM_RETRY);
  CU_ASSERT_EQUAL(acmeh_ari_clamp_retry(3600), 3600);
  CU_ASSERT_PTR_NULL(acmeh_ari_url(NULL, "a.b"));
  CU_ASSERT_EQUAL(acmeh_ari_serial_der_minimal((const unsigned char *)"\0", 1), 1);
  CU_ASSERT_EQUAL(acmeh_ari_serial_der_minimal(NULL, 0), 0);
  double s;
  CU_ASSERT_EQUAL(acmeh_retry_after_parse(NULL, 0, &s), ACMEH_PEER_PROTOCOL);
  /* Times beyond time_t: refused before the cast (the sanitizer build's
   * float-cast-overflow check aborts on a cast that is not). */
  char buf[32];
  volatile double far = 1e300;
  CU_ASSERT_PTR_NULL(acmeh_rfc3339_format(far, buf, sizeof buf));
  CU_ASSERT_PTR_NULL(acmeh_rfc3339_format(-far, buf, sizeof buf));
  CU_ASSERT_PTR_NULL(acmeh_rfc3339_format(253402300800.0, buf, sizeof buf));
  CU_ASSERT_PTR_NOT_NULL(acmeh_rfc3339_format(253402300799.0, buf, sizeof buf));
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"ari and profiles vectors", test_all_vectors},
      {"NULL arguments and other edges", test_edges},
  };
  return acmeh_unit_run("ari_vectors", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
