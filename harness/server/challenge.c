/* Challenge responses (RFC 8555 §7.5.1): the POST that starts a validation,
 * the validation job on libuv's thread pool (validate.c does the network
 * work), and the state changes its result causes on the loop thread (§7.1.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/internal.h"

typedef struct {
  char authz[SRV_ID_CHARS + 1];
  int idx;
  srv_validation v;
  json_t *result; /* NULL = valid, else the problem */
  char *chal_url; /* for the validation observer */
  uint64_t arrived_ns, started_ns, ended_ns; /* uv_hrtime: response arrived, lookup began and ended */
} job;

int srv_dnsacct_mode_parse(const char *name) {
  static const char *const names[] = {"off",     "on",           "dns01-name", "label-20-bytes", "any-account-label",
                                      "any-txt", "wildcard-star", "bare-error", "no-cname",       "short-token"};
  if (!name) return DNSACCT_ON;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0) return (int)i; /* same order as srv_dnsacct_mode */
  return -1;
}

static void job_free(job *j) {
  for (size_t i = 0; i < j->v.nother; i++) free(j->v.other_urls[i]);
  free(j->v.other_urls);
  free(j->v.account_url);
  free(j->v.dns_addr);
  free(j->v.name);
  free(j->v.token);
  free(j->v.keyauth);
  srv_atc_inputs_free(&j->v);
  free(j->v.proof);
  free(j->v.att_obj);
  if (j->v.att_out) free(j->v.att_out->spki);
  free(j->v.att_out);
  free(j->v.csr);
  json_decref(j->result);
  free(j->chal_url);
  free(j);
}

static void job_work(void *arg) {
  job *j = arg;
  j->started_ns = uv_hrtime();
  j->result = srv_validate(&j->v);
  j->ended_ns = uv_hrtime();
}

/* Tells the validation observer what the lookup found and when, before the
 * result moves into the challenge. */
static void report(acmeh_server *s, const job *j, int cancelled) {
  srv_validation_report r = {.challenge_url = j->chal_url, .type = srv_chal_type_name(j->v.type), .identifier = j->v.name,
                             .arrived_ns = j->arrived_ns, .started_ns = j->started_ns, .ended_ns = j->ended_ns,
                             .cancelled = cancelled, .result = j->result};
  srv_observe_validation(s, &r);
}

/* a's key in its account's valid-authorization index. */
static void index_key(const srv_authz *a, char key[300]) {
  snprintf(key, 300, "%s%s", a->wildcard ? "*." : "", a->value);
}

/* Called when a is evicted, so the index holds live authorizations only:
 * an account that stops ordering must not keep thousands of dead entries. */
void srv_authz_unindex(acmeh_server *s, const srv_authz *a) {
  srv_account *acct = srv_account_get(s, a->account);
  char key[300];
  index_key(a, key);
  const char *id = acct ? json_string_value(json_object_get(acct->valid_authz, key)) : NULL;
  if (!id || strcmp(id, a->e.id) != 0) return;
  json_object_del(acct->valid_authz, key);
  /* jansson's table keeps its peak size: an account that ordered thousands
   * and went quiet would hold it for good, and every new account of a
   * long-running server would add one. A copy is sized to what is left. */
  size_t n = json_object_size(acct->valid_authz);
  json_t *smaller = acct->valid_authz_peak >= 64 && n * 4 < acct->valid_authz_peak ? json_copy(acct->valid_authz) : NULL;
  if (smaller) {
    json_decref(acct->valid_authz);
    acct->valid_authz = smaller;
    acct->valid_authz_peak = n;
  }
}

