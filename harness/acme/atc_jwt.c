/* The `atc` Authority Token (RFC 9447 §4, RFC 9448 §5) as a compact JWS:
 * signing for the mock token authority, splitting with caps on peer bytes,
 * and the server's validation steps of RFC 9448 §6. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "harness/acme/atc.h"
#include "harness/acme/b64.h"

int acmeh_atc_fingerprint(const char *thumb_b64, char out[ACMEH_ATC_FP_LEN]) {
  unsigned char *d = NULL;
  size_t n = 0;
  if (!thumb_b64 || acmeh_b64url_decode(thumb_b64, strlen(thumb_b64), &d, &n) != ACMEH_OK || n != 32) {
    free(d);
    return ACMEH_INVALID_ARG;
  }
  char *p = out + snprintf(out, ACMEH_ATC_FP_LEN, "SHA256 ");
  for (size_t i = 0; i < n; i++) p += snprintf(p, 4, i ? ":%02X" : "%02X", d[i]);
  free(d);
  return ACMEH_OK;
}

static char *b64url_json(const json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  char *b = s ? acmeh_b64url_encode((const unsigned char *)s, strlen(s)) : NULL;
  free(s);
  return b;
}

/* x5c wants standard base64 of each DER certificate (RFC 7515 §4.1.6). */
static json_t *x5c_of(STACK_OF(X509) *chain) {
  json_t *a = json_array();
  for (int i = 0; a && i < sk_X509_num(chain); i++) {
    unsigned char *der = NULL;
    int n = i2d_X509(sk_X509_value(chain, i), &der);
    char *b = n > 0 ? malloc((size_t)(n + 2) / 3 * 4 + 1) : NULL;
    if (b) EVP_EncodeBlock((unsigned char *)b, der, n);
    if (b) json_array_append_new(a, json_string(b));
    free(b);
    OPENSSL_free(der);
  }
  return a;
}

int acmeh_atc_sign(const acmeh_key *key, const char *x5u, STACK_OF(X509) *chain, const json_t *claims, int flip_sig,
                   char **out) {
  if (!key || !claims || !out) return ACMEH_INVALID_ARG;
  json_t *h = json_pack("{s:s,s:s}", "alg", acmeh_key_alg(key), "typ", "JWT");
  if (h && x5u) json_object_set_new(h, "x5u", json_string(x5u));
  else if (h && chain) json_object_set_new(h, "x5c", x5c_of(chain));
  char *hb = h ? b64url_json(h) : NULL, *pb = b64url_json(claims), *in = NULL, *sb = NULL;
  json_decref(h);
  unsigned char *sig = NULL;
  size_t siglen = 0;
  int rc = hb && pb && asprintf(&in, "%s.%s", hb, pb) > 0 ? ACMEH_OK : ACMEH_NOMEM;
  if (rc == ACMEH_OK) rc = acmeh_key_sign(key, (const unsigned char *)in, strlen(in), &sig, &siglen);
  if (rc == ACMEH_OK && flip_sig && siglen) sig[siglen / 2] ^= 1;
  if (rc == ACMEH_OK && !(sb = acmeh_b64url_encode(sig, siglen))) rc = ACMEH_NOMEM;
  if (rc == ACMEH_OK && asprintf(out, "%s.%s", in, sb) < 0) rc = ACMEH_NOMEM;
  free(hb), free(pb), free(in), free(sb), free(sig);
  return rc;
}

/* ---- splitting ---------------------------------------------------------- */

/* Deepest nesting of [ and { outside strings; stops counting past cap. */
static int json_depth(const unsigned char *s, size_t n, int cap) {
  int d = 0, max = 0, in_str = 0;
  for (size_t i = 0; i < n && max <= cap; i++) {
    if (in_str) {
      if (s[i] == '\\') i++;
      else if (s[i] == '"') in_str = 0;
    } else if (s[i] == '"') {
      in_str = 1;
    } else if (s[i] == '{' || s[i] == '[') {
      if (++d > max) max = d;
    } else if (s[i] == '}' || s[i] == ']') {
      d--;
    }
  }
  return max;
}

