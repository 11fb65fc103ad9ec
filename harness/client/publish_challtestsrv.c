/* The challtestsrv publisher (challtestsrv.h): each operation is one POST to
 * pebble-challtestsrv's management API. */
#include "harness/client/challtestsrv.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/client/http.h"

int acmeh_challtestsrv_post(const char *mgmt_url, const char *path, const json_t *body, long *status, json_t **reply,
                            char *err, size_t errlen) {
  char url[1024];
  char *text = json_dumps(body, JSON_COMPACT);
  acmeh_http *h = NULL;
  acmeh_http_config cfg = {.request_timeout_ms = 3000};
  *status = 0;
  if (reply) *reply = NULL;
  int rc = text ? acmeh_http_new(&cfg, &h) : ACMEH_NOMEM;
  snprintf(url, sizeof url, "%s%s", mgmt_url, path);
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK) rc = acmeh_http_request(h, "POST", url, "application/json", text, strlen(text), NULL, &r, err, errlen);
  if (rc == ACMEH_OK) *status = r.status;
  if (rc == ACMEH_OK && reply && r.body && r.body[0]) *reply = json_loads(r.body, JSON_DECODE_ANY, NULL);
  acmeh_http_resp_free(&r);
  acmeh_http_free(h);
  free(text);
  return rc;
}

/* POST path with body (stolen); a non-200 answer is an environment error. */
static int post(const acmeh_publisher *p, const char *path, json_t *body, char *err, size_t errlen) {
  char why[256] = "";
  long status = 0;
  int rc = body ? acmeh_challtestsrv_post(p->state, path, body, &status, NULL, why, sizeof why) : ACMEH_NOMEM;
  json_decref(body);
  if (rc) return acmeh_msg(err, errlen, rc, "pebble-challtestsrv %s%s: %s", (const char *)p->state, path, why[0] ? why : acmeh_strerror(rc));
  if (status != 200)
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "pebble-challtestsrv answered POST %s %ld", path, status);
  return ACMEH_OK;
}

/* `name` as an FQDN with its final dot, into out. Debian 12's challtestsrv
 * (Pebble 2.4) keys DNS records by the name as given and looks answers up by
 * the FQDN, so "x.example" is never served; Pebble 2.10's adds the dot
 * itself, and the harness's mocks take either. */
static const char *fqdn(const char *name, char *out, size_t len) {
  size_t n = strlen(name);
  snprintf(out, len, "%s%s", name, n && name[n - 1] == '.' ? "" : ".");
  return out;
}

static int cts_set_txt(const acmeh_publisher *p, const char *host, const char *value, char *err, size_t errlen) {
  char h[300];
  return post(p, "/set-txt", json_pack("{s:s, s:s}", "host", fqdn(host, h, sizeof h), "value", value), err, errlen);
}
static void cts_clear_txt(const acmeh_publisher *p, const char *host) {
  char h[300];
  post(p, "/clear-txt", json_pack("{s:s}", "host", fqdn(host, h, sizeof h)), NULL, 0); /* best effort: the challenge is decided */
}
static int cts_set_cname(const acmeh_publisher *p, const char *host, const char *target, char *err, size_t errlen) {
  char h[300], t[300];
  return post(p, "/set-cname", json_pack("{s:s, s:s}", "host", fqdn(host, h, sizeof h), "target", fqdn(target, t, sizeof t)),
              err, errlen);
}
static void cts_clear_cname(const acmeh_publisher *p, const char *host) {
  char h[300];
  post(p, "/clear-cname", json_pack("{s:s}", "host", fqdn(host, h, sizeof h)), NULL, 0);
}
static int cts_add_http01(const acmeh_publisher *p, const char *token, const char *keyauth, char *err, size_t errlen) {
  return post(p, "/add-http01", json_pack("{s:s, s:s}", "token", token, "content", keyauth), err, errlen);
}
static void cts_del_http01(const acmeh_publisher *p, const char *token) {
  post(p, "/del-http01", json_pack("{s:s}", "token", token), NULL, 0);
}
/* challtestsrv picks the certificate by SNI and names that SNI in it as a
 * dNSName; an ip identifier needs an iPAddress SAN (RFC 8738 §6) while its
 * SNI is the reverse name, so no response it can serve is right. */
