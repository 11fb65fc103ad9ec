/* The challenge types the reference client answers (chaltype.h). */
#include "harness/client/chaltype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/challenge.h"

static const char *token_of(const acmeh_chal_response *r) { return json_string_value(json_object_get(r->chal, "token")); }

/* ---- http-01 (RFC 8555 §8.3): the key authorization at /.well-known/acme-challenge/<token> */
static int http01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  return r->pub->add_http01(r->pub, token_of(r), r->keyauth, err, errlen);
}
static void http01_unpublish(const acmeh_chal_response *r) { r->pub->del_http01(r->pub, token_of(r)); }

/* ---- dns-01 (§8.4): base64url(SHA-256(keyauth)) as TXT at _acme-challenge.<name>; a
 * wildcard's record lives under its base name, which r->name already is. */
static int dns01_host(const acmeh_chal_response *r, char *host, size_t len) {
  return snprintf(host, len, "_acme-challenge.%s", r->name) < (int)len ? ACMEH_OK : ACMEH_INVALID_ARG;
}
static int dns01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  char host[300], txt[44];
  int rc = dns01_host(r, host, sizeof host);
  if (rc == ACMEH_OK) rc = acmeh_dns01_txt(r->keyauth, txt);
  return rc ? acmeh_msg(err, errlen, rc, "no dns-01 record for %s", r->name) : r->pub->set_txt(r->pub, host, txt, err, errlen);
}
static void dns01_unpublish(const acmeh_chal_response *r) {
  char host[300];
  if (dns01_host(r, host, sizeof host) == ACMEH_OK) r->pub->clear_txt(r->pub, host);
}

/* ---- tls-alpn-01 (RFC 8737 §3): a validation certificate for the name */
static int tlsalpn01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  return r->pub->add_tlsalpn01(r->pub, r->name, r->keyauth, err, errlen);
}
static void tlsalpn01_unpublish(const acmeh_chal_response *r) { r->pub->del_tlsalpn01(r->pub, r->name); }

/* ---- dns-account-01 (draft-ietf-acme-dns-account-label §3.2): the dns-01 digest at
 * "_<label>._acme-challenge.<name>", the label from the account URL (the kid);
 * under the scoped revision the label's scope ("_acme-host-challenge" or
 * "_acme-wildcard-challenge") replaces "_acme-challenge". */
static char *dnsaccount01_host(const acmeh_chal_response *r) {
  char *wild = NULL;
  if (r->wildcard && asprintf(&wild, "*.%s", r->name) < 0) return NULL;
  char *host = acmeh_dnsaccount_name_in(acmeh_acme_dnsacct_scheme(r->c), acmeh_acme_kid(r->c), wild ? wild : r->name);
  free(wild);
  return host;
}

static int dnsaccount01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  char txt[44], *host = dnsaccount01_host(r);
  int rc = host ? acmeh_dns01_txt(r->keyauth, txt) : ACMEH_INVALID_ARG;
  rc = rc ? acmeh_msg(err, errlen, rc, "no dns-account-01 name for %s", r->name) : r->pub->set_txt(r->pub, host, txt, err, errlen);
  free(host);
  return rc;
}
static void dnsaccount01_unpublish(const acmeh_chal_response *r) {
  char *host = dnsaccount01_host(r);
  if (host) r->pub->clear_txt(r->pub, host);
  free(host);
}

/* ---- onion-csr-01 (RFC 9799 §3.2): nothing is published; the response
 * payload itself is a CSR signed with the onion service's key, which the
 * publisher does not hold: harness/client/onion.h builds it. */
static int onioncsr01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "onion-csr-01 for %s is answered with a CSR signed by the onion key "
                   "(acmeh_client_onion_response), not by publishing", r->name);
}
static void onioncsr01_unpublish(const acmeh_chal_response *r) { (void)r; }

static const char *const dns_only[] = {"dns", NULL};
static const char *const dns_and_ip[] = {"dns", "ip", NULL}; /* RFC 8738 §7: http-01 and tls-alpn-01 for ip */

static const acmeh_chaltype http01 = {"http-01", dns_and_ip, http01_publish, http01_unpublish, 1};
static const acmeh_chaltype dns01 = {"dns-01", dns_only, dns01_publish, dns01_unpublish, 0};
static const acmeh_chaltype tlsalpn01 = {"tls-alpn-01", dns_and_ip, tlsalpn01_publish, tlsalpn01_unpublish, 1};
static const acmeh_chaltype dnsaccount01 = {"dns-account-01", dns_only, dnsaccount01_publish, dnsaccount01_unpublish, 0};

static const acmeh_chaltype onioncsr01 = {"onion-csr-01", dns_only, onioncsr01_publish, onioncsr01_unpublish, 0};

static const acmeh_chaltype *const table[] = {&http01, &dns01, &tlsalpn01, &dnsaccount01, &onioncsr01, NULL};

const acmeh_chaltype *const *acmeh_chaltypes(void) { return table; }

const acmeh_chaltype *acmeh_chaltype_find(const char *name) {
  for (const acmeh_chaltype *const *t = table; name && *t; t++)
    if (strcmp((*t)->name, name) == 0) return *t;
  return NULL;
}
