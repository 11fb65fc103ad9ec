/* Unit tests for the mocks: DNS over UDP and TCP, HTTP-01, TLS-ALPN-01 and
 * the management API, all against one instance on ephemeral loopback ports. */
#include "harness/acme/challenge.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/uvtls.h"
#include "base/uvutil.h"
#include "mocks/dns/answer.h"
#include "mocks/mocks.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static acmeh_mocks *M;

/* ---------- helpers ---------- */

/* Sends one query with ldns's resolver (UDP, or TCP when tcp is set). */
static ldns_pkt *dns_query(const char *name, ldns_rr_type type, int tcp) {
  ldns_resolver *r = ldns_resolver_new();
  ldns_rdf *ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
  ldns_resolver_push_nameserver(r, ns);
  ldns_rdf_deep_free(ns);
  ldns_resolver_set_port(r, (uint16_t)acmeh_mocks_dns_port(M));
  ldns_resolver_set_usevc(r, tcp);
  ldns_resolver_set_retry(r, 1);
  ldns_resolver_set_timeout(r, (struct timeval){2, 0});
  ldns_rdf *dn = ldns_dname_new_frm_str(name);
  ldns_pkt *p = ldns_resolver_query(r, dn, type, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_rdf_deep_free(dn);
  ldns_resolver_deep_free(r);
  return p;
}

/* Answer RRs of `type` in p. */
static size_t count_answers(const ldns_pkt *p, ldns_rr_type type) {
  ldns_rr_list *l = ldns_pkt_rr_list_by_type(p, type, LDNS_SECTION_ANSWER);
  size_t n = l ? ldns_rr_list_rr_count(l) : 0;
  ldns_rr_list_deep_free(l);
  return n;
}

/* Whether some answer RR, printed by ldns, contains `needle`. */
static int answer_contains(const ldns_pkt *p, const char *needle) {
  char *s = ldns_rr_list2str(ldns_pkt_answer(p));
  int found = s && strstr(s, needle) != NULL;
  free(s);
  return found;
}

static int udp_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)acmeh_mocks_dns_port(M))};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  connect(fd, (struct sockaddr *)&sa, sizeof sa);
  return fd;
}

static int tcp_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Receives within timeout_ms; returns bytes or -1. */
static ssize_t recv_timeout(int fd, void *buf, size_t len, int timeout_ms) {
  struct pollfd pfd = {fd, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) != 1) return -1;
  return recv(fd, buf, len, 0);
}

/* Reads until the peer closes or timeout; returns a malloc'd NUL-terminated string. */
static char *recv_all(int fd, int timeout_ms) {
  size_t cap = 4096, len = 0;
  char *out = malloc(cap);
  ssize_t n;
  while ((n = recv_timeout(fd, out + len, cap - len - 1, timeout_ms)) > 0) {
    len += (size_t)n;
    if (cap - len < 2) out = realloc(out, cap *= 2);
  }
  out[len] = '\0';
  return out;
}

/* A wire-format query for name/type built with ldns. */
static uint8_t *wire_query(const char *name, ldns_rr_type type, uint16_t id, size_t *len) {
  ldns_pkt *q = NULL;
  ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_pkt_set_id(q, id);
  uint8_t *wire = NULL;
  ldns_pkt2wire(&wire, q, len);
  ldns_pkt_free(q);
  return wire;
}

typedef struct {
  char *data;
  size_t len;
} membuf;

static size_t curl_sink(char *p, size_t sz, size_t n, void *ud) {
  membuf *b = ud;
  b->data = realloc(b->data, b->len + sz * n + 1);
  memcpy(b->data + b->len, p, sz * n);
  b->len += sz * n;
  b->data[b->len] = '\0';
  return sz * n;
}

/* POSTs body to the management API; returns the status, *reply (malloc'd) when asked. */
static long mgmt_post(const char *path, const char *body, char **reply) {
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", acmeh_mocks_mgmt_port(M), path);
  CURL *c = curl_easy_init();
  membuf b = {NULL, 0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (reply)
    *reply = b.data;
  else
    free(b.data);
  return status;
}

/* ---------- DNS ---------- */

static void test_dns_default_a(void) {
  ldns_pkt *p = dns_query("nothing-set.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  CU_ASSERT_TRUE(ldns_pkt_aa(p));
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_A), 1);
  CU_ASSERT_TRUE(answer_contains(p, "127.0.0.1"));
  ldns_pkt_free(p);
}

static void test_dns_a_records_case_insensitive(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_add_a(M, "Host-A.example.", "10.0.0.1"), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_add_a(M, "host-a.example", "10.0.0.2"), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_add_a(M, "host-a.example", "not-an-ip"), ACMEH_INVALID_ARG);
  for (int tcp = 0; tcp < 2; tcp++) {
    ldns_pkt *p = dns_query("HOST-a.Example.", LDNS_RR_TYPE_A, tcp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_A), 2);
    CU_ASSERT_TRUE(answer_contains(p, "10.0.0.1"));
    CU_ASSERT_TRUE(answer_contains(p, "10.0.0.2"));
    ldns_pkt_free(p);
  }
  CU_ASSERT_EQUAL(acmeh_mocks_add_aaaa(M, "host-a.example", "2001:db8::1"), ACMEH_OK);
  ldns_pkt *p = dns_query("host-a.example.", LDNS_RR_TYPE_AAAA, 0);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_AAAA), 1);
  CU_ASSERT_TRUE(answer_contains(p, "2001:db8::1"));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(acmeh_mocks_clear_a(M, "host-a.example"), ACMEH_OK);
  p = dns_query("host-a.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_TRUE(answer_contains(p, "127.0.0.1")); /* back to the default */
  ldns_pkt_free(p);
}

static void test_dns_txt_two_values(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_set_txt(M, "_acme-challenge.txt.example", "value-one"), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_set_txt(M, "_acme-challenge.txt.example.", "value-two"), ACMEH_OK);
  for (int tcp = 0; tcp < 2; tcp++) {
    ldns_pkt *p = dns_query("_acme-challenge.txt.example.", LDNS_RR_TYPE_TXT, tcp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_TXT), 2);
    CU_ASSERT_TRUE(answer_contains(p, "\"value-one\""));
    CU_ASSERT_TRUE(answer_contains(p, "\"value-two\""));
    ldns_pkt_free(p);
  }
  CU_ASSERT_EQUAL(acmeh_mocks_clear_txt(M, "_acme-challenge.txt.example"), ACMEH_OK);
  ldns_pkt *p = dns_query("_acme-challenge.txt.example.", LDNS_RR_TYPE_TXT, 0);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_TXT), 0);
  ldns_pkt_free(p);
}