static int is_ip_literal(const char *name) {
  unsigned char a[16];
  return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

static int cts_add_tlsalpn01(const acmeh_publisher *p, const char *name, const char *keyauth, char *err, size_t errlen) {
  if (is_ip_literal(name))
    return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED,
                     "pebble-challtestsrv cannot answer tls-alpn-01 for ip identifier %s: its validation certificate names "
                     "the SNI as a dNSName, not the address as an iPAddress (RFC 8738 §6)", name);
  return post(p, "/add-tlsalpn01", json_pack("{s:s, s:s}", "host", name, "content", keyauth), err, errlen);
}
static void cts_del_tlsalpn01(const acmeh_publisher *p, const char *name) {
  if (!is_ip_literal(name)) post(p, "/del-tlsalpn01", json_pack("{s:s}", "host", name), NULL, 0);
}

/* One challtestsrv event in the mocks' shape. HTTPRequestEvent {URL, Host,
 * HTTPS, ServerName, UserAgent} has no method: none is made up.
 * TLSALPNRequestEvent {ServerName, SupportedProtos}; DNSRequestEvent
 * {Question: {Name, Qtype, Qclass}}. */
static json_t *mocks_shape(const char *kind, json_t *e) {
  if (strcmp(kind, "http") == 0)
    return json_pack("{s:O?, s:O?, s:O?}", "host", json_object_get(e, "Host"), "path", json_object_get(e, "URL"), "user_agent",
                     json_object_get(e, "UserAgent"));
  if (strcmp(kind, "tlsalpn") == 0)
    return json_pack("{s:O?, s:O?}", "sni", json_object_get(e, "ServerName"), "alpn", json_object_get(e, "SupportedProtos"));
  json_t *q = json_object_get(e, "Question");
  return json_pack("{s:O?, s:O?}", "qname", json_object_get(q, "Name"), "qtype", json_object_get(q, "Qtype"));
}

static json_t *cts_history(const acmeh_publisher *p, const char *kind, const char *host) {
  static const struct {
    const char *kind, *path;
  } paths[] = {{"http", "/http-request-history"}, {"dns", "/dns-request-history"}, {"tlsalpn", "/tlsalpn01-request-history"}};
  const char *path = NULL;
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
    if (strcmp(paths[i].kind, kind) == 0) path = paths[i].path;
  json_t *body = json_pack("{s:s}", "host", host ? host : ""), *reply = NULL, *out = NULL, *e;
  long status = 0;
  char err[256];
  if (path && body && acmeh_challtestsrv_post(p->state, path, body, &status, &reply, err, sizeof err) == ACMEH_OK &&
      status == 200 && (json_is_array(reply) || json_is_null(reply)))
    out = json_array();
  size_t i;
  json_array_foreach(out ? reply : NULL, i, e) json_array_append_new(out, mocks_shape(kind, e));
  json_decref(body), json_decref(reply);
  return out;
}

int acmeh_publisher_challtestsrv(acmeh_publisher *p, acmeh_mocks *m, const char *mgmt_url) {
  char *url = strdup(mgmt_url);
  if (!url) return ACMEH_NOMEM;
  *p = (acmeh_publisher){.name = "challtestsrv",
                         .set_txt = cts_set_txt,
                         .clear_txt = cts_clear_txt,
                         .add_http01 = cts_add_http01,
                         .del_http01 = cts_del_http01,
                         .add_tlsalpn01 = cts_add_tlsalpn01,
                         .del_tlsalpn01 = cts_del_tlsalpn01,
                         .set_cname = cts_set_cname,
                         .clear_cname = cts_clear_cname,
                         .history = cts_history,
                         .mocks = m,
                         .state = url};
  return ACMEH_OK;
}

void acmeh_publisher_challtestsrv_free(acmeh_publisher *p) {
  if (!p || p->set_txt != cts_set_txt) return; /* another kind of publisher owns its state */
  free(p->state);
  p->state = NULL;
}

int acmeh_challtestsrv_wait(const char *mgmt_url, int timeout_ms, char *err, size_t errlen) {
  double until = acmeh_now_mono() + timeout_ms / 1000.0;
  json_t *probe = json_pack("{s:s, s:s}", "host", "ready.acmeh.invalid", "type", "http");
  int rc = ACMEH_ENV_NOT_READY;
  char last[256] = "nothing tried";
  while (probe && rc != ACMEH_OK && acmeh_now_mono() < until) {
    long status = 0;
    int prc = acmeh_challtestsrv_post(mgmt_url, "/clear-request-history", probe, &status, NULL, last, sizeof last);
    if (prc == ACMEH_OK && status == 200) rc = ACMEH_OK;
    else if (prc == ACMEH_OK) snprintf(last, sizeof last, "POST /clear-request-history answered %ld", status);
    if (rc != ACMEH_OK) acmeh_sleep_ms(20);
  }
  json_decref(probe);
  return rc == ACMEH_OK ? rc : acmeh_msg(err, errlen, rc, "pebble-challtestsrv's management API at %s did not answer: %s", mgmt_url, last);
}
