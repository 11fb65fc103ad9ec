/* The mock bundle node (mocks/bundle-node/node.h) over TCPCLv4 on loopback,
 * driven by blocking TCPCL entities (entity.h): forwarding and holding, each
 * fault, and the bad input a peer can send (truncated CBOR, CBOR nested
 * 10,000 deep, a 4 GB declared length, an oversize bundle, a slow trickle, a
 * wrong contact header), each ending in a journal entry within the node's
 * read timeout while the node keeps serving. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/entity.h"
#include "mocks/bundle-node/node.h"
#include "mocks/bundle-node/tcpcl.h"
#include "tests/unit/support/unit_main.h"

#define TIMEOUT_MS 400 /* the node's per-message read timeout in these tests */

static acmeh_bundle_node *g_node;
static char g_msg[256];

static int suite_init(void) {
  acmeh_bundle_node_config cfg = {.read_timeout_ms = TIMEOUT_MS};
  return acmeh_bundle_node_start(&cfg, &g_node, g_msg, sizeof g_msg);
}

static int suite_clean(void) {
  acmeh_bundle_node_stop(g_node);
  return 0;
}

static acmeh_tcpcl_entity *connect_as(const char *node_id) {
  acmeh_tcpcl_entity *e = NULL;
  int rc = acmeh_tcpcl_entity_connect("127.0.0.1", acmeh_bundle_node_port(g_node), node_id, 2000, &e, g_msg, sizeof g_msg);
  if (rc) fprintf(stderr, "\n  connect %s: %s\n", node_id, g_msg);
  CU_ASSERT_FATAL(rc == ACMEH_OK);
  return e;
}

/* A response-like bundle src -> dest whose record carries a digest. */
static unsigned char *make_bundle(const char *src, const char *dest, size_t *len) {
  acmeh_dtn_record r = {.type_code = ACMEH_DTN_RECORD_TYPE, .keys = 2 | 4 | 8, .id_chal_len = 16, .token_bundle_len = 16,
                        .digest_alg = ACMEH_DTN_ALG_SHA256, .digest_len = 32};
  memset(r.id_chal, 1, 16), memset(r.token_bundle, 2, 16), memset(r.digest, 3, 32);
  acmeh_bundle b = {.flags = ACMEH_BPF_ADMIN_RECORD, .created_ms = 1000, .lifetime_ms = 60000};
  snprintf(b.src, sizeof b.src, "%s", src), snprintf(b.dest, sizeof b.dest, "%s", dest);
  CU_ASSERT_FATAL(acmeh_dtn_record_encode(&r, &b.payload, &b.payload_len) == ACMEH_OK);
  unsigned char *out = NULL;
  CU_ASSERT_FATAL(acmeh_bundle_encode(&b, &out, len) == ACMEH_OK);
  free(b.payload);
  return out;
}

/* Whether the journal gets an entry of `event` whose detail holds `needle`
 * within ms milliseconds. */
static int journal_has(const char *event, const char *needle, unsigned ms) {
  double until = acmeh_now_mono() + ms / 1000.0;
  do {
    json_t *j = acmeh_bundle_node_journal(g_node), *e;
    size_t i;
    int found = 0;
    json_array_foreach(j, i, e) {
      const char *ev = json_string_value(json_object_get(e, "event")), *d = json_string_value(json_object_get(e, "detail"));
      found |= ev && strcmp(ev, event) == 0 && d && strstr(d, needle) != NULL;
    }
    json_decref(j);
    if (found) return 1;
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  } while (acmeh_now_mono() < until);
  return 0;
}

