/* The reference ACME client engine, request level (RFC 8555 §6, §7.1, §7.2):
 * directory, nonce pool, signed requests (kid or jwk) with mutation hooks,
 * POST-as-GET, and badNonce retry. Flows (accounts, orders, issuance) build on
 * this in flow.h. One engine per check; not thread-safe. */
#ifndef ACMEH_CLIENT_ACME_H
#define ACMEH_CLIENT_ACME_H

#include <jansson.h>

#include "harness/acme/jwk.h"
#include "harness/acme/jws.h"
#include "harness/acme/schema.h"
#include "harness/client/http.h"

#define ACMEH_CT_JOSE "application/jose+json"
#define ACMEH_PROBLEM_PREFIX "urn:ietf:params:acme:error:"

typedef struct acmeh_acme acmeh_acme;

typedef struct {
  const char *directory_url;
  const char *ca_file;      /* NULL = system trust */
  acmeh_strbuf *transcript; /* borrowed; may be NULL */
  double deadline;          /* acmeh_now_mono() limit; 0 = none */
  int bad_nonce_retries;    /* badNonce retries per request; 0 = default 5 */
  const char *const *extra_headers; /* added to every request (see acmeh_http_config); borrowed */
  int verbose;
  int dnsacct_scheme;       /* acmeh_dnsacct_scheme (harness/acme/challenge.h): where dns-account-01's TXT
                               goes, per the revision under test; 0 = draft-ietf-acme-dns-account-label */
  int persist_rev;          /* acmeh_persist_rev (harness/acme/persist.h): dns-persist-01's wire format;
                               0 = draft-ietf-acme-dns-persist-02 */
  const char **failed_step; /* NULL, or where the engine writes the step (acmeh_acme_step) of the last
                               request-level operation when it was a flow step that failed through the
                               peer's fault, NULL when the last one was anything else (attribution:
                               runner.c turns such a failure of another check's step into "blocked") */
  struct acmeh_schema_log *schema_log; /* NULL, or where every ACME object received is logged against its
                                          schema (harness/acme/schema.h): the directory, accounts, orders,
                                          authorizations (and their challenges), challenges, problem
                                          documents, renewalInfo; borrowed, must outlive the engine */
  const char *schema_origin;           /* who received them in the log (the check ID); borrowed */
} acmeh_acme_config;

/* Creates an engine and fetches the directory (GET, must be a JSON object).
 * Returns ACMEH_OK, a PEER code when the directory is unusable, ACMEH_NOMEM;
 * the reason in err (errlen bytes). Free with acmeh_acme_free. */
int acmeh_acme_new(const acmeh_acme_config *cfg, acmeh_acme **out, char *err, size_t errlen);
void acmeh_acme_free(acmeh_acme *c);

/* The directory object (borrowed) and one of its URLs (borrowed; NULL if absent
 * or not a string, or when c is NULL, so callers may read them after a failed set-up). */
const json_t *acmeh_acme_dir(const acmeh_acme *c);
const char *acmeh_acme_dir_url(const acmeh_acme *c, const char *resource);
acmeh_http *acmeh_acme_http(acmeh_acme *c);

/* The deadline (acmeh_now_mono() seconds) the engine was made with; 0 = none. */
double acmeh_acme_deadline(const acmeh_acme *c);

/* Takes a nonce from the pool, or fetches one with HEAD newNonce. *nonce is
 * malloc'd, caller frees. Returns ACMEH_OK or a PEER code (no usable nonce). */
int acmeh_acme_nonce(acmeh_acme *c, char **nonce, char *err, size_t errlen);

/* Stores r's Replay-Nonce in the pool when it is valid base64url (malformed
 * values are ignored, RFC 8555 §6.5.1). */
void acmeh_acme_keep_nonce(acmeh_acme *c, const acmeh_http_resp *r);

/* The account: key (ownership passes to the engine; the old key is freed) and
 * kid (copied; NULL clears). */
void acmeh_acme_set_account(acmeh_acme *c, acmeh_key *key, const char *kid);
/* Account key and kid (borrowed); NULL when unset or when c is NULL. */
acmeh_key *acmeh_acme_key(const acmeh_acme *c);
/* RFC 7638 thumbprint of the account key (base64url, NUL-terminated, 43
 * characters) into out, computed once per key. Returns ACMEH_OK,
 * ACMEH_INVALID_ARG without an engine or key, ACMEH_INTERNAL when the key
 * cannot be hashed. */
