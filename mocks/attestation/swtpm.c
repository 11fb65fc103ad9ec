/* A genuine TPM statement through swtpm and tpm2-tools (swtpm.h). */
#include "mocks/attestation/swtpm.h"

#include <cbor.h>
#include <openssl/pem.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/error.h"
#include "harness/acme/cbor_safe.h"
#include "harness/acme/tpmattest.h"

extern char **environ;

/* The script's exit status, or -1 when it could not be started. */
static int run_script(const char *dir, const unsigned char *tbs, size_t len) {
  unsigned char d[32];
  char qual[65], script[4096];
  EVP_Digest(tbs, len, d, NULL, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(qual + 2 * i, 3, "%02x", d[i]);
  snprintf(script, sizeof script, "%s/mocks/attestation/swtpm-attest.sh", ACMEH_SOURCE_DIR);
  char *argv[] = {"bash", script, (char *)dir, qual, NULL};
  pid_t pid;
  int st;
  if (posix_spawnp(&pid, "bash", NULL, NULL, argv, environ) != 0) return -1;
  while (waitpid(pid, &st, 0) < 0) {}
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* dir/name's bytes (malloc'd), at most 64 KiB. */
static unsigned char *slurp(const char *dir, const char *name, size_t *n) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "rb");
  unsigned char *b = f ? malloc(65536) : NULL;
  *n = b ? fread(b, 1, 65536, f) : 0;
  if (f) fclose(f);
  if (b && *n == 0) free(b), b = NULL;
  return b;
}

static EVP_PKEY *pem_key(const char *dir, const char *name) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "r");
  EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  return k;
}

static int put(cbor_item_t *map, const char *key, cbor_item_t *value) {
  cbor_item_t *k = cbor_build_string(key);
  int ok = k && value && cbor_map_add(map, (struct cbor_pair){.key = k, .value = value});
  if (k) cbor_decref(&k);
  if (value) cbor_decref(&value);
  return ok;
}

/* {fmt: "tpm", attStmt: {ver, alg, x5c: [ak cert], sig, certInfo, pubArea}} */
static int build(X509 *akc, const unsigned char *sig, size_t sl, const unsigned char *ci, size_t cl, const unsigned char *pub,
                 size_t pl, unsigned char **out, size_t *outlen) {
  unsigned char *der = NULL;
  int dl = i2d_X509(akc, &der);
  cbor_item_t *top = cbor_new_definite_map(2), *st = cbor_new_definite_map(6), *x5c = cbor_new_definite_array(1);
  cbor_item_t *c = dl > 0 ? cbor_build_bytestring(der, (size_t)dl) : NULL;
  OPENSSL_free(der);
  int ok = top && st && x5c && c && cbor_array_push(x5c, c);
  if (c) cbor_decref(&c);
  ok = ok && put(st, "ver", cbor_build_string("2.0")) && put(st, "alg", cbor_build_negint8(6)) &&
       put(st, "sig", cbor_build_bytestring(sig, sl)) && put(st, "certInfo", cbor_build_bytestring(ci, cl)) &&
       put(st, "pubArea", cbor_build_bytestring(pub, pl));
  if (ok) ok = put(st, "x5c", x5c), x5c = NULL;
  ok = ok && put(top, "fmt", cbor_build_string("tpm"));
  if (ok) ok = put(top, "attStmt", st), st = NULL; /* put takes st either way */
  int rc = ok ? acmeh_cbor_encode(top, out, outlen) : ACMEH_INTERNAL;
  if (x5c) cbor_decref(&x5c);
  if (st) cbor_decref(&st);
  if (top) cbor_decref(&top);
  return rc;
}

int acmeh_att_tpm(const acmeh_att_ca *ca, const acmeh_att_tpm_in *in, unsigned char **out, size_t *outlen, EVP_PKEY **key,
                  char *err, size_t errlen) {
  *key = NULL;
  int st = run_script(in->dir, in->tbs, in->tbs_len);
  if (st == 3) return acmeh_msg(err, errlen, ACMEH_ENV_MISSING_BINARY, "swtpm or tpm2-tools is not installed");
  if (st != 0) return acmeh_msg(err, errlen, ACMEH_ENV_SPAWN, "swtpm-attest.sh in %s exited %d", in->dir, st);
  size_t sl = 0, cl = 0, pl = 0;
  unsigned char *sig = slurp(in->dir, "sig.bin", &sl), *ci = slurp(in->dir, "attest.bin", &cl), *pub = slurp(in->dir, "key.pub", &pl);
  EVP_PKEY *ak = pem_key(in->dir, in->other_ak ? "ak2.pem" : "ak.pem");
  X509 *akc = ak ? acmeh_att_ca_certify(ca, ak, in->id_type, in->id_value, ACMEH_ATT_OK) : NULL;
  int rc = sig && ci && pub && pl > 2 && akc ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_ENV_IO, "the TPM run left no statement in %s", in->dir);
  /* key.pub is a TPM2B_PUBLIC: pubArea is what follows its 2-byte size */
  if (rc == ACMEH_OK) rc = build(akc, sig, sl, ci, cl, pub + 2, pl - 2, out, outlen);
  unsigned char extra[32];
  char why[200];
  EVP_Digest(in->tbs, in->tbs_len, extra, NULL, EVP_sha256(), NULL);
  if (rc == ACMEH_OK && acmeh_tpm_check(ci, cl, pub + 2, pl - 2, extra, 32, key, why, sizeof why) != ACMEH_OK)
    rc = acmeh_msg(err, errlen, ACMEH_INTERNAL, "the TPM's own statement does not read back: %s", why);
  free(sig), free(ci), free(pub);
  EVP_PKEY_free(ak);
  X509_free(akc);
  return rc;
}