static void test_dns_txt_long_value_split(void) {
  char value[301];
  memset(value, 'x', 300);
  value[300] = '\0';
  CU_ASSERT_EQUAL(acmeh_mocks_set_txt(M, "long.example", value), ACMEH_OK);
  ldns_pkt *p = dns_query("long.example.", LDNS_RR_TYPE_TXT, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL_FATAL(count_answers(p, LDNS_RR_TYPE_TXT), 1);
  ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
  CU_ASSERT_EQUAL(ldns_rr_rd_count(rr), 2); /* 255 + 45 bytes */
  CU_ASSERT_EQUAL(ldns_rdf_size(ldns_rr_rdf(rr, 0)), 256);
  CU_ASSERT_EQUAL(ldns_rdf_size(ldns_rr_rdf(rr, 1)), 46);
  ldns_pkt_free(p);
}

static void test_dns_caa(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_add_caa(M, "caa.example", 0, "issue", "letsencrypt.org"), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_add_caa(M, "caa.example", 128, "issuewild", ""), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_add_caa(M, "caa.example", 0, "bad tag", "x"), ACMEH_INVALID_ARG);
  for (int tcp = 0; tcp < 2; tcp++) {
    ldns_pkt *p = dns_query("caa.example.", LDNS_RR_TYPE_CAA, tcp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_CAA), 2);
    CU_ASSERT_TRUE(answer_contains(p, "0 issue \"letsencrypt.org\""));
    CU_ASSERT_TRUE(answer_contains(p, "128 issuewild"));
    /* ldns prints an empty value as nothing; check the rdata itself. */
    ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 1);
    CU_ASSERT_TRUE(ldns_rr_rd_count(rr) < 3 || ldns_rdf_size(ldns_rr_rdf(rr, 2)) == 0);
    ldns_pkt_free(p);
  }
  CU_ASSERT_EQUAL(acmeh_mocks_clear_caa(M, "caa.example"), ACMEH_OK);
  ldns_pkt *p = dns_query("caa.example.", LDNS_RR_TYPE_CAA, 0);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_CAA), 0);
  ldns_pkt_free(p);
}

static void test_dns_cname(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_set_cname(M, "alias.example", "target.example."), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_set_txt(M, "target.example", "behind-cname"), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_mocks_add_a(M, "target.example", "10.9.9.9"), ACMEH_OK);
  for (int tcp = 0; tcp < 2; tcp++) {
    ldns_pkt *p = dns_query("alias.example.", LDNS_RR_TYPE_TXT, tcp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_CNAME), 1);
    CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_TXT), 1);
    CU_ASSERT_TRUE(answer_contains(p, "target.example."));
    CU_ASSERT_TRUE(answer_contains(p, "behind-cname"));
    ldns_pkt_free(p);
  }
  ldns_pkt *p = dns_query("alias.example.", LDNS_RR_TYPE_CNAME, 0);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_CNAME), 1);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_A), 0);
  ldns_pkt_free(p);
  p = dns_query("alias.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_TRUE(answer_contains(p, "10.9.9.9"));
  CU_ASSERT_FALSE(answer_contains(p, "127.0.0.1"));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(acmeh_mocks_clear_cname(M, "alias.example"), ACMEH_OK);
}

static void test_dns_servfail_and_other_types(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_set_servfail(M, "broken.example", 1), ACMEH_OK);
  for (int tcp = 0; tcp < 2; tcp++) {
    ldns_pkt *p = dns_query("broken.example.", LDNS_RR_TYPE_TXT, tcp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
    ldns_pkt_free(p);
  }
  CU_ASSERT_EQUAL(acmeh_mocks_set_servfail(M, "broken.example", 0), ACMEH_OK);
  ldns_pkt *p = dns_query("broken.example.", LDNS_RR_TYPE_TXT, 0);
  CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  ldns_pkt_free(p);
  p = dns_query("anything.example.", LDNS_RR_TYPE_MX, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
  ldns_pkt_free(p);
}

/* Sends one query over a raw UDP socket and parses the answer (NULL on timeout). */
static ldns_pkt *raw_udp_query(const char *name, ldns_rr_type type, uint16_t edns_size) {
  ldns_pkt *q = NULL;
  ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD);
  if (edns_size) ldns_pkt_set_edns_udp_size(q, edns_size);
  uint8_t *wire = NULL;
  size_t len;
  ldns_pkt2wire(&wire, q, &len);
  ldns_pkt_free(q);
  int fd = udp_socket();
  send(fd, wire, len, 0);
  free(wire);
  uint8_t buf[8192];
  ssize_t n = recv_timeout(fd, buf, sizeof buf, 2000);
  close(fd);
  ldns_pkt *p = NULL;
  if (n > 0 && ldns_wire2pkt(&p, buf, (size_t)n) != LDNS_STATUS_OK) p = NULL;
  return p;
}

static void test_dns_truncation_and_edns(void) {
  char value[201];
  memset(value, 'v', 200);
  value[200] = '\0';
  for (int i = 0; i < 6; i++) {
    value[0] = (char)('a' + i);
    CU_ASSERT_EQUAL(acmeh_mocks_set_txt(M, "big.example", value), ACMEH_OK);
  }
  ldns_pkt *p = raw_udp_query("big.example.", LDNS_RR_TYPE_TXT, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_TRUE(ldns_pkt_tc(p)); /* > 512 bytes without EDNS */
  CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
  ldns_pkt_free(p);
  p = raw_udp_query("big.example.", LDNS_RR_TYPE_TXT, 4096);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_FALSE(ldns_pkt_tc(p));
  CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 6);
  CU_ASSERT_TRUE(ldns_pkt_edns(p));
  ldns_pkt_free(p);
  p = dns_query("big.example.", LDNS_RR_TYPE_TXT, 1);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_TXT), 6);
  ldns_pkt_free(p);
  acmeh_mocks_clear_txt(M, "big.example");
}

