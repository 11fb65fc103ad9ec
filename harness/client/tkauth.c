/* The reference client's tkauth-01 (tkauth.h). */
#include "harness/client/tkauth.h"

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "base/clock.h"
#include "harness/client/flow.h"

int acmeh_tkauth_new_order(acmeh_acme *c, const json_t *identifiers, char **order_url, json_t **order, char *err,
                           size_t errlen) {
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  *order_url = NULL, *order = NULL;
  acmeh_acme_step_set(c, url ? "newOrder" : "directory");
  if (!url) return acmeh_acme_step_result(c, acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "directory has no newOrder URL"));
  json_t *p = json_pack("{s:O}", "identifiers", (json_t *)identifiers);
  char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  acmeh_http_resp r = {0};
  int rc = payload ? acmeh_acme_post(c, url, payload, NULL, &r, err, errlen) : ACMEH_NOMEM;
  free(payload);
  const char *loc = rc ? NULL : acmeh_http_header_get(&r, "Location");
  *order = rc ? NULL : acmeh_resp_json(&r);
  if (rc == ACMEH_OK && (r.status != 201 || !loc || !json_is_object(*order))) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "newOrder answered %s", d);
  }
  if (rc == ACMEH_OK && !(*order_url = strdup(loc))) rc = ACMEH_NOMEM;
  if (rc) json_decref(*order), *order = NULL;
  acmeh_http_resp_free(&r);
  return acmeh_acme_step_result(c, rc);
}

int acmeh_tkauth_token(acmeh_acme *c, const acmeh_ta_env *ta, const char *tktype, const char *tkvalue, int ca,
                       char **token, char *err, size_t errlen) {
  char tp[44], fp[ACMEH_ATC_FP_LEN];
  *token = NULL;
  if (!ta || !ta->url) return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "no token authority configured (run --token-authority)");
  if (acmeh_acme_thumbprint(c, tp) != ACMEH_OK || acmeh_atc_fingerprint(tp, fp) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "no account key to bind the token to");
  double left = acmeh_acme_deadline(c) ? (acmeh_acme_deadline(c) - acmeh_now_mono()) * 1000 : 10000;
  acmeh_atc_request r = {.ta_url = ta->url, .account = ta->account, .secret = ta->secret, .ca_file = ta->ca_file,
                         .tktype = tktype, .tkvalue = tkvalue, .fingerprint = fp, .ca = ca,
                         .timeout_ms = left > 10000 ? 10000 : left > 100 ? (unsigned)left : 100};
  return acmeh_atc_fetch(&r, token, err, errlen);
}

int acmeh_tkauth_set_fault(const acmeh_ta_env *ta, const char *fault, char *err, size_t errlen) {
  if (!ta || !ta->mgmt_url)
    return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "the token authority is not the harness's mock (no --ta-mgmt): its faults are unavailable");
  CURL *h = curl_easy_init();
  char url[600], body[200];
  long status = 0;
  snprintf(url, sizeof url, "%s/set-fault", ta->mgmt_url);
  snprintf(body, sizeof body, "{\"fault\":\"%.60s\"}", fault ? fault : "");
  if (!h) return ACMEH_NOMEM;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
  FILE *null = fopen("/dev/null", "w");
  curl_easy_setopt(h, CURLOPT_WRITEDATA, null);
  CURLcode cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  if (null) fclose(null);
  if (cc != CURLE_OK || status != 200)
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "token authority management %s: %s (HTTP %ld)", url,
                     curl_easy_strerror(cc), status);
  return ACMEH_OK;
}

int acmeh_tkauth_respond(acmeh_acme *c, const char *authz_url, const char *token, const char *payload, json_t **final,
                         long *answer_status, char *err, size_t errlen) {
  json_t *authz = NULL;
  *final = NULL, *answer_status = 0;
  acmeh_acme_step_set(c, "authorization");
  int rc = acmeh_acme_get_json(c, authz_url, &authz, NULL, err, errlen);
  const json_t *ch = rc ? NULL : acmeh_flow_find_challenge(authz, "tkauth-01");
  const char *url = json_string_value(json_object_get(ch, "url"));
  if (rc == ACMEH_OK && !url) rc = acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "the authorization offers no tkauth-01 challenge with a url");
  char *own = NULL;
  if (rc == ACMEH_OK && !payload) {
    json_t *p = json_pack("{s:s}", "tkauth", token ? token : "");
    payload = own = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
  }
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) acmeh_acme_step_set(c, "tkauth-01 challenge");
  if (rc == ACMEH_OK) rc = payload ? acmeh_acme_post(c, url, payload, NULL, &r, err, errlen) : ACMEH_NOMEM;
  if (rc == ACMEH_OK) *answer_status = r.status;
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK && *answer_status == 200) rc = acmeh_flow_poll(c, authz_url, waiting, 2, final, err, errlen);
  free(own);
  json_decref(authz);
  return rc;
}

/* ---- CSR and certificate ---------------------------------------------------- */

