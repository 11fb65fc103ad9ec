/* device-attest-01 with the `tpm` format through the reference server
 * (harness/server/devattest.c), started in-process: a statement from a real
 * software TPM (mocks/attestation/swtpm.h), its AK certified by the mocks'
 * test attestation root the server trusts, validates the challenge; one
 * over another key authorization or signed by another AK leaves it invalid
 * with badAttestationStatement. Where swtpm or tpm2-tools is missing every
 * tpm test prints the skip reason and checks nothing else; the reference
 * client's device-attest-01 row is tested either way. */
#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/challenge.h"
#include "harness/client/acme.h"
#include "harness/client/flow.h"
#include "harness/runner/catalog.h"
#include "harness/server/server.h"
#include "mocks/attestation/swtpm.h"
#include "tests/unit/support/server_client.h"
#include "tests/unit/support/tmpdir.h"
#include "tests/unit/support/unit_main.h"

static acmeh_server *S;
static acmeh_att_ca *CA;
static char RUN_DIR[] = "/tmp/acmeh-test-server-tpm-XXXXXX";
static char ERR[1024];
static int MISSING, SEQ;

static int suite_init(void) {
  if (!mkdtemp(RUN_DIR)) return -1;
  if (system("command -v swtpm >/dev/null && command -v tpm2_certifycreation >/dev/null") != 0)
    MISSING = 1, fprintf(stderr, "\nSKIP (the tpm tests): swtpm or tpm2-tools is not installed\n");
  char cert[4096], key[4096];
  snprintf(cert, sizeof cert, "%s/vectors/deviceattest/attestation-root.pem", acmeh_data_dir());
  snprintf(key, sizeof key, "%s/vectors/deviceattest/attestation-root-key.pem", acmeh_data_dir());
  if (acmeh_att_ca_load(cert, key, &CA)) return fprintf(stderr, "cannot load %s\n", cert), -1;
  acmeh_server_config sc = {.run_dir = RUN_DIR};
  if (acmeh_server_start(&sc, &S, ERR, sizeof ERR)) return fprintf(stderr, "server: %s\n", ERR), -1;
  return 0;
}

static int suite_clean(void) {
  if (S) acmeh_server_stop(S);
  acmeh_att_ca_free(CA);
  return acmeh_test_rmtree(RUN_DIR) ? 1 : 0;
}

/* An order for a fresh permanent-identifier, answered with a TPM statement
 * over `tbs` (NULL = the key authorization), by the AK (other_ak = 0) or
 * not; the final challenge into *ch. */
static void attest(const char *tbs, int other_ak, json_t **ch) {
  acmeh_acme *c = acmeh_test_account(S);
  char id[64], dir[128], body[256], tp[44];
  snprintf(id, sizeof id, "TPM%d-%d/1.3.6.1.4.1.45724.2", (int)getpid(), SEQ);
  snprintf(dir, sizeof dir, "%s/tpm-%d", RUN_DIR, SEQ++);
  snprintf(body, sizeof body, "{\"identifiers\":[{\"type\":\"permanent-identifier\",\"value\":\"%s\"}]}", id);
  acmeh_http_resp r = {0};
  CU_ASSERT_FATAL(c && acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), body, NULL, &r, ERR, sizeof ERR) == ACMEH_OK);
  CU_ASSERT_FATAL(r.status == 201);
  json_t *order = acmeh_resp_json(&r), *authz = NULL;
  acmeh_http_resp_free(&r);
  const char *az = json_string_value(json_array_get(json_object_get(order, "authorizations"), 0));
  CU_ASSERT_FATAL(az && acmeh_acme_get_json(c, az, &authz, NULL, ERR, sizeof ERR) == ACMEH_OK);
  const json_t *chal = acmeh_flow_find_challenge(authz, "device-attest-01");
  CU_ASSERT_FATAL(chal != NULL && acmeh_acme_thumbprint(c, tp) == ACMEH_OK);
  char *ka = acmeh_key_authorization(json_string_value(json_object_get(chal, "token")), tp);
  const char *what = tbs ? tbs : ka;
  acmeh_att_tpm_in in = {dir, ACMEH_DEVID_PERMANENT, id, (const unsigned char *)what, strlen(what), other_ak};
  unsigned char *obj = NULL;
  size_t n = 0;
  EVP_PKEY *key = NULL;
  int rc = acmeh_att_tpm(CA, &in, &obj, &n, &key, ERR, sizeof ERR);
  if (rc) fprintf(stderr, "\n  %s\n", ERR);
  CU_ASSERT_FATAL(rc == ACMEH_OK);
  char *b64 = acmeh_b64url_encode(obj, n), *payload = NULL;
  CU_ASSERT_FATAL(asprintf(&payload, "{\"attObj\":\"%s\"}", b64) > 0);
  CU_ASSERT(acmeh_acme_post(c, json_string_value(json_object_get(chal, "url")), payload, NULL, &r, ERR, sizeof ERR) == ACMEH_OK);
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  json_t *final = NULL;
  CU_ASSERT(acmeh_flow_poll(c, az, waiting, 2, &final, ERR, sizeof ERR) == ACMEH_OK);
  *ch = json_incref((json_t *)acmeh_flow_find_challenge(final, "device-attest-01"));
  json_decref(final), json_decref(order), json_decref(authz);
  free(b64), free(payload), free(obj), free(ka);
  EVP_PKEY_free(key);
  acmeh_acme_free(c);
}

