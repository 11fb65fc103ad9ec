/* A query as the mock DNS answers it over UDP and TCP (acmeh_dns_answer,
 * RFC 1035 §4): the input is the query's wire bytes, answered from one
 * record store set up on the first call with a record of each kind the mock
 * serves (A, AAAA, TXT, CAA, CNAME, SERVFAIL) under example.com. */
#include <stdint.h>
#include <stdlib.h>

#include "mocks/common/history.h"
#include "mocks/common/records.h"
#include "mocks/dns/answer.h"

static acmeh_records *REC;
static acmeh_history *HIST;

static void setup(void) {
  REC = acmeh_records_new("127.0.0.1");
  HIST = acmeh_history_new(64); /* a ring: the fuzzer's queries cannot grow it */
  if (!REC || !HIST) abort();
  acmeh_records_set_default_ipv6(REC, "::1");
  acmeh_records_add(REC, ACMEH_REC_A, "example.com", "192.0.2.1", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_AAAA, "example.com", "2001:db8::1", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_TXT, "_acme-challenge.example.com", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_TXT, "_acme-challenge.example.com", "second value", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_CAA, "example.com", "ca.example", "issue", 0);
  acmeh_records_add(REC, ACMEH_REC_CAA, "example.com", "", "issuewild", 128);
  acmeh_records_add(REC, ACMEH_REC_CNAME, "www.example.com", "example.com", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_CNAME, "loop.example.com", "loop2.example.com", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_CNAME, "loop2.example.com", "loop.example.com", NULL, 0);
  acmeh_records_add(REC, ACMEH_REC_SERVFAIL, "fail.example.com", "", NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!REC) setup();
  static const struct {
    const char *proto;
    size_t max_len;
  } as[] = {{"udp", 512}, {"tcp", 65535}}; /* as mocks/dns/dns.c calls it */
  for (size_t i = 0; i < 2; i++) {
    uint8_t *out = NULL;
    size_t outlen = 0;
    acmeh_dns_answer(REC, HIST, as[i].proto, data, size, as[i].max_len, &out, &outlen);
    free(out);
  }
  return 0;
}
