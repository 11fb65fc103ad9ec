#include "mocks/common/records.h"

#include "base/error.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest presentation name we store (RFC 1035 caps names at 253 chars; the
 * ip6.arpa form of an IPv6 literal is 72). */
#define NAME_MAX_LEN 253
/* Caps keep one bad management call from ballooning the store. */
#define VALUE_MAX_LEN 65000

typedef struct rec_node {
  acmeh_rec_kind kind;
  char *key;
  char *value;
  char *tag;
  int flags;
  EVP_PKEY *pkey; /* TLSALPN only */
  X509 *cert;
  struct rec_node *prev, *next; /* in its set, insertion order */
  struct rec_node *vnext;       /* in its set's value bucket */
} rec_node;

/* The records of one kind under one key, in insertion order (so TXT and A
 * answers keep the order given), with their values hashed: a lookup, a
 * duplicate check or a delete of one value costs what this set holds, never
 * what the whole store holds (100,000 names once made each query 30 ms). */
typedef struct rec_set {
  acmeh_rec_kind kind;
  char *key;
  size_t hash;
  rec_node *head, *tail;
  size_t count;
  rec_node **vb; /* value buckets, nvb of them (a power of two) */
  size_t nvb;
  struct rec_set *next; /* in the store's bucket */
} rec_set;

struct acmeh_records {
  pthread_mutex_t mu;
  rec_set **sb; /* sets hashed by kind and key; nsb buckets (a power of two) */
  size_t nsb, nsets;
  char default_ipv4[46];
  char default_ipv6[46];
};

#define MIN_BUCKETS 4

/* FNV-1a, seeded: a non-cryptographic hash is enough, names come from checks
 * and from DNS UPDATEs the mock already limits in size. */
static size_t hash_str(const char *s, size_t h) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static size_t set_hash(acmeh_rec_kind kind, const char *key) {
  return hash_str(key, 14695981039346656037u ^ (size_t)kind);
}

int acmeh_records_norm(const char *host, char *out, size_t outlen) {
  if (!host || !out) return ACMEH_INVALID_ARG;
  size_t n = strlen(host);
  if (n > 0 && host[n - 1] == '.') n--;
  if (n == 0 || n > NAME_MAX_LEN || n >= outlen) return ACMEH_INVALID_ARG;
  for (size_t i = 0; i < n; i++)
    out[i] = (char)tolower((unsigned char)host[i]);
  out[n] = '\0';
  return ACMEH_OK;
}

/* Reverse-lookup name of an IP literal (RFC 8738 §6: the SNI a validator sends
 * for an IP identifier), or "" when `host` is not one. */
static void reverse_name(const char *host, char *out, size_t outlen) {
  unsigned char a[16];
  out[0] = '\0';
  if (inet_pton(AF_INET, host, a) == 1) {
    snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
  } else if (inet_pton(AF_INET6, host, a) == 1 && outlen >= 74) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 15; i >= 0; i--) {
      out[o++] = hex[a[i] & 0xf];
      out[o++] = '.';
      out[o++] = hex[a[i] >> 4];
      out[o++] = '.';
    }
    memcpy(out + o, "ip6.arpa", 9);
  }
}

static void node_free(rec_node *n) {
  if (!n) return;
  free(n->key);
  free(n->value);
  free(n->tag);
  EVP_PKEY_free(n->pkey);
  X509_free(n->cert);
  free(n);
}

acmeh_records *acmeh_records_new(const char *default_ipv4) {
  acmeh_records *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->sb = calloc(MIN_BUCKETS, sizeof *r->sb);
  r->nsb = MIN_BUCKETS;
  /* Recursive so acmeh_records_txn's callback can use the ordinary API. */
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&r->mu, &attr);
  pthread_mutexattr_destroy(&attr);
  if (!r->sb || acmeh_records_set_default_ipv4(r, default_ipv4) != ACMEH_OK) {
    acmeh_records_free(r);
    return NULL;
  }
  return r;
}

static void set_free(rec_set *set) {
  for (rec_node *n = set->head, *next; n; n = next) {
    next = n->next;
    node_free(n);
  }
  free(set->vb);
  free(set->key);
  free(set);
}

