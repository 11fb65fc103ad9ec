/* The reference server's own dns-01 lookup (harness/server/dnsq.c) against a
 * nameserver that misbehaves: answers with another id or garbage first, a
 * truncated answer (then TCP), silence (two tries, then invalid), no
 * nameserver at all, and a server stopped while a lookup is under way. */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/acme/challenge.h"
#include "harness/client/flow.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/server.h"
#include "tests/unit/support/server_client.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

typedef enum { ANSWER, WRONG_ID_FIRST, GARBAGE_FIRST, TRUNCATED, SILENT } ns_mode;

static _Atomic int MODE, UDP_QUERIES, TCP_QUERIES, STOP;
static char TXT[64];
static int UDP_FD = -1, TCP_FD = -1, PORT;
static pthread_t NS;
static char RUN_DIR[] = "/tmp/acmeh-test-dnsq-XXXXXX";
static char ERR[512];
static acmeh_server *S;

/* The answer to query q: TXT for its name, or (tc) an empty truncated one. */
static int answer(const uint8_t *q, size_t n, int tc, int id_delta, uint8_t **wire, size_t *len) {
  ldns_pkt *qp = NULL, *a = ldns_pkt_new();
  int ok = ldns_wire2pkt(&qp, q, n) == LDNS_STATUS_OK && a && ldns_pkt_qdcount(qp) == 1;
  if (ok) {
    ldns_rr *qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0));
    ldns_pkt_set_id(a, (uint16_t)(ldns_pkt_id(qp) + id_delta));
    ldns_pkt_set_qr(a, 1), ldns_pkt_set_aa(a, 1), ldns_pkt_set_tc(a, tc);
    char *owner = ldns_rdf2str(ldns_rr_owner(qrr)), line[512];
    ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, qrr);
    snprintf(line, sizeof line, "%s 60 IN TXT \"%s\"", owner, TXT);
    ldns_rr *rr = NULL;
    if (!tc && ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) == LDNS_STATUS_OK) ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
    free(owner);
    ok = ldns_pkt2wire(wire, a, len) == LDNS_STATUS_OK;
  }
  ldns_pkt_free(qp), ldns_pkt_free(a);
  return ok;
}

static void send_answer(const uint8_t *q, size_t n, int tc, int id_delta, const struct sockaddr *to, socklen_t tl) {
  uint8_t *w = NULL;
  size_t len = 0;
  if (answer(q, n, tc, id_delta, &w, &len)) sendto(UDP_FD, w, len, 0, to, tl);
  free(w);
}

