/* dns-persist-01 (draft-ietf-acme-dns-persist): runs every vector of
 * vectors/dnspersist/ (made and checked by its gen.py with hashlib) against
 * harness/acme/persist, plus bad input the vectors cannot express: a 64 KB
 * record, thousands of parameters, non-ASCII issuer names. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/persist.h"
#include "tests/unit/support/unit_main.h"
#include "tests/unit/support/vectors.h"

static json_t *g_vectors;

static int suite_init(void) {
  g_vectors = json_array();
  return acmeh_test_vectors_load(g_vectors, "dnspersist");
}

static int suite_clean(void) {
  json_decref(g_vectors);
  return 0;
}

static int for_op(const char *op, void (*fn)(const json_t *)) { return acmeh_test_vectors_for_op(g_vectors, op, fn); }

static void one_hash(const json_t *v) {
  char h[44];
  VCHECK(acmeh_persist_account_hash(sget(vin(v), "domain"), sget(vin(v), "thumbprint"), sget(vin(v), "account_url"), h) == ACMEH_OK, v);
  int right = streq(sget(vin(v), "construction"), "draft-02"); /* the wrong constructions must differ */
  VCHECK(right ? streq(h, sget(vexp(v), "digest")) : !streq(h, sget(vexp(v), "digest")), v);
}
static void test_hash(void) { CU_ASSERT(for_op("persist_hash", one_hash) >= 6); }

static void one_record(const json_t *v) {
  const json_t *in = vin(v);
  const char *rev = sget(in, "revision"), *ident = sget(in, "identifier"), *account = NULL;
  char uri[300], h[44];
  int wild = strncmp(ident, "*.", 2) == 0;
  if (streq(rev, "-02")) {
    VCHECK(acmeh_persist_account_hash(ident + (wild ? 2 : 0), sget(in, "thumbprint"), sget(in, "account_url"), h) == ACMEH_OK, v);
    snprintf(uri, sizeof uri, "%ssha-256/%s", sget(in, "account_hash_prefix"), h);
    account = uri;
  } else {
    account = streq(rev, "-01") ? sget(in, "challenge_accounturi") : sget(in, "account_url");
  }
  const json_t *u = json_object_get(in, "persist_until");
  char *rec = acmeh_persist_record(sget(in, "issuer"), account, wild, json_is_integer(u) ? json_integer_value(u) : -1);
  char *name = acmeh_persist_name(ident);
  VCHECK(streq(rec, sget(vexp(v), "value")), v);
  VCHECK(streq(name, sget(vexp(v), "name")), v);
  free(rec), free(name);
}
static void test_records(void) { CU_ASSERT(for_op("persist_record", one_record) >= 6); }

static void one_parse(const json_t *v) {
  const char *text = sget(vin(v), "text"), *bad = sget(vexp(v), "malformed");
  acmeh_persist_rec r;
  char why[200];
  int rc = acmeh_persist_parse(text, strlen(text), &r, why, sizeof why);
  if (bad) {
    VCHECK(rc == ACMEH_PEER_PROTOCOL && strstr(why, bad), v);
  } else {
    const json_t *u = json_object_get(vexp(v), "persist_until");
    const char *acct = sget(vexp(v), "accounturi");
    VCHECK(rc == ACMEH_OK && streq(r.issuer, sget(vexp(v), "issuer")), v);
    VCHECK(acct ? streq(r.accounturi, acct) : r.accounturi == NULL, v);
    VCHECK(r.wildcard == json_is_true(json_object_get(vexp(v), "wildcard")), v);
    VCHECK(json_is_integer(u) ? r.has_until && r.until == json_integer_value(u) : !r.has_until, v);
  }
  acmeh_persist_rec_free(&r);
}
static void test_parse(void) { CU_ASSERT(for_op("persist_parse", one_parse) >= 9); }