static json_t *part_json(const char *b, size_t n, const char *what, char *why, size_t whylen) {
  unsigned char *d = NULL;
  size_t dn = 0;
  json_t *j = NULL;
  if (acmeh_b64url_decode(b, n, &d, &dn) != ACMEH_OK) {
    acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token %s is not base64url", what);
  } else if (json_depth(d, dn, ACMEH_ATC_MAX_DEPTH) > ACMEH_ATC_MAX_DEPTH) {
    acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token %s nests JSON deeper than %d", what, ACMEH_ATC_MAX_DEPTH);
  } else if (!(j = json_loadb((const char *)d, dn, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(j)) {
    acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token %s is not a JSON object", what);
    json_decref(j), j = NULL;
  }
  free(d);
  return j;
}

void acmeh_atc_token_free(acmeh_atc_token *t) {
  json_decref(t->header), json_decref(t->claims);
  free(t->signing_input), free(t->sig);
  memset(t, 0, sizeof *t);
}

int acmeh_atc_token_parse(const char *compact, acmeh_atc_token *t, char *why, size_t whylen) {
  memset(t, 0, sizeof *t);
  size_t n = compact ? strnlen(compact, ACMEH_ATC_MAX_TOKEN + 1) : 0;
  if (n == 0 || n > ACMEH_ATC_MAX_TOKEN)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token of %s bytes (1..%d expected)",
                     n ? "too many" : "0", ACMEH_ATC_MAX_TOKEN);
  const char *d1 = strchr(compact, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if (!d2 || strchr(d2 + 1, '.'))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token is not a compact JWS (three base64url parts)");
  if (!(t->header = part_json(compact, (size_t)(d1 - compact), "header", why, whylen)) ||
      !(t->claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", why, whylen)))
    return ACMEH_PEER_PROTOCOL;
  const char *alg = json_string_value(json_object_get(t->header, "alg"));
  if (!alg || strcmp(alg, "none") == 0 || strncmp(alg, "HS", 2) == 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token alg %s is not an asymmetric signature",
                     alg ? alg : "(absent)");
  if (acmeh_b64url_decode(d2 + 1, strlen(d2 + 1), &t->sig, &t->sig_len) != ACMEH_OK || t->sig_len == 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token signature is not base64url");
  t->signing_input = strndup(compact, (size_t)(d2 - compact));
  return t->signing_input ? ACMEH_OK : ACMEH_NOMEM;
}

/* ---- the x5u / x5c certificate ----------------------------------------- */

typedef struct {
  char buf[64 * 1024];
  size_t len;
} fetch_buf;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  fetch_buf *f = ud;
  if (sz * n > sizeof f->buf - 1 - f->len) return 0; /* over the cap: abort */
  memcpy(f->buf + f->len, p, sz * n);
  f->len += sz * n;
  return sz * n;
}

/* GETs the x5u PEM and reads its certificates into chain. */
static int fetch_x5u(const char *url, const acmeh_atc_expect *e, STACK_OF(X509) *chain, char *why, size_t whylen) {
  if (strncmp(url, "https://", 8) != 0 && !(e->allow_http_x5u && strncmp(url, "http://", 7) == 0))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 2: x5u %.100s is not an HTTPS URL", url);
  fetch_buf *f = calloc(1, sizeof *f);
  CURL *c = curl_easy_init();
  if (!f || !c) {
    free(f), curl_easy_cleanup(c);
    return ACMEH_NOMEM;
  }
  long ms = e->x5u_timeout_ms ? (long)e->x5u_timeout_ms : 5000, status = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  if (e->x5u_ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, e->x5u_ca_file);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  int rc = ACMEH_OK;
  if (cc != CURLE_OK || status != 200) {
    rc = acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 2: x5u %.100s: %s (HTTP %ld)", url,
                   cc != CURLE_OK ? curl_easy_strerror(cc) : "not 200", status);
  } else {
    BIO *b = BIO_new_mem_buf(f->buf, (int)f->len);
    X509 *x;
    while (b && sk_X509_num(chain) < 8 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
      if (!sk_X509_push(chain, x)) X509_free(x);
    BIO_free(b);
    if (sk_X509_num(chain) == 0)
      rc = acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 2: x5u %.100s holds no PEM certificate", url);
  }
  free(f);
  return rc;
}

static int read_x5c(const json_t *x5c, STACK_OF(X509) *chain, char *why, size_t whylen) {
  size_t i;
  const json_t *v;
  if (!json_is_array(x5c) || json_array_size(x5c) == 0 || json_array_size(x5c) > 8)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 3: x5c is not an array of 1..8 certificates");
  json_array_foreach(x5c, i, v) {
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    unsigned char *der = n && n <= 16384 ? malloc(n) : NULL;
    int dn = der ? EVP_DecodeBlock(der, (const unsigned char *)s, (int)n) : -1;
    while (dn > 0 && n && s[--n] == '=') dn--; /* EVP_DecodeBlock counts padding as bytes */
    const unsigned char *p = der;
    X509 *x = dn > 0 ? d2i_X509(NULL, &p, dn) : NULL;
    free(der);
    if (!x || !sk_X509_push(chain, x)) {
      X509_free(x);
      return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 3: x5c[%zu] is not a base64 DER certificate", i);
    }
  }
  return ACMEH_OK;
}

static int chain_trusted(STACK_OF(X509) *chain, const char *trust_file, char *why, size_t whylen) {
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int ok = st && ctx && trust_file && X509_STORE_load_file(st, trust_file) == 1 &&
           X509_STORE_CTX_init(ctx, st, sk_X509_value(chain, 0), chain) == 1;
  int v = ok ? X509_verify_cert(ctx) : -1;
  int err = ctx ? X509_STORE_CTX_get_error(ctx) : 0;
  X509_STORE_CTX_free(ctx), X509_STORE_free(st);
  if (!ok) return acmeh_msg(why, whylen, ACMEH_INTERNAL, "cannot load the token trust anchors %s", trust_file ? trust_file : "(none)");
  if (v != 1)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL,
                     "steps 2-3: the token's certificate is not from a trusted token authority: %s",
                     X509_verify_cert_error_string(err));
  return ACMEH_OK;
}

/* ---- RFC 9448 §6 -------------------------------------------------------- */

static int check_signature(const acmeh_atc_token *t, X509 *signer, char *why, size_t whylen) {
  acmeh_key *k = NULL;
  const char *alg = json_string_value(json_object_get(t->header, "alg"));
  if (acmeh_key_from_pkey(X509_get0_pubkey(signer), &k) != ACMEH_OK)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 4: the token certificate's key is not usable");
  int rc = strcmp(alg, acmeh_key_alg(k)) == 0 ? acmeh_key_verify(k, alg, (const unsigned char *)t->signing_input,
                                                                strlen(t->signing_input), t->sig, t->sig_len)
                                              : ACMEH_PEER_PROTOCOL;
  acmeh_key_free(k);
  if (rc != ACMEH_OK)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 4: the token signature (%s) does not verify", alg);
  return ACMEH_OK;
}

/* Steps 2-4: the certificate from x5u or x5c, its chain, the signature. */
static int check_issuer(const acmeh_atc_token *t, const acmeh_atc_expect *e, char *why, size_t whylen) {
  const char *x5u = json_string_value(json_object_get(t->header, "x5u"));
  const json_t *x5c = json_object_get(t->header, "x5c");
  STACK_OF(X509) *chain = sk_X509_new_null();
  int rc = !chain ? ACMEH_NOMEM
           : x5u  ? fetch_x5u(x5u, e, chain, why, whylen)
           : x5c  ? read_x5c(x5c, chain, why, whylen)
                  : acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "steps 2-3: the token header has no x5u or x5c");
  if (rc == ACMEH_OK && !(e->skip & ACMEH_ATC_SKIP_CHAIN)) rc = chain_trusted(chain, e->trust_file, why, whylen);
  if (rc == ACMEH_OK && !(e->skip & ACMEH_ATC_SKIP_SIG)) rc = check_signature(t, sk_X509_value(chain, 0), why, whylen);
  sk_X509_pop_free(chain, X509_free);
  return rc;
}

/* Step 6: tkvalue "equivalent" to the identifier: the same DER. */
static int same_value(const char *a, const char *b) {
  unsigned char *da = NULL, *db = NULL;
  size_t la = 0, lb = 0;
  char why[8];
  int same = acmeh_atc_value_decode(a, &da, &la, why, sizeof why) == ACMEH_OK &&
             acmeh_atc_value_decode(b, &db, &lb, why, sizeof why) == ACMEH_OK && la == lb && memcmp(da, db, la) == 0;
  free(da), free(db);
  return same;
}

static int check_claims(const json_t *atc, const json_t *claims, const acmeh_atc_expect *e, acmeh_atc_result *res,
                        char *why, size_t whylen) {
  const char *tktype = json_string_value(json_object_get(atc, "tktype"));
  const char *tkvalue = json_string_value(json_object_get(atc, "tkvalue"));
  const char *fp = json_string_value(json_object_get(atc, "fingerprint"));
  const json_t *exp = json_object_get(claims, "exp"), *jti = json_object_get(claims, "jti");
  char want[ACMEH_ATC_FP_LEN];
  if (strcmp(tktype, e->tktype) != 0 && !(e->skip & ACMEH_ATC_SKIP_TKTYPE))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 5: tktype \"%.40s\" is not \"%s\"", tktype, e->tktype);
  if (!same_value(tkvalue, e->tkvalue) && !(e->skip & ACMEH_ATC_SKIP_TKVALUE))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 6: tkvalue %.80s is not the identifier %.80s", tkvalue,
                     e->tkvalue);
  if ((!json_is_number(exp) || !json_is_string(jti) || json_string_length(jti) == 0 ||
       json_string_length(jti) >= sizeof res->jti) && !(e->skip & ACMEH_ATC_SKIP_EXP))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 7: exp (number) and jti (string) must be present (RFC 9447 §4)");
  if (json_number_value(exp) <= e->now && !(e->skip & ACMEH_ATC_SKIP_EXP))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 7: the token expired (exp %.0f, now %.0f)",
                     json_number_value(exp), e->now);
  if ((acmeh_atc_fingerprint(e->thumb, want) != ACMEH_OK || strcasecmp(fp, want) != 0) &&
      !(e->skip & ACMEH_ATC_SKIP_FINGERPRINT))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "step 8: fingerprint %.110s is not the account key's %s", fp,
                     want);
  snprintf(res->jti, sizeof res->jti, "%s", json_is_string(jti) ? json_string_value(jti) : "");
  res->exp = json_number_value(exp);
  res->ca = json_is_true(json_object_get(atc, "ca"));
  return ACMEH_OK;
}

int acmeh_atc_validate(const char *compact, const acmeh_atc_expect *e, acmeh_atc_result *res, char *why,
                       size_t whylen) {
  acmeh_atc_token t;
  memset(res, 0, sizeof *res);
  int rc = acmeh_atc_token_parse(compact, &t, why, whylen);
  const json_t *atc = json_object_get(t.claims, "atc"), *ca = json_object_get(atc, "ca");
  if (rc == ACMEH_OK &&
      (!json_is_object(atc) || !json_is_string(json_object_get(atc, "tktype")) ||
       !json_is_string(json_object_get(atc, "tkvalue")) || !json_is_string(json_object_get(atc, "fingerprint")) ||
       (ca && !json_is_boolean(ca))))
    rc = acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL,
                   "step 1: the atc claim must be an object with string tktype, tkvalue, fingerprint (and boolean ca)");
  if (rc == ACMEH_OK) rc = check_issuer(&t, e, why, whylen);
  if (rc == ACMEH_OK) rc = check_claims(atc, t.claims, e, res, why, whylen);
  acmeh_atc_token_free(&t);
  return rc;
}
