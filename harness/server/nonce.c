/* Replay nonces (RFC 8555 §6.5): 128 random bits in base64url, each good for
 * one request. Issued nonces sit in a ring of `cap` slots and a tsearch tree
 * for lookup; the oldest is forgotten when the ring wraps, so the store is
 * bounded however many nonces a client asks for. */
#include <openssl/rand.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/server/internal.h"

struct srv_nonces {
  char **ring; /* owns the strings; a redeemed one is emptied ("") but stays until overwritten */
  size_t cap, next;
  void *live; /* tree of the ring's unredeemed strings */
};

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

srv_nonces *srv_nonces_new(size_t cap) {
  srv_nonces *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->cap = cap ? cap : 1;
  n->ring = calloc(n->cap, sizeof *n->ring);
  if (!n->ring) {
    free(n);
    return NULL;
  }
  return n;
}

static void forget(srv_nonces *n, size_t slot) {
  char *old = n->ring[slot];
  if (old && *old) tdelete(old, &n->live, cmp);
  free(old);
  n->ring[slot] = NULL;
}

void srv_nonces_free(srv_nonces *n) {
  if (!n) return;
  for (size_t i = 0; i < n->cap; i++) forget(n, i);
  free(n->ring);
  free(n);
}

char *srv_nonce_issue(srv_nonces *n) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return NULL;
  char *v = acmeh_b64url_encode(raw, sizeof raw);
  char *copy = v ? strdup(v) : NULL;
  if (!copy) {
    free(v);
    return NULL;
  }
  forget(n, n->next);
  n->ring[n->next] = v;
  n->next = (n->next + 1) % n->cap;
  if (!tsearch(v, &n->live, cmp)) *v = '\0'; /* untracked: it will simply be refused */
  return copy;
}

int srv_nonce_redeem(srv_nonces *n, const char *nonce) {
  if (!nonce || !*nonce) return 0;
  void *hit = tfind(nonce, &n->live, cmp);
  if (!hit) return 0;
  char *stored = *(char **)hit;
  tdelete(stored, &n->live, cmp);
  *stored = '\0'; /* used: the ring slot stays owned until overwritten */
  return 1;
}
