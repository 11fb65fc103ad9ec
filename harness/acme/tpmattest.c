/* TPMS_ATTEST and TPMT_PUBLIC, bounded reads (tpmattest.h). */
#include "harness/acme/tpmattest.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <string.h>

#include "base/error.h"

#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_CERTIFY 0x8017u
#define TPM_ST_ATTEST_CREATION 0x801au
#define TPM_ALG_ECC 0x0023u
#define TPM_ALG_SHA256 0x000bu
#define TPM_ALG_NULL 0x0010u
#define TPM_ECC_NIST_P256 0x0003u

/* A cursor over peer bytes: every read checks what is left. */
typedef struct {
  const unsigned char *p;
  size_t left;
  int bad;
} rd;

static unsigned long u(rd *r, size_t n) {
  unsigned long v = 0;
  if (r->bad || r->left < n) return r->bad = 1, 0;
  for (size_t i = 0; i < n; i++) v = v << 8 | r->p[i];
  r->p += n, r->left -= n;
  return v;
}

/* A TPM2B: 2-byte size then the bytes; *data points into the input. */
static size_t tpm2b(rd *r, const unsigned char **data) {
  size_t n = u(r, 2);
  if (r->bad || r->left < n) return r->bad = 1, *data = NULL, 0;
  *data = r->p;
  r->p += n, r->left -= n;
  return n;
}

static int attest(const unsigned char *ci, size_t len, const unsigned char *extra, size_t extra_len, const unsigned char name[34],
                  char *err, size_t errlen) {
  rd r = {ci, len, 0};
  const unsigned char *d;
  if (u(&r, 4) != TPM_GENERATED_VALUE || r.bad) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: magic is not TPM_GENERATED_VALUE");
  unsigned long type = u(&r, 2);
  if (type != TPM_ST_ATTEST_CERTIFY && type != TPM_ST_ATTEST_CREATION)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: type 0x%04lx is neither ATTEST_CERTIFY nor ATTEST_CREATION", type);
  tpm2b(&r, &d); /* qualifiedSigner */
  size_t n = tpm2b(&r, &d);
  if (r.bad) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: truncated before extraData");
  if (n != extra_len || memcmp(d, extra, n) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: extraData is not SHA-256 of the key authorization");
  u(&r, 17), u(&r, 8); /* clockInfo, firmwareVersion */
  n = tpm2b(&r, &d);   /* CERTIFY: name; CREATION: objectName */
  if (r.bad) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: truncated before the attested name");
  if (n != 34 || memcmp(d, name, 34) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: the attested name is not the name of pubArea");
  tpm2b(&r, &d); /* CERTIFY: qualifiedName; CREATION: creationHash */
  if (r.bad || r.left)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM certInfo: %s after the attested name", r.bad ? "truncated" : "bytes left over");
  return ACMEH_OK;
}

/* pubArea's ECC point as a key. */
static int public_key(const unsigned char *pub, size_t len, EVP_PKEY **key, char *err, size_t errlen) {
  rd r = {pub, len, 0};
  const unsigned char *x, *y, *d;
  if (u(&r, 2) != TPM_ALG_ECC || u(&r, 2) != TPM_ALG_SHA256 || r.bad)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM pubArea: not an ECC key with a SHA-256 name");
  u(&r, 4), tpm2b(&r, &d); /* objectAttributes, authPolicy */
  if (u(&r, 2) != TPM_ALG_NULL) u(&r, 4); /* symmetric: keyBits, mode */
  if (u(&r, 2) != TPM_ALG_NULL) u(&r, 2); /* scheme: hashAlg */
  unsigned long curve = u(&r, 2);
  if (u(&r, 2) != TPM_ALG_NULL) u(&r, 2); /* kdf */
  size_t xl = tpm2b(&r, &x), yl = tpm2b(&r, &y);
  if (r.bad || r.left || curve != TPM_ECC_NIST_P256 || xl != 32 || yl != 32)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM pubArea: not a well-formed NIST P-256 public area");
  unsigned char pt[65] = {4};
  memcpy(pt + 1, x, 32), memcpy(pt + 33, y, 32);
  OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
  OSSL_PARAM *ps = NULL;
  EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  int ok = b && c && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
           OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt) && (ps = OSSL_PARAM_BLD_to_param(b)) &&
           EVP_PKEY_fromdata_init(c) == 1 && EVP_PKEY_fromdata(c, key, EVP_PKEY_PUBLIC_KEY, ps) == 1;
  OSSL_PARAM_free(ps), OSSL_PARAM_BLD_free(b), EVP_PKEY_CTX_free(c);
  return ok ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TPM pubArea: the point is not on P-256");
}

int acmeh_tpm_check(const unsigned char *cert_info, size_t ci_len, const unsigned char *pub, size_t pub_len,
                    const unsigned char *extra, size_t extra_len, EVP_PKEY **key, char *err, size_t errlen) {
  *key = NULL;
  unsigned char name[34] = {TPM_ALG_SHA256 >> 8, TPM_ALG_SHA256 & 0xff};
  if (!cert_info || !pub || !EVP_Digest(pub, pub_len, name + 2, NULL, EVP_sha256(), NULL)) return ACMEH_NOMEM;
  int rc = attest(cert_info, ci_len, extra, extra_len, name, err, errlen);
  return rc ? rc : public_key(pub, pub_len, key, err, errlen);
}
