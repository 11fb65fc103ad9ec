/* An attestation object as the reference server's device-attest-01
 * validation reads it (draft-ietf-acme-device-attest §5): the decoded
 * "attObj" bytes through acmeh_attobj_verify (acmeh_cbor_load_safe, then the
 * packed statement: x5c chain against the mocks' test root, ES256 signature
 * over a fixed key authorization, the permanent-identifier of the seeds). */
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/acme/attobj.h"
#include "harness/runner/catalog.h"

static X509 *root(void) {
  static X509 *r;
  if (!r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors/deviceattest/attestation-root.pem", acmeh_data_dir());
    FILE *f = fopen(path, "r");
    if (f) r = PEM_read_X509(f, NULL, NULL, NULL), fclose(f);
  }
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char ka[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
  X509 *r = root();
  acmeh_attobj_expect e = {&r, r ? 1 : 0, (const unsigned char *)ka, sizeof ka - 1, ACMEH_DEVID_PERMANENT,
                           "ABCDEF123456/1.2.3.4", 0};
  acmeh_attobj_result res;
  char err[256];
  (void)acmeh_attobj_verify(data, size, &e, &res, err, sizeof err);
  EVP_PKEY_free(res.key);
  return 0;
}
