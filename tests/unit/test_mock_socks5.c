/* The mock Tor SOCKS5 proxy (mocks/socks5): CONNECT to a registered onion
 * service and relay, each fault, and bad input (bad greetings, oversize, a
 * slow trickle, non-onion targets) ending in a refusal or a close within the
 * handshake budget, never a hang. Sockets here are blocking with 3 s caps. */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "mocks/socks5/socks5.h"
#include "tests/unit/support/unit_main.h"

#define ONION "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"

static acmeh_socks5 *g_p;

static int suite_init(void) {
  signal(SIGPIPE, SIG_IGN); /* writes to a socket the proxy closed on purpose */
  acmeh_socks5_config cfg = {.handshake_ms = 300, .slow_ms = 200, .idle_ms = 2000};
  char err[200];
  return acmeh_socks5_start(&cfg, &g_p, err, sizeof err) == ACMEH_OK ? 0 : -1;
}

static int suite_clean(void) {
  acmeh_socks5_stop(g_p);
  return 0;
}

static void caps(int fd) {
  struct timeval tv = {3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  caps(fd);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return close(fd), -1;
  return fd;
}

/* A listening socket on a free loopback port; its port into *port. */
static int listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof a;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bind(fd, (struct sockaddr *)&a, sizeof a);
  listen(fd, 4);
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  caps(fd);
  return fd;
}

/* Greeting and a CONNECT to host:port; the reply code, or -1. */
static int socks_connect(int fd, const char *host, int port) {
  unsigned char g[] = {5, 1, 0}, r[2], req[300], rep[10];
  if (write(fd, g, 3) != 3 || recv(fd, r, 2, MSG_WAITALL) != 2 || r[0] != 5 || r[1] != 0) return -1;
  size_t n = strlen(host);
  req[0] = 5, req[1] = 1, req[2] = 0, req[3] = 3, req[4] = (unsigned char)n;
  memcpy(req + 5, host, n);
  req[5 + n] = (unsigned char)(port >> 8), req[6 + n] = (unsigned char)port;
  if (write(fd, req, 7 + n) != (ssize_t)(7 + n)) return -1;
  if (recv(fd, rep, 10, MSG_WAITALL) != 10 || rep[0] != 5) return -1;
  return rep[1];
}

/* 1 when the peer closed fd (recv 0 or reset) within 3 s. */
static int closed(int fd) {
  unsigned char b[64];
  ssize_t n;
  while ((n = recv(fd, b, sizeof b, 0)) > 0) {}
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void test_parser(void) {
  acmeh_socks5_request r;
  const char *why = NULL;
  int na = 0;
  CU_ASSERT(acmeh_socks5_parse_greeting((const unsigned char *)"\x05", 1, &na, &why) == 0);
  CU_ASSERT(acmeh_socks5_parse_greeting((const unsigned char *)"\x04\x01\x00", 3, &na, &why) == -1);
  CU_ASSERT(acmeh_socks5_parse_greeting((const unsigned char *)"\x05\x00", 2, &na, &why) == -1);
  CU_ASSERT(acmeh_socks5_parse_greeting((const unsigned char *)"\x05\x02\x02\x00", 4, &na, &why) == 4 && na == 1);
  CU_ASSERT(acmeh_socks5_parse_request((const unsigned char *)"\x05\x01\x00\x03\x05" "ab", 7, &r, &why) == 0);
  CU_ASSERT(acmeh_socks5_parse_request((const unsigned char *)"\x05\x01\x00\x03\x02" "a\0\x00\x50", 9, &r, &why) == -1);
  CU_ASSERT(acmeh_socks5_parse_request((const unsigned char *)"\x05\x01\x00\x03\x00\x00\x50", 7, &r, &why) == -1);
  CU_ASSERT(acmeh_socks5_parse_request((const unsigned char *)"\x05\x01\x00\x09\x00\x00\x50", 7, &r, &why) == -1);
  CU_ASSERT(acmeh_socks5_parse_request((const unsigned char *)"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50", 10, &r, &why) == 10);
  CU_ASSERT(strcmp(r.host, "127.0.0.1") == 0 && r.port == 80 && r.atyp == 1);
}

static void test_relay(void) {
  int port, lfd = listener(&port);
  CU_ASSERT_FATAL(acmeh_socks5_map(g_p, ONION, "127.0.0.1", port) == ACMEH_OK);
  int fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, ONION, 80) == 0);
  int up = accept(lfd, NULL, NULL);
  caps(up);
  char b[8] = {0};
  CU_ASSERT(write(fd, "ping", 4) == 4 && recv(up, b, 4, MSG_WAITALL) == 4 && memcmp(b, "ping", 4) == 0);
  CU_ASSERT(write(up, "pong", 4) == 4 && recv(fd, b, 4, MSG_WAITALL) == 4 && memcmp(b, "pong", 4) == 0);
  close(up), close(fd), close(lfd);
  acmeh_socks5_unmap(g_p, ONION);
}

