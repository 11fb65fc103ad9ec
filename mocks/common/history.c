#include "mocks/common/history.h"

#include "harness/core/clock.h"
#include "mocks/common/records.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Each kind is one JSON array of {"key": ..., "entry": {...}} wrappers; the
 * wrapper keeps the filing key out of the entry the caller sees. */
struct acmeh_history {
  pthread_mutex_t mu;
  size_t cap;
  json_t *lists[ACMEH_HIST_KIND_COUNT];
};

acmeh_history *acmeh_history_new(size_t cap_per_kind) {
  acmeh_history *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  pthread_mutex_init(&h->mu, NULL);
  h->cap = cap_per_kind ? cap_per_kind : 10000;
  for (int i = 0; i < ACMEH_HIST_KIND_COUNT; i++) {
    h->lists[i] = json_array();
    if (!h->lists[i]) {
      acmeh_history_free(h);
      return NULL;
    }
  }
  return h;
}

void acmeh_history_free(acmeh_history *h) {
  if (!h) return;
  for (int i = 0; i < ACMEH_HIST_KIND_COUNT; i++)
    json_decref(h->lists[i]);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

int acmeh_history_kind(const char *name) {
  static const char *names[ACMEH_HIST_KIND_COUNT] = {"http", "dns", "tlsalpn"};
  for (int i = 0; name && i < ACMEH_HIST_KIND_COUNT; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

/* Normalised filing key; "" for names that do not normalise (e.g. no SNI). */
static void norm_key(const char *key, char out[256]) {
  if (!key || acmeh_records_norm(key, out, 256) != 0) out[0] = '\0';
}

/* Makes room in a full list by dropping its oldest eighth at once (the header
 * promises "at most cap", not exactly cap). Removing one entry from the front
 * of a jansson array moves all the others: one per DNS answer made each answer
 * cost O(cap) under load (17% of the mock DNS's time in `ci/bench dns`). */
static void make_room(acmeh_history *h, acmeh_hist_kind kind) {
  json_t *list = h->lists[kind];
  size_t n = json_array_size(list);
  if (n < h->cap) return;
  size_t keep = h->cap - 1 - h->cap / 8, from = n - keep;
  json_t *kept = json_array();
  if (!kept) { /* out of memory: fall back to the slow single removal */
    json_array_remove(list, 0);
    return;
  }
  for (size_t i = from; i < n; i++)
    json_array_append(kept, json_array_get(list, i));
  json_decref(list);
  h->lists[kind] = kept;
}

void acmeh_history_add(acmeh_history *h, acmeh_hist_kind kind, const char *key, json_t *entry) {
  char k[256];
  if (!h || !entry || kind >= ACMEH_HIST_KIND_COUNT) {
    json_decref(entry);
    return;
  }
  norm_key(key, k);
  json_object_set_new(entry, "time_ms", json_integer((json_int_t)(acmeh_now_wall() * 1000.0)));
  json_t *wrap = json_pack("{s:s, s:o}", "key", k, "entry", entry);
  if (!wrap) return; /* json_pack stole entry even on failure ("o") */
  pthread_mutex_lock(&h->mu);
  make_room(h, kind);
  json_array_append_new(h->lists[kind], wrap);
  pthread_mutex_unlock(&h->mu);
}

static int matches(json_t *wrap, const char *k) {
  return !k || strcmp(json_string_value(json_object_get(wrap, "key")), k) == 0;
}

json_t *acmeh_history_get(acmeh_history *h, acmeh_hist_kind kind, const char *key) {
  char k[256];
  if (!h || kind >= ACMEH_HIST_KIND_COUNT) return NULL;
  if (key) norm_key(key, k);
  json_t *out = json_array();
  if (!out) return NULL;
  pthread_mutex_lock(&h->mu);
  size_t i;
  json_t *wrap;
  json_array_foreach(h->lists[kind], i, wrap) {
    /* Deep copies: the caller may hold them after the loop thread moved on. */
    if (matches(wrap, key ? k : NULL))
      json_array_append_new(out, json_deep_copy(json_object_get(wrap, "entry")));
  }
  pthread_mutex_unlock(&h->mu);
  return out;
}

void acmeh_history_clear(acmeh_history *h, acmeh_hist_kind kind, const char *key) {
  char k[256];
  if (!h || kind >= ACMEH_HIST_KIND_COUNT) return;
  if (key) norm_key(key, k);
  pthread_mutex_lock(&h->mu);
  json_t *list = h->lists[kind];
  for (size_t i = json_array_size(list); i-- > 0;)
    if (matches(json_array_get(list, i), key ? k : NULL)) json_array_remove(list, i);
  pthread_mutex_unlock(&h->mu);
}