static void mark_valid(acmeh_server *s, srv_authz *a, srv_chal *c) {
  c->status = CH_VALID;
  c->validated = acmeh_now_wall();
  if (a->status != AZ_PENDING) return; /* deactivated meanwhile: stays so */
  a->status = AZ_VALID;
  a->expires = c->validated + SRV_AUTHZ_LIFETIME;
  srv_account *acct = srv_account_get(s, a->account);
  /* a key's authorization is not reused: each order proves possession anew */
  if (!acct || srv_is_key_ident(a->value)) return;
  char key[300];
  index_key(a, key);
  json_object_set_new(acct->valid_authz, key, json_string(a->e.id)); /* for reuse and revocation */
  size_t n = json_object_size(acct->valid_authz);
  if (n > acct->valid_authz_peak) acct->valid_authz_peak = n;
}

static void job_done(acmeh_server *s, void *arg, int cancelled) {
  job *j = arg;
  report(s, j, cancelled);
  srv_authz *a = srv_authz_get(s, j->authz);
  if (a) {
    a->validating = 0;
    srv_chal *c = &a->chal[j->idx];
    if (!cancelled && !j->result && j->v.type == CHAL_TKAUTH01 && c->status == CH_PROCESSING)
      j->result = srv_atc_accept(s, a, &j->v); /* jti replay, and what finalize needs */
    if (cancelled) {
      c->status = CH_PENDING;
    } else if (c->status == CH_PROCESSING && !j->result) {
      if (j->v.type == CHAL_DEVATTEST01) srv_devattest01_done(a, &j->v);
      mark_valid(s, a, c);
    } else if (c->status == CH_PROCESSING) {
      c->status = CH_INVALID; /* one attempt: §8.2 retries are a SHOULD this server skips */
      c->error = j->result;
      j->result = NULL;
      if (a->status == AZ_PENDING) a->status = AZ_INVALID;
    }
  }
  srv_wait_wake(s, SRV_WAIT_CHALLENGE, j->authz);
  job_free(j);
}

/* DNSACCT_ANY_ACCOUNT only: the URLs of up to 16 recent accounts other than
 * `self`, whose labels that deviation also accepts. */
static void other_accounts(acmeh_server *s, const char *self, srv_validation *v) {
  v->other_urls = calloc(16, sizeof *v->other_urls);
  for (srv_entry *e = s->accounts.newest; v->other_urls && e && v->nother < 16; e = e->older)
    if (strcmp(e->id, self) != 0) {
      char *u = srv_url(s, "acct", e->id);
      if (u) v->other_urls[v->nother++] = u;
    }
}

/* dns-account-01's inputs: the validation name comes from the kid of the JWS
 * that POSTed the response (draft-ietf-acme-dns-account-label-00 §3.3 step 4). */
int srv_dnsaccount01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  const char *kid = json_string_value(json_object_get(rq->jws.protected_hdr, "kid"));
  v->account_url = kid ? strdup(kid) : NULL;
  v->wildcard = a->wildcard;
  v->dnsacct = s->dnsacct;
  v->dnsacct_scheme = s->dnsacct_scheme;
  if (s->dnsacct == DNSACCT_ANY_ACCOUNT) other_accounts(s, rq->acct->e.id, v);
  return v->account_url ? ACMEH_OK : ACMEH_NOMEM;
}

/* The loop's own DNS question answered: a truncated answer is asked again
 * over TCP on the thread pool; anything else is judged here. */
static void dns01_answered(acmeh_server *s, void *arg, ldns_status st, const ldns_pkt *answer, int cancelled) {
  job *j = arg;
  j->ended_ns = uv_hrtime();
  if (!cancelled && answer && ldns_pkt_tc(answer) && srv_job_queue(s, job_work, job_done, j) == ACMEH_OK) return;
  if (!cancelled) j->result = srv_dns01_verdict(&j->v, st, answer);
  job_done(s, j, cancelled);
}

static int start_dns01(acmeh_server *s, job *j) {
  char host[300];
  srv_dns01_host(&j->v, host, sizeof host);
  j->started_ns = uv_hrtime();
  return srv_dnsq_start(s, host, LDNS_RR_TYPE_TXT, dns01_answered, j);
}

