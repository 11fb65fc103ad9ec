/* Challenge validation, run on libuv's thread pool (blocking, every step
 * time-bounded): the identifier's address through the configured DNS server
 * (ldns), then http-01 with libcurl (RFC 8555 §8.3), dns-01 TXT lookup
 * (§8.4), dns-account-01 TXT lookup (draft-ietf-acme-dns-account-label-00
 * §3.3) or a tls-alpn-01 handshake with OpenSSL (RFC 8737 §3). Only the
 * copied srv_validation is touched, never server state. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/acme/cert.h"
#include "harness/acme/challenge.h"
#include "base/clock.h"
#include "harness/acme/onion.h"
#include "harness/server/internal.h"

#define DNS_TIMEOUT_S 2 /* per try, 2 tries: a lookup ends within 4 s */
#define CONNECT_TIMEOUT_MS 5000
#define HTTP_BUDGET_MS 15000 /* the whole http-01 attempt, redirects included */
#define MAX_REDIRECTS 10
#define MAX_HTTP_BODY 8192 /* a key authorization is ~87 bytes; anything far larger is wrong */

static json_t *problem(const char *type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *problem(const char *type, const char *fmt, ...) {
  char d[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  return srv_problem_obj(type, d);
}

/* ---- DNS (ldns) --------------------------------------------------------------- */

static ldns_resolver *resolver(const srv_validation *v) {
  ldns_resolver *r = ldns_resolver_new();
  ldns_rdf *ns = ldns_rdf_new_frm_str(strchr(v->dns_addr, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, v->dns_addr);
  if (!r || !ns || ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK) {
    ldns_rdf_deep_free(ns);
    ldns_resolver_deep_free(r);
    return NULL;
  }
  ldns_rdf_deep_free(ns);
  ldns_resolver_set_port(r, (uint16_t)v->dns_port);
  ldns_resolver_set_timeout(r, (struct timeval){DNS_TIMEOUT_S, 0});
  ldns_resolver_set_retry(r, 1);
  ldns_resolver_set_recursive(r, true);
  ldns_resolver_set_fallback(r, true); /* truncated UDP answers are retried over TCP */
  return r;
}

/* The answer RRs of type t for name, from a query's status and answer;
 * *list is the caller's (may be empty). */
static json_t *answer_rrs(const srv_validation *v, const char *name, ldns_rr_type t, ldns_status st,
                          const ldns_pkt *pkt, ldns_rr_list **list) {
  char tname[16];
  snprintf(tname, sizeof tname, "%s", t == LDNS_RR_TYPE_TXT ? "TXT" : t == LDNS_RR_TYPE_A ? "A" : "AAAA");
  if (st != LDNS_STATUS_OK || !pkt)
    return problem("dns", "DNS query %s %s to %s:%d failed: %s", name, tname, v->dns_addr, v->dns_port,
                   ldns_get_errorstr_by_id(st));
  if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR)
    return problem("dns", "DNS query %s %s answered rcode %d", name, tname, (int)ldns_pkt_get_rcode(pkt));
  *list = ldns_pkt_rr_list_by_type(pkt, t, LDNS_SECTION_ANSWER);
  return NULL;
}

/* One blocking query (UDP, then TCP when truncated); *pkt is the caller's. */
static ldns_status query_pkt(const srv_validation *v, const char *name, ldns_rr_type t, ldns_pkt **pkt) {
  ldns_resolver *r = resolver(v);
  ldns_rdf *dname = ldns_dname_new_frm_str(name);
  ldns_status st = r && dname ? ldns_resolver_query_status(pkt, r, dname, t, LDNS_RR_CLASS_IN, LDNS_RD)
                              : LDNS_STATUS_MEM_ERR;
  ldns_rdf_deep_free(dname);
  ldns_resolver_deep_free(r);
  return st;
}

/* Answer RRs of type t for name; *list is the caller's (may be empty). */
static json_t *dns_query(const srv_validation *v, const char *name, ldns_rr_type t, ldns_rr_list **list) {
  ldns_pkt *pkt = NULL;
  ldns_status st = query_pkt(v, name, t, &pkt);
  json_t *err = answer_rrs(v, name, t, st, pkt, list);
  ldns_pkt_free(pkt);
  return err;
}

json_t *srv_txt_query(const srv_validation *v, const char *host, ldns_rr_list **list) {
  return dns_query(v, host, LDNS_RR_TYPE_TXT, list);
}

/* The first A (else AAAA) address of name, as text in ip. */
static json_t *resolve(const srv_validation *v, const char *name, char ip[INET6_ADDRSTRLEN]) {
  static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
  for (int i = 0; i < 2; i++) {
    ldns_rr_list *list = NULL;
    json_t *err = dns_query(v, name, types[i], &list);
    if (err) return err;
    ldns_rdf *addr = list && ldns_rr_list_rr_count(list) ? ldns_rr_rdf(ldns_rr_list_rr(list, 0), 0) : NULL;
    char *text = addr ? ldns_rdf2str(addr) : NULL;
    if (text) snprintf(ip, INET6_ADDRSTRLEN, "%s", text);
    free(text);
    ldns_rr_list_deep_free(list);
    if (text) return NULL;
  }
  return problem("dns", "no A or AAAA record for %s", name);
}

/* ---- dns-01 (§8.4) and dns-account-01 ----------------------------------------- */

/* The text of one TXT record (its strings joined, RFC 8555 §8.4 allows split ones). */
static void txt_text(const ldns_rr *rr, char *value, size_t cap) {
  value[0] = '\0';
  for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
    ldns_rdf *rd = ldns_rr_rdf(rr, k);
    size_t len = ldns_rdf_size(rd) ? ldns_rdf_data(rd)[0] : 0, have = strlen(value);
    if (len + 1 <= ldns_rdf_size(rd) && have + len < cap)
      memcpy(value + have, ldns_rdf_data(rd) + 1, len), value[have + len] = '\0';
  }
}

/* TXT lookup at host (CNAMEs followed: the answer's TXT records may belong to
 * the chain's end). *n = TXT records seen, *found = one equals want (any one
 * when want is NULL). own_only: count only records owned by host itself. */
static void txt_match(const ldns_rr_list *list, const char *host, const char *want, int own_only, size_t *n,
                      int *found) {
  ldns_rdf *self = ldns_dname_new_frm_str(host);
  *n = 0, *found = 0;
  for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
    ldns_rr *rr = ldns_rr_list_rr(list, i);
    if (own_only && (!self || ldns_dname_compare(ldns_rr_owner(rr), self) != 0)) continue;
    char value[1024];
    txt_text(rr, value, sizeof value);
    (*n)++;
    *found |= !want || strcmp(value, want) == 0;
  }
  ldns_rdf_deep_free(self);
}