static void test_dns_garbage_udp(void) {
  int fd = udp_socket();
  uint8_t buf[1024];
  /* Shorter than a header: dropped without an answer. */
  send(fd, "abc", 3, 0);
  CU_ASSERT_EQUAL(recv_timeout(fd, buf, sizeof buf, 300), -1);
  /* A readable header with a truncated question: FORMERR carrying our id. */
  size_t qlen;
  uint8_t *q = wire_query("truncated.example.", LDNS_RR_TYPE_A, 0x4242, &qlen);
  send(fd, q, qlen - 3, 0);
  ssize_t n = recv_timeout(fd, buf, sizeof buf, 2000);
  CU_ASSERT_FATAL(n >= 12);
  CU_ASSERT_EQUAL(buf[0], 0x42);
  CU_ASSERT_EQUAL(buf[1], 0x42);
  CU_ASSERT_TRUE(buf[2] & 0x80); /* QR */
  CU_ASSERT_EQUAL(buf[3] & 0x0f, LDNS_RCODE_FORMERR);
  /* Random bytes with a plausible size. */
  uint8_t junk[64];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37 + 11);
  junk[2] = 0; /* not a response, so it deserves an answer or a silent drop */
  send(fd, junk, sizeof junk, 0);
  recv_timeout(fd, buf, sizeof buf, 300);
  /* The next good query still gets its answer. */
  send(fd, q, qlen, 0);
  n = recv_timeout(fd, buf, sizeof buf, 2000);
  CU_ASSERT(n > 12);
  if (n > 12) CU_ASSERT_EQUAL(buf[3] & 0x0f, LDNS_RCODE_NOERROR);
  free(q);
  close(fd);
  ldns_pkt *p = dns_query("still-alive.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_PTR_NOT_NULL(p);
  ldns_pkt_free(p);
}

static void test_dns_garbage_tcp(void) {
  int fd = tcp_connect(acmeh_mocks_dns_port(M));
  CU_ASSERT_FATAL(fd >= 0);
  size_t qlen;
  uint8_t *q = wire_query("tcp-after-junk.example.", LDNS_RR_TYPE_TXT, 0x1234, &qlen);
  uint8_t frame[1024];
  size_t off = 0;
  /* A 5-byte frame (no header), then a truncated question, then a good query. */
  memcpy(frame + off, "\x00\x05hello", 7);
  off += 7;
  frame[off++] = 0;
  frame[off++] = (uint8_t)(qlen - 3);
  memcpy(frame + off, q, qlen - 3);
  off += qlen - 3;
  frame[off++] = (uint8_t)(qlen >> 8);
  frame[off++] = (uint8_t)qlen;
  memcpy(frame + off, q, qlen);
  off += qlen;
  send(fd, frame, off, MSG_NOSIGNAL);
  uint8_t buf[4096];
  size_t got = 0;
  ssize_t n;
  /* Expect two framed answers: FORMERR then NOERROR. */
  while (got < 4096 && (n = recv_timeout(fd, buf + got, sizeof buf - got, 1000)) > 0) {
    got += (size_t)n;
    size_t a = (size_t)buf[0] << 8 | buf[1];
    if (got >= 2 + a + 2 && got >= 2 + a + 2 + ((size_t)buf[2 + a] << 8 | buf[3 + a])) break;
  }
  CU_ASSERT_FATAL(got > 14);
  size_t a = (size_t)buf[0] << 8 | buf[1];
  CU_ASSERT_EQUAL(buf[2 + 3] & 0x0f, LDNS_RCODE_FORMERR);
  CU_ASSERT_FATAL(got >= 2 + a + 2 + 12);
  uint8_t *second = buf + 2 + a + 2;
  CU_ASSERT_EQUAL(second[0], 0x12);
  CU_ASSERT_EQUAL(second[1], 0x34);
  CU_ASSERT_EQUAL(second[3] & 0x0f, LDNS_RCODE_NOERROR);
  free(q);
  close(fd);
  /* A client that claims a huge frame and hangs up does no harm either. */
  fd = tcp_connect(acmeh_mocks_dns_port(M));
  send(fd, "\xff\xff\x01\x02\x03", 5, MSG_NOSIGNAL);
  close(fd);
  ldns_pkt *p = dns_query("still-alive.example.", LDNS_RR_TYPE_A, 1);
  CU_ASSERT_PTR_NOT_NULL(p);
  ldns_pkt_free(p);
}

static void test_dns_history(void) {
  acmeh_mocks_clear_history(M, "dns", NULL);
  ldns_pkt_free(dns_query("_acme-challenge.hist.example.", LDNS_RR_TYPE_TXT, 0));
  ldns_pkt_free(dns_query("_ACME-challenge.hist.example.", LDNS_RR_TYPE_CAA, 1));
  json_t *h = acmeh_mocks_history(M, "dns", "_acme-challenge.hist.example");
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_EQUAL(json_array_size(h), 2);
  json_t *e = json_array_get(h, 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "qtype")), "TXT");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "proto")), "udp");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(h, 1), "proto")), "tcp");
  CU_ASSERT_TRUE(json_is_integer(json_object_get(e, "time_ms")));
  json_decref(h);
  CU_ASSERT_PTR_NULL(acmeh_mocks_history(M, "nope", NULL));
  acmeh_mocks_clear_history(M, "dns", "_acme-challenge.hist.example.");
  h = acmeh_mocks_history(M, "dns", "_acme-challenge.hist.example");
  CU_ASSERT_EQUAL(json_array_size(h), 0);
  json_decref(h);
}

/* A full history drops its oldest entries first and never holds more than
 * its cap, however many are added (it drops several at once when full). */
static void test_history_cap(void) {
  acmeh_history *hist = acmeh_history_new(10);
  for (int i = 0; i < 95; i++)
    acmeh_history_add(hist, ACMEH_HIST_DNS, "cap.example", json_pack("{s:i}", "n", i));
  json_t *all = acmeh_history_get(hist, ACMEH_HIST_DNS, NULL);
  size_t n = json_array_size(all);
  CU_ASSERT_TRUE(n >= 5 && n <= 10);
  for (size_t i = 0; i < n; i++) /* the newest n, oldest first */
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(all, i), "n")), (json_int_t)(95 - n + i));
  json_decref(all);
  acmeh_history_free(hist);
}

/* One wire query for a name given as wire labels, answered with a fresh
 * history; returns that history's single entry (caller decrefs). */
static json_t *history_of_wire_name(const uint8_t *name, size_t nlen, uint16_t type) {
  uint8_t q[12 + 256 + 4] = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  memcpy(q + 12, name, nlen);
  uint8_t tail[4] = {(uint8_t)(type >> 8), (uint8_t)type, 0, 1};
  memcpy(q + 12 + nlen, tail, 4);
  acmeh_records *rec = acmeh_records_new("127.0.0.1");
  acmeh_history *hist = acmeh_history_new(4);
  uint8_t *out = NULL;
  size_t outlen;
  acmeh_dns_answer(rec, hist, "udp", q, 12 + nlen + 4, 512, &out, &outlen);
  free(out);
  json_t *all = acmeh_history_get(hist, ACMEH_HIST_DNS, NULL);
  json_t *e = json_incref(json_array_get(all, 0));
  json_decref(all);
  acmeh_history_free(hist);
  acmeh_records_free(rec);
  return e;
}

