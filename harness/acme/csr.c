#include "harness/acme/csr.h"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"

/* RFC 2986 §4 with the SubjectPublicKeyInfo (RFC 5280 §4.1) left as its
 * two fields, so that parsing decodes no key. */
typedef struct {
  X509_ALGOR *algorithm;
  ASN1_BIT_STRING *key;
} CSR_SPKI;

typedef struct {
  ASN1_ENCODING enc; /* the bytes as received: the signature covers them */
  ASN1_INTEGER *version;
  X509_NAME *subject;
  CSR_SPKI *spki;
  STACK_OF(X509_ATTRIBUTE) *attributes;
} CSR_INFO;

typedef struct {
  CSR_INFO *info;
  X509_ALGOR *sig_alg;
  ASN1_BIT_STRING *signature;
} CSR_DER;

ASN1_SEQUENCE(CSR_SPKI) = {
    ASN1_SIMPLE(CSR_SPKI, algorithm, X509_ALGOR),
    ASN1_SIMPLE(CSR_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_SPKI)

/* attributes is [0] IMPLICIT and not optional in RFC 2986; OpenSSL accepts
 * requests without it, and so does this reader, to judge the same inputs. */
ASN1_SEQUENCE_enc(CSR_INFO, enc, NULL) = {
    ASN1_SIMPLE(CSR_INFO, version, ASN1_INTEGER),
    ASN1_SIMPLE(CSR_INFO, subject, X509_NAME),
    ASN1_SIMPLE(CSR_INFO, spki, CSR_SPKI),
    ASN1_IMP_SET_OF_OPT(CSR_INFO, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(CSR_INFO, CSR_INFO)

ASN1_SEQUENCE(CSR_DER) = {
    ASN1_SIMPLE(CSR_DER, info, CSR_INFO),
    ASN1_SIMPLE(CSR_DER, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(CSR_DER, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_DER)

struct acmeh_csr {
  CSR_DER *der;
  X509_PUBKEY *spki; /* copy of der->info->spki, no key decoded */
  EVP_PKEY *key;     /* NULL when undecodable */
};

int acmeh_spki_set(X509_PUBKEY *to, const X509_ALGOR *alg, const unsigned char *bits, int nbits) {
  if (!to || !alg || !bits || nbits <= 0) return 0;
  const ASN1_OBJECT *oid;
  int ptype;
  const void *pval;
  X509_ALGOR_get0(&oid, &ptype, &pval, alg);
  /* An end-of-contents tag (00) is no parameter, and X509_ALGOR_set0 would
   * neither take it (the copy leaked) nor copy it (the parameter vanished). */
  if (ptype == V_ASN1_EOC) return 0;
  /* A BOOLEAN parameter is held in the pointer itself (0 or 0xff, not an
   * ASN1_STRING): it goes back as it came, copying nothing. */
  int bare = ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL || ptype == V_ASN1_BOOLEAN;
  void *param = ptype == V_ASN1_BOOLEAN ? (void *)pval
                : bare                  ? NULL
                : ptype == V_ASN1_OBJECT ? (void *)OBJ_dup(pval)
                                         : (void *)ASN1_STRING_dup(pval);
  ASN1_OBJECT *o = OBJ_dup(oid);
  unsigned char *b = OPENSSL_memdup(bits, (size_t)nbits);
  if (o && b && (bare || param) && X509_PUBKEY_set0_param(to, o, ptype, param, b, nbits)) return 1;
  ASN1_OBJECT_free(o);
  OPENSSL_free(b);
  if (ptype == V_ASN1_OBJECT) ASN1_OBJECT_free(param);
  else if (!bare) ASN1_STRING_free(param);
  return 0;
}

static int refuse(char *why, size_t whylen, const char *reason) {
  snprintf(why, whylen, "%s", reason);
  return 0;
}

static int ec_form_ok(int ptype, const unsigned char *bits, int nbits, char *why, size_t whylen) {
  if (ptype != V_ASN1_OBJECT)
    return refuse(why, whylen, "the EC key's parameters do not name a curve (RFC 5480 §2.1.1 forbids spelled-out ones)");
  unsigned char form = nbits > 0 ? bits[0] : 0;
  if (nbits == 1 && form == 0x00) return refuse(why, whylen, "the EC key is the point at infinity (RFC 5480 §2.2)");
  if (form == 0x06 || form == 0x07) return refuse(why, whylen, "the EC key is in the hybrid form, which RFC 5480 §2.2 rejects");
  if (form != 0x04 && form != 0x02 && form != 0x03)
    return refuse(why, whylen, "the EC key is not an uncompressed or compressed point (RFC 5480 §2.2)");
  return 1;
}

int acmeh_spki_form_ok(const X509_PUBKEY *spki, char *why, size_t whylen) {
  ASN1_OBJECT *oid = NULL;
  const unsigned char *bits = NULL;
  int nbits = 0, ptype = V_ASN1_UNDEF;
  X509_ALGOR *alg = NULL;
  if (!spki || !X509_PUBKEY_get0_param(&oid, &bits, &nbits, &alg, spki)) return refuse(why, whylen, "no public key");
  X509_ALGOR_get0(NULL, &ptype, NULL, alg);
  int nid = OBJ_obj2nid(oid);
  if (nid == NID_X9_62_id_ecPublicKey) return ec_form_ok(ptype, bits, nbits, why, whylen);
  if (nid == NID_rsaEncryption && ptype != V_ASN1_NULL)
    return refuse(why, whylen, "the RSA key's parameters are not NULL (RFC 3279 §2.3.1)");
  if ((nid == NID_ED25519 || nid == NID_ED448) && ptype != V_ASN1_UNDEF)
    return refuse(why, whylen, "the EdDSA key has parameters, which RFC 8410 §3 says must be absent");
  return 1;
}

/* An EC key on a named curve (RFC 5480 §2.1.1), built from its point. Like
 * OpenSSL's decoder, the import refuses a point that is not on the curve. */
static EVP_PKEY *ec_key(const CSR_SPKI *spki) {
  const ASN1_OBJECT *oid;
  int ptype;
  const void *pval;
  X509_ALGOR_get0(&oid, &ptype, &pval, spki->algorithm);
  if (OBJ_obj2nid(oid) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT) return NULL;
  const char *curve = OBJ_nid2sn(OBJ_obj2nid(pval));
  int len = ASN1_STRING_length(spki->key);
  if (!curve || len <= 0) return NULL;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)ASN1_STRING_get0_data(spki->key),
                                        (size_t)len),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  EVP_PKEY *key = NULL;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    key = NULL;
  EVP_PKEY_CTX_free(ctx);
  return key;
}

/* Any other key: OpenSSL's general decoding of the SubjectPublicKeyInfo. */
static EVP_PKEY *decoded_key(const CSR_SPKI *spki) {
  unsigned char *der = NULL;
  int len = ASN1_item_i2d((const ASN1_VALUE *)spki, &der, ASN1_ITEM_rptr(CSR_SPKI));
  const unsigned char *p = der;
  EVP_PKEY *key = len > 0 ? d2i_PUBKEY(NULL, &p, len) : NULL;
  OPENSSL_free(der);
  return key;
}

static CSR_DER *parse_der(const char *b64url_der) {
  unsigned char *der = NULL;
  size_t len = 0;
  if (acmeh_b64url_decode(b64url_der, strlen(b64url_der), &der, &len) != ACMEH_OK) return NULL;
  const unsigned char *p = der;
  CSR_DER *d = len ? (CSR_DER *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(CSR_DER)) : NULL;
  /* Trailing bytes after the request mean it is not one clean DER object. */
  if (d && p != der + len) {
    ASN1_item_free((ASN1_VALUE *)d, ASN1_ITEM_rptr(CSR_DER));
    d = NULL;
  }
  free(der);
  ERR_clear_error();
  return d;
}

int acmeh_csr_read(const char *b64url_der, acmeh_csr **out) {
  if (!b64url_der || !out) return ACMEH_INVALID_ARG;
  CSR_DER *d = parse_der(b64url_der);
  if (!d) return ACMEH_PEER_PROTOCOL;
  acmeh_csr *c = calloc(1, sizeof *c);
  const CSR_SPKI *spki = d->info->spki;
  if (c) c->spki = X509_PUBKEY_new();
  if (!c || !c->spki ||
      !acmeh_spki_set(c->spki, spki->algorithm, ASN1_STRING_get0_data(spki->key), ASN1_STRING_length(spki->key))) {
    /* set fails on an empty key too: such a request has no key to certify;
     * and on an end-of-contents tag as the key's parameters: not DER */
    int ptype = V_ASN1_UNDEF;
    X509_ALGOR_get0(NULL, &ptype, NULL, spki->algorithm);
    int empty = ASN1_STRING_length(spki->key) <= 0 || ptype == V_ASN1_EOC;
    ASN1_item_free((ASN1_VALUE *)d, ASN1_ITEM_rptr(CSR_DER));
    if (c) X509_PUBKEY_free(c->spki);
    free(c);
    return empty ? ACMEH_PEER_PROTOCOL : ACMEH_NOMEM;
  }
  c->der = d;
  c->key = ec_key(spki);
  if (!c->key) c->key = decoded_key(spki);
  ERR_clear_error();
  *out = c;
  return ACMEH_OK;
}

void acmeh_csr_free(acmeh_csr *csr) {
  if (!csr) return;
  ASN1_item_free((ASN1_VALUE *)csr->der, ASN1_ITEM_rptr(CSR_DER));
  X509_PUBKEY_free(csr->spki);
  EVP_PKEY_free(csr->key);
  free(csr);
}

EVP_PKEY *acmeh_csr_key(const acmeh_csr *csr) { return csr ? csr->key : NULL; }

const X509_PUBKEY *acmeh_csr_spki(const acmeh_csr *csr) { return csr ? csr->spki : NULL; }

const X509_NAME *acmeh_csr_subject(const acmeh_csr *csr) { return csr ? csr->der->info->subject : NULL; }

int acmeh_csr_verify(const acmeh_csr *csr) {
  if (!csr || !csr->key) return 0;
  const CSR_DER *d = csr->der;
  int ok = ASN1_item_verify(ASN1_ITEM_rptr(CSR_INFO), d->sig_alg, d->signature, d->info, csr->key) == 1;
  ERR_clear_error();
  return ok;
}

STACK_OF(X509_EXTENSION) *acmeh_csr_extensions(const acmeh_csr *csr) {
  if (!csr) return NULL;
  const STACK_OF(X509_ATTRIBUTE) *attrs = csr->der->info->attributes;
  /* The Microsoft OID too, as X509_REQ_get_extensions reads it. */
  int i = X509at_get_attr_by_NID(attrs, NID_ext_req, -1);
  if (i < 0) i = X509at_get_attr_by_NID(attrs, NID_ms_ext_req, -1);
  X509_ATTRIBUTE *attr = i >= 0 ? X509at_get_attr(attrs, i) : NULL;
  ASN1_TYPE *t = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
  STACK_OF(X509_EXTENSION) *exts = NULL;
  if (t && t->type == V_ASN1_SEQUENCE)
    exts = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_EXTENSIONS), t);
  ERR_clear_error();
  return exts;
}