static json_t *txt_lookup(const srv_validation *v, const char *host, const char *want, int own_only, size_t *n,
                          int *found) {
  ldns_rr_list *list = NULL;
  json_t *err = dns_query(v, host, LDNS_RR_TYPE_TXT, &list);
  *n = 0, *found = 0;
  if (!err) txt_match(list, host, want, own_only, n, found);
  ldns_rr_list_deep_free(list);
  return err;
}

void srv_dns01_host(const srv_validation *v, char *host, size_t len) {
  snprintf(host, len, "_acme-challenge.%s", v->name);
}

json_t *srv_dns01_verdict(const srv_validation *v, ldns_status st, const ldns_pkt *answer) {
  char want[44], host[300];
  acmeh_dns01_txt(v->keyauth, want);
  srv_dns01_host(v, host, sizeof host);
  ldns_rr_list *list = NULL;
  size_t n = 0;
  int found = 0;
  json_t *err = answer_rrs(v, host, LDNS_RR_TYPE_TXT, st, answer, &list);
  if (!err) txt_match(list, host, want, 0, &n, &found);
  ldns_rr_list_deep_free(list);
  if (err || found) return err;
  return problem("unauthorized", "none of the %zu TXT records at %s is the expected %s", n, host, want);
}

json_t *srv_validate_dns01(const srv_validation *v) {
  char host[300];
  srv_dns01_host(v, host, sizeof host);
  ldns_pkt *pkt = NULL;
  ldns_status st = query_pkt(v, host, LDNS_RR_TYPE_TXT, &pkt);
  json_t *err = srv_dns01_verdict(v, st, pkt);
  ldns_pkt_free(pkt);
  return err;
}

