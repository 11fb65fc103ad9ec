/* CORE-S-102..107: IP identifiers (RFC 8738). Every check first orders
 * 127.0.0.1; a server that refuses it with rejectedIdentifier or
 * unsupportedIdentifier does not support ip identifiers, and the check is
 * skipped. Validation goes to 127.0.0.1, where the harness's mocks listen. */
#include <arpa/inet.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/cert.h"
#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/core/core_suite.h"

#define IP_V4 "127.0.0.1"
#define IP_V4_SNI "1.0.0.127.in-addr.arpa" /* RFC 8738 §6: the reverse name of IP_V4 */
#define NO_IP "server does not support ip identifiers"

/* newOrder for one ip identifier `value`, the raw answer in r. */
static int post_ip_order(acmeh_check_ctx *ctx, acmeh_acme *c, const char *value, acmeh_http_resp *r) {
  json_t *p = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "ip", "value", value);
  char *payload = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  int rc = payload && url ? acmeh_kit_post(ctx, c, url, payload, NULL, r)
                          : acmeh_check_fail(ctx, "a newOrder URL in the directory", "none");
  free(payload);
  return rc;
}

/* A fresh account and an order for 127.0.0.1: ACMEH_OK with the order in
 * *order (owned); a skip when the server refuses ip identifiers as such. */
static int ip_order(acmeh_check_ctx *ctx, acmeh_acme **c, json_t **order) {
  acmeh_http_resp r = {0};
  int rc = acmeh_kit_account(ctx, c);
  if (rc == ACMEH_OK) rc = post_ip_order(ctx, *c, IP_V4, &r);
  char type[128] = "";
  acmeh_resp_problem(&r, type, sizeof type);
  *order = rc == ACMEH_OK && r.status == 201 ? acmeh_resp_json(&r) : NULL;
  if (rc == ACMEH_OK && !*order && (strcmp(type, "rejectedIdentifier") == 0 || strcmp(type, "unsupportedIdentifier") == 0))
    rc = acmeh_check_skip(ctx, NO_IP);
  else if (rc == ACMEH_OK && !json_is_object(*order))
    rc = acmeh_kit_expect_status(ctx, &r, 201, "newOrder for {\"type\":\"ip\",\"value\":\"" IP_V4 "\"}");
  acmeh_http_resp_free(&r);
  return rc;
}

/* RFC 8738 §3: an accepted order names the address as an "ip" identifier, as sent. */
static int ip_accepted(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  json_t *order = NULL;
  int rc = ip_order(ctx, &c, &order);
  const json_t *id = json_array_get(json_object_get(order, "identifiers"), 0);
  const char *type = json_string_value(json_object_get(id, "type")), *value = json_string_value(json_object_get(id, "value"));
  if (rc == ACMEH_OK && (json_array_size(json_object_get(order, "identifiers")) != 1 || !type || !value ||
                         strcmp(type, "ip") != 0 || strcmp(value, IP_V4) != 0)) {
    char *got = json_dumps(json_object_get(order, "identifiers"), JSON_COMPACT);
    rc = acmeh_check_fail(ctx, "identifiers [{\"type\":\"ip\",\"value\":\"" IP_V4 "\"}] in the order",
                          "%.200s", got ? got : "none");
    free(got);
  }
  json_decref(order);
  acmeh_acme_free(c);
  return rc;
}

/* The order's first authorization for 127.0.0.1, fetched. */
static int ip_authz(acmeh_check_ctx *ctx, acmeh_acme **c, char **authz_url, json_t **authz) {
  json_t *order = NULL;
  int rc = ip_order(ctx, c, &order);
  const char *u = acmeh_kit_first_authz(order);
  *authz_url = u ? strdup(u) : NULL;
  if (rc == ACMEH_OK && !u) rc = acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  if (rc == ACMEH_OK) rc = acmeh_acme_get_json(*c, u, authz, NULL, ctx->err, sizeof ctx->err);
  json_decref(order);
  return rc;
}

/* RFC 8738 §7 (dns-01 MUST NOT be used for ip identifiers) and §4: the
 * authorization is for the ip identifier and offers http-01 / tls-alpn-01 only. */