static void expect_invalid(const json_t *ch, const char *detail_part) {
  const json_t *e = json_object_get(ch, "error");
  const char *st = json_string_value(json_object_get(ch, "status")), *type = json_string_value(json_object_get(e, "type")),
             *detail = json_string_value(json_object_get(e, "detail"));
  int ok = st && strcmp(st, "invalid") == 0 && type && strcmp(type, "urn:ietf:params:acme:error:badAttestationStatement") == 0 &&
           detail && strstr(detail, detail_part);
  if (!ok) fprintf(stderr, "\n  got %s %s %s, wanted \"%s\"\n", st ? st : "?", type ? type : "?", detail ? detail : "?", detail_part);
  CU_ASSERT(ok);
}

static void test_genuine(void) {
  if (MISSING) return;
  json_t *ch = NULL;
  attest(NULL, 0, &ch);
  const char *st = json_string_value(json_object_get(ch, "status"));
  if (!st || strcmp(st, "valid") != 0) {
    char *e = json_dumps(ch, JSON_COMPACT);
    fprintf(stderr, "\n  %s\n", e ? e : "?");
    free(e);
  }
  CU_ASSERT(st && strcmp(st, "valid") == 0);
  json_decref(ch);
}

static void test_changed_nonce(void) {
  if (MISSING) return;
  json_t *ch = NULL;
  attest("otherToken.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", 0, &ch);
  expect_invalid(ch, "extraData is not SHA-256 of the key authorization");
  json_decref(ch);
}

static void test_other_ak(void) {
  if (MISSING) return;
  json_t *ch = NULL;
  attest(NULL, 1, &ch);
  expect_invalid(ch, "attestation signature does not verify");
  json_decref(ch);
}

/* The reference client's device-attest-01 row (harness/client/chaltype.c):
 * acmeh_flow_authorize answers with a packed attObj and the authorization
 * becomes valid; needs no TPM. */
static void test_reference_client_row(void) {
  acmeh_acme *c = acmeh_test_account(S);
  char body[256], id[64];
  snprintf(id, sizeof id, "HSM%d/1.3.6.1.4.1.45724.1.1.4", (int)getpid());
  snprintf(body, sizeof body, "{\"identifiers\":[{\"type\":\"hardware-module\",\"value\":\"%s\"}]}", id);
  acmeh_http_resp r = {0};
  CU_ASSERT_FATAL(c && acmeh_acme_post(c, acmeh_acme_dir_url(c, "newOrder"), body, NULL, &r, ERR, sizeof ERR) == ACMEH_OK);
  json_t *order = acmeh_resp_json(&r), *final = NULL;
  acmeh_http_resp_free(&r);
  const char *az = json_string_value(json_array_get(json_object_get(order, "authorizations"), 0));
  int rc = az ? acmeh_flow_authorize(c, NULL, az, "device-attest-01", &final, ERR, sizeof ERR) : -1;
  if (rc) fprintf(stderr, "\n  %s\n", ERR);
  CU_ASSERT(rc == ACMEH_OK && strcmp(json_string_value(json_object_get(final, "status")), "valid") == 0);
  json_decref(order), json_decref(final);
  acmeh_acme_free(c);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const acmeh_unit_test tests[] = {
      {"genuine swtpm statement validates device-attest-01", test_genuine},
      {"statement over another key authorization refused", test_changed_nonce},
      {"statement by another AK refused", test_other_ak},
      {"reference client answers device-attest-01", test_reference_client_row},
  };
  int rc = acmeh_unit_run("reference server, tpm format", suite_init, suite_clean, tests, sizeof tests / sizeof *tests);
  curl_global_cleanup();
  return rc;
}
