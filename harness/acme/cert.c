/* CSRs for finalize (RFC 8555 §7.4) and strict certificate-chain parsing
 * for download (§7.4.2, §9.1). */
#include "harness/acme/cert.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/acme/b64.h"
#include "base/error.h"

/* ---- names --------------------------------------------------------------- */

static int is_ip_literal(const char *name) {
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
  ASN1_OCTET_STRING_free(ip);
  return ip != NULL;
}

int acmeh_is_bundle_eid(const char *name) { return name && (strncmp(name, "dtn:", 4) == 0 || strncmp(name, "ipn:", 4) == 0); }

/* RFC 9174 §4.4.1: otherName id-on-bundleEID with an IA5String value. */
static GENERAL_NAME *bundle_eid_name(const char *eid) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_OBJECT *oid = OBJ_txt2obj(ACMEH_OID_ON_BUNDLE_EID, 1);
  ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
  ASN1_TYPE *val = ASN1_TYPE_new();
  if (gen && oid && ia5 && val && ASN1_STRING_set(ia5, eid, -1) == 1) {
    ASN1_TYPE_set(val, V_ASN1_IA5STRING, ia5);
    if (GENERAL_NAME_set0_othername(gen, oid, val) == 1) return gen;
    ia5 = NULL; /* owned by val now */
  }
  ASN1_IA5STRING_free(ia5), ASN1_TYPE_free(val), ASN1_OBJECT_free(oid), GENERAL_NAME_free(gen);
  return NULL;
}

/* One GENERAL_NAME for `name`: iPAddress for IP literals, a BundleEID
 * otherName for "dtn:" / "ipn:" EIDs (RFC 9891 §5), else dNSName.
 * Caller frees; NULL on failure. */
static GENERAL_NAME *general_name(const char *name) {
  if (acmeh_is_bundle_eid(name)) return bundle_eid_name(name);
  GENERAL_NAME *gen = GENERAL_NAME_new();
  ASN1_OCTET_STRING *ip = gen ? a2i_IPADDRESS(name) : NULL;
  if (gen && ip) {
    GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    return gen;
  }
  ASN1_IA5STRING *dns = gen ? ASN1_IA5STRING_new() : NULL;
  if (dns && ASN1_STRING_set(dns, name, -1) == 1) {
    GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
    return gen;
  }
  ASN1_IA5STRING_free(dns);
  GENERAL_NAME_free(gen);
  return NULL;
}

/* Text form of one SAN entry, malloc'd. */
static char *general_name_text(const GENERAL_NAME *gen) {
  int type = 0;
  const void *v = GENERAL_NAME_get0_value(gen, &type);
  char buf[INET6_ADDRSTRLEN + 32];
  if (type == GEN_DNS) {
    const ASN1_STRING *s = v;
    const unsigned char *d = ASN1_STRING_get0_data(s);
    size_t len = (size_t)ASN1_STRING_length(s);
    if (memchr(d, '\0', len)) return strdup("invalid-dns-name");
    return strndup((const char *)d, len);
  }
  if (type == GEN_IPADD) {
    const ASN1_STRING *s = v;
    int len = ASN1_STRING_length(s);
    int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
    /* glibc's inet_ntop writes RFC 5952 canonical IPv6 text. */
    if (af < 0 || !inet_ntop(af, ASN1_STRING_get0_data(s), buf, sizeof(buf)))
      return strdup("invalid-ip-address");
    return strdup(buf);
  }
  const OTHERNAME *on = type == GEN_OTHERNAME ? v : NULL;
  ASN1_OBJECT *eid_oid = on ? OBJ_txt2obj(ACMEH_OID_ON_BUNDLE_EID, 1) : NULL;
  int is_eid = eid_oid && OBJ_cmp(on->type_id, eid_oid) == 0;
  ASN1_OBJECT_free(eid_oid);
  if (is_eid) { /* the EID text, as an order's bundleEID identifier is written */
    if (!on->value || on->value->type != V_ASN1_IA5STRING) return strdup("invalid-bundle-eid");
    const ASN1_STRING *s = on->value->value.ia5string;
    const unsigned char *d = ASN1_STRING_get0_data(s);
    size_t len = (size_t)ASN1_STRING_length(s);
    if (memchr(d, '\0', len) || len < 4 || (memcmp(d, "dtn:", 4) != 0 && memcmp(d, "ipn:", 4) != 0)) return strdup("invalid-bundle-eid");
    return strndup((const char *)d, len);
  }
  snprintf(buf, sizeof(buf), "unsupported:%d", type);
  return strdup(buf);
}

