/* Wiring of the mocks: one record store and one history shared by the DNS,
 * HTTP-01, TLS-ALPN-01 and management servers, all on one libuv loop run by
 * one thread. Public functions only touch the (mutex-guarded) store, so they
 * are safe from any thread; the handles are touched only by the loop thread
 * once it runs, which is why stopping goes through a uv_async. */
#include "mocks/mocks.h"

#include "harness/acme/challenge.h"
#include "base/error.h"
#include "mocks/bundle-node/node.h"
#include "mocks/common/history.h"
#include "base/httpsrv.h"
#include "mocks/common/records.h"
#include "mocks/dns/dns.h"
#include "mocks/http01/http01.h"
#include "mocks/mgmt/mgmt.h"
#include "mocks/tlsalpn01/tlsalpn01.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct acmeh_mocks {
  uv_loop_t loop;
  uv_async_t stop;
  pthread_t thread;
  acmeh_records *rec;
  acmeh_history *hist;
  acmeh_dnsupd *upd;
  acmeh_http01_ctx http01_ctx;
  acmeh_mockdns *dns;
  acmeh_httpsrv *http01;
  acmeh_mocktlsalpn *tlsalpn;
  acmeh_httpsrv *mgmt;
  int dns_port, http01_port, tlsalpn_port, mgmt_port;
  int serving; /* the loop and servers exist (acmeh_mocks_start), not just the stores */
  acmeh_bundle_node *bnode; /* its own loop and thread (node.h); NULL = none */
};

/* Loopback only: the mocks answer anything and must not be reachable from outside. */
static int is_loopback(const char *addr) {
  unsigned char a[16];
  if (inet_pton(AF_INET, addr, a) == 1) return a[0] == 127;
  return inet_pton(AF_INET6, addr, a) == 1 && memcmp(a, in6addr_loopback.s6_addr, 16) == 0;
}

static void close_servers(acmeh_mocks *m) {
  acmeh_mockdns_close(m->dns);
  acmeh_httpsrv_close(m->http01);
  acmeh_mocktlsalpn_close(m->tlsalpn);
  acmeh_httpsrv_close(m->mgmt);
  if (!uv_is_closing((uv_handle_t *)&m->stop)) uv_close((uv_handle_t *)&m->stop, NULL);
}

static void on_stop(uv_async_t *a) { close_servers(a->data); }

static void free_stores(acmeh_mocks *m) {
  acmeh_records_free(m->rec);
  acmeh_history_free(m->hist);
  acmeh_dnsupd_free(m->upd);
  free(m);
}

/* Frees everything once no handle is left on the loop. */
static void free_all(acmeh_mocks *m) {
  uv_loop_close(&m->loop);
  acmeh_mockdns_free(m->dns);
  acmeh_httpsrv_free(m->http01);
  acmeh_mocktlsalpn_free(m->tlsalpn);
  acmeh_httpsrv_free(m->mgmt);
  free_stores(m);
}

