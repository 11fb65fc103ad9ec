#include "harness/targets/pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "harness/core/error.h"

static EVP_PKEY *new_key(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  int ok = ext && X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

static X509 *new_cert(EVP_PKEY *key, const char *cn) {
  X509 *c = X509_new();
  unsigned char serial[16];
  if (!c || RAND_bytes(serial, sizeof serial) != 1) goto fail;
  serial[0] &= 0x7f; /* positive INTEGER */
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
  BN_free(bn);
  X509_set_version(c, 2);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 2 * 86400);
  X509_set_pubkey(c, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  return c;
fail:
  X509_free(c);
  return NULL;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return 0;
  int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  return (fclose(f) == 0) && ok;
}

int acmeh_pki_make_server_cert(const char *dir, char *err, size_t errlen) {
  EVP_PKEY *ca_key = new_key(), *srv_key = new_key();
  X509 *ca = ca_key ? new_cert(ca_key, "acme-harness run CA") : NULL;
  X509 *srv = srv_key ? new_cert(srv_key, "localhost") : NULL;
  int rc = ACMEH_INTERNAL;
  if (!ca || !srv) goto done;
  X509_set_issuer_name(ca, X509_get_subject_name(ca));
  X509_set_issuer_name(srv, X509_get_subject_name(ca));
  if (!add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
      !add_ext(srv, ca, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      !add_ext(srv, ca, NID_ext_key_usage, "serverAuth") ||
      !add_ext(srv, ca, NID_authority_key_identifier, "keyid:always"))
    goto done;
  if (!X509_sign(ca, ca_key, EVP_sha256()) || !X509_sign(srv, ca_key, EVP_sha256())) goto done;
  rc = ACMEH_ENV_IO;
  if (write_pem(dir, "ca.pem", ca, NULL) && write_pem(dir, "server-cert.pem", srv, NULL) &&
      write_pem(dir, "server-key.pem", NULL, srv_key))
    rc = ACMEH_OK;
done:
  if (rc) acmeh_msg(err, errlen, rc, "could not make the run's TLS certificates in %s", dir);
  X509_free(ca);
  X509_free(srv);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(srv_key);
  return rc;
}
