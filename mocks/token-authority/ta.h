/* A mock Token Authority (RFC 9447 §5, RFC 9448 §5.5) on loopback: HTTPS,
 * its own per-run signing chain, issuing `atc` Authority Tokens for
 * TNAuthList and JWTClaimConstraints values, with named faults, and a plain
 * HTTP management API. Its own libuv loop on its own thread; every function
 * below is thread-safe.
 *
 * Token acquisition (RFC 9447 §5.1 / RFC 9448 §5.5; the RFCs leave the
 * client's authentication open, so this API is ours, documented in
 * README.md "Mock token authority"):
 *   POST /at/account/<id>/token    Authorization: Bearer <secret>
 *   Content-Type: application/json
 *   body {"atc": {"tktype", "tkvalue", "fingerprint", "ca"?}} (RFC 9447) or
 *        the unwrapped object (RFC 9448)
 *   200 {"token": "<atc JWS>"}; 403 bad credentials, unknown account, or a
 *   value the account is not entitled to; 400 malformed request or value.
 *   GET /cert      the signing certificate (PEM): the tokens' x5u
 * Management (HTTP, loopback): POST /add-account {"id", "secret",
 *   "tkvalues": [values] | "any": true}, POST /set-fault {"fault": name or
 *   ""}, GET /faults, GET /issued, POST /clear-issued. */
#ifndef ACMEH_MOCKS_TA_H
#define ACMEH_MOCKS_TA_H

#include <jansson.h>
#include <stddef.h>

typedef struct acmeh_ta acmeh_ta;

typedef struct {
  const char *bind_addr; /* loopback address (NULL = "127.0.0.1") */
  int port;              /* HTTPS; 0 = pick a free port */
  int mgmt_port;         /* management HTTP; 0 = pick, -1 = none */
  const char *run_dir;   /* existing folder for the PEM files (kept by the caller) */
  double lifetime_s;     /* token lifetime; 0 = 600 */
} acmeh_ta_config;

/* Makes the signing chain (a P-256 root and a signer it certifies) and the
 * TLS certificate in run_dir (ta-trust.pem = the root, the server's trust
 * anchor; ca.pem = the TLS CA for clients), binds and starts the loop thread.
 * Returns ACMEH_OK, ACMEH_INVALID_ARG (not loopback, no run_dir),
 * ACMEH_ENV_PORT_IN_USE, ACMEH_ENV_IO, ACMEH_NOMEM, ACMEH_INTERNAL with err. */
int acmeh_ta_start(const acmeh_ta_config *cfg, acmeh_ta **out, char *err, size_t errlen);

/* Stops the loop, joins the thread, frees ta. NULL is a no-op. */
void acmeh_ta_stop(acmeh_ta *ta);

/* "https://127.0.0.1:<port>" (borrowed, lives with ta). */
const char *acmeh_ta_url(const acmeh_ta *ta);
int acmeh_ta_mgmt_port(const acmeh_ta *ta);
/* PEM files in run_dir (borrowed): the token trust anchor, the TLS CA. */
const char *acmeh_ta_trust_file(const acmeh_ta *ta);
const char *acmeh_ta_tls_ca_file(const acmeh_ta *ta);

/* Adds or replaces account `id` with `secret`, entitled to the identifier
 * values in `tkvalues` (array of strings; borrowed) or to any well-formed
 * value when any = 1. Returns ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_ta_add_account(acmeh_ta *ta, const char *id, const char *secret, const json_t *tkvalues, int any);

/* The fault applied to every token issued from now on ("" or NULL = none);
 * names in acmeh_ta_faults. Returns ACMEH_OK or ACMEH_INVALID_ARG. */
int acmeh_ta_set_fault(acmeh_ta *ta, const char *fault);

/* NULL-terminated list of fault names with their one-line meaning, as
 * pairs: {name, meaning, name, meaning, ..., NULL}. */
const char *const *acmeh_ta_faults(void);

/* Tokens issued, oldest first (at most 1000): a new array of
 * {"account","jti","tktype","tkvalue","ca","exp","fault","token"}; caller decrefs. */
json_t *acmeh_ta_issued(acmeh_ta *ta);
void acmeh_ta_clear_issued(acmeh_ta *ta);

#endif
