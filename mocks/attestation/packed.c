/* The mock attestation CA and packed attestation objects (packed.h). */
#include "mocks/attestation/packed.h"

#include <cbor.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/cbor_safe.h"

struct acmeh_att_ca {
  EVP_PKEY *key;
  X509 *cert;
};

static EVP_PKEY *p256(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX v;
  X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
  int ok = e && X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return ok;
}

/* A certificate skeleton: serial, names, validity [now+from, now+to] seconds. */
static X509 *skeleton(const char *cn, X509_NAME *issuer, EVP_PKEY *key, long from, long to) {
  X509 *x = X509_new();
  X509_NAME *n = X509_NAME_new();
  int ok = x && n && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff) + 1) &&
           X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
           X509_set_subject_name(x, n) && X509_set_issuer_name(x, issuer ? issuer : n) &&
           X509_gmtime_adj(X509_getm_notBefore(x), from) && X509_gmtime_adj(X509_getm_notAfter(x), to) && X509_set_pubkey(x, key);
  X509_NAME_free(n);
  if (!ok) X509_free(x), x = NULL;
  return x;
}

int acmeh_att_ca_new(const char *cn, acmeh_att_ca **out) {
  acmeh_att_ca *ca = calloc(1, sizeof *ca);
  if (!ca || !(ca->key = p256())) return acmeh_att_ca_free(ca), ACMEH_INTERNAL;
  ca->cert = skeleton(cn, NULL, ca->key, -3600, 86400);
  int ok = ca->cert && add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE") &&
           add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign") &&
           add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") && X509_sign(ca->cert, ca->key, EVP_sha256());
  if (!ok) return acmeh_att_ca_free(ca), ACMEH_INTERNAL;
  *out = ca;
  return ACMEH_OK;
}

int acmeh_att_ca_load(const char *cert_pem, const char *key_pem, acmeh_att_ca **out) {
  acmeh_att_ca *ca = calloc(1, sizeof *ca);
  FILE *c = fopen(cert_pem, "r"), *k = fopen(key_pem, "r");
  if (ca && c && k) ca->cert = PEM_read_X509(c, NULL, NULL, NULL), ca->key = PEM_read_PrivateKey(k, NULL, NULL, NULL);
  if (c) fclose(c);
  if (k) fclose(k);
  if (!ca || !ca->cert || !ca->key) return acmeh_att_ca_free(ca), ACMEH_ENV_IO;
  *out = ca;
  return ACMEH_OK;
}

void acmeh_att_ca_free(acmeh_att_ca *ca) {
  if (!ca) return;
  EVP_PKEY_free(ca->key);
  X509_free(ca->cert);
  free(ca);
}

X509 *acmeh_att_ca_cert(const acmeh_att_ca *ca) { return ca->cert; }

char *acmeh_att_ca_pem(const acmeh_att_ca *ca) {
  BIO *b = BIO_new(BIO_s_mem());
  char *data = NULL, *out = NULL;
  long n = b && PEM_write_bio_X509(b, ca->cert) ? BIO_get_mem_data(b, &data) : 0;
  if (n > 0 && (out = malloc((size_t)n + 1))) memcpy(out, data, (size_t)n), out[n] = '\0';
  BIO_free(b);
  return out;
}

/* The leaf: certifies the device key, names the device in its SAN. */
static X509 *leaf_cert(const acmeh_att_ca *ca, const acmeh_att_packed_in *in) {
  int expired = in->fault == ACMEH_ATT_EXPIRED;
  X509 *x = skeleton("acme-harness mock device", X509_get_subject_name(ca->cert), in->device_key,
                     expired ? -2 * 86400 : -600, expired ? -86400 : 3600);
  GENERAL_NAME *gn = x ? acmeh_devid_general_name(in->id_type, in->id_value) : NULL;
  GENERAL_NAMES *gns = gn ? sk_GENERAL_NAME_new_null() : NULL;
  int ok = gns && sk_GENERAL_NAME_push(gns, gn);
  if (!ok) GENERAL_NAME_free(gn);
  ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0, 0) == 1 &&
       add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") && add_ext(x, ca->cert, NID_authority_key_identifier, "keyid");
  GENERAL_NAMES_free(gns);
  EVP_PKEY *signer = in->fault == ACMEH_ATT_UNTRUSTED ? p256() : ca->key;
  ok = ok && signer && X509_sign(x, signer, EVP_sha256());
  if (signer != ca->key) EVP_PKEY_free(signer);
  if (!ok) X509_free(x), x = NULL;
  return x;
}

