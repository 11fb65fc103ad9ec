/* Challenge material: keyAuthorization (RFC 8555 §8.1), dns-01 TXT value
 * (§8.4), tls-alpn-01 acmeIdentifier extension and validation certificate
 * (RFC 8737 §3), dns-account-01 validation domain name
 * (draft-ietf-acme-dns-account-label-00 §3.2; the -02 text of the label
 * construction is the same). */
#ifndef ACMEH_ACME_CHALLENGE_H
#define ACMEH_ACME_CHALLENGE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/* token "." thumbprint, malloc'd, caller frees; NULL on bad args / no memory. */
char *acmeh_key_authorization(const char *token, const char *thumbprint);

/* base64url(SHA-256(keyauth)) into out (43 chars + NUL). Returns ACMEH_OK or ACMEH_INTERNAL. */
int acmeh_dns01_txt(const char *keyauth, char out[44]);

/* Length of a dns-account-01 account label: "_" + 16 base32 characters. */
#define ACMEH_DNSACCT_LABEL_LEN 17

/* The dns-account-01 account label of `account_url` (draft-ietf-acme-dns-
 * account-label-00 §3.2): "_" || base32(SHA-256(account_url)[0:10]) in the
 * RFC 4648 §6 alphabet written in lower case, no padding (10 bytes = 16
 * characters exactly). The draft's text says only "base32"; its example, and
 * every implementation seen (Boulder, acme4j, acmez), are lower case, and DNS
 * compares names case-insensitively anyway. account_url is hashed as the exact
 * bytes of the Location / kid string. Writes 17 characters + NUL into out.
 * Returns ACMEH_OK, ACMEH_INVALID_ARG (NULL or empty URL), ACMEH_INTERNAL. */
int acmeh_dnsaccount_label(const char *account_url, char out[ACMEH_DNSACCT_LABEL_LEN + 1]);

/* The dns-account-01 validation domain name (§3.2):
 * "<label>._acme-challenge.<base>", where <base> is `identifier` without a
 * leading "*." (a wildcard authorization carries the base name, RFC 8555
 * §7.1.3, and the record lives under it, as for dns-01 §8.4; the draft names
 * no separate wildcard rule) and without a trailing dot. The TXT value at that
 * name is acmeh_dns01_txt(keyauth), the same digest as dns-01 (§3.2 step 1).
 * Returns a malloc'd string the caller frees; NULL on bad arguments, a name
 * longer than 253 characters, or no memory. */
char *acmeh_dnsaccount_name(const char *account_url, const char *identifier);

/* Where a revision puts the dns-account-01 TXT record: every revision of
 * draft-ietf-acme-dns-account-label under "_acme-challenge" (above), or its
 * predecessor draft-ietf-acme-scoped-dns-challenges-00 (§4, the same label)
 * under a scope-specific label: "_acme-host-challenge" for an authorization of
 * one host name, "_acme-wildcard-challenge" for a wildcard one (the "domain"
 * scope needs RFC 9444's subdomainAuthAllowed, which the harness never asks
 * for). Pebble 2.6 implements the scoped form. */
typedef enum {
  ACMEH_DNSACCT_ACME_CHALLENGE = 0, /* "<label>._acme-challenge.<base>" */
  ACMEH_DNSACCT_SCOPED              /* "<label>._acme-host-challenge.<name>" / "<label>._acme-wildcard-challenge.<base>" */
} acmeh_dnsacct_scheme;

/* acmeh_dnsaccount_name for `scheme`; `identifier` "*.<base>" means a
 * wildcard authorization of <base>. Same returns. */
char *acmeh_dnsaccount_name_in(acmeh_dnsacct_scheme scheme, const char *account_url, const char *identifier);

/* RFC 4648 §6 base32 of n bytes into out (lower case when `lower`, '='
 * padding to a multiple of 8 characters). out must hold ((n + 4) / 5) * 8 + 1
 * bytes. Returns the number of characters written (without the NUL). */
size_t acmeh_base32(const unsigned char *in, size_t n, int lower, char *out);

/* The full DER of the critical id-pe-acmeIdentifier Extension (OID
 * 1.3.6.1.5.5.7.1.31, extnValue = OCTET STRING of SHA-256(keyauth)): 51 bytes.
 * Returns ACMEH_OK or ACMEH_INTERNAL. */
int acmeh_tlsalpn01_extension_der(const char *keyauth, unsigned char out[51]);

/* Builds a self-signed tls-alpn-01 validation certificate for `name` (dNSName
 * SAN, or iPAddress SAN when name is an IP literal) with the critical
 * acmeIdentifier extension, on a fresh P-256 key. On success the caller owns
 * *key and *cert (EVP_PKEY_free / X509_free). Returns ACMEH_OK, ACMEH_INVALID_ARG,
 * ACMEH_INTERNAL. */
int acmeh_tlsalpn01_cert(const char *name, const char *keyauth, EVP_PKEY **key, X509 **cert);

#endif
