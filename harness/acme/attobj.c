/* Attestation object verification, packed format (attobj.h). */
#include "harness/acme/attobj.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "harness/acme/cbor_safe.h"
#include "harness/acme/tpmattest.h"

#define COSE_ES256 (-7) /* RFC 9053 §2.1 */

char *acmeh_attobj_cert_devid(X509 *x, acmeh_devid_type t) {
  GENERAL_NAMES *gns = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  char *out = NULL;
  for (int i = 0; !out && i < sk_GENERAL_NAME_num(gns); i++) {
    acmeh_devid_type got;
    char *v = acmeh_devid_from_general_name(sk_GENERAL_NAME_value(gns, i), &got);
    if (v && got == t) out = v;
    else free(v);
  }
  GENERAL_NAMES_free(gns);
  return out;
}

/* x5c as certificates: leaf first. 0 with err filled on failure. */
static int chain_of(const cbor_item_t *x5c, STACK_OF(X509) *chain, char *err, size_t errlen) {
  if (!x5c || !cbor_isa_array(x5c) || cbor_array_size(x5c) == 0 || cbor_array_size(x5c) > ACMEH_ATTOBJ_MAX_CHAIN)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation certificate: attStmt.x5c must be an array of 1 to %d certificates",
                     ACMEH_ATTOBJ_MAX_CHAIN), 0;
  for (size_t i = 0; i < cbor_array_size(x5c); i++) {
    cbor_item_t *c = cbor_array_handle(x5c)[i];
    if (!cbor_isa_bytestring(c) || !cbor_bytestring_is_definite(c))
      return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation certificate: x5c[%zu] is not a byte string", i), 0;
    const unsigned char *p = cbor_bytestring_handle(c);
    long n = (long)cbor_bytestring_length(c);
    X509 *x = d2i_X509(NULL, &p, n);
    if (!x || p != cbor_bytestring_handle(c) + n)
      return X509_free(x), acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation certificate: x5c[%zu] is not one DER certificate", i), 0;
    sk_X509_push(chain, x);
  }
  return 1;
}

/* The leaf chains to a root and is valid at e->now. */
static int chain_ok(STACK_OF(X509) *chain, const acmeh_attobj_expect *e, char *err, size_t errlen) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *sc = X509_STORE_CTX_new();
  int ok = store && sc;
  for (size_t i = 0; ok && i < e->nroots; i++) ok = X509_STORE_add_cert(store, e->roots[i]);
  ok = ok && X509_STORE_CTX_init(sc, store, sk_X509_value(chain, 0), chain);
  if (ok) {
    X509_STORE_CTX_set_time(sc, 0, e->now > 0 ? (time_t)e->now : time(NULL));
    X509_STORE_CTX_set_purpose(sc, X509_PURPOSE_ANY);
    ok = X509_verify_cert(sc) == 1;
    if (!ok) acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation certificate does not verify: %s",
                       X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
  } else acmeh_msg(err, errlen, ACMEH_NOMEM, "no certificate store");
  X509_STORE_CTX_free(sc), X509_STORE_free(store);
  return ok;
}

/* sig by leaf's key over data[0..len) (ES256, DER ECDSA). */
static int sig_ok(X509 *leaf, const cbor_item_t *alg, const cbor_item_t *sig, const unsigned char *data, size_t len, char *err,
                  size_t errlen) {
  if (!alg || !cbor_isa_negint(alg) || cbor_get_int(alg) != (uint64_t)(-COSE_ES256 - 1))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation signature: attStmt.alg must be -7 (ES256)"), 0;
  if (!sig || !cbor_isa_bytestring(sig) || !cbor_bytestring_is_definite(sig))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation signature: attStmt.sig is not a byte string"), 0;
  EVP_PKEY *k = X509_get0_pubkey(leaf);
  if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation signature: alg -7 needs an EC key in the certificate"), 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
           EVP_DigestVerify(md, cbor_bytestring_handle(sig), cbor_bytestring_length(sig), data, len) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attestation signature does not verify over the key authorization (attToBeSigned)");
  return ok;
}

static int ident_ok(X509 *leaf, const acmeh_attobj_expect *e, char *err, size_t errlen) {
  char *v = acmeh_attobj_cert_devid(leaf, e->id_type);
  int ok = v && e->id_value && strcmp(v, e->id_value) == 0; /* octet for octet (§3.2) */
  if (!ok) acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "attested identifier %s \"%.100s\" is not the order's \"%.100s\"",
                     acmeh_devid_type_name(e->id_type) ? acmeh_devid_type_name(e->id_type) : "?", v ? v : "(none)",
                     e->id_value ? e->id_value : "");
  free(v);
  return ok;
}

