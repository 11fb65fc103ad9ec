/* harness/dns: UPDATE encoding and TSIG signing byte for byte against the
 * worked example of /work/shared/specs/dns-update.md §6 (our own vector,
 * cross-checked with dnspython and BIND), and key parsing. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/dns/update.h"
#include "tests/unit/support/unit_main.h"

#define ZONE "example.com."
#define OWNER "_acme-challenge.www.example.com."
#define VALUE "\"ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8\""
#define SECRET "jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o="

static char *hex(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) sprintf(s + 2 * i, "%02x", p[i]);
  s[2 * n] = '\0';
  return s;
}

static void expect_wire(acmeh_dnsup *u, const acmeh_tsig_key *k, const acmeh_tsig_mut *mut, const char *want) {
  acmeh_dnsup_msg m;
  CU_ASSERT_EQUAL_FATAL(acmeh_dnsup_sign(u, k, mut, &m), ACMEH_OK);
  char *got = hex(m.wire, m.len);
  if (strcmp(got, want) != 0) fprintf(stderr, "\n got  %s\n want %s\n", got, want);
  CU_ASSERT_STRING_EQUAL(got, want);
  free(got);
  acmeh_dnsup_msg_clear(&m);
  acmeh_dnsup_free(u);
}

static void test_signed_add(void) {
  acmeh_tsig_key k;
  char err[200];
  CU_ASSERT_EQUAL_FATAL(acmeh_tsig_key_set(&k, "acme-update-key", "HMAC-SHA256", SECRET, err, sizeof err), ACMEH_OK);
  CU_ASSERT_STRING_EQUAL(k.alg, "hmac-sha256.");
  CU_ASSERT_EQUAL(k.secret_len, 32);
  acmeh_dnsup *u = acmeh_dnsup_new(ZONE, 0x1234);
  CU_ASSERT_EQUAL(acmeh_dnsup_add_rr(u, OWNER, 60, "TXT", VALUE), ACMEH_OK);
  acmeh_tsig_mut mut = {.fixed_time = 1700000000};
  expect_wire(u, &k, &mut,
              "123428000001000000010001076578616d706c6503636f6d00000600010f5f61636d652d6368616c6c656e676503777777c00c"
              "001000010000003c002c2b5a54527831436b6c312d744d30356f357a61697a545441307955793541476572654d67534e574336"
              "4c6c380f61636d652d7570646174652d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c"
              "002035837337ab3463d832230aa63924764a594514a42917aa16227e2e3b9caff239123400000000");
}

static void test_unsigned_forms(void) {
  acmeh_dnsup *u = acmeh_dnsup_new(ZONE, 0x1235);
  CU_ASSERT_EQUAL(acmeh_dnsup_del_rr(u, OWNER, "TXT", VALUE), ACMEH_OK);
  expect_wire(u, NULL, NULL,
              "123528000001000000010000076578616d706c6503636f6d00000600010f5f61636d652d6368616c6c656e676503777777c00c"
              "001000fe00000000002c2b5a54527831436b6c312d744d30356f357a61697a545441307955793541476572654d67534e574336"
              "4c6c38");
  u = acmeh_dnsup_new(ZONE, 0x1236);
  CU_ASSERT_EQUAL(acmeh_dnsup_del_rrset(u, OWNER, "TXT"), ACMEH_OK);
  expect_wire(u, NULL, NULL,
              "123628000001000000010000076578616d706c6503636f6d00000600010f5f61636d652d6368616c6c656e676503777777c00c"
              "001000ff000000000000");
  u = acmeh_dnsup_new(ZONE, 0x1237);
  CU_ASSERT_EQUAL(acmeh_dnsup_prereq(u, ACMEH_PREREQ_RRSET_ABSENT, OWNER, "TXT", NULL), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_dnsup_add_rr(u, OWNER, 60, "TXT", VALUE), ACMEH_OK);
  expect_wire(u, NULL, NULL,
              "123728000001000100010000076578616d706c6503636f6d00000600010f5f61636d652d6368616c6c656e676503777777c00c"
              "001000fe000000000000c01d001000010000003c002c2b5a54527831436b6c312d744d30356f357a61697a545441307955793541"
              "476572654d67534e5743364c6c38");
}

static void test_mutations(void) {
  acmeh_tsig_key k;
  char err[200];
  CU_ASSERT_EQUAL_FATAL(acmeh_tsig_key_parse("acme-update-key.:hmac-sha256:" SECRET, &k, err, sizeof err), ACMEH_OK);
  acmeh_dnsup *u = acmeh_dnsup_new(ZONE, 7);
  acmeh_dnsup_add_rr(u, OWNER, 60, "TXT", VALUE);
  acmeh_dnsup_msg good, bad, trail;
  acmeh_tsig_mut m0 = {.fixed_time = 1700000000}, m1 = m0, m2 = m0;
  m1.corrupt_mac = 1, m2.tsig_not_last = 1;
  CU_ASSERT_EQUAL(acmeh_dnsup_sign(u, &k, &m0, &good), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_dnsup_sign(u, &k, &m1, &bad), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_dnsup_sign(u, &k, &m2, &trail), ACMEH_OK);
  CU_ASSERT_EQUAL(good.len, bad.len);
  CU_ASSERT(memcmp(good.mac, bad.mac, good.mac_len) != 0);
  CU_ASSERT_EQUAL(trail.len, good.len + 15);
  CU_ASSERT_EQUAL(trail.wire[11], 2); /* ADCOUNT counts TSIG and the trailer */
  acmeh_dnsup_msg_clear(&good), acmeh_dnsup_msg_clear(&bad), acmeh_dnsup_msg_clear(&trail);
  acmeh_dnsup_free(u);
  CU_ASSERT_EQUAL(acmeh_tsig_key_parse("k:hmac-md5:" SECRET, &k, err, sizeof err), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_tsig_key_parse("k:hmac-sha512:not base64!", &k, err, sizeof err), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_tsig_key_parse("nocolons", &k, err, sizeof err), ACMEH_INVALID_ARG);
  CU_ASSERT_STRING_EQUAL(acmeh_rcode_name(18), "BADTIME");
  CU_ASSERT_STRING_EQUAL(acmeh_rcode_name(7), "YXRRSET");
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"signed add matches the worked example", test_signed_add},
      {"delete RR, delete RRset, prerequisite forms", test_unsigned_forms},
      {"TSIG mutations and key parsing", test_mutations},
  };
  return acmeh_unit_run("dns_update", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