/* The history's qname and qtype are what ldns_rdf2str / ldns_rr_type2str
 * print (the mock formats them itself to spare two mallocs per query):
 * random labels of any octet, and a spread of types known and unknown. */
static void test_dns_history_names_match_ldns(void) {
  unsigned seed = 777;
  for (int i = 0; i < 300; i++) {
    uint8_t name[256];
    size_t n = 0;
    int labels = i < 5 ? 3 : 1 + rand_r(&seed) % 4; /* at most 3 * 64 + 1 octets */
    for (int l = 0; l < labels; l++) {
      int len = 1 + rand_r(&seed) % (i < 5 ? 63 : 12);
      name[n++] = (uint8_t)len;
      for (int k = 0; k < len; k++)
        name[n++] = (uint8_t)(i % 3 ? rand_r(&seed) : "ab.;()\\\" $@-_"[rand_r(&seed) % 14]);
    }
    name[n++] = 0;
    json_t *e = history_of_wire_name(name, n, LDNS_RR_TYPE_TXT);
    ldns_rdf *rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, n, name);
    char *want = ldns_rdf2str(rdf);
    size_t wl = strlen(want);
    if (wl > 1 && want[wl - 1] == '.') want[wl - 1] = '\0';
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "qname")), want);
    free(want);
    ldns_rdf_deep_free(rdf);
    json_decref(e);
  }
  static const uint8_t root[1] = {0};
  for (unsigned t = 0; t < 65536; t += t < 300 ? 1 : t < 32780 && t >= 32760 ? 1 : t >= 65270 ? 1 : 97) {
    json_t *e = history_of_wire_name(root, 1, (uint16_t)t);
    char *want = ldns_rr_type2str((ldns_rr_type)t);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "qtype")), want);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "qname")), ".");
    free(want);
    json_decref(e);
  }
}

/* Random and bit-flipped queries straight into the answer function: it must
 * neither crash nor leak (run under ASan), and must answer or drop. */
static void test_dns_answer_fuzz(void) {
  acmeh_records *rec = acmeh_records_new("127.0.0.1");
  acmeh_history *hist = acmeh_history_new(100);
  acmeh_records_add(rec, ACMEH_REC_TXT, "fuzz.example", "v", NULL, 0);
  acmeh_records_add(rec, ACMEH_REC_CNAME, "loop-a.example", "loop-b.example", NULL, 0);
  acmeh_records_add(rec, ACMEH_REC_CNAME, "loop-b.example", "loop-a.example", NULL, 0);
  size_t qlen;
  uint8_t *q = wire_query("fuzz.example.", LDNS_RR_TYPE_TXT, 7, &qlen);
  uint8_t buf[600];
  unsigned seed = 12345;
  int answered = 0;
  for (int i = 0; i < 3000; i++) {
    size_t len;
    if (i % 2) { /* mutate a valid query */
      memcpy(buf, q, qlen);
      len = qlen;
      for (int k = 0; k < 1 + i % 4; k++)
        buf[rand_r(&seed) % len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
      if (i % 7 == 0) len = (size_t)rand_r(&seed) % (qlen + 1);
    } else { /* pure noise */
      len = (size_t)rand_r(&seed) % sizeof buf;
      for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)rand_r(&seed);
    }
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rc = acmeh_dns_answer(rec, hist, "udp", buf, len, 512, &out, &outlen);
    CU_ASSERT_TRUE(rc == ACMEH_OK || rc == ACMEH_PEER_PROTOCOL);
    if (rc == ACMEH_OK) {
      answered++;
      CU_ASSERT_TRUE(outlen >= 12 && outlen <= 512);
    }
    free(out);
  }
  CU_ASSERT_TRUE(answered > 0);
  /* A CNAME loop ends after a bounded number of hops. */
  uint8_t *lq = wire_query("loop-a.example.", LDNS_RR_TYPE_A, 9, &qlen);
  uint8_t *out = NULL;
  size_t outlen;
  CU_ASSERT_EQUAL(acmeh_dns_answer(rec, hist, "tcp", lq, qlen, 65535, &out, &outlen), ACMEH_OK);
  free(out);
  free(lq);
  free(q);
  acmeh_history_free(hist);
  acmeh_records_free(rec);
}

/* 100,000 TXT names: a query costs what its own name holds, not the whole
 * store (a linear store took ~30 ms a query). The loop stops after 10 s so a
 * slow store fails quickly instead of running for a minute. */
#define MANY_NAMES 100000
#define MANY_QUERIES 2000
static void test_dns_many_records(void) {
  acmeh_records *rec = acmeh_records_new("127.0.0.1");
  char name[64], value[32];
  for (int i = 0; i < MANY_NAMES; i++) {
    snprintf(name, sizeof name, "_acme-challenge.n%d.example", i);
    snprintf(value, sizeof value, "token-%d", i);
    CU_ASSERT_FATAL(acmeh_records_add(rec, ACMEH_REC_TXT, name, value, NULL, 0) == ACMEH_OK);
  }
  int done = 0, right = 0;
  double t0 = acmeh_now_mono(), elapsed = 0; /* time inside acmeh_dns_answer only */
  for (; done < MANY_QUERIES && acmeh_now_mono() - t0 < 10; done++) {
    int i = (int)(((unsigned)done * 7919u) % MANY_NAMES);
    snprintf(name, sizeof name, "_acme-challenge.N%d.example.", i); /* case differs: the key is lower case */
    snprintf(value, sizeof value, "token-%d", i);
    size_t qlen, outlen = 0;
    uint8_t *q = wire_query(name, LDNS_RR_TYPE_TXT, (uint16_t)done, &qlen), *out = NULL;
    ldns_pkt *p = NULL;
    double t = acmeh_now_mono();
    int rc = acmeh_dns_answer(rec, NULL, "udp", q, qlen, 512, &out, &outlen);
    elapsed += acmeh_now_mono() - t;
    if (rc == ACMEH_OK && ldns_wire2pkt(&p, out, outlen) == LDNS_STATUS_OK)
      right += count_answers(p, LDNS_RR_TYPE_TXT) == 1 && answer_contains(p, value);
    ldns_pkt_free(p);
    free(out);
    free(q);
  }
  fprintf(stderr, "\n%d queries over %d TXT names: %.3f s, %.1f us a query\n", done, MANY_NAMES, elapsed,
          1e6 * elapsed / (done ? done : 1));
  CU_ASSERT_EQUAL(done, MANY_QUERIES);
  CU_ASSERT_EQUAL(right, done);
  CU_ASSERT(elapsed < 1.0);
  acmeh_records_free(rec);
}

