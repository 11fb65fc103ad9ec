/* The challenge types the reference client answers (chaltype.h). */
#include "harness/client/chaltype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/challenge.h"
#include "harness/acme/pk.h"
#include "harness/acme/persist.h"
#include "harness/client/dtnagent.h"
#include "mocks/attestation/packed.h"

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

/* ---- pk-01 (draft-geng-acme-public-key; wire as harness/acme/pk.h defines it):
 * nothing to publish; the response carries {"proof": JWS over the token},
 * signed with the identifier's private key, never the account key. */
static int pk01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  return acmeh_acme_pop_key(r->c) ? ACMEH_OK
                                  : acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "the client holds no private key for this key identifier");
}
static void pk01_unpublish(const acmeh_chal_response *r) { (void)r; }
static char *pk01_response(const acmeh_chal_response *r, char *err, size_t errlen) {
  char *proof = NULL, *body = NULL;
  int rc = acmeh_pk_proof(acmeh_acme_pop_key(r->c), token_of(r), &proof);
  json_t *p = rc == ACMEH_OK ? json_pack("{s:s}", "proof", proof) : NULL;
  if (p) body = json_dumps(p, JSON_COMPACT);
  if (!body) acmeh_msg(err, errlen, rc ? rc : ACMEH_NOMEM, "cannot sign the pk-01 proof");
  json_decref(p);
  free(proof);
  return body;
}

/* ---- dns-persist-01 (draft-ietf-acme-dns-persist): a record naming one issuer
 * of the challenge's list and the account, at "_validation-persist.<name>", in
 * the revision of the client's config (harness/acme/persist.h). */

/* The challenge's issuer list checked (§3.1: 1..10 normalized names; -02
 * §3.2: every meta.issuerDomainNames value among them); the first is ours. */
static const char *persist_issuer(const acmeh_chal_response *r, int rev, char *err, size_t errlen) {
  const char *field = acmeh_persist_issuers_field((acmeh_persist_rev)rev);
  const json_t *l = json_object_get(r->chal, field), *x;
  size_t n = json_array_size(l), i;
  if (!json_is_array(l) || n == 0 || n > ACMEH_PERSIST_MAX_ISSUERS)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed dns-persist-01 challenge: \"%s\" %s %zu names (1..10 allowed)",
                     field, json_is_array(l) ? "holds" : "is not an array of", n), NULL;
  char why[200];
  json_array_foreach(l, i, x) if (!acmeh_persist_issuer_ok(json_string_value(x), why, sizeof why)) return
      acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed dns-persist-01 challenge: %s", why), NULL;
  const json_t *d = json_object_get(json_object_get(acmeh_acme_dir(r->c), "meta"), "issuerDomainNames"), *y;
  size_t j;
  json_array_foreach(rev == ACMEH_PERSIST_I2 ? d : NULL, j, y) {
    int in = 0;
    json_array_foreach(l, i, x) in |= json_equal(x, y);
    if (!in) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed dns-persist-01 challenge: meta.issuerDomainNames "
                              "value \"%.80s\" is not in \"%s\" (-02 §3.2)", json_string_value(y) ? json_string_value(y) : "?", field), NULL;
  }
  return json_string_value(json_array_get(l, 0));
}

/* The record's accounturi value: -00 the account URL, -01 the challenge's
 * accounturi verbatim, -02 meta.accountHashPrefix "sha-256/" digest. malloc'd. */
static char *persist_account(const acmeh_chal_response *r, int rev, char *err, size_t errlen) {
  const char *kid = acmeh_acme_kid(r->c), *u = json_string_value(json_object_get(r->chal, "accounturi"));
  if (rev == ACMEH_PERSIST_R0) return kid ? strdup(kid) : NULL;
  if (rev == ACMEH_PERSIST_I1) {
    if (!u) acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "dns-persist-01 challenge has no \"accounturi\" (-01 §3.1)");
    return u ? strdup(u) : NULL;
  }
  const char *prefix = json_string_value(json_object_get(json_object_get(acmeh_acme_dir(r->c), "meta"), "accountHashPrefix"));
  char tp[44], h[44], *out = NULL;
  if (!prefix) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "the directory has no meta.accountHashPrefix (-02 §3.2)"), NULL;
  if (!kid || acmeh_acme_thumbprint(r->c, tp) || acmeh_persist_account_hash(r->name, tp, kid, h) ||
      asprintf(&out, "%ssha-256/%s", prefix, h) < 0)
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "cannot compute the -02 account digest"), NULL;
  return out;
}

static int persist01_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  int rev = acmeh_acme_persist_rev(r->c);
  if (err && errlen) err[0] = '\0';
  const char *issuer = persist_issuer(r, rev, err, errlen);
  char *acct = issuer ? persist_account(r, rev, err, errlen) : NULL, *host = acmeh_persist_name(r->name);
  char *rec = acct ? acmeh_persist_record(issuer, acct, r->wildcard, -1) : NULL;
  int rc = rec && host ? r->pub->set_txt(r->pub, host, rec, err, errlen)
                       : err && *err ? ACMEH_PEER_PROTOCOL : acmeh_msg(err, errlen, ACMEH_NOMEM, "no dns-persist-01 record for %s", r->name);
  free(acct), free(host), free(rec);
  return rc;
}
static void persist01_unpublish(const acmeh_chal_response *r) {
  char *host = acmeh_persist_name(r->name);
  if (host) r->pub->clear_txt(r->pub, host);
  free(host);
}

