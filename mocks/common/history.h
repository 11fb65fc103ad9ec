/* Request history of the mock responders (what the server under test asked
 * for), kept per kind ("http", "dns", "tlsalpn") under a mutex because the
 * loop thread writes it while check threads read it. Entries are JSON objects;
 * each also carries the key it is filed under (host without port, qname
 * without trailing dot, SNI), compared case-insensitively. */
#ifndef ACMEH_MOCKS_HISTORY_H
#define ACMEH_MOCKS_HISTORY_H

#include <jansson.h>

typedef enum {
  ACMEH_HIST_HTTP,
  ACMEH_HIST_DNS,
  ACMEH_HIST_TLSALPN,
  ACMEH_HIST_MGMT, /* store changes made through the management API ("mgmt"): hook calls */
  ACMEH_HIST_KIND_COUNT
} acmeh_hist_kind;

typedef struct acmeh_history acmeh_history;

/* New empty history keeping at most `cap_per_kind` entries per kind (oldest
 * dropped first, one per add once full; 0 = 10000). NULL when out of memory. */
acmeh_history *acmeh_history_new(size_t cap_per_kind);
void acmeh_history_free(acmeh_history *h);

/* "http" / "dns" / "tlsalpn" / "mgmt" -> kind; -1 for anything else. */
int acmeh_history_kind(const char *name);

/* Files `entry` (reference stolen) under `key`, adding "time_ms" (wall clock).
 * Drops it silently when out of memory: history is best effort. */
void acmeh_history_add(acmeh_history *h, acmeh_hist_kind kind, const char *key, json_t *entry);

/* One DNS question as the mock DNS saw it; the strings are copied. */
typedef struct {
  const char *proto; /* "udp" / "tcp" */
  const char *qname; /* presentation form without the trailing dot ("." for the root) */
  const char *qtype; /* mnemonic ("TXT", "TYPE65280") */
  int qtype_num;
  int qclass;
  const char *rcode; /* what the mock answered: "NOERROR", "SERVFAIL", ... */
  int answers;       /* the answer section's record count */
} acmeh_hist_dns;

/* Files a DNS question under kind "dns" and key qname, as if by
 * acmeh_history_add with the entry {"qname", "qtype", "proto", "rcode", "answers",
 * "Question": {"Name", "Qtype", "Qclass"}} ("Question" mirrors pebble-challtestsrv). It is
 * kept as a fixed-size record and turned into JSON only by acmeh_history_get,
 * so answering a query allocates nothing here. Best effort like _add. */
void acmeh_history_add_dns(acmeh_history *h, const acmeh_hist_dns *q);

/* A new array (caller decrefs) of deep copies of the entries of `kind` filed
 * under `key` (NULL = all), oldest first. NULL when out of memory. */
json_t *acmeh_history_get(acmeh_history *h, acmeh_hist_kind kind, const char *key);

/* A new array (caller decrefs) of the entries of `kind` added after the one
 * numbered *after (0 = from the oldest kept), oldest first; *after becomes
 * the newest one's number. Entries are numbered in the order they were
 * added, across kinds, from 1. For followers of the log (`serve`): cheap
 * when nothing is new. NULL when out of memory. */
json_t *acmeh_history_since(acmeh_history *h, acmeh_hist_kind kind, unsigned long long *after);

/* Forgets the entries of `kind` under `key` (NULL = all). */
void acmeh_history_clear(acmeh_history *h, acmeh_hist_kind kind, const char *key);

#endif
