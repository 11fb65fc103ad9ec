/* Internals shared by update.c (message processing) and update_cfg.c (keys,
 * zones, replay cache, journal). Not for use outside mocks/dns. */
#ifndef ACMEH_MOCKS_DNS_UPDATE_INT_H
#define ACMEH_MOCKS_DNS_UPDATE_INT_H

#include "mocks/dns/tsig.h"
#include "mocks/dns/update.h"

#include <pthread.h>

#define UPD_MAX_RULES 16
#define UPD_MAX_TYPES 8
#define UPD_MAX_ZONES 64
#define UPD_REPLAY_SLOTS 512
#define UPD_MAX_SKEW_S 315576000LL /* 10 years: a key's clock shift, either way */
/* Journal bounds: whatever a peer floods, the journal stays a few MB and its
 * dump (under the mutex the DNS answer path also takes) stays fast. */
#define UPD_JOURNAL_MAX_BYTES (4u << 20) /* serialised JSON, all entries */
#define UPD_WIRE_KEEP 1024               /* request bytes kept as hex (authenticated) */
#define UPD_WIRE_KEEP_SUMMARY 256        /* ... for refused, unsigned or unverified ones */
#define UPD_RRS_KEEP 64                  /* decoded RRs per section (authenticated) */
#define UPD_RRS_KEEP_SUMMARY 8           /* ... for refused, unsigned or unverified ones */
#define UPD_VALUE_KEEP 512               /* bytes of one RR's value */

typedef struct {
  char pattern[256]; /* normalised: lower case, no trailing dot */
  int types[UPD_MAX_TYPES];
  int ntypes;        /* 0 = every type */
} upd_rule;

typedef struct upd_key {
  char name[256];    /* canonical presentation form, with the dot */
  char alg[64];      /* "hmac-sha256." */
  uint8_t secret[128];
  size_t secret_len;
  int has_policy;
  upd_rule rules[UPD_MAX_RULES];
  int nrules;
  int64_t skew_s;
  uint64_t last_time; /* newest Time Signed accepted (RFC 8945 §5.2.3 SHOULD) */
  struct upd_key *next;
} upd_key;

typedef struct {
  char key[256];
  uint8_t mac[ACMEH_TSIG_MAX_MAC];
  uint16_t mac_len;
} upd_seen;

struct acmeh_dnsupd {
  pthread_mutex_t mu;
  upd_key *keys;
  char zones[UPD_MAX_ZONES][256];
  int nzones;
  uint32_t serial;
  int allow_unsigned;
  int64_t fixed_now;
  upd_seen seen[UPD_REPLAY_SLOTS];
  size_t seen_next;
  json_t *journal;
  size_t journal_cap;       /* entries */
  size_t journal_bytes;     /* serialised size of the entries held */
  size_t journal_max_bytes; /* UPD_JOURNAL_MAX_BYTES unless a test lowers it */
};

/* All below: caller holds u->mu. */
upd_key *upd_find_key(acmeh_dnsupd *u, const char *name);
int64_t upd_now(const acmeh_dnsupd *u);
/* The served zone that is `name` or its closest ancestor; NULL for none. */
const char *upd_zone_of(const acmeh_dnsupd *u, const char *name);
int upd_is_apex(const acmeh_dnsupd *u, const char *name);
/* 1 when key+MAC were seen before (then it is not recorded again), else records them. */
int upd_replayed(acmeh_dnsupd *u, const char *key, const uint8_t *mac, uint16_t mac_len);
/* Whether `key`'s policy lets it change name/type (type 255 = every type). */
int upd_policy_allows(const upd_key *key, const char *name, int type);
/* Files entry (reference stolen), dropping the oldest entries past the entry
 * and byte caps. */
void upd_journal_add(acmeh_dnsupd *u, json_t *entry);

/* Name in "a.b" form (lower case, no dot) for an ldns dname; 0 or -1. */
int upd_name(const void *rdf, char out[256]);
int upd_in_zone(const char *name, const char *zone);

#endif
