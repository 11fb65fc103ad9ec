/* RFC 9799 pieces both reference sides share (onion.h). */
#include "harness/acme/onion.h"

#include <ctype.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/challenge.h"

#define CHECKSUM_PREFIX ".onion checksum"
#define TOR_SECRET_HDR "== ed25519v1-secret: type0 =="
#define TOR_PUBLIC_HDR "== ed25519v1-public: type0 =="
#define TOR_HDR_LEN 32

int acmeh_onion_is(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n && name[n - 1] == '.') n--; /* an absolute name */
  if (n < 5 || strncasecmp(name + n - 5, "onion", 5) != 0) return 0;
  return n == 5 || name[n - 6] == '.';
}

/* RFC 4648 §6 base32 (no padding, either case) of 56 characters into 35 bytes. */
static int base32_56(const char *s, unsigned char out[35]) {
  unsigned long long acc = 0;
  int bits = 0;
  size_t o = 0;
  for (int i = 0; i < ACMEH_ONION_LABEL_LEN; i++) {
    int c = tolower((unsigned char)s[i]), v;
    if (c >= 'a' && c <= 'z') v = c - 'a';
    else if (c >= '2' && c <= '7') v = c - '2' + 26;
    else return -1;
    acc = (acc << 5) | (unsigned)v, bits += 5;
    if (bits >= 8) out[o++] = (unsigned char)(acc >> (bits - 8)), bits -= 8;
  }
  return o == 35 ? 0 : -1;
}

static int checksum(const unsigned char pub[32], unsigned char ver, unsigned char sum[2]) {
  unsigned char in[sizeof CHECKSUM_PREFIX - 1 + 33], md[32];
  memcpy(in, CHECKSUM_PREFIX, sizeof CHECKSUM_PREFIX - 1);
  memcpy(in + sizeof CHECKSUM_PREFIX - 1, pub, 32);
  in[sizeof in - 1] = ver;
  unsigned int mdlen = 0;
  EVP_MD *sha3 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
  int ok = sha3 && EVP_Digest(in, sizeof in, md, &mdlen, sha3, NULL) == 1 && mdlen == 32;
  EVP_MD_free(sha3);
  if (ok) memcpy(sum, md, 2);
  return ok ? ACMEH_OK : ACMEH_INTERNAL;
}

/* The label just before ".onion" in name: its start and length. */
static const char *onion_label(const char *name, size_t *len) {
  size_t n = strlen(name);
  if (n && name[n - 1] == '.') n--;
  if (n < 6) return NULL;
  size_t end = n - 6, start = end; /* name[end] == '.' */
  while (start > 0 && name[start - 1] != '.') start--;
  *len = end - start;
  return name + start;
}

int acmeh_onion_parse(const char *name, unsigned char pub[32], char *why, size_t whylen) {
  if (!name || !acmeh_onion_is(name)) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "\"%.80s\" is no .onion name", name ? name : "");
  size_t len = 0;
  const char *label = onion_label(name, &len);
  if (!label || len == 0) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "no onion address label before \".onion\"");
  if (len == 16) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "a v2 onion address (16 characters); RFC 9799 §2 allows v3 only");
  unsigned char raw[35], sum[2];
  if (len != ACMEH_ONION_LABEL_LEN || base32_56(label, raw) != 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the label before \".onion\" is not 56 base32 characters (a v3 address)");
  if (raw[34] != 3) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "onion address version %u, not 3", raw[34]);
  if (checksum(raw, 3, sum) != ACMEH_OK) return acmeh_msg(why, whylen, ACMEH_INTERNAL, "SHA3-256 unavailable");
  if (memcmp(sum, raw + 32, 2) != 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "onion address checksum %02x%02x does not match SHA3-256 (%02x%02x)", raw[32],
                     raw[33], sum[0], sum[1]);
  if (pub) memcpy(pub, raw, 32);
  return ACMEH_OK;
}

