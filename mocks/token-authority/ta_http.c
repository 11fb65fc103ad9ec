/* The mock token authority's HTTP side (ta.h): the token interface of
 * RFC 9447 §5.1 / RFC 9448 §5.5 with our Bearer authentication, the x5u
 * certificate, and the management API. Loop thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/rand.h"
#include "harness/acme/atc.h"
#include "harness/acme/b64.h"
#include "mocks/token-authority/ta_int.h"

static void reply(acmeh_httpsrv_resp *resp, int status, json_t *body) {
  resp->status = status;
  resp->content_type = "application/json";
  resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
  resp->body_len = resp->body ? strlen(resp->body) : 0;
  json_decref(body);
}

static void refuse(acmeh_httpsrv_resp *resp, int status, const char *why) {
  reply(resp, status, json_pack("{s:s}", "error", why));
}

/* What the requester asked for, checked (RFC 9448 §5.5, §5.6). */
typedef struct {
  const char *tktype, *tkvalue, *fingerprint;
  int ca;
  unsigned char *der;
  size_t der_len;
} ta_ask;

static int read_ask(const json_t *body, ta_ask *a, char *why, size_t whylen) {
  const json_t *o = json_object_get(body, "atc") ? json_object_get(body, "atc") : body; /* 9447 or 9448 shape */
  const json_t *ca = json_object_get(o, "ca");
  a->tktype = json_string_value(json_object_get(o, "tktype"));
  a->tkvalue = json_string_value(json_object_get(o, "tkvalue"));
  a->fingerprint = json_string_value(json_object_get(o, "fingerprint"));
  a->ca = json_is_true(ca);
  if (!a->tktype || !a->tkvalue || !a->fingerprint || (ca && !json_is_boolean(ca)))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the body needs string tktype, tkvalue, fingerprint");
  int tn = strcmp(a->tktype, ACMEH_ATC_TNAUTHLIST) == 0;
  if (!tn && strcmp(a->tktype, ACMEH_ATC_JWTCLAIMCON) != 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "tktype %.40s is not TNAuthList or JWTClaimConstraints",
                     a->tktype);
  if (acmeh_atc_value_decode(a->tkvalue, &a->der, &a->der_len, why, whylen) != ACMEH_OK) return ACMEH_PEER_PROTOCOL;
  int kind = tn ? ACMEH_DER_TNAUTHLIST : acmeh_atc_jcc_kind(a->der, a->der_len);
  if (kind < 0) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "tkvalue is not a JWTClaimConstraints DER");
  return acmeh_atc_der_check((acmeh_atc_der_kind)kind, a->der, a->der_len, why, whylen);
}

static char *random_b64(size_t n) {
  unsigned char raw[32];
  return n <= sizeof raw && acmeh_rand_bytes(raw, n) == ACMEH_OK ? acmeh_b64url_encode(raw, n) : NULL;
}

/* The tkvalue the fault engine puts in the token. Malloc'd. */
static char *token_value(const ta_ask *a, const char *fault) {
  int tn = strcmp(a->tktype, ACMEH_ATC_TNAUTHLIST) == 0;
  unsigned char *der = NULL;
  size_t len = 0;
  char why[8];
  json_t *d = NULL;
  if (tn && strcmp(fault, "widened-tkvalue") == 0) {
    acmeh_atc_tn_add_spc(a->der, a->der_len, "9999", &der, &len);
  } else if (strcmp(fault, "wrong-tkvalue") == 0 || strcmp(fault, "widened-tkvalue") == 0) {
    d = tn ? json_pack("[{s:s}]", "spc", "9999") : json_pack("{s:[s]}", "mustInclude", "zzz");
    acmeh_atc_der_build(tn ? ACMEH_DER_TNAUTHLIST : ACMEH_DER_JCC, d, &der, &len, why, sizeof why);
  } else {
    return strdup(a->tkvalue);
  }
  json_decref(d);
  char *v = der ? acmeh_atc_value(der, len) : NULL;
  free(der);
  return v;
}

