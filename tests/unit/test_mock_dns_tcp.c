/* Unit tests for the mock DNS server's TCP limits (RFC 7766 §6.2.3, §10):
 * a client that pipelines queries and never reads makes the server stop
 * reading instead of queueing answers without bound, and is closed when it
 * stays blocked; a slow reader still gets every answer; a frame trickled in
 * byte by byte is closed after the frame limit; with every slot held, a new
 * client evicts the stalest connection instead of being refused.
 * Single-threaded: the test drives the server's loop between its own
 * non-blocking socket calls, with small limits so each test takes ~2 s. */
#include "base/error.h"
#include "mocks/common/history.h"
#include "mocks/common/records.h"
#include "mocks/dns/dns.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAT_LEN 20000 /* TXT bytes: each answer ~20 KB */

static uv_loop_t loop;
static acmeh_records *rec;
static acmeh_history *hist;
static acmeh_mockdns *dns;

static void start(const acmeh_mockdns_tcp_limits *lim) {
  rec = acmeh_records_new("127.0.0.1");
  hist = acmeh_history_new(0);
  char *fat = malloc(FAT_LEN + 1);
  memset(fat, 'y', FAT_LEN);
  fat[FAT_LEN] = '\0';
  CU_ASSERT_EQUAL(acmeh_records_add(rec, ACMEH_REC_TXT, "fat.example", fat, NULL, 0), ACMEH_OK);
  free(fat);
  char err[256];
  CU_ASSERT_EQUAL_FATAL(acmeh_mockdns_start(&loop, "127.0.0.1", 0, rec, hist, &dns, err, sizeof err),
                        ACMEH_OK);
  acmeh_mockdns_set_tcp_limits(dns, lim);
}

static void stop(void) {
  acmeh_mockdns_close(dns);
  uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks */
  acmeh_mockdns_free(dns);
  acmeh_history_free(hist);
  acmeh_records_free(rec);
}

static void spin_done(uv_timer_t *t) { *(int *)t->data = 1; }

/* Runs the server's loop for ms milliseconds. */
static void spin(unsigned ms) {
  uv_timer_t t;
  int done = 0;
  uv_timer_init(&loop, &t);
  t.data = &done;
  uv_timer_start(&t, spin_done, ms, 0);
  while (!done)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

/* A non-blocking client socket; rcvbuf > 0 shrinks its receive buffer. */
static int client(int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)acmeh_mockdns_port(dns))};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* `n` framed TXT queries for `name`, concatenated; *len is their size. */
static uint8_t *queries(const char *name, size_t n, size_t *len) {
  ldns_pkt *q = NULL;
  ldns_pkt_query_new_frm_str(&q, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD);
  uint8_t *wire = NULL;
  size_t wlen = 0;
  ldns_pkt2wire(&wire, q, &wlen);
  ldns_pkt_free(q);
  uint8_t *out = malloc(n * (wlen + 2));
  for (size_t i = 0; i < n; i++) {
    out[i * (wlen + 2)] = (uint8_t)(wlen >> 8);
    out[i * (wlen + 2) + 1] = (uint8_t)wlen;
    memcpy(out + i * (wlen + 2) + 2, wire, wlen);
  }
  free(wire);
  *len = n * (wlen + 2);
  return out;
}

static size_t answered(void) {
  json_t *h = acmeh_history_get(hist, ACMEH_HIST_DNS, NULL);
  size_t n = json_array_size(h);
  json_decref(h);
  return n;
}

static acmeh_mockdns_tcp_stats stats(void) {
  acmeh_mockdns_tcp_stats st;
  acmeh_mockdns_tcp_stats_get(dns, &st);
  return st;
}

/* Whether the server closed fd: EOF or reset on read (data is discarded). */
static int closed_by_server(int fd) {
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return 1;
    if (n < 0) return 0;
  }
}

/* Sends what the socket takes of buf[*off..len) without blocking. */
static void send_some(int fd, const uint8_t *buf, size_t len, size_t *off) {
  while (*off < len) {
    ssize_t n = send(fd, buf + *off, len - *off, MSG_NOSIGNAL);
    if (n <= 0) return;
    *off += (size_t)n;
  }
}

/* ---------- tests ---------- */

static void test_noread_client_is_bounded(void) {
  start(&(acmeh_mockdns_tcp_limits){.queue_bytes = 64 * 1024, .max_answers = 64, .blocked_ms = 1500});
  size_t qlen, off = 0;
  uint8_t *q = queries("fat.example.", 20000, &qlen);
  int fd = client(4096);
  for (int i = 0; i < 20; i++) { /* 1 s of pipelining, never reading */
    send_some(fd, q, qlen, &off);
    spin(50);
  }
  size_t n1 = answered();
  acmeh_mockdns_tcp_stats st = stats();
  CU_ASSERT_TRUE(st.pauses >= 1);
  CU_ASSERT_TRUE(st.peak_queue_bytes <= 64 * 1024 + FAT_LEN + 1024); /* the cap, plus one answer */
  CU_ASSERT_TRUE(n1 < 1000); /* the queries the kernel's buffers took wait unanswered */
  spin(300);
  CU_ASSERT_EQUAL(answered(), n1); /* nothing more is answered while it does not read */
  spin(1500);                      /* past blocked_ms */
  st = stats();
  CU_ASSERT_EQUAL(st.closed_blocked, 1);
  CU_ASSERT_EQUAL(st.conns, 0);
  CU_ASSERT_TRUE(closed_by_server(fd));
  close(fd);
  free(q);
  stop();
}