/* The revision's validation name for account `url` (a wildcard
 * authorization's scope differs under the scoped revision). malloc'd or NULL. */
static char *dnsacct_name(const srv_validation *v, const char *url) {
  char *wild = NULL;
  if (v->wildcard && asprintf(&wild, "*.%s", v->name) < 0) return NULL;
  char *h = acmeh_dnsaccount_name_in((acmeh_dnsacct_scheme)v->dnsacct_scheme, url, wild ? wild : v->name);
  free(wild);
  return h;
}

/* The name this server queries for dns-account-01: the draft's
 * (acmeh_dnsaccount_name: base name, also for wildcards) unless a deliberate
 * deviation is configured. malloc'd; NULL when no usable name. */
static char *dnsacct_host(const srv_validation *v, const char *url) {
  char *h = NULL;
  if (v->dnsacct == DNSACCT_DNS01_NAME) {
    if (asprintf(&h, "_acme-challenge.%s", v->name) < 0) h = NULL;
  } else if (v->dnsacct == DNSACCT_LABEL_20) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    char b32[40];
    SHA256((const unsigned char *)url, strlen(url), md);
    acmeh_base32(md, 20, 1, b32); /* 20 bytes: 32 characters instead of 16 */
    if (asprintf(&h, "_%s._acme-challenge.%s", b32, v->name) < 0) h = NULL;
  } else if (v->dnsacct == DNSACCT_WILDCARD_STAR && v->wildcard) {
    char label[ACMEH_DNSACCT_LABEL_LEN + 1];
    if (acmeh_dnsaccount_label(url, label) || asprintf(&h, "%s._acme-challenge.*.%s", label, v->name) < 0) h = NULL;
  } else {
    h = dnsacct_name(v, url);
  }
  return h;
}

/* The failure: what was queried and, as the draft's §3.4 SHOULD asks, the
 * account URL the name came from; extension members (RFC 7807 §3.2)
 * validationName, accountUrl and txtRecords let the harness's client checks
 * tell a misplaced record from a wrong value. */
static json_t *dnsacct_problem(const srv_validation *v, const char *host, size_t n, const char *want) {
  if (v->dnsacct == DNSACCT_BARE_ERROR) return problem("serverInternal", "validation failed");
  json_t *p = n ? problem("incorrectResponse", "none of the %zu TXT records at %s (label of account URL %s) is the expected %s",
                          n, host, v->account_url, want)
                : problem("incorrectResponse", "no TXT record at %s (label of account URL %s)", host, v->account_url);
  json_object_set_new(p, "validationName", json_string(host));
  json_object_set_new(p, "accountUrl", json_string(v->account_url));
  json_object_set_new(p, "txtRecords", json_integer((json_int_t)n));
  return p;
}

/* draft-ietf-acme-dns-account-label-00 §3.3: some TXT record at the
 * account-scoped name equals base64url(SHA-256(keyAuthorization)). */
json_t *srv_validate_dnsaccount01(const srv_validation *v) {
  char want[44];
  acmeh_dns01_txt(v->keyauth, want);
  char *host = dnsacct_host(v, v->account_url);
  if (!host) return problem("rejectedIdentifier", "no dns-account-01 validation name fits %s (over 253 characters)", v->name);
  size_t n = 0;
  int found = 0;
  json_t *err = txt_lookup(v, host, v->dnsacct == DNSACCT_ANY_TXT ? NULL : want, v->dnsacct == DNSACCT_NO_CNAME, &n, &found);
  for (size_t i = 0; !err && !found && i < v->nother; i++) { /* the any-account-label deviation */
    char *other = dnsacct_name(v, v->other_urls[i]);
    size_t on = 0;
    json_t *e = other ? txt_lookup(v, other, want, 0, &on, &found) : NULL;
    json_decref(e);
    free(other);
  }
  if (!err && !found) err = dnsacct_problem(v, host, n, want);
  free(host);
  return err;
}

/* ---- http-01 (§8.3) -------------------------------------------------------------- */

