/* ".onion" names in ACME (RFC 9799): v3 onion addresses, the onion-csr-01
 * CSR (§3.2) and the in-band CAA signature (§6.4). Both reference sides and
 * the onion suite use it; crypto is OpenSSL's (SHA3-256, Ed25519, X509_REQ
 * attributes), nothing here encodes DER by hand. */
#ifndef ACMEH_ACME_ONION_H
#define ACMEH_ACME_ONION_H

#include <openssl/evp.h>
#include <stddef.h>

#define ACMEH_ONION_LABEL_LEN 56   /* base32 of pubkey[32] || checksum[2] || version[1] */
#define ACMEH_ONION_NONCE_MIN 8    /* RFC 9799 §3.2: at least 64 bits */
#define ACMEH_ONION_NONCE_MAX 128  /* a sanity cap for nonces read from a peer */
#define ACMEH_ONION_CA_NONCE_OID "2.23.140.41"        /* cabf-caSigningNonce */
#define ACMEH_ONION_APPLICANT_NONCE_OID "2.23.140.42" /* cabf-applicantSigningNonce */

/* 1 when `name` (NUL-terminated, any case) ends in the label "onion"
 * (".onion" suffix, or "onion" itself); else 0. */
int acmeh_onion_is(const char *name);

/* Checks that `name` is a v3 onion address or a name under one (RFC 9799
 * §2; Tor rend-spec "Encoding onion addresses"): its label before ".onion"
 * is 56 base32 characters decoding to pubkey || checksum || 0x03 with
 * checksum = SHA3-256(".onion checksum" || pubkey || 0x03)[0..2). A 16
 * character label is a v2 address and refused. On success the Ed25519 key
 * into pub (may be NULL). Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL with the
 * reason in why (whylen bytes; may be NULL). */
int acmeh_onion_parse(const char *name, unsigned char pub[32], char *why, size_t whylen);

/* The v3 address "<56 chars>.onion" of Ed25519 key pub into out (63
 * bytes: 56 + ".onion" + NUL). Returns ACMEH_OK or ACMEH_INTERNAL. */
int acmeh_onion_address(const unsigned char pub[32], char out[63]);

/* The base name "<label>.onion" of a name under an onion address (§6.1:
 * every subdomain shares the base's CAA), into out (63 bytes). Returns
 * ACMEH_OK, or ACMEH_INVALID_ARG when name ends in no 56-char label. */
int acmeh_onion_base(const char *name, char out[63]);

/* Raw 32-byte Ed25519 public key of pkey into pub. Returns ACMEH_OK, or
 * ACMEH_INVALID_ARG when pkey is no Ed25519 key. */
int acmeh_onion_pub(EVP_PKEY *pkey, unsigned char pub[32]);

/* Builds the onion-csr-01 request (RFC 9799 §3.2): empty subject, SPKI =
 * the Ed25519 key `key`, attributes caSigningNonce = ca_nonce[0..ca_len)
 * and applicantSigningNonce = app[0..app_len), each one OCTET STRING,
 * signed with `key`. *b64url is its base64url DER (caller frees). Returns
 * ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM or ACMEH_INTERNAL. */
int acmeh_onion_csr_build(EVP_PKEY *key, const unsigned char *ca_nonce, size_t ca_len, const unsigned char *app,
                          size_t app_len, char **b64url);
/* The same with subject CN=subject_cn and O=subject_cn (NULL = empty subject;
 * §3.2 says servers MUST NOT validate it). */
int acmeh_onion_csr_build_subject(EVP_PKEY *key, const unsigned char *ca_nonce, size_t ca_len, const unsigned char *app,
                                  size_t app_len, const char *subject_cn, char **b64url);

/* What a reader found in an onion-csr-01 request. */
typedef struct {
  unsigned char pub[32];  /* its Ed25519 key (when has_pub) */
  int has_pub;
  int sig_ok;             /* the signature verifies under that key */
  unsigned char ca_nonce[ACMEH_ONION_NONCE_MAX], app_nonce[ACMEH_ONION_NONCE_MAX];
  int ca_len, app_len;    /* -1 = attribute absent or not one OCTET STRING */
} acmeh_onion_csr_info;

/* Reads a base64url DER request (strict: one CertificationRequest, nothing
 * after it) into *info. Returns ACMEH_OK (the fields say what held), or
 * ACMEH_PEER_PROTOCOL with the reason in why when it is no request. */
int acmeh_onion_csr_read(const char *b64url, acmeh_onion_csr_info *info, char *why, size_t whylen);

/* The server's verification of §3.2 (all MUST): a well-formed request whose
 * key is `onion_pub`, whose signature verifies, whose caSigningNonce equals
 * nonce[0..nlen) and whose applicantSigningNonce has >= 8 bytes. Returns
 * ACMEH_OK, or ACMEH_PEER_PROTOCOL with the first broken rule in why. */
int acmeh_onion_csr_verify(const char *b64url, const unsigned char onion_pub[32], const unsigned char *nonce,
                           size_t nlen, char *why, size_t whylen);

/* The signed text of an in-band CAA statement (§6.4): "onion-caa|" expiry
 * "|" caa (caa NULL = ""), malloc'd (caller frees), NULL when out of memory. */
char *acmeh_onion_caa_tbs(long long expiry, const char *caa);

/* Signs it with `key`; *sig_b64url is the unpadded base64url signature
 * (caller frees). Returns ACMEH_OK, ACMEH_NOMEM or ACMEH_INTERNAL. */
int acmeh_onion_caa_sign(EVP_PKEY *key, long long expiry, const char *caa, char **sig_b64url);

/* 1 when sig (base64url; trailing '=' padding tolerated, as the RFC's
 * example has it) is an Ed25519 signature by pub over the statement; else 0. */
int acmeh_onion_caa_verify(const unsigned char pub[32], long long expiry, const char *caa, const char *sig);

/* Standard base64 (RFC 4648 §4, padded) of the challenge "nonce": decodes
 * into out (cap bytes), *outlen set. Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL
 * for anything else (base64url, no padding, too long). */
int acmeh_onion_nonce_decode(const char *b64, unsigned char *out, size_t cap, size_t *outlen);
/* Padded standard base64 of n bytes into out (cap >= 4 * ((n + 2) / 3) + 1). */
int acmeh_onion_nonce_encode(const unsigned char *in, size_t n, char *out, size_t cap);

/* Loads an onion service identity key from `path` (RFC 9799 §3.2 signs
 * with it). Forms read: a PEM PKCS#8 Ed25519 private key, a file of the raw
 * 32-byte seed, and Tor's "== ed25519v1-secret: type0 ==" file, which holds
 * the 64-byte *expanded* secret (SHA-512 of the seed, clamped): OpenSSL
 * signs Ed25519 only from the seed (RFC 8032 §5.1.5), which cannot be
 * recovered from it, so that form is refused with ACMEH_UNSUPPORTED and the
 * reason in why. Tor's "== ed25519v1-public: type0 ==" file loads as a
 * public key only (*is_private = 0). On success *out is the caller's.
 * Returns ACMEH_OK, ACMEH_ENV_IO, ACMEH_PEER_PROTOCOL (unknown form) or
 * ACMEH_UNSUPPORTED. */
int acmeh_onion_key_load(const char *path, EVP_PKEY **out, int *is_private, char *why, size_t whylen);

#endif
