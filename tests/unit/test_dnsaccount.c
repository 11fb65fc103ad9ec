/* dns-account-01 (draft-ietf-acme-dns-account-label): runs every vector of
 * vectors/dnsaccount/ against harness/acme/challenge, plus argument edge
 * cases the vectors cannot express. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "base/error.h"
#include "tests/unit/support/vectors.h"
#include "tests/unit/support/unit_main.h"

static json_t *g_vectors;

static int suite_init(void) {
  g_vectors = json_array();
  return acmeh_test_vectors_load(g_vectors, "dnsaccount");
}

static int suite_clean(void) {
  json_decref(g_vectors);
  return 0;
}

static int for_op(const char *op, void (*fn)(const json_t *)) { return acmeh_test_vectors_for_op(g_vectors, op, fn); }

static void one_name(const json_t *v) {
  const char *url = sget(vin(v), "account_url"), *ident = sget(vin(v), "identifier");
  char label[ACMEH_DNSACCT_LABEL_LEN + 1];
  VCHECK(acmeh_dnsaccount_label(url, label) == ACMEH_OK, v);
  VCHECK(streq(label, sget(vexp(v), "label")), v);
  const char *scheme = sget(vin(v), "scheme"); /* "scoped": draft-ietf-acme-scoped-dns-challenges-00 */
  char *name = acmeh_dnsaccount_name_in(scheme && streq(scheme, "scoped") ? ACMEH_DNSACCT_SCOPED : ACMEH_DNSACCT_ACME_CHALLENGE, url, ident);
  const char *want = sget(vexp(v), "name"); /* null: no usable name */
  VCHECK(want ? streq(name, want) : name == NULL, v);
  free(name);
}

static void test_names(void) { CU_ASSERT(for_op("dnsaccount_name", one_name) >= 12); }

static void one_txt(const json_t *v) {
  char *ka = acmeh_key_authorization(sget(vin(v), "token"), sget(vin(v), "thumbprint"));
  char txt[44];
  VCHECK(streq(ka, sget(vexp(v), "key_authorization")), v);
  VCHECK(acmeh_dns01_txt(ka, txt) == ACMEH_OK && streq(txt, sget(vexp(v), "txt")), v);
  free(ka);
}

static void test_txt(void) { CU_ASSERT(for_op("dnsaccount_txt", one_txt) >= 1); }

static void one_base32(const json_t *v) {
  const char *hex = sget(vin(v), "hex");
  size_t n = strlen(hex) / 2;
  unsigned char in[64];
  for (size_t i = 0; i < n && i < sizeof in; i++) sscanf(hex + 2 * i, "%2hhx", &in[i]);
  char out[128];
  VCHECK(acmeh_base32(in, n, 1, out) == strlen(sget(vexp(v), "lower")) && streq(out, sget(vexp(v), "lower")), v);
  VCHECK(acmeh_base32(in, n, 0, out) == strlen(sget(vexp(v), "upper")) && streq(out, sget(vexp(v), "upper")), v);
}

static void test_base32(void) { CU_ASSERT(for_op("base32", one_base32) >= 7); }

static void test_all_ops_known(void) {
  static const char *const known[] = {"dnsaccount_name", "dnsaccount_txt", "base32", NULL};
  size_t i;
  json_t *v;
  CU_ASSERT(json_array_size(g_vectors) > 0);
  json_array_foreach(g_vectors, i, v) {
    int found = 0;
    for (size_t j = 0; known[j]; j++) found |= streq(sget(vin(v), "op"), known[j]);
    VCHECK(found && vname(v) && sget(v, "source") && vexp(v), v);
  }
}

static void test_bad_args(void) {
  char label[ACMEH_DNSACCT_LABEL_LEN + 1];
  CU_ASSERT(acmeh_dnsaccount_label(NULL, label) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_dnsaccount_label("", label) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_dnsaccount_name("https://x/acct/1", NULL) == NULL);
  CU_ASSERT(acmeh_dnsaccount_name("https://x/acct/1", "") == NULL);
  CU_ASSERT(acmeh_dnsaccount_name("https://x/acct/1", "*.") == NULL);
  CU_ASSERT(acmeh_dnsaccount_name(NULL, "example.org") == NULL);
  CU_ASSERT(acmeh_dnsaccount_label("https://x/acct/1", label) == ACMEH_OK && strlen(label) == 17 && label[0] == '_');
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"all vectors have a known op", test_all_ops_known},
      {"DA1-DA9 account label and validation name", test_names},
      {"DT1 TXT value", test_txt},
      {"B1-B7 RFC 4648 base32", test_base32},
      {"bad arguments", test_bad_args},
  };
  return acmeh_unit_run("dnsaccount", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