static void on_udp(void) {
  uint8_t q[512];
  struct sockaddr_storage from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom(UDP_FD, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
  if (n <= 0) return;
  UDP_QUERIES++;
  const struct sockaddr *to = (const struct sockaddr *)&from;
  if (MODE == WRONG_ID_FIRST) send_answer(q, (size_t)n, 0, 1, to, fl);
  if (MODE == GARBAGE_FIRST) sendto(UDP_FD, "not a DNS message", 17, 0, to, fl);
  if (MODE != SILENT) send_answer(q, (size_t)n, MODE == TRUNCATED, 0, to, fl);
}

/* One query per connection, RFC 1035 §4.2.2 framing. */
static void on_tcp(void) {
  int c = accept(TCP_FD, NULL, NULL);
  uint8_t buf[2 + 512], *w = NULL;
  size_t len = 0;
  ssize_t n = c >= 0 ? recv(c, buf, sizeof buf, 0) : -1;
  if (n > 2 && answer(buf + 2, (size_t)n - 2, 0, 0, &w, &len)) {
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    TCP_QUERIES++;
    if (send(c, hdr, 2, 0) == 2) send(c, w, len, 0);
  }
  free(w);
  if (c >= 0) close(c);
}

static void *nameserver(void *arg) {
  (void)arg;
  while (!STOP) {
    struct pollfd p[2] = {{UDP_FD, POLLIN, 0}, {TCP_FD, POLLIN, 0}};
    if (poll(p, 2, 50) <= 0) continue;
    if (p[0].revents & POLLIN) on_udp();
    if (p[1].revents & POLLIN) on_tcp();
  }
  return NULL;
}

/* UDP and TCP on one loopback port. */
/* UDP and TCP on one free port: the UDP port the kernel picks may be taken
 * for TCP by another process (tests run side by side), so try another. */
static int bind_pair(void) {
  for (int attempt = 0; attempt < 20; attempt++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    UDP_FD = socket(AF_INET, SOCK_DGRAM, 0), TCP_FD = socket(AF_INET, SOCK_STREAM, 0);
    if (!bind(UDP_FD, (struct sockaddr *)&a, sizeof a) && !getsockname(UDP_FD, (struct sockaddr *)&a, &al) &&
        !bind(TCP_FD, (struct sockaddr *)&a, sizeof a) && !listen(TCP_FD, 8)) {
      PORT = ntohs(a.sin_port);
      return 0;
    }
    close(UDP_FD), close(TCP_FD);
  }
  return -1;
}

static int start_nameserver(void) {
  if (bind_pair()) return -1;
  return pthread_create(&NS, NULL, nameserver, NULL) ? -1 : 0;
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  bind(fd, (struct sockaddr *)&a, sizeof a);
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  return ntohs(a.sin_port);
}

static acmeh_server *server_on(int dns_port, const char *dir) {
  acmeh_server_config cfg = {.dns_port = dns_port, .http01_port = closed_port(), .tlsalpn01_port = closed_port(),
                             .run_dir = dir};
  acmeh_server *s = NULL;
  if (acmeh_server_start(&cfg, &s, ERR, sizeof ERR) != ACMEH_OK) fprintf(stderr, "server: %s\n", ERR);
  return s;
}

/* Orders one fresh name on s, publishes the right TXT, answers dns-01; the
 * authorization's URL in *authz_url (caller frees). Returns the client. */
static acmeh_acme *respond(acmeh_server *s, char **authz_url) {
  static int n;
  char name[64];
  snprintf(name, sizeof name, "dnsq%d-%d.example.com", (int)getpid(), n++);
  acmeh_acme *c = acmeh_test_account(s);
  const char *names[] = {name};
  json_t *order = NULL, *authz = NULL;
  char *order_url = NULL, tp[44];
  if (!c || acmeh_flow_new_order(c, names, 1, &order_url, &order, ERR, sizeof ERR) != ACMEH_OK) return c;
  *authz_url = strdup(json_string_value(json_array_get(json_object_get(order, "authorizations"), 0)));
  if (acmeh_acme_get_json(c, *authz_url, &authz, NULL, ERR, sizeof ERR) == ACMEH_OK &&
      acmeh_acme_thumbprint(c, tp) == ACMEH_OK) {
    const json_t *ch = acmeh_flow_find_challenge(authz, "dns-01");
    char *ka = acmeh_key_authorization(json_string_value(json_object_get(ch, "token")), tp);
    acmeh_dns01_txt(ka, TXT);
    free(ka);
    acmeh_http_resp r = {0};
    acmeh_acme_post(c, json_string_value(json_object_get(ch, "url")), "{}", NULL, &r, ERR, sizeof ERR);
    acmeh_http_resp_free(&r);
  }
  json_decref(order), json_decref(authz);
  free(order_url);
  return c;
}

/* The dns-01 validation under `mode` ends `want` ("valid"/"invalid"); the
 * problem detail, if any, contains `detail`; it took at most max_s seconds. */
static void expect(ns_mode mode, const char *want, const char *detail, double max_s) {
  MODE = mode;
  UDP_QUERIES = 0;
  TCP_QUERIES = 0;
  double t0 = acmeh_now_mono();
  char *authz_url = NULL;
  acmeh_acme *c = respond(S, &authz_url);
  CU_ASSERT_PTR_NOT_NULL_FATAL(authz_url);
  static const char *const waiting[] = {"pending", "processing"};
  json_t *final = NULL;
  CU_ASSERT_EQUAL(acmeh_flow_poll(c, authz_url, waiting, 2, &final, ERR, sizeof ERR), ACMEH_OK);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(final, "status")), want);
  const char *d = json_string_value(json_object_get(json_object_get(acmeh_flow_find_challenge(final, "dns-01"), "error"), "detail"));
  if (detail) CU_ASSERT(d && strstr(d, detail));
  if (detail && !(d && strstr(d, detail))) fprintf(stderr, "\n  detail: %s\n", d ? d : "(none)");
  CU_ASSERT(acmeh_now_mono() - t0 < max_s);
  json_decref(final);
  free(authz_url);
  acmeh_acme_free(c);
}

