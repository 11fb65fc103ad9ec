#include "mocks/common/records.h"

#include "harness/core/error.h"

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
  struct rec_node *next;
} rec_node;

struct acmeh_records {
  pthread_mutex_t mu;
  rec_node *head, *tail; /* insertion order, so TXT/A answers keep the order given */
  char default_ipv4[46];
  char default_ipv6[46];
};

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
  /* Recursive so acmeh_records_txn's callback can use the ordinary API. */
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&r->mu, &attr);
  pthread_mutexattr_destroy(&attr);
  if (acmeh_records_set_default_ipv4(r, default_ipv4) != ACMEH_OK) {
    acmeh_records_free(r);
    return NULL;
  }
  return r;
}

void acmeh_records_free(acmeh_records *r) {
  if (!r) return;
  for (rec_node *n = r->head, *next; n; n = next) {
    next = n->next;
    node_free(n);
  }
  pthread_mutex_destroy(&r->mu);
  free(r);
}

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

/* Unlinks and frees every node of kind/key; caller holds the lock. */
static int del_locked(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  int removed = 0;
  rec_node **pp = &r->head, *prev = NULL;
  while (*pp) {
    rec_node *n = *pp;
    if (n->kind == kind && strcmp(n->key, key) == 0) {
      *pp = n->next;
      node_free(n);
      removed++;
    } else {
      prev = n;
      pp = &n->next;
    }
  }
  r->tail = prev;
  return removed;
}

static int exists_locked(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                         const char *value) {
  for (rec_node *n = r->head; n; n = n->next)
    if (n->kind == kind && strcmp(n->key, key) == 0 && (!value || strcmp(n->value, value) == 0))
      return 1;
  return 0;
}

static void append_locked(acmeh_records *r, rec_node *n) {
  if (r->tail)
    r->tail->next = n;
  else
    r->head = n;
  r->tail = n;
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
  if (replaces(kind)) del_locked(r, kind, k);
  if ((kind == ACMEH_REC_A || kind == ACMEH_REC_AAAA) && exists_locked(r, kind, k, value)) {
    node_free(n);
  } else {
    append_locked(r, n);
  }
  pthread_mutex_unlock(&r->mu);
  return ACMEH_OK;
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
  del_locked(r, ACMEH_REC_TLSALPN, k);
  append_locked(r, n);
  if (alias) {
    del_locked(r, ACMEH_REC_TLSALPN, rev);
    append_locked(r, alias);
  }
  pthread_mutex_unlock(&r->mu);
  return ACMEH_OK;
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
  rec_node **pp = &r->head, *prev = NULL;
  while (*pp) {
    rec_node *n = *pp;
    if (n->kind == kind && strcmp(n->key, k) == 0 && strcmp(n->value, value) == 0) {
      *pp = n->next;
      node_free(n);
      removed++;
    } else {
      prev = n;
      pp = &n->next;
    }
  }
  r->tail = prev;
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
  int count = 0;
  pthread_mutex_lock(&r->mu);
  for (rec_node *n = r->head; n; n = n->next) {
    if (n->kind != kind || strcmp(n->key, k) != 0) continue;
    acmeh_rec rec = {n->kind, n->key, n->value, n->tag, n->flags};
    if (fn) fn(&rec, ud);
    count++;
  }
  pthread_mutex_unlock(&r->mu);
  return count;
}

char *acmeh_records_get(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  char k[NAME_MAX_LEN + 2];
  char *out = NULL;
  if (!r || key_of(kind, key, k, sizeof k) != ACMEH_OK) return NULL;
  pthread_mutex_lock(&r->mu);
  for (rec_node *n = r->head; n; n = n->next) {
    if (n->kind == kind && strcmp(n->key, k) == 0) {
      out = strdup(n->value);
      break;
    }
  }
  pthread_mutex_unlock(&r->mu);
  return out;
}

int acmeh_records_has(acmeh_records *r, acmeh_rec_kind kind, const char *key) {
  return acmeh_records_each(r, kind, key, NULL, NULL) > 0;
}

int acmeh_records_tlsalpn(acmeh_records *r, const char *host, EVP_PKEY **key, X509 **cert) {
  char k[NAME_MAX_LEN + 2];
  int rc = ACMEH_INVALID_ARG;
  if (!r || !key || !cert || acmeh_records_norm(host, k, sizeof k) != ACMEH_OK) return rc;
  pthread_mutex_lock(&r->mu);
  for (rec_node *n = r->head; n; n = n->next) {
    if (n->kind == ACMEH_REC_TLSALPN && strcmp(n->key, k) == 0) {
      EVP_PKEY_up_ref(n->pkey);
      X509_up_ref(n->cert);
      *key = n->pkey;
      *cert = n->cert;
      rc = ACMEH_OK;
      break;
    }
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