int acmeh_onion_address(const unsigned char pub[32], char out[63]) {
  unsigned char raw[35];
  char b32[57];
  memcpy(raw, pub, 32);
  raw[34] = 3;
  if (checksum(pub, 3, raw + 32) != ACMEH_OK) return ACMEH_INTERNAL;
  acmeh_base32(raw, sizeof raw, 1, b32); /* 35 bytes = 56 characters, no padding */
  snprintf(out, 63, "%.56s.onion", b32);
  return ACMEH_OK;
}

int acmeh_onion_base(const char *name, char out[63]) {
  size_t len = 0;
  const char *label = name && acmeh_onion_is(name) ? onion_label(name, &len) : NULL;
  if (!label || len != ACMEH_ONION_LABEL_LEN) return ACMEH_INVALID_ARG;
  snprintf(out, 63, "%.56s.onion", label);
  for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
  return ACMEH_OK;
}

int acmeh_onion_pub(EVP_PKEY *pkey, unsigned char pub[32]) {
  size_t n = 32;
  if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) return ACMEH_INVALID_ARG;
  return EVP_PKEY_get_raw_public_key(pkey, pub, &n) == 1 && n == 32 ? ACMEH_OK : ACMEH_INVALID_ARG;
}

/* ---- the onion-csr-01 request ------------------------------------------- */

static int add_nonce(X509_REQ *req, const char *oid, const unsigned char *b, size_t n) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  int ok = obj && X509_REQ_add1_attr_by_OBJ(req, obj, V_ASN1_OCTET_STRING, b, (int)n) == 1;
  ASN1_OBJECT_free(obj);
  return ok;
}

int acmeh_onion_csr_build(EVP_PKEY *key, const unsigned char *ca_nonce, size_t ca_len, const unsigned char *app,
                          size_t app_len, char **b64url) {
  return acmeh_onion_csr_build_subject(key, ca_nonce, ca_len, app, app_len, NULL, b64url);
}

static int set_subject(X509_REQ *req, const char *cn) {
  X509_NAME *n = X509_REQ_get_subject_name(req);
  return !cn || (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1 &&
                 X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1);
}

int acmeh_onion_csr_build_subject(EVP_PKEY *key, const unsigned char *ca_nonce, size_t ca_len, const unsigned char *app,
                                  size_t app_len, const char *subject_cn, char **b64url) {
  if (!key || !b64url || ca_len > ACMEH_ONION_NONCE_MAX || app_len > ACMEH_ONION_NONCE_MAX) return ACMEH_INVALID_ARG;
  *b64url = NULL;
  X509_REQ *req = X509_REQ_new();
  unsigned char *der = NULL;
  int rc = ACMEH_INTERNAL, len = -1;
  if (req && X509_REQ_set_version(req, 0) == 1 && X509_REQ_set_pubkey(req, key) == 1 && set_subject(req, subject_cn) &&
      add_nonce(req, ACMEH_ONION_CA_NONCE_OID, ca_nonce, ca_len) &&
      add_nonce(req, ACMEH_ONION_APPLICANT_NONCE_OID, app, app_len) && X509_REQ_sign(req, key, NULL) > 0)
    len = i2d_X509_REQ(req, &der);
  if (len > 0) *b64url = acmeh_b64url_encode(der, (size_t)len), rc = *b64url ? ACMEH_OK : ACMEH_NOMEM;
  OPENSSL_free(der);
  X509_REQ_free(req);
  return rc;
}

/* The attribute `oid` as one OCTET STRING into out; its length, or -1. */
static int read_nonce(X509_REQ *req, const char *oid, unsigned char out[ACMEH_ONION_NONCE_MAX]) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  int at = obj ? X509_REQ_get_attr_by_OBJ(req, obj, -1) : -1;
  int again = at >= 0 ? X509_REQ_get_attr_by_OBJ(req, obj, at) : -1;
  ASN1_OBJECT_free(obj);
  X509_ATTRIBUTE *a = at >= 0 && again < 0 ? X509_REQ_get_attr(req, at) : NULL;
  ASN1_TYPE *t = a && X509_ATTRIBUTE_count(a) == 1 ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
  if (!t || t->type != V_ASN1_OCTET_STRING) return -1;
  int n = ASN1_STRING_length(t->value.octet_string);
  if (n < 0 || n > ACMEH_ONION_NONCE_MAX) return -1;
  memcpy(out, ASN1_STRING_get0_data(t->value.octet_string), (size_t)n);
  return n;
}