/* ---------- HTTP-01 ---------- */

static char *http_get(const char *path, const char *host) {
  int fd = tcp_connect(acmeh_mocks_http01_port(M));
  if (fd < 0) return NULL;
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                   path, host);
  send(fd, req, (size_t)n, MSG_NOSIGNAL);
  char *resp = recv_all(fd, 2000);
  close(fd);
  return resp;
}

static void test_http01(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_add_http01(M, "tok-123", "tok-123.thumb"), ACMEH_OK);
  acmeh_mocks_clear_history(M, "http", NULL);
  char *r = http_get("/.well-known/acme-challenge/tok-123", "web.example:5002");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_TRUE(strncmp(r, "HTTP/1.1 200", 12) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(r, "Content-Type: application/octet-stream\r\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r, "\r\n\r\ntok-123.thumb"));
  free(r);
  r = http_get("/.well-known/acme-challenge/other", "web.example");
  CU_ASSERT_TRUE(r && strncmp(r, "HTTP/1.1 404", 12) == 0);
  free(r);
  r = http_get("/", "web.example");
  CU_ASSERT_TRUE(r && strncmp(r, "HTTP/1.1 404", 12) == 0);
  free(r);
  json_t *h = acmeh_mocks_history(M, "http", "web.example");
  CU_ASSERT_EQUAL(json_array_size(h), 3);
  json_t *e = json_array_get(h, 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "host")), "web.example:5002");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "method")), "GET");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "path")),
                         "/.well-known/acme-challenge/tok-123");
  json_decref(h);
  CU_ASSERT_EQUAL(acmeh_mocks_del_http01(M, "tok-123"), ACMEH_OK);
  r = http_get("/.well-known/acme-challenge/tok-123", "web.example");
  CU_ASSERT_TRUE(r && strncmp(r, "HTTP/1.1 404", 12) == 0);
  free(r);
}

/* A token that is not base64url ('/', '+') is published and served as given:
 * CORE-C-030 needs the mocks to show what a client published, not refuse it. */
static void test_http01_any_token(void) {
  CU_ASSERT_EQUAL(acmeh_mocks_add_http01(M, "a/b+c", "a/b+c.thumb"), ACMEH_OK);
  char *r = http_get("/.well-known/acme-challenge/a/b+c", "web.example");
  CU_ASSERT_TRUE(r && strncmp(r, "HTTP/1.1 200", 12) == 0 && strstr(r, "\r\n\r\na/b+c.thumb"));
  free(r);
  r = http_get("/.well-known/acme-challenge/a", "web.example");
  CU_ASSERT_TRUE(r && strncmp(r, "HTTP/1.1 404", 12) == 0);
  free(r);
  CU_ASSERT_EQUAL(acmeh_mocks_del_http01(M, "a/b+c"), ACMEH_OK);
  r = http_get("/.well-known/acme-challenge/a/b+c", "web.example");
  CU_ASSERT_TRUE(r && strncmp(r, "HTTP/1.1 404", 12) == 0);
  free(r);
}

static void test_http01_bad_requests(void) {
  int fd = tcp_connect(acmeh_mocks_http01_port(M));
  send(fd, "NOT HTTP AT ALL\r\n\r\n", 19, MSG_NOSIGNAL);
  char *r = recv_all(fd, 2000);
  CU_ASSERT_TRUE(strncmp(r, "HTTP/1.1 400", 12) == 0);
  free(r);
  close(fd);
  /* Keep-alive: two requests on one connection get two answers. */
  CU_ASSERT_EQUAL(acmeh_mocks_add_http01(M, "ka", "ka-content"), ACMEH_OK);
  fd = tcp_connect(acmeh_mocks_http01_port(M));
  const char *two =
      "GET /.well-known/acme-challenge/ka HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /.well-known/acme-challenge/ka HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  send(fd, two, strlen(two), MSG_NOSIGNAL);
  r = recv_all(fd, 2000);
  char *second = strstr(r + 1, "HTTP/1.1 200");
  CU_ASSERT_PTR_NOT_NULL(second);
  free(r);
  close(fd);
  acmeh_mocks_del_http01(M, "ka");
}

/* ---------- TLS-ALPN-01 ---------- */

/* Handshakes with the responder; returns the peer certificate (caller frees)
 * or NULL when the handshake failed. *alpn_ok says acme-tls/1 was selected. */
static X509 *tls_handshake(const char *sni, const unsigned char *alpn, unsigned alpn_len,
                           int *alpn_ok) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL *ssl = SSL_new(ctx);
  if (sni) SSL_set_tlsext_host_name(ssl, sni);
  SSL_set_alpn_protos(ssl, alpn, alpn_len);
  int fd = tcp_connect(acmeh_mocks_tlsalpn01_port(M));
  SSL_set_fd(ssl, fd);
  X509 *cert = NULL;
  *alpn_ok = 0;
  if (SSL_connect(ssl) == 1) {
    const unsigned char *sel;
    unsigned sel_len;
    SSL_get0_alpn_selected(ssl, &sel, &sel_len);
    *alpn_ok = sel_len == 10 && memcmp(sel, "acme-tls/1", 10) == 0;
    cert = SSL_get1_peer_certificate(ssl);
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return cert;
}