void acmeh_records_free(acmeh_records *r) {
  if (!r) return;
  for (size_t i = 0; r->sb && i < r->nsb; i++)
    for (rec_set *set = r->sb[i], *next; set; set = next) {
      next = set->next;
      set_free(set);
    }
  free(r->sb);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

/* ---- sets and their value index; callers hold the lock ---- */

static rec_set *set_find(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  size_t h = set_hash(kind, key);
  for (rec_set *set = r->sb[h & (r->nsb - 1)]; set; set = set->next)
    if (set->hash == h && set->kind == kind && strcmp(set->key, key) == 0) return set;
  return NULL;
}

/* Doubles the store's buckets once there are as many sets; keeps the old
 * table when out of memory (lookups stay right, only slower). */
static void sets_grow(acmeh_records *r) {
  if (r->nsets < r->nsb) return;
  rec_set **nb = calloc(2 * r->nsb, sizeof *nb);
  if (!nb) return;
  for (size_t i = 0; i < r->nsb; i++)
    for (rec_set *set = r->sb[i], *next; set; set = next) {
      next = set->next;
      set->next = nb[set->hash & (2 * r->nsb - 1)];
      nb[set->hash & (2 * r->nsb - 1)] = set;
    }
  free(r->sb);
  r->sb = nb;
  r->nsb *= 2;
}

/* The set of kind/key, created empty when missing; NULL when out of memory. */
static rec_set *set_get(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  rec_set *set = set_find(r, kind, key);
  if (set) return set;
  set = calloc(1, sizeof *set);
  if (set) set->vb = calloc(MIN_BUCKETS, sizeof *set->vb);
  if (set) set->key = strdup(key);
  if (!set || !set->vb || !set->key) {
    if (set) set_free(set);
    return NULL;
  }
  sets_grow(r);
  set->kind = kind;
  set->nvb = MIN_BUCKETS;
  set->hash = set_hash(kind, key);
  set->next = r->sb[set->hash & (r->nsb - 1)];
  r->sb[set->hash & (r->nsb - 1)] = set;
  r->nsets++;
  return set;
}

/* Unlinks set from the store and frees it with its records; returns how many it held. */
static int set_drop(acmeh_records *r, rec_set *set) {
  rec_set **pp = &r->sb[set->hash & (r->nsb - 1)];
  while (*pp != set) pp = &(*pp)->next;
  *pp = set->next;
  r->nsets--;
  int count = (int)set->count;
  set_free(set);
  return count;
}

static rec_node **value_bucket(rec_set *set, const char *value) {
  return &set->vb[hash_str(value, 14695981039346656037u) & (set->nvb - 1)];
}

static rec_node *set_find_value(rec_set *set, const char *value) {
  for (rec_node *n = *value_bucket(set, value); n; n = n->vnext)
    if (strcmp(n->value, value) == 0) return n;
  return NULL;
}

/* Doubles the value buckets once the set holds as many records. */
static void values_grow(rec_set *set) {
  if (set->count < set->nvb) return;
  rec_node **old = set->vb;
  size_t nold = set->nvb;
  set->vb = calloc(2 * nold, sizeof *set->vb);
  if (!set->vb) {
    set->vb = old;
    return;
  }
  set->nvb = 2 * nold;
  for (rec_node *n = set->head; n; n = n->next) {
    rec_node **b = value_bucket(set, n->value);
    n->vnext = *b;
    *b = n;
  }
  free(old);
}

static void set_append(rec_set *set, rec_node *n) {
  values_grow(set);
  n->prev = set->tail;
  if (set->tail)
    set->tail->next = n;
  else
    set->head = n;
  set->tail = n;
  rec_node **b = value_bucket(set, n->value);
  n->vnext = *b;
  *b = n;
  set->count++;
}

static void set_remove(rec_set *set, rec_node *n) {
  rec_node **pp = value_bucket(set, n->value);
  while (*pp != n) pp = &(*pp)->vnext;
  *pp = n->vnext;
  if (n->prev)
    n->prev->next = n->next;
  else
    set->head = n->next;
  if (n->next)
    n->next->prev = n->prev;
  else
    set->tail = n->prev;
  set->count--;
  node_free(n);
}

/* ---- the API ---- */

static int key_of(acmeh_rec_kind kind, const char *in, char *out, size_t outlen) {
  /* Tokens are case-sensitive and kept as given, '/' included: a client test
   * (CORE-C-030) hands out a token that is not base64url, and a client that
   * publishes it must be seen doing so, not stopped by the mock. Nothing
   * here becomes a file path; the responder matches the raw request path. */
  if (kind == ACMEH_REC_HTTP01) {
    if (!in || !*in || strlen(in) >= outlen) return ACMEH_INVALID_ARG;
    strcpy(out, in);
    return ACMEH_OK;
  }
  return acmeh_records_norm(in, out, outlen);
}

static int valid_value(acmeh_rec_kind kind, const char *value, const char *tag, int flags) {
  unsigned char buf[16];
  if (kind == ACMEH_REC_SERVFAIL) return 1;
  if (!value || strlen(value) > VALUE_MAX_LEN) return 0;
  switch (kind) {
  case ACMEH_REC_A: return inet_pton(AF_INET, value, buf) == 1;
  case ACMEH_REC_AAAA: return inet_pton(AF_INET6, value, buf) == 1;
  case ACMEH_REC_CNAME: {
    char tmp[NAME_MAX_LEN + 2];
    return acmeh_records_norm(value, tmp, sizeof tmp) == ACMEH_OK;
  }
  case ACMEH_REC_CAA: {
    /* RFC 8659 §4.1: tag is 1..15 ASCII letters/digits; flags one octet. */
    size_t tl = tag ? strlen(tag) : 0;
    if (tl == 0 || tl > 15 || flags < 0 || flags > 255) return 0;
    for (size_t i = 0; i < tl; i++)
      if (!isalnum((unsigned char)tag[i])) return 0;
    return 1;
  }
  default: return 1;
  }
}

/* Whether kind keeps a single record per key (a new one replaces the old). */
static int replaces(acmeh_rec_kind kind) {
  return kind == ACMEH_REC_CNAME || kind == ACMEH_REC_HTTP01 || kind == ACMEH_REC_SERVFAIL ||
         kind == ACMEH_REC_TLSALPN;
}

/* Frees every record of kind/key; caller holds the lock. Returns the count. */
static int del_locked(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  rec_set *set = set_find(r, kind, key);
  return set ? set_drop(r, set) : 0;
}

static rec_node *node_new(acmeh_rec_kind kind, const char *key, const char *value, const char *tag,
                          int flags) {
  rec_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->flags = flags;
  n->key = strdup(key);
  n->value = strdup(value ? value : "");
  n->tag = tag ? strdup(tag) : NULL;
  if (!n->key || !n->value || (tag && !n->tag)) {
    node_free(n);
    return NULL;
  }
  return n;
}

/* Files n under its kind/key, replacing or deduplicating as the kind wants;
 * takes n (freed on failure). Caller holds the lock. */
static int add_locked(acmeh_records *r, rec_node *n) {
  if (replaces(n->kind)) del_locked(r, n->kind, n->key);
  rec_set *set = set_get(r, n->kind, n->key);
  if (!set) return node_free(n), ACMEH_NOMEM;
  if ((n->kind == ACMEH_REC_A || n->kind == ACMEH_REC_AAAA) && set_find_value(set, n->value))
    node_free(n);
  else
    set_append(set, n);
  return ACMEH_OK;
}

int acmeh_records_add(acmeh_records *r, acmeh_rec_kind kind, const char *key, const char *value,
                      const char *tag, int flags) {
  char k[NAME_MAX_LEN + 2];
  if (!r || kind == ACMEH_REC_TLSALPN || kind >= ACMEH_REC_KIND_COUNT) return ACMEH_INVALID_ARG;
  if (key_of(kind, key, k, sizeof k) != ACMEH_OK || !valid_value(kind, value, tag, flags))
    return ACMEH_INVALID_ARG;
  char target[NAME_MAX_LEN + 2];
  if (kind == ACMEH_REC_CNAME) { /* store the target normalised so lookups can chase it */
    acmeh_records_norm(value, target, sizeof target);
    value = target;
  }
  rec_node *n = node_new(kind, k, value, tag, flags);
  if (!n) return ACMEH_NOMEM;
  pthread_mutex_lock(&r->mu);
  int rc = add_locked(r, n);
  pthread_mutex_unlock(&r->mu);
  return rc;
}

static rec_node *tlsalpn_node(const char *key, const char *keyauth, EVP_PKEY *key_, X509 *cert) {
  rec_node *n = node_new(ACMEH_REC_TLSALPN, key, keyauth, NULL, 0);
  if (!n) return NULL;
  EVP_PKEY_up_ref(key_);
  X509_up_ref(cert);
  n->pkey = key_;
  n->cert = cert;
  return n;
}

int acmeh_records_add_tlsalpn(acmeh_records *r, const char *host, const char *keyauth,
                              EVP_PKEY *key, X509 *cert) {
  char k[NAME_MAX_LEN + 2], rev[80];
  if (!r || !keyauth || !key || !cert || acmeh_records_norm(host, k, sizeof k) != ACMEH_OK)
    return ACMEH_INVALID_ARG;
  reverse_name(k, rev, sizeof rev);
  rec_node *n = tlsalpn_node(k, keyauth, key, cert);
  rec_node *alias = rev[0] ? tlsalpn_node(rev, keyauth, key, cert) : NULL;
  if (!n || (rev[0] && !alias)) {
    node_free(n);
    node_free(alias);
    return ACMEH_NOMEM;
  }
  pthread_mutex_lock(&r->mu);
  int rc = add_locked(r, n);
  if (alias && rc == ACMEH_OK)
    rc = add_locked(r, alias);
  else
    node_free(alias);
  pthread_mutex_unlock(&r->mu);
  return rc;
}

int acmeh_records_del(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  char k[NAME_MAX_LEN + 2], rev[80] = "";
  if (!r || key_of(kind, key, k, sizeof k) != ACMEH_OK) return 0;
  if (kind == ACMEH_REC_TLSALPN) reverse_name(k, rev, sizeof rev);
  pthread_mutex_lock(&r->mu);
  int removed = del_locked(r, kind, k);
  if (rev[0]) del_locked(r, kind, rev);
  pthread_mutex_unlock(&r->mu);
  return removed;
}

int acmeh_records_del_value(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                            const char *value) {
  char k[NAME_MAX_LEN + 2];
  if (!r || !value || key_of(kind, key, k, sizeof k) != ACMEH_OK) return 0;
  int removed = 0;
  pthread_mutex_lock(&r->mu);
  rec_set *set = set_find(r, kind, k);
  for (rec_node *n; set && (n = set_find_value(set, value)) != NULL; removed++) set_remove(set, n);
  if (set && set->count == 0) set_drop(r, set);
  pthread_mutex_unlock(&r->mu);
  return removed;
}

int acmeh_records_txn(acmeh_records *r, int (*fn)(acmeh_records *r, void *ud), void *ud) {
  if (!r || !fn) return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&r->mu);
  int rc = fn(r, ud);
  pthread_mutex_unlock(&r->mu);
  return rc;
}

