#include "harness/client/flow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/jws.h"
#include "harness/acme/challenge.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/client/chaltype.h"

json_t *acmeh_flow_eab_binding(const acmeh_key *account_key, const char *url, const char *kid,
                               const unsigned char *mac_key, size_t mac_key_len) {
  json_t *jwk = acmeh_key_jwk(account_key), *out = NULL;
  char *jwk_text = jwk ? json_dumps(jwk, JSON_COMPACT) : NULL, *jws = NULL;
  acmeh_jws_opts o = {.kid = kid, .url = url, .mac_key = mac_key, .mac_key_len = mac_key_len}; /* no nonce */
  if (jwk_text && acmeh_jws_build(NULL, jwk_text, strlen(jwk_text), &o, &jws) == ACMEH_OK) out = json_loads(jws, 0, NULL);
  free(jws), free(jwk_text);
  json_decref(jwk);
  return out;
}

/* `payload` (NULL = the default) with the binding for key added, malloc'd; NULL on failure. */
static char *with_eab(const char *payload, const acmeh_key *key, const char *url, const char *kid, const char *key_b64) {
  unsigned char *mac = NULL;
  size_t maclen = 0;
  json_t *p = json_loads(payload ? payload : "{\"termsOfServiceAgreed\":true}", 0, NULL), *b = NULL;
  if (json_is_object(p) && acmeh_b64url_decode(key_b64, strlen(key_b64), &mac, &maclen) == ACMEH_OK)
    b = acmeh_flow_eab_binding(key, url, kid, mac, maclen);
  char *out = b && json_object_set_new(p, "externalAccountBinding", b) == 0 ? json_dumps(p, JSON_COMPACT) : NULL;
  free(mac);
  json_decref(p);
  return out;
}

int acmeh_flow_new_account(acmeh_acme *c, acmeh_keytype kt, const char *payload,
                           acmeh_http_resp *resp, char *err, size_t errlen) {
  return acmeh_flow_new_account_eab(c, kt, payload, NULL, NULL, resp, err, errlen);
}

int acmeh_flow_new_account_eab(acmeh_acme *c, acmeh_keytype kt, const char *payload, const char *eab_kid,
                               const char *eab_key_b64url, acmeh_http_resp *resp, char *err, size_t errlen) {
  acmeh_key *key = NULL;
  if (acmeh_key_generate(kt, &key)) return acmeh_acme_step_result(c, acmeh_msg(err, errlen, ACMEH_INTERNAL, "key generation failed"));
  const char *url = acmeh_acme_dir_url(c, "newAccount");
  acmeh_acme_step_set(c, url ? "newAccount" : "directory");
  char *bound = url && eab_kid && eab_key_b64url ? with_eab(payload, key, url, eab_kid, eab_key_b64url) : NULL;
  if (!url || (eab_kid && eab_key_b64url && !bound)) {
    acmeh_key_free(key);
    return acmeh_acme_step_result(c, acmeh_msg(err, errlen, url ? ACMEH_INVALID_ARG : ACMEH_PEER_PROTOCOL,
                     url ? "cannot build the externalAccountBinding (payload not an object, or key not base64url)"
                         : "directory has no newAccount URL"));
  }
  acmeh_http_resp local;
  acmeh_http_resp *r = resp ? resp : &local;
  acmeh_post_opts o = {.use_jwk = 1, .key = key};
  int rc = acmeh_acme_post(c, url, bound ? bound : payload ? payload : "{\"termsOfServiceAgreed\":true}", &o, r, err, errlen);
  free(bound);
  const char *loc = rc ? NULL : acmeh_http_header_get(r, "Location");
  if (rc == ACMEH_OK && ((r->status != 201 && r->status != 200) || !loc)) {
    char d[300];
    acmeh_resp_describe(r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "newAccount answered %s%s", d,
                   loc ? "" : " without Location");
  }
  if (rc == ACMEH_OK) acmeh_acme_set_account(c, key, loc);
  else acmeh_key_free(key);
  if (!resp) acmeh_http_resp_free(&local);
  return acmeh_acme_step_result(c, rc);
}

/* An address literal is an "ip" identifier (RFC 8738 §3); "pk:<value>",
 * "selfsign-cert:<value>" and "csr:<value>" are key identifiers
 * (draft-geng-acme-public-key, harness/acme/pk.h); a "dtn:" / "ipn:" EID a
 * "bundleEID" (RFC 9891 §2); anything else "dns". */