static void test_forward(void) {
  acmeh_tcpcl_entity *a = connect_as("dtn://srv-fwd/"), *b = connect_as("dtn://cli-fwd/");
  CU_ASSERT(strcmp(acmeh_tcpcl_entity_peer(a), "dtn://mock-bundle-node/") == 0);
  size_t len, got_len;
  unsigned char *bundle = make_bundle("dtn://srv-fwd/", "dtn://cli-fwd/", &len), *got;
  CU_ASSERT(acmeh_tcpcl_entity_send(a, bundle, len, 2000, g_msg, sizeof g_msg) == ACMEH_OK);
  CU_ASSERT_FATAL(acmeh_tcpcl_entity_recv(b, 2000, &got, &got_len, g_msg, sizeof g_msg) == ACMEH_OK);
  CU_ASSERT(got_len == len && memcmp(got, bundle, len) == 0);
  free(got);
  /* Nothing else arrives. */
  CU_ASSERT(acmeh_tcpcl_entity_recv(b, 100, &got, &got_len, g_msg, sizeof g_msg) == ACMEH_PEER_TIMEOUT);
  /* A bundle for a node not yet connected is held, then delivered. */
  unsigned char *late = make_bundle("dtn://srv-fwd/", "ipn:77.0", &len);
  CU_ASSERT(acmeh_tcpcl_entity_send(a, late, len, 2000, g_msg, sizeof g_msg) == ACMEH_OK);
  acmeh_tcpcl_entity *c = connect_as("ipn:77.0");
  CU_ASSERT(acmeh_tcpcl_entity_recv(c, 2000, &got, &got_len, g_msg, sizeof g_msg) == ACMEH_OK && got_len == len);
  free(got), free(late), free(bundle);
  acmeh_tcpcl_entity_close(a), acmeh_tcpcl_entity_close(b), acmeh_tcpcl_entity_close(c);
}

/* Sends one bundle a -> b under fault f; returns what b got (NULL: nothing in 300 ms past the delay). */
static unsigned char *through_fault(const acmeh_bnode_fault *f, const char *tag, size_t *got_len, int *copies, double *elapsed) {
  char a_id[64], b_id[64];
  snprintf(a_id, sizeof a_id, "dtn://a-%s/", tag), snprintf(b_id, sizeof b_id, "dtn://b-%s/", tag);
  acmeh_bnode_fault ff = *f;
  ff.dest = b_id;
  CU_ASSERT_FATAL(acmeh_bundle_node_add_fault(g_node, &ff) == ACMEH_OK);
  acmeh_tcpcl_entity *a = connect_as(a_id), *b = connect_as(b_id);
  size_t len;
  unsigned char *bundle = make_bundle(a_id, b_id, &len), *got = NULL, *more;
  double t0 = acmeh_now_mono();
  CU_ASSERT(acmeh_tcpcl_entity_send(a, bundle, len, 2000, g_msg, sizeof g_msg) == ACMEH_OK);
  *copies = 0;
  if (acmeh_tcpcl_entity_recv(b, (unsigned)f->param + 300, &got, got_len, g_msg, sizeof g_msg) == ACMEH_OK) {
    *elapsed = acmeh_now_mono() - t0;
    *copies = 1;
    size_t l;
    while (acmeh_tcpcl_entity_recv(b, 150, &more, &l, g_msg, sizeof g_msg) == ACMEH_OK) ++*copies, free(more);
  }
  free(bundle);
  acmeh_tcpcl_entity_close(a), acmeh_tcpcl_entity_close(b);
  return got;
}

static void test_faults(void) {
  size_t n;
  int copies;
  double elapsed = 0;
  acmeh_bundle d;
  acmeh_dtn_record r;
  unsigned char *got = through_fault(&(acmeh_bnode_fault){.kind = ACMEH_BNODE_FAULT_DROP}, "drop", &n, &copies, &elapsed);
  CU_ASSERT(got == NULL && copies == 0);
  CU_ASSERT(journal_has("dropped", "fault drop", 100));
  got = through_fault(&(acmeh_bnode_fault){.kind = ACMEH_BNODE_FAULT_DELAY, .param = 300}, "delay", &n, &copies, &elapsed);
  CU_ASSERT(got && copies == 1 && elapsed >= 0.29);
  free(got);
  got = through_fault(&(acmeh_bnode_fault){.kind = ACMEH_BNODE_FAULT_DUPLICATE}, "dup", &n, &copies, &elapsed);
  CU_ASSERT(got && copies == 2);
  free(got);
  got = through_fault(&(acmeh_bnode_fault){.kind = ACMEH_BNODE_FAULT_WRONG_SOURCE, .text = "dtn://intruder/"}, "src", &n, &copies, &elapsed);
  CU_ASSERT_FATAL(got != NULL);
  CU_ASSERT(acmeh_bundle_decode(got, n, &d, g_msg, sizeof g_msg) == ACMEH_OK && strcmp(d.src, "dtn://intruder/") == 0);
  acmeh_bundle_clear(&d), free(got);
  got = through_fault(&(acmeh_bnode_fault){.kind = ACMEH_BNODE_FAULT_BAD_DIGEST}, "digest", &n, &copies, &elapsed);
  CU_ASSERT_FATAL(got != NULL);
  CU_ASSERT_FATAL(acmeh_bundle_decode(got, n, &d, g_msg, sizeof g_msg) == ACMEH_OK);
  CU_ASSERT(acmeh_dtn_record_decode(d.payload, d.payload_len, &r, g_msg, sizeof g_msg) == ACMEH_OK && r.digest[0] == (3 ^ 0xff) && r.digest[1] == 3);
  acmeh_bundle_clear(&d), free(got);
  got = through_fault(&(acmeh_bnode_fault){.kind = ACMEH_BNODE_FAULT_TRUNCATE, .param = 5}, "trunc", &n, &copies, &elapsed);
  CU_ASSERT_FATAL(got != NULL);
  CU_ASSERT(acmeh_bundle_decode(got, n, &d, g_msg, sizeof g_msg) == ACMEH_PEER_PROTOCOL && strstr(g_msg, "truncated"));
  free(got);
  acmeh_bundle_node_clear_faults(g_node);
}