void acmeh_names_free(char **names, size_t n) {
  if (!names) return;
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

static int names_from_gens(const GENERAL_NAMES *gens, char ***names, size_t *n) {
  *names = NULL;
  *n = 0;
  int count = gens ? sk_GENERAL_NAME_num(gens) : 0;
  if (count <= 0) return ACMEH_OK;
  char **arr = calloc((size_t)count, sizeof(*arr));
  if (!arr) return ACMEH_NOMEM;
  for (int i = 0; i < count; i++) {
    arr[i] = general_name_text(sk_GENERAL_NAME_value(gens, i));
    if (!arr[i]) {
      acmeh_names_free(arr, (size_t)i);
      return ACMEH_NOMEM;
    }
  }
  *names = arr;
  *n = (size_t)count;
  return ACMEH_OK;
}

int acmeh_cert_sans(X509 *cert, char ***names, size_t *n) {
  if (!cert || !names || !n) return ACMEH_INVALID_ARG;
  GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  int rc = names_from_gens(gens, names, n);
  GENERAL_NAMES_free(gens);
  return rc;
}

int acmeh_exts_sans(const STACK_OF(X509_EXTENSION) *exts, char ***names, size_t *n) {
  if (!names || !n) return ACMEH_INVALID_ARG;
  GENERAL_NAMES *gens = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
  int rc = names_from_gens(gens, names, n);
  GENERAL_NAMES_free(gens);
  return rc;
}

int acmeh_csr_sans(X509_REQ *req, char ***names, size_t *n) {
  if (!req || !names || !n) return ACMEH_INVALID_ARG;
  STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
  int rc = acmeh_exts_sans(exts, names, n);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return rc;
}

/* ---- DER <-> base64url --------------------------------------------------- */

char *acmeh_cert_b64url_der(X509 *cert) {
  if (!cert) return NULL;
  unsigned char *der = NULL;
  int len = i2d_X509(cert, &der);
  char *out = len > 0 ? acmeh_b64url_encode(der, (size_t)len) : NULL;
  OPENSSL_free(der);
  return out;
}

int acmeh_csr_parse(const char *b64url_der, X509_REQ **req) {
  if (!b64url_der || !req) return ACMEH_INVALID_ARG;
  unsigned char *der = NULL;
  size_t len = 0;
  int rc = acmeh_b64url_decode(b64url_der, strlen(b64url_der), &der, &len);
  if (rc != ACMEH_OK) return rc;
  const unsigned char *p = der;
  X509_REQ *r = len ? d2i_X509_REQ(NULL, &p, (long)len) : NULL;
  /* Trailing bytes after the request mean it is not one clean DER object. */
  if (r && p != der + len) {
    X509_REQ_free(r);
    r = NULL;
  }
  free(der);
  if (!r) return ACMEH_PEER_PROTOCOL;
  *req = r;
  return ACMEH_OK;
}

/* ---- CSR building -------------------------------------------------------- */

/* Subject CN = names[0] when RFC 5280's ub-common-name (64) allows and it is
 * a DNS name; otherwise the subject stays empty and the SAN carries all. */
static int set_csr_subject(X509_REQ *req, const char *first) {
  if (is_ip_literal(first) || acmeh_is_bundle_eid(first) || strlen(first) > 64) return 1;
  X509_NAME *subj = X509_REQ_get_subject_name(req);
  return X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)first, -1,
                                    -1, 0) == 1;
}