static const char *identifier_type(const char *name, const char **value) {
  static const char *const keys[] = {"pk", "selfsign-cert", "csr"};
  unsigned char bin[16];
  *value = name;
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strncmp(name, keys[i], strlen(keys[i])) == 0 && name[strlen(keys[i])] == ':')
      return *value = name + strlen(keys[i]) + 1, keys[i];
  if (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1) return "ip";
  return acmeh_is_bundle_eid(name) ? "bundleEID" : "dns";
}

static json_t *identifiers(const char *const *names, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    const char *value, *type = identifier_type(names[i], &value);
    json_array_append_new(a, json_pack("{s:s,s:s}", "type", type, "value", value));
  }
  return a;
}

int acmeh_flow_new_order(acmeh_acme *c, const char *const *names, size_t n, char **order_url,
                         json_t **order, char *err, size_t errlen) {
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  acmeh_acme_step_set(c, url ? "newOrder" : "directory");
  if (!url) return acmeh_acme_step_result(c, acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "directory has no newOrder URL"));
  json_t *p = json_pack("{s:o}", "identifiers", identifiers(names, n));
  char *payload = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  acmeh_http_resp r;
  int rc = acmeh_acme_post(c, url, payload, NULL, &r, err, errlen);
  free(payload);
  const char *loc = rc ? NULL : acmeh_http_header_get(&r, "Location");
  *order = rc ? NULL : acmeh_resp_json(&r);
  if (rc == ACMEH_OK && (r.status != 201 || !loc || !json_is_object(*order))) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "newOrder answered %s%s", d, loc ? "" : " without Location");
  }
  *order_url = rc ? NULL : strdup(loc);
  if (rc) json_decref(*order), *order = NULL;
  acmeh_http_resp_free(&r);
  return acmeh_acme_step_result(c, rc);
}

static int is_waiting(const char *status, const char *const *waiting, size_t n) {
  for (size_t i = 0; status && i < n; i++)
    if (strcmp(status, waiting[i]) == 0) return 1;
  return 0;
}

/* Shortest wait between polls when Retry-After asks for less (0, or a date
 * already past): §8.2 leaves the pace to the client, and without a floor a
 * server saying "now" draws a busy loop of thousands of requests per check
 * budget. 250 ms still lets a loopback server finish in a few polls. */
#define POLL_FLOOR_MS 250
/* Longest wait kept as asked: longer is past any check's budget anyway, and
 * clamping first keeps the double -> long conversion in range (a Retry-After
 * of 20 digits parses to ~9e18 seconds). */
#define POLL_CAP_MS (24L * 3600 * 1000)

/* Milliseconds to wait before the next poll: what Retry-After asked (RFC 8555
 * §7.4, §8.2; at least POLL_FLOOR_MS, at most POLL_CAP_MS), else an
 * exponential back-off starting fast for loopback peers. A valid Retry-After's
 * text goes into ra_text (ra_len bytes; "" without one). */
static long next_wait_ms(const acmeh_http_resp *r, long *backoff, char *ra_text, size_t ra_len) {
  double ra;
  ra_text[0] = '\0';
  if (acmeh_http_retry_after(r, &ra)) {
    snprintf(ra_text, ra_len, "%.60s", acmeh_http_header_get(r, "Retry-After"));
    double ms = ra * 1000;
    return ms < POLL_FLOOR_MS ? POLL_FLOOR_MS : ms > (double)POLL_CAP_MS ? POLL_CAP_MS : (long)ms;
  }
  long w = *backoff;
  *backoff = *backoff * 2 > 1000 ? 1000 : *backoff * 2;
  return w;
}

int acmeh_flow_poll(acmeh_acme *c, const char *url, const char *const *waiting, size_t n_waiting,
                    json_t **obj, char *err, size_t errlen) {
  long backoff = 10;
  double deadline = acmeh_acme_deadline(c) ? acmeh_acme_deadline(c) : acmeh_now_mono() + 60;
  *obj = NULL;
  for (;;) {
    acmeh_http_resp r;
    json_t *o = NULL;
    char ra[64] = "";
    int rc = acmeh_acme_get_json(c, url, &o, &r, err, errlen);
    long wait = rc ? 0 : next_wait_ms(&r, &backoff, ra, sizeof ra);
    acmeh_http_resp_free(&r);
    if (rc) return rc;
    const char *st = json_string_value(json_object_get(o, "status"));
    json_decref(*obj);
    *obj = o;
    if (!is_waiting(st, waiting, n_waiting)) return ACMEH_OK;
    double left = deadline - acmeh_now_mono();
    if (left * 1000 < wait)
      return acmeh_msg(err, errlen, ACMEH_DEADLINE,
                       "%s still \"%s\"; next poll in %ld ms%s%s%s would pass the time budget (%.0f ms left)", url, st,
                       wait, ra[0] ? " (the server sent Retry-After: \"" : "", ra, ra[0] ? "\")" : "",
                       left > 0 ? left * 1000 : 0);
    if (ra[0]) acmeh_http_note(acmeh_acme_http(c), "%s still \"%s\", Retry-After \"%s\": next poll in %ld ms%s", url, st,
                               ra, wait, wait == POLL_FLOOR_MS ? " (the client's floor)" : "");
    acmeh_sleep_ms(wait);
  }
}