int acmeh_onion_csr_read(const char *b64url, acmeh_onion_csr_info *info, char *why, size_t whylen) {
  memset(info, 0, sizeof *info);
  info->ca_len = info->app_len = -1;
  unsigned char *der = NULL;
  size_t n = 0;
  if (!b64url || acmeh_b64url_decode(b64url, strlen(b64url), &der, &n) != ACMEH_OK)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "\"csr\" is not base64url");
  const unsigned char *p = der;
  X509_REQ *req = n < 65536 ? d2i_X509_REQ(NULL, &p, (long)n) : NULL;
  int whole = req && p == der + n;
  free(der);
  if (!whole) return X509_REQ_free(req), acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "\"csr\" is not one DER PKCS#10 request");
  EVP_PKEY *k = X509_REQ_get0_pubkey(req);
  info->has_pub = acmeh_onion_pub(k, info->pub) == ACMEH_OK;
  info->sig_ok = info->has_pub && X509_REQ_verify(req, k) == 1;
  info->ca_len = read_nonce(req, ACMEH_ONION_CA_NONCE_OID, info->ca_nonce);
  info->app_len = read_nonce(req, ACMEH_ONION_APPLICANT_NONCE_OID, info->app_nonce);
  X509_REQ_free(req);
  return ACMEH_OK;
}

int acmeh_onion_csr_verify(const char *b64url, const unsigned char onion_pub[32], const unsigned char *nonce,
                           size_t nlen, char *why, size_t whylen) {
  acmeh_onion_csr_info in;
  int rc = acmeh_onion_csr_read(b64url, &in, why, whylen);
  if (rc != ACMEH_OK) return rc;
  if (!in.has_pub) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the CSR's key is not Ed25519 (1.3.101.112)");
  if (memcmp(in.pub, onion_pub, 32) != 0) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the CSR's key is not the onion address's key");
  if (!in.sig_ok) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "the CSR's signature does not verify under the onion key");
  if (in.ca_len < 0) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "no caSigningNonce (2.23.140.41) holding one OCTET STRING");
  if ((size_t)in.ca_len != nlen || memcmp(in.ca_nonce, nonce, nlen) != 0)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "caSigningNonce is not the challenge nonce's decoded bytes");
  if (in.app_len < 0) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "no applicantSigningNonce (2.23.140.42) holding one OCTET STRING");
  if (in.app_len < ACMEH_ONION_NONCE_MIN)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "applicantSigningNonce has %d bytes, fewer than 64 bits", in.app_len);
  return ACMEH_OK;
}

/* ---- in-band CAA (§6.4) --------------------------------------------------- */

char *acmeh_onion_caa_tbs(long long expiry, const char *caa) {
  size_t n = strlen("onion-caa|") + 24 + (caa ? strlen(caa) : 0) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "onion-caa|%lld|%s", expiry, caa ? caa : "");
  return s;
}

int acmeh_onion_caa_sign(EVP_PKEY *key, long long expiry, const char *caa, char **sig_b64url) {
  char *tbs = acmeh_onion_caa_tbs(expiry, caa);
  unsigned char sig[64];
  size_t siglen = sizeof sig;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = tbs && md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
           EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tbs, strlen(tbs)) == 1;
  EVP_MD_CTX_free(md);
  free(tbs);
  *sig_b64url = ok ? acmeh_b64url_encode(sig, siglen) : NULL;
  return !ok ? ACMEH_INTERNAL : *sig_b64url ? ACMEH_OK : ACMEH_NOMEM;
}