int acmeh_acme_thumbprint(acmeh_acme *c, char out[44]);
const char *acmeh_acme_kid(const acmeh_acme *c);

/* The protocol step the engine is in, for telling which step a failed
 * set-up broke: "directory", "newNonce", "newAccount", "newOrder",
 * "authorization", "<type> challenge" (e.g. "http-01 challenge"; "challenge" for
 * other types), "ready", "finalize", "certificate" (static
 * strings; NULL before any). The flows (flow.h) set it as they go; the nonce
 * fetch sets "newNonce" only while it runs (or "directory" when the directory
 * names no newNonce). A NULL engine is at "directory" (acmeh_acme_new failed). */
const char *acmeh_acme_step(const acmeh_acme *c);
void acmeh_acme_step_set(acmeh_acme *c, const char *step);

/* Returns rc; when it is a peer fault (base/error.h class PEER), records the
 * current step into the config's failed_step. Every flow (flow.h) returns
 * through it; a plain request clears the record first. */
int acmeh_acme_step_result(acmeh_acme *c, int rc);

/* The config's dnsacct_scheme (0 for NULL). */
int acmeh_acme_dnsacct_scheme(const acmeh_acme *c);
/* The config's persist_rev (0 for NULL). */
int acmeh_acme_persist_rev(const acmeh_acme *c);

/* The private key pk-01 proves possession of (draft-geng-acme-public-key,
 * harness/acme/pk.h): the key of the order's pk / selfsign-cert / csr
 * identifier, borrowed (the caller keeps it alive while the engine answers
 * pk-01 challenges). NULL = none: pk-01 challenges then cannot be answered. */
void acmeh_acme_set_pop_key(acmeh_acme *c, const acmeh_key *k);
const acmeh_key *acmeh_acme_pop_key(const acmeh_acme *c);

/* How one signed request deviates from a correct one. Zero = correct. */
typedef struct {
  acmeh_jws_opts jws;       /* mutations; kid, use_jwk, nonce and url are filled by the engine */
  int use_jwk;              /* identify by "jwk" instead of "kid" */
  int both_jwk_and_kid;     /* put both */
  const acmeh_key *key;     /* sign with this key instead of the account key */
  int own_nonce;            /* use jws.nonce as given (NULL = no nonce member) */
  int own_url;              /* use jws.url as given (NULL = no url member) */
  int no_retry;             /* do not retry on badNonce */
  const char *content_type; /* NULL = application/jose+json; "" = no Content-Type */
  const char *raw_body;     /* send this body verbatim instead of a JWS */
} acmeh_post_opts;

/* Signs `payload` (NULL = POST-as-GET, the empty payload of §6.3) for `url`
 * and POSTs it; on 400 badNonce retries with the error's fresh nonce (§6.5).
 * Fills *resp (free with acmeh_http_resp_free). Returns ACMEH_OK for any
 * complete response (check resp->status), else as acmeh_http_request. */
int acmeh_acme_post(acmeh_acme *c, const char *url, const char *payload, const acmeh_post_opts *o,
                    acmeh_http_resp *resp, char *err, size_t errlen);

/* POST-as-GET of `url` parsed as a JSON object into *obj (new reference).
 * Returns ACMEH_OK on 200 + JSON object; a PEER code otherwise (with status and
 * problem in err). resp may be NULL when the caller does not need it. */
int acmeh_acme_get_json(acmeh_acme *c, const char *url, json_t **obj, acmeh_http_resp *resp,
                        char *err, size_t errlen);

/* The response body parsed as JSON (new reference), NULL when it is not JSON. */
json_t *acmeh_resp_json(const acmeh_http_resp *r);

/* The problem type of an error response, with the ACME prefix removed when
 * present (e.g. "badNonce"), into out; "" when the body is not a problem document. */
void acmeh_resp_problem(const acmeh_http_resp *r, char *out, size_t outlen);

/* Short human description "400 urn:...:malformed: detail" of a response, into out. */
void acmeh_resp_describe(const acmeh_http_resp *r, char *out, size_t outlen);

#endif
