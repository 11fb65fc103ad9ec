/* Sending UPDATEs and queries to a nameserver on loopback (UDP, TCP after
 * TC, RFC 1035 §4.2) and judging the answer's TSIG (RFC 8945 §5.3, §5.4). */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/dns/update.h"
#include "harness/dns/wire.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int make_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *sl) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET, a4->sin_port = htons((uint16_t)port), *sl = sizeof *a4;
    return 0;
  }
  if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6, a6->sin6_port = htons((uint16_t)port), *sl = sizeof *a6;
    return 0;
  }
  return -1;
}

static int ms_left(double until) {
  double l = (until - acmeh_now_mono()) * 1000;
  return l < 1 ? 0 : (int)l;
}

/* One UDP exchange: the first datagram with our ID and QR set. */
static int udp_exchange(const struct sockaddr_storage *ss, socklen_t sl, const uint8_t *q, size_t ql, double until,
                        uint8_t *ans, size_t *al, char *err, size_t errlen) {
  int fd = socket(ss->ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "socket: %s", strerror(errno));
  int rc = ACMEH_PEER_TIMEOUT;
  if (connect(fd, (const struct sockaddr *)ss, sl) != 0 || send(fd, q, ql, 0) != (ssize_t)ql)
    rc = acmeh_msg(err, errlen, ACMEH_PEER_UNREACHABLE, "cannot send over UDP: %s", strerror(errno));
  while (rc == ACMEH_PEER_TIMEOUT) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int left = ms_left(until);
    if (left == 0 || poll(&p, 1, left) <= 0) break;
    ssize_t n = recv(fd, ans, 65535, 0);
    if (n < 0 && errno == ECONNREFUSED) rc = acmeh_msg(err, errlen, ACMEH_PEER_UNREACHABLE, "UDP port unreachable");
    if (n >= 12 && get16(ans) == get16(q) && (ans[2] & 0x80)) *al = (size_t)n, rc = ACMEH_OK;
  }
  close(fd);
  if (rc == ACMEH_PEER_TIMEOUT) acmeh_msg(err, errlen, rc, "no answer over UDP in time");
  return rc;
}

static int io_all(int fd, uint8_t *buf, size_t n, int writing, double until) {
  for (size_t done = 0; done < n;) {
    struct pollfd p = {.fd = fd, .events = writing ? POLLOUT : POLLIN};
    int left = ms_left(until);
    if (left == 0 || poll(&p, 1, left) <= 0) return ACMEH_PEER_TIMEOUT;
    ssize_t k = writing ? send(fd, buf + done, n - done, MSG_NOSIGNAL) : recv(fd, buf + done, n - done, 0);
    if (k <= 0) return ACMEH_PEER_CONN;
    done += (size_t)k;
  }
  return ACMEH_OK;
}

static int tcp_exchange(const struct sockaddr_storage *ss, socklen_t sl, const uint8_t *q, size_t ql, double until,
                        uint8_t *ans, size_t *al, char *err, size_t errlen) {
  int fd = socket(ss->ss_family, SOCK_STREAM, 0);
  if (fd < 0) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "socket: %s", strerror(errno));
  struct timeval tv = {.tv_sec = ms_left(until) / 1000, .tv_usec = ms_left(until) % 1000 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() */
  int rc = connect(fd, (const struct sockaddr *)ss, sl) == 0 ? ACMEH_OK : ACMEH_PEER_UNREACHABLE;
  uint8_t *out = malloc(ql + 2), len2[2];
  if (!out) rc = ACMEH_NOMEM;
  if (!rc) {
    out[0] = (uint8_t)(ql >> 8), out[1] = (uint8_t)ql, memcpy(out + 2, q, ql);
    rc = io_all(fd, out, ql + 2, 1, until);
  }
  if (!rc) rc = io_all(fd, len2, 2, 0, until);
  if (!rc) *al = get16(len2), rc = *al < 12 ? ACMEH_PEER_PROTOCOL : io_all(fd, ans, *al, 0, until);
  free(out);
  close(fd);
  if (rc) acmeh_msg(err, errlen, rc, "TCP exchange failed: %s", acmeh_strerror(rc));
  return rc;
}

/* Sends q, UDP first, TCP when the UDP answer is truncated. ans holds 65535 octets. */
static int exchange(const char *addr, int port, const uint8_t *q, size_t ql, int timeout_ms, uint8_t *ans,
                    size_t *al, int *tcp, char *err, size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sl;
  if (make_addr(addr, port, &ss, &sl) || port <= 0 || port > 65535)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "\"%s\" port %d is not a numeric address and port", addr, port);
  double until = acmeh_now_mono() + timeout_ms / 1000.0;
  *tcp = 0;
  int rc = udp_exchange(&ss, sl, q, ql, until, ans, al, err, errlen);
  if (rc || !(ans[2] & 0x02)) return rc;
  *tcp = 1;
  return tcp_exchange(&ss, sl, q, ql, until, ans, al, err, errlen);
}