static int ip_no_dns_challenge(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  char *url = NULL;
  json_t *authz = NULL;
  int rc = ip_authz(ctx, &c, &url, &authz);
  const char *type = json_string_value(json_object_get(json_object_get(authz, "identifier"), "type"));
  if (rc == ACMEH_OK && (!type || strcmp(type, "ip") != 0))
    rc = acmeh_check_fail(ctx, "the authorization's identifier of type \"ip\"", "type %s", type ? type : "missing");
  size_t i;
  json_t *ch;
  json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
    const char *t = json_string_value(json_object_get(ch, "type"));
    if (rc == ACMEH_OK && t && (strcmp(t, "dns-01") == 0 || strcmp(t, "dns-account-01") == 0))
      rc = acmeh_check_fail(ctx, "no DNS-based challenge for an ip identifier", "the authorization for " IP_V4 " offers %s", t);
  }
  if (rc == ACMEH_OK && !acmeh_flow_find_challenge(authz, "http-01") && !acmeh_flow_find_challenge(authz, "tls-alpn-01"))
    rc = acmeh_check_fail(ctx, "http-01 or tls-alpn-01 offered for an ip identifier", "neither is offered");
  json_decref(authz);
  free(url);
  acmeh_acme_free(c);
  return rc;
}

/* Validates the 127.0.0.1 authorization with `type` and returns the mocks'
 * history under `key` (new reference). Skips when `type` is not offered. */
static int ip_validate(acmeh_check_ctx *ctx, const char *type, const char *key, json_t **hist, json_t **authz) {
  acmeh_acme *c = NULL;
  char *url = NULL;
  json_t *final = NULL;
  int rc = ip_authz(ctx, &c, &url, authz);
  if (rc == ACMEH_OK && !acmeh_flow_find_challenge(*authz, type))
    rc = acmeh_check_skip(ctx, "the authorization for an ip identifier offers no %s", type);
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(c, ctx->env->publisher, url, type, &final, ctx->err, sizeof ctx->err);
  *hist = rc ? NULL : acmeh_kit_history(ctx, strcmp(type, "http-01") == 0 ? "http" : "tlsalpn", key);
  char *seen = json_dumps(*hist, JSON_COMPACT);
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "%s requests the mock filed under %s: %.1500s", type, key, seen ? seen : "[]");
  free(seen);
  json_decref(final);
  free(url);
  acmeh_acme_free(c);
  return rc;
}

/* RFC 8738 §5 (http-01): the validation request goes to the address itself
 * with Host = the address, so the mock files it under 127.0.0.1. */
static int ip_http01(acmeh_check_ctx *ctx) {
  json_t *hist = NULL, *authz = NULL;
  int rc = ip_validate(ctx, "http-01", IP_V4, &hist, &authz);
  const char *token = json_string_value(json_object_get(acmeh_flow_find_challenge(authz, "http-01"), "token"));
  char path[300];
  snprintf(path, sizeof path, "/.well-known/acme-challenge/%s", token ? token : "");
  int seen = 0;
  size_t i;
  json_t *h;
  json_array_foreach(hist, i, h) seen |= json_is_string(json_object_get(h, "path")) &&
                                         strcmp(json_string_value(json_object_get(h, "path")), path) == 0;
  if (rc == ACMEH_OK && !seen)
    rc = acmeh_check_fail(ctx, "a GET of the challenge path at " IP_V4 " with Host: " IP_V4,
                          "no request for %s with that Host reached the http-01 mock", path);
  json_decref(hist), json_decref(authz);
  return rc;
}

/* RFC 8738 §6: tls-alpn-01 for an address uses its reverse DNS name as SNI
 * (the mock files handshakes under their SNI; it also answers SNI
 * "127.0.0.1", so validation alone proves nothing). */
static int ip_tlsalpn01(acmeh_check_ctx *ctx) {
  json_t *hist = NULL, *authz = NULL;
  int rc = ip_validate(ctx, "tls-alpn-01", IP_V4_SNI, &hist, &authz);
  if (rc == ACMEH_OK && !json_array_size(hist)) {
    json_t *other = acmeh_kit_history(ctx, "tlsalpn", IP_V4);
    rc = acmeh_check_fail(ctx, "a TLS handshake with SNI " IP_V4_SNI, "none recorded%s",
                          json_array_size(other) ? "; handshakes with SNI " IP_V4 " were" : "");
    json_decref(other);
  }
  json_decref(hist), json_decref(authz);
  return rc;
}