static void test_tlsalpn01(void) {
  static const unsigned char acme[] = "\x0a"
                                      "acme-tls/1";
  static const unsigned char h2[] = "\x02"
                                    "h2";
  static const unsigned char both[] = "\x02"
                                      "h2"
                                      "\x0a"
                                      "acme-tls/1";
  const char *keyauth = "tok.thumbprint";
  CU_ASSERT_EQUAL_FATAL(acmeh_mocks_add_tlsalpn01(M, "tls.example", keyauth), ACMEH_OK);
  acmeh_mocks_clear_history(M, "tlsalpn", NULL);

  int alpn_ok;
  X509 *cert = tls_handshake("tls.example", both, sizeof both - 1, &alpn_ok);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
  CU_ASSERT_TRUE(alpn_ok);
  /* The critical id-pe-acmeIdentifier extension with SHA-256(keyauth). */
  ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  int idx = X509_get_ext_by_OBJ(cert, oid, -1);
  CU_ASSERT_FATAL(idx >= 0);
  X509_EXTENSION *ext = X509_get_ext(cert, idx);
  CU_ASSERT_EQUAL(X509_EXTENSION_get_critical(ext), 1);
  unsigned char want[51], *der = NULL;
  CU_ASSERT_EQUAL(acmeh_tlsalpn01_extension_der(keyauth, want), ACMEH_OK);
  int len = i2d_X509_EXTENSION(ext, &der);
  CU_ASSERT_EQUAL(len, 51);
  CU_ASSERT_TRUE(len == 51 && memcmp(der, want, 51) == 0);
  OPENSSL_free(der);
  ASN1_OBJECT_free(oid);
  X509_free(cert);

  /* Without acme-tls/1, or for an unknown name, the handshake fails. */
  cert = tls_handshake("tls.example", h2, sizeof h2 - 1, &alpn_ok);
  CU_ASSERT_PTR_NULL(cert);
  X509_free(cert);
  cert = tls_handshake("unknown.example", acme, sizeof acme - 1, &alpn_ok);
  CU_ASSERT_PTR_NULL(cert);
  X509_free(cert);

  cert = tls_handshake(NULL, acme, sizeof acme - 1, &alpn_ok); /* no SNI: refused, recorded */
  CU_ASSERT_PTR_NULL(cert);
  X509_free(cert);
  json_t *all = acmeh_mocks_history(M, "tlsalpn", NULL);
  CU_ASSERT_EQUAL(json_array_size(all), 4);
  json_decref(all);

  json_t *h = acmeh_mocks_history(M, "tlsalpn", "TLS.example");
  CU_ASSERT_EQUAL(json_array_size(h), 2);
  json_t *e = json_array_get(h, 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "sni")), "tls.example");
  json_t *alpn = json_object_get(e, "alpn");
  CU_ASSERT_EQUAL(json_array_size(alpn), 2);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(alpn, 1)), "acme-tls/1");
  json_decref(h);

  CU_ASSERT_EQUAL(acmeh_mocks_del_tlsalpn01(M, "tls.example"), ACMEH_OK);
  cert = tls_handshake("tls.example", acme, sizeof acme - 1, &alpn_ok);
  CU_ASSERT_PTR_NULL(cert);
  X509_free(cert);
}

static void test_tlsalpn01_ip_identifier(void) {
  static const unsigned char acme[] = "\x0a"
                                      "acme-tls/1";
  CU_ASSERT_EQUAL_FATAL(acmeh_mocks_add_tlsalpn01(M, "127.0.0.2", "ip.keyauth"), ACMEH_OK);
  int alpn_ok;
  X509 *cert = tls_handshake("2.0.0.127.in-addr.arpa", acme, sizeof acme - 1, &alpn_ok);
  CU_ASSERT_PTR_NOT_NULL(cert);
  CU_ASSERT_TRUE(alpn_ok);
  X509_free(cert);
  acmeh_mocks_del_tlsalpn01(M, "127.0.0.2");
}

static void test_tlsalpn01_garbage(void) {
  int fd = tcp_connect(acmeh_mocks_tlsalpn01_port(M));
  send(fd, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL);
  char *r = recv_all(fd, 1000); /* an alert or nothing, then close */
  free(r);
  close(fd);
  test_tlsalpn01_ip_identifier(); /* still serving */
}

/* ---------- uvtls on its own: an echo server ---------- */

typedef struct {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t stop;
  SSL_CTX *ctx;
  acmeh_uvtls *conn;
  acmeh_uvtls_cbs cbs;
  int closed_conns;
} echo_srv;

static void echo_data(acmeh_uvtls *t, const char *data, size_t len) {
  acmeh_uvtls_write(t, data, len);
  if (len >= 4 && memcmp(data + len - 4, "quit", 4) == 0) acmeh_uvtls_shutdown(t);
}
static void echo_closed(acmeh_uvtls *t) {
  echo_srv *e = acmeh_uvtls_data(t);
  e->closed_conns++;
  e->conn = NULL;
}
static void echo_accept(uv_stream_t *server, int status) {
  echo_srv *e = server->data;
  if (status == 0) acmeh_uvtls_accept(server, e->ctx, &e->cbs, e, &e->conn);
}
static void echo_stop(uv_async_t *a) {
  echo_srv *e = a->data;
  uv_close((uv_handle_t *)&e->listener, NULL);
  uv_close((uv_handle_t *)&e->stop, NULL);
  if (e->conn) acmeh_uvtls_close(e->conn);
}
static void *echo_thread(void *arg) {
  uv_run(&((echo_srv *)arg)->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void test_uvtls_echo(void) {
  echo_srv e = {0};
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_tlsalpn01_cert("echo.example", "ka", &key, &cert), ACMEH_OK);
  e.ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(e.ctx, cert);
  SSL_CTX_use_PrivateKey(e.ctx, key);
  e.cbs = (acmeh_uvtls_cbs){.on_data = echo_data, .on_close = echo_closed};
  uv_loop_init(&e.loop);
  uv_tcp_init(&e.loop, &e.listener);
  e.listener.data = &e;
  uv_async_init(&e.loop, &e.stop, echo_stop);
  e.stop.data = &e;
  CU_ASSERT_EQUAL_FATAL(
      acmeh_uv_tcp_listen(&e.listener, "127.0.0.1", 0, echo_accept, "echo", NULL, 0), ACMEH_OK);
  int port = acmeh_uv_tcp_port(&e.listener);
  pthread_t th;
  pthread_create(&th, NULL, echo_thread, &e);

  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = SSL_new(cctx);
  int fd = tcp_connect(port);
  SSL_set_fd(ssl, fd);
  CU_ASSERT_EQUAL(SSL_connect(ssl), 1);
  char big[40000], back[40000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  memcpy(big + sizeof big - 4, "quit", 4);
  CU_ASSERT_EQUAL(SSL_write(ssl, big, sizeof big), (int)sizeof big);
  size_t got = 0;
  int n;
  while (got < sizeof back && (n = SSL_read(ssl, back + got, (int)(sizeof back - got))) > 0)
    got += (size_t)n;
  CU_ASSERT_EQUAL(got, sizeof big);
  CU_ASSERT_TRUE(memcmp(big, back, sizeof big) == 0);
  /* After "quit" the server sends close_notify: the next read sees a clean EOF. */
  char one;
  CU_ASSERT_EQUAL(SSL_read(ssl, &one, 1), 0);
  CU_ASSERT_EQUAL(SSL_get_error(ssl, 0), SSL_ERROR_ZERO_RETURN);
  SSL_free(ssl);
  SSL_CTX_free(cctx);
  close(fd);

  uv_async_send(&e.stop);
  pthread_join(th, NULL);
  CU_ASSERT_EQUAL(e.closed_conns, 1);
  CU_ASSERT_EQUAL(uv_loop_close(&e.loop), 0);
  SSL_CTX_free(e.ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  ERR_clear_error();
}

/* ---------- management API ---------- */

static void test_mgmt_set_txt_then_dns(void) {
  CU_ASSERT_EQUAL(mgmt_post("/set-txt",
                            "{\"host\":\"_acme-challenge.mgmt.example.\",\"value\":\"via-api\"}",
                            NULL),
                  200);
  ldns_pkt *p = dns_query("_acme-challenge.mgmt.example.", LDNS_RR_TYPE_TXT, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_TRUE(answer_contains(p, "\"via-api\""));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/clear-txt", "{\"host\":\"_acme-challenge.mgmt.example.\"}", NULL),
                  200);
  p = dns_query("_acme-challenge.mgmt.example.", LDNS_RR_TYPE_TXT, 0);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_TXT), 0);
  ldns_pkt_free(p);
}

static void test_mgmt_records(void) {
  CU_ASSERT_EQUAL(mgmt_post("/add-a",
                            "{\"host\":\"m.example\",\"addresses\":[\"10.1.1.1\",\"10.1.1.2\"]}",
                            NULL),
                  200);
  CU_ASSERT_EQUAL(mgmt_post("/add-aaaa", "{\"Host\":\"m.example\",\"Addresses\":[\"::2\"]}", NULL),
                  200);
  CU_ASSERT_EQUAL(
      mgmt_post(
          "/add-caa",
          "{\"host\":\"m.example\",\"policies\":[{\"tag\":\"issue\",\"value\":\"ca.example\"}]}",
          NULL),
      200);
  CU_ASSERT_EQUAL(
      mgmt_post("/set-cname", "{\"host\":\"c.example\",\"target\":\"m.example\"}", NULL), 200);
  ldns_pkt *p = dns_query("c.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_EQUAL(count_answers(p, LDNS_RR_TYPE_A), 2);
  ldns_pkt_free(p);
  p = dns_query("m.example.", LDNS_RR_TYPE_CAA, 0);
  CU_ASSERT_TRUE(answer_contains(p, "ca.example"));
  ldns_pkt_free(p);
  p = dns_query("m.example.", LDNS_RR_TYPE_AAAA, 1);
  CU_ASSERT_TRUE(answer_contains(p, "::2"));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/set-servfail", "{\"host\":\"m.example\"}", NULL), 200);
  p = dns_query("m.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/clear-servfail", "{\"host\":\"m.example\"}", NULL), 200);
  CU_ASSERT_EQUAL(mgmt_post("/clear-a", "{\"host\":\"m.example\"}", NULL), 200);
  CU_ASSERT_EQUAL(mgmt_post("/clear-aaaa", "{\"host\":\"m.example\"}", NULL), 200);
  CU_ASSERT_EQUAL(mgmt_post("/clear-caa", "{\"host\":\"m.example\"}", NULL), 200);
  CU_ASSERT_EQUAL(mgmt_post("/clear-cname", "{\"host\":\"c.example\"}", NULL), 200);
  p = dns_query("m.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  CU_ASSERT_TRUE(answer_contains(p, "127.0.0.1"));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/set-default-ipv4", "{\"ip\":\"10.2.2.2\"}", NULL), 200);
  p = dns_query("unset.example.", LDNS_RR_TYPE_A, 0);
  CU_ASSERT_TRUE(answer_contains(p, "10.2.2.2"));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/set-default-ipv4", "{\"ip\":\"127.0.0.1\"}", NULL), 200);
}