/* A raw XFER_SEGMENT (START|END) carrying `data`. */
static void send_segment(acmeh_tcpcl_entity *e, uint64_t tid, const unsigned char *data, uint64_t len) {
  unsigned char *buf;
  size_t blen;
  CU_ASSERT_FATAL(acmeh_tcpcl_write(&(acmeh_tcpcl_msg){.type = ACMEH_TCPCL_XFER_SEGMENT, .flags = 3, .transfer_id = tid, .data = data, .length = len}, &buf, &blen) == ACMEH_OK);
  acmeh_tcpcl_entity_raw(e, buf, blen);
  free(buf);
}

static void test_bad_bundles(void) {
  acmeh_tcpcl_entity *e = connect_as("dtn://bad-cbor/");
  size_t len;
  unsigned char *bundle = make_bundle("dtn://bad-cbor/", "dtn://nobody/", &len);
  send_segment(e, 100, bundle, len - 7);
  CU_ASSERT(journal_has("refused", "truncated CBOR", TIMEOUT_MS));
  unsigned char *deep = malloc(10001);
  memset(deep, 0x81, 10000), deep[10000] = 0;
  send_segment(e, 101, deep, 10001);
  CU_ASSERT(journal_has("refused", "nested deeper", TIMEOUT_MS));
  static const unsigned char huge[] = {0x9f, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00};
  send_segment(e, 102, huge, sizeof huge);
  CU_ASSERT(journal_has("refused", "truncated CBOR", TIMEOUT_MS));
  /* An oversize bundle: two segments over ACMEH_BUNDLE_MAX are refused with XFER_REFUSE. */
  unsigned char *big = calloc(1, ACMEH_BUNDLE_MAX + 10);
  CU_ASSERT(acmeh_tcpcl_entity_send(e, big, ACMEH_BUNDLE_MAX + 10, 2000, g_msg, sizeof g_msg) == ACMEH_PEER_PROTOCOL && strstr(g_msg, "XFER_REFUSE"));
  CU_ASSERT(journal_has("refused", "transfer over", TIMEOUT_MS));
  /* The session still works. */
  CU_ASSERT(acmeh_tcpcl_entity_send(e, bundle, len, 2000, g_msg, sizeof g_msg) == ACMEH_OK);
  /* A segment declaring 4 GB of data ends the session. */
  static const unsigned char seg4g[] = {0x01, 0x03, 0, 0, 0, 0, 0, 0, 0, 9, /* no extensions */ 0, 0, 0, 0, /* 4 GB */ 0, 0, 0, 1, 0, 0, 0, 0, 0x9f};
  acmeh_tcpcl_entity_raw(e, seg4g, sizeof seg4g);
  CU_ASSERT(journal_has("error", "exceeds our segment MRU", TIMEOUT_MS));
  free(big), free(deep), free(bundle);
  acmeh_tcpcl_entity_close(e);
}

