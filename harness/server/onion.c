/* The reference server's RFC 9799 side: v3 .onion names as dns identifiers
 * (§2), the onion-csr-01 challenge (§3.2) and in-band CAA at finalize (§6.4,
 * §6.4.1). The server fetches no onion service descriptors, so when it offers
 * onion names it requires in-band CAA and says so in its directory's meta.
 * Each srv_onion_mode other than off/on breaks one rule on purpose, for the
 * onion suite's own tests (server.h, onion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/rand.h"
#include "harness/acme/b64.h"
#include "harness/acme/onion.h"
#include "harness/server/internal.h"

#define NONCE_BYTES 16 /* 128 bits: twice the RFC's minimum */
#define CAA_MAX 4096   /* one onionCAA "caa" text (a descriptor's CAA lines) */

int srv_onion_mode_parse(const char *name) {
  static const char *const names[] = {"off",           "on",           "v2-ok",           "no-checksum",   "dns01-too",
                                      "everywhere",    "base64url-nonce", "short-nonce",  "any-key",       "nonce-unchecked",
                                      "short-applicant-nonce", "subject-checked", "caa-unchecked", "caa-32bit", "caa-wrong-error",
                                      "authkey-reused", "no-wildcard"};
  if (!name) return ONION_ON;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0) return (int)i; /* same order as srv_onion_mode */
  return -1;
}

int srv_onion_caa_flag_parse(const char *name) {
  static const char *const names[] = {"none", "inBandOnionCAARequired", "onionCAARequired", "both"};
  if (!name) return 3;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0) return (int)i;
  return -1;
}

const char *srv_onion_name_problem(const acmeh_server *s, const char *name, char *why, size_t whylen) {
  if (!acmeh_onion_is(name)) return NULL;
  if (s->onion == ONION_OFF) return "is a .onion name; this server does not implement RFC 9799";
  if (acmeh_onion_parse(name, NULL, why, whylen) == ACMEH_OK) return NULL;
  size_t n = 0;
  const char *dot = strstr(name, ".onion");
  for (const char *p = dot; p > name && p[-1] != '.'; p--) n++;
  if (s->onion == ONION_V2_OK && n == 16) return NULL;
  if (s->onion == ONION_NO_CHECKSUM && n == ACMEH_ONION_LABEL_LEN) return NULL;
  return why;
}

int srv_onion_offers(const acmeh_server *s, srv_chal_type t, const char *name) {
  int onion = acmeh_onion_is(name), row = srv_chaltype(t)->onion;
  if (t == CHAL_ONIONCSR01) return s->onion != ONION_OFF && (onion || s->onion == ONION_EVERYWHERE);
  if (onion && t == CHAL_DNS01 && s->onion == ONION_DNS01_TOO) return 1;
  if (onion && (t == CHAL_HTTP01 || t == CHAL_TLSALPN01)) return s->socks5_port > 0; /* §3.1.2, §3.1.3: over Tor only */
  return onion ? row != 0 : row != 2;
}

int srv_onion_nonce(const acmeh_server *s, char out[32]) {
  unsigned char raw[NONCE_BYTES];
  size_t n = s->onion == ONION_SHORT_NONCE ? 4 : NONCE_BYTES;
  if (acmeh_rand_bytes(raw, n) != ACMEH_OK || acmeh_onion_nonce_encode(raw, n, out, 32) != ACMEH_OK) return ACMEH_INTERNAL;
  if (s->onion == ONION_BASE64URL_NONCE) { /* the deviation: base64url, no padding */
    for (char *p = out; *p; p++) *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    char *eq = strchr(out, '=');
    if (eq) *eq = 0;
  }
  return ACMEH_OK;
}

/* RFC 9799 §4: the key the CA would fetch a client-authorized descriptor
 * with, as an RFC 8037 OKP JWK's "x"; a fresh key per challenge, so never
 * one key for two services (MUST NOT). This server fetches no descriptors, so
 * it keeps only the public half. */
int srv_onion_auth_key(acmeh_server *s, char out[48]) {
  if (s->onion == ONION_AUTHKEY_REUSED && s->onion_auth_reused[0]) return snprintf(out, 48, "%s", s->onion_auth_reused), ACMEH_OK;
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  unsigned char pub[32];
  char *x = k && acmeh_onion_pub(k, pub) == ACMEH_OK ? acmeh_b64url_encode(pub, 32) : NULL;
  EVP_PKEY_free(k);
  if (!x) return ACMEH_INTERNAL;
  snprintf(out, 48, "%s", x);
  if (s->onion == ONION_AUTHKEY_REUSED) snprintf(s->onion_auth_reused, sizeof s->onion_auth_reused, "%s", x);
  free(x);
  return ACMEH_OK;
}

