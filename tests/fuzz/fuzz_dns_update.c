/* A message as the mock DNS's UPDATE/TSIG layer takes it (acmeh_dnsupd_answer:
 * DNS UPDATE, RFC 2136, and TSIG, RFC 8945), after the same safety walk the
 * layer relies on (acmeh_wire_tsig_safe). One state set up on the first call:
 * zone example.com, the key of vectors/dnsupdate/tsig.json (hmac-sha256) with
 * no policy and a second one limited to TXT under _acme-challenge, the clock
 * fixed at the vectors' Time Signed so their signed UPDATEs verify. Each input
 * is answered twice, with unsigned UPDATEs refused and then allowed, so both
 * the TSIG checks (and replay) and the UPDATE processing behind them are
 * reached. The record store is renewed every input: what UPDATEs add is not
 * capped there, and a store grown over millions of inputs would only measure
 * the fuzzer's memory. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "mocks/common/history.h"
#include "mocks/common/records.h"
#include "mocks/dns/tsig.h"
#include "mocks/dns/update.h"

#define VECTOR_TIME 1700000000 /* vectors/dnsupdate/tsig.json "time_signed" */

static acmeh_dnsupd *UPD;
static acmeh_history *HIST;
static unsigned long RUNS;

static void add_key(const char *spec) {
  char err[256];
  json_t *k = json_loads(spec, 0, NULL);
  if (!k || acmeh_dnsupd_add_key(UPD, k, err, sizeof err) != 0) abort();
  json_decref(k);
}

static void setup(void) {
  UPD = acmeh_dnsupd_new(64);
  HIST = acmeh_history_new(64);
  if (!UPD || !HIST || acmeh_dnsupd_add_zone(UPD, "example.com") != 0) abort();
  acmeh_dnsupd_set_time(UPD, VECTOR_TIME);
  add_key("{\"name\": \"acme-update-key.\", \"algorithm\": \"hmac-sha256\","
          " \"secret\": \"jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o=\"}");
  add_key("{\"name\": \"txt-only.\", \"algorithm\": \"hmac-sha512\","
          " \"secret\": \"zKRqT1/FY371Fh3DCGj963Vg4+0MpDqMA0dbEVltvdFhwUcgwhgHfm5SOjEd5dUc7YshgL4ip43fcK9+fttzbA==\","
          " \"policy\": [{\"name\": \"_acme-challenge.*\", \"types\": [\"TXT\"]}]}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!UPD) setup();
  acmeh_wire_tsig_safe(data, size);
  acmeh_records *rec = acmeh_records_new("127.0.0.1");
  if (!rec) return 0;
  acmeh_records_add(rec, ACMEH_REC_TXT, "_acme-challenge.example.com", "existing", NULL, 0);
  acmeh_records_add(rec, ACMEH_REC_A, "www.example.com", "192.0.2.1", NULL, 0);
  for (int allow = 0; allow < 2; allow++) {
    uint8_t *out = NULL;
    size_t outlen = 0;
    acmeh_dnsupd_set_allow_unsigned(UPD, allow);
    acmeh_dnsupd_answer(UPD, rec, HIST, allow ? "tcp" : "udp", "127.0.0.1:53", data, size, allow ? 65535 : 512,
                        &out, &outlen);
    free(out);
  }
  acmeh_records_free(rec);
  if (++RUNS % 4096 == 0) json_decref(acmeh_dnsupd_journal(UPD, NULL)); /* the bounded journal, dumped */
  return 0;
}
