/* Accounts (RFC 8555 §7.3): creation and lookup by key (§7.3.1), contact
 * validation, update and deactivation (§7.3.2, §7.3.6), key rollover
 * (§7.3.5) and the paginated orders list (§7.1.2.1). */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "harness/server/internal.h"

#define MAX_CONTACTS 8

static int cmp_thumb(const void *a, const void *b) {
  return strcmp(((const srv_account *)a)->thumb, ((const srv_account *)b)->thumb);
}

srv_account *srv_account_by_key(acmeh_server *s, const char *thumb) {
  srv_account key;
  snprintf(key.thumb, sizeof key.thumb, "%s", thumb);
  void *const *hit = tfind(&key, &s->by_thumb, cmp_thumb);
  return hit ? *(srv_account *const *)hit : NULL;
}

int srv_account_index_key(acmeh_server *s, srv_account *a) {
  return tsearch(a, &s->by_thumb, cmp_thumb) ? ACMEH_OK : ACMEH_NOMEM;
}

void srv_account_unindex_key(acmeh_server *s, srv_account *a) {
  void *const *hit = tfind(a, &s->by_thumb, cmp_thumb);
  if (hit && *(srv_account *const *)hit == a) tdelete(a, &s->by_thumb, cmp_thumb);
}

void srv_account_free(srv_account *a) {
  if (!a) return;
  acmeh_key_free(a->key);
  json_decref(a->contact);
  json_decref(a->valid_authz);
  json_decref(a->eab);
  for (size_t i = 0; i < a->norders; i++) free(a->orders[i]);
  free(a->orders);
  free(a);
}

json_t *srv_account_json(acmeh_server *s, const srv_account *a) {
  char *orders = srv_url(s, "acct", a->e.id);
  json_t *j = json_pack("{s:s}", "status", a->status == ACCT_VALID ? "valid" : "deactivated");
  if (a->contact) json_object_set(j, "contact", a->contact);
  if (a->tos_agreed) json_object_set_new(j, "termsOfServiceAgreed", json_true());
  if (orders) {
    char *u = NULL;
    if (asprintf(&u, "%s/orders", orders) >= 0) json_object_set_new(j, "orders", json_string(u));
    free(u);
  }
  json_object_set_new(j, "key", acmeh_key_jwk(a->key));
  if (a->eab) json_object_set(j, "externalAccountBinding", a->eab); /* §7.3.4: identical to the request's */
  free(orders);
  return j;
}

static void send_account(srv_resp *rs, acmeh_server *s, const srv_account *a, int status) {
  char *url = srv_url(s, "acct", a->e.id);
  if (url) srv_header(rs, "Location: %s", url);
  free(url);
  srv_json(rs, status, srv_account_json(s, a));
}

