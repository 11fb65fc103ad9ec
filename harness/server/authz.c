/* Authorizations (RFC 8555 §7.1.4, §7.5): creation with their challenges,
 * expiry, deactivation (§7.5.2) and pre-authorization (§7.4.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/rand.h"
#include "harness/server/internal.h"

static const char *const status_names[] = {"pending", "valid", "invalid", "deactivated", "expired"};
static const char *const chal_status_names[] = {"pending", "processing", "valid", "invalid"};

const char *srv_chal_type_name(srv_chal_type t) { return srv_chaltype(t)->name; }

void srv_authz_free(srv_authz *a) {
  if (!a) return;
  free(a->value);
  free(a->attested_spki);
  for (int i = 0; i < a->nchal; i++) json_decref(a->chal[i].error);
  free(a);
}

/* A fresh token of `bytes` random bytes (RFC 8555 §8.1 and the dns-account
 * draft §3.1 ask >= 128 bits; only the short-token deviation gives fewer). */
static int new_token(char *out, size_t outlen, size_t bytes) {
  unsigned char raw[32];
  if (bytes > sizeof raw || acmeh_rand_bytes(raw, bytes) != ACMEH_OK) return ACMEH_INTERNAL;
  char *t = acmeh_b64url_encode(raw, bytes);
  if (!t) return ACMEH_NOMEM;
  snprintf(out, outlen, "%s", t);
  free(t);
  return ACMEH_OK;
}

/* Sets the challenge types an authorization offers into chal; returns how
 * many. The challenge-type rows (chaltype.c) say what each type is offered
 * for, and their order is the order offered. */
static int offered_types(const acmeh_server *s, int wildcard, const char *name, const char *value, srv_chal *chal) {
  int n = 0, ip = srv_is_ip(name), eid = srv_is_eid(name), atc = srv_atc_split(name, NULL, NULL), key = srv_is_key_ident(name);
  int devid = srv_is_devid(name);
  for (int t = 0; t < CHAL_COUNT; t++) {
    const srv_chaltype_row *row = srv_chaltype((srv_chal_type)t);
    int fits = atc ? row->for_atc
               : key ? row->for_key
               : eid ? row->for_eid && srv_eid_is_node_id(s, name)
               : devid ? row->for_devid
                     : (ip ? row->for_ip : row->for_dns) && (!wildcard || row->for_wildcard) &&
                           (ip || srv_onion_offers(s, (srv_chal_type)t, value)) && /* RFC 9799 .onion names */
                           !(wildcard && t == CHAL_ONIONCSR01 && s->onion == ONION_NO_WILDCARD); /* a deviation for tests */
    if (fits && (!row->enabled || row->enabled(s)))
      chal[n++].type = (srv_chal_type)t;
  }
  return n;
}

srv_authz *srv_authz_create(acmeh_server *s, srv_account *acct, const char *name, int *rc) {
  srv_authz *a = calloc(1, sizeof *a);
  *rc = ACMEH_NOMEM;
  if (!a) return NULL;
  a->wildcard = strncmp(name, "*.", 2) == 0;
  a->value = strdup(name + (a->wildcard ? 2 : 0)); /* §7.1.4: the base name, never "*." */
  memcpy(a->account, acct->e.id, sizeof a->account);
  a->expires = acmeh_now_wall() + SRV_ORDER_LIFETIME;
  a->nchal = offered_types(s, a->wildcard, name, a->value ? a->value : "", a->chal);
  *rc = a->value ? srv_random_id(a->e.id) : ACMEH_NOMEM;
  for (int i = 0; *rc == ACMEH_OK && i < a->nchal; i++) {
    int short_token = (a->chal[i].type == CHAL_DNSACCT01 && s->dnsacct == DNSACCT_SHORT_TOKEN) ||
                      (a->chal[i].type == CHAL_DEVATTEST01 && srv_devattest_short_token(s));
    if (a->chal[i].type == CHAL_HTTP01 && s->http01_token[0]) /* the config's deliberate deviation */
      snprintf(a->chal[i].token, sizeof a->chal[i].token, "%s", s->http01_token);
    else if (a->chal[i].type == CHAL_BPNODEID00) /* RFC 9891 §3.1: token-chal and id-chal, 128 bits each */
      *rc = srv_bpnodeid00_tokens(s, &a->chal[i]);
    else
      *rc = new_token(a->chal[i].token, sizeof a->chal[i].token, short_token ? 8 : 32);
    if (*rc == ACMEH_OK && a->chal[i].type == CHAL_ONIONCSR01) *rc = srv_onion_nonce(s, a->chal[i].nonce); /* RFC 9799 §3.2 */
    if (*rc == ACMEH_OK && a->chal[i].type == CHAL_ONIONCSR01) *rc = srv_onion_auth_key(s, a->chal[i].auth_x); /* §4 */
  }
  if (*rc == ACMEH_OK) *rc = srv_table_add(&s->authzs, &a->e);
  if (*rc != ACMEH_OK) {
    srv_authz_free(a);
    return NULL;
  }
  return a;
}

void srv_authz_refresh(acmeh_server *s, srv_authz *a) {
  (void)s;
  if ((a->status == AZ_PENDING || a->status == AZ_VALID) && !a->validating && acmeh_now_wall() > a->expires)
    a->status = AZ_EXPIRED;
}

