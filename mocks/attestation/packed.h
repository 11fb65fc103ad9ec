/* A mock device that attests its keys: its own attestation CA (an EC P-256
 * root made per run with OpenSSL) and WebAuthn-style attestation objects in
 * the `packed` format (WebAuthn Level 2 §8.2) as draft-ietf-acme-device-attest
 * §5 uses them: attToBeSigned is the key authorization, the x5c leaf
 * certifies the device key and names the device (permanent-identifier or
 * hardware-module otherName), the CBOR comes from libcbor. Faults make the
 * statements a server under test must refuse. */
#ifndef ACMEH_MOCKS_ATTESTATION_PACKED_H
#define ACMEH_MOCKS_ATTESTATION_PACKED_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "harness/acme/devid.h"

typedef struct acmeh_att_ca acmeh_att_ca;

/* A fresh attestation root (CN `cn`, 1 day valid). Returns ACMEH_OK with
 * *out (free with acmeh_att_ca_free), or ACMEH_INTERNAL. */
int acmeh_att_ca_new(const char *cn, acmeh_att_ca **out);
/* The attestation root of PEM files cert_pem / key_pem (the run's shared
 * test root: vectors/deviceattest/attestation-root.pem and its key, which a
 * server under test is configured to trust). ACMEH_OK with *out, or
 * ACMEH_ENV_IO when a file cannot be read. */
int acmeh_att_ca_load(const char *cert_pem, const char *key_pem, acmeh_att_ca **out);
void acmeh_att_ca_free(acmeh_att_ca *ca);
/* The root certificate (borrowed). */
X509 *acmeh_att_ca_cert(const acmeh_att_ca *ca);
/* The root as PEM (malloc'd), NULL on failure. */
char *acmeh_att_ca_pem(const acmeh_att_ca *ca);

/* Ways the statement breaks (draft-ietf-acme-device-attest §5, §8). */
typedef enum {
  ACMEH_ATT_OK = 0,
  ACMEH_ATT_UNTRUSTED,   /* leaf signed by another key under the same issuer name */
  ACMEH_ATT_EXPIRED,     /* leaf's notAfter a day in the past */
  ACMEH_ATT_UNKNOWN_FMT, /* fmt "x-acmeh-unknown" */
  ACMEH_ATT_MALFORMED,   /* the CBOR cut short by one byte */
  ACMEH_ATT_BAD_SIG,     /* signature over other bytes than attToBeSigned */
} acmeh_att_fault;

typedef struct {
  EVP_PKEY *device_key;      /* the attested key (private part signs); the CSR's key */
  acmeh_devid_type id_type;  /* what the leaf names */
  const char *id_value;
  const unsigned char *tbs;  /* attToBeSigned: keyAuthorization (or token) */
  size_t tbs_len;
  int with_authdata;         /* add an "authData" (the draft: SHOULD be omitted) */
  acmeh_att_fault fault;
} acmeh_att_packed_in;

/* A certificate from ca for public key `pub` naming the device {t, value}
 * (an attestation key's certificate, e.g. a TPM AK), with the certificate
 * faults of `fault` (UNTRUSTED, EXPIRED). Caller frees; NULL on failure. */
X509 *acmeh_att_ca_certify(const acmeh_att_ca *ca, EVP_PKEY *pub, acmeh_devid_type t, const char *value, acmeh_att_fault fault);

/* The attestation object for `in`, malloc'd into *out / *outlen. Returns
 * ACMEH_OK, ACMEH_INVALID_ARG (unusable key or identifier), ACMEH_INTERNAL. */
int acmeh_att_packed(const acmeh_att_ca *ca, const acmeh_att_packed_in *in, unsigned char **out, size_t *outlen);

/* The same as base64url without padding: the "attObj" of the challenge
 * response (§5). malloc'd; NULL on failure. */
char *acmeh_att_packed_b64(const acmeh_att_ca *ca, const acmeh_att_packed_in *in);

#endif
