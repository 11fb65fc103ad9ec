#include "harness/client/acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/client/objlog.h"
#include "base/error.h"

#define NONCE_POOL 16

struct acmeh_acme {
  acmeh_acme_config cfg;
  acmeh_http *http;
  json_t *dir;
  char *nonces[NONCE_POOL];
  size_t nnonces;
  acmeh_key *key;
  char *kid;
  char thumbprint[44]; /* of key; "" until asked for */
  const char *step;    /* the protocol step under way (static string), for attribution */
  const acmeh_key *pop_key; /* pk-01's key (borrowed), NULL = none */
  acmeh_objlog *objlog; /* the objects received, checked against their schemas; NULL = not logged */
};

/* Every response passes here (acmeh_http_config.on_response). */
static void on_response(void *ud, const char *method, const char *url, const acmeh_http_resp *r) {
  acmeh_acme *c = ud;
  acmeh_objlog_response(c->objlog, c->dir, c->kid, c->http, method, url, r);
}

/* Explains why a 200 directory body is unusable: not JSON at all (with the
 * parser's reason) or JSON of another type. */
static int directory_body_error(const acmeh_http_resp *r, const char *url, char *err, size_t errlen) {
  json_error_t je;
  json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
  int rc = j ? acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "directory %s: body is JSON but not a JSON object", url)
             : acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "directory %s: body is not a JSON object (%s at byte %d)",
                         url, r->body_len ? je.text : "empty body", je.position);
  json_decref(j);
  return rc;
}

static int fetch_directory(acmeh_acme *c, char *err, size_t errlen) {
  acmeh_http_resp r;
  const char *url = c->cfg.directory_url;
  int rc = acmeh_http_request(c->http, "GET", url, NULL, NULL, 0, NULL, &r, err, errlen);
  if (rc == ACMEH_OK && r.status != 200) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "directory GET %s answered %s, not 200", url, d);
  }
  if (rc == ACMEH_OK) {
    c->dir = acmeh_resp_json(&r);
    if (!json_is_object(c->dir)) rc = directory_body_error(&r, url, err, errlen);
  }
  acmeh_http_resp_free(&r);
  return rc;
}

int acmeh_acme_new(const acmeh_acme_config *cfg, acmeh_acme **out, char *err, size_t errlen) {
  /* A failure here is the "directory" step (acmeh_acme_step(NULL)). */
  acmeh_acme *c = calloc(1, sizeof *c);
  if (!c) return ACMEH_NOMEM;
  c->cfg = *cfg;
  if (!c->cfg.bad_nonce_retries) c->cfg.bad_nonce_retries = 5;
  acmeh_http_config hc = {.ca_file = cfg->ca_file, .deadline = cfg->deadline, .transcript = cfg->transcript,
                          .verbose = cfg->verbose, .extra_headers = cfg->extra_headers};
  int rc = ACMEH_OK;
  if (cfg->schema_log) {
    c->objlog = acmeh_objlog_new(cfg->schema_log, cfg->schema_origin, cfg->directory_url);
    if (!c->objlog) rc = ACMEH_NOMEM;
    hc.on_response = on_response, hc.on_response_ud = c;
  }
  if (rc == ACMEH_OK) rc = acmeh_http_new(&hc, &c->http);
  if (rc == ACMEH_OK) rc = fetch_directory(c, err, errlen);
  if (cfg->failed_step) *cfg->failed_step = rc && acmeh_err_class(rc) == ACMEH_CLASS_PEER ? "directory" : NULL;
  if (rc) {
    acmeh_acme_free(c);
    return rc;
  }
  *out = c;
  return ACMEH_OK;
}

void acmeh_acme_free(acmeh_acme *c) {
  if (!c) return;
  acmeh_http_free(c->http);
  acmeh_objlog_free(c->objlog);
  json_decref(c->dir);
  for (size_t i = 0; i < c->nnonces; i++) free(c->nonces[i]);
  acmeh_key_free(c->key);
  free(c->kid);
  free(c);
}

const json_t *acmeh_acme_dir(const acmeh_acme *c) { return c ? c->dir : NULL; }

const char *acmeh_acme_dir_url(const acmeh_acme *c, const char *resource) {
  return c ? json_string_value(json_object_get(c->dir, resource)) : NULL;
}

acmeh_http *acmeh_acme_http(acmeh_acme *c) { return c->http; }

double acmeh_acme_deadline(const acmeh_acme *c) { return c->cfg.deadline; }

