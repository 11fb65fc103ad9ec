/* In-memory tables of the reference server: objects by random id in tsearch
 * trees, with an age list so the tables can be kept under their caps by
 * evicting the oldest (finished first). Cross references are ids, never
 * pointers, so an evicted object simply stops being found. */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/rand.h"
#include "harness/server/internal.h"

int srv_random_id(char id[SRV_ID_CHARS + 1]) {
  unsigned char raw[16];
  if (acmeh_rand_bytes(raw, sizeof raw) != ACMEH_OK) return ACMEH_INTERNAL;
  char *s = acmeh_b64url_encode(raw, sizeof raw);
  if (!s) return ACMEH_NOMEM;
  snprintf(id, SRV_ID_CHARS + 1, "%s", s);
  free(s);
  return ACMEH_OK;
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const srv_entry *)a)->id, ((const srv_entry *)b)->id);
}

int srv_table_add(srv_table *t, srv_entry *e) {
  if (!tsearch(e, &t->root, cmp_entry)) return ACMEH_NOMEM;
  e->older = t->newest;
  e->newer = NULL;
  if (t->newest) t->newest->newer = e;
  else t->oldest = e;
  t->newest = e;
  t->count++;
  return ACMEH_OK;
}

srv_entry *srv_table_find(const srv_table *t, const char *id) {
  srv_entry key;
  if (!id || strlen(id) >= sizeof key.id) return NULL;
  snprintf(key.id, sizeof key.id, "%s", id);
  void *const *hit = tfind(&key, &t->root, cmp_entry);
  return hit ? *(srv_entry *const *)hit : NULL;
}

void srv_table_remove(srv_table *t, srv_entry *e) {
  tdelete(e, &t->root, cmp_entry);
  if (e->older) e->older->newer = e->newer;
  else t->oldest = e->newer;
  if (e->newer) e->newer->older = e->older;
  else t->newest = e->older;
  t->count--;
}

srv_account *srv_account_get(acmeh_server *s, const char *id) {
  return (srv_account *)srv_table_find(&s->accounts, id);
}

srv_order *srv_order_get(acmeh_server *s, const char *id) {
  return (srv_order *)srv_table_find(&s->orders, id);
}

srv_authz *srv_authz_get(acmeh_server *s, const char *id) {
  return (srv_authz *)srv_table_find(&s->authzs, id);
}

srv_cert *srv_cert_get(acmeh_server *s, const char *id) {
  return (srv_cert *)srv_table_find(&s->certs, id);
}

/* ---- eviction ------------------------------------------------------------ */

static int order_finished(acmeh_server *s, srv_entry *e) {
  srv_order *o = (srv_order *)e;
  srv_order_refresh(s, o);
  return o->status == ORD_VALID || o->status == ORD_INVALID;
}

static int authz_finished(acmeh_server *s, srv_entry *e) {
  srv_authz *a = (srv_authz *)e;
  srv_authz_refresh(s, a);
  return !a->validating && a->status != AZ_PENDING && a->status != AZ_VALID;
}

static int account_finished(acmeh_server *s, srv_entry *e) {
  (void)s;
  return ((srv_account *)e)->status != ACCT_VALID;
}

static int cert_finished(acmeh_server *s, srv_entry *e) {
  (void)s;
  return ((srv_cert *)e)->revoked;
}

static void drop_order(acmeh_server *s, srv_entry *e) {
  srv_order_unlist(s, (srv_order *)e);
  srv_order_free((srv_order *)e);
}

static void drop_authz(acmeh_server *s, srv_entry *e) {
  srv_authz_unindex(s, (srv_authz *)e);
  srv_authz_free((srv_authz *)e);
}
static void drop_cert(acmeh_server *s, srv_entry *e) { srv_cert_free((srv_cert *)e); (void)s; }
static void drop_account(acmeh_server *s, srv_entry *e) {
  srv_account_unindex_key(s, (srv_account *)e);
  srv_account_free((srv_account *)e);
}

/* Oldest entries beyond cap go: finished ones first (scanning at most
 * SCAN_MAX from the old end, so one request never walks the whole table;
 * under load the old end is mostly valid authorizations, which do not count
 * as finished, and a long scan there ran at every new order), then the
 * oldest whatever its state, so the cap holds. */
#define SCAN_MAX 32
static void trim(acmeh_server *s, srv_table *t, size_t cap, int (*finished)(acmeh_server *, srv_entry *),
                 void (*drop)(acmeh_server *, srv_entry *)) {
  while (t->count > cap) {
    srv_entry *victim = t->oldest;
    int scanned = 0;
    for (srv_entry *e = t->oldest; e && scanned < SCAN_MAX; e = e->newer, scanned++)
      if (finished(s, e)) {
        victim = e;
        break;
      }
    if (!victim) return;
    if (t == &s->authzs && ((srv_authz *)victim)->validating) return; /* its job still refers to it */
    srv_table_remove(t, victim);
    drop(s, victim);
  }
}

void srv_store_trim(acmeh_server *s) {
  trim(s, &s->orders, s->max_orders, order_finished, drop_order);
  trim(s, &s->authzs, s->max_authzs, authz_finished, drop_authz);
  trim(s, &s->certs, s->max_certs, cert_finished, drop_cert);
  trim(s, &s->accounts, s->max_accounts, account_finished, drop_account);
}

static void drain(acmeh_server *s, srv_table *t, void (*drop)(acmeh_server *, srv_entry *)) {
  while (t->oldest) {
    srv_entry *e = t->oldest;
    srv_table_remove(t, e);
    drop(s, e);
  }
}

void srv_store_free(acmeh_server *s) {
  drain(s, &s->orders, drop_order);
  drain(s, &s->authzs, drop_authz);
  drain(s, &s->certs, drop_cert);
  drain(s, &s->accounts, drop_account);
}