/* The TSIG RR's fields, parsed from the answer at offset `at`. */
typedef struct {
  ldns_rdf *owner, *alg;
  uint16_t cls;
  uint32_t ttl;
  const uint8_t *mac, *other;
  uint16_t orig_id;
} tsig_fields;

static int parse_tsig(const uint8_t *w, size_t len, size_t at, tsig_fields *f, acmeh_dnsup_resp *r) {
  size_t p = at;
  if (ldns_wire2dname(&f->owner, w, len, &p) != LDNS_STATUS_OK || p + 10 > len) return ACMEH_PEER_PROTOCOL;
  f->cls = get16(w + p + 2), f->ttl = (uint32_t)get16(w + p + 4) << 16 | get16(w + p + 6);
  size_t end = p + 10 + get16(w + p + 8);
  p += 10;
  if (end > len || ldns_wire2dname(&f->alg, w, end, &p) != LDNS_STATUS_OK || p + 10 > end) return ACMEH_PEER_PROTOCOL;
  r->tsig_time = (uint64_t)get16(w + p) << 32 | (uint64_t)get16(w + p + 2) << 16 | get16(w + p + 4);
  r->tsig_fudge = get16(w + p + 6), r->tsig_mac_len = get16(w + p + 8);
  f->mac = w + p + 10, p += 10 + r->tsig_mac_len;
  if (p + 6 > end) return ACMEH_PEER_PROTOCOL;
  f->orig_id = get16(w + p), r->tsig_error = get16(w + p + 2), r->other_len = get16(w + p + 4);
  f->other = w + p + 6;
  if (p + 6 + (size_t)r->other_len != end) return ACMEH_PEER_PROTOCOL;
  if (r->other_len == 6)
    r->server_time = (uint64_t)get16(f->other) << 32 | (uint64_t)get16(f->other + 2) << 16 | get16(f->other + 4);
  return ACMEH_OK;
}

static void rdf_text(const ldns_rdf *d, char *out, size_t len) {
  char *s = d ? ldns_rdf2str(d) : NULL;
  snprintf(out, len, "%s", s ? s : "");
  free(s);
}

/* RFC 8945 §5.3 / §5.4: MAC over request MAC, the answer without its TSIG
 * (ARCOUNT - 1, Original ID) and the answer's TSIG variables. */
static acmeh_tsig_state verify(const acmeh_dnsup_msg *m, const uint8_t *w, size_t at, const tsig_fields *f,
                               const acmeh_dnsup_resp *r) {
  if (r->tsig_mac_len == 0) return ACMEH_TSIG_UNSIGNED;
  acmeh_tsig_key k = m->key;
  if (strcasecmp(r->tsig_key, k.name) != 0 || strcasecmp(r->tsig_alg, k.alg) != 0) return ACMEH_TSIG_BAD;
  acmeh_wbuf in = {0};
  acmeh_wbuf_u16(&in, (uint16_t)m->mac_len), acmeh_wbuf_put(&in, m->mac, m->mac_len);
  size_t base = in.len;
  acmeh_wbuf_put(&in, w, at);
  acmeh_wbuf_set_u16(&in, base, f->orig_id);
  acmeh_wbuf_set_u16(&in, base + 10, (uint16_t)(acmeh_wbuf_get_u16(&in, base + 10) - 1));
  acmeh_wbuf_name(&in, k.name, 1);
  acmeh_wbuf_u16(&in, f->cls), acmeh_wbuf_u32(&in, f->ttl);
  acmeh_wbuf_name(&in, k.alg, 1);
  acmeh_wbuf_u16(&in, (uint16_t)(r->tsig_time >> 32)), acmeh_wbuf_u32(&in, (uint32_t)r->tsig_time);
  acmeh_wbuf_u16(&in, r->tsig_fudge), acmeh_wbuf_u16(&in, (uint16_t)r->tsig_error);
  acmeh_wbuf_u16(&in, (uint16_t)r->other_len), acmeh_wbuf_put(&in, f->other, (size_t)r->other_len);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const EVP_MD *md = strcmp(k.alg, "hmac-sha512.") == 0 ? EVP_sha512() : EVP_sha256();
  int ok = !in.oom && HMAC(md, k.secret, (int)k.secret_len, in.data, in.len, mac, &n) &&
           r->tsig_mac_len <= n && r->tsig_mac_len >= 10 && CRYPTO_memcmp(mac, f->mac, r->tsig_mac_len) == 0;
  acmeh_wbuf_free(&in);
  return ok ? ACMEH_TSIG_VERIFIED : ACMEH_TSIG_BAD;
}

