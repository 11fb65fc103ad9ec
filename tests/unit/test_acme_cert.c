/* CSR building, strict PEM chain parsing and the tls-alpn-01 validation
 * certificate. */
#include <CUnit/Basic.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "harness/acme/challenge.h"
#include "harness/acme/jwk.h"
#include "base/error.h"
#include "tests/unit/support/unit_main.h"

/* Digest vector V6 keyAuthorization and its SHA-256. */
static const char KEYAUTH[] =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
static const unsigned char KEYAUTH_SHA256[32] = {
    0x65, 0x34, 0x71, 0xd4, 0x29, 0x25, 0xd7, 0xeb, 0x4c, 0xd3, 0x9a, 0x39, 0xcd, 0xa8, 0xb3, 0x4d,
    0x30, 0x34, 0xc9, 0x4c, 0xb9, 0x00, 0x67, 0xab, 0x78, 0xc8, 0x12, 0x35, 0x60, 0xba, 0x2e, 0x5f};

/* Two throwaway certificates (from the tls-alpn-01 builder) as PEM text. */
static char *g_pem[2];
static X509 *g_cert[2];

/* PEM text of cert, malloc'd. */
static char *to_pem(X509 *cert) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL, *data = NULL;
  if (bio && PEM_write_bio_X509(bio, cert) == 1) {
    long len = BIO_get_mem_data(bio, &data);
    out = strndup(data, (size_t)len);
  }
  BIO_free(bio);
  return out;
}

static int suite_init(void) {
  const char *names[2] = {"a.example.com", "b.example.com"};
  for (int i = 0; i < 2; i++) {
    EVP_PKEY *k = NULL;
    if (acmeh_tlsalpn01_cert(names[i], KEYAUTH, &k, &g_cert[i]) != ACMEH_OK) return -1;
    EVP_PKEY_free(k);
    g_pem[i] = to_pem(g_cert[i]);
    if (!g_pem[i]) return -1;
  }
  return 0;
}

static int suite_clean(void) {
  for (int i = 0; i < 2; i++) {
    free(g_pem[i]);
    X509_free(g_cert[i]);
  }
  return 0;
}

/* Asserts names[0..n) equals want[0..wn) in order. */
static void expect_names(char **names, size_t n, const char *const *want, size_t wn) {
  CU_ASSERT_EQUAL_FATAL(n, wn);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(names[i], want[i]) != 0)
      fprintf(stderr, "\n  name %zu: got %s want %s\n", i, names[i], want[i]);
    CU_ASSERT_STRING_EQUAL(names[i], want[i]);
  }
}

/* ---- CSR ----------------------------------------------------------------- */

static void csr_for(acmeh_keytype t) {
  static const char *const names[] = {"example.com", "www.example.com", "192.0.2.1",
                                      "2001:DB8:0:0:0:0:0:1"};
  static const char *const want[] = {"example.com", "www.example.com", "192.0.2.1",
                                     "2001:db8::1"}; /* RFC 5952 text */
  acmeh_key *k = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_key_generate(t, &k), ACMEH_OK);
  char *b64 = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_build(acmeh_key_pkey(k), names, 4, &b64), ACMEH_OK);
  CU_ASSERT(acmeh_b64url_valid(b64));
  X509_REQ *req = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_parse(b64, &req), ACMEH_OK);
  CU_ASSERT_EQUAL(X509_REQ_verify(req, acmeh_key_pkey(k)), 1);
  char **got = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL(acmeh_csr_sans(req, &got, &n), ACMEH_OK);
  expect_names(got, n, want, 4);
  acmeh_names_free(got, n);
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn));
  CU_ASSERT_STRING_EQUAL(cn, "example.com");
  X509_REQ_free(req);
  free(b64);
  acmeh_key_free(k);
}

static void test_csr_names(void) {
  csr_for(ACMEH_KEY_ES256);
  csr_for(ACMEH_KEY_RS256);
  csr_for(ACMEH_KEY_EDDSA);
}