typedef struct {
  char data[MAX_HTTP_BODY];
  size_t len;
  int overflow;
} body_buf;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  body_buf *b = ud;
  size_t n = size * nmemb;
  if (b->len + n >= sizeof b->data) {
    b->overflow = 1;
    return 0; /* aborts the transfer */
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return n;
}

/* 1 when `host` is reached through the SOCKS5 proxy: a .onion name, with a
 * proxy configured (RFC 9799 §3.1.2); never any other name (§8.4, §8.5). */
static int via_tor(const srv_validation *v, const char *host) { return v->socks5_port > 0 && acmeh_onion_is(host); }

/* One GET of url with host:port pinned to ip (or through the SOCKS5 proxy on
 * socks5_port, which resolves the name itself); fills code, body and the
 * redirect target. */
static json_t *http_get(const char *url, const char *host, long port, const char *ip, long timeout_ms, long *code,
                        body_buf *body, char **location, int socks5_port) {
  char pin[600], proxy[64];
  snprintf(pin, sizeof pin, strchr(ip, ':') ? "%s:%ld:[%s]" : "%s:%ld:%s", host, port, ip);
  snprintf(proxy, sizeof proxy, "socks5h://127.0.0.1:%d", socks5_port);
  int literal = srv_is_ip(host) || socks5_port > 0; /* an address host needs no pinning (RFC 8738 §4: connect to it) */
  struct curl_slist *resolve_list = literal ? NULL : curl_slist_append(NULL, pin);
  CURL *h = curl_easy_init();
  json_t *err = NULL;
  if (!h || (!literal && !resolve_list)) err = problem("serverInternal", "cannot set up the HTTP client");
  if (!err) {
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve_list);
    if (socks5_port > 0) curl_easy_setopt(h, CURLOPT_PROXY, proxy);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* §8.3 redirects to https: the content is what counts */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "acme-harness-reference-validator");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK && body->overflow)
      err = problem("unauthorized", "the response to %s is larger than %d bytes", url, MAX_HTTP_BODY);
    else if (rc != CURLE_OK)
      err = problem("connection", "fetching %s (at %s) failed: %s", url, ip, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    char *loc = NULL;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
    *location = loc ? strdup(loc) : NULL;
  }
  curl_easy_cleanup(h);
  curl_slist_free_all(resolve_list);
  return err;
}

/* Turns a redirect target into the next request: its URL and host (both
 * malloc'd), the address of the host (through our DNS unless a literal) and
 * the port (http without one = the http-01 port, which stands in for 80 in
 * this deployment). */
