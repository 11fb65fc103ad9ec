/* Answers that wait a moment for a job. A challenge response starts a
 * validation and a finalize starts an issuance, both on the thread pool;
 * against loopback responders either usually ends within a millisecond or
 * two. Answering "processing" with Retry-After: 1 at once would make a
 * client that honours Retry-After sleep a whole second for nothing, so the
 * answer waits (on a loop timer, the loop keeps serving) up to SRV_WAIT_MS
 * for the job and then tells the state at that time: "valid" when the job
 * made it, else still "processing" with Retry-After. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/server/internal.h"

struct srv_wait {
  srv_wait *prev, *next;
  acmeh_server *s;
  uv_timer_t timer;
  acmeh_httpsrv_later *later;
  acmeh_httpsrv_req http; /* the request, copied: the connection's buffers move on */
  acmeh_httpsrv_header *headers;
  char *method, *target, *host, *body;
  srv_req rq;
  char acct[SRV_ID_CHARS + 1]; /* re-read at the end: the account may be evicted meanwhile */
  srv_resp rs;
  srv_outcome oc;
};

void srv_wait_answer(acmeh_server *s, srv_resp *rs) {
  srv_wait_on on = rs->wait;
  rs->wait.kind = SRV_WAIT_NONE;
  if (on.kind == SRV_WAIT_CHALLENGE) srv_chal_answer(s, rs, on.id, on.idx);
  else if (on.kind == SRV_WAIT_ORDER) srv_order_answer(s, rs, on.id);
}

/* Whether the job the answer would wait for is still running. */
static int busy(acmeh_server *s, const srv_wait_on *on) {
  if (on->kind == SRV_WAIT_CHALLENGE) {
    srv_authz *a = srv_authz_get(s, on->id);
    return a && on->idx >= 0 && on->idx < a->nchal && a->chal[on->idx].status == CH_PROCESSING;
  }
  srv_order *o = on->kind == SRV_WAIT_ORDER ? srv_order_get(s, on->id) : NULL;
  return o && o->status == ORD_PROCESSING;
}

static char *dup_bytes(const char *p, size_t n) {
  char *d = malloc(n + 1);
  if (d) memcpy(d, p, n), d[n] = '\0';
  return d;
}

static void free_copy(srv_wait *w) {
  for (size_t i = 0; w->headers && i < w->http.nheaders; i++) {
    free((char *)w->headers[i].name);
    free((char *)w->headers[i].value);
  }
  free(w->headers);
  free(w->method), free(w->target), free(w->host), free(w->body);
}

/* Deep copy of req into w->http. Returns 0 when out of memory. */
static int copy_request(srv_wait *w, const acmeh_httpsrv_req *req) {
  w->method = strdup(req->method);
  w->target = strdup(req->url);
  w->host = strdup(req->host);
  w->body = dup_bytes(req->body, req->body_len);
  w->headers = calloc(req->nheaders ? req->nheaders : 1, sizeof *w->headers);
  int ok = w->method && w->target && w->host && w->body && w->headers;
  for (size_t i = 0; ok && i < req->nheaders; i++) {
    w->headers[i].name = strdup(req->headers[i].name);
    w->headers[i].value = strdup(req->headers[i].value);
    ok = w->headers[i].name && w->headers[i].value;
  }
  w->http = (acmeh_httpsrv_req){w->method, w->target, w->host, w->body, req->body_len, w->headers, req->nheaders};
  return ok;
}

static void unlink_wait(srv_wait *w) {
  if (w->prev) w->prev->next = w->next;
  else w->s->waits = w->next;
  if (w->next) w->next->prev = w->prev;
}

static void free_wait(uv_handle_t *h) {
  srv_wait *w = h->data;
  free_copy(w);
  free(w);
}

/* Builds the answer from the state now and sends it. */
static void wait_end(srv_wait *w) {
  acmeh_server *s = w->s;
  unlink_wait(w);
  uv_timer_stop(&w->timer);
  w->rq.acct = srv_account_get(s, w->acct);
  srv_wait_answer(s, &w->rs);
  acmeh_httpsrv_resp out = {200, NULL, NULL, 0, NULL, 0, ACMEH_HTTPSRV_SEND};
  srv_respond(s, &w->rq, &w->rs, &w->oc, &out);
  acmeh_httpsrv_finish(w->later, &out);
  free(out.body);
  free(out.headers);
  srv_outcome_free(&w->oc);
  free(w->rq.url), free(w->rq.path);
  uv_close((uv_handle_t *)&w->timer, free_wait);
}

static void on_timeout(uv_timer_t *t) { wait_end(t->data); }

/* Takes the request's parts that the end of the exchange reads. */
static void take_request(srv_wait *w, srv_req *rq) {
  w->rq = (srv_req){.s = rq->s, .http = &w->http, .is_post = rq->is_post, .url = rq->url, .path = rq->path,
                    .query = "", .post_as_get = rq->post_as_get, .verified = rq->verified, .resource = rq->resource};
  memcpy(w->rq.jwk_thumb, rq->jwk_thumb, sizeof w->rq.jwk_thumb);
  if (rq->acct) memcpy(w->acct, rq->acct->e.id, sizeof w->acct);
  rq->url = rq->path = NULL;
}

int srv_wait_begin(acmeh_server *s, srv_req *rq, srv_resp *rs, srv_outcome *oc) {
  if (s->stopping || !busy(s, &rs->wait)) return 0;
  srv_wait *w = calloc(1, sizeof *w);
  if (!w) return 0;
  if (!copy_request(w, rq->http) || !(w->later = acmeh_httpsrv_defer(s->http))) {
    free_copy(w);
    free(w);
    return 0;
  }
  w->s = s;
  take_request(w, rq);
  w->rs = *rs, w->oc = *oc;
  memset(rs, 0, sizeof *rs), memset(oc, 0, sizeof *oc);
  uv_timer_init(&s->loop, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, on_timeout, SRV_WAIT_MS, 0);
  w->next = s->waits;
  if (s->waits) s->waits->prev = w;
  s->waits = w;
  return 1;
}

void srv_wait_wake(acmeh_server *s, srv_wait_kind kind, const char *id) {
  for (srv_wait *w = s->waits, *next; w; w = next) {
    next = w->next;
    if (w->rs.wait.kind == kind && strcmp(w->rs.wait.id, id) == 0) wait_end(w);
  }
}

void srv_wait_stop_all(acmeh_server *s) {
  while (s->waits) wait_end(s->waits);
}