static void test_mgmt_http01_tlsalpn_history(void) {
  CU_ASSERT_EQUAL(
      mgmt_post("/add-http01", "{\"token\":\"api-tok\",\"content\":\"api-tok.thumb\"}", NULL), 200);
  acmeh_mocks_clear_history(M, "http", NULL);
  char *r = http_get("/.well-known/acme-challenge/api-tok", "hist.example");
  CU_ASSERT_TRUE(r && strstr(r, "api-tok.thumb") != NULL);
  free(r);
  char *reply = NULL;
  CU_ASSERT_EQUAL(mgmt_post("/http-request-history", "{\"host\":\"hist.example\"}", &reply), 200);
  json_t *h = json_loads(reply ? reply : "", 0, NULL);
  CU_ASSERT_EQUAL(json_array_size(h), 1);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(h, 0), "URL")),
                         "/.well-known/acme-challenge/api-tok");
  json_decref(h);
  free(reply);
  CU_ASSERT_EQUAL(
      mgmt_post("/clear-request-history", "{\"host\":\"hist.example\",\"type\":\"http\"}", NULL),
      200);
  CU_ASSERT_EQUAL(mgmt_post("/http-request-history", "{\"host\":\"hist.example\"}", &reply), 200);
  h = json_loads(reply ? reply : "", 0, NULL);
  CU_ASSERT_TRUE(json_is_array(h) && json_array_size(h) == 0);
  json_decref(h);
  free(reply);
  CU_ASSERT_EQUAL(mgmt_post("/del-http01", "{\"token\":\"api-tok\"}", NULL), 200);

  CU_ASSERT_EQUAL(
      mgmt_post("/add-tlsalpn01", "{\"host\":\"api-tls.example\",\"content\":\"k.a\"}", NULL), 200);
  static const unsigned char acme[] = "\x0a"
                                      "acme-tls/1";
  int alpn_ok;
  X509 *cert = tls_handshake("api-tls.example", acme, sizeof acme - 1, &alpn_ok);
  CU_ASSERT_PTR_NOT_NULL(cert);
  X509_free(cert);
  CU_ASSERT_EQUAL(mgmt_post("/tlsalpn01-request-history", "{\"host\":\"api-tls.example\"}", &reply),
                  200);
  h = json_loads(reply ? reply : "", 0, NULL);
  CU_ASSERT_EQUAL(json_array_size(h), 1);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(h, 0), "ServerName")),
                         "api-tls.example");
  json_decref(h);
  free(reply);
  CU_ASSERT_EQUAL(mgmt_post("/del-tlsalpn01", "{\"host\":\"api-tls.example\"}", NULL), 200);

  ldns_pkt_free(dns_query("dnshist.example.", LDNS_RR_TYPE_TXT, 0));
  CU_ASSERT_EQUAL(mgmt_post("/dns-request-history", "{\"host\":\"dnshist.example\"}", &reply), 200);
  h = json_loads(reply ? reply : "", 0, NULL);
  CU_ASSERT_EQUAL(json_array_size(h), 1);
  json_decref(h);
  free(reply);
}