/* The certificate's SAN kinds for 127.0.0.1: *ip_san / *dns_san set when an
 * iPAddress / a dNSName holds it. */
static void san_kinds(X509 *leaf, int *ip_san, int *dns_san) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  unsigned char want[4];
  inet_pton(AF_INET, IP_V4, want);
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
    int t = 0;
    const ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &t);
    int len = ASN1_STRING_length(v);
    const unsigned char *d = ASN1_STRING_get0_data(v);
    if (t == GEN_IPADD && len == 4 && memcmp(d, want, 4) == 0) *ip_san = 1;
    if (t == GEN_DNS && len == (int)strlen(IP_V4) && memcmp(d, IP_V4, strlen(IP_V4)) == 0) *dns_san = 1;
  }
  GENERAL_NAMES_free(gens);
}

/* RFC 8738 §3 with RFC 5280 §4.2.1.6: an address is certified as an iPAddress SAN. */
static int ip_cert_san(acmeh_check_ctx *ctx) {
  acmeh_acme *c = NULL;
  json_t *order = NULL;
  acmeh_issued is = {0};
  int rc = ip_order(ctx, &c, &order); /* tells a server without ip support apart (skip) */
  const char *names[] = {IP_V4};
  if (rc == ACMEH_OK) rc = acmeh_flow_issue(c, ctx->env->publisher, names, 1, "http-01", &is, ctx->err, sizeof ctx->err);
  STACK_OF(X509) *chain = NULL;
  char perr[200];
  if (rc == ACMEH_OK && acmeh_pem_chain_parse(is.chain_pem, strlen(is.chain_pem), &chain, perr, sizeof perr) != ACMEH_OK)
    rc = acmeh_check_fail(ctx, "a PEM certificate chain", "%s", perr);
  int ip_san = 0, dns_san = 0;
  if (rc == ACMEH_OK) san_kinds(sk_X509_value(chain, 0), &ip_san, &dns_san);
  if (rc == ACMEH_OK && (!ip_san || dns_san))
    rc = acmeh_check_fail(ctx, "the certificate names " IP_V4 " in an iPAddress SAN (and not as a dNSName)",
                          "%s", dns_san ? "it is a dNSName SAN" : "no iPAddress SAN for it");
  if (chain) sk_X509_pop_free(chain, X509_free);
  acmeh_issued_clear(&is);
  json_decref(order);
  acmeh_acme_free(c);
  return rc;
}

/* RFC 8738 §3: the value MUST be the canonical text (RFC 1123 §2.1 / RFC 5952
 * §4); other spellings of the same address are refused. */
static int ip_noncanonical(acmeh_check_ctx *ctx) {
  static const char *const values[] = {"127.000.000.001", "0:0:0:0:0:0:0:1", "::FFFF:7F00:1"};
  static const char *const types[] = {"malformed", "rejectedIdentifier", NULL};
  acmeh_acme *c = NULL;
  json_t *order = NULL;
  int rc = ip_order(ctx, &c, &order);
  for (size_t i = 0; rc == ACMEH_OK && i < sizeof values / sizeof *values; i++) {
    acmeh_http_resp r = {0};
    char what[100];
    snprintf(what, sizeof what, "newOrder for the non-canonical ip identifier \"%s\"", values[i]);
    rc = post_ip_order(ctx, c, values[i], &r);
    if (rc == ACMEH_OK) rc = acmeh_kit_expect_refused(ctx, &r, types, what);
    acmeh_http_resp_free(&r);
  }
  json_decref(order);
  acmeh_acme_free(c);
  return rc;
}

const acmeh_check_impl core_ip_checks[] = {
    {"CORE-S-102", ip_accepted}, {"CORE-S-103", ip_no_dns_challenge}, {"CORE-S-104", ip_http01},
    {"CORE-S-105", ip_tlsalpn01}, {"CORE-S-106", ip_cert_san},         {"CORE-S-107", ip_noncanonical},
    {NULL, NULL}};