static void test_slow_and_wrong_peers(void) {
  acmeh_tcpcl_entity *e = connect_as("dtn://trickle/");
  /* A slow trickle: one byte of a SESS_TERM-sized message, then silence. */
  static const unsigned char one = ACMEH_TCPCL_XFER_ACK;
  double t0 = acmeh_now_mono();
  acmeh_tcpcl_entity_raw(e, &one, 1);
  CU_ASSERT(journal_has("error", "TCPCL message not complete within", TIMEOUT_MS * 3));
  CU_ASSERT(acmeh_now_mono() - t0 < TIMEOUT_MS * 3 / 1000.0);
  acmeh_tcpcl_entity_close(e);
  /* A peer that is not TCPCL: the entity's handshake fails, the node notes it. */
  acmeh_tcpcl_entity *x = NULL;
  CU_ASSERT(acmeh_tcpcl_entity_connect("127.0.0.1", acmeh_bundle_node_port(g_node), "dtn://ok/", 2000, &x, g_msg, sizeof g_msg) == ACMEH_OK);
  CU_ASSERT(acmeh_tcpcl_entity_raw(x, "\x07\x00", 2) == ACMEH_OK); /* a second SESS_INIT, cut short */
  CU_ASSERT(journal_has("error", "not complete within", TIMEOUT_MS * 3) || journal_has("error", "SESS_INIT", 10));
  acmeh_tcpcl_entity_close(x);
  /* And the node still serves. */
  acmeh_tcpcl_entity *ok = connect_as("dtn://after/");
  acmeh_tcpcl_entity_close(ok);
}

static void test_codec_edges(void) {
  unsigned char buf[64];
  acmeh_tcpcl_msg m;
  char msg[200];
  int v;
  CU_ASSERT(acmeh_tcpcl_contact_parse((const unsigned char *)"dtn", 3, &v, msg, sizeof msg) == 0);
  CU_ASSERT(acmeh_tcpcl_contact_parse((const unsigned char *)"GET / ", 6, &v, msg, sizeof msg) == ACMEH_PEER_PROTOCOL);
  CU_ASSERT(acmeh_tcpcl_contact_parse((const unsigned char *)"dtn!\x03\x00", 6, &v, msg, sizeof msg) == ACMEH_PEER_PROTOCOL && v == 3);
  buf[0] = 0x42;
  CU_ASSERT(acmeh_tcpcl_parse(buf, 1, &m, msg, sizeof msg) == ACMEH_PEER_PROTOCOL);
  /* SESS_INIT with a 65535-byte Node ID, and with a critical extension. */
  static const unsigned char big_id[] = {0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff};
  CU_ASSERT(acmeh_tcpcl_parse(big_id, sizeof big_id, &m, msg, sizeof msg) == ACMEH_PEER_TOO_LARGE);
  static const unsigned char crit[] = {0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'x', 0, 0, 0, 5, 0x01, 0, 9, 0, 0};
  CU_ASSERT(acmeh_tcpcl_parse(crit, sizeof crit, &m, msg, sizeof msg) == ACMEH_PEER_PROTOCOL && strstr(msg, "critical"));
  /* Every prefix of a good SESS_INIT asks for more. */
  unsigned char *w;
  size_t wl;
  acmeh_tcpcl_msg init = {.type = ACMEH_TCPCL_SESS_INIT, .segment_mru = 1, .transfer_mru = 1};
  strcpy(init.node_id, "ipn:1.0");
  CU_ASSERT_FATAL(acmeh_tcpcl_write(&init, &w, &wl) == ACMEH_OK);
  for (size_t i = 0; i < wl; i++) CU_ASSERT(acmeh_tcpcl_parse(w, i, &m, msg, sizeof msg) == 0);
  CU_ASSERT(acmeh_tcpcl_parse(w, wl, &m, msg, sizeof msg) == (int)wl && strcmp(m.node_id, "ipn:1.0") == 0);
  free(w);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"forward and hold", test_forward},
      {"faults: drop, delay, duplicate, wrong source, bad digest, truncate", test_faults},
      {"bad bundles: truncated, nested 10,000 deep, 4 GB lengths, oversize", test_bad_bundles},
      {"slow trickle and broken sessions", test_slow_and_wrong_peers},
      {"TCPCL codec edges", test_codec_edges},
  };
  return acmeh_unit_run("bundle_node", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