const json_t *acmeh_flow_find_challenge(const json_t *authz, const char *type) {
  size_t i;
  const json_t *ch;
  json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
    const char *t = json_string_value(json_object_get(ch, "type"));
    if (t && strcmp(t, type) == 0) return ch;
  }
  return NULL;
}

static char *chal_keyauth(acmeh_acme *c, const json_t *chal) {
  const char *token = json_string_value(json_object_get(chal, "token"));
  if (!token) token = json_string_value(json_object_get(chal, "token-chal")); /* bp-nodeid-00 (RFC 9891 §3.1) */
  char tp[44];
  if (!token || acmeh_acme_thumbprint(c, tp) != ACMEH_OK) return NULL;
  return acmeh_key_authorization(token, tp);
}

/* The row of the challenge's type and the response to publish or remove. */
static const acmeh_chaltype *response_of(acmeh_acme *c, const acmeh_publisher *pub, const json_t *chal, const char *name,
                                         const char *keyauth, acmeh_chal_response *r) {
  int wild = name && strncmp(name, "*.", 2) == 0; /* a wildcard authorization of the base name */
  *r = (acmeh_chal_response){.c = c, .pub = pub, .chal = chal, .name = wild ? name + 2 : name, .wildcard = wild, .keyauth = keyauth};
  return acmeh_chaltype_find(json_string_value(json_object_get(chal, "type")));
}

int acmeh_flow_publish(acmeh_acme *c, const acmeh_publisher *pub, const json_t *chal, const char *name,
                       char *err, size_t errlen) {
  const char *type = json_string_value(json_object_get(chal, "type"));
  char *ka = chal_keyauth(c, chal);
  const acmeh_chaltype *row = acmeh_chaltype_find(type);
  if ((!ka && !(row && row->tokenless)) || !type) {
    free(ka);
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "challenge has no token or type");
  }
  acmeh_chal_response r;
  const acmeh_chaltype *t = response_of(c, pub, chal, name, ka, &r);
  int rc = t ? t->publish(&r, err, errlen)
             : acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "the reference client does not answer %s challenges", type);
  free(ka);
  return rc;
}

void acmeh_flow_unpublish(acmeh_acme *c, const acmeh_publisher *pub, const json_t *chal, const char *name) {
  acmeh_chal_response r;
  const acmeh_chaltype *t = response_of(c, pub, chal, name, NULL, &r);
  if (t) t->unpublish(&r);
}

/* The step name of answering a challenge of `type` ("http-01 challenge"):
 * each type's validation has its own judges (runner/suite.h step_judges). */
static const char *challenge_step(const char *type) {
  static const char *const steps[] = {"http-01 challenge", "dns-01 challenge", "tls-alpn-01 challenge", "dns-account-01 challenge",
                                      "pk-01 challenge", "dns-persist-01 challenge", "bp-nodeid-00 challenge",
                                      "device-attest-01 challenge"};
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
    if (type && strncmp(steps[i], type, strlen(type)) == 0 && steps[i][strlen(type)] == ' ') return steps[i];
  return "challenge";
}

/* The response payload the challenge's row asks for ("{}" for most), malloc'd;
 * rows that sign over the keyAuthorization (device-attest-01) get it. */
static char *response_payload(acmeh_acme *c, const json_t *chal, const char *name, char *err, size_t errlen) {
  acmeh_chal_response r;
  char *ka = json_object_get(chal, "token") ? chal_keyauth(c, chal) : NULL;
  const acmeh_chaltype *t = response_of(c, NULL, chal, name, ka, &r);
  char *p = t && t->response ? t->response(&r, err, errlen) : strdup("{}");
  free(ka);
  return p;
}