static json_t *next_hop(const srv_validation *v, const char *location, char **url, char **host, long *port,
                        char ip[INET6_ADDRSTRLEN]) {
  CURLU *u = curl_url();
  char *scheme = NULL, *p = NULL, *h = NULL, *full = NULL;
  json_t *err = NULL;
  if (!u || curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
    err = problem("unauthorized", "redirect to an unusable URL \"%.200s\"", location);
  if (!err && curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK) {
    *port = strtol(p, NULL, 10);
  } else if (!err) {
    *port = strcmp(scheme, "http") == 0 ? v->http01_port : 443;
    char ps[16];
    snprintf(ps, sizeof ps, "%ld", *port);
    curl_url_set(u, CURLUPART_PORT, ps, 0);
  }
  const char *bare = h && h[0] == '[' ? h + 1 : h;
  unsigned char bin[16];
  if (!err && via_tor(v, bare))
    snprintf(ip, INET6_ADDRSTRLEN, "tor"); /* the proxy resolves it */
  else if (!err && (inet_pton(AF_INET, bare, bin) == 1 || strchr(bare, ':')))
    snprintf(ip, INET6_ADDRSTRLEN, "%.*s", (int)strcspn(bare, "]"), bare);
  else if (!err)
    err = resolve(v, h, ip);
  if (!err && curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) err = problem("unauthorized", "bad redirect URL");
  if (!err) {
    *url = strdup(full);
    *host = strdup(bare);
    if (*host && strchr(*host, ']')) *strchr(*host, ']') = '\0';
  }
  curl_free(scheme), curl_free(p), curl_free(h), curl_free(full);
  curl_url_cleanup(u);
  return err;
}

/* Compares what was served with the key authorization, trailing whitespace
 * ignored (§8.3 SHOULD). */
static json_t *check_body(const char *url, body_buf *body, const char *keyauth) {
  while (body->len && strchr(" \t\r\n", body->data[body->len - 1])) body->len--;
  body->data[body->len] = '\0'; /* on_body keeps len below the buffer size */
  if (body->len == strlen(keyauth) && memcmp(body->data, keyauth, body->len) == 0) return NULL;
  return problem("incorrectResponse", "%s served \"%.100s\", not the key authorization", url, body->data);
}

static json_t *http01(const srv_validation *v, const char *first_ip) {
  char ip[INET6_ADDRSTRLEN], *url = NULL, *host = strdup(v->name);
  snprintf(ip, sizeof ip, "%s", first_ip);
  long port = v->http01_port;
  /* An IPv6 identifier is written as an IP-literal, so Host is "[addr]:port" (RFC 8738 §4, RFC 7230 §5.4). */
  const char *fmt = strchr(v->name, ':') ? "http://[%s]:%ld/.well-known/acme-challenge/%s"
                                         : "http://%s:%ld/.well-known/acme-challenge/%s";
  if (asprintf(&url, fmt, v->name, port, v->token) < 0) url = NULL;
  json_t *err = url && host ? NULL : problem("serverInternal", "out of memory");
  double deadline = acmeh_now_mono() + HTTP_BUDGET_MS / 1000.0;
  for (int hop = 0; !err; hop++) {
    body_buf *body = calloc(1, sizeof *body);
    long code = 0, left = (long)((deadline - acmeh_now_mono()) * 1000);
    char *location = NULL;
    if (left <= 0) err = problem("connection", "http-01 validation of %s took longer than %d ms", v->name, HTTP_BUDGET_MS);
    else if (!body) err = problem("serverInternal", "out of memory");
    else err = http_get(url, host, port, ip, left, &code, body, &location, via_tor(v, host) ? v->socks5_port : 0);
    int redirect = !err && code >= 300 && code < 400 && location;
    if (redirect && hop < MAX_REDIRECTS) { /* §8.3: SHOULD follow redirects */
      free(url), free(host);
      url = host = NULL;
      err = next_hop(v, location, &url, &host, &port, ip);
    } else if (!err && code != 200) {
      err = problem("unauthorized", "%s answered HTTP %ld, not 200", url, code);
    } else if (!err) {
      err = check_body(url, body, v->keyauth);
    }
    free(location), free(body);
    if (!redirect || hop >= MAX_REDIRECTS) break;
  }
  free(url), free(host);
  return err;
}

/* ---- tls-alpn-01 (RFC 8737 §3) ------------------------------------------------ */

static int tcp_connect(const char *ip, int port) {
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM}, *ai = NULL;
  if (getaddrinfo(ip, ps, &hints, &ai) != 0) return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0}; /* bounds connect, the handshake reads and writes */
  if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
                  connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  return fd;
}

/* A connection to host:port through the SOCKS5 proxy on 127.0.0.1:proxy
 * (RFC 1928: no authentication, CONNECT with the name itself, ATYP 3), with
 * tcp_connect's time caps on every read; -1 with the reason in why. */
static int socks5_dial(int proxy, const char *host, int port, char *why, size_t whylen) {
  int fd = tcp_connect("127.0.0.1", proxy);
  unsigned char req[300] = {5, 1, 0, 3}, r[10];
  size_t n = strlen(host);
  if (fd < 0) return snprintf(why, whylen, "the SOCKS5 proxy on :%d does not answer", proxy), -1;
  req[4] = (unsigned char)n;
  memcpy(req + 5, host, n);
  req[5 + n] = (unsigned char)(port >> 8), req[6 + n] = (unsigned char)port;
  const char *bad = n > 255 ? "name too long" : write(fd, "\x05\x01\x00", 3) != 3 ? "greeting not sent"
                    : recv(fd, r, 2, MSG_WAITALL) != 2 || r[0] != 5 || r[1] != 0 ? "no SOCKS5 method reply"
                    : write(fd, req, 7 + n) != (ssize_t)(7 + n) ? "request not sent"
                    : recv(fd, r, 10, MSG_WAITALL) != 10 || r[0] != 5 ? "a malformed SOCKS5 reply" : r[1] ? "refused" : NULL;
  if (!bad) return fd;
  snprintf(why, whylen, "%s%s", bad, strcmp(bad, "refused") == 0 ? (r[1] == 4 ? " (host unreachable)" : " by the proxy") : "");
  close(fd);
  return -1;
}