/* An IP first name gets no CN; a single name gives exactly one SAN. */
static void test_csr_ip_only(void) {
  static const char *const names[] = {"192.0.2.1"};
  acmeh_key *k = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_key_generate(ACMEH_KEY_ES256, &k), ACMEH_OK);
  char *b64 = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_build(acmeh_key_pkey(k), names, 1, &b64), ACMEH_OK);
  X509_REQ *req = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_parse(b64, &req), ACMEH_OK);
  CU_ASSERT_EQUAL(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
  char **got = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL(acmeh_csr_sans(req, &got, &n), ACMEH_OK);
  expect_names(got, n, names, 1);
  acmeh_names_free(got, n);
  X509_REQ_free(req);
  free(b64);
  CU_ASSERT_EQUAL(acmeh_csr_build(acmeh_key_pkey(k), names, 0, &b64), ACMEH_INVALID_ARG);
  acmeh_key_free(k);
}

static void test_csr_parse_rejects(void) {
  X509_REQ *req = NULL;
  CU_ASSERT_EQUAL(acmeh_csr_parse("", &req), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_EQUAL(acmeh_csr_parse("MIIB", &req), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_EQUAL(acmeh_csr_parse("MII=", &req), ACMEH_PEER_PROTOCOL);
  /* A real CSR with padding or a trailing byte is not acceptable either. */
  static const char *const names[] = {"example.com"};
  acmeh_key *k = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_key_generate(ACMEH_KEY_EDDSA, &k), ACMEH_OK);
  char *b64 = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_csr_build(acmeh_key_pkey(k), names, 1, &b64), ACMEH_OK);
  unsigned char *der = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(acmeh_b64url_decode(b64, strlen(b64), &der, &len), ACMEH_OK);
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, der, len);
  longer[len] = 0;
  char *b64long = acmeh_b64url_encode(longer, len + 1);
  CU_ASSERT_EQUAL(acmeh_csr_parse(b64long, &req), ACMEH_PEER_PROTOCOL);
  char padded[2048];
  snprintf(padded, sizeof(padded), "%s==", b64);
  CU_ASSERT_EQUAL(acmeh_csr_parse(padded, &req), ACMEH_PEER_PROTOCOL);
  CU_ASSERT_PTR_NULL(req);
  free(b64long);
  free(longer);
  free(der);
  free(b64);
  acmeh_key_free(k);
}

/* ---- PEM chains ---------------------------------------------------------- */

/* Parses text; returns the count of certs or -1 with the message in err. */
static int chain_count(const char *text, char *err, size_t errlen) {
  STACK_OF(X509) *chain = NULL;
  int rc = acmeh_pem_chain_parse(text, strlen(text), &chain, err, errlen);
  if (rc != ACMEH_OK) {
    CU_ASSERT_EQUAL(rc, ACMEH_PEER_PROTOCOL);
    CU_ASSERT_PTR_NULL(chain);
    return -1;
  }
  int n = sk_X509_num(chain);
  for (int i = 0; i < n && i < 2; i++) CU_ASSERT_EQUAL(X509_cmp(sk_X509_value(chain, i), g_cert[i]), 0);
  sk_X509_pop_free(chain, X509_free);
  return n;
}

/* Expects rejection with `why` in the message. */
static void expect_chain_reject(const char *text, const char *why) {
  char err[256] = "";
  CU_ASSERT_EQUAL(chain_count(text, err, sizeof(err)), -1);
  if (!strstr(err, why)) fprintf(stderr, "\n  reason \"%s\" lacks \"%s\"\n", err, why);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
}

/* Replaces every "\n" in s with "\r\n"; malloc'd. */
static char *crlf(const char *s) {
  char *out = malloc(2 * strlen(s) + 1), *o = out;
  for (; *s; s++) {
    if (*s == '\n') *o++ = '\r';
    *o++ = *s;
  }
  *o = '\0';
  return out;
}

/* n certificates, g_pem[0] and g_pem[1] alternating; malloc'd. */
static char *repeated_chain(int n) {
  size_t l0 = strlen(g_pem[0]), l1 = strlen(g_pem[1]), len = 0;
  char *out = malloc((size_t)n * (l0 > l1 ? l0 : l1) + 1);
  for (int i = 0; out && i < n; i++) {
    memcpy(out + len, g_pem[i % 2], i % 2 ? l1 : l0);
    len += i % 2 ? l1 : l0;
  }
  if (out) out[len] = '\0';
  return out;
}

