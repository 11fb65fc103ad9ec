/* dns-account-01 (draft-ietf-acme-dns-account-label): runs every vector of
 * vectors/dns-account/ against harness/acme/challenge, plus argument edge
 * cases the vectors cannot express. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "harness/core/error.h"

#ifndef ACMEH_SOURCE_DIR
#error "ACMEH_SOURCE_DIR must be defined (CMake does it)"
#endif
#define VECTOR_DIR ACMEH_SOURCE_DIR "/vectors/dns-account/"

static json_t *g_vectors;

#define VCHECK(cond, v)                                                                \
  do {                                                                                 \
    int ok_ = (cond);                                                                  \
    if (!ok_) fprintf(stderr, "\n  vector \"%s\": %s failed\n", vname(v), #cond);     \
    CU_ASSERT(ok_);                                                                    \
  } while (0)

static const char *vname(const json_t *v) { return json_string_value(json_object_get(v, "name")); }
static const json_t *vin(const json_t *v) { return json_object_get(v, "input"); }
static const json_t *vexp(const json_t *v) { return json_object_get(v, "expected"); }
static const char *sget(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int suite_init(void) {
  g_vectors = json_array();
  DIR *d = opendir(VECTOR_DIR);
  if (!d) return -1;
  int rc = 0;
  for (struct dirent *e; rc == 0 && (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s%s", VECTOR_DIR, e->d_name);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    json_t *list = json_object_get(doc, "vectors");
    rc = json_is_array(list) && streq(sget(doc, "spec"), "dns-account") ? 0 : -1;
    if (rc) fprintf(stderr, "%s: %s\n", path, doc ? "needs spec dns-account and vectors" : je.text);
    else json_array_extend(g_vectors, list);
    json_decref(doc);
  }
  closedir(d);
  return rc;
}

static int suite_clean(void) {
  json_decref(g_vectors);
  return 0;
}

static int for_op(const char *op, void (*fn)(const json_t *)) {
  size_t i;
  json_t *v;
  int n = 0;
  json_array_foreach(g_vectors, i, v) if (streq(sget(vin(v), "op"), op)) fn(v), n++;
  return n;
}

static void one_name(const json_t *v) {
  const char *url = sget(vin(v), "account_url"), *ident = sget(vin(v), "identifier");
  char label[ACMEH_DNSACCT_LABEL_LEN + 1];
  VCHECK(acmeh_dnsacct_label(url, label) == ACMEH_OK, v);
  VCHECK(streq(label, sget(vexp(v), "label")), v);
  char *name = acmeh_dnsacct_name(url, ident);
  const char *want = sget(vexp(v), "name"); /* null: no usable name */
  VCHECK(want ? streq(name, want) : name == NULL, v);
  free(name);
}

static void test_names(void) { CU_ASSERT(for_op("dnsacct_name", one_name) >= 9); }

static void one_txt(const json_t *v) {
  char *ka = acmeh_key_authorization(sget(vin(v), "token"), sget(vin(v), "thumbprint"));
  char txt[44];
  VCHECK(streq(ka, sget(vexp(v), "key_authorization")), v);
  VCHECK(acmeh_dns01_txt(ka, txt) == ACMEH_OK && streq(txt, sget(vexp(v), "txt")), v);
  free(ka);
}

static void test_txt(void) { CU_ASSERT(for_op("dnsacct_txt", one_txt) >= 1); }

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
  static const char *const known[] = {"dnsacct_name", "dnsacct_txt", "base32", NULL};
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
  CU_ASSERT(acmeh_dnsacct_label(NULL, label) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_dnsacct_label("", label) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_dnsacct_name("https://x/acct/1", NULL) == NULL);
  CU_ASSERT(acmeh_dnsacct_name("https://x/acct/1", "") == NULL);
  CU_ASSERT(acmeh_dnsacct_name("https://x/acct/1", "*.") == NULL);
  CU_ASSERT(acmeh_dnsacct_name(NULL, "example.org") == NULL);
  CU_ASSERT(acmeh_dnsacct_label("https://x/acct/1", label) == ACMEH_OK && strlen(label) == 17 && label[0] == '_');
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  CU_pSuite s = CU_add_suite("dnsacct", suite_init, suite_clean);
  if (!s || !CU_add_test(s, "all vectors have a known op", test_all_ops_known) ||
      !CU_add_test(s, "DA1-DA9 account label and validation name", test_names) ||
      !CU_add_test(s, "DT1 TXT value", test_txt) || !CU_add_test(s, "B1-B7 RFC 4648 base32", test_base32) ||
      !CU_add_test(s, "bad arguments", test_bad_args)) {
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures(), suites_failed = CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failed || suites_failed ? 1 : 0;
}
