#include "mocks/mgmt/mgmt.h"

#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What one endpoint does with its parsed body; returns an HTTP status and may
 * set a JSON reply (reference passed to the caller). */
typedef int (*endpoint_fn)(acmeh_mocks *m, json_t *body, json_t **reply);

/* Field lookup ignoring case, as challtestsrv's Go decoder matches "Host" and "host". */
static json_t *field(json_t *obj, const char *name) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    if (strcasecmp(key, name) == 0) return v;
  }
  return NULL;
}

/* A non-empty string field, or NULL. */
static const char *str_field(json_t *obj, const char *name) {
  const char *s = json_string_value(field(obj, name));
  return s && *s ? s : NULL;
}

static int status_of(int rc) { return rc == ACMEH_OK ? 200 : rc == ACMEH_NOMEM ? 500 : 400; }

static int ep_default_ip(acmeh_mocks *m, json_t *b, int family) {
  json_t *ip = field(b, "ip");
  if (ip && !json_is_string(ip)) return 400;
  return status_of(acmeh_mocks_set_default_ip(m, family, ip ? json_string_value(ip) : ""));
}
static int ep_default_ipv4(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  return ep_default_ip(m, b, 4);
}
static int ep_default_ipv6(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  return ep_default_ip(m, b, 6);
}

static int ep_set_txt(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *host = str_field(b, "host");
  json_t *value = field(b, "value");
  if (!host || !json_is_string(value)) return 400;
  return status_of(acmeh_mocks_set_txt(m, host, json_string_value(value)));
}

/* Shared by add-a and add-aaaa: every address must be valid or none is added. */
static int add_addresses(acmeh_mocks *m, json_t *b,
                         int (*add)(acmeh_mocks *, const char *, const char *)) {
  const char *host = str_field(b, "host");
  json_t *list = field(b, "addresses");
  if (!host || !json_is_array(list) || json_array_size(list) == 0) return 400;
  size_t i;
  json_t *a;
  json_array_foreach(list, i, a) {
    if (!json_is_string(a)) return 400;
  }
  json_array_foreach(list, i, a) {
    int rc = add(m, host, json_string_value(a));
    if (rc != ACMEH_OK) return status_of(rc);
  }
  return 200;
}
static int ep_add_a(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  return add_addresses(m, b, acmeh_mocks_add_a);
}
static int ep_add_aaaa(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  return add_addresses(m, b, acmeh_mocks_add_aaaa);
}

/* A 400 with {"error": reason}. */
static int bad(json_t **r, const char *reason) {
  *r = json_pack("{s:s}", "error", reason);
  return 400;
}

/* One CAA policy's fields; NULL when fine, else why not. Flags are one octet
 * (RFC 8659 §4.1): a wider integer must be refused, not cast to int and
 * truncated (4294967301 became 5). */
static const char *caa_policy_error(json_t *p) {
  json_t *flags = field(p, "flags");
  if (!json_is_object(p)) return "each of \"policies\" must be an object";
  if (!str_field(p, "tag")) return "policy \"tag\" must be a non-empty string";
  if (!json_is_string(field(p, "value"))) return "policy \"value\" must be a string";
  if (flags && (!json_is_integer(flags) || json_integer_value(flags) < 0 || json_integer_value(flags) > 255))
    return "policy \"flags\" must be an integer in 0..255 (RFC 8659 §4.1)";
  return NULL;
}

/* Every policy must be valid or none is added. */
static int ep_add_caa(acmeh_mocks *m, json_t *b, json_t **r) {
  const char *host = str_field(b, "host");
  json_t *list = field(b, "policies");
  if (!host) return bad(r, "\"host\" must be a non-empty string");
  if (!json_is_array(list) || json_array_size(list) == 0) return bad(r, "\"policies\" must be a non-empty array");
  size_t i;
  json_t *p;
  json_array_foreach(list, i, p) {
    const char *why = caa_policy_error(p);
    if (why) return bad(r, why);
  }
  json_array_foreach(list, i, p) {
    json_t *flags = field(p, "flags");
    int rc = acmeh_mocks_add_caa(m, host, flags ? (int)json_integer_value(flags) : 0, str_field(p, "tag"),
                                 json_string_value(field(p, "value")));
    if (rc != ACMEH_OK) return status_of(rc);
  }
  return 200;
}

