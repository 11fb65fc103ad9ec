/* Challenge material: keyAuthorization (RFC 8555 §8.1), dns-01 TXT value
 * (§8.4), tls-alpn-01 acmeIdentifier extension and certificate (RFC 8737),
 * dns-account-01 validation name (draft-ietf-acme-dns-account-label). */
#include "harness/acme/challenge.h"

#include <openssl/asn1.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"

/* id-pe-acmeIdentifier, RFC 8737 §6.1. */
#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"
/* How long a validation certificate lives; only a handshake needs it. */
#define TLSALPN_CERT_DAYS 7

char *acmeh_key_authorization(const char *token, const char *thumbprint) {
  if (!token || !thumbprint || !*token || !*thumbprint) return NULL;
  size_t tl = strlen(token), pl = strlen(thumbprint);
  char *s = malloc(tl + pl + 2);
  if (!s) return NULL;
  memcpy(s, token, tl);
  s[tl] = '.';
  memcpy(s + tl + 1, thumbprint, pl + 1);
  return s;
}

static int keyauth_digest(const char *keyauth, unsigned char md[32]) {
  if (!keyauth) return ACMEH_INTERNAL;
  unsigned int len = 0;
  if (EVP_Digest(keyauth, strlen(keyauth), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
    return ACMEH_INTERNAL;
  return ACMEH_OK;
}

int acmeh_dns01_txt(const char *keyauth, char out[44]) {
  unsigned char md[32];
  if (!out || keyauth_digest(keyauth, md) != ACMEH_OK) return ACMEH_INTERNAL;
  char *b = acmeh_b64url_encode(md, sizeof(md));
  if (!b) return ACMEH_INTERNAL;
  memcpy(out, b, 44);
  free(b);
  return ACMEH_OK;
}

/* The critical acmeIdentifier extension whose extnValue is the DER of
 * OCTET STRING (SIZE 32) holding SHA-256(keyauth). Caller frees with
 * X509_EXTENSION_free; NULL on failure. */
static X509_EXTENSION *acme_identifier_ext(const char *keyauth) {
  unsigned char md[32];
  if (keyauth_digest(keyauth, md) != ACMEH_OK) return NULL;
  /* extnValue wraps the DER of the inner OCTET STRING: 04 20 <digest>. */
  unsigned char inner[34] = {0x04, 0x20};
  memcpy(inner + 2, md, sizeof(md));
  ASN1_OBJECT *oid = OBJ_txt2obj(ACME_IDENTIFIER_OID, 1);
  ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
  X509_EXTENSION *ext = NULL;
  if (oid && val && ASN1_OCTET_STRING_set(val, inner, sizeof(inner)) == 1)
    ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val);
  ASN1_OBJECT_free(oid);
  ASN1_OCTET_STRING_free(val);
  return ext;
}

int acmeh_tlsalpn01_extension_der(const char *keyauth, unsigned char out[51]) {
  X509_EXTENSION *ext = acme_identifier_ext(keyauth);
  if (!ext || !out) {
    X509_EXTENSION_free(ext);
    return ACMEH_INTERNAL;
  }
  int rc = ACMEH_INTERNAL;
  if (i2d_X509_EXTENSION(ext, NULL) == 51) {
    unsigned char *p = out;
    rc = i2d_X509_EXTENSION(ext, &p) == 51 ? ACMEH_OK : ACMEH_INTERNAL;
  }
  X509_EXTENSION_free(ext);
  return rc;
}

/* One-entry GENERAL_NAMES: iPAddress when `name` parses as an IP literal,
 * else dNSName. Caller frees with GENERAL_NAMES_free; NULL on failure. */
static GENERAL_NAMES *single_san(const char *name) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
  ASN1_IA5STRING *dns = ip ? NULL : ASN1_IA5STRING_new();
  int ok = gens && gen && (ip || (dns && ASN1_STRING_set(dns, name, -1) == 1));
  if (ok) {
    GENERAL_NAME_set0_value(gen, ip ? GEN_IPADD : GEN_DNS, ip ? (void *)ip : (void *)dns);
    ip = NULL;
    dns = NULL;
    ok = sk_GENERAL_NAME_push(gens, gen) > 0;
    if (ok) gen = NULL;
  }
  ASN1_OCTET_STRING_free(ip);
  ASN1_IA5STRING_free(dns);
  GENERAL_NAME_free(gen);
  if (!ok) {
    GENERAL_NAMES_free(gens);
    return NULL;
  }
  return gens;
}

/* Random positive 64-bit serial, so repeated certs never look identical. */
static int set_random_serial(X509 *cert) {
  unsigned char buf[8];
  if (RAND_bytes(buf, sizeof(buf)) != 1) return 0;
  buf[0] &= 0x7f;
  buf[0] |= 0x01; /* nonzero leading byte keeps the DER length fixed */
  BIGNUM *bn = BN_bin2bn(buf, sizeof(buf), NULL);
  ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  int ok = serial && X509_set_serialNumber(cert, serial) == 1;
  ASN1_INTEGER_free(serial);
  BN_free(bn);
  return ok;
}