/* A chain of ACMEH_PEM_CHAIN_MAX certificates parses; one more (or 5000,
 * which cost 17 s of CPU in chain verification) is refused naming the cap. */
static void test_chain_length_capped(void) {
  char err[256] = "";
  char *ok = repeated_chain(100), *over = repeated_chain(101), *huge = repeated_chain(5000);
  CU_ASSERT_FATAL(ok && over && huge);
  CU_ASSERT_EQUAL(chain_count(ok, err, sizeof err), 100);
  expect_chain_reject(over, "more than 100 certificates");
  expect_chain_reject(huge, "more than 100 certificates");
  free(ok), free(over), free(huge);
}

static void test_chain_accepts(void) {
  char buf[16384], err[256] = "";
  snprintf(buf, sizeof(buf), "%s%s", g_pem[0], g_pem[1]);
  CU_ASSERT_EQUAL(chain_count(buf, err, sizeof(err)), 2);
  /* Blank lines between blocks are line breaks, which the rule allows. */
  snprintf(buf, sizeof(buf), "%s\n%s", g_pem[0], g_pem[1]);
  CU_ASSERT_EQUAL(chain_count(buf, err, sizeof(err)), 2);
  char *c = crlf(buf);
  CU_ASSERT_EQUAL(chain_count(c, err, sizeof(err)), 2);
  free(c);
  /* No final line break after the last END line. */
  snprintf(buf, sizeof(buf), "%s%s", g_pem[0], g_pem[1]);
  buf[strlen(buf) - 1] = '\0';
  CU_ASSERT_EQUAL(chain_count(buf, err, sizeof(err)), 2);
}

static void test_chain_rejects(void) {
  char buf[16384];
  /* A private key block in the chain. */
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
  char *kp = NULL;
  long kl = BIO_get_mem_data(bio, &kp);
  snprintf(buf, sizeof(buf), "%s%.*s", g_pem[0], (int)kl, kp);
  expect_chain_reject(buf, "block 2 is BEGIN PRIVATE KEY, not CERTIFICATE");
  BIO_free(bio);
  EVP_PKEY_free(k);

  snprintf(buf, sizeof(buf), "%sIssuer: CN=Example\n%s", g_pem[0], g_pem[1]);
  expect_chain_reject(buf, "text outside PEM blocks");
  snprintf(buf, sizeof(buf), "explanatory text\n%s", g_pem[0]);
  expect_chain_reject(buf, "text outside PEM blocks");
  snprintf(buf, sizeof(buf), "%s %s", g_pem[0], g_pem[1]);
  expect_chain_reject(buf, "text outside PEM blocks");
  expect_chain_reject("", "no CERTIFICATE blocks");
  expect_chain_reject("\n\n", "no CERTIFICATE blocks");

  /* Damage inside a block. */
  char *p = strdup(g_pem[0]);
  char *end = strstr(p, "-----END CERTIFICATE-----");
  snprintf(buf, sizeof(buf), "%.*s-----END X509 CRL-----\n", (int)(end - p), p);
  expect_chain_reject(buf, "END line does not match");
  snprintf(buf, sizeof(buf), "%s", p);
  buf[strlen(buf) - 1] = ' '; /* trailing space after END */
  expect_chain_reject(buf, "text after END line");
  char *line2 = strchr(p, '\n') + 1;
  line2[10] = '*';
  expect_chain_reject(p, "non-base64");
  free(p);
  /* Lax 76-column lines are not the strict encoding. */
  p = strdup(g_pem[0]);
  char *first = strchr(p, '\n') + 1;
  first[64] = 'A'; /* join line 1 and 2 */
  expect_chain_reject(p, "bad length");
  free(p);
}

/* ---- tls-alpn-01 certificate --------------------------------------------- */