void acmeh_acme_keep_nonce(acmeh_acme *c, const acmeh_http_resp *r) {
  const char *n = acmeh_http_header_get(r, "Replay-Nonce");
  if (!n || !acmeh_b64url_valid(n)) return;
  if (c->nnonces == NONCE_POOL) { /* drop the oldest: newest nonces are likeliest valid */
    free(c->nonces[0]);
    memmove(c->nonces, c->nonces + 1, (NONCE_POOL - 1) * sizeof *c->nonces);
    c->nnonces--;
  }
  char *dup = strdup(n);
  if (dup) c->nonces[c->nnonces++] = dup;
}

int acmeh_acme_nonce(acmeh_acme *c, char **nonce, char *err, size_t errlen) {
  if (c->nnonces) {
    *nonce = c->nonces[--c->nnonces];
    return ACMEH_OK;
  }
  const char *url = acmeh_acme_dir_url(c, "newNonce");
  if (!url) {
    acmeh_acme_step_set(c, "directory");
    return acmeh_acme_step_result(c, acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "directory has no newNonce URL"));
  }
  const char *was = c->step;
  acmeh_acme_step_set(c, "newNonce");
  acmeh_http_resp r;
  int rc = acmeh_http_request(c->http, "HEAD", url, NULL, NULL, 0, NULL, &r, err, errlen);
  if (rc == ACMEH_OK) {
    acmeh_acme_keep_nonce(c, &r);
    if (!c->nnonces)
      rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL,
                     "HEAD newNonce (status %ld) gave no valid Replay-Nonce", r.status);
  }
  acmeh_http_resp_free(&r);
  if (rc == ACMEH_OK) *nonce = c->nonces[--c->nnonces], acmeh_acme_step_set(c, was);
  return acmeh_acme_step_result(c, rc);
}

int acmeh_acme_step_result(acmeh_acme *c, int rc) {
  if (c && c->cfg.failed_step && rc && acmeh_err_class(rc) == ACMEH_CLASS_PEER) *c->cfg.failed_step = c->step;
  return rc;
}

void acmeh_acme_step_set(acmeh_acme *c, const char *step) {
  if (c) c->step = step;
}

const char *acmeh_acme_step(const acmeh_acme *c) { return c ? c->step : "directory"; }

void acmeh_acme_set_account(acmeh_acme *c, acmeh_key *key, const char *kid) {
  if (key != c->key) acmeh_key_free(c->key);
  c->key = key;
  c->thumbprint[0] = '\0';
  char *dup = kid ? strdup(kid) : NULL; /* kid may be c->kid itself */
  free(c->kid);
  c->kid = dup;
}

acmeh_key *acmeh_acme_key(const acmeh_acme *c) { return c ? c->key : NULL; }
const char *acmeh_acme_kid(const acmeh_acme *c) { return c ? c->kid : NULL; }

int acmeh_acme_dnsacct_scheme(const acmeh_acme *c) { return c ? c->cfg.dnsacct_scheme : 0; }
int acmeh_acme_persist_rev(const acmeh_acme *c) { return c ? c->cfg.persist_rev : 0; }

void acmeh_acme_set_pop_key(acmeh_acme *c, const acmeh_key *k) {
  if (c) c->pop_key = k;
}
const acmeh_key *acmeh_acme_pop_key(const acmeh_acme *c) { return c ? c->pop_key : NULL; }

/* Kept: each challenge needs it, and computing it builds the JWK anew. */
int acmeh_acme_thumbprint(acmeh_acme *c, char out[44]) {
  if (!c || !c->key) return ACMEH_INVALID_ARG;
  if (!c->thumbprint[0] && acmeh_key_thumbprint(c->key, c->thumbprint) != ACMEH_OK) {
    c->thumbprint[0] = '\0';
    return ACMEH_INTERNAL;
  }
  memcpy(out, c->thumbprint, sizeof c->thumbprint);
  return ACMEH_OK;
}

static int sign_body(acmeh_acme *c, const char *url, const char *payload, const acmeh_post_opts *o,
                     const char *nonce, char **body) {
  acmeh_jws_opts jo = o->jws;
  const acmeh_key *key = o->key ? o->key : c->key;
  if (!o->own_nonce) jo.nonce = nonce;
  if (!o->own_url) jo.url = url;
  if (o->use_jwk || o->both_jwk_and_kid) jo.use_jwk = 1;
  if (!o->use_jwk || o->both_jwk_and_kid) jo.kid = jo.kid ? jo.kid : c->kid;
  return acmeh_jws_build(key, payload, payload ? strlen(payload) : 0, &jo, body);
}