/* Subject CN = the DNS name when it fits (some TLS stacks dislike empty
 * subjects); IP literals and long names get an empty subject, which RFC 5280
 * §4.2.1.6 pairs with a critical SAN. Returns 1 when the SAN must be critical. */
static int set_subject(X509 *cert, const char *name, int *ok) {
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
  int is_ip = ip != NULL;
  ASN1_OCTET_STRING_free(ip);
  *ok = 1;
  if (is_ip || strlen(name) > 64) return 1;
  X509_NAME *subj = X509_get_subject_name(cert);
  *ok = X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
                                   -1, 0) == 1;
  return 0;
}

/* Self-signed body of the validation certificate. */
static int fill_tlsalpn_cert(X509 *cert, EVP_PKEY *key, const char *name, const char *keyauth) {
  GENERAL_NAMES *gens = single_san(name);
  X509_EXTENSION *ext = acme_identifier_ext(keyauth);
  int ok = 0;
  int san_critical = set_subject(cert, name, &ok);
  ok = ok && gens && ext && X509_set_version(cert, X509_VERSION_3) == 1 &&
       set_random_serial(cert) && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
       X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * TLSALPN_CERT_DAYS) &&
       X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1 &&
       X509_set_pubkey(cert, key) == 1 &&
       X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, san_critical, X509V3_ADD_DEFAULT) ==
           1 &&
       X509_add_ext(cert, ext, -1) == 1 && X509_sign(cert, key, EVP_sha256()) > 0;
  GENERAL_NAMES_free(gens);
  X509_EXTENSION_free(ext);
  return ok;
}

int acmeh_tlsalpn01_cert(const char *name, const char *keyauth, EVP_PKEY **key, X509 **cert) {
  if (!name || !*name || !keyauth || !*keyauth || !key || !cert) return ACMEH_INVALID_ARG;
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509 *c = X509_new();
  if (!k || !c || !fill_tlsalpn_cert(c, k, name, keyauth)) {
    EVP_PKEY_free(k);
    X509_free(c);
    return ACMEH_INTERNAL;
  }
  *key = k;
  *cert = c;
  return ACMEH_OK;
}

/* ---- dns-account-01 (draft-ietf-acme-dns-account-label-00 §3.2) ---------- */

/* A local encoder: Debian packages no maintained C library with RFC 4648
 * base32 (OpenSSL has base64 only), and the 20 lines below are simpler to
 * review than a dependency for 16 characters. */
size_t acmeh_base32(const unsigned char *in, size_t n, int lower, char *out) {
  const char *alpha = lower ? "abcdefghijklmnopqrstuvwxyz234567" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 5) {
    unsigned char b[5] = {0};
    size_t take = n - i < 5 ? n - i : 5;
    memcpy(b, in + i, take);
    uint64_t v = (uint64_t)b[0] << 32 | (uint64_t)b[1] << 24 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 8 | b[4];
    size_t chars = (take * 8 + 4) / 5; /* characters carrying data: 2, 4, 5, 7 or 8 */
    for (size_t k = 0; k < 8; k++) out[o++] = k < chars ? alpha[(v >> (35 - 5 * k)) & 31] : '=';
  }
  out[o] = '\0';
  return o;
}

int acmeh_dnsaccount_label(const char *account_url, char out[ACMEH_DNSACCT_LABEL_LEN + 1]) {
  if (!account_url || !*account_url || !out) return ACMEH_INVALID_ARG;
  unsigned char md[32];
  unsigned int len = 0;
  if (EVP_Digest(account_url, strlen(account_url), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
    return ACMEH_INTERNAL;
  out[0] = '_';
  acmeh_base32(md, 10, 1, out + 1); /* [0:10]: 80 bits, 16 characters, no padding */
  return ACMEH_OK;
}

char *acmeh_dnsaccount_name(const char *account_url, const char *identifier) {
  return acmeh_dnsaccount_name_in(ACMEH_DNSACCT_ACME_CHALLENGE, account_url, identifier);
}

char *acmeh_dnsaccount_name_in(acmeh_dnsacct_scheme scheme, const char *account_url, const char *identifier) {
  char label[ACMEH_DNSACCT_LABEL_LEN + 1];
  if (!identifier || acmeh_dnsaccount_label(account_url, label) != ACMEH_OK) return NULL;
  int wild = strncmp(identifier, "*.", 2) == 0;
  const char *base = wild ? identifier + 2 : identifier;
  const char *under = scheme != ACMEH_DNSACCT_SCOPED ? "_acme-challenge" : wild ? "_acme-wildcard-challenge" : "_acme-host-challenge";
  size_t bl = strlen(base);
  if (bl && base[bl - 1] == '.') bl--;
  if (!bl) return NULL;
  char *s = NULL;
  if (asprintf(&s, "%s.%s.%.*s", label, under, (int)bl, base) < 0) return NULL;
  if (strlen(s) > 253) { /* RFC 1035 §2.3.4: not a usable DNS name */
    free(s);
    return NULL;
  }
  return s;
}
