/* A message as the mock DNS's UPDATE/TSIG layer takes it (acmeh_dnsupd_answer:
 * DNS UPDATE, RFC 2136, and TSIG, RFC 8945), after the same safety walk the
 * layer relies on (acmeh_wire_tsig_safe). Every input gets a fresh state:
 * zone example.com, the key of vectors/dnsupdate/tsig.json (hmac-sha256) with
 * no policy and a second one limited to TXT under _acme-challenge, the clock
 * fixed at the vectors' Time Signed so their signed UPDATEs verify, and a
 * record store with a TXT and an A record. Fresh, because a key accepts no
 * Time Signed older than its last one (RFC 8945 §5.2.3) and the replay cache
 * remembers every MAC: carried over, the first accepted input would turn the
 * seeds after it into BADTIME or replays, and what UPDATEs add would pile up.
 * Each input is answered twice, with unsigned UPDATEs refused and then
 * allowed (a signed one is then a replay), and the journal is dumped. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "mocks/common/history.h"
#include "mocks/common/records.h"
#include "mocks/dns/tsig.h"
#include "mocks/dns/update.h"

#define VECTOR_TIME 1700000000 /* vectors/dnsupdate/tsig.json "time_signed" */

static json_t *KEYS;
static acmeh_history *HIST;

static void setup(void) {
  KEYS = json_loads("[{\"name\": \"acme-update-key.\", \"algorithm\": \"hmac-sha256\","
                    " \"secret\": \"jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o=\"},"
                    " {\"name\": \"txt-only.\", \"algorithm\": \"hmac-sha512\","
                    " \"secret\": \"zKRqT1/FY371Fh3DCGj963Vg4+0MpDqMA0dbEVltvdFhwUcgwhgHfm5SOjEd5dUc7YshgL4ip43fcK9+fttzbA==\","
                    " \"policy\": [{\"name\": \"_acme-challenge.*\", \"types\": [\"TXT\"]}]}]",
                    0, NULL);
  HIST = acmeh_history_new(64); /* a ring: what the fuzzer queries cannot grow it */
  if (!KEYS || !HIST) abort();
}

static acmeh_dnsupd *new_state(void) {
  acmeh_dnsupd *u = acmeh_dnsupd_new(16);
  char err[256];
  if (!u || acmeh_dnsupd_add_zone(u, "example.com") != 0) abort();
  acmeh_dnsupd_set_time(u, VECTOR_TIME);
  for (size_t i = 0; i < json_array_size(KEYS); i++)
    if (acmeh_dnsupd_add_key(u, json_array_get(KEYS, i), err, sizeof err) != 0) abort();
  return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!KEYS) setup();
  acmeh_wire_tsig_safe(data, size);
  acmeh_dnsupd *u = new_state();
  acmeh_records *rec = acmeh_records_new("127.0.0.1");
  if (!rec) abort();
  acmeh_records_add(rec, ACMEH_REC_TXT, "_acme-challenge.example.com", "existing", NULL, 0);
  acmeh_records_add(rec, ACMEH_REC_A, "www.example.com", "192.0.2.1", NULL, 0);
  for (int allow = 0; allow < 2; allow++) {
    uint8_t *out = NULL;
    size_t outlen = 0;
    acmeh_dnsupd_set_allow_unsigned(u, allow);
    acmeh_dnsupd_answer(u, rec, HIST, allow ? "tcp" : "udp", "127.0.0.1:53", data, size, allow ? 65535 : 512,
                        &out, &outlen);
    free(out);
  }
  json_decref(acmeh_dnsupd_journal(u, NULL));
  acmeh_records_free(rec);
  acmeh_dnsupd_free(u);
  return 0;
}