int srv_onioncsr01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  const char *csr = json_string_value(json_object_get(rq->payload, "csr"));
  for (int i = 0; i < a->nchal; i++)
    if (a->chal[i].type == CHAL_ONIONCSR01) snprintf(v->onion_nonce, sizeof v->onion_nonce, "%s", a->chal[i].nonce);
  v->onion = s->onion;
  v->csr = csr ? strdup(csr) : NULL;
  return !csr || v->csr ? ACMEH_OK : ACMEH_NOMEM;
}

/* A deviation's verification: what the mode skips is not checked. */
static int deviant_verify(const srv_validation *v, const acmeh_onion_csr_info *in, const unsigned char pub[32],
                          const unsigned char *nonce, size_t nlen, char *why, size_t whylen) {
  if (!in->has_pub || !in->sig_ok) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the CSR is not signed by an Ed25519 key");
  if (v->onion != ONION_ANY_KEY && memcmp(in->pub, pub, 32) != 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the CSR's key is not the onion address's key");
  if (v->onion != ONION_NONCE_UNCHECKED && (in->ca_len != (int)nlen || memcmp(in->ca_nonce, nonce, nlen) != 0))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "caSigningNonce is not the challenge nonce's decoded bytes");
  if (v->onion != ONION_SHORT_APP_NONCE && in->app_len < ACMEH_ONION_NONCE_MIN)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "applicantSigningNonce missing or shorter than 64 bits");
  return ACMEH_OK;
}

/* ONION_SUBJECT_CHECKED: the deviation validates the subject (RFC 9799 §3.2
 * says servers MUST NOT): an empty one or CN = the name passes. */
static int subject_ok(const char *csr_b64, const char *name) {
  acmeh_csr *req = NULL;
  if (acmeh_csr_read(csr_b64, &req) != ACMEH_OK) return 0;
  const X509_NAME *sub = acmeh_csr_subject(req);
  int n = X509_NAME_entry_count(sub), ok = n == 0;
  char cn[256];
  if (n > 0 && X509_NAME_get_text_by_NID((X509_NAME *)sub, NID_commonName, cn, sizeof cn) > 0) ok = n == 1 && strcmp(cn, name) == 0;
  acmeh_csr_free(req);
  return ok;
}

json_t *srv_validate_onioncsr01(const srv_validation *v) {
  unsigned char pub[32], nonce[64];
  size_t nlen = 0;
  char why[300] = "";
  if (!v->csr) return srv_problem_obj("malformed", "the onion-csr-01 response needs {\"csr\": base64url DER} (RFC 9799 §3.2)");
  if (acmeh_onion_parse(v->name, pub, why, sizeof why) != ACMEH_OK) {
    if (v->onion != ONION_EVERYWHERE) return srv_problem_obj("rejectedIdentifier", why);
    memset(pub, 0, sizeof pub); /* the deviation: no onion key to compare with */
  }
  const char *b64 = v->onion_nonce;
  char padded[40];
  if (v->onion == ONION_BASE64URL_NONCE) { /* decode what this deviation sent */
    snprintf(padded, sizeof padded, "%s", b64);
    for (char *p = padded; *p; p++) *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    while (strlen(padded) % 4) strcat(padded, "=");
    b64 = padded;
  }
  if (acmeh_onion_nonce_decode(b64, nonce, sizeof nonce, &nlen) != ACMEH_OK) return srv_problem_obj("serverInternal", "bad stored nonce");
  int rc;
  if (v->onion == ONION_ON || v->onion == ONION_V2_OK || v->onion == ONION_NO_CHECKSUM || v->onion == ONION_DNS01_TOO ||
      v->onion == ONION_SHORT_NONCE || v->onion == ONION_BASE64URL_NONCE || v->onion >= ONION_CAA_UNCHECKED) {
    rc = acmeh_onion_csr_verify(v->csr, pub, nonce, nlen, why, sizeof why);
  } else {
    acmeh_onion_csr_info in;
    rc = acmeh_onion_csr_read(v->csr, &in, why, sizeof why);
    if (rc == ACMEH_OK) rc = deviant_verify(v, &in, pub, nonce, nlen, why, sizeof why);
    if (rc == ACMEH_OK && v->onion == ONION_SUBJECT_CHECKED && !subject_ok(v->csr, v->name))
      rc = acmeh_msg(why, sizeof why, ACMEH_PEER_PROTOCOL, "the CSR's subject is not empty nor CN=%s", v->name);
  }
  if (rc == ACMEH_OK) return NULL;
  char detail[400];
  snprintf(detail, sizeof detail, "onion-csr-01 CSR refused: %s (RFC 9799 §3.2)", why);
  return srv_problem_obj(rc == ACMEH_PEER_PROTOCOL ? "incorrectResponse" : "serverInternal", detail);
}

