/* ACME Authority Tokens: the `atc` JWT of RFC 9447 §4 / RFC 9448 §5, and the
 * DER values it authorizes: TNAuthList (RFC 8226 §9, RFC 9448 §3),
 * JWTClaimConstraints (RFC 8226 §8) and EnhancedJWTClaimConstraints
 * (RFC 9118 §3), encoded and decoded with OpenSSL ASN.1 templates.
 * Shared by the reference server (validation), the reference client
 * (acquisition), the mock token authority (issuance) and the tkauth and
 * jwtclaimcon suites. Every function is thread-safe. */
#ifndef ACMEH_ACME_ATC_H
#define ACMEH_ACME_ATC_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "harness/acme/jwk.h"

/* Identifier types (RFC 9448 §3; jwtclaimcon draft). The draft's spelling of
 * the Enhanced type is unverified: the harness accepts the Enhanced DER under
 * "JWTClaimConstraints" and tells the two apart by decoding (see atc_der.c). */
#define ACMEH_ATC_TNAUTHLIST "TNAuthList"
#define ACMEH_ATC_JWTCLAIMCON "JWTClaimConstraints"

/* Extension OIDs: id-pe-TNAuthList (RFC 8226 §9), id-pe-JWTClaimConstraints
 * (RFC 8226 §8), id-pe-eJWTClaimConstraints (RFC 9118 §3). */
#define ACMEH_OID_TNAUTHLIST "1.3.6.1.5.5.7.1.26"
#define ACMEH_OID_JWTCLAIMCON "1.3.6.1.5.5.7.1.27"
#define ACMEH_OID_EJWTCLAIMCON "1.3.6.1.5.5.7.1.33"

/* Caps on peer bytes: a token, its decoded header, a DER value. */
#define ACMEH_ATC_MAX_TOKEN (32 * 1024)
#define ACMEH_ATC_MAX_DER 4096
#define ACMEH_ATC_MAX_DEPTH 16 /* JSON nesting in a token's header or claims */

/* Which DER a value holds. */
typedef enum { ACMEH_DER_TNAUTHLIST, ACMEH_DER_JCC, ACMEH_DER_EJCC } acmeh_atc_der_kind;

/* Checks that der[0..len) is the DER (not merely BER: it must re-encode to
 * the same bytes) of a value of `kind`, with the RFCs' constraints:
 * TNAuthList - at least one entry, TelephoneNumber 1..15 of "0123456789#*",
 * a range's count >= 2 and start + count < 10^D for a digit-only start of D
 * digits (RFC 8226 §9); JWTClaimConstraints - mustInclude or permittedValues
 * present, lists non-empty, claim names ASCII (RFC 8226 §8, RFC 9118 §3).
 * Returns ACMEH_OK or ACMEH_PEER_PROTOCOL with the reason in why. */
int acmeh_atc_der_check(acmeh_atc_der_kind kind, const unsigned char *der, size_t len, char *why, size_t whylen);

/* The kind of a JWTClaimConstraints identifier's DER: ACMEH_DER_JCC when it
 * decodes as the plain type, else ACMEH_DER_EJCC when it decodes as the
 * Enhanced one (a mustExclude [2] only exists there); -1 when neither. */
int acmeh_atc_jcc_kind(const unsigned char *der, size_t len);

/* Builds DER from a JSON description with OpenSSL's templates (no hand-made
 * DER). TNAuthList: an array of {"spc": s} | {"one": tn} | {"range":
 * {"start": tn, "count": n}}. JWTClaimConstraints (kind JCC or EJCC):
 * {"mustInclude": [names], "permittedValues": {claim: [values]},
 * "mustExclude": [names] (EJCC only)}. The constraints above are not
 * enforced here, so negative vectors can be built. On success *der is
 * malloc'd (caller frees). Returns ACMEH_OK, ACMEH_INVALID_ARG (why), ACMEH_NOMEM. */
int acmeh_atc_der_build(acmeh_atc_der_kind kind, const json_t *desc, unsigned char **der, size_t *len, char *why,
                        size_t whylen);

/* A TNAuthList with one ServiceProviderCode entry `spc` appended (the mock
 * token authority's widened-tkvalue fault). *out malloc'd. Returns ACMEH_OK,
 * ACMEH_INVALID_ARG (der is not a TNAuthList), ACMEH_NOMEM. */
int acmeh_atc_tn_add_spc(const unsigned char *der, size_t len, const char *spc, unsigned char **out, size_t *outlen);

/* An identifier value (RFC 9448 §3): unpadded base64url of the DER. Returns a
 * malloc'd string or NULL. */
char *acmeh_atc_value(const unsigned char *der, size_t len);

/* Decodes an identifier value strictly (base64url alphabet, no padding, at
 * most ACMEH_ATC_MAX_DER bytes) into *der (malloc'd). Returns ACMEH_OK or
 * ACMEH_PEER_PROTOCOL with why. */
int acmeh_atc_value_decode(const char *value, unsigned char **der, size_t *len, char *why, size_t whylen);