static void test_refusals(void) {
  int fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, ONION, 80) == 4); /* nothing registered: host unreachable */
  close(fd);
  fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, "example.com", 80) == 2); /* §8.4: not through Tor */
  close(fd);
  json_t *h = acmeh_socks5_history(g_p);
  int seen = 0;
  size_t i;
  json_t *e;
  json_array_foreach(h, i, e) seen |= strcmp(json_string_value(json_object_get(e, "host")), "example.com") == 0 &&
                                      strstr(json_string_value(json_object_get(e, "error")), "8.4") != NULL;
  CU_ASSERT(seen);
  json_decref(h);
  int port, lfd = listener(&port);
  close(lfd); /* a registered service that is not running: connection refused */
  acmeh_socks5_map(g_p, ONION, "127.0.0.1", port);
  fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, ONION, 80) == 5);
  close(fd);
  acmeh_socks5_unmap(g_p, ONION);
}

static void test_faults(void) {
  int port, lfd = listener(&port), wport, wfd = listener(&wport);
  acmeh_socks5_map(g_p, ONION, "127.0.0.1", port);
  acmeh_socks5_set_fault(g_p, ONION, ACMEH_SOCKS5_UNREACHABLE, NULL, 0);
  int fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, ONION, 80) == 4);
  close(fd);
  acmeh_socks5_set_fault(g_p, ONION, ACMEH_SOCKS5_BAD_REPLY, NULL, 0);
  fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, ONION, 80) == -1); /* 4 bytes of a SOCKS4 answer, then close */
  close(fd);
  acmeh_socks5_set_fault(g_p, ONION, ACMEH_SOCKS5_WRONG_SERVICE, "127.0.0.1", wport);
  fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(socks_connect(fd, ONION, 80) == 0);
  int other = accept(wfd, NULL, NULL);
  CU_ASSERT(other >= 0);
  close(other), close(fd);
  acmeh_socks5_set_fault(g_p, ONION, ACMEH_SOCKS5_SLOW, NULL, 0);
  fd = dial(acmeh_socks5_port(g_p));
  double t0 = acmeh_now_mono();
  CU_ASSERT(socks_connect(fd, ONION, 80) == 0);
  CU_ASSERT(acmeh_now_mono() - t0 >= 0.19); /* slow_ms 200 */
  int up = accept(lfd, NULL, NULL);
  close(up), close(fd), close(lfd), close(wfd);
  acmeh_socks5_unmap(g_p, ONION);
}

static void test_bad_input(void) {
  int fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(write(fd, "\x04\x01\x00\x50", 4) == 4 && closed(fd)); /* SOCKS4 */
  close(fd);
  fd = dial(acmeh_socks5_port(g_p));
  unsigned char big[4096];
  memset(big, 0x41, sizeof big);
  big[0] = 5, big[1] = 255;
  CU_ASSERT(write(fd, big, sizeof big) > 0 && closed(fd)); /* a greeting, then far more than a request */
  close(fd);
  fd = dial(acmeh_socks5_port(g_p));
  CU_ASSERT(write(fd, "\x05\x01\x01", 3) == 3); /* only username/password offered */
  unsigned char r[2] = {0};
  CU_ASSERT(recv(fd, r, 2, MSG_WAITALL) == 2 && r[1] == 0xff && closed(fd));
  close(fd);
  fd = dial(acmeh_socks5_port(g_p)); /* a slow trickle: one byte per 100 ms against a 300 ms budget */
  double t0 = acmeh_now_mono();
  int gone = 0;
  for (int i = 0; i < 40 && !gone; i++) {
    gone = send(fd, "\x05", 1, MSG_NOSIGNAL) != 1;
    usleep(100000);
  }
  CU_ASSERT(closed(fd) && acmeh_now_mono() - t0 < 2.5);
  close(fd);
  fd = dial(acmeh_socks5_port(g_p)); /* silence: closed by the handshake timer */
  t0 = acmeh_now_mono();
  CU_ASSERT(closed(fd) && acmeh_now_mono() - t0 < 1.5);
  close(fd);
  fd = dial(acmeh_socks5_port(g_p)); /* left open: stop must close it (suite_clean, under ASan) */
  (void)fd;
}

static void test_map_args(void) {
  CU_ASSERT(acmeh_socks5_map(g_p, "example.com", "127.0.0.1", 80) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_socks5_map(g_p, ONION, "192.0.2.1", 80) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_socks5_unmap(g_p, ONION) == ACMEH_INVALID_ARG);
  CU_ASSERT(acmeh_socks5_set_fault(g_p, NULL, ACMEH_SOCKS5_NONE, NULL, 0) == ACMEH_OK);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"parser", test_parser},   {"relay to a registered service", test_relay}, {"refusals", test_refusals},
      {"faults", test_faults},   {"bad input", test_bad_input},                 {"mapping arguments", test_map_args},
  };
  return acmeh_unit_run("mock_socks5", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