static int start_validation(acmeh_server *s, srv_authz *a, int idx, const srv_req *rq) {
  const srv_account *acct = rq->acct;
  job *j = calloc(1, sizeof *j);
  if (!j) return ACMEH_NOMEM;
  memcpy(j->authz, a->e.id, sizeof j->authz);
  j->idx = idx;
  j->arrived_ns = uv_hrtime();
  if (s->validation_observer) {
    json_t *cj = srv_chal_json(s, a, idx);
    const char *u = json_string_value(json_object_get(cj, "url"));
    j->chal_url = u ? strdup(u) : NULL;
    json_decref(cj);
  }
  j->v = (srv_validation){.dns_addr = strdup(s->dns_addr), .dns_port = s->dns_port, .http01_port = s->http01_port,
                          .tlsalpn01_port = s->tlsalpn01_port, .type = a->chal[idx].type, .name = strdup(a->value),
                          .token = strdup(a->chal[idx].token),
                          .keyauth = acmeh_key_authorization(a->chal[idx].token, acct->thumb), .socks5_port = s->socks5_port};
  int rc = j->v.dns_addr && j->v.name && j->v.token && j->v.keyauth ? ACMEH_OK : ACMEH_NOMEM;
  const srv_chaltype_row *row = srv_chaltype(j->v.type);
  if (rc == ACMEH_OK && row->inputs) rc = row->inputs(s, rq, a, &j->v);
  /* dns-01 asks on the loop; the pool's blocking resolver is the fallback */
  if (rc == ACMEH_OK && (j->v.type != CHAL_DNS01 || start_dns01(s, j) != ACMEH_OK))
    rc = srv_job_queue(s, job_work, job_done, j);
  if (rc != ACMEH_OK) {
    job_free(j);
    return rc;
  }
  a->validating = 1;
  a->chal[idx].status = CH_PROCESSING;
  return ACMEH_OK;
}

void srv_h_challenge(srv_req *rq, srv_resp *rs, const char *authz_id, const char *idx) {
  acmeh_server *s = rq->s;
  srv_authz *a = srv_authz_get(s, authz_id);
  char *end = NULL;
  long i = strtol(idx, &end, 10);
  if (!a || strcmp(a->account, rq->acct->e.id) != 0 || *end || end == idx || i < 0 || i >= a->nchal)
    return srv_problem(rs, 404, "malformed", "no such challenge");
  char *up = srv_url(s, "authz", a->e.id);
  srv_header(rs, "Link: <%s>;rel=\"up\"", up ? up : "");
  free(up);
  srv_authz_refresh(s, a);
  srv_chal *c = &a->chal[i];
  if (!rq->post_as_get && c->status == CH_PENDING) { /* §7.5.1: the response; its fields are ignored */
    if (a->status != AZ_PENDING)
      return srv_problem(rs, 400, "malformed", "the authorization is no longer pending");
    if (a->validating)
      return srv_problem(rs, 400, "malformed", "another challenge of this authorization is being validated");
    if (start_validation(s, a, (int)i, rq) != ACMEH_OK)
      return srv_problem(rs, 500, "serverInternal", "cannot start the validation");
  }
  rs->wait = (srv_wait_on){.kind = SRV_WAIT_CHALLENGE, .idx = (int)i};
  memcpy(rs->wait.id, a->e.id, sizeof rs->wait.id);
}

void srv_chal_answer(acmeh_server *s, srv_resp *rs, const char *authz_id, int idx) {
  srv_authz *a = srv_authz_get(s, authz_id);
  if (!a || idx < 0 || idx >= a->nchal) return srv_problem(rs, 404, "malformed", "no such challenge");
  if (a->chal[idx].status == CH_PROCESSING) srv_header(rs, "Retry-After: 1");
  srv_json(rs, 200, srv_chal_json(s, a, idx));
}