int acmeh_records_each(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                       void (*fn)(const acmeh_rec *rec, void *ud), void *ud) {
  char k[NAME_MAX_LEN + 2];
  if (!r || key_of(kind, key, k, sizeof k) != ACMEH_OK) return 0;
  pthread_mutex_lock(&r->mu);
  rec_set *set = set_find(r, kind, k);
  int count = set ? (int)set->count : 0;
  for (rec_node *n = set && fn ? set->head : NULL; n; n = n->next) {
    acmeh_rec rec = {n->kind, n->key, n->value, n->tag, n->flags};
    fn(&rec, ud);
  }
  pthread_mutex_unlock(&r->mu);
  return count;
}

char *acmeh_records_get(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  char k[NAME_MAX_LEN + 2];
  char *out = NULL;
  if (!r || key_of(kind, key, k, sizeof k) != ACMEH_OK) return NULL;
  pthread_mutex_lock(&r->mu);
  rec_set *set = set_find(r, kind, k);
  if (set && set->head) out = strdup(set->head->value);
  pthread_mutex_unlock(&r->mu);
  return out;
}

int acmeh_records_has(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  return acmeh_records_each(r, kind, key, NULL, NULL) > 0;
}

int acmeh_records_has_value(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                            const char *value) {
  char k[NAME_MAX_LEN + 2];
  if (!r || !value || key_of(kind, key, k, sizeof k) != ACMEH_OK) return 0;
  pthread_mutex_lock(&r->mu);
  rec_set *set = set_find(r, kind, k);
  int found = set && set_find_value(set, value);
  pthread_mutex_unlock(&r->mu);
  return found;
}

