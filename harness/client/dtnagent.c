/* The reference client's bp-nodeid-00 BP agent (dtnagent.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/dtn.h"
#include "harness/client/dtnagent.h"
#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/entity.h"

#define DTN_EPOCH 946684800.0
#define MAX_AGENTS 16
#define MAX_SEEN 32

typedef struct {
  char src[ACMEH_EID_MAX];
  uint64_t created, seq;
} bundle_id;

typedef struct agent {
  pthread_t thread;
  acmeh_tcpcl_entity *e;
  char node[ACMEH_EID_MAX], id_chal[64], tail[160];
  unsigned char id_raw[ACMEH_DTN_MAX_BSTR];
  size_t id_len;
  unsigned record_type;
  atomic_int stop;
  bundle_id seen[MAX_SEEN]; /* §3: one Response Bundle per Challenge Bundle (source + timestamp) */
  int nseen;
} agent;

static pthread_mutex_t agents_mu = PTHREAD_MUTEX_INITIALIZER;
static agent *agents[MAX_AGENTS];

static int seen_before(agent *a, const acmeh_bundle *b) {
  for (int i = 0; i < a->nseen; i++)
    if (strcmp(a->seen[i].src, b->src) == 0 && a->seen[i].created == b->created_ms && a->seen[i].seq == b->seq) return 1;
  bundle_id *s = &a->seen[a->nseen < MAX_SEEN ? a->nseen++ : MAX_SEEN - 1];
  snprintf(s->src, sizeof s->src, "%s", b->src), s->created = b->created_ms, s->seq = b->seq;
  return 0;
}

/* §3.3.1: the checks that make the agent ignore a Challenge Bundle. */
static int acceptable(agent *a, const acmeh_bundle *b, const acmeh_dtn_record *r, uint64_t now_ms) {
  if (!(b->flags & ACMEH_BPF_ADMIN_RECORD) || !(b->flags & ACMEH_BPF_USER_APP_ACK)) return 0;
  if (r->type_code != a->record_type || !(r->keys & 2) || !(r->keys & 4) || !(r->keys & 16)) return 0;
  if (r->id_chal_len != a->id_len || memcmp(r->id_chal, a->id_raw, a->id_len) != 0 || r->token_bundle_len < 16) return 0;
  if (b->created_ms && (now_ms < b->created_ms || now_ms > b->created_ms + b->lifetime_ms)) return 0; /* outside its window */
  for (size_t i = 0; i < r->alg_count; i++) /* §3 step 7: the first alg of the server's list it supports */
    if (r->algs[i] == ACMEH_DTN_ALG_SHA256) return 1;
  return 0;
}

static void answer(agent *a, const acmeh_bundle *b, const acmeh_dtn_record *r, uint64_t now_ms) {
  char *tb = acmeh_b64url_encode(r->token_bundle, r->token_bundle_len);
  char *ka = NULL; /* token-bundle || token-chal "." thumbprint (the tail) */
  if (tb && asprintf(&ka, "%s%s", tb, a->tail) < 0) ka = NULL;
  acmeh_dtn_record resp = {.type_code = a->record_type, .keys = 2 | 4 | 8, .digest_alg = ACMEH_DTN_ALG_SHA256, .digest_len = 32};
  int ok = ka && acmeh_dtn_digest_sha256(ka, resp.digest) == ACMEH_OK;
  free(tb), free(ka);
  memcpy(resp.id_chal, r->id_chal, r->id_chal_len), resp.id_chal_len = r->id_chal_len;
  memcpy(resp.token_bundle, r->token_bundle, r->token_bundle_len), resp.token_bundle_len = r->token_bundle_len;
  /* §3.4: to the challenge's source, from its destination; the lifetime is what is left of the window. */
  uint64_t end = b->created_ms + b->lifetime_ms;
  acmeh_bundle out = {.flags = ACMEH_BPF_ADMIN_RECORD, .created_ms = now_ms, .lifetime_ms = b->created_ms && end > now_ms ? end - now_ms : b->lifetime_ms};
  snprintf(out.dest, sizeof out.dest, "%s", b->src);
  snprintf(out.src, sizeof out.src, "%s", b->dest);
  unsigned char *bytes = NULL;
  size_t len = 0;
  char msg[200];
  if (ok && acmeh_dtn_record_encode(&resp, &out.payload, &out.payload_len) == ACMEH_OK && acmeh_bundle_encode(&out, &bytes, &len) == ACMEH_OK)
    acmeh_tcpcl_entity_send(a->e, bytes, len, 2000, msg, sizeof msg);
  free(bytes), free(out.payload);
}