static void *loop_main(void *arg) {
  acmeh_mocks *m = arg;
  /* A peer that hangs up mid-write must yield EPIPE here, not kill the process. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  return NULL;
}

static int start_servers(acmeh_mocks *m, const acmeh_mocks_config *cfg, const char *addr, char *err,
                         size_t errlen) {
  int rc =
      acmeh_mockdns_start(&m->loop, addr, cfg->dns_port, m->rec, m->hist, &m->dns, err, errlen);
  if (rc != ACMEH_OK) return rc;
  acmeh_mockdns_set_update(m->dns, m->upd);
  m->http01_ctx = (acmeh_http01_ctx){m->rec, m->hist};
  rc = acmeh_httpsrv_start(&m->loop, addr, cfg->http01_port, 0, acmeh_http01_handle, &m->http01_ctx,
                           &m->http01, err, errlen);
  if (rc != ACMEH_OK) return rc;
  rc = acmeh_mocktlsalpn_start(&m->loop, addr, cfg->tlsalpn01_port, m->rec, m->hist, &m->tlsalpn,
                               err, errlen);
  if (rc != ACMEH_OK || cfg->mgmt_port == -1) return rc;
  return acmeh_httpsrv_start(&m->loop, addr, cfg->mgmt_port, ACMEH_MGMT_MAX_BODY, acmeh_mgmt_handle,
                             m, &m->mgmt, err, errlen);
}

int acmeh_mocks_new_stores(const char *default_ipv4, acmeh_mocks **out, char *err, size_t errlen) {
  const char *def4 = default_ipv4 ? default_ipv4 : "127.0.0.1";
  struct in_addr probe;
  if (inet_pton(AF_INET, def4, &probe) != 1)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "mocks: default_ipv4 %s is not IPv4", def4);
  acmeh_mocks *m = calloc(1, sizeof *m);
  if (!m) return acmeh_msg(err, errlen, ACMEH_NOMEM, "mocks: out of memory");
  m->rec = acmeh_records_new(def4);
  m->hist = acmeh_history_new(0);
  m->upd = acmeh_dnsupd_new(0);
  m->dns_port = m->http01_port = m->tlsalpn_port = m->mgmt_port = -1;
  if (!m->rec || !m->hist || !m->upd) {
    free_stores(m);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "mocks: out of memory");
  }
  *out = m;
  return ACMEH_OK;
}

int acmeh_mocks_start(const acmeh_mocks_config *cfg, acmeh_mocks **out, char *err, size_t errlen) {
  if (!cfg || !out) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "mocks: no config");
  const char *addr = cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
  if (!is_loopback(addr))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "mocks: %s is not a loopback address", addr);
  acmeh_mocks *m = NULL;
  int rc = acmeh_mocks_new_stores(cfg->default_ipv4, &m, err, errlen);
  if (rc != ACMEH_OK) return rc;
  m->serving = 1;
  uv_loop_init(&m->loop);
  uv_async_init(&m->loop, &m->stop, on_stop);
  m->stop.data = m;
  rc = start_servers(m, cfg, addr, err, errlen);
  /* Ports are read here, before the loop thread owns the servers. */
  m->dns_port = acmeh_mockdns_port(m->dns);
  m->http01_port = acmeh_httpsrv_port(m->http01);
  m->tlsalpn_port = acmeh_mocktlsalpn_port(m->tlsalpn);
  m->mgmt_port = m->mgmt ? acmeh_httpsrv_port(m->mgmt) : -1;
  if (rc == ACMEH_OK && cfg->bundle_node_port >= 0) {
    acmeh_bundle_node_config bc = {.bind_addr = addr, .port = cfg->bundle_node_port};
    rc = acmeh_bundle_node_start(&bc, &m->bnode, err, errlen);
  }
  if (rc == ACMEH_OK && pthread_create(&m->thread, NULL, loop_main, m) != 0)
    rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "mocks: cannot start the loop thread");
  if (rc != ACMEH_OK) {
    acmeh_bundle_node_stop(m->bnode);
    close_servers(m); /* the loop never ran on another thread; drain it here */
    uv_run(&m->loop, UV_RUN_DEFAULT);
    free_all(m);
    return rc;
  }
  *out = m;
  return ACMEH_OK;
}

void acmeh_mocks_stop(acmeh_mocks *m) {
  if (!m) return;
  if (!m->serving) { /* acmeh_mocks_new_stores: no loop, thread or socket */
    free_stores(m);
    return;
  }
  uv_async_send(&m->stop);
  pthread_join(m->thread, NULL);
  acmeh_bundle_node_stop(m->bnode);
  free_all(m);
}