X509 *acmeh_att_ca_certify(const acmeh_att_ca *ca, EVP_PKEY *pub, acmeh_devid_type t, const char *value, acmeh_att_fault fault) {
  acmeh_att_packed_in in = {.device_key = pub, .id_type = t, .id_value = value, .fault = fault};
  return ca && pub ? leaf_cert(ca, &in) : NULL;
}

/* DER ECDSA over SHA-256(tbs) with the device key (WebAuthn §8.2 step 2). */
static cbor_item_t *signature(const acmeh_att_packed_in *in) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char sig[80];
  size_t n = sizeof sig;
  static const unsigned char other[] = "not the key authorization";
  const unsigned char *tbs = in->fault == ACMEH_ATT_BAD_SIG ? other : in->tbs;
  size_t tlen = in->fault == ACMEH_ATT_BAD_SIG ? sizeof other - 1 : in->tbs_len;
  int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, in->device_key) == 1 &&
           EVP_DigestSign(md, sig, &n, tbs, tlen) == 1;
  EVP_MD_CTX_free(md);
  return ok ? cbor_build_bytestring(sig, n) : NULL;
}

static int put(cbor_item_t *map, const char *key, cbor_item_t *value) {
  cbor_item_t *k = cbor_build_string(key);
  int ok = k && value && cbor_map_add(map, (struct cbor_pair){.key = k, .value = value});
  if (k) cbor_decref(&k);
  if (value) cbor_decref(&value);
  return ok;
}

static cbor_item_t *statement(const acmeh_att_ca *ca, const acmeh_att_packed_in *in) {
  X509 *leaf = leaf_cert(ca, in);
  unsigned char *der = NULL;
  int dlen = leaf ? i2d_X509(leaf, &der) : -1;
  X509_free(leaf);
  cbor_item_t *x5c = dlen > 0 ? cbor_new_definite_array(1) : NULL, *st = x5c ? cbor_new_definite_map(3) : NULL;
  cbor_item_t *c = st ? cbor_build_bytestring(der, (size_t)dlen) : NULL;
  OPENSSL_free(der);
  int ok = c && cbor_array_push(x5c, c);
  if (c) cbor_decref(&c);
  ok = ok && put(st, "alg", cbor_build_negint8(6)) && put(st, "sig", signature(in));
  if (ok) ok = put(st, "x5c", x5c), x5c = NULL; /* put takes x5c either way */
  if (x5c) cbor_decref(&x5c);
  if (!ok && st) cbor_decref(&st);
  return st;
}

int acmeh_att_packed(const acmeh_att_ca *ca, const acmeh_att_packed_in *in, unsigned char **out, size_t *outlen) {
  if (!ca || !in || !in->device_key || !in->tbs || !acmeh_devid_type_name(in->id_type)) return ACMEH_INVALID_ARG;
  cbor_item_t *top = cbor_new_definite_map(in->with_authdata ? 3 : 2);
  const char *fmt = in->fault == ACMEH_ATT_UNKNOWN_FMT ? "x-acmeh-unknown" : "packed";
  static const unsigned char auth[37] = {0}; /* rpIdHash, flags, signCount: all zero */
  int ok = top && put(top, "fmt", cbor_build_string(fmt)) && put(top, "attStmt", statement(ca, in)) &&
           (!in->with_authdata || put(top, "authData", cbor_build_bytestring(auth, sizeof auth)));
  int rc = ok ? acmeh_cbor_encode(top, out, outlen) : ACMEH_INTERNAL;
  if (top) cbor_decref(&top);
  if (rc == ACMEH_OK && in->fault == ACMEH_ATT_MALFORMED) (*outlen)--;
  return rc;
}

char *acmeh_att_packed_b64(const acmeh_att_ca *ca, const acmeh_att_packed_in *in) {
  unsigned char *der = NULL;
  size_t n = 0;
  char *b = acmeh_att_packed(ca, in, &der, &n) == ACMEH_OK ? acmeh_b64url_encode(der, n) : NULL;
  free(der);
  return b;
}
