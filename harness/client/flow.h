/* Reference client flows on top of the request engine: accounts (RFC 8555
 * §7.3), orders and authorizations (§7.4, §7.5), challenge publication through
 * a publisher (§8.3, §8.4, RFC 8737), polling (§7.5.1, §8.2), finalize and
 * download (§7.4, §7.4.2), revocation (§7.6). */
#ifndef ACMEH_CLIENT_FLOW_H
#define ACMEH_CLIENT_FLOW_H

#include <openssl/evp.h>

#include "harness/client/acme.h"
#include "harness/client/publish.h"

/* Creates an account with a fresh key of type kt. `payload` is the newAccount
 * JSON (NULL = {"termsOfServiceAgreed":true}). On 201/200 with Location the
 * engine's account is set. *resp is filled when resp != NULL.
 * Returns ACMEH_OK, a PEER code with the reason in err, ACMEH_INTERNAL. */
int acmeh_flow_new_account(acmeh_acme *c, acmeh_keytype kt, const char *payload,
                           acmeh_http_resp *resp, char *err, size_t errlen);

/* The same with an External Account Binding (RFC 8555 §7.3.4) added to the
 * payload when eab_kid and eab_key_b64url (the CA's HMAC key, base64url) are
 * both set: HS256 over the new account's public JWK, protected header
 * {alg, kid, url = newAccount URL}, no nonce. Same returns, plus
 * ACMEH_INVALID_ARG when the payload is no JSON object or the key is not base64url. */
int acmeh_flow_new_account_eab(acmeh_acme *c, acmeh_keytype kt, const char *payload, const char *eab_kid,
                               const char *eab_key_b64url, acmeh_http_resp *resp, char *err, size_t errlen);

/* The externalAccountBinding object (a flattened JWS, new reference) binding
 * `account_key`'s public JWK as payload, MACed with HS256 under mac_key
 * (mac_key_len bytes), header kid and url as given. Checks pass a different
 * key, URL or MAC key to build deliberately wrong bindings. NULL on failure. */
json_t *acmeh_flow_eab_binding(const acmeh_key *account_key, const char *url, const char *kid,
                               const unsigned char *mac_key, size_t mac_key_len);

/* Orders `n` names (address literals as "ip" identifiers, RFC 8738 §3, others
 * "dns"). On 201 stores the order URL (malloc'd) in *order_url
 * and the order object (new reference) in *order. Returns ACMEH_OK or a PEER code. */
int acmeh_flow_new_order(acmeh_acme *c, const char *const *names, size_t n, char **order_url,
                         json_t **order, char *err, size_t errlen);

/* Polls `url` by POST-as-GET until its "status" is none of the `n_waiting`
 * statuses in `waiting` (e.g. {"pending","processing"}). Honours Retry-After
 * but waits at least 250 ms between polls (a floor against "Retry-After: 0"
 * busy loops) and never past the check deadline: a wait that would pass it
 * ends the poll with ACMEH_DEADLINE, naming the server's Retry-After; without
 * Retry-After it starts at 10 ms and doubles up to 1 s. Each Retry-After
 * wait is noted in the transcript. *obj receives the last object (new reference).
 * Returns ACMEH_OK, a PEER code, or ACMEH_DEADLINE. */
int acmeh_flow_poll(acmeh_acme *c, const char *url, const char *const *waiting, size_t n_waiting,
                    json_t **obj, char *err, size_t errlen);

/* Publishes the response to challenge `chal` for `name` (the authorization's
 * identifier: the base name, or "*.<base>" to say the authorization is a
 * wildcard one, which moves dns-account-01's scoped name) through `pub`, as the row of its
 * type in the challenge-type table says (harness/client/chaltype.h: http-01,
 * dns-01, tls-alpn-01, dns-account-01). Returns ACMEH_OK, ACMEH_UNSUPPORTED
 * for a type the reference client does not answer, ACMEH_PEER_PROTOCOL for a
 * challenge without token or type, or the publisher's error (reason in err). */
int acmeh_flow_publish(acmeh_acme *c, const acmeh_publisher *pub, const json_t *chal, const char *name,
                       char *err, size_t errlen);
/* Removes what acmeh_flow_publish published (best effort). */
void acmeh_flow_unpublish(acmeh_acme *c, const acmeh_publisher *pub, const json_t *chal, const char *name);

/* The challenge object of `type` in an authorization (borrowed), NULL if none. */
const json_t *acmeh_flow_find_challenge(const json_t *authz, const char *type);

/* Brings the authorization at `authz_url` to "valid" with challenge `type`:
 * publish, POST {} to the challenge URL, poll the authorization, unpublish.
 * *final_authz receives the last authorization (new reference; may be NULL).
 * Returns ACMEH_OK when valid, a PEER code otherwise (reason in err). */
int acmeh_flow_authorize(acmeh_acme *c, const acmeh_publisher *pub, const char *authz_url, const char *type,
                         json_t **final_authz, char *err, size_t errlen);

/* Everything a full issuance produced. Free with acmeh_issued_clear. */
typedef struct {
  char *order_url;
  json_t *order;       /* last order object */
  char *cert_url;
  char *chain_pem;     /* downloaded body */
  EVP_PKEY *cert_key;  /* the certificate's key */
  char **names;
  size_t nnames;
} acmeh_issued;
void acmeh_issued_clear(acmeh_issued *is);

/* Orders `names`, authorizes each authorization with `type`, finalizes with a
 * fresh P-256 CSR key, polls to valid and downloads the chain.
 * Returns ACMEH_OK or the first failure (reason in err). */
int acmeh_flow_issue(acmeh_acme *c, const acmeh_publisher *pub, const char *const *names, size_t n,
                     const char *type, acmeh_issued *out, char *err, size_t errlen);

/* Orders and authorizes only, leaving the order "ready". Same returns. */
int acmeh_flow_ready_order(acmeh_acme *c, const acmeh_publisher *pub, const char *const *names, size_t n,
                           const char *type, acmeh_issued *out, char *err, size_t errlen);

/* Finalizes a ready order with a CSR (base64url DER; NULL = the payload {},
 * no CSR, as draft-geng-acme-public-key allows for a key identifier's order)
 * and polls to a final state; on "valid" downloads the chain into out. */
int acmeh_flow_finalize(acmeh_acme *c, acmeh_issued *out, const char *csr_b64, char *err,
                        size_t errlen);

#endif
