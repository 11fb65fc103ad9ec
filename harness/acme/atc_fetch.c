/* Getting an Authority Token from a token authority over HTTPS (RFC 9447
 * §5.1, RFC 9448 §5.5): the reference client's side. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/atc.h"

typedef struct {
  char buf[ACMEH_ATC_MAX_TOKEN + 1024];
  size_t len;
} answer;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  answer *a = ud;
  if (sz * n > sizeof a->buf - 1 - a->len) return 0; /* over the cap: curl aborts */
  memcpy(a->buf + a->len, p, sz * n);
  a->len += sz * n;
  return sz * n;
}

static int perform(const acmeh_atc_request *r, const char *url, const char *body, answer *a, long *status,
                   char *why, size_t whylen) {
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  char auth[600];
  if (r->secret) snprintf(auth, sizeof auth, "Authorization: Bearer %.500s", r->secret), h = curl_slist_append(h, auth);
  if (!c || !h) {
    curl_easy_cleanup(c), curl_slist_free_all(h);
    return ACMEH_NOMEM;
  }
  long ms = r->timeout_ms ? (long)r->timeout_ms : 10000;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https"); /* RFC 9447 §7: confidentiality */
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
  if (r->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(c), curl_slist_free_all(h);
  if (cc == CURLE_OPERATION_TIMEDOUT)
    return acmeh_msg(why, whylen, ACMEH_PEER_TIMEOUT, "token authority %s: no answer within %ld ms", url, ms);
  if (cc != CURLE_OK)
    return acmeh_msg(why, whylen, ACMEH_PEER_CONN, "token authority %s: %s", url, curl_easy_strerror(cc));
  a->buf[a->len] = 0;
  return ACMEH_OK;
}

int acmeh_atc_fetch(const acmeh_atc_request *r, char **token, char *why, size_t whylen) {
  *token = NULL;
  if (!r || !r->ta_url || !r->account || !r->tktype || !r->tkvalue || !r->fingerprint) return ACMEH_INVALID_ARG;
  char *url = NULL, *esc = curl_easy_escape(NULL, r->account, 0);
  json_t *b = json_pack("{s:s,s:s,s:b,s:s}", "tktype", r->tktype, "tkvalue", r->tkvalue, "ca", r->ca, "fingerprint",
                        r->fingerprint);
  char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
  answer *a = calloc(1, sizeof *a);
  long status = 0;
  int rc = esc && body && a && asprintf(&url, "%s/at/account/%s/token", r->ta_url, esc) > 0 ? ACMEH_OK : ACMEH_NOMEM;
  if (rc == ACMEH_OK) rc = perform(r, url, body, a, &status, why, whylen);
  json_t *j = rc == ACMEH_OK ? json_loadb(a->buf, a->len, 0, NULL) : NULL;
  const char *tok = json_string_value(json_object_get(j, "token"));
  if (rc == ACMEH_OK && (status != 200 || !tok))
    rc = acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "token authority answered %ld%s: %.200s", status,
                   status == 403 ? " (bad credentials or not entitled, RFC 9448 §5.5)" : "", a->buf);
  else if (rc == ACMEH_OK && !(*token = strdup(tok)))
    rc = ACMEH_NOMEM;
  json_decref(j), json_decref(b);
  free(url), free(body), free(a), curl_free(esc);
  return rc;
}