/* Adds the extensionRequest attribute with one subjectAltName extension. */
static int add_san_request(X509_REQ *req, const char *const *names, size_t n) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  int ok = gens != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    GENERAL_NAME *gen = general_name(names[i]);
    ok = gen && sk_GENERAL_NAME_push(gens, gen) > 0;
    if (!ok) GENERAL_NAME_free(gen);
  }
  X509_EXTENSION *ext = ok ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gens) : NULL;
  STACK_OF(X509_EXTENSION) *exts = ext ? sk_X509_EXTENSION_new_null() : NULL;
  ok = exts && sk_X509_EXTENSION_push(exts, ext) > 0;
  if (ok) ext = NULL;
  int eid = 0;
  for (size_t i = 0; i < n; i++) eid |= acmeh_is_bundle_eid(names[i]);
  if (ok && eid) { /* RFC 9891 §5: a NODE-ID CSR should request id-kp-bundleSecurity */
    X509_EXTENSION *eku = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, ACMEH_OID_KP_BUNDLE_SECURITY);
    ok = eku && sk_X509_EXTENSION_push(exts, eku) > 0;
    if (!ok) X509_EXTENSION_free(eku);
  }
  ok = ok && X509_REQ_add_extensions(req, exts) == 1;
  X509_EXTENSION_free(ext);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  GENERAL_NAMES_free(gens);
  return ok;
}

int acmeh_x509_add_sans(X509 *cert, const char *const *names, size_t n) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  int ok = gens != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    GENERAL_NAME *gen = general_name(names[i]);
    ok = gen && sk_GENERAL_NAME_push(gens, gen) > 0;
    if (!ok) GENERAL_NAME_free(gen);
  }
  ok = ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE) == 1;
  GENERAL_NAMES_free(gens);
  return ok;
}

/* OpenSSL 3 sets a request's key by encoding it and decoding it back through
 * its provider lookups, which costs several times the CSR's signature (a
 * third of `acme-harness load`'s client CPU). For EC keys the
 * SubjectPublicKeyInfo (RFC 5480) is filled from the point directly; other
 * keys take OpenSSL's general path. */
static int set_pubkey(X509_REQ *req, EVP_PKEY *key) {
  char group[64];
  unsigned char point[160];
  size_t glen = 0, plen = 0;
  int curve = NID_undef;
  if (EVP_PKEY_is_a(key, "EC") &&
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) == 1 &&
      EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &plen) == 1)
    curve = OBJ_txt2nid(group);
  if (curve == NID_undef) return X509_REQ_set_pubkey(req, key) == 1;
  unsigned char *penc = OPENSSL_memdup(point, plen);
  if (penc && X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                     V_ASN1_OBJECT, OBJ_nid2obj(curve), penc, (int)plen) == 1)
    return 1;
  OPENSSL_free(penc);
  return 0;
}

/* Ed25519 signs without a separate digest; the others use SHA-256. */
static const EVP_MD *sign_md(EVP_PKEY *key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

int acmeh_csr_build(EVP_PKEY *key, const char *const *names, size_t n, char **b64url_der) {
  if (!key || !names || n == 0 || !b64url_der) return ACMEH_INVALID_ARG;
  for (size_t i = 0; i < n; i++)
    if (!names[i] || !*names[i]) return ACMEH_INVALID_ARG;
  X509_REQ *req = X509_REQ_new();
  unsigned char *der = NULL;
  int rc = ACMEH_INTERNAL;
  if (req && X509_REQ_set_version(req, X509_REQ_VERSION_1) == 1 &&
      set_csr_subject(req, names[0]) && set_pubkey(req, key) &&
      add_san_request(req, names, n) && X509_REQ_sign(req, key, sign_md(key)) > 0) {
    int len = i2d_X509_REQ(req, &der);
    *b64url_der = len > 0 ? acmeh_b64url_encode(der, (size_t)len) : NULL;
    rc = *b64url_der ? ACMEH_OK : ACMEH_INTERNAL;
  }
  OPENSSL_free(der);
  X509_REQ_free(req);
  return rc;
}

/* ---- strict PEM chain (RFC 7468 §3 stricttextualmsg) ---------------------- */

typedef struct {
  const char *p, *end;
  int block; /* 1-based index of the block being read, for messages */
  char *err;
  size_t errlen;
} pem_cursor;

/* Consumes one line break (CRLF, LF or CR); returns 0 when none is here. */
static int eat_eol(pem_cursor *c) {
  if (c->p < c->end && *c->p == '\r') {
    c->p++;
    if (c->p < c->end && *c->p == '\n') c->p++;
    return 1;
  }
  if (c->p < c->end && *c->p == '\n') {
    c->p++;
    return 1;
  }
  return 0;
}

static int starts_with(const pem_cursor *c, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)(c->end - c->p) >= n && memcmp(c->p, lit, n) == 0;
}

