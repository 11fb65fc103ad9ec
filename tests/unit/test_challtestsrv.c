/* The management API compatibility, both ways (issue 13): the challtestsrv
 * publisher (harness/client/challtestsrv.h) sends exactly what
 * pebble-challtestsrv's clients send (POST /set-txt {"host","value"},
 * /clear-txt, /add-http01 {"token","content"}, /del-http01, /add-tlsalpn01
 * {"host","content"}, /del-tlsalpn01, the request histories), and each
 * operation is judged by what the responders then serve on the wire (DNS
 * TXT, the http-01 body, the tls-alpn-01 certificate's acmeIdentifier):
 *   (a) against the harness's own mocks (their management API);
 *   (b) against the real pebble-challtestsrv of Pebble 2.10 (ci/setup unpacks
 *       it into /opt/acme-harness/pebble-2.10; $ACMEH_CHALLTESTSRV names
 *       another). Without it (b) prints why it is skipped and the program
 *       exits 77, which ctest reports as skipped, after (a) passed. */
#include "base/error.h"
#include "harness/acme/challenge.h"
#include "harness/client/challtestsrv.h"
#include "harness/client/http.h"
#include "harness/dns/update.h"
#include "harness/targets/process.h"
#include "harness/targets/target.h"
#include "mocks/mocks.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_BIN "/opt/acme-harness/pebble-2.10/usr/bin/pebble-challtestsrv"
#define KEYAUTH "tok-ABCDEFGHIJKLMNOPQRSTUV.thumb-0123456789abcdefghijklmnopqrstu"

/* One side under test: where its API and responders listen. */
typedef struct {
  const char *name;
  char mgmt[64];
  int dns, http01, tlsalpn01;
} side;

static acmeh_mocks *M;
static side OWN = {.name = "harness mocks"}, CTS = {.name = "pebble-challtestsrv"};
static acmeh_proc *CTS_PROC;
static char TMP[] = "/tmp/acmeh-test-challtestsrv-XXXXXX";
static char CTS_SKIP[300];

static int start_challtestsrv(void) {
  const char *bin = getenv("ACMEH_CHALLTESTSRV") ? getenv("ACMEH_CHALLTESTSRV") : DEFAULT_BIN;
  if (access(bin, X_OK) != 0) {
    snprintf(CTS_SKIP, sizeof CTS_SKIP, "%s is not there (run ci/setup, which unpacks Pebble 2.10)", bin);
    return 0;
  }
  int mgmt = acmeh_free_port();
  CTS.dns = acmeh_free_port(), CTS.http01 = acmeh_free_port(), CTS.tlsalpn01 = acmeh_free_port();
  char a[4][40], log[128], err[512];
  snprintf(a[0], sizeof a[0], "127.0.0.1:%d", CTS.dns), snprintf(a[1], sizeof a[1], "127.0.0.1:%d", CTS.http01);
  snprintf(a[2], sizeof a[2], "127.0.0.1:%d", CTS.tlsalpn01), snprintf(a[3], sizeof a[3], "127.0.0.1:%d", mgmt);
  snprintf(CTS.mgmt, sizeof CTS.mgmt, "http://127.0.0.1:%d", mgmt);
  snprintf(log, sizeof log, "%s/challtestsrv.log", TMP);
  const char *argv[] = {bin, "-dnsserver", a[0], "-http01", a[1], "-tlsalpn01", a[2], "-management", a[3],
                        "-https01", "", "-doh", "", NULL};
  if (acmeh_proc_start(argv, NULL, TMP, log, &CTS_PROC, err, sizeof err) ||
      acmeh_challtestsrv_wait(CTS.mgmt, 10000, err, sizeof err))
    return fprintf(stderr, "cannot start %s: %s\n", bin, err), -1;
  return 0;
}

static int init(void) {
  acmeh_mocks_config mc = {0};
  char err[256];
  if (!mkdtemp(TMP) || acmeh_mocks_start(&mc, &M, err, sizeof err)) return -1;
  snprintf(OWN.mgmt, sizeof OWN.mgmt, "http://127.0.0.1:%d", acmeh_mocks_mgmt_port(M));
  OWN.dns = acmeh_mocks_dns_port(M), OWN.http01 = acmeh_mocks_http01_port(M), OWN.tlsalpn01 = acmeh_mocks_tlsalpn01_port(M);
  return start_challtestsrv();
}

