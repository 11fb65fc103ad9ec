/* External Account Binding (RFC 8555 §7.3.4): the CA's key identifiers and
 * MAC keys, and newAccount's verification of the "externalAccountBinding"
 * JWS: MAC algorithm, known kid, no nonce, url = the outer url, MAC verifies,
 * payload = the account key of the outer JWS. One key binds one account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"
#include "harness/server/internal.h"

#define MAX_EAB_KEYS 64
#define MIN_EAB_KEY_BYTES 16 /* 128 bits; RFC 7518 §3.2 wants at least the hash size for HS256, CAs hand out 32 */

struct srv_eab {
  char *kid;
  unsigned char *key;
  size_t keylen;
  char account[SRV_ID_CHARS + 1]; /* the account it bound, "" = unused */
};

void srv_eab_free(acmeh_server *s) {
  for (size_t i = 0; s->eab && i < s->neab; i++) {
    free(s->eab[i].kid);
    if (s->eab[i].key) memset(s->eab[i].key, 0, s->eab[i].keylen); /* a secret: do not leave it in freed memory */
    free(s->eab[i].key);
  }
  free(s->eab);
  s->eab = NULL;
  s->neab = 0;
}

int srv_eab_new(acmeh_server *s, const acmeh_server_config *cfg, char *err, size_t errlen) {
  s->eab_required = cfg->eab_required != 0;
  if (cfg->neab > MAX_EAB_KEYS || (cfg->neab && !cfg->eab_keys))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: at most %d EAB keys", MAX_EAB_KEYS);
  if (s->eab_required && !cfg->neab)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: eab_required without any EAB key");
  if (!cfg->neab) return ACMEH_OK;
  s->eab = calloc(cfg->neab, sizeof *s->eab);
  if (!s->eab) return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  s->neab = cfg->neab;
  for (size_t i = 0; i < cfg->neab; i++) {
    const acmeh_server_eab_key *k = &cfg->eab_keys[i];
    struct srv_eab *e = &s->eab[i];
    const char *b64 = k->hmac_key_b64url;
    if (!k->kid || !*k->kid || !b64 || acmeh_b64url_decode(b64, strlen(b64), &e->key, &e->keylen) != ACMEH_OK ||
        e->keylen < MIN_EAB_KEY_BYTES)
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG,
                       "server: EAB key %zu needs a kid and an HMAC key in base64url of at least %d bytes", i + 1,
                       MIN_EAB_KEY_BYTES);
    e->kid = strdup(k->kid);
    if (!e->kid) return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  }
  return ACMEH_OK;
}

static struct srv_eab *find_kid(acmeh_server *s, const char *kid) {
  for (size_t i = 0; kid && i < s->neab; i++)
    if (strcmp(s->eab[i].kid, kid) == 0) return &s->eab[i];
  return NULL;
}

/* Step 2 of §7.3.4: the protected header. NULL = fine, else why not. */
static const char *header_problem(const json_t *h, const char *outer_url) {
  const char *alg = json_string_value(json_object_get(h, "alg")), *url = json_string_value(json_object_get(h, "url"));
  if (!alg || (strcmp(alg, "HS256") != 0 && strcmp(alg, "HS384") != 0 && strcmp(alg, "HS512") != 0))
    return "its alg must be a MAC algorithm (HS256, HS384, HS512)";
  if (!json_is_string(json_object_get(h, "kid"))) return "its protected header has no kid";
  if (json_object_get(h, "nonce")) return "its protected header must not carry a nonce";
  if (!url || strcmp(url, outer_url) != 0) return "its url must equal the newAccount request's url";
  return NULL;
}

/* Step 5: the payload is the outer JWS's public key (a JWK, no private part). */
static int payload_is_account_key(const acmeh_jws_parsed *p, const char *thumb) {
  json_t *jwk = json_loadb((const char *)p->payload, p->payload_len, 0, NULL);
  acmeh_key *k = NULL;
  char tp[44];
  int ok = json_is_object(jwk) && !json_object_get(jwk, "d") && acmeh_key_from_jwk(jwk, &k) == ACMEH_OK &&
           acmeh_key_thumbprint(k, tp) == ACMEH_OK && strcmp(tp, thumb) == 0;
  acmeh_key_free(k);
  json_decref(jwk);
  return ok;
}

/* Steps 1-5 on the binding object; 0 with the refusal in rs. */
static int verify(srv_req *rq, srv_resp *rs, const json_t *eab, struct srv_eab **bound) {
  char *text = json_dumps(eab, JSON_COMPACT), perr[200];
  acmeh_jws_parsed p = {0};
  int parsed = text && acmeh_jws_parse(text, strlen(text), &p, perr, sizeof perr) == ACMEH_OK;
  free(text);
  const char *why = parsed ? header_problem(p.protected_hdr, rq->url) : NULL;
  struct srv_eab *k = parsed ? find_kid(rq->s, json_string_value(json_object_get(p.protected_hdr, "kid"))) : NULL;
  int ok = 0;
  if (!parsed) srv_problem(rs, 400, "malformed", "externalAccountBinding is not a flattened JWS: %s", perr);
  else if (why) srv_problem(rs, 400, "malformed", "externalAccountBinding: %s (RFC 8555 §7.3.4)", why);
  else if (!k) srv_problem(rs, 403, "unauthorized", "externalAccountBinding names a kid this CA did not issue");
  else if (acmeh_jws_verify_hmac(&p, k->key, k->keylen) != ACMEH_OK)
    srv_problem(rs, 403, "unauthorized", "the externalAccountBinding MAC does not verify with the key of its kid");
  else if (!payload_is_account_key(&p, rq->jwk_thumb))
    srv_problem(rs, 400, "malformed", "the externalAccountBinding payload must be the account's public JWK (the outer jwk)");
  else if (k->account[0])
    srv_problem(rs, 403, "unauthorized", "this external account key is already bound to another account");
  else
    ok = 1, *bound = k;
  acmeh_jws_parsed_free(&p);
  return ok;
}

int srv_eab_check(srv_req *rq, srv_resp *rs, struct srv_eab **bound) {
  const json_t *eab = json_object_get(rq->payload, "externalAccountBinding");
  *bound = NULL;
  if (!eab && rq->s->eab_required)
    return srv_problem(rs, 403, "externalAccountRequired",
                       "this CA requires an externalAccountBinding (meta.externalAccountRequired, RFC 8555 §7.3.4)"), 0;
  if (!eab) return 1;
  if (!json_is_object(eab)) return srv_problem(rs, 400, "malformed", "externalAccountBinding must be a JWS object"), 0;
  if (!rq->s->neab) return 1; /* no external accounts here: like Boulder without EAB, the member is ignored */
  return verify(rq, rs, eab, bound);
}

void srv_eab_bind(struct srv_eab *k, const char *acct_id) {
  if (k) snprintf(k->account, sizeof k->account, "%s", acct_id);
}
