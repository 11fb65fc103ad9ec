/* The `tpm` attestation format (WebAuthn Level 2 §8.3) from a real software
 * TPM: mocks/attestation/swtpm-attest.sh starts swtpm on a UNIX socket in a
 * folder of the caller's, has tpm2-tools make an attestation key (AK) and a
 * P-256 key and certify the key's creation with qualifying data
 * SHA-256(attToBeSigned), and stops swtpm again (also on failure). This
 * module runs it and wraps the result into an attestation object whose x5c
 * is the AK's certificate from the mock attestation CA. */
#ifndef ACMEH_MOCKS_ATTESTATION_SWTPM_H
#define ACMEH_MOCKS_ATTESTATION_SWTPM_H

#include <openssl/evp.h>
#include <stddef.h>

#include "mocks/attestation/packed.h"

/* What to attest and how to break it. */
typedef struct {
  const char *dir;           /* an empty folder of the caller's (the run folder's subfolder); left with the outputs */
  acmeh_devid_type id_type;  /* what the AK certificate names */
  const char *id_value;
  const unsigned char *tbs;  /* attToBeSigned: the key authorization */
  size_t tbs_len;
  int other_ak;              /* fault: x5c certifies a second AK of the same TPM, not the one that signed */
} acmeh_att_tpm_in;

/* The attestation object (*out, *outlen, malloc'd) and the attested key
 * (*key, the TPM's P-256 key, caller frees). Returns ACMEH_OK;
 * ACMEH_ENV_MISSING_BINARY when swtpm or tpm2-tools is missing;
 * ACMEH_ENV_SPAWN / ACMEH_ENV_IO when the TPM run failed (err says which);
 * ACMEH_INTERNAL. Takes a few seconds (swtpm start, key generation). */
int acmeh_att_tpm(const acmeh_att_ca *ca, const acmeh_att_tpm_in *in, unsigned char **out, size_t *outlen, EVP_PKEY **key,
                  char *err, size_t errlen);

#endif