static int ep_set_cname(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *host = str_field(b, "host"), *target = str_field(b, "target");
  if (!host || !target) return 400;
  return status_of(acmeh_mocks_set_cname(m, host, target));
}

/* The clear-* endpoints that take only {"host"}. */
static int with_host(json_t *b, const char **host) {
  *host = str_field(b, "host");
  return *host != NULL;
}
#define CLEAR_EP(name, call)                                                                       \
  static int name(acmeh_mocks *m, json_t *b, json_t **r) {                                         \
    (void)r;                                                                                       \
    const char *host;                                                                              \
    if (!with_host(b, &host)) return 400;                                                          \
    return status_of(call);                                                                        \
  }
CLEAR_EP(ep_clear_txt, acmeh_mocks_clear_txt(m, host))
CLEAR_EP(ep_clear_a, acmeh_mocks_clear_a(m, host))
CLEAR_EP(ep_clear_aaaa, acmeh_mocks_clear_aaaa(m, host))
CLEAR_EP(ep_clear_caa, acmeh_mocks_clear_caa(m, host))
CLEAR_EP(ep_clear_cname, acmeh_mocks_clear_cname(m, host))
CLEAR_EP(ep_set_servfail, acmeh_mocks_set_servfail(m, host, 1))
CLEAR_EP(ep_clear_servfail, acmeh_mocks_set_servfail(m, host, 0))
CLEAR_EP(ep_del_tlsalpn01, acmeh_mocks_del_tlsalpn01(m, host))
#undef CLEAR_EP

static int ep_add_http01(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *token = str_field(b, "token");
  json_t *content = field(b, "content");
  if (!token || !json_is_string(content)) return 400;
  return status_of(acmeh_mocks_add_http01(m, token, json_string_value(content)));
}

static int ep_del_http01(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *token = str_field(b, "token");
  if (!token) return 400;
  return status_of(acmeh_mocks_del_http01(m, token));
}

static int ep_add_tlsalpn01(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *host = str_field(b, "host"), *content = str_field(b, "content");
  if (!host || !content) return 400;
  return status_of(acmeh_mocks_add_tlsalpn01(m, host, content));
}

static int history(acmeh_mocks *m, json_t *b, json_t **r, const char *kind) {
  const char *host;
  if (!with_host(b, &host)) return 400;
  *r = acmeh_mocks_history(m, kind, host);
  return *r ? 200 : 500;
}
static int ep_http_history(acmeh_mocks *m, json_t *b, json_t **r) {
  return history(m, b, r, "http");
}
static int ep_dns_history(acmeh_mocks *m, json_t *b, json_t **r) { return history(m, b, r, "dns"); }
static int ep_tls_history(acmeh_mocks *m, json_t *b, json_t **r) {
  return history(m, b, r, "tlsalpn");
}

static int ep_clear_history(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *host, *type = str_field(b, "type");
  if (!with_host(b, &host) || !type) return 400;
  json_t *probe = acmeh_mocks_history(m, type, NULL); /* NULL = unknown kind */
  if (!probe) return 400;
  json_decref(probe);
  acmeh_mocks_clear_history(m, type, host);
  return 200;
}

/* ---- DNS UPDATE ---- */

static int ep_add_zone(acmeh_mocks *m, json_t *b, json_t **r) {
  const char *zone = str_field(b, "zone");
  char err[256] = "";
  if (!zone) return bad(r, "\"zone\" must be a non-empty string");
  int rc = acmeh_mocks_add_zone_msg(m, zone, err, sizeof err);
  return rc == ACMEH_OK || rc == ACMEH_NOMEM ? status_of(rc) : bad(r, err);
}
static int ep_del_zone(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *zone = str_field(b, "zone");
  return zone ? status_of(acmeh_mocks_del_zone(m, zone)) : 400;
}
static int ep_add_tsig_key(acmeh_mocks *m, json_t *b, json_t **r) {
  char err[256] = "";
  int rc = acmeh_mocks_add_tsig_key(m, b, err, sizeof err);
  if (rc != ACMEH_OK) *r = json_pack("{s:s}", "error", err);
  return status_of(rc); /* a 400 carries {"error": reason} */
}
static int ep_del_tsig_key(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  const char *name = str_field(b, "name");
  return name ? status_of(acmeh_mocks_del_tsig_key(m, name)) : 400;
}
static int ep_update_policy(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)r;
  json_t *allow = field(b, "allowUnsigned");
  if (!json_is_boolean(allow)) return 400;
  acmeh_mocks_set_update_policy(m, json_is_true(allow));
  return 200;
}
static int ep_update_journal(acmeh_mocks *m, json_t *b, json_t **r) {
  json_t *zone = field(b, "zone"); /* a filter of the wrong type must not mean "everything" */
  if (zone && !json_is_null(zone) && !json_is_string(zone)) return bad(r, "\"zone\" must be a string (or absent for all)");
  *r = acmeh_mocks_dns_update_journal(m, str_field(b, "zone"));
  return *r ? 200 : bad(r, "\"zone\" is not a valid name");
}
static int ep_clear_update_journal(acmeh_mocks *m, json_t *b, json_t **r) {
  (void)b, (void)r;
  acmeh_mocks_clear_dns_update_journal(m);
  return 200;
}

