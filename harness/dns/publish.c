/* The reference client's dns-01 publication through signed UPDATEs
 * (RFC 2136 + RFC 8945) instead of the mocks' record store. */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "harness/dns/update.h"

#define MAX_PUBLISHED 256

static acmeh_dnsupdate_cfg cfg;
static int active;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char host[300], value[64];
} published[MAX_PUBLISHED];

void acmeh_dnsupdate_configure(const acmeh_dnsupdate_cfg *c) {
  active = c != NULL;
  if (c) cfg = *c;
}

int acmeh_dnsupdate_active(void) { return active; }

static uint16_t fresh_id(void) {
  uint16_t id = 0;
  RAND_bytes((unsigned char *)&id, sizeof id);
  return id;
}

/* Sends one UPDATE: add (`add` = 1) or delete exactly `value` at host. */
static int update_one(const char *host, const char *value, int add, char *err, size_t errlen) {
  char rdata[80];
  snprintf(rdata, sizeof rdata, "\"%s\"", value);
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

int acmeh_dnsupdate_publish(const char *host, const char *value, char *err, size_t errlen) {
  int rc = update_one(host, value, 1, err, errlen);
  if (rc) return rc;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < MAX_PUBLISHED; i++)
    if (!published[i].host[0]) {
      snprintf(published[i].host, sizeof published[i].host, "%s", host);
      snprintf(published[i].value, sizeof published[i].value, "%s", value);
      break;
    }
  pthread_mutex_unlock(&lock);
  return ACMEH_OK;
}

void acmeh_dnsupdate_unpublish(const char *host) {
  for (;;) {
    char value[64] = "";
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MAX_PUBLISHED && !value[0]; i++)
      if (published[i].host[0] && strcasecmp(published[i].host, host) == 0) {
        snprintf(value, sizeof value, "%s", published[i].value);
        published[i].host[0] = '\0';
      }
    pthread_mutex_unlock(&lock);
    if (!value[0]) return;
    char err[256];
    update_one(host, value, 0, err, sizeof err); /* best effort: the challenge is already decided */
  }
}