int acmeh_records_tlsalpn(acmeh_records *r, const char *host, EVP_PKEY **key, X509 **cert) {
  char k[NAME_MAX_LEN + 2];
  int rc = ACMEH_INVALID_ARG;
  if (!r || !key || !cert || acmeh_records_norm(host, k, sizeof k) != ACMEH_OK) return rc;
  pthread_mutex_lock(&r->mu);
  rec_set *set = set_find(r, ACMEH_REC_TLSALPN, k);
  if (set && set->head) {
    EVP_PKEY_up_ref(set->head->pkey);
    X509_up_ref(set->head->cert);
    *key = set->head->pkey;
    *cert = set->head->cert;
    rc = ACMEH_OK;
  }
  pthread_mutex_unlock(&r->mu);
  return rc;
}

static int set_default(acmeh_records *r, char dst[46], int af, const char *ip) {
  unsigned char buf[16];
  if (ip && *ip && inet_pton(af, ip, buf) != 1) return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&r->mu);
  snprintf(dst, 46, "%s", ip ? ip : "");
  pthread_mutex_unlock(&r->mu);
  return ACMEH_OK;
}

static void get_default(acmeh_records *r, const char src[46], char out[46]) {
  pthread_mutex_lock(&r->mu);
  memcpy(out, src, 46);
  pthread_mutex_unlock(&r->mu);
}

int acmeh_records_set_default_ipv4(acmeh_records *r, const char *ipv4) {
  return set_default(r, r->default_ipv4, AF_INET, ipv4);
}
int acmeh_records_set_default_ipv6(acmeh_records *r, const char *ipv6) {
  return set_default(r, r->default_ipv6, AF_INET6, ipv6);
}
void acmeh_records_default_ipv4(acmeh_records *r, char out[46]) {
  get_default(r, r->default_ipv4, out);
}
void acmeh_records_default_ipv6(acmeh_records *r, char out[46]) {
  get_default(r, r->default_ipv6, out);
}