json_t *srv_chal_json(acmeh_server *s, const srv_authz *a, int i) {
  const srv_chal *c = &a->chal[i];
  char idx[8], *base = srv_url(s, "chal", a->e.id), *u = NULL;
  snprintf(idx, sizeof idx, "%d", i);
  if (base && asprintf(&u, "%s/%s", base, idx) < 0) u = NULL;
  json_t *j = json_pack("{s:s,s:s,s:s}", "type", srv_chal_type_name(c->type), "url", u ? u : "", "status", chal_status_names[c->status]);
  if (c->type == CHAL_BPNODEID00) /* RFC 9891 §3.1: no "token" */
    json_object_set_new(j, "id-chal", json_string(c->id_chal)), json_object_set_new(j, "token-chal", json_string(c->token));
  else
    json_object_set_new(j, "token", json_string(c->token));
  free(base), free(u);
  if (c->type == CHAL_TKAUTH01) srv_atc_chal_json(s, j);
  if (c->type == CHAL_PK01) srv_pk01_chal_members(j);
  if (c->type == CHAL_PERSIST01) srv_persist01_chal_json(s, a, j);
  if (c->type == CHAL_ONIONCSR01) { /* RFC 9799 §3.2: a "nonce", no token */
    json_object_del(j, "token");
    json_object_set_new(j, "nonce", json_string(c->nonce));
    if (c->auth_x[0]) json_object_set_new(j, "authKey", json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", c->auth_x));
  }
  if (c->validated) {
    char t[32];
    srv_rfc3339(c->validated, t);
    json_object_set_new(j, "validated", json_string(t));
  }
  if (c->error) json_object_set(j, "error", c->error);
  return j;
}

json_t *srv_authz_json(acmeh_server *s, srv_authz *a) {
  srv_authz_refresh(s, a);
  char t[32];
  srv_rfc3339(a->expires, t);
  json_t *ch = json_array();
  for (int i = 0; i < a->nchal; i++) json_array_append_new(ch, srv_chal_json(s, a, i));
  json_t *j = json_pack("{s:{s:s,s:s},s:s,s:s,s:o}", "identifier", "type", srv_ident_type(a->value), "value", srv_ident_value(a->value), "status",
                        status_names[a->status], "expires", t, "challenges", ch);
  if (a->wildcard) json_object_set_new(j, "wildcard", json_true());
  return j;
}

static void send_authz(srv_resp *rs, acmeh_server *s, srv_authz *a, int status) {
  if (status == 201) {
    char *u = srv_url(s, "authz", a->e.id);
    srv_header(rs, "Location: %s", u ? u : "");
    free(u);
  }
  srv_json(rs, status, srv_authz_json(s, a));
}

void srv_h_new_authz(srv_req *rq, srv_resp *rs) {
  if (rq->post_as_get) return srv_problem(rs, 400, "malformed", "newAuthz needs {\"identifier\": ...}");
  const json_t *id = json_object_get(rq->payload, "identifier");
  const char *type = json_string_value(json_object_get(id, "type")), *value = json_string_value(json_object_get(id, "value"));
  if (!type || !value) return srv_problem(rs, 400, "malformed", "identifier needs string type and value");
  int ip = strcmp(type, "ip") == 0; /* RFC 8738 */
  if (strcmp(type, "bundleEID") == 0 && rq->s->dtn.port) { /* RFC 9891 §2 */
    const char *etype;
    char ewhy[300];
    char *eid = srv_eid_name(&rq->s->dtn, value, &etype, ewhy, sizeof ewhy);
    if (!eid) return srv_problem(rs, 400, etype, "%s", ewhy);
    int erc;
    srv_authz *ea = srv_authz_create(rq->s, rq->acct, eid, &erc);
    free(eid);
    if (!ea) return srv_problem(rs, 500, "serverInternal", "cannot store the authorization");
    return send_authz(rs, rq->s, ea, 201);
  }
  if (strcmp(type, "dns") != 0 && !ip)
    return srv_problem(rs, 400, "unsupportedIdentifier", "identifier type \"%.40s\" is not supported", type);
  if (!ip && strncmp(value, "*.", 2) == 0) /* §7.4.1 */
    return srv_problem(rs, 403, "rejectedIdentifier", "wildcard names cannot be pre-authorized");
  const char *ptype;
  char why[300];
  char *name = ip ? srv_ip_name(value, &ptype, why, sizeof why) : srv_dns_name(value, 0, &ptype, why, sizeof why);
  if (!name) return srv_problem(rs, 400, ptype, "%s", why);
  const char *onion = ip ? NULL : srv_onion_name_problem(rq->s, name, why, sizeof why); /* RFC 9799 §2 */
  if (onion) {
    srv_problem(rs, 400, "rejectedIdentifier", "\"%.100s\" %s", name, onion);
    free(name);
    return;
  }
  int rc;
  srv_authz *a = srv_authz_create(rq->s, rq->acct, name, &rc);
  free(name);
  if (!a) return srv_problem(rs, 500, "serverInternal", "cannot store the authorization");
  send_authz(rs, rq->s, a, 201);
}

void srv_h_authz(srv_req *rq, srv_resp *rs, const char *id) {
  srv_authz *a = srv_authz_get(rq->s, id);
  if (!a || strcmp(a->account, rq->acct->e.id) != 0) return srv_problem(rs, 404, "malformed", "no such authorization");
  srv_authz_refresh(rq->s, a);
  if (rq->post_as_get) return send_authz(rs, rq->s, a, 200);
  const char *st = json_string_value(json_object_get(rq->payload, "status"));
  if (!st || strcmp(st, "deactivated") != 0)
    return srv_problem(rs, 400, "malformed", "an authorization only takes {\"status\": \"deactivated\"} (RFC 8555 §7.5.2)");
  if (a->status != AZ_PENDING && a->status != AZ_VALID)
    return srv_problem(rs, 400, "malformed", "a %s authorization cannot be deactivated", status_names[a->status]);
  a->status = AZ_DEACTIVATED;
  send_authz(rs, rq->s, a, 200);
}