static json_t *claims_of(acmeh_ta *ta, const ta_ask *a, const char *fault, const char *jti) {
  char fp[ACMEH_ATC_FP_LEN];
  char *v = token_value(a, fault), *other = random_b64(32);
  const char *tktype = a->tktype;
  if (strcmp(fault, "other-type") == 0)
    tktype = strcmp(tktype, ACMEH_ATC_TNAUTHLIST) == 0 ? ACMEH_ATC_JWTCLAIMCON : ACMEH_ATC_TNAUTHLIST;
  if (strcmp(fault, "wrong-fingerprint") != 0 || !other || acmeh_atc_fingerprint(other, fp) != ACMEH_OK)
    snprintf(fp, sizeof fp, "%s", a->fingerprint);
  json_t *c = json_pack("{s:s,s:{s:s,s:s,s:b,s:s}}", "iss", ta->url, "atc", "tktype", tktype, "tkvalue", v ? v : "",
                        "ca", strcmp(fault, "wrong-ca") == 0 ? !a->ca : a->ca, "fingerprint", fp);
  double now = acmeh_now_wall();
  if (c && strcmp(fault, "no-exp") != 0)
    json_object_set_new(c, "exp", json_integer((json_int_t)(strcmp(fault, "expired") == 0 ? now - 60 : now + ta->lifetime)));
  if (c && strcmp(fault, "no-jti") != 0) json_object_set_new(c, "jti", json_string(jti));
  free(v), free(other);
  return c;
}

/* Signs per the fault: key, x5u or x5c, signature. Malloc'd token or NULL. */
static char *sign_token(acmeh_ta *ta, const json_t *claims, const char *fault) {
  char *x5u = NULL, *tok = NULL;
  int port = acmeh_httpsrv_port(ta->https);
  const acmeh_key *key = ta->signer;
  int r;
  if (strcmp(fault, "unknown-x5u") == 0) key = ta->stray, r = asprintf(&x5u, "%s/stray-cert", ta->url);
  else if (strcmp(fault, "unreachable-x5u") == 0) r = asprintf(&x5u, "https://127.0.0.1:1/cert");
  else if (strcmp(fault, "http-x5u") == 0) r = asprintf(&x5u, "http://127.0.0.1:%d/cert", port);
  else if (strcmp(fault, "x5c") == 0) r = 0;
  else r = asprintf(&x5u, "%s/cert", ta->url);
  if (r < 0) return NULL;
  acmeh_atc_sign(key, x5u, x5u ? NULL : ta->chain, claims, strcmp(fault, "bad-signature") == 0, &tok);
  free(x5u);
  return tok;
}

/* The token for an authenticated, entitled request; records it. */
static void issue(acmeh_ta *ta, const char *account, const ta_ask *a, acmeh_httpsrv_resp *resp) {
  pthread_mutex_lock(&ta->mu);
  char fault[32], jti[64];
  snprintf(fault, sizeof fault, "%s", ta->fault);
  char *fresh = random_b64(16);
  snprintf(jti, sizeof jti, "%s", strcmp(fault, "reused-jti") == 0 && ta->last_jti[0] ? ta->last_jti : fresh ? fresh : "");
  snprintf(ta->last_jti, sizeof ta->last_jti, "%s", jti);
  pthread_mutex_unlock(&ta->mu);
  free(fresh);
  json_t *claims = claims_of(ta, a, fault, jti);
  char *tok = claims ? sign_token(ta, claims, fault) : NULL;
  if (!tok) {
    json_decref(claims);
    return refuse(resp, 500, "cannot sign the token");
  }
  json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:b,s:O?,s:s,s:s}", "account", account, "jti", jti, "tktype", a->tktype,
                          "tkvalue", a->tkvalue, "ca", a->ca, "exp", json_object_get(claims, "exp"), "fault", fault,
                          "token", tok);
  pthread_mutex_lock(&ta->mu);
  if (json_array_size(ta->issued) >= TA_MAX_ISSUED) json_array_remove(ta->issued, 0);
  if (rec) json_array_append(ta->issued, rec);
  pthread_mutex_unlock(&ta->mu);
  json_decref(rec), json_decref(claims);
  if (strcmp(fault, "stall") == 0) resp->delay_ms = 120000;
  if (strcmp(fault, "slow") == 0) resp->delay_ms = 3000;
  reply(resp, 200, json_pack("{s:s}", "token", tok));
  free(tok);
}