static int packed(const cbor_item_t *st, const acmeh_attobj_expect *e, acmeh_attobj_result *r, char *err, size_t errlen) {
  STACK_OF(X509) *chain = sk_X509_new_null();
  if (!chain) return ACMEH_NOMEM;
  int ok = chain_of(acmeh_cbor_map_get(st, "x5c"), chain, err, errlen);
  X509 *leaf = ok ? sk_X509_value(chain, 0) : NULL;
  ok = ok && sig_ok(leaf, acmeh_cbor_map_get(st, "alg"), acmeh_cbor_map_get(st, "sig"), e->tbs, e->tbs_len, err, errlen);
  ok = ok && chain_ok(chain, e, err, errlen) && ident_ok(leaf, e, err, errlen);
  if (ok && (r->key = X509_get_pubkey(leaf)) == NULL) ok = 0;
  sk_X509_pop_free(chain, X509_free);
  return ok ? ACMEH_OK : ACMEH_PEER_PROTOCOL;
}

static const unsigned char *bytes_of(const cbor_item_t *b, size_t *n) {
  *n = b && cbor_isa_bytestring(b) && cbor_bytestring_is_definite(b) ? cbor_bytestring_length(b) : 0;
  return *n ? cbor_bytestring_handle(b) : NULL;
}

/* WebAuthn §8.3 as device-attest-01 uses it: the AK (x5c leaf) signs
 * certInfo, whose extraData is SHA-256(attToBeSigned) and whose attested
 * name is pubArea's; the attested key is pubArea's. */
static int tpm(const cbor_item_t *st, const acmeh_attobj_expect *e, acmeh_attobj_result *r, char *err, size_t errlen) {
  const cbor_item_t *ver = acmeh_cbor_map_get(st, "ver");
  if (!ver || !cbor_isa_string(ver) || cbor_string_length(ver) != 3 || memcmp(cbor_string_handle(ver), "2.0", 3) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM statement: ver is not \"2.0\"");
  size_t ci_len, pub_len;
  const unsigned char *ci = bytes_of(acmeh_cbor_map_get(st, "certInfo"), &ci_len), *pub = bytes_of(acmeh_cbor_map_get(st, "pubArea"), &pub_len);
  if (!ci || !pub) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM statement: certInfo and pubArea must be byte strings");
  STACK_OF(X509) *chain = sk_X509_new_null();
  if (!chain) return ACMEH_NOMEM;
  unsigned char extra[32];
  EVP_Digest(e->tbs, e->tbs_len, extra, NULL, EVP_sha256(), NULL);
  int ok = chain_of(acmeh_cbor_map_get(st, "x5c"), chain, err, errlen);
  X509 *ak = ok ? sk_X509_value(chain, 0) : NULL;
  ok = ok && sig_ok(ak, acmeh_cbor_map_get(st, "alg"), acmeh_cbor_map_get(st, "sig"), ci, ci_len, err, errlen);
  ok = ok && acmeh_tpm_check(ci, ci_len, pub, pub_len, extra, sizeof extra, &r->key, err, errlen) == ACMEH_OK;
  ok = ok && chain_ok(chain, e, err, errlen) && ident_ok(ak, e, err, errlen);
  if (!ok) EVP_PKEY_free(r->key), r->key = NULL;
  sk_X509_pop_free(chain, X509_free);
  return ok ? ACMEH_OK : ACMEH_PEER_PROTOCOL;
}

int acmeh_attobj_verify(const unsigned char *obj, size_t len, const acmeh_attobj_expect *e, acmeh_attobj_result *r,
                        char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  cbor_item_t *top = NULL;
  int rc = acmeh_cbor_load_safe(obj, len, &top, err, errlen);
  if (rc) return rc;
  const cbor_item_t *fmt = acmeh_cbor_map_get(top, "fmt"), *st = acmeh_cbor_map_get(top, "attStmt");
  r->had_authdata = acmeh_cbor_map_get(top, "authData") != NULL;
  if (!cbor_isa_map(top) || !fmt || !cbor_isa_string(fmt) || !cbor_string_is_definite(fmt) || !st || !cbor_isa_map(st))
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "malformed attestation object: not a map with text \"fmt\" and map \"attStmt\" (WebAuthn §6.5.4)");
  if (rc == ACMEH_OK) {
    size_t n = cbor_string_length(fmt) < sizeof r->fmt - 1 ? cbor_string_length(fmt) : sizeof r->fmt - 1;
    memcpy(r->fmt, cbor_string_handle(fmt), n), r->fmt[n] = '\0';
    for (size_t i = 0; i < n; i++) if (r->fmt[i] < 0x20 || r->fmt[i] > 0x7e) r->fmt[i] = '?';
    int is_tpm = strcmp(r->fmt, "tpm") == 0 && cbor_string_length(fmt) == 3;
    if (!is_tpm && (strcmp(r->fmt, "packed") != 0 || cbor_string_length(fmt) != 6))
      rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "unsupported attestation format \"%s\"", r->fmt);
    if (rc == ACMEH_OK) rc = is_tpm ? tpm(st, e, r, err, errlen) : packed(st, e, r, err, errlen);
  }
  cbor_decref(&top);
  return rc;
}