int acmeh_mocks_dns_port(const acmeh_mocks *m) { return m ? m->dns_port : -1; }
int acmeh_mocks_http01_port(const acmeh_mocks *m) { return m ? m->http01_port : -1; }
int acmeh_mocks_tlsalpn01_port(const acmeh_mocks *m) { return m ? m->tlsalpn_port : -1; }
int acmeh_mocks_mgmt_port(const acmeh_mocks *m) { return m ? m->mgmt_port : -1; }
int acmeh_mocks_bundle_node_port(const acmeh_mocks *m) { return m && m->bnode ? acmeh_bundle_node_port(m->bnode) : -1; }
acmeh_bundle_node *acmeh_mocks_bundle_node(const acmeh_mocks *m) { return m ? m->bnode : NULL; }

/* ---- records ---- */

static int add(acmeh_mocks *m, acmeh_rec_kind kind, const char *key, const char *value) {
  return m ? acmeh_records_add(m->rec, kind, key, value, NULL, 0) : ACMEH_INVALID_ARG;
}

/* Clearing checks the name so a typo is reported, but an absent record is fine. */
static int del(acmeh_mocks *m, acmeh_rec_kind kind, const char *key) {
  char norm[256];
  if (!m || !key || (kind != ACMEH_REC_HTTP01 && acmeh_records_norm(key, norm, sizeof norm)))
    return ACMEH_INVALID_ARG;
  acmeh_records_del(m->rec, kind, key);
  return ACMEH_OK;
}

int acmeh_mocks_set_txt(acmeh_mocks *m, const char *host, const char *value) {
  return add(m, ACMEH_REC_TXT, host, value);
}
int acmeh_mocks_clear_txt(acmeh_mocks *m, const char *host) { return del(m, ACMEH_REC_TXT, host); }
int acmeh_mocks_add_a(acmeh_mocks *m, const char *host, const char *ipv4) {
  return add(m, ACMEH_REC_A, host, ipv4);
}
int acmeh_mocks_add_aaaa(acmeh_mocks *m, const char *host, const char *ipv6) {
  return add(m, ACMEH_REC_AAAA, host, ipv6);
}
int acmeh_mocks_add_caa(acmeh_mocks *m, const char *host, int flags, const char *tag,
                        const char *value) {
  return m ? acmeh_records_add(m->rec, ACMEH_REC_CAA, host, value, tag, flags) : ACMEH_INVALID_ARG;
}
int acmeh_mocks_set_cname(acmeh_mocks *m, const char *host, const char *target) {
  return add(m, ACMEH_REC_CNAME, host, target);
}
int acmeh_mocks_set_servfail(acmeh_mocks *m, const char *host, int on) {
  return on ? add(m, ACMEH_REC_SERVFAIL, host, "") : del(m, ACMEH_REC_SERVFAIL, host);
}
int acmeh_mocks_clear_a(acmeh_mocks *m, const char *host) { return del(m, ACMEH_REC_A, host); }
int acmeh_mocks_clear_aaaa(acmeh_mocks *m, const char *host) {
  return del(m, ACMEH_REC_AAAA, host);
}
int acmeh_mocks_clear_caa(acmeh_mocks *m, const char *host) { return del(m, ACMEH_REC_CAA, host); }
int acmeh_mocks_clear_cname(acmeh_mocks *m, const char *host) {
  return del(m, ACMEH_REC_CNAME, host);
}

int acmeh_mocks_set_default_ip(acmeh_mocks *m, int family, const char *ip) {
  if (!m) return ACMEH_INVALID_ARG;
  if (family == 4) return acmeh_records_set_default_ipv4(m->rec, ip);
  if (family == 6) return acmeh_records_set_default_ipv6(m->rec, ip);
  return ACMEH_INVALID_ARG;
}

int acmeh_mocks_add_http01(acmeh_mocks *m, const char *token, const char *content) {
  return add(m, ACMEH_REC_HTTP01, token, content);
}
int acmeh_mocks_del_http01(acmeh_mocks *m, const char *token) {
  if (!token || !*token) return ACMEH_INVALID_ARG;
  return del(m, ACMEH_REC_HTTP01, token);
}