static const struct {
  const char *path;
  endpoint_fn fn;
} endpoints[] = {
    {"/add-dns-zone", ep_add_zone},
    {"/del-dns-zone", ep_del_zone},
    {"/add-tsig-key", ep_add_tsig_key},
    {"/del-tsig-key", ep_del_tsig_key},
    {"/set-dns-update-policy", ep_update_policy},
    {"/dns-update-journal", ep_update_journal},
    {"/clear-dns-update-journal", ep_clear_update_journal},
    {"/set-default-ipv4", ep_default_ipv4},
    {"/set-default-ipv6", ep_default_ipv6},
    {"/set-txt", ep_set_txt},
    {"/add-txt", ep_set_txt}, /* the name challtestsrv's README uses */
    {"/clear-txt", ep_clear_txt},
    {"/add-a", ep_add_a},
    {"/clear-a", ep_clear_a},
    {"/add-aaaa", ep_add_aaaa},
    {"/clear-aaaa", ep_clear_aaaa},
    {"/add-caa", ep_add_caa},
    {"/clear-caa", ep_clear_caa},
    {"/set-cname", ep_set_cname},
    {"/clear-cname", ep_clear_cname},
    {"/set-servfail", ep_set_servfail},
    {"/clear-servfail", ep_clear_servfail},
    {"/add-http01", ep_add_http01},
    {"/del-http01", ep_del_http01},
    {"/add-tlsalpn01", ep_add_tlsalpn01},
    {"/del-tlsalpn01", ep_del_tlsalpn01},
    {"/clear-tlsalpn01", ep_del_tlsalpn01}, /* README spelling */
    {"/http-request-history", ep_http_history},
    {"/dns-request-history", ep_dns_history},
    {"/tlsalpn01-request-history", ep_tls_history},
    {"/clear-request-history", ep_clear_history},
};

static endpoint_fn find_endpoint(const char *url) {
  size_t n = strcspn(url, "?");
  for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
    if (strlen(endpoints[i].path) == n && strncmp(url, endpoints[i].path, n) == 0)
      return endpoints[i].fn;
  return NULL;
}

static void set_text(acmeh_httpsrv_resp *resp, int status, const char *text) {
  resp->status = status;
  resp->content_type = "text/plain; charset=utf-8";
  resp->body = strdup(text);
  resp->body_len = resp->body ? strlen(resp->body) : 0;
}

void acmeh_mgmt_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud) {
  endpoint_fn fn = find_endpoint(req->url);
  if (!fn) {
    set_text(resp, 404, "unknown endpoint\n");
    return;
  }
  if (strcmp(req->method, "POST") != 0) {
    set_text(resp, 405, "POST only\n");
    return;
  }
  json_error_t jerr;
  json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(body)) {
    json_decref(body);
    set_text(resp, 400, "body must be a JSON object\n");
    return;
  }
  json_t *reply = NULL;
  int status = fn(ud, body, &reply);
  if (!strstr(req->url, "history") && !strstr(req->url, "journal")) /* reads are not changes */
    acmeh_mocks_record_mgmt(ud, req->url, body, status);
  json_decref(body);
  if (!reply) {
    set_text(resp, status, status == 200 ? "" : "bad request\n");
    return;
  }
  resp->status = status;
  resp->content_type = "application/json; charset=utf-8";
  resp->body = json_dumps(reply, JSON_INDENT(3)); /* challtestsrv pretty-prints history too */
  resp->body_len = resp->body ? strlen(resp->body) : 0;
  json_decref(reply);
}
