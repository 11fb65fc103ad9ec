/* The reference client's tkauth-01 (RFC 9447, RFC 9448 §3-§5,
 * draft-ietf-acme-authority-token-jwtclaimcon): orders for TNAuthList and
 * JWTClaimConstraints identifiers, a token from the token authority, the
 * challenge response {"tkauth": token}, the CSR with the matching extension,
 * and the check of the issued certificate's extension. Blocking; every wait
 * is bounded by the client's deadline and the token request's timeout. */
#ifndef ACMEH_CLIENT_TKAUTH_H
#define ACMEH_CLIENT_TKAUTH_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

#include "harness/acme/atc.h"
#include "harness/client/acme.h"

/* Where the client gets tokens: the token authority of the run (`run
 * --token-authority`), or the mock's management API for faults. */
typedef struct acmeh_ta_env {
  const char *url;      /* https://host:port of the token authority */
  const char *account;  /* the client's account id at the authority */
  const char *secret;   /* sent as "Authorization: Bearer <secret>" */
  const char *ca_file;  /* TLS trust for the authority (NULL = system) */
  const char *mgmt_url; /* the mock's management API (http://...), NULL = not a mock: no faults */
} acmeh_ta_env;

/* newOrder (RFC 8555 §7.4) for `identifiers`, a JSON array of {type, value}
 * sent as is. *order_url and *order are the caller's. Returns ACMEH_OK or a
 * PEER code with the reason in err. */
int acmeh_tkauth_new_order(acmeh_acme *c, const json_t *identifiers, char **order_url, json_t **order, char *err,
                           size_t errlen);

/* A token for (tktype, tkvalue) bound to c's account key (RFC 9448 §5.4
 * fingerprint), with atc.ca = ca. *token is malloc'd. Returns as acmeh_atc_fetch. */
int acmeh_tkauth_token(acmeh_acme *c, const acmeh_ta_env *ta, const char *tktype, const char *tkvalue, int ca,
                       char **token, char *err, size_t errlen);

/* Sets the mock token authority's fault through its management API ("" =
 * none). Returns ACMEH_OK, ACMEH_UNSUPPORTED (no mgmt_url: not the mock),
 * ACMEH_ENV_IO. */
int acmeh_tkauth_set_fault(const acmeh_ta_env *ta, const char *fault, char *err, size_t errlen);

/* Answers the tkauth-01 challenge of authz_url with `payload` (a JSON text;
 * NULL = {"tkauth": token}) and polls the authorization until it leaves
 * pending/processing; *final is the caller's. *answer_status is the response
 * POST's HTTP status. Returns ACMEH_OK, ACMEH_UNSUPPORTED (no tkauth-01
 * offered), or a PEER code. */
int acmeh_tkauth_respond(acmeh_acme *c, const char *authz_url, const char *token, const char *payload, json_t **final,
                         long *answer_status, char *err, size_t errlen);

/* A CSR (base64url DER) for key with one extension per token identifier of
 * `identifiers` (TNAuthList: id-pe 26; JWTClaimConstraints: id-pe 27, or 33
 * for the Enhanced DER), BasicConstraints cA = ca, an empty subject, no SAN. extra_oid/extra_der
 * (hex): one more extension (NULL = none), for negative checks. Returns
 * ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_INTERNAL. */
int acmeh_tkauth_csr(EVP_PKEY *key, const json_t *identifiers, int ca, const char *extra_oid, const char *extra_der_hex,
                     char **csr_b64, char *err, size_t errlen);

/* The reference client refuses a certificate whose token extensions differ
 * from what it ordered: the leaf of chain_pem must carry, for each token
 * identifier, exactly the ordered DER under its OID. Returns ACMEH_OK or
 * ACMEH_PEER_PROTOCOL with why. */
int acmeh_tkauth_cert_check(const char *chain_pem, const json_t *identifiers, char *why, size_t whylen);

#endif