int acmeh_onion_caa_verify(const unsigned char pub[32], long long expiry, const char *caa, const char *sig) {
  size_t slen = sig ? strlen(sig) : 0;
  while (slen && sig[slen - 1] == '=') slen--;
  unsigned char *raw = NULL;
  size_t rlen = 0;
  if (!slen || acmeh_b64url_decode(sig, slen, &raw, &rlen) != ACMEH_OK) return 0;
  char *tbs = acmeh_onion_caa_tbs(expiry, caa);
  EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = tbs && k && md && rlen == 64 && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
           EVP_DigestVerify(md, raw, rlen, (const unsigned char *)tbs, strlen(tbs)) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(k);
  free(tbs), free(raw);
  return ok;
}

/* ---- the challenge nonce: standard padded base64 (§3.2) ------------------ */

int acmeh_onion_nonce_decode(const char *b64, unsigned char *out, size_t cap, size_t *outlen) {
  size_t n = b64 ? strlen(b64) : 0, pad = 0;
  if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap + 2 || n > 4 * ((ACMEH_ONION_NONCE_MAX + 2) / 3)) return ACMEH_PEER_PROTOCOL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b64[i];
    if (c == '=' && i >= n - 2) pad++;
    else if (pad || !(isalnum(c) || c == '+' || c == '/')) return ACMEH_PEER_PROTOCOL;
  }
  unsigned char buf[4 * ((ACMEH_ONION_NONCE_MAX + 2) / 3)];
  int got = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
  if (got < 0 || (size_t)got < pad || (size_t)got - pad > cap) return ACMEH_PEER_PROTOCOL;
  *outlen = (size_t)got - pad;
  memcpy(out, buf, *outlen);
  return ACMEH_OK;
}

int acmeh_onion_nonce_encode(const unsigned char *in, size_t n, char *out, size_t cap) {
  if (cap < 4 * ((n + 2) / 3) + 1 || n > 3 * 1024) return ACMEH_INVALID_ARG;
  EVP_EncodeBlock((unsigned char *)out, in, (int)n);
  return ACMEH_OK;
}

/* ---- identity key files --------------------------------------------------- */

static int key_from_bytes(const unsigned char *b, size_t n, EVP_PKEY **out, int *is_private, char *why, size_t whylen) {
  if (n == TOR_HDR_LEN + 64 && memcmp(b, TOR_SECRET_HDR, sizeof TOR_SECRET_HDR - 1) == 0)
    return acmeh_msg(why, whylen, ACMEH_UNSUPPORTED,
                     "Tor's hs_ed25519_secret_key holds the expanded Ed25519 secret (SHA-512 of the seed, clamped); "
                     "OpenSSL signs only from the 32-byte seed, which cannot be recovered from it");
  if (n == TOR_HDR_LEN + 32 && memcmp(b, TOR_PUBLIC_HDR, sizeof TOR_PUBLIC_HDR - 1) == 0) {
    *out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, b + TOR_HDR_LEN, 32), *is_private = 0;
    return *out ? ACMEH_OK : acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "bad Ed25519 public key");
  }
  if (n == 32) {
    *out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, b, 32), *is_private = 1;
    return *out ? ACMEH_OK : acmeh_msg(why, whylen, ACMEH_INTERNAL, "Ed25519 from seed failed");
  }
  return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "not a PEM Ed25519 key, a 32-byte seed nor a Tor ed25519v1 key file");
}

int acmeh_onion_key_load(const char *path, EVP_PKEY **out, int *is_private, char *why, size_t whylen) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return acmeh_msg(why, whylen, ACMEH_ENV_IO, "cannot open %s", path);
  unsigned char buf[8192];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  if (n >= 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
    BIO *bio = BIO_new_mem_buf(buf, (int)n);
    *out = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    *is_private = 1;
    if (*out && EVP_PKEY_get_id(*out) == EVP_PKEY_ED25519) return ACMEH_OK;
    EVP_PKEY_free(*out), *out = NULL;
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "%s: no PEM Ed25519 private key", path);
  }
  return key_from_bytes(buf, n, out, is_private, why, whylen);
}