/* Length of the current line, up to (not including) its line break. */
static size_t line_len(const pem_cursor *c) {
  const char *q = c->p;
  while (q < c->end && *q != '\r' && *q != '\n') q++;
  return (size_t)(q - c->p);
}

static int pem_fail(pem_cursor *c, const char *what) {
  return acmeh_msg(c->err, c->errlen, ACMEH_PEER_PROTOCOL, "block %d: %s", c->block, what);
}

/* Reads "-----BEGIN CERTIFICATE-----" + line break. */
static int read_begin(pem_cursor *c) {
  static const char pre[] = "-----BEGIN ";
  if (!starts_with(c, pre))
    return acmeh_msg(c->err, c->errlen, ACMEH_PEER_PROTOCOL,
                     "text outside PEM blocks before block %d", c->block);
  size_t ll = line_len(c);
  char label[80];
  const char *lab = c->p + sizeof(pre) - 1;
  size_t labl = ll - (sizeof(pre) - 1);
  if (labl < 5 || memcmp(lab + labl - 5, "-----", 5) != 0 || labl - 5 >= sizeof(label))
    return pem_fail(c, "malformed BEGIN line");
  memcpy(label, lab, labl - 5);
  label[labl - 5] = '\0';
  if (strcmp(label, "CERTIFICATE") != 0) {
    return acmeh_msg(c->err, c->errlen, ACMEH_PEER_PROTOCOL,
                     "block %d is BEGIN %s, not CERTIFICATE", c->block, label);
  }
  c->p += ll;
  if (!eat_eol(c)) return pem_fail(c, "no line break after BEGIN line");
  return ACMEH_OK;
}

static int is_b64_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '+' || ch == '/' || ch == '=';
}

/* Reads the base64 lines up to the END line into b64 (capacity end - p).
 * Strict: every line but the last exactly 64 chars, the last 4..64 and a
 * multiple of 4, nothing but base64 characters. */
static int read_body(pem_cursor *c, char *b64, size_t *b64len) {
  size_t total = 0, prev = 64;
  while (c->p < c->end && !starts_with(c, "-----END ")) {
    size_t ll = line_len(c);
    if (prev != 64) return pem_fail(c, "base64 line shorter than 64 before the last");
    if (ll == 0 || ll > 64 || ll % 4) return pem_fail(c, "base64 line of bad length");
    for (size_t i = 0; i < ll; i++)
      if (!is_b64_char(c->p[i])) return pem_fail(c, "non-base64 text inside the block");
    memcpy(b64 + total, c->p, ll);
    total += ll;
    prev = ll;
    c->p += ll;
    if (!eat_eol(c)) return pem_fail(c, "truncated");
  }
  if (total == 0) return pem_fail(c, "empty certificate block");
  *b64len = total;
  return ACMEH_OK;
}