int acmeh_dnsup_resp_read(const acmeh_dnsup_msg *m, const uint8_t *w, size_t len, acmeh_dnsup_resp *r) {
  memset(r, 0, sizeof *r);
  if (!w || len < 12) return ACMEH_PEER_PROTOCOL;
  r->id = get16(w), r->qr = w[2] >> 7, r->opcode = (w[2] >> 3) & 0xF, r->rcode = w[3] & 0xF;
  r->text = acmeh_dns_wire_text(w, len);
  size_t at;
  uint16_t type;
  if (acmeh_dnsw_last_additional(w, len, &at, &type) || type != LDNS_RR_TYPE_TSIG) return ACMEH_OK;
  tsig_fields f = {0};
  int rc = parse_tsig(w, len, at, &f, r);
  if (!rc) {
    rdf_text(f.owner, r->tsig_key, sizeof r->tsig_key), rdf_text(f.alg, r->tsig_alg, sizeof r->tsig_alg);
    r->tsig = m && m->is_signed ? verify(m, w, at, &f, r) : (r->tsig_mac_len ? ACMEH_TSIG_BAD : ACMEH_TSIG_UNSIGNED);
  }
  ldns_rdf_deep_free(f.owner), ldns_rdf_deep_free(f.alg);
  return rc;
}

int acmeh_dnsup_send(const char *addr, int port, const acmeh_dnsup_msg *m, int timeout_ms, acmeh_dnsup_resp *r,
                     char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  uint8_t *ans = malloc(65536);
  size_t al = 0;
  if (!ans) return ACMEH_NOMEM;
  int tcp = 0, rc = exchange(addr, port, m->wire, m->len, timeout_ms, ans, &al, &tcp, err, errlen);
  if (!rc && (rc = acmeh_dnsup_resp_read(m, ans, al, r)))
    acmeh_msg(err, errlen, rc, "the answer's TSIG RR is malformed");
  r->tcp = tcp;
  free(ans);
  return rc;
}

void acmeh_dnsup_resp_clear(acmeh_dnsup_resp *r) {
  free(r->text);
  memset(r, 0, sizeof *r);
}

static void answers_of(const ldns_pkt *p, ldns_rr_type t, acmeh_wbuf *out) {
  ldns_rr_list *an = ldns_pkt_answer(p);
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
    ldns_rr *rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != t) continue;
    if (out->len) acmeh_wbuf_put(out, "\n", 1);
    for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
      char *s = ldns_rdf2str(ldns_rr_rdf(rr, j));
      if (j) acmeh_wbuf_put(out, " ", 1);
      if (s) acmeh_wbuf_put(out, s, strlen(s));
      free(s);
    }
  }
  acmeh_wbuf_put(out, "", 1);
}

int acmeh_dns_answers_read(const uint8_t *w, size_t len, uint16_t type, int *rcode, char **answers) {
  *answers = NULL;
  ldns_pkt *p = NULL;
  if (!w || ldns_wire2pkt(&p, w, len) != LDNS_STATUS_OK) return ACMEH_PEER_PROTOCOL;
  acmeh_wbuf out = {0};
  answers_of(p, (ldns_rr_type)type, &out);
  *rcode = ldns_pkt_get_rcode(p);
  ldns_pkt_free(p);
  if (out.oom) return free(out.data), ACMEH_NOMEM;
  *answers = (char *)out.data;
  return ACMEH_OK;
}

int acmeh_dns_query(const char *addr, int port, const char *name, const char *type, int timeout_ms,
                    int *rcode, char **answers, char *err, size_t errlen) {
  *answers = NULL;
  ldns_rr_type t = ldns_get_rr_type_by_name(type);
  ldns_rdf *n = ldns_dname_new_frm_str(name);
  ldns_pkt *q = n && t ? ldns_pkt_query_new(n, t, LDNS_RR_CLASS_IN, 0) : NULL;
  if (!q) return ldns_rdf_deep_free(n), acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "bad query %s %s", name, type);
  uint16_t id;
  RAND_bytes((unsigned char *)&id, sizeof id);
  ldns_pkt_set_id(q, id);
  ldns_pkt_set_rd(q, false); /* ask the authoritative server itself */
  uint8_t *w = NULL, *ans = malloc(65536);
  size_t wl = 0, al = 0;
  int tcp, rc = ans && ldns_pkt2wire(&w, q, &wl) == LDNS_STATUS_OK ? ACMEH_OK : ACMEH_NOMEM;
  ldns_pkt_free(q);
  if (!rc) rc = exchange(addr, port, w, wl, timeout_ms, ans, &al, &tcp, err, errlen);
  if (!rc && (rc = acmeh_dns_answers_read(ans, al, (uint16_t)t, rcode, answers)) == ACMEH_PEER_PROTOCOL)
    acmeh_msg(err, errlen, rc, "the answer to %s %s does not parse", name, type);
  free(w), free(ans);
  return rc;
}