/* Counts complete frames in the stream so far; *have is what is buffered. */
static size_t count_frames(uint8_t *buf, size_t *have) {
  size_t n = 0, off = 0;
  while (*have - off >= 2 && *have - off - 2 >= (size_t)(buf[off] << 8 | buf[off + 1])) {
    off += 2 + (size_t)(buf[off] << 8 | buf[off + 1]);
    n++;
  }
  memmove(buf, buf + off, *have - off);
  *have -= off;
  return n;
}

static void test_slow_reader_gets_every_answer(void) {
  start(&(acmeh_mockdns_tcp_limits){.queue_bytes = 64 * 1024, .max_answers = 8, .blocked_ms = 3000});
  size_t qlen, off = 0, have = 0, frames = 0;
  uint8_t *q = queries("fat.example.", 200, &qlen);
  uint8_t *buf = malloc(1 << 17);
  int fd = client(0);
  for (int i = 0; i < 1000 && frames < 200; i++) {
    send_some(fd, q, qlen, &off);
    spin(2);
    ssize_t n;
    while ((n = recv(fd, buf + have, (1 << 17) - have, 0)) > 0) {
      have += (size_t)n;
      frames += count_frames(buf, &have);
    }
  }
  CU_ASSERT_EQUAL(frames, 200); /* reading resumed every time the client caught up */
  CU_ASSERT_TRUE(stats().pauses >= 1);
  CU_ASSERT_EQUAL(stats().closed_blocked, 0);
  close(fd);
  free(buf);
  free(q);
  stop();
}

static void test_trickled_frame_is_closed(void) {
  start(&(acmeh_mockdns_tcp_limits){.idle_ms = 800, .frame_ms = 1200});
  int fd[2] = {client(0), client(0)};
  for (int i = 0; i < 2; i++)
    send(fd[i], "\xff\xff", 2, MSG_NOSIGNAL); /* a 64 KB frame that never completes */
  for (int t = 0; t < 10; t++) {          /* one byte each 200 ms: never idle for 800 ms */
    spin(200);
    for (int i = 0; i < 2; i++)
      send(fd[i], "a", 1, MSG_NOSIGNAL);
  }
  spin(100);
  acmeh_mockdns_tcp_stats st = stats();
  CU_ASSERT_EQUAL(st.closed_slow, 2);
  CU_ASSERT_EQUAL(st.closed_idle, 0);
  CU_ASSERT_EQUAL(st.conns, 0);
  for (int i = 0; i < 2; i++) {
    CU_ASSERT_TRUE(closed_by_server(fd[i]));
    close(fd[i]);
  }
  stop();
}

static void test_full_slots_evict_stalest(void) {
  start(&(acmeh_mockdns_tcp_limits){.max_conns = 4});
  int fd[4];
  for (int i = 0; i < 4; i++) { /* every slot held by a frame trickling in */
    fd[i] = client(0);
    send(fd[i], "\xff\xff", 2, MSG_NOSIGNAL);
    spin(30);
  }
  for (int i = 1; i < 4; i++)
    send(fd[i], "a", 1, MSG_NOSIGNAL); /* activity does not restart a frame's clock */
  spin(30);
  CU_ASSERT_EQUAL(stats().conns, 4);
  size_t qlen, off = 0, have = 0, frames = 0;
  uint8_t *q = queries("new.example.", 1, &qlen);
  uint8_t buf[512];
  int nc = client(0);
  send_some(nc, q, qlen, &off);
  for (int i = 0; i < 100 && !frames; i++) {
    spin(10);
    ssize_t n = recv(nc, buf + have, sizeof buf - have, 0);
    if (n > 0) have += (size_t)n;
    frames += count_frames(buf, &have);
  }
  CU_ASSERT_EQUAL(frames, 1); /* the new client is answered */
  acmeh_mockdns_tcp_stats st = stats();
  CU_ASSERT_EQUAL(st.evicted, 1);
  CU_ASSERT_EQUAL(st.conns, 4);
  CU_ASSERT_TRUE(closed_by_server(fd[0])); /* the oldest partial frame went */
  for (int i = 1; i < 4; i++)
    CU_ASSERT_FALSE(closed_by_server(fd[i]));
  for (int i = 0; i < 4; i++)
    close(fd[i]);
  close(nc);
  free(q);
  stop();
}

int main(void) {
  uv_loop_init(&loop);
  static const acmeh_unit_test tests[] = {
      {"client that never reads: reading stops, then closed", test_noread_client_is_bounded},
      {"slow reader gets every answer", test_slow_reader_gets_every_answer},
      {"trickled frame closed after frame limit", test_trickled_frame_is_closed},
      {"full slots evict the stalest connection", test_full_slots_evict_stalest},
  };
  int rc = acmeh_unit_run("mock dns tcp", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
  uv_loop_close(&loop);
  return rc;
}
