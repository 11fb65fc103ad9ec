/* A DNS answer as the harness reads it as a client. The input is the answer's
 * wire bytes, read three ways:
 * - the reference server's dns-01 verdict (srv_dns01_verdict, RFC 8555 §8.4)
 *   for _acme-challenge.example.com, on the packet ldns_wire2pkt makes of it
 *   (or on the parse failure, as srv_validate_dns01 passes it on);
 * - acmeh_dns_query's reader (acmeh_dns_answers_read) for TXT and A;
 * - the DNS UPDATE client's reader (acmeh_dnsup_resp_read), with the answer's
 *   TSIG checked against the signed request of vectors/dnsupdate/tsig.json
 *   ("hmac-sha256 response"), so that vector's answer verifies (RFC 8945 §5.3). */
#include <jansson.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/dns/update.h"
#include "harness/server/internal.h"

static acmeh_dnsup_msg REQ;

static void setup(void) {
  static const uint8_t mac[] = {0x35, 0x83, 0x73, 0x37, 0xab, 0x34, 0x63, 0xd8, 0x32, 0x23, 0x0a,
                                0xa6, 0x39, 0x24, 0x76, 0x4a, 0x59, 0x45, 0x14, 0xa4, 0x29, 0x17,
                                0xaa, 0x16, 0x22, 0x7e, 0x2e, 0x3b, 0x9c, 0xaf, 0xf2, 0x39};
  char err[256];
  if (acmeh_tsig_key_set(&REQ.key, "acme-update-key.", "hmac-sha256", "jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o=",
                         err, sizeof err) != 0)
    abort();
  REQ.id = 0x1234, REQ.is_signed = 1, REQ.time_signed = 1700000000, REQ.fudge = 300;
  memcpy(REQ.mac, mac, sizeof mac), REQ.mac_len = sizeof mac;
}

static void dns01_verdict(const uint8_t *data, size_t size) {
  static char addr[] = "127.0.0.1", name[] = "example.com", token[] = "tok", keyauth[] = "tok.thumb";
  srv_validation v = {.dns_addr = addr, .dns_port = 53, .type = CHAL_DNS01, .name = name, .token = token,
                      .keyauth = keyauth};
  ldns_pkt *p = NULL;
  ldns_status st = ldns_wire2pkt(&p, data, size);
  json_decref(srv_dns01_verdict(&v, st, st == LDNS_STATUS_OK ? p : NULL));
  ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!REQ.is_signed) setup();
  dns01_verdict(data, size);
  static const uint16_t types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_A};
  for (size_t i = 0; i < 2; i++) {
    int rcode = 0;
    char *answers = NULL;
    acmeh_dns_answers_read(data, size, types[i], &rcode, &answers);
    free(answers);
  }
  acmeh_dnsup_resp r;
  acmeh_dnsup_resp_read(&REQ, data, size, &r);
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_resp_read(NULL, data, size, &r); /* an unsigned request's answer */
  acmeh_dnsup_resp_clear(&r);
  return 0;
}
