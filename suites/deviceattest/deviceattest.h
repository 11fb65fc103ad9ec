/* Shared pieces of the device-attest-01 suite (draft-ietf-acme-device-attest):
 * an order for a device identifier, its challenge, the mock device's
 * attestation (mocks/attestation) and finalize with a CSR of the device key. */
#ifndef ACMEH_SUITES_DEVICEATTEST_H
#define ACMEH_SUITES_DEVICEATTEST_H

#include <jansson.h>
#include <openssl/evp.h>

#include "harness/acme/devid.h"
#include "harness/client/acme.h"
#include "harness/runner/check.h"
#include "mocks/attestation/packed.h"

#define DA_TYPE "device-attest-01"

/* One check's device: account, order for one device identifier, its first
 * authorization and device-attest-01 challenge, the device key and the
 * attestation CA the server under test trusts. Zero-initialise; release with
 * da_free. */
typedef struct {
  acmeh_acme *c;
  acmeh_devid_type type;
  char value[160];
  char *order_url;
  json_t *order, *authz;
  const char *authz_url; /* borrowed from order */
  const json_t *ch;      /* borrowed from authz */
  EVP_PKEY *dev;
  acmeh_att_ca *ca;
} da_fx;

/* The revision under test: 1 for device-attest-01 (plain values, no "/OID"),
 * 9 for -09 and later. */
int da_rev(const acmeh_check_ctx *ctx);
/* A fresh value of type t for the revision under test into out. */
void da_value(acmeh_check_ctx *ctx, acmeh_devid_type t, char *out, size_t len);

/* 1 when the target's claims list device-attest-01 (the target file): then a
 * refusal of the identifiers is a failure, else a skip. */
int da_claimed(const acmeh_check_ctx *ctx);
/* The verdict on a newOrder for a conforming value that was not created:
 * fail when claimed, else skip "server does not support <type> identifiers". */
int da_refused(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *type);

/* newOrder for {type, value} (a raw identifier: no checking here) into *r;
 * the caller frees r. Returns ACMEH_OK for any answer. */
int da_new_order_raw(acmeh_check_ctx *ctx, acmeh_acme *c, const char *type, const char *value, acmeh_http_resp *r);

/* Account, order for a fresh identifier of type t, authorization, challenge;
 * skips when the server refuses the type or offers no device-attest-01. */
int da_setup(acmeh_check_ctx *ctx, da_fx *f, acmeh_devid_type t);
void da_free(da_fx *f);

/* The attObj (base64url, malloc'd) of the mock device for f: over `tbs`
 * (NULL = the key authorization of f's account) naming `attested` (NULL =
 * f's identifier), with `fault`. */
char *da_attobj(acmeh_check_ctx *ctx, da_fx *f, const char *tbs, const char *attested, acmeh_att_fault fault);

/* POSTs payload to the challenge, polls the authorization to its end; the
 * final challenge (new reference) into *ch. */
int da_respond(acmeh_check_ctx *ctx, da_fx *f, const char *payload, json_t **ch);

/* Fails unless ch ended invalid with badAttestationStatement, when `why`. */
int da_expect_bad(acmeh_check_ctx *ctx, const json_t *ch, const char *why);

/* Responds with a good attestation and waits for the order to be ready. */
int da_ready(acmeh_check_ctx *ctx, da_fx *f);

/* finalize with a CSR on key k naming `san` (a device identifier value of
 * f's type; NULL = no subjectAltName); the answer into *r. */
int da_finalize(acmeh_check_ctx *ctx, da_fx *f, EVP_PKEY *k, const char *san, acmeh_http_resp *r);

#endif
