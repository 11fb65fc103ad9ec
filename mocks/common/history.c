#include "mocks/common/history.h"

#include "base/clock.h"
#include "mocks/common/records.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 256 /* longest name kept in a slot, NUL included */

/* One entry: either a caller's JSON (entry != NULL, name = normalised key) or
 * a compact DNS question (entry == NULL, name = qname as received). Compact
 * slots keep the mock DNS's per-query cost free of JSON and malloc: building
 * and freeing a JSON object per answer was ~18% of its CPU under load. */
typedef struct {
  json_t *entry;
  json_int_t time_ms;
  unsigned long long seq; /* 1, 2, ... in the order added (acmeh_history_since) */
  int qtype, qclass, answers;
  char proto[4];
  char qtype_str[16];
  char rcode[12];
  char name[NAME_LEN];
} slot;

/* Per kind a ring of slots, grown on demand up to the cap. While it holds
 * fewer than cap entries they sit at [0, n) (head 0): only a full ring wraps,
 * and clearing compacts back to the front. */
typedef struct {
  slot *s;
  size_t alloc, head, n;
} ring;

struct acmeh_history {
  pthread_mutex_t mu;
  size_t cap;
  unsigned long long last_seq;
  ring rings[ACMEH_HIST_KIND_COUNT];
};

acmeh_history *acmeh_history_new(size_t cap_per_kind) {
  acmeh_history *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  pthread_mutex_init(&h->mu, NULL);
  h->cap = cap_per_kind ? cap_per_kind : 10000;
  return h;
}

static slot *at(ring *r, size_t i) { return &r->s[(r->head + i) % r->alloc]; }

void acmeh_history_free(acmeh_history *h) {
  if (!h) return;
  for (int k = 0; k < ACMEH_HIST_KIND_COUNT; k++) {
    ring *r = &h->rings[k];
    for (size_t i = 0; i < r->n; i++)
      json_decref(at(r, i)->entry);
    free(r->s);
  }
  pthread_mutex_destroy(&h->mu);
  free(h);
}

