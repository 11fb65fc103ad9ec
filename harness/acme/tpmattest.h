/* TPM 2.0 attestation structures (TCG TPM 2.0 Library Part 2) as the `tpm`
 * attestation statement format carries them (WebAuthn Level 2 §8.3:
 * certInfo = TPMS_ATTEST, pubArea = TPMT_PUBLIC), read with bounds checks on
 * every field: a peer's bytes. Only what device-attest-01 needs: ECC P-256
 * keys, SHA-256 names, attestations of type TPM_ST_ATTEST_CERTIFY or
 * TPM_ST_ATTEST_CREATION (what tpm2-tools 5.4 can qualify). */
#ifndef ACMEH_ACME_TPMATTEST_H
#define ACMEH_ACME_TPMATTEST_H

#include <openssl/evp.h>
#include <stddef.h>

/* Checks certInfo (cert_info[0..ci_len)) and pubArea (pub[0..pub_len)):
 * magic TPM_GENERATED_VALUE, type CERTIFY or CREATION, extraData equal to
 * extra[0..extra_len) (SHA-256 of attToBeSigned), the attested name equal to
 * nameAlg || SHA-256(pubArea); then reads pubArea's ECC P-256 point into
 * *key (caller frees). Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL with the
 * reason in err ("TPM ..."), ACMEH_NOMEM. The AK's signature over certInfo
 * is the caller's (attobj.c). */
int acmeh_tpm_check(const unsigned char *cert_info, size_t ci_len, const unsigned char *pub, size_t pub_len,
                    const unsigned char *extra, size_t extra_len, EVP_PKEY **key, char *err, size_t errlen);

#endif
