/* Request authentication for every POST (RFC 8555 §6.2-§6.5), in the order
 * of the digest's §12, so each defect gets the error type the RFC names:
 * 415 for the media type, malformed for the envelope, badSignatureAlgorithm
 * (+ "algorithms") for alg, accountDoesNotExist / unauthorized for kid,
 * badPublicKey for the key, malformed for the signature, badNonce for the
 * nonce, unauthorized for url. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/acme/b64.h"
#include "base/error.h"
#include "harness/server/internal.h"

static const char *const algorithms[] = {"ES256", "ES384", "RS256", "EdDSA", NULL};

const char *const *srv_algorithms(void) { return algorithms; }

static int alg_supported(const char *alg) {
  for (const char *const *a = algorithms; alg && *a; a++)
    if (strcmp(*a, alg) == 0) return 1;
  return 0;
}

/* RSA below 2048 bits is refused (RFC 7518 §3.3); above 8192 checking and
 * verifying get slow enough to be a denial-of-service lever. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS ACMEH_JWK_RSA_MAX_BITS

static int rsa_bits_ok(int bits, char *why, size_t whylen) {
  if (bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS) return 1;
  snprintf(why, whylen, "RSA keys must have %d to %d bits; this one has %d", RSA_MIN_BITS, RSA_MAX_BITS, bits);
  return 0;
}

int srv_key_from_jwk(const json_t *jwk, acmeh_key **out, char *why, size_t whylen) {
  int bits = acmeh_jwk_rsa_bits(jwk);
  if (bits && !rsa_bits_ok(bits, why, whylen)) return 0;
  if (acmeh_key_from_jwk(jwk, out) == ACMEH_OK) return 1;
  snprintf(why, whylen, "jwk is not a supported key (EC P-256/P-384, RSA, Ed25519)");
  return 0;
}

int srv_key_acceptable(const acmeh_key *k, const char *alg, char *why, size_t whylen) {
  const char *kalg = acmeh_key_alg(k);
  if (alg && strcmp(alg, kalg) != 0) {
    snprintf(why, whylen, "alg %s does not fit this key (a %s key; ES256 needs P-256, ES384 P-384, EdDSA Ed25519)",
             alg, kalg);
    return 0;
  }
  if (acmeh_key_type(k) == ACMEH_KEY_RS256) return rsa_bits_ok(EVP_PKEY_get_bits(acmeh_key_pkey(k)), why, whylen);
  return 1;
}

static int media_is(const char *value, const char *want) {
  if (!value) return 0;
  size_t n = strcspn(value, "; \t");
  return n == strlen(want) && strncasecmp(value, want, n) == 0;
}

static void bad_alg(srv_resp *rs, const char *alg) {
  json_t *p = srv_problem_obj("badSignatureAlgorithm", "");
  char d[200];
  snprintf(d, sizeof d, "JWS alg \"%.40s\" is not supported; use one of ES256, ES384, RS256, EdDSA",
           alg ? alg : "(none)");
  json_object_set_new(p, "detail", json_string(d));
  json_t *list = json_array();
  for (const char *const *a = algorithms; *a; a++) json_array_append_new(list, json_string(*a));
  json_object_set_new(p, "algorithms", list);
  srv_problem_send(rs, 400, p);
}

/* The account a kid names: exactly an account URL this server gave out. */
static srv_account *kid_account(acmeh_server *s, const char *kid) {
  char *prefix = srv_url(s, "acct", "");
  size_t n = prefix ? strlen(prefix) : 0;
  srv_account *a = NULL;
  if (prefix && strncmp(kid, prefix, n) == 0) a = srv_account_get(s, kid + n);
  free(prefix);
  return a;
}

