/* The reference server's per-run CA: root A signs the intermediate that
 * issues end-entity certificates; root B cross-signs the same intermediate
 * (same subject and key), which gives every certificate a second, alternate
 * chain for Link rel="alternate" (RFC 8555 §7.4.2). P-256 keys throughout;
 * nothing is persisted except the roots file a verifier needs. */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/cert.h"
#include "harness/acme/csr.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/internal.h"

#define CA_LIFETIME (5 * 365 * 86400L)

struct srv_ca {
  EVP_PKEY *root_key[2], *inter_key;
  X509 *root[2];
  X509 *inter[2]; /* [0] signed by root A, [1] by root B (the cross-signature) */
  char *inter_pem[2]; /* made once: every download appends one */
  char *roots_file;
};

/* A CA certificate for `key` named `cn`, signed by issuer/ikey (self-signed when issuer is NULL). */
static X509 *ca_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, const char *constraints) {
  double now = acmeh_now_wall();
  X509 *c = acmeh_x509_new(cn, now - 3600, now + CA_LIFETIME);
  if (!c || !X509_set_pubkey(c, key)) {
    X509_free(c);
    return NULL;
  }
  X509 *iss = issuer ? issuer : c;
  X509_set_issuer_name(c, X509_get_subject_name(iss));
  int ok = acmeh_x509_add_ext(c, iss, NID_basic_constraints, constraints) &&
           acmeh_x509_add_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") &&
           acmeh_x509_add_ext(c, iss, NID_subject_key_identifier, "hash") &&
           (!issuer || acmeh_x509_add_ext(c, iss, NID_authority_key_identifier, "keyid:always")) &&
           X509_sign(c, issuer ? ikey : key, EVP_sha256());
  if (!ok) X509_free(c);
  return ok ? c : NULL;
}

static int write_roots(srv_ca *ca, const char *run_dir) {
  if (asprintf(&ca->roots_file, "%s/issuing-roots.pem", run_dir) < 0) {
    ca->roots_file = NULL;
    return ACMEH_NOMEM;
  }
  FILE *f = fopen(ca->roots_file, "w");
  int ok = f && PEM_write_X509(f, ca->root[0]) && PEM_write_X509(f, ca->root[1]);
  if (f && fclose(f) != 0) ok = 0;
  return ok ? ACMEH_OK : ACMEH_ENV_IO;
}

static char *pem_of(X509 *a) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (bio && PEM_write_bio_X509(bio, a)) {
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    out = n > 0 ? strndup(data, (size_t)n) : NULL;
  }
  BIO_free(bio);
  return out;
}

int srv_ca_new(const char *run_dir, srv_ca **out, char *err, size_t errlen) {
  srv_ca *ca = calloc(1, sizeof *ca);
  if (!ca) return acmeh_msg(err, errlen, ACMEH_NOMEM, "server CA: out of memory");
  for (int i = 0; i < 2; i++) ca->root_key[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  ca->inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  int ok = ca->root_key[0] && ca->root_key[1] && ca->inter_key;
  static const char *const names[] = {"acme-harness reference root A", "acme-harness reference root B"};
  for (int i = 0; ok && i < 2; i++) {
    ca->root[i] = ca_cert(ca->root_key[i], names[i], NULL, NULL, "critical,CA:TRUE");
    ca->inter[i] = ca->root[i] ? ca_cert(ca->inter_key, "acme-harness reference intermediate", ca->root[i],
                                         ca->root_key[i], "critical,CA:TRUE,pathlen:0")
                               : NULL;
    ok = ca->root[i] && ca->inter[i];
  }
  for (int i = 0; ok && i < 2; i++) ok = (ca->inter_pem[i] = pem_of(ca->inter[i])) != NULL;
  int rc = ok ? write_roots(ca, run_dir) : ACMEH_INTERNAL;
  if (rc) {
    srv_ca_free(ca);
    return acmeh_msg(err, errlen, rc, "server CA: cannot make the hierarchy in %s", run_dir);
  }
  *out = ca;
  return ACMEH_OK;
}

void srv_ca_free(srv_ca *ca) {
  if (!ca) return;
  for (int i = 0; i < 2; i++) {
    EVP_PKEY_free(ca->root_key[i]);
    X509_free(ca->root[i]);
    X509_free(ca->inter[i]);
    free(ca->inter_pem[i]);
  }
  EVP_PKEY_free(ca->inter_key);
  free(ca->roots_file);
  free(ca);
}

const char *srv_ca_roots_file(const srv_ca *ca) { return ca->roots_file; }


/* dNSName SANs for DNS names, iPAddress SANs for addresses (RFC 8738); all
 * validated LDH names or canonical addresses, so no ',' can smuggle entries in. */
static int add_names(X509 *leaf, X509 *issuer, char *const *all, size_t nall) {
  for (size_t i = 0; i < nall; i++)
    if (srv_is_eid(all[i])) return srv_dtn_add_names(leaf, all, nall); /* otherName SANs: built, not configured */
  char *names[SRV_MAX_IDENTIFIERS];
  size_t n = srv_atc_plain_names(all, nall < SRV_MAX_IDENTIFIERS ? nall : SRV_MAX_IDENTIFIERS, names);
  /* token identifiers only, or a key identifier alone (draft-geng-acme-public-key, nall 0): no SAN */
  if (n == 0) return srv_atc_add_exts(leaf, all, nall);
  acmeh_strbuf b = {0};
  int devids = 0;
  for (size_t i = 0; i < n; i++)
    if (srv_is_devid(names[i])) devids = 1;
    else acmeh_strbuf_printf(&b, "%s%s:%s", b.len ? "," : "", srv_is_ip(names[i]) ? "IP" : "DNS", names[i]);
  if (!devids) {
    int ok = b.data && acmeh_x509_add_ext(leaf, issuer, NID_subject_alt_name, b.data) && srv_atc_add_exts(leaf, all, nall);
    acmeh_strbuf_free(&b);
    return ok;
  }
  /* device identifiers are otherNames (draft-ietf-acme-device-attest §3.2, §4.2): no config syntax for them */
  X509_EXTENSION *e = b.data ? X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, b.data) : NULL;
  GENERAL_NAMES *gns = e ? X509V3_EXT_d2i(e) : sk_GENERAL_NAME_new_null();
  int ok = gns && srv_devid_add_sans(gns, names, n) && X509_add1_ext_i2d(leaf, NID_subject_alt_name, gns, 0, 0) == 1;
  GENERAL_NAMES_free(gns);
  X509_EXTENSION_free(e);
  acmeh_strbuf_free(&b);
  return ok;
}