static int clean(void) {
  acmeh_proc_stop(CTS_PROC, 2000);
  acmeh_mocks_stop(M);
  return acmeh_test_rmtree(TMP);
}

/* The TXT strings served at name, '\n'-joined (caller frees; NULL on error). */
static char *txt_at(const side *s, const char *name) {
  int rcode = -1;
  char *ans = NULL, err[256];
  if (acmeh_dns_query("127.0.0.1", s->dns, name, "TXT", 3000, &rcode, &ans, err, sizeof err) != ACMEH_OK) return NULL;
  return ans;
}

/* The body served at /.well-known/acme-challenge/<token> (caller frees). */
static char *http01_body(const side *s, const char *token, long *status) {
  char url[256], err[256];
  acmeh_http *h = NULL;
  acmeh_http_config cfg = {.request_timeout_ms = 3000};
  acmeh_http_resp r = {0};
  snprintf(url, sizeof url, "http://127.0.0.1:%d/.well-known/acme-challenge/%s", s->http01, token);
  char *body = NULL;
  *status = 0;
  if (acmeh_http_new(&cfg, &h) == ACMEH_OK &&
      acmeh_http_request(h, "GET", url, NULL, NULL, 0, NULL, &r, err, sizeof err) == ACMEH_OK)
    *status = r.status, body = strdup(r.body ? r.body : "");
  acmeh_http_resp_free(&r);
  acmeh_http_free(h);
  return body;
}

/* 1 when a handshake with SNI `sni` and ALPN acme-tls/1 returns a certificate
 * whose critical acmeIdentifier extension carries SHA-256(keyauth). */
static int tlsalpn01_serves(const side *s, const char *sni, const char *keyauth) {
  static const unsigned char acme[] = "\x0a" "acme-tls/1";
  unsigned char want[51];
  int ok = 0, fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->tlsalpn01)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = SSL_new(ctx);
  SSL_set_tlsext_host_name(ssl, sni);
  SSL_set_alpn_protos(ssl, acme, sizeof acme - 1);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && SSL_set_fd(ssl, fd) && SSL_connect(ssl) == 1) {
    X509 *x = SSL_get1_peer_certificate(ssl);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1); /* id-pe-acmeIdentifier */
    int at = x && oid ? X509_get_ext_by_OBJ(x, oid, -1) : -1;
    ASN1_OBJECT_free(oid);
    X509_EXTENSION *e = at >= 0 ? X509_get_ext(x, at) : NULL;
    unsigned char *der = NULL;
    int len = e ? i2d_X509_EXTENSION(e, &der) : 0;
    ok = len == 51 && acmeh_tlsalpn01_extension_der(keyauth, want) == ACMEH_OK && memcmp(der, want, 51) == 0;
    OPENSSL_free(der);
    X509_free(x);
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  if (fd >= 0) close(fd);
  return ok;
}