/* The acmeIdentifier extension: present once, critical, an OCTET STRING of
 * SHA-256(keyAuthorization) (RFC 8737 §3). */
static json_t *check_acme_identifier(X509 *cert, const srv_validation *v) {
  ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  int loc = oid ? X509_get_ext_by_OBJ(cert, oid, -1) : -1;
  int dup = loc >= 0 && X509_get_ext_by_OBJ(cert, oid, loc) >= 0;
  ASN1_OBJECT_free(oid);
  if (loc < 0) return problem("unauthorized", "the certificate has no acmeIdentifier extension (1.3.6.1.5.5.7.1.31)");
  if (dup) return problem("unauthorized", "the certificate has the acmeIdentifier extension twice");
  X509_EXTENSION *ext = X509_get_ext(cert, loc);
  if (X509_EXTENSION_get_critical(ext) != 1) return problem("unauthorized", "the acmeIdentifier extension is not critical");
  const ASN1_OCTET_STRING *val = X509_EXTENSION_get_data(ext);
  const unsigned char *p = ASN1_STRING_get0_data(val);
  long len = ASN1_STRING_length(val);
  ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &p, len);
  unsigned char want[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)v->keyauth, strlen(v->keyauth), want);
  int ok = inner && p == ASN1_STRING_get0_data(val) + len && ASN1_STRING_length(inner) == SHA256_DIGEST_LENGTH &&
           memcmp(ASN1_STRING_get0_data(inner), want, sizeof want) == 0;
  ASN1_OCTET_STRING_free(inner);
  return ok ? NULL : problem("unauthorized", "acmeIdentifier is not the SHA-256 of the expected key authorization");
}

/* RFC 8738 §6: for an ip identifier the subjectAltName holds exactly one
 * iPAddress, equal to the address being validated. */
static json_t *check_ip_san(X509 *cert, const srv_validation *v) {
  unsigned char want[16];
  int wlen = strchr(v->name, ':') ? 16 : 4;
  inet_pton(wlen == 16 ? AF_INET6 : AF_INET, v->name, want);
  GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  int t = -1;
  const ASN1_STRING *ip = sk_GENERAL_NAME_num(gens) == 1 ? GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, 0), &t) : NULL;
  int ok = t == GEN_IPADD && ASN1_STRING_length(ip) == wlen && memcmp(ASN1_STRING_get0_data(ip), want, (size_t)wlen) == 0;
  int count = sk_GENERAL_NAME_num(gens);
  GENERAL_NAMES_free(gens);
  if (!ok)
    return problem("unauthorized", "the certificate must hold exactly one iPAddress SAN, %s (RFC 8738 §6); it has %d "
                   "SAN entr%s%s", v->name, count < 0 ? 0 : count, count == 1 ? "y" : "ies",
                   count == 1 ? " of another kind or address" : "");
  return check_acme_identifier(cert, v);
}

static json_t *check_cert(X509 *cert, const srv_validation *v) {
  if (!cert) return problem("tls", "the responder sent no certificate");
  if (srv_is_ip(v->name)) return check_ip_san(cert, v);
  char **names = NULL;
  size_t n = 0;
  acmeh_cert_sans(cert, &names, &n);
  json_t *err = n == 1 && strcasecmp(names[0], v->name) == 0
                    ? NULL
                    : problem("unauthorized", "the certificate must name exactly %s in its subjectAltName; it has %zu name(s)%s%.100s",
                              v->name, n, n ? ", first " : "", n ? names[0] : "");
  acmeh_names_free(names, n);
  return err ? err : check_acme_identifier(cert, v);
}