/* X509_set_pubkey would re-encode and re-decode the key through OpenSSL 3's
 * provider encoders and decoders, which costs more than signing the
 * certificate; the CSR's fields can simply be copied. */
int srv_spki_copy(X509_PUBKEY *to, const X509_PUBKEY *from) {
  const unsigned char *bits;
  int nbits;
  X509_ALGOR *alg;
  return X509_PUBKEY_get0_param(NULL, &bits, &nbits, &alg, from) && acmeh_spki_set(to, alg, bits, nbits);
}

int srv_ca_issue(const srv_ca *ca, const X509_PUBKEY *spki, char *const *names, size_t n, double not_before,
                 double not_after, const char *eku, X509 **leaf) {
  double now = acmeh_now_wall();
  const char *cn = n && strlen(names[0]) <= 64 && !srv_is_ip(names[0]) && !srv_is_eid(names[0]) &&
                           !srv_atc_split(names[0], NULL, NULL) && !srv_is_devid(names[0])
                       ? names[0] : NULL; /* no address, EID, device or token identifier as CN */
  char *eid_eku = NULL; /* RFC 9891 §5: a certificate for a validated NODE-ID carries id-kp-bundleSecurity */
  for (size_t i = 0; i < n && !eid_eku; i++)
    if (srv_is_eid(names[i]) && asprintf(&eid_eku, "%s,%s", eku ? eku : "serverAuth", "1.3.6.1.5.5.7.3.35") < 0) eid_eku = NULL;
  if (eid_eku) eku = eid_eku;
  X509 *c = acmeh_x509_new(cn, not_before ? not_before : now - 60, not_after ? not_after : now + SRV_CERT_LIFETIME);
  if (!c || !srv_spki_copy(X509_get_X509_PUBKEY(c), spki)) {
    X509_free(c);
    free(eid_eku);
    return ACMEH_INTERNAL;
  }
  X509 *iss = ca->inter[0];
  X509_set_issuer_name(c, X509_get_subject_name(iss));
  ASN1_OBJECT *alg = NULL;
  X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, spki);
  int rsa = OBJ_obj2nid(alg) == NID_rsaEncryption;
  int ok = acmeh_x509_add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE") &&
           acmeh_x509_add_ext(c, iss, NID_key_usage, rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature") &&
           acmeh_x509_add_ext(c, iss, NID_ext_key_usage, eku ? eku : "serverAuth") && acmeh_x509_add_ext(c, iss, NID_subject_key_identifier, "hash") &&
           acmeh_x509_add_ext(c, iss, NID_authority_key_identifier, "keyid:always") && add_names(c, iss, names, n) &&
           X509_sign(c, ca->inter_key, EVP_sha256());
  free(eid_eku);
  if (!ok) {
    X509_free(c);
    return ACMEH_INTERNAL;
  }
  *leaf = c;
  return ACMEH_OK;
}

const char *srv_ca_issuer_pem(const srv_ca *ca, int which) {
  return which == 1 || which == 2 ? ca->inter_pem[which - 1] : NULL;
}

unsigned char *srv_ca_issuer_der(const srv_ca *ca, int which, size_t *len) {
  if (which < 1 || which > 2) return NULL;
  unsigned char *der = NULL;
  int n = i2d_X509(ca->inter[which - 1], &der);
  if (n <= 0) return NULL;
  unsigned char *copy = malloc((size_t)n); /* plain malloc, so callers free() it like every other body */
  if (copy) memcpy(copy, der, (size_t)n), *len = (size_t)n;
  OPENSSL_free(der);
  return copy;
}