/* Every publisher operation against one side, judged on the wire. */
static void publish_on(const side *s) {
  acmeh_publisher p;
  char err[512] = "";
  long status = 0;
  CU_ASSERT_EQUAL_FATAL(acmeh_publisher_challtestsrv(&p, NULL, s->mgmt), ACMEH_OK);
  /* dns-01: two values accumulate (RFC 8555 §8.4 lets several TXT coexist), clear-txt removes both */
  CU_ASSERT_EQUAL(p.set_txt(&p, "_acme-challenge.cts.example", "value-one", err, sizeof err), ACMEH_OK);
  CU_ASSERT_EQUAL(p.set_txt(&p, "_acme-challenge.cts.example", "value-two", err, sizeof err), ACMEH_OK);
  char *t = txt_at(s, "_acme-challenge.cts.example");
  CU_ASSERT(t && strstr(t, "value-one") && strstr(t, "value-two"));
  free(t);
  p.clear_txt(&p, "_acme-challenge.cts.example");
  t = txt_at(s, "_acme-challenge.cts.example");
  CU_ASSERT(t && !strstr(t, "value-one"));
  free(t);
  /* http-01 */
  CU_ASSERT_EQUAL(p.add_http01(&p, "tok-ABCDEFGHIJKLMNOPQRSTUV", KEYAUTH, err, sizeof err), ACMEH_OK);
  char *b = http01_body(s, "tok-ABCDEFGHIJKLMNOPQRSTUV", &status);
  CU_ASSERT(status == 200 && b && strcmp(b, KEYAUTH) == 0);
  free(b);
  p.del_http01(&p, "tok-ABCDEFGHIJKLMNOPQRSTUV");
  b = http01_body(s, "tok-ABCDEFGHIJKLMNOPQRSTUV", &status);
  CU_ASSERT(b && strcmp(b, KEYAUTH) != 0); /* the mocks answer 404, challtestsrv 200 with an empty body */
  free(b);
  /* history: the GET above, filed under the Host it carried */
  json_t *h = p.history(&p, "http", "127.0.0.1"), *e;
  size_t i;
  int seen = 0;
  json_array_foreach(h, i, e) seen |= json_is_string(json_object_get(e, "path")) &&
                                     strcmp(json_string_value(json_object_get(e, "path")), "/.well-known/acme-challenge/tok-ABCDEFGHIJKLMNOPQRSTUV") == 0;
  CU_ASSERT(seen);
  json_decref(h);
  /* tls-alpn-01 */
  CU_ASSERT_EQUAL(p.add_tlsalpn01(&p, "alpn.cts.example", KEYAUTH, err, sizeof err), ACMEH_OK);
  CU_ASSERT(tlsalpn01_serves(s, "alpn.cts.example", KEYAUTH));
  h = p.history(&p, "tlsalpn", "alpn.cts.example");
  CU_ASSERT(json_array_size(h) >= 1);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(json_array_get(h, 0), "alpn"), 0)), "acme-tls/1");
  json_decref(h);
  p.del_tlsalpn01(&p, "alpn.cts.example");
  CU_ASSERT(!tlsalpn01_serves(s, "alpn.cts.example", KEYAUTH));
  /* an ip identifier's tls-alpn-01 is refused as unsupported: challtestsrv cannot serve it right */
  CU_ASSERT_EQUAL(p.add_tlsalpn01(&p, "127.0.0.1", KEYAUTH, err, sizeof err), ACMEH_UNSUPPORTED);
  acmeh_publisher_challtestsrv_free(&p);
}

/* challtestsrv's clients are Go programs whose field names Go's decoder
 * matches without regard to case: both spellings must work, and a body
 * challtestsrv refuses (empty value) must be refused. */
static void raw_requests_on(const side *s) {
  char err[256];
  long st = 0;
  json_t *ok = json_pack("{s:s, s:s}", "Host", "_acme-challenge.raw.example", "Value", "capitalised");
  json_t *empty = json_pack("{s:s, s:s}", "host", "_acme-challenge.raw.example", "value", "");
  json_t *clear = json_pack("{s:s}", "HOST", "_acme-challenge.raw.example");
  CU_ASSERT(acmeh_challtestsrv_post(s->mgmt, "/set-txt", ok, &st, NULL, err, sizeof err) == ACMEH_OK && st == 200);
  char *t = txt_at(s, "_acme-challenge.raw.example");
  CU_ASSERT(t && strstr(t, "capitalised"));
  free(t);
  CU_ASSERT(acmeh_challtestsrv_post(s->mgmt, "/clear-txt", clear, &st, NULL, err, sizeof err) == ACMEH_OK && st == 200);
  CU_ASSERT(acmeh_challtestsrv_post(s->mgmt, "/set-txt", empty, &st, NULL, err, sizeof err) == ACMEH_OK);
  if (s == &CTS) CU_ASSERT_EQUAL(st, 400); /* challtestsrv refuses an empty value */
  json_decref(ok), json_decref(empty), json_decref(clear);
}

static void test_own_mocks(void) { publish_on(&OWN), raw_requests_on(&OWN); }

static void test_challtestsrv(void) {
  if (CTS_SKIP[0]) {
    printf("\n  SKIP pebble-challtestsrv side: %s\n", CTS_SKIP);
    return;
  }
  publish_on(&CTS), raw_requests_on(&CTS);
}

int main(int argc, char **argv) {
  /* acmeh_proc_start re-runs this binary as the child's shim (process.h) */
  if (argc > 2 && strcmp(argv[1], ACMEH_CHILD_SHIM) == 0) return acmeh_proc_child_shim(argv + 2);
  static const acmeh_unit_test tests[] = {{"publisher and raw requests against the harness mocks", test_own_mocks},
                                          {"publisher and raw requests against pebble-challtestsrv", test_challtestsrv}};
  int rc = acmeh_unit_run("challtestsrv", init, clean, tests, ACMEH_UNIT_COUNT(tests));
  return rc == 0 && CTS_SKIP[0] ? 77 : rc;
}