static void test_all_ops_known(void) {
  static const char *const known[] = {"persist_hash", "persist_record", "persist_parse", "persist_strings", NULL};
  size_t i;
  json_t *v;
  CU_ASSERT(json_array_size(g_vectors) > 0);
  json_array_foreach(g_vectors, i, v) {
    int found = 0;
    for (size_t j = 0; known[j]; j++) found |= streq(sget(vin(v), "op"), known[j]);
    VCHECK(found && vname(v) && sget(v, "source") && vexp(v), v);
  }
}

/* Bad input: a verdict, never a crash. */
static void test_bad_input(void) {
  size_t big = 65000;
  char *t = malloc(big + 1), why[200];
  acmeh_persist_rec r;
  /* 64 KB: issuer, accounturi, then one unknown parameter to the end */
  int n = snprintf(t, big + 1, "authority.example; accounturi=https://x/acct/1; pad=");
  memset(t + n, 'a', big - (size_t)n), t[big] = '\0';
  CU_ASSERT(acmeh_persist_parse(t, big, &r, why, sizeof why) == ACMEH_OK && streq(r.accounturi, "https://x/acct/1"));
  acmeh_persist_rec_free(&r);
  /* thousands of parameters, all unknown: ignored */
  n = snprintf(t, big + 1, "authority.example; accounturi=a");
  for (int i = 0; n + 12 < (int)big; i++) n += snprintf(t + n, big + 1 - (size_t)n, "; p%d=v", i % 1000);
  CU_ASSERT(acmeh_persist_parse(t, (size_t)n, &r, why, sizeof why) == ACMEH_OK && streq(r.accounturi, "a"));
  acmeh_persist_rec_free(&r);
  /* thousands of known duplicates: malformed at the second */
  n = snprintf(t, big + 1, "authority.example");
  for (int i = 0; i < 3000; i++) n += snprintf(t + n, big + 1 - (size_t)n, "; accounturi=a");
  CU_ASSERT(acmeh_persist_parse(t, (size_t)n, &r, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  acmeh_persist_rec_free(&r);
  free(t);
  /* non-ASCII issuer names: never a valid list entry; a value with them is malformed */
  CU_ASSERT(!acmeh_persist_issuer_ok("\xc3\xbc\xc3\xb1icode-example.com", why, sizeof why));
  CU_ASSERT(acmeh_persist_issuer_ok("xn--icode-example-hkb8n.com", why, sizeof why));
  CU_ASSERT(!acmeh_persist_issuer_ok("Authority.Example", why, sizeof why));
  CU_ASSERT(!acmeh_persist_issuer_ok("authority.example.", why, sizeof why));
  CU_ASSERT(!acmeh_persist_issuer_ok("", why, sizeof why));
  const char *u = "\xc3\xbc.example; accounturi=\xc3\xbc";
  CU_ASSERT(acmeh_persist_parse(u, strlen(u), &r, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  acmeh_persist_rec_free(&r);
  /* embedded NUL and persistUntil overflow */
  CU_ASSERT(acmeh_persist_parse("a; accounturi=b\0c", 17, &r, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  acmeh_persist_rec_free(&r);
  const char *o = "a; accounturi=b; persistUntil=99999999999999999999";
  CU_ASSERT(acmeh_persist_parse(o, strlen(o), &r, why, sizeof why) == ACMEH_PEER_PROTOCOL);
  acmeh_persist_rec_free(&r);
  /* names */
  char name[300];
  memset(name, 'a', 250), name[250] = '\0';
  CU_ASSERT(acmeh_persist_name(name) == NULL);
  CU_ASSERT(acmeh_persist_name("") == NULL && acmeh_persist_name(NULL) == NULL);
  char h[44];
  CU_ASSERT(acmeh_persist_account_hash("", "t", "u", h) == ACMEH_INVALID_ARG);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"all vectors have a known op", test_all_ops_known},
      {"PERSIST-V1..V6 account digests", test_hash},
      {"records per revision", test_records},
      {"record parsing", test_parse},
      {"bad input", test_bad_input},
  };
  return acmeh_unit_run("dnspersist", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