static int respond_and_poll(acmeh_acme *c, const char *authz_url, const json_t *chal, const char *name, json_t **final,
                            char *err, size_t errlen) {
  const char *curl_ = json_string_value(json_object_get(chal, "url"));
  if (!curl_) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "challenge has no url");
  char *payload = response_payload(c, chal, name, err, errlen);
  if (!payload) return ACMEH_INTERNAL;
  acmeh_http_resp r;
  int rc = acmeh_acme_post(c, curl_, payload, NULL, &r, err, errlen);
  free(payload);
  if (rc == ACMEH_OK && r.status != 200) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "challenge response POST answered %s", d);
  }
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(c, authz_url, waiting, 2, final, err, errlen);
  return rc;
}

int acmeh_flow_authorize(acmeh_acme *c, const acmeh_publisher *pub, const char *authz_url, const char *type,
                         json_t **final_authz, char *err, size_t errlen) {
  json_t *authz = NULL;
  *final_authz = NULL;
  acmeh_acme_step_set(c, "authorization");
  int rc = acmeh_acme_get_json(c, authz_url, &authz, NULL, err, errlen);
  if (rc) return acmeh_acme_step_result(c, rc);
  const char *st = json_string_value(json_object_get(authz, "status"));
  if (st && strcmp(st, "valid") == 0) {
    *final_authz = authz; /* reused authorization: nothing to do (§7.1.3) */
    return acmeh_acme_step_result(c, ACMEH_OK);
  }
  const json_t *chal = acmeh_flow_find_challenge(authz, type);
  const char *name = json_string_value(json_object_get(json_object_get(authz, "identifier"), "value"));
  if (!chal || !name) {
    json_decref(authz);
    return acmeh_acme_step_result(c, acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "authorization offers no %s challenge", type));
  }
  acmeh_acme_step_set(c, challenge_step(type));
  char *as = NULL; /* "*.<name>" for a wildcard authorization (RFC 8555 §7.1.4) */
  if (json_is_true(json_object_get(authz, "wildcard")) && asprintf(&as, "*.%s", name) < 0) as = NULL;
  /* "<type>:<value>" for device identifiers: device-attest-01's row needs the type (a bundleEID is its own value) */
  const char *itype = json_string_value(json_object_get(json_object_get(authz, "identifier"), "type"));
  int devid = itype && (strcmp(itype, "permanent-identifier") == 0 || strcmp(itype, "hardware-module") == 0);
  if (!as && devid && asprintf(&as, "%s:%s", itype, name) < 0) as = NULL;
  rc = acmeh_flow_publish(c, pub, chal, as ? as : name, err, errlen);
  if (rc == ACMEH_OK) rc = respond_and_poll(c, authz_url, chal, as ? as : name, final_authz, err, errlen);
  acmeh_flow_unpublish(c, pub, chal, as ? as : name);
  free(as);
  st = rc ? NULL : json_string_value(json_object_get(*final_authz, "status"));
  if (rc == ACMEH_OK && strcmp(st ? st : "", "valid") != 0) {
    char *e = json_dumps(json_object_get(acmeh_flow_find_challenge(*final_authz, type), "error"), JSON_COMPACT);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "authorization %s ended \"%s\" (challenge error: %.600s)",
                   authz_url, st ? st : "(none)", e ? e : "none");
    free(e);
  }
  json_decref(authz);
  return acmeh_acme_step_result(c, rc);
}

void acmeh_issued_clear(acmeh_issued *is) {
  free(is->order_url);
  json_decref(is->order);
  free(is->cert_url);
  free(is->chain_pem);
  EVP_PKEY_free(is->cert_key);
  for (size_t i = 0; i < is->nnames; i++) free(is->names[i]);
  free(is->names);
  memset(is, 0, sizeof *is);
}

static int authorize_all(acmeh_acme *c, const acmeh_publisher *pub, const json_t *order, const char *type,
                         char *err, size_t errlen) {
  size_t i;
  const json_t *u;
  json_array_foreach(json_object_get(order, "authorizations"), i, u) {
    json_t *final = NULL;
    int rc = json_is_string(u) ? acmeh_flow_authorize(c, pub, json_string_value(u), type, &final, err, errlen)
                               : acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "authorization URL is not a string");
    json_decref(final);
    if (rc) return rc;
  }
  return ACMEH_OK;
}