static void *agent_main(void *arg) {
  agent *a = arg;
  while (!atomic_load(&a->stop)) {
    unsigned char *got = NULL;
    size_t len = 0;
    char msg[200];
    int rc = acmeh_tcpcl_entity_recv(a->e, 100, &got, &len, msg, sizeof msg);
    if (rc == ACMEH_PEER_TIMEOUT) continue;
    if (rc) break; /* the session ended */
    acmeh_bundle b;
    acmeh_dtn_record r;
    uint64_t now = (uint64_t)((acmeh_now_wall() - DTN_EPOCH) * 1000.0);
    if (acmeh_bundle_decode(got, len, &b, msg, sizeof msg) == ACMEH_OK &&
        acmeh_dtn_record_decode(b.payload, b.payload_len, &r, msg, sizeof msg) == ACMEH_OK && acceptable(a, &b, &r, now) && !seen_before(a, &b))
      answer(a, &b, &r, now);
    acmeh_bundle_clear(&b);
    free(got);
  }
  return NULL;
}

int acmeh_dtnagent_start(int port, const char *node_id, const char *id_chal, const char *tail, unsigned record_type, char *err, size_t errlen) {
  if (port <= 0 || !node_id || !id_chal || !tail || strlen(id_chal) >= 64 || strlen(tail) >= 160 || strlen(node_id) >= ACMEH_EID_MAX)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "bp-nodeid-00 agent: no bundle node, or a bad id-chal / Node ID");
  agent *a = calloc(1, sizeof *a);
  unsigned char *raw = NULL;
  if (!a) return ACMEH_NOMEM;
  if (acmeh_b64url_decode(id_chal, strlen(id_chal), &raw, &a->id_len) != ACMEH_OK || a->id_len > sizeof a->id_raw) {
    free(raw), free(a);
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "id-chal \"%.60s\" is not base64url (RFC 9891 §3.1)", id_chal);
  }
  memcpy(a->id_raw, raw, a->id_len), free(raw);
  snprintf(a->node, sizeof a->node, "%s", node_id), snprintf(a->id_chal, sizeof a->id_chal, "%s", id_chal), snprintf(a->tail, sizeof a->tail, "%s", tail);
  a->record_type = record_type ? record_type : ACMEH_DTN_RECORD_TYPE;
  int rc = acmeh_tcpcl_entity_connect("127.0.0.1", port, node_id, 2000, &a->e, err, errlen);
  if (rc == ACMEH_OK && pthread_create(&a->thread, NULL, agent_main, a) != 0) rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "bp-nodeid-00 agent: no thread");
  pthread_mutex_lock(&agents_mu);
  int slot = -1;
  for (int i = 0; rc == ACMEH_OK && i < MAX_AGENTS && slot < 0; i++)
    if (!agents[i]) slot = i, agents[i] = a;
  pthread_mutex_unlock(&agents_mu);
  if (rc == ACMEH_OK && slot < 0) { /* more agents than slots: stop this one */
    atomic_store(&a->stop, 1), pthread_join(a->thread, NULL);
    rc = acmeh_msg(err, errlen, ACMEH_INTERNAL, "more than %d bp-nodeid-00 agents at once", MAX_AGENTS);
  }
  if (rc) acmeh_tcpcl_entity_close(a->e), free(a);
  return rc;
}

void acmeh_dtnagent_stop(const char *id_chal) {
  agent *a = NULL;
  pthread_mutex_lock(&agents_mu);
  for (int i = 0; id_chal && i < MAX_AGENTS && !a; i++)
    if (agents[i] && strcmp(agents[i]->id_chal, id_chal) == 0) a = agents[i], agents[i] = NULL;
  pthread_mutex_unlock(&agents_mu);
  if (!a) return;
  atomic_store(&a->stop, 1);
  pthread_join(a->thread, NULL);
  acmeh_tcpcl_entity_close(a->e);
  free(a);
}