/* One attempt: sign with a fresh nonce and send. */
static int post_once(acmeh_acme *c, const char *url, const char *payload, const acmeh_post_opts *o,
                     acmeh_http_resp *resp, char *err, size_t errlen) {
  char *nonce = NULL, *body = NULL;
  memset(resp, 0, sizeof *resp);
  int rc = o->own_nonce || o->raw_body ? ACMEH_OK : acmeh_acme_nonce(c, &nonce, err, errlen);
  if (rc == ACMEH_OK && !o->raw_body) {
    rc = sign_body(c, url, payload, o, nonce, &body);
    if (rc) acmeh_msg(err, errlen, rc, "could not sign the request: %s", acmeh_strerror(rc));
  }
  const char *ct = o->content_type ? (*o->content_type ? o->content_type : NULL) : ACMEH_CT_JOSE;
  const char *send = o->raw_body ? o->raw_body : body;
  if (rc == ACMEH_OK)
    rc = acmeh_http_request(c->http, "POST", url, ct, send, strlen(send), NULL, resp, err, errlen);
  if (rc == ACMEH_OK) acmeh_acme_keep_nonce(c, resp);
  free(nonce);
  free(body);
  return rc;
}

int acmeh_acme_post(acmeh_acme *c, const char *url, const char *payload, const acmeh_post_opts *o,
                    acmeh_http_resp *resp, char *err, size_t errlen) {
  static const acmeh_post_opts none;
  if (!o) o = &none;
  memset(resp, 0, sizeof *resp); /* freeable whatever happens below */
  if (c->cfg.failed_step) *c->cfg.failed_step = NULL; /* a new operation: only its own failure counts */
  for (int attempt = 0;; attempt++) {
    int rc = post_once(c, url, payload, o, resp, err, errlen);
    if (rc || o->no_retry || o->own_nonce || resp->status != 400 || attempt >= c->cfg.bad_nonce_retries)
      return rc;
    char type[128];
    acmeh_resp_problem(resp, type, sizeof type);
    if (strcmp(type, "badNonce") != 0) return rc;
    acmeh_http_resp_free(resp); /* retry with the nonce that error carried (kept in the pool) */
  }
}

int acmeh_acme_get_json(acmeh_acme *c, const char *url, json_t **obj, acmeh_http_resp *resp,
                        char *err, size_t errlen) {
  acmeh_http_resp local;
  acmeh_http_resp *r = resp ? resp : &local;
  int rc = acmeh_acme_post(c, url, NULL, NULL, r, err, errlen);
  *obj = NULL;
  if (rc == ACMEH_OK && r->status != 200) {
    char d[300];
    acmeh_resp_describe(r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "POST-as-GET %s answered %s", url, d);
  }
  if (rc == ACMEH_OK) {
    *obj = acmeh_resp_json(r);
    if (!json_is_object(*obj)) {
      json_decref(*obj);
      *obj = NULL;
      rc = acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "POST-as-GET %s: body is not a JSON object", url);
    }
  }
  if (!resp) acmeh_http_resp_free(&local);
  return rc;
}

json_t *acmeh_resp_json(const acmeh_http_resp *r) {
  if (!r->body || !r->body_len) return NULL;
  return json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
}

void acmeh_resp_problem(const acmeh_http_resp *r, char *out, size_t outlen) {
  json_t *j = acmeh_resp_json(r);
  const char *t = json_string_value(json_object_get(j, "type"));
  if (t && strncmp(t, ACMEH_PROBLEM_PREFIX, strlen(ACMEH_PROBLEM_PREFIX)) == 0)
    t += strlen(ACMEH_PROBLEM_PREFIX);
  snprintf(out, outlen, "%s", t ? t : "");
  json_decref(j);
}

void acmeh_resp_describe(const acmeh_http_resp *r, char *out, size_t outlen) {
  json_t *j = acmeh_resp_json(r);
  const char *t = json_string_value(json_object_get(j, "type"));
  const char *d = json_string_value(json_object_get(j, "detail"));
  if (t)
    snprintf(out, outlen, "%ld %s%s%.160s", r->status, t, d ? ": " : "", d ? d : "");
  else
    snprintf(out, outlen, "%ld (no problem document; %zu body bytes)", r->status, r->body_len);
  json_decref(j);
}