int acmeh_flow_ready_order(acmeh_acme *c, const acmeh_publisher *pub, const char *const *names, size_t n,
                           const char *type, acmeh_issued *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->names = calloc(n, sizeof *out->names);
  for (size_t i = 0; out->names && i < n; i++) out->names[out->nnames++] = strdup(names[i]);
  int rc = acmeh_flow_new_order(c, names, n, &out->order_url, &out->order, err, errlen);
  if (rc == ACMEH_OK) rc = authorize_all(c, pub, out->order, type, err, errlen);
  static const char *const waiting[] = {"pending"};
  json_t *o = NULL;
  if (rc == ACMEH_OK) acmeh_acme_step_set(c, "ready");
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(c, out->order_url, waiting, 1, &o, err, errlen);
  if (o) json_decref(out->order), out->order = o;
  const char *st = rc ? NULL : json_string_value(json_object_get(out->order, "status"));
  if (rc == ACMEH_OK && strcmp(st ? st : "", "ready") != 0)
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "order is \"%s\" after all authorizations are valid, not \"ready\"",
                   st ? st : "(none)");
  return acmeh_acme_step_result(c, rc);
}

static int download(acmeh_acme *c, acmeh_issued *out, char *err, size_t errlen) {
  const char *url = json_string_value(json_object_get(out->order, "certificate"));
  if (!url) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "valid order has no certificate URL");
  acmeh_acme_step_set(c, "certificate");
  out->cert_url = strdup(url);
  acmeh_http_resp r;
  int rc = acmeh_acme_post(c, url, NULL, NULL, &r, err, errlen);
  if (rc == ACMEH_OK && r.status != 200)
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "certificate download answered %ld", r.status);
  if (rc == ACMEH_OK) out->chain_pem = strdup(r.body);
  acmeh_http_resp_free(&r);
  return rc;
}

int acmeh_flow_finalize(acmeh_acme *c, acmeh_issued *out, const char *csr_b64, char *err,
                        size_t errlen) {
  const char *fin = json_string_value(json_object_get(out->order, "finalize"));
  acmeh_acme_step_set(c, fin ? "finalize" : "newOrder"); /* an order without finalize is newOrder's fault */
  if (!fin) return acmeh_acme_step_result(c, acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "order has no finalize URL"));
  char *payload = NULL; /* no CSR: a key identifier's order (draft-geng-acme-public-key) */
  if (!csr_b64) payload = strdup("{}");
  else if (asprintf(&payload, "{\"csr\":\"%s\"}", csr_b64) < 0) payload = NULL;
  if (!payload) return acmeh_acme_step_result(c, ACMEH_NOMEM);
  acmeh_http_resp r;
  int rc = acmeh_acme_post(c, fin, payload, NULL, &r, err, errlen);
  free(payload);
  if (rc == ACMEH_OK && r.status != 200) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "finalize answered %s", d);
  }
  /* §7.4: the answer is the updated order; only "processing" (or a server
   * still showing "ready") needs polling, and a server that issued at once
   * has already said "valid" with the certificate URL. */
  json_t *o = rc ? NULL : acmeh_resp_json(&r);
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"ready", "processing"};
  const char *st = json_string_value(json_object_get(o, "status"));
  if (rc == ACMEH_OK && (!st || is_waiting(st, waiting, 2))) {
    json_decref(o), o = NULL;
    rc = acmeh_flow_poll(c, out->order_url, waiting, 2, &o, err, errlen);
  }
  if (o) json_decref(out->order), out->order = o;
  st = rc ? NULL : json_string_value(json_object_get(out->order, "status"));
  if (rc == ACMEH_OK && strcmp(st ? st : "", "valid") != 0)
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "order ended \"%s\" after finalize, not \"valid\"", st ? st : "(none)");
  return acmeh_acme_step_result(c, rc ? rc : download(c, out, err, errlen));
}

int acmeh_flow_issue(acmeh_acme *c, const acmeh_publisher *pub, const char *const *names, size_t n,
                     const char *type, acmeh_issued *out, char *err, size_t errlen) {
  int rc = acmeh_flow_ready_order(c, pub, names, n, type, out, err, errlen);
  acmeh_key *ck = NULL;
  if (rc == ACMEH_OK && acmeh_key_generate(ACMEH_KEY_ES256, &ck))
    rc = acmeh_msg(err, errlen, ACMEH_INTERNAL, "CSR key generation failed");
  char *csr = NULL;
  if (rc == ACMEH_OK && acmeh_csr_build(acmeh_key_pkey(ck), names, n, &csr))
    rc = acmeh_msg(err, errlen, ACMEH_INTERNAL, "CSR build failed");
  if (ck) {
    out->cert_key = acmeh_key_pkey(ck);
    EVP_PKEY_up_ref(out->cert_key);
    acmeh_key_free(ck);
  }
  if (rc == ACMEH_OK) rc = acmeh_flow_finalize(c, out, csr, err, errlen);
  free(csr);
  return acmeh_acme_step_result(c, rc);
}
