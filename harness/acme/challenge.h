/* Challenge material: keyAuthorization (RFC 8555 §8.1), dns-01 TXT value
 * (§8.4), tls-alpn-01 acmeIdentifier extension and validation certificate
 * (RFC 8737 §3). */
#ifndef ACMEH_ACME_CHALLENGE_H
#define ACMEH_ACME_CHALLENGE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/* token "." thumbprint, malloc'd, caller frees; NULL on bad args / no memory. */
char *acmeh_key_authorization(const char *token, const char *thumbprint);

/* base64url(SHA-256(keyauth)) into out (43 chars + NUL). Returns ACMEH_OK or ACMEH_INTERNAL. */
int acmeh_dns01_txt(const char *keyauth, char out[44]);

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