/* Steps 3-5: alg, jwk xor kid, the key and whether it is acceptable. */
static int identify(srv_req *rq, srv_resp *rs, srv_auth how, acmeh_key **key) {
  const json_t *h = rq->jws.protected_hdr;
  const char *alg = json_string_value(json_object_get(h, "alg"));
  if (!alg_supported(alg)) return bad_alg(rs, alg), 0;
  json_t *jwk = json_object_get(h, "jwk"), *kidj = json_object_get(h, "kid");
  if (jwk && kidj) return srv_problem(rs, 400, "malformed", "the protected header has both jwk and kid (RFC 8555 §6.2)"), 0;
  if (!jwk && !kidj) return srv_problem(rs, 400, "malformed", "the protected header has neither jwk nor kid"), 0;
  if (how == AUTH_JWK && !jwk)
    return srv_problem(rs, 400, "malformed", "this resource must be signed with a jwk, not a kid (RFC 8555 §6.2)"), 0;
  if (how == AUTH_KID && !kidj)
    return srv_problem(rs, 400, "malformed", "this resource must be signed with a kid (the account URL), not a jwk"), 0;
  char why[200];
  if (jwk) {
    if (!json_is_object(jwk) || json_object_get(jwk, "d"))
      return srv_problem(rs, 400, "malformed", "jwk must be a public JWK object"), 0;
    if (!srv_key_from_jwk(jwk, &rq->jwk, why, sizeof why)) return srv_problem(rs, 400, "badPublicKey", "%s", why), 0;
    *key = rq->jwk;
  } else {
    const char *kid = json_string_value(kidj);
    rq->acct = kid ? kid_account(rq->s, kid) : NULL;
    if (!rq->acct) return srv_problem(rs, 400, "accountDoesNotExist", "kid names no account of this server"), 0;
    if (rq->acct->status != ACCT_VALID)
      return srv_problem(rs, 401, "unauthorized", "the account is deactivated (RFC 8555 §7.3.6)"), 0;
    *key = rq->acct->key;
  }
  if (!srv_key_acceptable(*key, alg, why, sizeof why)) return srv_problem(rs, 400, "badPublicKey", "%s", why), 0;
  return 1;
}

/* Steps 7-9: nonce, url, payload. */
static int replay_url_payload(srv_req *rq, srv_resp *rs) {
  const json_t *h = rq->jws.protected_hdr;
  const char *nonce = json_string_value(json_object_get(h, "nonce"));
  if (!nonce) return srv_problem(rs, 400, "badNonce", "the protected header has no nonce"), 0;
  if (!acmeh_b64url_valid(nonce))
    return srv_problem(rs, 400, "malformed", "nonce is not base64url (RFC 8555 §6.5.2)"), 0;
  if (!srv_nonce_redeem(rq->s->nonces, nonce))
    return srv_problem(rs, 400, "badNonce", "nonce was not issued by this server or was used already"), 0;
  const char *url = json_string_value(json_object_get(h, "url"));
  if (!url) return srv_problem(rs, 400, "malformed", "the protected header has no url (RFC 8555 §6.4)"), 0;
  if (strcmp(url, rq->url) != 0)
    return srv_problem(rs, 403, "unauthorized", "url \"%.200s\" is not the request URL %.200s (RFC 8555 §6.4)", url,
                       rq->url), 0;
  if (rq->jws.payload_b64[0] == '\0') {
    rq->post_as_get = 1;
    return 1;
  }
  json_error_t je;
  rq->payload = json_loadb((const char *)rq->jws.payload, rq->jws.payload_len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(rq->payload))
    return srv_problem(rs, 400, "malformed", "payload is not a JSON object%s%s", rq->payload ? "" : ": ",
                       rq->payload ? "" : je.text), 0;
  return 1;
}

int srv_jws_verify(srv_req *rq, srv_resp *rs, srv_auth how) {
  if (!media_is(acmeh_httpsrv_req_header(rq->http, "Content-Type"), "application/jose+json")) {
    srv_problem(rs, 415, "malformed", "POST bodies must be Content-Type application/jose+json (RFC 8555 §6.2)");
    return 0;
  }
  char why[256];
  if (acmeh_jws_parse(rq->http->body, rq->http->body_len, &rq->jws, why, sizeof why) != ACMEH_OK) {
    srv_problem(rs, 400, "malformed", "not a flattened JWS: %s", why);
    return 0;
  }
  acmeh_key *key = NULL;
  if (!identify(rq, rs, how, &key)) return 0;
  if (rq->jws.sig_len == 0 || acmeh_jws_verify(&rq->jws, key) != ACMEH_OK) {
    srv_problem(rs, 400, "malformed", "JWS signature does not verify");
    return 0;
  }
  rq->verified = replay_url_payload(rq, rs);
  if (rq->verified && rq->jwk && acmeh_key_thumbprint(rq->jwk, rq->jwk_thumb) != ACMEH_OK) rq->jwk_thumb[0] = '\0';
  return rq->verified;
}