/* ---- in-band CAA at finalize (§6.4, §6.4.1) ------------------------------ */

void srv_onion_meta(const acmeh_server *s, json_t *meta) {
  if (s->onion == ONION_OFF || !meta) return;
  if (s->onion_caa_flag & 1) json_object_set_new(meta, "inBandOnionCAARequired", json_true());
  if (s->onion_caa_flag & 2) json_object_set_new(meta, "onionCAARequired", json_true());
}

/* The entry of onionCAA for base onion name `base` (its own key, or the
 * first key under it: the RFC does not pin subdomain keys down). */
static const json_t *caa_entry(const json_t *caa, const char *base) {
  const json_t *e = json_object_get(caa, base);
  const char *k;
  const json_t *val;
  char b[63];
  json_object_foreach((json_t *)caa, k, val) if (!e && acmeh_onion_base(k, b) == ACMEH_OK && strcmp(b, base) == 0) e = val;
  return e;
}

/* One entry: 1 when it authorizes issuance, else 0 with the reason. */
static int caa_entry_ok(const acmeh_server *s, const char *base, const json_t *e, char *why, size_t whylen) {
  unsigned char pub[32];
  const json_t *caa = json_object_get(e, "caa"), *exp = json_object_get(e, "expiry");
  const char *sig = json_string_value(json_object_get(e, "signature"));
  if (!json_is_object(e) || !(json_is_string(caa) || json_is_null(caa)) || !json_is_integer(exp) || !sig)
    return snprintf(why, whylen, "onionCAA[\"%s\"] needs \"caa\" (string or null), integer \"expiry\" and \"signature\"", base), 0;
  if (json_is_string(caa) && strlen(json_string_value(caa)) > CAA_MAX) return snprintf(why, whylen, "onionCAA \"caa\" too long"), 0;
  long long expiry = (long long)json_integer_value(exp);
  if (s->onion == ONION_CAA_32BIT) expiry = (long long)(unsigned int)expiry; /* the deviation: truncated */
  if (acmeh_onion_parse(base, pub, why, whylen) != ACMEH_OK) return 0;
  if (s->onion == ONION_CAA_UNCHECKED) return 1;
  if (!acmeh_onion_caa_verify(pub, expiry, json_string_value(caa), sig))
    return snprintf(why, whylen, "onionCAA[\"%s\"]: the signature does not verify under the onion key over \"onion-caa|%lld|...\"",
                    base, expiry), 0;
  if ((double)expiry < acmeh_now_wall()) return snprintf(why, whylen, "onionCAA[\"%s\"]: expiry %lld has passed", base, expiry), 0;
  return 1;
}

int srv_onion_finalize_caa(acmeh_server *s, const srv_order *o, const json_t *payload, srv_resp *rs) {
  const json_t *caa = json_object_get(payload, "onionCAA");
  if (caa && !json_is_object(caa)) return srv_problem(rs, 400, "malformed", "\"onionCAA\" must be an object (RFC 9799 §6.4)"), 0;
  char why[400];
  for (size_t i = 0; i < o->nnames; i++) {
    char base[63];
    if (acmeh_onion_base(o->names[i], base) != ACMEH_OK) continue;
    const json_t *e = caa ? caa_entry(caa, base) : NULL;
    if (!e && s->onion == ONION_CAA_WRONG_ERROR) return srv_problem(rs, 403, "caa", "no in-band CAA for %s", base), 0;
    if (!e)
      return srv_problem(rs, 403, "onionCAARequired",
                         "this CA checks onion CAA in-band only: the finalize payload needs onionCAA[\"%s\"] (RFC 9799 §6.4.1)", base), 0;
    if (!caa_entry_ok(s, base, e, why, sizeof why)) return srv_problem(rs, 403, "caa", "%s (RFC 9799 §6.4)", why), 0;
  }
  return 1;
}