static void test_answered(void) {
  expect(ANSWER, "valid", NULL, 5);
  CU_ASSERT_EQUAL(UDP_QUERIES, 1);
}

static void test_other_id_and_garbage_ignored(void) {
  expect(WRONG_ID_FIRST, "valid", NULL, 5);
  expect(GARBAGE_FIRST, "valid", NULL, 5);
}

static void test_truncated_then_tcp(void) {
  expect(TRUNCATED, "valid", NULL, 10);
  CU_ASSERT(TCP_QUERIES >= 1);
}

/* Two tries of 2 s, then invalid with the reason. */
static void test_silent(void) {
  double t0 = acmeh_now_mono();
  expect(SILENT, "invalid", "failed", 8);
  CU_ASSERT(acmeh_now_mono() - t0 >= 3.5);
  CU_ASSERT_EQUAL(UDP_QUERIES, 2);
}

/* Nothing on the port: ICMP says so at once, no waiting for the tries. */
static void test_no_nameserver(void) {
  char dir[sizeof RUN_DIR + 8]; /* inside the suite's folder, removed with it */
  snprintf(dir, sizeof dir, "%s/none", RUN_DIR);
  CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
  acmeh_server *keep = S;
  S = server_on(closed_port(), dir);
  CU_ASSERT_PTR_NOT_NULL_FATAL(S);
  expect(ANSWER, "invalid", "failed", 3);
  acmeh_server_stop(S);
  S = keep;
}

/* A lookup under way when the server stops: it ends at once, nothing leaks. */
static void test_stop_during_lookup(void) {
  char dir[sizeof RUN_DIR + 8]; /* inside the suite's folder, removed with it */
  snprintf(dir, sizeof dir, "%s/stop", RUN_DIR);
  CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
  acmeh_server *s = server_on(PORT, dir);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  MODE = SILENT;
  UDP_QUERIES = 0;
  char *authz_url = NULL;
  acmeh_acme *c = respond(s, &authz_url);
  for (int i = 0; i < 100 && !UDP_QUERIES; i++) usleep(10000);
  CU_ASSERT_EQUAL(UDP_QUERIES, 1);
  double t0 = acmeh_now_mono();
  acmeh_server_stop(s);
  CU_ASSERT(acmeh_now_mono() - t0 < 1.0);
  free(authz_url);
  acmeh_acme_free(c);
}

static int suite_init(void) {
  if (!mkdtemp(RUN_DIR)) return -1;
  if (!start_nameserver()) S = server_on(PORT, RUN_DIR);
  if (!S) acmeh_test_rmtree(RUN_DIR); /* suite_clean does not run after a failed init */
  return S ? 0 : -1;
}

static int suite_clean(void) {
  acmeh_server_stop(S);
  STOP = 1;
  pthread_join(NS, NULL);
  close(UDP_FD), close(TCP_FD);
  acmeh_test_rmtree(RUN_DIR);
  return 0;
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const acmeh_unit_test tests[] = {
      {"answered: valid after one query", test_answered},
      {"answer with another id, garbage: ignored", test_other_id_and_garbage_ignored},
      {"truncated answer: asked again over TCP", test_truncated_then_tcp},
      {"silent nameserver: two tries, then invalid", test_silent},
      {"no nameserver: invalid at once", test_no_nameserver},
      {"server stopped during a lookup", test_stop_during_lookup},
  };
  int rc = acmeh_unit_run("server dnsq", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
  curl_global_cleanup();
  return rc;
}
