/* A publisher (harness/client/publish.h) that puts TXT records in place by
 * signed UPDATEs (RFC 2136 + RFC 8945) instead of the mocks' record store;
 * http-01 and tls-alpn-01 still go to the mocks. */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "harness/dns/update.h"
#include "harness/client/publish.h"

#define MAX_PUBLISHED 256
#define MAX_VALUE 1024 /* a dns-persist-01 record (~150 octets) fits; the 44-octet digests easily */

/* The publisher's state: where to send, and what it added (for removal). */
typedef struct {
  acmeh_dnsupdate_cfg cfg;
  pthread_mutex_t lock;
  struct {
    char host[300], value[MAX_VALUE];
  } published[MAX_PUBLISHED];
} update_state;

static uint16_t fresh_id(void) {
  uint16_t id = 0;
  RAND_bytes((unsigned char *)&id, sizeof id);
  return id;
}

/* Sends one UPDATE: add (`add` = 1) or delete exactly `value` at host. */
static int update_one(const acmeh_dnsupdate_cfg *cfgp, const char *host, const char *value, int add, char *err,
                      size_t errlen) {
  const acmeh_dnsupdate_cfg cfg = *cfgp;
  char rdata[MAX_VALUE + 32] = "";
  size_t len = strlen(value), at = 0;
  if (len >= MAX_VALUE || strpbrk(value, "\"\\"))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "TXT value of %zu octets (or with a quote or backslash) for %s", len, host);
  do { /* character-strings of at most 255 octets (RFC 1035 §3.3.14), as dns-persist-01 §9.1 asks */
    size_t n = len - at > 255 ? 255 : len - at;
    snprintf(rdata + strlen(rdata), sizeof rdata - strlen(rdata), "%s\"%.*s\"", at ? " " : "", (int)n, value + at);
    at += n;
  } while (at < len);
  acmeh_dnsup *u = acmeh_dnsup_new(cfg.zone, fresh_id());
  if (!u) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "zone %s is not a DNS name", cfg.zone);
  int rc = add ? acmeh_dnsup_add_rr(u, host, cfg.ttl ? cfg.ttl : 60, "TXT", rdata)
               : acmeh_dnsup_del_rr(u, host, "TXT", rdata);
  acmeh_dnsup_msg m = {0};
  acmeh_dnsup_resp r = {0};
  if (rc) acmeh_msg(err, errlen, rc, "%s is not a DNS name", host);
  if (!rc && (rc = acmeh_dnsup_sign(u, &cfg.key, NULL, &m))) acmeh_msg(err, errlen, rc, "cannot sign the UPDATE");
  if (!rc) rc = acmeh_dnsup_send(cfg.addr, cfg.port, &m, cfg.timeout_ms ? cfg.timeout_ms : 3000, &r, err, errlen);
  if (!rc && (r.rcode != ACMEH_RCODE_NOERROR || r.tsig != ACMEH_TSIG_VERIFIED))
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "UPDATE %s TXT at %s answered %s (TSIG error %s, answer TSIG %s)",
                   add ? "add" : "delete", host, acmeh_rcode_name(r.rcode), acmeh_rcode_name(r.tsig_error),
                   r.tsig == ACMEH_TSIG_VERIFIED ? "verified" : r.tsig == ACMEH_TSIG_ABSENT ? "absent" : "not verified");
  acmeh_dnsup_resp_clear(&r);
  acmeh_dnsup_msg_clear(&m);
  acmeh_dnsup_free(u);
  return rc;
}

static int update_set_txt(const acmeh_publisher *p, const char *host, const char *value, char *err, size_t errlen) {
  update_state *st = p->state;
  int rc = update_one(&st->cfg, host, value, 1, err, errlen);
  if (rc) return rc;
  pthread_mutex_lock(&st->lock);
  for (size_t i = 0; i < MAX_PUBLISHED; i++)
    if (!st->published[i].host[0]) {
      snprintf(st->published[i].host, sizeof st->published[i].host, "%s", host);
      snprintf(st->published[i].value, sizeof st->published[i].value, "%s", value);
      break;
    }
  pthread_mutex_unlock(&st->lock);
  return ACMEH_OK;
}

/* Deletes every value this publisher added at `host`, one RR at a time. */
static void update_clear_txt(const acmeh_publisher *p, const char *host) {
  update_state *st = p->state;
  for (;;) {
    char value[MAX_VALUE] = "";
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < MAX_PUBLISHED && !value[0]; i++)
      if (st->published[i].host[0] && strcasecmp(st->published[i].host, host) == 0) {
        snprintf(value, sizeof value, "%s", st->published[i].value);
        st->published[i].host[0] = '\0';
      }
    pthread_mutex_unlock(&st->lock);
    if (!value[0]) return;
    char err[256];
    update_one(&st->cfg, host, value, 0, err, sizeof err); /* best effort: the challenge is already decided */
  }
}

int acmeh_publisher_dns_update(acmeh_publisher *p, acmeh_mocks *m, const acmeh_dnsupdate_cfg *cfg) {
  update_state *st = calloc(1, sizeof *st);
  if (!st) return ACMEH_NOMEM;
  st->cfg = *cfg;
  pthread_mutex_init(&st->lock, NULL);
  acmeh_publisher_mocks(p, m);
  p->name = "dns-update", p->set_txt = update_set_txt, p->clear_txt = update_clear_txt, p->state = st;
  return ACMEH_OK;
}

void acmeh_publisher_dns_update_free(acmeh_publisher *p) {
  update_state *st = p ? p->state : NULL;
  if (!st) return;
  pthread_mutex_destroy(&st->lock);
  free(st);
  p->state = NULL;
}