static const char *const key_types[] = {"pk", "selfsign-cert", "csr", NULL};
/* ---- bp-nodeid-00 (RFC 9891 §3): a BP agent on the bundle node under the Node ID, answering
 * Challenge Bundles with this challenge's id-chal; keyauth is token-chal "." thumbprint here,
 * the agent prepends each bundle's token-bundle. */
static int bpnodeid00_publish(const acmeh_chal_response *r, char *err, size_t errlen) {
  const char *id = json_string_value(json_object_get(r->chal, "id-chal"));
  int port = r->pub->mocks ? acmeh_mocks_bundle_node_port(r->pub->mocks) : -1;
  if (!id) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "bp-nodeid-00 challenge without \"id-chal\" (RFC 9891 §3.1)");
  return acmeh_dtnagent_start(port, r->name, id, r->keyauth, 0, err, errlen);
}
static void bpnodeid00_unpublish(const acmeh_chal_response *r) { acmeh_dtnagent_stop(json_string_value(json_object_get(r->chal, "id-chal"))); }

/* ---- device-attest-01 (draft-ietf-acme-device-attest §5): nothing to publish; the
 * POST carries {"attObj": ...}, a packed attestation over the key authorization by a
 * fresh device key, certified by the mocks' test attestation root. The device key is
 * not kept: the reference client proves the identifier, finalize is the caller's. */
static int nothing_to_publish(const acmeh_chal_response *r, char *err, size_t errlen) { return (void)r, (void)err, (void)errlen, ACMEH_OK; }
static void nothing_to_remove(const acmeh_chal_response *r) { (void)r; }

/* {"attObj": packed attestation over the keyAuthorization} (draft-ietf-acme-device-attest §4.2). */
static char *devattest01_response(const acmeh_chal_response *r, char *err, size_t errlen) {
  char cert[4096], key[4096], *att = NULL, *out = NULL;
  snprintf(cert, sizeof cert, "%s/vectors/deviceattest/attestation-root.pem", ACMEH_SOURCE_DIR);
  snprintf(key, sizeof key, "%s/vectors/deviceattest/attestation-root-key.pem", ACMEH_SOURCE_DIR);
  acmeh_att_ca *ca = NULL;
  EVP_PKEY *dev = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  /* r->name is "<type>:<value>" for identifiers other than dns and ip (acmeh_flow_authorize) */
  const char *colon = strchr(r->name, ':');
  acmeh_devid_type t = ACMEH_DEVID_NONE;
  if (colon && strncmp(r->name, "hardware-module:", 16) == 0) t = ACMEH_DEVID_HWMODULE;
  if (colon && strncmp(r->name, "permanent-identifier:", 21) == 0) t = ACMEH_DEVID_PERMANENT;
  acmeh_att_packed_in in = {dev, t, colon ? colon + 1 : r->name, (const unsigned char *)r->keyauth, strlen(r->keyauth), 0, 0};
  if (dev && acmeh_att_ca_load(cert, key, &ca) == ACMEH_OK) att = acmeh_att_packed_b64(ca, &in);
  if (att && asprintf(&out, "{\"attObj\":\"%s\"}", att) < 0) out = NULL;
  free(att);
  acmeh_att_ca_free(ca);
  EVP_PKEY_free(dev);
  if (!out) acmeh_msg(err, errlen, ACMEH_INTERNAL, "cannot build the device-attest-01 attestation object");
  return out;
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
static const char *const eid_only[] = {"bundleEID", NULL};
static const char *const dns_and_ip[] = {"dns", "ip", NULL}; /* RFC 8738 §7: http-01 and tls-alpn-01 for ip */

static const acmeh_chaltype http01 = {"http-01", dns_and_ip, http01_publish, http01_unpublish, 1, NULL, 0};
static const acmeh_chaltype dns01 = {"dns-01", dns_only, dns01_publish, dns01_unpublish, 0, NULL, 0};
static const acmeh_chaltype tlsalpn01 = {"tls-alpn-01", dns_and_ip, tlsalpn01_publish, tlsalpn01_unpublish, 1, NULL, 0};
static const acmeh_chaltype dnsaccount01 = {"dns-account-01", dns_only, dnsaccount01_publish, dnsaccount01_unpublish, 0, NULL, 0};

static const acmeh_chaltype pk01 = {"pk-01", key_types, pk01_publish, pk01_unpublish, 0, pk01_response, 0};
static const acmeh_chaltype persist01 = {"dns-persist-01", dns_only, persist01_publish, persist01_unpublish, 0, NULL, 1};
static const acmeh_chaltype bpnodeid00 = {"bp-nodeid-00", eid_only, bpnodeid00_publish, bpnodeid00_unpublish, 0, NULL, 0};
static const char *const devids[] = {"permanent-identifier", "hardware-module", NULL};
static const acmeh_chaltype devattest01 = {"device-attest-01", devids, nothing_to_publish, nothing_to_remove, 0, devattest01_response, 0};
static const acmeh_chaltype onioncsr01 = {"onion-csr-01", dns_only, onioncsr01_publish, onioncsr01_unpublish, 0, NULL, 0};

static const acmeh_chaltype *const table[] = {&http01, &dns01,   &tlsalpn01,   &dnsaccount01, &persist01,
                                              &pk01,   &bpnodeid00, &devattest01, &onioncsr01, NULL};

const acmeh_chaltype *const *acmeh_chaltypes(void) { return table; }

const acmeh_chaltype *acmeh_chaltype_find(const char *name) {
  for (const acmeh_chaltype *const *t = table; name && *t; t++)
    if (strcmp((*t)->name, name) == 0) return *t;
  return NULL;
}