static json_t *tls_handshake(SSL *ssl, const srv_validation *v, const char *ip) {
  if (SSL_connect(ssl) != 1) {
    char e[256];
    ERR_error_string_n(ERR_peek_last_error(), e, sizeof e);
    return problem("tls", "TLS handshake with %s (%s:%d) failed: %s", v->name, ip, v->tlsalpn01_port, e);
  }
  const unsigned char *sel = NULL;
  unsigned sel_len = 0;
  SSL_get0_alpn_selected(ssl, &sel, &sel_len);
  if (sel_len != 10 || memcmp(sel, "acme-tls/1", 10) != 0)
    return problem("unauthorized", "the responder did not negotiate ALPN acme-tls/1 (RFC 8737 §3)");
  X509 *cert = SSL_get1_peer_certificate(ssl);
  json_t *err = check_cert(cert, v);
  X509_free(cert);
  return err;
}

/* The SNI for an identifier: the name itself, or for an address its reverse
 * DNS name (RFC 8738 §6: "d.c.b.a.in-addr.arpa", nibbles + "ip6.arpa"), as
 * SNI cannot carry an address (RFC 6066 §3). */
static void sni_of(const char *name, char out[80]) {
  unsigned char a[16];
  if (inet_pton(AF_INET, name, a) == 1) {
    snprintf(out, 80, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
  } else if (inet_pton(AF_INET6, name, a) == 1) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 15; i >= 0; i--) {
      out[o++] = hex[a[i] & 15], out[o++] = '.';
      out[o++] = hex[a[i] >> 4], out[o++] = '.';
    }
    memcpy(out + o, "ip6.arpa", 9); /* 64 + 9 bytes */
  } else {
    snprintf(out, 80, "%s", name);
  }
}

static json_t *tlsalpn01(const srv_validation *v, const char *ip) {
  static const unsigned char alpn[] = "\x0a" "acme-tls/1"; /* exactly one protocol offered */
  char sni[300];
  if (strlen(v->name) < 80) sni_of(v->name, sni);
  else snprintf(sni, sizeof sni, "%s", v->name);
  char why[200] = "";
  int fd = via_tor(v, v->name) ? socks5_dial(v->socks5_port, v->name, v->tlsalpn01_port, why, sizeof why) : tcp_connect(ip, v->tlsalpn01_port);
  if (fd < 0 && why[0]) return problem("connection", "cannot reach %s:%d through Tor: %s", v->name, v->tlsalpn01_port, why);
  if (fd < 0) return problem("connection", "cannot connect to %s:%d for %s", ip, v->tlsalpn01_port, v->name);
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = ctx ? SSL_new(ctx) : NULL;
  json_t *err = NULL;
  if (!ssl || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || /* RFC 8737 §4: TLS >= 1.2 */
      SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1) != 0 || SSL_set_tlsext_host_name(ssl, sni) != 1 ||
      SSL_set_fd(ssl, fd) != 1)
    err = problem("serverInternal", "cannot set up the TLS client");
  if (!err) SSL_set_min_proto_version(ssl, TLS1_2_VERSION);
  if (!err) err = tls_handshake(ssl, v, ip);
  if (ssl && SSL_is_init_finished(ssl)) SSL_shutdown(ssl); /* §4: no application data, close at once */
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  ERR_clear_error();
  return err;
}

json_t *srv_validate(const srv_validation *v) {
  /* Writes to a peer that hung up must give EPIPE, not kill the process. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  return srv_chaltype(v->type)->validate(v);
}

/* The address to connect to: an ip identifier itself (RFC 8738 §4), else the
 * name resolved through the server's DNS. NULL, or the problem (new reference). */
static json_t *target_ip(const srv_validation *v, char ip[INET6_ADDRSTRLEN]) {
  if (!srv_is_ip(v->name)) return resolve(v, v->name, ip);
  snprintf(ip, INET6_ADDRSTRLEN, "%s", v->name);
  return NULL;
}

json_t *srv_validate_http01(const srv_validation *v) {
  char ip[INET6_ADDRSTRLEN] = "tor";
  json_t *err = via_tor(v, v->name) ? NULL : target_ip(v, ip);
  return err ? err : http01(v, ip);
}

json_t *srv_validate_tlsalpn01(const srv_validation *v) {
  char ip[INET6_ADDRSTRLEN] = "tor";
  json_t *err = via_tor(v, v->name) ? NULL : target_ip(v, ip);
  return err ? err : tlsalpn01(v, ip);
}
