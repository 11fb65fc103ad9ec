/* CSRs for finalize (RFC 8555 §7.4) and certificate chains from download (§7.4.2, §9.1). */
#ifndef ACMEH_ACME_CERT_H
#define ACMEH_ACME_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/* RFC 9174 §4.4.1 / RFC 9891 §5: the BundleEID otherName and the
 * bundleSecurity extended key usage. */
#define ACMEH_OID_ON_BUNDLE_EID "1.3.6.1.5.5.7.8.11"
#define ACMEH_OID_KP_BUNDLE_SECURITY "1.3.6.1.5.5.7.3.35"

/* Whether name is a bundle endpoint ID ("dtn:..." or "ipn:..."), which SANs
 * carry as a BundleEID otherName. Returns 1 or 0. */
int acmeh_is_bundle_eid(const char *name);

/* Builds a PKCS#10 CSR signed by `key` requesting `names` (n entries; DNS
 * names as dNSName SANs, IP literals as iPAddress SANs, bundle EIDs as
 * BundleEID otherName SANs with an id-kp-bundleSecurity EKU request; subject
 * CN = names[0] when it is a DNS name of at most 64 chars). The SAN readers
 * below give a BundleEID otherName as its EID text. Stores base64url(DER) without
 * padding in *b64url_der (malloc'd, caller frees).
 * Returns ACMEH_OK, ACMEH_INVALID_ARG (n == 0), ACMEH_INTERNAL. */
int acmeh_csr_build(EVP_PKEY *key, const char *const *names, size_t n, char **b64url_der);

/* Most certificates acmeh_pem_chain_parse accepts in one chain. Real chains
 * hold 2-4; a hostile server's 5,000 cost 17 s of CPU in chain building
 * (issuer search over every untrusted certificate), so a longer chain is
 * refused before it is decoded. */
#define ACMEH_PEM_CHAIN_MAX 100

/* Parses an application/pem-certificate-chain body strictly (RFC 8555 §9.1,
 * RFC 7468 strict textual encoding): only "CERTIFICATE" PEM blocks, nothing
 * but line breaks between them. On success *chain holds the certificates in
 * order (caller frees with sk_X509_pop_free(chain, X509_free)).
 * Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL with the reason in err (errlen bytes),
 * e.g. "block 2 is BEGIN PRIVATE KEY, not CERTIFICATE", "text outside PEM blocks" or
 * "more than 100 certificates in the chain ..." beyond ACMEH_PEM_CHAIN_MAX. */
int acmeh_pem_chain_parse(const char *body, size_t len, STACK_OF(X509) **chain, char *err,
                          size_t errlen);

/* The certificate's subjectAltName entries as strings ("example.com" for
 * dNSName, textual address for iPAddress), malloc'd array of malloc'd
 * strings in *names with count *n; free with acmeh_names_free. Other
 * GeneralName kinds appear as "unsupported:<GEN_* number>" and a dNSName
 * holding a NUL as "invalid-dns-name", so an exact-names comparison cannot be
 * fooled by them.
 * Returns ACMEH_OK (n may be 0 when there is no SAN), ACMEH_NOMEM. */
int acmeh_cert_sans(X509 *cert, char ***names, size_t *n);
void acmeh_names_free(char **names, size_t n);

/* A certificate skeleton for the harness's own CAs: version 3, a random
 * positive 128-bit serial (top bit clear, low bit of the first octet set so
 * its DER is never shortened), validity from `not_before` to `not_after`
 * (seconds since the epoch), subject CN=`cn` (NULL = empty subject). Key,
 * issuer, extensions and signature are the caller's. X509_free it.
 * Returns NULL on failure (OpenSSL or the random generator). */
X509 *acmeh_x509_new(const char *cn, double not_before, double not_after);

/* Adds extension `nid` given in OpenSSL's config syntax (e.g.
 * "critical,CA:TRUE", "keyid:always") to `cert`, with `issuer` as the
 * context for issuer-derived values (may be cert itself when self-signed).
 * Returns 1 on success, 0 on failure. */
int acmeh_x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/* Sets cert's subjectAltName to names (n entries, the forms acmeh_csr_build
 * writes: dNSName, iPAddress, BundleEID otherName), built with OpenSSL's
 * GENERAL_NAME API rather than a configuration string, so no character of a
 * name can add entries. Returns 1, or 0 on failure. */
int acmeh_x509_add_sans(X509 *cert, const char *const *names, size_t n);

/* Returns base64url(DER) of the certificate, malloc'd, caller frees; NULL on failure. */
char *acmeh_cert_b64url_der(X509 *cert);

/* Decodes a base64url(DER) CSR (the finalize "csr" field, RFC 8555 §7.4),
 * strictly: no padding, the whole input one PKCS#10 request. On success the
 * caller owns *req (X509_REQ_free). Returns ACMEH_OK, ACMEH_PEER_PROTOCOL. */
int acmeh_csr_parse(const char *b64url_der, X509_REQ **req);

/* The CSR's requested subjectAltName entries (from its extensionRequest), as
 * acmeh_cert_sans gives them. Free with acmeh_names_free.
 * Returns ACMEH_OK (n may be 0), ACMEH_NOMEM. */
int acmeh_csr_sans(X509_REQ *req, char ***names, size_t *n);

/* The subjectAltName entries in a list of extensions (NULL: none), as
 * acmeh_cert_sans gives them. Free with acmeh_names_free.
 * Returns ACMEH_OK (n may be 0), ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_exts_sans(const STACK_OF(X509_EXTENSION) *exts, char ***names, size_t *n);

#endif