static void test_mgmt_errors(void) {
  CU_ASSERT_EQUAL(mgmt_post("/set-txt", "{not json", NULL), 400);
  CU_ASSERT_EQUAL(mgmt_post("/set-txt", "[1,2]", NULL), 400);
  CU_ASSERT_EQUAL(mgmt_post("/set-txt", "{\"host\":\"\"}", NULL), 400);
  CU_ASSERT_EQUAL(mgmt_post("/add-a", "{\"host\":\"x.example\",\"addresses\":[\"nope\"]}", NULL),
                  400);
  CU_ASSERT_EQUAL(mgmt_post("/add-a", "{\"host\":\"x.example\",\"addresses\":[]}", NULL), 400);
  CU_ASSERT_EQUAL(mgmt_post("/clear-request-history", "{\"host\":\"x\",\"type\":\"smtp\"}", NULL),
                  400);
  CU_ASSERT_EQUAL(mgmt_post("/no-such-endpoint", "{}", NULL), 404);
  /* Bodies beyond the 64 KiB cap are refused. */
  size_t big = 70 * 1024;
  char *body = malloc(big + 1);
  memset(body, ' ', big);
  body[0] = '{';
  body[big - 1] = '}';
  body[big] = '\0';
  CU_ASSERT_EQUAL(mgmt_post("/set-txt", body, NULL), 413);
  free(body);
}

/* ---------- lifecycle ---------- */

/* CAA flags are one octet (RFC 8659 §4.1): a value outside 0..255 is refused
 * with a reason naming the field, never reduced modulo 2^32 (4294967301 was
 * stored as 5); one bad policy keeps the whole request out. */
static void test_mgmt_caa_flags_range(void) {
  static const char *bad[] = {"4294967301", "256", "-1", "9223372036854775807"};
  char body[256], *reply = NULL;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(body, sizeof body,
             "{\"host\":\"flags.example\",\"policies\":[{\"tag\":\"issue\",\"value\":\"ok.example\"},"
             "{\"tag\":\"issue\",\"value\":\"ca.example\",\"flags\":%s}]}",
             bad[i]);
    CU_ASSERT_EQUAL(mgmt_post("/add-caa", body, &reply), 400);
    CU_ASSERT(reply && strstr(reply, "flags") && strstr(reply, "0..255"));
    free(reply);
    reply = NULL;
  }
  ldns_pkt *p = dns_query("flags.example.", LDNS_RR_TYPE_CAA, 0);
  CU_ASSERT(p && count_answers(p, LDNS_RR_TYPE_CAA) == 0);
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/add-caa",
                            "{\"host\":\"flags.example\",\"policies\":[{\"tag\":\"issue\",\"value\":\"ca.example\",\"flags\":255}]}",
                            NULL),
                  200);
  p = dns_query("flags.example.", LDNS_RR_TYPE_CAA, 0);
  CU_ASSERT(p && count_answers(p, LDNS_RR_TYPE_CAA) == 1 && answer_contains(p, "255 issue"));
  ldns_pkt_free(p);
  CU_ASSERT_EQUAL(mgmt_post("/clear-caa", "{\"host\":\"flags.example\"}", NULL), 200);
}

static void test_port_in_use(void) {
  acmeh_mocks_config cfg = {.dns_port = acmeh_mocks_dns_port(M), .mgmt_port = -1};
  acmeh_mocks *m2 = NULL;
  char err[256] = "";
  CU_ASSERT_EQUAL(acmeh_mocks_start(&cfg, &m2, err, sizeof err), ACMEH_ENV_PORT_IN_USE);
  CU_ASSERT_PTR_NULL(m2);
  CU_ASSERT_TRUE(strlen(err) > 0);
  acmeh_mocks_config bad = {.bind_addr = "0.0.0.0"};
  CU_ASSERT_EQUAL(acmeh_mocks_start(&bad, &m2, err, sizeof err), ACMEH_INVALID_ARG);
}

static void test_start_stop_cycle(void) {
  acmeh_mocks_config cfg = {0};
  for (int i = 0; i < 3; i++) {
    acmeh_mocks *m2 = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(acmeh_mocks_start(&cfg, &m2, err, sizeof err), ACMEH_OK);
    CU_ASSERT_TRUE(acmeh_mocks_dns_port(m2) > 0 && acmeh_mocks_mgmt_port(m2) > 0);
    /* Leave a connection open so stop has to close it. */
    int fd = tcp_connect(acmeh_mocks_http01_port(m2));
    acmeh_mocks_stop(m2);
    if (fd >= 0) close(fd);
  }
  acmeh_mocks_stop(NULL);
}

static int suite_init(void) {
  acmeh_mocks_config cfg = {0};
  char err[256];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (acmeh_mocks_start(&cfg, &M, err, sizeof err) != ACMEH_OK) {
    fprintf(stderr, "mocks start: %s\n", err);
    return 1;
  }
  return 0;
}

static int suite_clean(void) {
  acmeh_mocks_stop(M);
  M = NULL;
  curl_global_cleanup();
  return 0;
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"dns default A", test_dns_default_a},
      {"dns A/AAAA records, case-insensitive", test_dns_a_records_case_insensitive},
      {"dns TXT two values udp+tcp", test_dns_txt_two_values},
      {"dns TXT long value split", test_dns_txt_long_value_split},
      {"dns CAA", test_dns_caa},
      {"dns CNAME", test_dns_cname},
      {"dns SERVFAIL and other types", test_dns_servfail_and_other_types},
      {"dns truncation and EDNS", test_dns_truncation_and_edns},
      {"dns garbage over UDP", test_dns_garbage_udp},
      {"dns garbage over TCP", test_dns_garbage_tcp},
      {"dns history", test_dns_history},
      {"history cap", test_history_cap},
      {"dns history names match ldns", test_dns_history_names_match_ldns},
      {"dns answer fuzz", test_dns_answer_fuzz},
      {"dns 100,000 TXT names: queries stay fast", test_dns_many_records},
      {"http01 serve and history", test_http01},
      {"http01 any token", test_http01_any_token},
      {"http01 bad requests and keep-alive", test_http01_bad_requests},
      {"tlsalpn01 handshake and extension", test_tlsalpn01},
      {"tlsalpn01 IP identifier", test_tlsalpn01_ip_identifier},
      {"tlsalpn01 garbage", test_tlsalpn01_garbage},
      {"uvtls echo", test_uvtls_echo},
      {"mgmt set-txt then DNS", test_mgmt_set_txt_then_dns},
      {"mgmt records", test_mgmt_records},
      {"mgmt http01/tlsalpn01/history", test_mgmt_http01_tlsalpn_history},
      {"mgmt errors", test_mgmt_errors},
      {"mgmt CAA flags outside 0..255 refused", test_mgmt_caa_flags_range},
      {"port in use", test_port_in_use},
      {"start/stop cycle", test_start_stop_cycle},
  };
  return acmeh_unit_run("mocks", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