static const char *oid_for(const char *type, const unsigned char *der, size_t len) {
  if (strcmp(type, ACMEH_ATC_TNAUTHLIST) == 0) return ACMEH_OID_TNAUTHLIST;
  if (strcmp(type, ACMEH_ATC_JWTCLAIMCON) != 0) return NULL;
  return acmeh_atc_jcc_kind(der, len) == ACMEH_DER_EJCC ? ACMEH_OID_EJWTCLAIMCON : ACMEH_OID_JWTCLAIMCON;
}

static int push_ext(STACK_OF(X509_EXTENSION) **exts, const char *oid, const unsigned char *der, size_t len) {
  ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
  X509_EXTENSION *e = NULL;
  int ok = o && os && ASN1_OCTET_STRING_set(os, der, (int)len) && (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) &&
           X509v3_add_ext(exts, e, -1);
  X509_EXTENSION_free(e), ASN1_OCTET_STRING_free(os), ASN1_OBJECT_free(o);
  return ok;
}

static int add_identifier_exts(STACK_OF(X509_EXTENSION) **exts, const json_t *identifiers, char *err, size_t errlen) {
  size_t i;
  const json_t *id;
  json_array_foreach(identifiers, i, id) {
    const char *type = json_string_value(json_object_get(id, "type"));
    unsigned char *der = NULL;
    size_t len = 0;
    if (acmeh_atc_value_decode(json_string_value(json_object_get(id, "value")), &der, &len, err, errlen) != ACMEH_OK)
      return ACMEH_INVALID_ARG;
    const char *oid = type ? oid_for(type, der, len) : NULL;
    int ok = oid && push_ext(exts, oid, der, len);
    free(der);
    if (!ok) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "identifier %zu is not a token identifier", i);
  }
  return ACMEH_OK;
}

int acmeh_tkauth_csr(EVP_PKEY *key, const json_t *identifiers, int ca, const char *extra_oid, const char *extra_der_hex,
                     char **csr_b64, char *err, size_t errlen) {
  X509_REQ *req = X509_REQ_new();
  STACK_OF(X509_EXTENSION) *exts = NULL;
  X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  int rc = req && bc && X509v3_add_ext(&exts, bc, -1) ? ACMEH_OK : ACMEH_INTERNAL;
  X509_EXTENSION_free(bc);
  if (rc == ACMEH_OK) rc = add_identifier_exts(&exts, identifiers, err, errlen);
  if (rc == ACMEH_OK && extra_oid) {
    long n = 0;
    unsigned char *der = OPENSSL_hexstr2buf(extra_der_hex, &n);
    if (!der || !push_ext(&exts, extra_oid, der, (size_t)n)) rc = ACMEH_INVALID_ARG;
    OPENSSL_free(der);
  }
  /* no subject: the identifiers are the extensions (RFC 8555 §7.4 lets a server refuse any other name) */
  if (rc == ACMEH_OK && !(X509_REQ_set_pubkey(req, key) && X509_REQ_add_extensions(req, exts) &&
                          X509_REQ_sign(req, key, EVP_sha256()) > 0))
    rc = ACMEH_INTERNAL;
  unsigned char *der = NULL;
  int n = rc == ACMEH_OK ? i2d_X509_REQ(req, &der) : 0;
  if (rc == ACMEH_OK && (n <= 0 || !(*csr_b64 = acmeh_b64url_encode(der, (size_t)n)))) rc = ACMEH_NOMEM;
  OPENSSL_free(der);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  if (rc == ACMEH_INTERNAL) acmeh_msg(err, errlen, rc, "cannot build the CSR");
  return rc;
}

int acmeh_tkauth_cert_check(const char *chain_pem, const json_t *identifiers, char *why, size_t whylen) {
  BIO *b = chain_pem ? BIO_new_mem_buf(chain_pem, -1) : NULL;
  X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  if (!leaf) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "no certificate to check");
  int rc = ACMEH_OK;
  size_t i;
  const json_t *id;
  json_array_foreach(identifiers, i, id) {
    const char *type = json_string_value(json_object_get(id, "type")), *value = json_string_value(json_object_get(id, "value"));
    unsigned char *der = NULL;
    size_t len = 0;
    if (!type || acmeh_atc_value_decode(value, &der, &len, why, whylen) != ACMEH_OK) continue;
    const char *oid = oid_for(type, der, len);
    ASN1_OBJECT *o = oid ? OBJ_txt2obj(oid, 1) : NULL;
    int at = o ? X509_get_ext_by_OBJ(leaf, o, -1) : -1;
    const ASN1_OCTET_STRING *v = at >= 0 ? X509_EXTENSION_get_data(X509_get_ext(leaf, at)) : NULL;
    if (oid && (!v || (size_t)ASN1_STRING_length(v) != len || memcmp(ASN1_STRING_get0_data(v), der, len) != 0 ||
                X509_get_ext_by_OBJ(leaf, o, at) >= 0) && rc == ACMEH_OK)
      rc = acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL,
                     "the certificate's %s extension (%s) %s the ordered %s value; the client refuses it", oid,
                     type, v ? "differs from" : "is missing for", type);
    ASN1_OBJECT_free(o);
    free(der);
  }
  X509_free(leaf);
  return rc;
}