int acmeh_mocks_add_tlsalpn01(acmeh_mocks *m, const char *host, const char *keyauth) {
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  if (!m || !host || !keyauth) return ACMEH_INVALID_ARG;
  /* The certificate names the identifier as given (IP literal -> iPAddress SAN). */
  size_t n = strlen(host);
  char name[256];
  if (n == 0 || n >= sizeof name) return ACMEH_INVALID_ARG;
  memcpy(name, host, n + 1);
  if (name[n - 1] == '.') name[n - 1] = '\0';
  int rc = acmeh_tlsalpn01_cert(name, keyauth, &key, &cert);
  if (rc != ACMEH_OK) return rc == ACMEH_INVALID_ARG ? rc : ACMEH_NOMEM;
  rc = acmeh_records_add_tlsalpn(m->rec, host, keyauth, key, cert);
  EVP_PKEY_free(key);
  X509_free(cert);
  return rc;
}
int acmeh_mocks_del_tlsalpn01(acmeh_mocks *m, const char *host) {
  return del(m, ACMEH_REC_TLSALPN, host);
}

/* ---- history ---- */

json_t *acmeh_mocks_history(acmeh_mocks *m, const char *kind, const char *host) {
  int k = acmeh_history_kind(kind);
  if (!m || k < 0) return NULL;
  return acmeh_history_get(m->hist, (acmeh_hist_kind)k, host);
}

json_t *acmeh_mocks_history_since(acmeh_mocks *m, const char *kind, unsigned long long *after) {
  int k = acmeh_history_kind(kind);
  return m && k >= 0 ? acmeh_history_since(m->hist, (acmeh_hist_kind)k, after) : NULL;
}

void acmeh_mocks_record_mgmt(acmeh_mocks *m, const char *path, const json_t *body, int status) {
  if (!m) return;
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  size_t n = text ? strlen(text) : 0;
  json_t *e = json_pack("{s:s, s:s%, s:i}", "path", path, "body", text ? text : "", n > 300 ? 300 : n, "status", status);
  free(text);
  acmeh_history_add(m->hist, ACMEH_HIST_MGMT, path, e);
}

void acmeh_mocks_clear_history(acmeh_mocks *m, const char *kind, const char *host) {
  int k = acmeh_history_kind(kind);
  if (m && k >= 0) acmeh_history_clear(m->hist, (acmeh_hist_kind)k, host);
}

/* ---- DNS UPDATE ---- */

int acmeh_mocks_add_zone(acmeh_mocks *m, const char *zone) {
  return m ? acmeh_dnsupd_add_zone(m->upd, zone) : ACMEH_INVALID_ARG;
}
int acmeh_mocks_add_zone_msg(acmeh_mocks *m, const char *zone, char *err, size_t errlen) {
  return m ? acmeh_dnsupd_add_zone_msg(m->upd, zone, err, errlen) : ACMEH_INVALID_ARG;
}
int acmeh_mocks_del_zone(acmeh_mocks *m, const char *zone) {
  return m ? acmeh_dnsupd_del_zone(m->upd, zone) : ACMEH_INVALID_ARG;
}
int acmeh_mocks_add_tsig_key(acmeh_mocks *m, const json_t *key, char *err, size_t errlen) {
  return m ? acmeh_dnsupd_add_key(m->upd, key, err, errlen) : ACMEH_INVALID_ARG;
}
int acmeh_mocks_del_tsig_key(acmeh_mocks *m, const char *name) {
  return m ? acmeh_dnsupd_del_key(m->upd, name) : ACMEH_INVALID_ARG;
}
void acmeh_mocks_set_update_policy(acmeh_mocks *m, int allow_unsigned) {
  if (m) acmeh_dnsupd_set_allow_unsigned(m->upd, allow_unsigned);
}
json_t *acmeh_mocks_dns_update_journal(acmeh_mocks *m, const char *zone) {
  return m ? acmeh_dnsupd_journal(m->upd, zone) : NULL;
}
void acmeh_mocks_clear_dns_update_journal(acmeh_mocks *m) {
  if (m) acmeh_dnsupd_clear_journal(m->upd);
}