/* One mailto: address, no hfields (RFC 8555 §7.3; RFC 6068 otherwise). */
static int check_mailto(const char *addr, srv_resp *rs) {
  const char *at = strchr(addr, '@');
  if (strchr(addr, '?'))
    return srv_problem(rs, 400, "invalidContact", "mailto: contacts must not have hfields (\"?...\")"), 0;
  if (strchr(addr, ','))
    return srv_problem(rs, 400, "invalidContact", "one address per mailto: contact"), 0;
  for (const char *p = addr; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"')
      return srv_problem(rs, 400, "invalidContact", "mailto: address has a character e-mail forbids"), 0;
  if (!at || at == addr || strchr(at + 1, '@'))
    return srv_problem(rs, 400, "invalidContact", "\"%.100s\" is not one e-mail address", addr), 0;
  const char *type;
  char why[200];
  char *domain = srv_dns_name(at + 1, 0, &type, why, sizeof why);
  if (!domain) return srv_problem(rs, 400, "invalidContact", "e-mail domain: %s", why), 0;
  free(domain);
  return 1;
}

/* Returns 1 when `contact` (absent = fine) is acceptable, else fills rs. */
static int check_contacts(const json_t *contact, srv_resp *rs) {
  if (!contact || json_is_null(contact)) return 1;
  if (!json_is_array(contact) || json_array_size(contact) > MAX_CONTACTS)
    return srv_problem(rs, 400, "invalidContact", "contact must be an array of at most %d URLs", MAX_CONTACTS), 0;
  size_t i;
  json_t *c;
  json_array_foreach(contact, i, c) {
    const char *v = json_string_value(c);
    if (!v) return srv_problem(rs, 400, "invalidContact", "contact entries must be strings"), 0;
    if (strncasecmp(v, "mailto:", 7) != 0)
      return srv_problem(rs, 400, "unsupportedContact", "only mailto: contacts are supported, not \"%.60s\"", v), 0;
    if (!check_mailto(v + 7, rs)) return 0;
  }
  return 1;
}

static srv_account *create_account(srv_req *rq, const json_t *contact) {
  srv_account *a = calloc(1, sizeof *a);
  if (!a || srv_random_id(a->e.id) || acmeh_key_thumbprint(rq->jwk, a->thumb)) {
    free(a);
    return NULL;
  }
  a->key = rq->jwk; /* the account keeps the request's key */
  rq->jwk = NULL;
  a->contact = json_is_array(contact) && json_array_size(contact) ? json_deep_copy(contact) : NULL;
  a->tos_agreed = 1;
  a->valid_authz = json_object();
  if (srv_table_add(&rq->s->accounts, &a->e) != ACMEH_OK) {
    srv_account_free(a);
    return NULL;
  }
  if (srv_account_index_key(rq->s, a) != ACMEH_OK) {
    srv_table_remove(&rq->s->accounts, &a->e);
    srv_account_free(a);
    return NULL;
  }
  return a;
}

void srv_h_new_account(srv_req *rq, srv_resp *rs) {
  acmeh_server *s = rq->s;
  if (rq->post_as_get) return srv_problem(rs, 400, "malformed", "newAccount needs a JSON object payload");
  char tp[44];
  if (acmeh_key_thumbprint(rq->jwk, tp)) return srv_problem(rs, 500, "serverInternal", "cannot hash the key");
  srv_account *a = srv_account_by_key(s, tp);
  if (a) { /* §7.3.1: the existing account, request fields ignored */
    if (a->status != ACCT_VALID) return srv_problem(rs, 401, "unauthorized", "the account of this key is deactivated");
    return send_account(rs, s, a, 200);
  }
  const json_t *p = rq->payload;
  if (json_is_true(json_object_get(p, "onlyReturnExisting")))
    return srv_problem(rs, 400, "accountDoesNotExist", "no account has this key");
  if (!json_is_true(json_object_get(p, "termsOfServiceAgreed"))) {
    char *tos = NULL;
    if (asprintf(&tos, "%s/terms", s->base) < 0) tos = NULL;
    json_t *prob = srv_problem_obj("userActionRequired", "agree to the terms of service (termsOfServiceAgreed: true)");
    json_object_set_new(prob, "instance", json_string(tos ? tos : ""));
    srv_header(rs, "Link: <%s>;rel=\"terms-of-service\"", tos ? tos : "");
    free(tos);
    return srv_problem_send(rs, 403, prob);
  }
  const json_t *contact = json_object_get(p, "contact");
  struct srv_eab *eab = NULL;
  if (!check_contacts(contact, rs) || !srv_eab_check(rq, rs, &eab)) return;
  a = create_account(rq, contact);
  if (!a) return srv_problem(rs, 500, "serverInternal", "cannot store the account");
  if (eab) { /* §7.3.4: the account is now that external account's */
    srv_eab_bind(eab, a->e.id);
    a->eab = json_deep_copy(json_object_get(p, "externalAccountBinding"));
  }
  send_account(rs, s, a, 201);
}

/* Orders list page (§7.1.2.1): pending..valid orders, SRV_ORDERS_PAGE at a time. */
static void orders_list(srv_req *rq, srv_resp *rs, srv_account *a) {
  acmeh_server *s = rq->s;
  size_t start = 0;
  if (strncmp(rq->query, "cursor=", 7) == 0) start = strtoul(rq->query + 7, NULL, 10);
  json_t *list = json_array();
  size_t i = start;
  for (; i < a->norders && json_array_size(list) < SRV_ORDERS_PAGE; i++) {
    srv_order *o = srv_order_get(s, a->orders[i]);
    if (!o) continue;
    srv_order_refresh(s, o);
    if (o->status == ORD_INVALID) continue; /* SHOULD NOT list invalid orders */
    char *u = srv_url(s, "order", o->e.id);
    if (u) json_array_append_new(list, json_string(u));
    free(u);
  }
  if (i < a->norders) {
    char *base = srv_url(s, "acct", a->e.id);
    srv_header(rs, "Link: <%s/orders?cursor=%zu>;rel=\"next\"", base ? base : "", i);
    free(base);
  }
  srv_json(rs, 200, json_pack("{s:o}", "orders", list));
}

/* §7.3.6: SHOULD cancel pending operations of a deactivated account. */
static void cancel_pending(acmeh_server *s, srv_account *a) {
  for (size_t i = 0; i < a->norders; i++) {
    srv_order *o = srv_order_get(s, a->orders[i]);
    if (!o) continue;
    srv_order_refresh(s, o);
    if (o->status == ORD_PENDING || o->status == ORD_READY) {
      o->status = ORD_INVALID;
      json_decref(o->error);
      o->error = srv_problem_obj("unauthorized", "the account was deactivated");
    }
  }
}

void srv_h_account(srv_req *rq, srv_resp *rs, const char *id, const char *sub) {
  srv_account *a = srv_account_get(rq->s, id);
  if (!a || a != rq->acct) return srv_problem(rs, 403, "unauthorized", "this account URL is not the signer's");
  if (sub) {
    if (!rq->post_as_get) return srv_problem(rs, 400, "malformed", "the orders list is fetched with POST-as-GET");
    return orders_list(rq, rs, a);
  }
  if (!rq->post_as_get) {
    const json_t *contact = json_object_get(rq->payload, "contact");
    if (!check_contacts(contact, rs)) return;
    if (contact) { /* §7.3.2; orders, termsOfServiceAgreed and other status values are ignored */
      json_decref(a->contact);
      a->contact = json_array_size(contact) ? json_deep_copy(contact) : NULL;
    }
    const char *st = json_string_value(json_object_get(rq->payload, "status"));
    if (st && strcmp(st, "deactivated") == 0) {
      a->status = ACCT_DEACTIVATED;
      cancel_pending(rq->s, a);
    }
  }
  srv_json(rs, 200, srv_account_json(rq->s, a));
}

/* ---- key rollover (§7.3.5) ---------------------------------------------- */

/* Checks the inner JWS; on success *newkey is the new key (caller frees). */
static int inner_jws(srv_req *rq, srv_resp *rs, acmeh_jws_parsed *in, acmeh_key **newkey) {
  char why[256];
  if (acmeh_jws_parse((const char *)rq->jws.payload, rq->jws.payload_len, in, why, sizeof why))
    return srv_problem(rs, 400, "malformed", "keyChange payload is not a flattened JWS: %s", why), 0;
  const json_t *h = in->protected_hdr;
  const char *alg = json_string_value(json_object_get(h, "alg"));
  int alg_ok = 0;
  for (const char *const *a = srv_algorithms(); alg && *a; a++) alg_ok |= strcmp(*a, alg) == 0;
  if (!alg_ok) return srv_problem(rs, 400, "badSignatureAlgorithm", "inner JWS alg is not supported"), 0;
  if (json_object_get(h, "nonce")) return srv_problem(rs, 400, "malformed", "the inner JWS must not have a nonce"), 0;
  if (!json_is_object(json_object_get(h, "jwk")) || json_object_get(h, "kid"))
    return srv_problem(rs, 400, "malformed", "the inner JWS must carry the new key as jwk and no kid"), 0;
  if (!srv_key_from_jwk(json_object_get(h, "jwk"), newkey, why, sizeof why))
    return srv_problem(rs, 400, "badPublicKey", "the new key: %s", why), 0;
  if (!srv_key_acceptable(*newkey, alg, why, sizeof why)) return srv_problem(rs, 400, "badPublicKey", "%s", why), 0;
  if (in->sig_len == 0 || acmeh_jws_verify(in, *newkey))
    return srv_problem(rs, 400, "malformed", "the inner JWS signature does not verify with its jwk"), 0;
  const char *url = json_string_value(json_object_get(h, "url"));
  if (!url || strcmp(url, rq->url) != 0)
    return srv_problem(rs, 400, "malformed", "the inner JWS url differs from the outer url"), 0;
  return 1;
}

/* Checks the keyChange object against the account (signer). */
static int key_change_object(srv_req *rq, srv_resp *rs, const acmeh_jws_parsed *in) {
  json_t *kc = json_loadb((const char *)in->payload, in->payload_len, JSON_REJECT_DUPLICATES, NULL);
  const char *acct = json_string_value(json_object_get(kc, "account"));
  json_t *old = json_object_get(kc, "oldKey");
  char *url = srv_url(rq->s, "acct", rq->acct->e.id), tp[44];
  int ok = 0;
  if (!acct || !json_is_object(old))
    srv_problem(rs, 400, "malformed", "the keyChange object needs \"account\" and \"oldKey\"");
  else if (!url || strcmp(acct, url) != 0)
    srv_problem(rs, 403, "unauthorized", "keyChange \"account\" is not the signing account");
  else if (acmeh_jwk_thumbprint(old, tp) != ACMEH_OK || strcmp(tp, rq->acct->thumb) != 0)
    srv_problem(rs, 403, "unauthorized", "keyChange \"oldKey\" is not the account's current key");
  else
    ok = 1;
  free(url);
  json_decref(kc);
  return ok;
}

void srv_h_key_change(srv_req *rq, srv_resp *rs) {
  acmeh_server *s = rq->s;
  srv_account *a = rq->acct;
  if (rq->post_as_get) return srv_problem(rs, 400, "malformed", "keyChange needs the inner JWS as payload");
  acmeh_jws_parsed in = {0};
  acmeh_key *newkey = NULL;
  char tp[44];
  if (inner_jws(rq, rs, &in, &newkey) && key_change_object(rq, rs, &in)) {
    srv_account *other = acmeh_key_thumbprint(newkey, tp) == ACMEH_OK ? srv_account_by_key(s, tp) : NULL;
    if (other == a) {
      srv_problem(rs, 400, "malformed", "the new key is the account's current key");
    } else if (other) { /* §7.3.5: SHOULD 409 with the Location of the account using it */
      char *u = srv_url(s, "acct", other->e.id);
      srv_header(rs, "Location: %s", u ? u : "");
      free(u);
      srv_problem(rs, 409, "malformed", "the new key already belongs to another account");
    } else {
      srv_account_unindex_key(s, a);
      acmeh_key_free(a->key);
      a->key = newkey;
      newkey = NULL;
      memcpy(a->thumb, tp, sizeof tp);
      srv_account_index_key(s, a);
      srv_json(rs, 200, srv_account_json(s, a));
    }
  }
  acmeh_key_free(newkey);
  acmeh_jws_parsed_free(&in);
}