int acmeh_history_kind(const char *name) {
  static const char *names[ACMEH_HIST_KIND_COUNT] = {"http", "dns", "tlsalpn", "mgmt"};
  for (int i = 0; name && i < ACMEH_HIST_KIND_COUNT; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

/* Normalised filing key; "" for names that do not normalise (e.g. no SNI). */
static void norm_key(const char *key, char out[256]) {
  if (!key || acmeh_records_norm(key, out, 256) != 0) out[0] = '\0';
}

/* The slot for a new newest entry (the oldest one's, released, when full);
 * NULL when out of memory. Caller holds the mutex. */
static slot *next_slot(acmeh_history *h, ring *r) {
  if (r->n == h->cap) {
    slot *s = at(r, 0);
    json_decref(s->entry);
    r->head = (r->head + 1) % r->alloc;
    r->n--;
    s = at(r, r->n++);
    s->seq = ++h->last_seq;
    return s;
  }
  if (r->n == r->alloc) { /* head is 0 here: see ring */
    size_t alloc = r->alloc ? r->alloc * 2 : 64;
    if (alloc > h->cap) alloc = h->cap;
    slot *s = realloc(r->s, alloc * sizeof *s);
    if (!s) return NULL;
    r->s = s;
    r->alloc = alloc;
  }
  slot *s = &r->s[r->n++];
  s->seq = ++h->last_seq;
  return s;
}

static json_int_t now_ms(void) { return (json_int_t)(acmeh_now_wall() * 1000.0); }

void acmeh_history_add(acmeh_history *h, acmeh_hist_kind kind, const char *key, json_t *entry) {
  if (!h || !entry || kind >= ACMEH_HIST_KIND_COUNT) {
    json_decref(entry);
    return;
  }
  json_int_t t = now_ms();
  json_object_set_new(entry, "time_ms", json_integer(t));
  pthread_mutex_lock(&h->mu);
  slot *s = next_slot(h, &h->rings[kind]);
  if (s) {
    s->entry = entry;
    s->time_ms = t;
    norm_key(key, s->name);
  }
  pthread_mutex_unlock(&h->mu);
  if (!s) json_decref(entry);
}

/* The JSON entry of a compact slot, keys in the order JSON entries had. */
static json_t *dns_entry(const char *proto, const char *qname, const char *qtype, int qtype_num,
                         int qclass, const char *rcode, int answers) {
  return json_pack("{s:s, s:s, s:s, s:s, s:i, s:{s:s, s:i, s:i}}", "qname", qname, "qtype", qtype, "proto",
                   proto, "rcode", rcode ? rcode : "", "answers", answers, "Question", "Name", qname, "Qtype",
                   qtype_num, "Qclass", qclass);
}

void acmeh_history_add_dns(acmeh_history *h, const acmeh_hist_dns *q) {
  if (!h || !q || !q->proto || !q->qname || !q->qtype) return;
  if (strlen(q->qname) >= NAME_LEN || strlen(q->proto) >= 4 || strlen(q->qtype) >= 16) {
    /* too long for a slot (escaped binary labels): the general path */
    json_t *e = dns_entry(q->proto, q->qname, q->qtype, q->qtype_num, q->qclass, q->rcode, q->answers);
    if (e) acmeh_history_add(h, ACMEH_HIST_DNS, q->qname, e);
    return;
  }
  json_int_t t = now_ms();
  pthread_mutex_lock(&h->mu);
  slot *s = next_slot(h, &h->rings[ACMEH_HIST_DNS]);
  if (s) {
    s->entry = NULL;
    s->time_ms = t;
    s->qtype = q->qtype_num;
    s->qclass = q->qclass;
    s->answers = q->answers;
    snprintf(s->rcode, sizeof s->rcode, "%s", q->rcode ? q->rcode : "");
    strcpy(s->proto, q->proto); /* lengths checked above */
    strcpy(s->qtype_str, q->qtype);
    strcpy(s->name, q->qname);
  }
  pthread_mutex_unlock(&h->mu);
}

/* Does the slot sit under normalised key k (NULL = any)? */
static int matches(const slot *s, const char *k) {
  if (!k) return 1;
  if (s->entry) return strcmp(s->name, k) == 0;
  char sk[256];
  norm_key(s->name, sk);
  return strcmp(sk, k) == 0;
}

/* A new JSON copy of a slot's entry: the caller may hold it after the loop
 * thread moved on. */
static json_t *slot_json(const slot *s) {
  if (s->entry) return json_deep_copy(s->entry);
  json_t *e = dns_entry(s->proto, s->name, s->qtype_str, s->qtype, s->qclass, s->rcode, s->answers);
  if (e) json_object_set_new(e, "time_ms", json_integer(s->time_ms));
  return e;
}

json_t *acmeh_history_get(acmeh_history *h, acmeh_hist_kind kind, const char *key) {
  char k[256];
  if (!h || kind >= ACMEH_HIST_KIND_COUNT) return NULL;
  if (key) norm_key(key, k);
  json_t *out = json_array();
  if (!out) return NULL;
  pthread_mutex_lock(&h->mu);
  ring *r = &h->rings[kind];
  for (size_t i = 0; i < r->n; i++)
    if (matches(at(r, i), key ? k : NULL)) json_array_append_new(out, slot_json(at(r, i)));
  pthread_mutex_unlock(&h->mu);
  return out;
}

json_t *acmeh_history_since(acmeh_history *h, acmeh_hist_kind kind, unsigned long long *after) {
  if (!h || kind >= ACMEH_HIST_KIND_COUNT) return NULL;
  json_t *out = json_array();
  if (!out) return NULL;
  pthread_mutex_lock(&h->mu);
  ring *r = &h->rings[kind];
  size_t first = r->n; /* walk back from the newest: only the new ones are visited */
  while (first > 0 && at(r, first - 1)->seq > *after) first--;
  for (size_t i = first; i < r->n; i++) json_array_append_new(out, slot_json(at(r, i)));
  if (r->n) *after = at(r, r->n - 1)->seq > *after ? at(r, r->n - 1)->seq : *after;
  pthread_mutex_unlock(&h->mu);
  return out;
}

void acmeh_history_clear(acmeh_history *h, acmeh_hist_kind kind, const char *key) {
  char k[256];
  if (!h || kind >= ACMEH_HIST_KIND_COUNT) return;
  if (key) norm_key(key, k);
  pthread_mutex_lock(&h->mu);
  ring *r = &h->rings[kind];
  size_t kept = 0;
  slot *tmp = r->n ? malloc(r->n * sizeof *tmp) : NULL;
  for (size_t i = 0; tmp && i < r->n; i++) { /* survivors, oldest first, to the front */
    slot *s = at(r, i);
    if (matches(s, key ? k : NULL))
      json_decref(s->entry);
    else
      tmp[kept++] = *s;
  }
  if (tmp) {
    memcpy(r->s, tmp, kept * sizeof *tmp);
    r->head = 0;
    r->n = kept;
  }
  free(tmp);
  pthread_mutex_unlock(&h->mu);
}
