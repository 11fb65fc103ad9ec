#include "harness/targets/pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "harness/acme/cert.h"
#include "base/clock.h"
#include "base/error.h"

static EVP_PKEY *new_key(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

static X509 *new_cert(EVP_PKEY *key, const char *cn) {
  double now = acmeh_now_wall();
  X509 *c = acmeh_x509_new(cn, now - 3600, now + 2 * 86400);
  if (c && !X509_set_pubkey(c, key)) X509_free(c), c = NULL;
  return c;
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
  if (!acmeh_x509_add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
      !acmeh_x509_add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !acmeh_x509_add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
      !acmeh_x509_add_ext(srv, ca, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      !acmeh_x509_add_ext(srv, ca, NID_ext_key_usage, "serverAuth") ||
      !acmeh_x509_add_ext(srv, ca, NID_authority_key_identifier, "keyid:always"))
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