/* The `fingerprint` of an account key (RFC 9448 §5.4: the RFC 7638 SHA-256
 * thumbprint, printed as the RFCs' examples do: "SHA256 " and upper-case
 * colon-separated hex) from its base64url thumbprint. out has 103 bytes.
 * Returns ACMEH_OK or ACMEH_INVALID_ARG. */
#define ACMEH_ATC_FP_LEN 103
int acmeh_atc_fingerprint(const char *thumb_b64, char out[ACMEH_ATC_FP_LEN]);

/* Signs `claims` as a compact JWS (RFC 7515 §7.1) with header {"alg", "typ":
 * "JWT"} plus "x5u": x5u (when not NULL) or "x5c": the DER base64 of chain
 * (when not NULL and x5u is NULL). flip_sig flips a bit of the signature (the
 * mock's bad-signature fault). *out is malloc'd. Returns ACMEH_OK,
 * ACMEH_INVALID_ARG, ACMEH_NOMEM, ACMEH_INTERNAL. */
int acmeh_atc_sign(const acmeh_key *key, const char *x5u, STACK_OF(X509) *chain, const json_t *claims, int flip_sig,
                   char **out);

/* A token split and decoded (no signature checked). */
typedef struct {
  json_t *header, *claims;  /* owned */
  char *signing_input;      /* header "." payload as received, owned */
  unsigned char *sig;       /* owned */
  size_t sig_len;
} acmeh_atc_token;

/* Splits a compact JWS of at most ACMEH_ATC_MAX_TOKEN bytes: three base64url
 * parts, header and payload JSON objects nested at most ACMEH_ATC_MAX_DEPTH
 * deep, header alg not "none". Returns ACMEH_OK or ACMEH_PEER_PROTOCOL with
 * why; free with acmeh_atc_token_free either way. */
int acmeh_atc_token_parse(const char *compact, acmeh_atc_token *t, char *why, size_t whylen);
void acmeh_atc_token_free(acmeh_atc_token *t);

/* What a server expects of a token (RFC 9448 §6). */
typedef struct {
  const char *tktype;       /* "TNAuthList" or "JWTClaimConstraints" */
  const char *tkvalue;      /* the authorization's identifier value */
  const char *thumb;        /* the responding account's RFC 7638 thumbprint */
  const char *trust_file;   /* PEM file of trusted token-authority roots */
  const char *x5u_ca_file;  /* TLS trust for fetching x5u (NULL = the system's) */
  double now;               /* wall seconds */
  unsigned x5u_timeout_ms;  /* whole fetch of the x5u certificate; 0 = 5000 */
  int allow_http_x5u;       /* 0: x5u must be https (§6 step 2) */
  unsigned skip;            /* ACMEH_ATC_SKIP_* steps left out: the reference server's deliberate
                             * deviations, so the harness's tests have a server that breaks a rule */
} acmeh_atc_expect;

#define ACMEH_ATC_SKIP_CHAIN 1u       /* steps 2-3: any certificate is trusted */
#define ACMEH_ATC_SKIP_SIG 2u         /* step 4 */
#define ACMEH_ATC_SKIP_TKTYPE 4u      /* step 5 */
#define ACMEH_ATC_SKIP_TKVALUE 8u     /* step 6 */
#define ACMEH_ATC_SKIP_EXP 16u        /* step 7 */
#define ACMEH_ATC_SKIP_FINGERPRINT 32u /* step 8 */

/* What a valid token said, for later steps (jti replay, ca at finalize). */
typedef struct acmeh_atc_result_s {
  char jti[128];
  double exp;
  int ca;
} acmeh_atc_result;

/* RFC 9448 §6 steps 1-8 in order: atc members, x5u (https, fetched within
 * the timeout, at most 64 KiB) or x5c, the certificate chaining to
 * trust_file, the signature, tktype, tkvalue, exp and jti present and exp in
 * the future, fingerprint. Step 9 (ca) needs the CSR: the caller compares
 * res->ca. Blocking (fetches x5u with libcurl). Returns ACMEH_OK, or
 * ACMEH_PEER_PROTOCOL with why starting with the step ("step 4: ..."). */
int acmeh_atc_validate(const char *compact, const acmeh_atc_expect *e, acmeh_atc_result *res, char *why,
                       size_t whylen);

/* A token request to a token authority (RFC 9447 §5.1, RFC 9448 §5.5):
 * POST <ta_url>/at/account/<account>/token with "Authorization: Bearer
 * <secret>" (the mock's scheme; NULL secret = no header) and the RFC 9448
 * body {"tktype","tkvalue","ca","fingerprint"}. */
typedef struct {
  const char *ta_url, *account, *secret;
  const char *ca_file;     /* TLS trust for the authority (NULL = system) */
  const char *tktype, *tkvalue, *fingerprint;
  int ca;
  unsigned timeout_ms;     /* whole request; 0 = 10000 */
} acmeh_atc_request;

/* Blocking. On 200 with a JSON {"token": string} *token is malloc'd.
 * Returns ACMEH_OK; ACMEH_PEER_PROTOCOL (403 and other refusals, no token:
 * why says which, with the status); ACMEH_PEER_TIMEOUT; ACMEH_PEER_CONN. */
int acmeh_atc_fetch(const acmeh_atc_request *r, char **token, char *why, size_t whylen);

#endif
