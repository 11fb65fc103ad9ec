/* PKCS#10 certification requests (RFC 2986) as a CA reads them at finalize
 * (RFC 8555 §7.4). OpenSSL's X509_REQ decodes the public key while parsing,
 * and OpenSSL 3.0 builds a provider decoder chain for that on every call:
 * about a tenth of the reference server's CPU per order. This reader keeps
 * the SubjectPublicKeyInfo as its fields and builds an EC key straight from
 * its point; other key types take OpenSSL's general path.
 * acmeh_csr_parse (cert.h) stays the reader for judging a client's CSR. */
#ifndef ACMEH_ACME_CSR_H
#define ACMEH_ACME_CSR_H

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct acmeh_csr acmeh_csr;

/* Reads a base64url (unpadded) DER request, strictly: the whole input must be
 * one CertificationRequest. A key that cannot be decoded is not an error
 * here (acmeh_csr_key gives NULL), as with X509_REQ. On success the caller
 * owns *out (acmeh_csr_free). Returns ACMEH_OK, ACMEH_INVALID_ARG for NULL
 * arguments, ACMEH_PEER_PROTOCOL for bad base64url or DER, ACMEH_NOMEM. */
int acmeh_csr_read(const char *b64url_der, acmeh_csr **out);

/* Frees csr and all it holds; NULL is a no-op. */
void acmeh_csr_free(acmeh_csr *csr);

/* The requested public key (borrowed, lives as long as csr), or NULL when
 * its SubjectPublicKeyInfo names no key OpenSSL can decode. */
EVP_PKEY *acmeh_csr_key(const acmeh_csr *csr);

/* The SubjectPublicKeyInfo as read (borrowed), for copying into a
 * certificate; its EVP_PKEY is not set (use acmeh_csr_key). */
const X509_PUBKEY *acmeh_csr_spki(const acmeh_csr *csr);

/* 1 when the request's signature (RFC 2986 §4.2) verifies under its own
 * key, over the CertificationRequestInfo bytes as received; else 0. */
int acmeh_csr_verify(const acmeh_csr *csr);

/* The subject name (borrowed). */
const X509_NAME *acmeh_csr_subject(const acmeh_csr *csr);

/* The extensions of the extensionRequest attribute (PKCS#9), decoded anew:
 * the caller frees them with sk_X509_EXTENSION_pop_free(exts,
 * X509_EXTENSION_free). NULL when there are none or they do not decode. */
STACK_OF(X509_EXTENSION) *acmeh_csr_extensions(const acmeh_csr *csr);

/* Whether a SubjectPublicKeyInfo has the form PKIX asks of a certificate's
 * key, which parsing alone does not enforce: EC on a named curve (RFC 5480
 * §2.1.1) with an uncompressed or compressed point, never the point at
 * infinity or the hybrid form (§2.2); RSA with NULL parameters (RFC 3279
 * §2.3.1); Ed25519 and Ed448 without parameters (RFC 8410 §3). Other
 * algorithms are left to key decoding. Returns 1, or 0 with the reason in
 * why (NUL-terminated, truncated to whylen bytes). */
int acmeh_spki_form_ok(const X509_PUBKEY *spki, char *why, size_t whylen);

/* Sets `to` to algorithm `alg` and key bits bits[0..nbits) (copied; nbits in
 * bytes, > 0) without decoding the key, as X509_PUBKEY_set0_param does.
 * Returns 1 on success, 0 on failure (to unchanged). */
int acmeh_spki_set(X509_PUBKEY *to, const X509_ALGOR *alg, const unsigned char *bits, int nbits);

#endif