/* Reads "-----END CERTIFICATE-----" and its line break (optional at the end). */
static int read_end(pem_cursor *c) {
  static const char post[] = "-----END CERTIFICATE-----";
  if (!starts_with(c, "-----END ")) return pem_fail(c, "missing END line");
  if (!starts_with(c, post)) return pem_fail(c, "END line does not match BEGIN CERTIFICATE");
  c->p += sizeof(post) - 1;
  if (c->p < c->end && !eat_eol(c)) return pem_fail(c, "text after END line");
  return ACMEH_OK;
}

/* Standard base64 (with padding only at the end) -> one DER certificate. */
static X509 *decode_cert(const char *b64, size_t len) {
  size_t pad = 0;
  while (pad < len && pad < 3 && b64[len - 1 - pad] == '=') pad++;
  if (pad > 2 || memchr(b64, '=', len - pad)) return NULL;
  unsigned char *der = malloc(len / 4 * 3 + 1);
  if (!der) return NULL;
  int n = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)len);
  X509 *cert = NULL;
  if (n > 0 && (size_t)n > pad) {
    size_t derlen = (size_t)n - pad;
    const unsigned char *p = der;
    cert = d2i_X509(NULL, &p, (long)derlen);
    if (cert && p != der + derlen) {
      X509_free(cert);
      cert = NULL;
    }
  }
  free(der);
  return cert;
}

static int read_block(pem_cursor *c, char *scratch, STACK_OF(X509) *chain) {
  size_t b64len = 0;
  int rc = read_begin(c);
  if (rc == ACMEH_OK) rc = read_body(c, scratch, &b64len);
  if (rc == ACMEH_OK) rc = read_end(c);
  if (rc != ACMEH_OK) return rc;
  X509 *cert = decode_cert(scratch, b64len);
  if (!cert) return pem_fail(c, "base64 content is not one DER certificate");
  if (sk_X509_push(chain, cert) <= 0) {
    X509_free(cert);
    return ACMEH_NOMEM;
  }
  return ACMEH_OK;
}

int acmeh_pem_chain_parse(const char *body, size_t len, STACK_OF(X509) **chain, char *err,
                          size_t errlen) {
  if (!chain || (!body && len)) return ACMEH_INVALID_ARG;
  *chain = NULL;
  pem_cursor c = {body, body + len, 1, err, errlen};
  STACK_OF(X509) *certs = sk_X509_new_null();
  char *scratch = malloc(len + 1); /* base64 text of one block is never longer */
  int rc = certs && scratch ? ACMEH_OK : ACMEH_NOMEM;
  while (rc == ACMEH_OK) {
    while (eat_eol(&c)) {
    }
    if (c.p >= c.end) break;
    if (sk_X509_num(certs) == ACMEH_PEM_CHAIN_MAX) {
      rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "more than %d certificates in the chain (the harness's "
                     "cap; a real chain holds a few)", ACMEH_PEM_CHAIN_MAX);
      break;
    }
    rc = read_block(&c, scratch, certs);
    c.block++;
  }
  free(scratch);
  if (rc == ACMEH_OK && sk_X509_num(certs) == 0)
    rc = acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "no CERTIFICATE blocks");
  if (rc != ACMEH_OK) {
    sk_X509_pop_free(certs, X509_free);
    return rc;
  }
  *chain = certs;
  return ACMEH_OK;
}

X509 *acmeh_x509_new(const char *cn, double not_before, double not_after) {
  X509 *c = X509_new();
  unsigned char serial[16];
  if (!c || RAND_bytes(serial, sizeof serial) != 1) {
    X509_free(c);
    return NULL;
  }
  /* The top bit stays random: about half the serials need DER's leading 00,
   * so peers' certID code (RFC 9773 §4.1) meets both encodings. */
  serial[0] |= 0x01; /* never a short encoding */
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
  BN_free(bn);
  X509_set_version(c, 2);
  ASN1_TIME_set(X509_getm_notBefore(c), (time_t)not_before);
  ASN1_TIME_set(X509_getm_notAfter(c), (time_t)not_after);
  if (cn) X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  return c;
}

int acmeh_x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  int ok = ext && X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}