/* Asserts the cert carries the critical acmeIdentifier 04 20 <digest>. */
static void expect_acme_identifier(X509 *cert) {
  ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  ASN1_OBJECT *old = OBJ_txt2obj("1.3.6.1.5.5.7.1.30.1", 1);
  int idx = X509_get_ext_by_OBJ(cert, oid, -1);
  CU_ASSERT_FATAL(idx >= 0);
  CU_ASSERT_EQUAL(X509_get_ext_by_OBJ(cert, oid, idx), -1); /* exactly one */
  CU_ASSERT_EQUAL(X509_get_ext_by_OBJ(cert, old, -1), -1);  /* no pre-RFC OID */
  X509_EXTENSION *ext = X509_get_ext(cert, idx);
  CU_ASSERT_EQUAL(X509_EXTENSION_get_critical(ext), 1);
  ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
  const unsigned char *d = ASN1_STRING_get0_data(v);
  CU_ASSERT_EQUAL_FATAL(ASN1_STRING_length(v), 34);
  CU_ASSERT(d[0] == 0x04 && d[1] == 0x20);
  CU_ASSERT(memcmp(d + 2, KEYAUTH_SHA256, 32) == 0);
  /* Same bytes as the standalone extension DER. */
  unsigned char want[51], *got = NULL;
  CU_ASSERT_EQUAL(acmeh_tlsalpn01_extension_der(KEYAUTH, want), ACMEH_OK);
  int n = i2d_X509_EXTENSION(ext, &got);
  CU_ASSERT(n == 51 && memcmp(got, want, 51) == 0);
  OPENSSL_free(got);
  ASN1_OBJECT_free(oid);
  ASN1_OBJECT_free(old);
}

static void tlsalpn_for(const char *name, const char *want_san) {
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  CU_ASSERT_EQUAL_FATAL(acmeh_tlsalpn01_cert(name, KEYAUTH, &key, &cert), ACMEH_OK);
  char **names = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL(acmeh_cert_sans(cert, &names, &n), ACMEH_OK);
  expect_names(names, n, &want_san, 1);
  acmeh_names_free(names, n);
  expect_acme_identifier(cert);
  CU_ASSERT_EQUAL(X509_verify(cert, key), 1); /* self-signed */
  CU_ASSERT_EQUAL(X509_check_private_key(cert, key), 1);
  CU_ASSERT_EQUAL(X509_get_version(cert), X509_VERSION_3);
  /* Round trip through base64url DER. */
  char *b64 = acmeh_cert_b64url_der(cert);
  unsigned char *der = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(acmeh_b64url_decode(b64, strlen(b64), &der, &len), ACMEH_OK);
  const unsigned char *p = der;
  X509 *back = d2i_X509(NULL, &p, (long)len);
  CU_ASSERT(back && X509_cmp(back, cert) == 0);
  X509_free(back);
  free(der);
  free(b64);
  X509_free(cert);
  EVP_PKEY_free(key);
}

static void test_tlsalpn01_cert(void) {
  tlsalpn_for("example.com", "example.com");
  tlsalpn_for("192.0.2.1", "192.0.2.1");
  tlsalpn_for("2001:db8::1", "2001:db8::1");
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  CU_ASSERT_EQUAL(acmeh_tlsalpn01_cert("", KEYAUTH, &key, &cert), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_tlsalpn01_cert("example.com", NULL, &key, &cert), ACMEH_INVALID_ARG);
}

/* A certificate without a SAN gives n == 0. */
static void test_no_san(void) {
  X509 *cert = X509_new();
  char **names = (char **)1;
  size_t n = 99;
  CU_ASSERT_EQUAL(acmeh_cert_sans(cert, &names, &n), ACMEH_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_PTR_NULL(names);
  X509_free(cert);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"CSR carries exactly the names", test_csr_names},
      {"CSR with one IP name", test_csr_ip_only},
      {"CSR parse rejects", test_csr_parse_rejects},
      {"PEM chain accepts 2 certs", test_chain_accepts},
      {"PEM chain rejects", test_chain_rejects},
      {"PEM chain longer than 100 certificates refused", test_chain_length_capped},
      {"tls-alpn-01 certificate", test_tlsalpn01_cert},
      {"certificate without SAN", test_no_san},
  };
  return acmeh_unit_run("acme_cert", suite_init, suite_clean, tests, ACMEH_UNIT_COUNT(tests));
}