/* 1 when `auth` is "Bearer <secret>" of account id and the account may have value. */
static int authorized(acmeh_ta *ta, const char *id, const char *auth, const char *value, int *entitled) {
  pthread_mutex_lock(&ta->mu);
  const json_t *acct = json_object_get(ta->accounts, id), *v;
  const char *secret = json_string_value(json_object_get(acct, "secret"));
  int ok = secret && auth && strncmp(auth, "Bearer ", 7) == 0 && strcmp(auth + 7, secret) == 0;
  size_t i;
  *entitled = json_is_true(json_object_get(acct, "any"));
  json_array_foreach(json_object_get(acct, "tkvalues"), i, v) *entitled |= value && json_is_string(v) && strcmp(json_string_value(v), value) == 0;
  pthread_mutex_unlock(&ta->mu);
  return ok;
}

static void token_request(acmeh_ta *ta, const acmeh_httpsrv_req *req, const char *id, acmeh_httpsrv_resp *resp) {
  const char *ct = acmeh_httpsrv_req_header(req, "Content-Type");
  json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
  ta_ask a = {0};
  char why[200];
  int entitled = 0;
  if (!authorized(ta, id, acmeh_httpsrv_req_header(req, "Authorization"), NULL, &entitled))
    refuse(resp, 403, "unknown account or bad credentials (RFC 9448 §5.5)");
  else if (!ct || strncmp(ct, "application/json", 16) != 0)
    refuse(resp, 415, "Content-Type must be application/json");
  else if (!json_is_object(body) || read_ask(body, &a, why, sizeof why) != ACMEH_OK)
    refuse(resp, 400, json_is_object(body) ? why : "the body is not a JSON object");
  else if (authorized(ta, id, acmeh_httpsrv_req_header(req, "Authorization"), a.tkvalue, &entitled), !entitled)
    refuse(resp, 403, "the account is not entitled to that tkvalue (RFC 9448 §5.6)");
  else
    issue(ta, id, &a, resp);
  free(a.der);
  json_decref(body);
}

static void serve_pem(acmeh_httpsrv_resp *resp, const char *pem) {
  resp->content_type = "application/pem-certificate-chain";
  resp->body = strdup(pem);
  resp->body_len = resp->body ? strlen(resp->body) : 0;
}

void acmeh_ta_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud) {
  acmeh_ta *ta = ud;
  char id[130];
  int n = 0;
  if (strcmp(req->method, "GET") == 0 && strcmp(req->url, "/cert") == 0) return serve_pem(resp, ta->cert_pem);
  if (strcmp(req->method, "GET") == 0 && strcmp(req->url, "/stray-cert") == 0) return serve_pem(resp, ta->stray_pem);
  if (sscanf(req->url, "/at/account/%128[^/]/token%n", id, &n) == 1 && req->url[n] == 0) {
    if (strcmp(req->method, "POST") != 0) return refuse(resp, 405, "POST a token request");
    return token_request(ta, req, id, resp);
  }
  refuse(resp, 404, "no such resource");
}

/* ---- management --------------------------------------------------------- */

static json_t *fault_list(void) {
  json_t *o = json_object();
  const char *const *f = acmeh_ta_faults();
  for (int i = 0; f[i]; i += 2) json_object_set_new(o, f[i], json_string(f[i + 1]));
  return o;
}

void acmeh_ta_mgmt_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud) {
  acmeh_ta *ta = ud;
  int get = strcmp(req->method, "GET") == 0;
  if (get && strcmp(req->url, "/issued") == 0) return reply(resp, 200, acmeh_ta_issued(ta));
  if (get && strcmp(req->url, "/faults") == 0) return reply(resp, 200, fault_list());
  json_t *b = json_loadb(req->body, req->body_len, 0, NULL);
  int rc = ACMEH_INVALID_ARG;
  if (strcmp(req->url, "/set-fault") == 0 && json_is_string(json_object_get(b, "fault")))
    rc = acmeh_ta_set_fault(ta, json_string_value(json_object_get(b, "fault")));
  else if (strcmp(req->url, "/add-account") == 0)
    rc = acmeh_ta_add_account(ta, json_string_value(json_object_get(b, "id")),
                              json_string_value(json_object_get(b, "secret")), json_object_get(b, "tkvalues"),
                              json_is_true(json_object_get(b, "any")));
  else if (strcmp(req->url, "/clear-issued") == 0)
    acmeh_ta_clear_issued(ta), rc = ACMEH_OK;
  json_decref(b);
  if (rc != ACMEH_OK) return refuse(resp, 400, "unknown endpoint or bad body (see mocks/token-authority/ta.h)");
  reply(resp, 200, json_object());
}
