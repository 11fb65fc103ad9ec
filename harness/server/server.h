/* The reference ACME server (RFC 8555, RFC 8737 tls-alpn-01): HTTPS on a
 * loopback port, every resource of RFC 8555 §7 including pre-authorization
 * (newAuthz), key rollover and revocation, real http-01 / dns-01 /
 * tls-alpn-01 validation against a configurable DNS server and ports, and a
 * per-run CA (root + intermediate, plus a cross-signed alternate chain).
 *
 * The server runs its own libuv loop on its own thread; every function below
 * is called from the owning (main) thread. All state lives in memory, bounded
 * by the caps in the config. Time is read through base/clock.h.
 * Validations use libcurl from libuv's thread pool, so the program must have
 * called curl_global_init before acmeh_server_start (the CLI's main does). */
#ifndef ACMEH_SERVER_SERVER_H
#define ACMEH_SERVER_SERVER_H

#include <jansson.h>
#include <stddef.h>

typedef struct acmeh_server acmeh_server;

/* Called on the server's loop thread after every exchange, with a JSON
 * object the callee must not keep without json_incref and must not modify:
 *   {"seq": n (1-based, in the order answers were given: a challenge response
 *            or finalize that waits a moment for its validation or issuance may
 *            follow requests that arrived after it), "time_ms": ms since server start,
 *    "method", "url" (absolute, as the client addressed it), "path",
 *    "resource": "directory" | "newNonce" | "newAccount" | "account" | "orders" |
 *                "newOrder" | "order" | "newAuthz" | "authz" | "challenge" |
 *                "finalize" | "certificate" | "revokeCert" | "keyChange" |
 *                "renewalInfo" | "management" (POST /acmeh/...) | "unknown",
 *    "req_headers": {lower-case name: value (string; repeated headers joined by ", ")},
 *    "req_body": text (first 64 KiB; bytes outside UTF-8 escaped \xNN),
 *    "req_body_len": total bytes,
 *    "jws": {"protected": object|null, "protected_b64", "payload_b64",
 *            "payload": decoded text|null, "signature_b64",
 *            "error": why it is not a well-formed flattened JWS|null} | null (no body),
 *    "account": account URL the request was authenticated as | null,
 *    "status": HTTP status, "resp_headers": {...}, "resp_body": text (first 64 KiB),
 *    "faults": [names of the fault rules applied] }
 * It must return quickly: the server is waiting. */
typedef void (*acmeh_server_observer)(void *ud, const json_t *exchange);

/* Called on the server's loop thread when a validation ends, with a JSON
 * object as for the exchange observer (incref to keep, never modify):
 *   {"challenge": the challenge URL, "type": "http-01" | "dns-01" | ...,
 *    "identifier": the name validated (a wildcard's base name),
 *    "arrived_ms": when the challenge response that started it arrived,
 *    "started_ms", "ended_ms": when the lookup itself ran (all ms since
 *    server start, the clock of the exchanges' "time_ms"),
 *    "status": "valid" | "invalid" | "cancelled" (the server stopped first),
 *    "error": the problem document of an invalid one | null}
 * The lookup starts as the response arrives and is tried once, so it tells
 * what the client had published at that moment (RFC 8555 §8.2). */
typedef void (*acmeh_server_validation_observer)(void *ud, const json_t *validation);

/* Where the renewal window of ARI (RFC 9773 §4.2) lies. */
enum {
  /* Boulder's schedule: centred where a third of the certificate's lifetime
   * remains, min(1 day, lifetime / 12) wide on each side (a 90-day
   * certificate: days 59 to 61). */
  ACMEH_ARI_WINDOW_DEFAULT = 0,
  ACMEH_ARI_WINDOW_FROM_NOW = 1,       /* now + start_offset .. now + end_offset, at each fetch */
  ACMEH_ARI_WINDOW_FROM_NOT_BEFORE = 2 /* notBefore + start_offset .. notBefore + end_offset */
};

/* The reference server's ARI policy (all zero = ARI offered, default window,
 * Retry-After 21600, no explanationURL). A revoked certificate always gets a
 * window in the past (2 days ago to 1 day ago). The management endpoint
 * POST /acmeh/ari-window overrides it at run time (README "Reference server"). */
typedef struct {
  int off;                     /* non-zero: no "renewalInfo" in the directory, no "replaces" handling */
  int window;                  /* ACMEH_ARI_WINDOW_* */
  double start_offset, end_offset; /* seconds, for the FROM_* windows; end_offset must be larger */
  const char *explanation_url; /* "explanationURL" of every answer; NULL = none */
  unsigned retry_after;        /* Retry-After seconds; 0 = 21600 (6 h, §4.3.1) */
} acmeh_server_ari;

/* One External Account Binding key (RFC 8555 §7.3.4): the key identifier
 * the CA gave out and the HMAC key, base64url without padding (at least 16
 * bytes once decoded). */
typedef struct {
  const char *kid;
  const char *hmac_key_b64url;
} acmeh_server_eab_key;

typedef struct {
  /* Loopback literal to listen on ("127.0.0.1", "::1"); NULL = "127.0.0.1".
   * Anything else is refused: the server answers anyone who can reach it. */
  const char *bind_addr;
  /* TCP port for HTTPS; 0 = pick a free one (see acmeh_server_directory_url). */
  int port;
  /* PEM certificate chain and private key for the HTTPS listener. Both NULL =
   * the server makes a per-run CA and certificate (for localhost, 127.0.0.1,
   * ::1) in run_dir (ca.pem, server-cert.pem, server-key.pem). */
  const char *tls_cert_file;
  const char *tls_key_file;
  /* PEM that verifies tls_cert_file, reported by acmeh_server_ca_file (may be
   * NULL when the caller knows it some other way). Ignored when the server
   * makes its own certificate. */
  const char *tls_ca_file;
  /* DNS server used for every validation lookup (A, AAAA, TXT), address
   * literal and UDP/TCP port; NULL/0 = "127.0.0.1":53. */
  const char *dns_addr;
  int dns_port;
  /* Ports validations connect to (RFC 8555 §8.3 says 80, RFC 8737 §3 says
   * 443; a test deployment points them at its responders); 0 = 80 / 443. */
  int http01_port;
  int tlsalpn01_port;
  /* Existing writable folder for the CA files (issuing-roots.pem, ...);
   * required. */
  const char *run_dir;
  /* Caps on live objects; 0 = defaults (10000 accounts, 1024 orders; twice
   * as many authorizations and as many certificates as orders). Beyond them
   * the oldest finished objects are evicted first. */
  size_t max_accounts;
  size_t max_orders;
  /* Non-zero: one line per request ("POST /new-order -> 201 ...") on stderr. */
  int log_requests;
  /* A connection idle this long is closed, and a request not complete this
   * long after its first byte gets 408 (slow clients); 0 = 30000 ms. */
  unsigned idle_ms;
  /* dns-account-01 (draft-ietf-acme-dns-account-label-00): NULL or "on" =
   * offered for every dns identifier, wildcards included; "off" = not
   * offered; or the name of one deliberate deviation the harness's own tests
   * use (offered, but one rule broken): "dns01-name" (validates at
   * _acme-challenge.<name>), "label-20-bytes" (label from 20 hash bytes),
   * "any-account-label" (also accepts other accounts' labels), "any-txt"
   * (any TXT value), "wildcard-star" (queries under "*.<base>"),
   * "bare-error" (no account URL in the problem), "no-cname" (ignores TXT
   * reached through a CNAME), "short-token" (64-bit token). Others are
   * refused with ACMEH_INVALID_ARG. */
  const char *dns_account;
  /* Which revision's dns-account-01 validation name (acmeh_dnsacct_scheme,
   * harness/acme/challenge.h): 0 = draft-ietf-acme-dns-account-label's
   * "_acme-challenge", ACMEH_DNSACCT_SCOPED = draft-ietf-acme-scoped-dns-
   * challenges-00's "_acme-host-challenge" / "_acme-wildcard-challenge". */
  int dns_account_scheme;
  /* dns-persist-01 (draft-ietf-acme-dns-persist): NULL or "on" = offered for
   * every dns identifier, wildcards included, issuers "authority.example" and
   * "ca.example.net"; "off" = not offered; or one deliberate deviation for the
   * harness's own tests (harness/server/persist.c lists them). Others are
   * refused with ACMEH_INVALID_ARG. */
  const char *dns_persist;
  /* Which revision's wire format (acmeh_persist_rev, harness/acme/persist.h):
   * 0 = draft-ietf-acme-dns-persist-02, 1 = -01, 2 = draft-ietf-acme-dns-persist-00
   * and its draft-sheurich predecessors. */
  int dns_persist_rev;
  /* device-attest-01 and the permanent-identifier / hardware-module
   * identifiers (draft-ietf-acme-device-attest): NULL or "on" = offered for
   * those identifiers; "off" = the identifier types are unsupported; or one
   * deliberate deviation for the harness's own tests: "no-abnf" (takes values
   * that break the §3.1/§4.1 ABNF), "short-token" (64-bit token),
   * "any-format" (takes any fmt and any CBOR without verifying), "any-nonce"
   * (signature not checked against the key authorization), "any-identifier"
   * (attested identifier not compared), "strict-fields" (refuses a response
   * with fields besides attObj), "any-csr" (CSR names and key not compared
   * at finalize), "need-san" (refuses a CSR without the device identifier).
   * Others: ACMEH_INVALID_ARG. */
  const char *device_attest;
  /* Which revision: 0 = draft-ietf-acme-device-attest-09 (ABNF values with
   * "/OID", device-attest-01 for both types), 1 = -01 (a permanent-identifier
   * value is all identifierValue; device-attest-01 only for it). */
  int device_attest_rev;
  /* PEM file of the attestation trust anchors; NULL = the data folder's
   * vectors/deviceattest/attestation-root.pem (the mocks' test root). */
  const char *attestation_roots;
  /* .onion names (RFC 9799): NULL or "on" = v3 onion names accepted as dns
   * identifiers (v2 and bad checksums refused), onion-csr-01 offered for them
   * alone (wildcards too) and no other type, in-band CAA (onionCAA) required
   * at finalize since this server fetches no descriptors; "off" = .onion
   * names refused; or one deliberate deviation for the onion suite's tests:
   * "v2-ok", "no-checksum", "dns01-too" (dns-01 offered for onion names),
   * "everywhere" (onion-csr-01 for every dns name), "base64url-nonce",
   * "short-nonce" (32 bits), "any-key" (CSR key not compared with the
   * address), "nonce-unchecked", "short-applicant-nonce" (any length),
   * "subject-checked" (subject must be empty or CN=name), "caa-unchecked"
   * (onionCAA signature and expiry ignored), "caa-32bit" (expiry truncated
   * to 32 bits), "caa-wrong-error" (error "caa" instead of onionCAARequired),
   * "authkey-reused" (one authKey for every onion service; RFC 9799 §4 MUST NOT),
   * "no-wildcard" (onion-csr-01 not offered for "*.<address>").
   * Others are refused with ACMEH_INVALID_ARG. */
  const char *onion;
  /* The directory meta flag saying in-band CAA is required (RFC 9799
   * §6.4.1; the RFC's text says "inBandOnionCAARequired", its IANA table
   * "onionCAARequired"): "inBandOnionCAARequired", "onionCAARequired",
   * NULL or "both", or "none" (required but not advertised). */
  const char *onion_caa_flag;
  /* How http-01 and tls-alpn-01 reach .onion names (RFC 9799 §3.1.2,
   * §3.1.3: over Tor): socks5_port > 0 = a SOCKS5 proxy on 127.0.0.1 (a Tor
   * SocksPort, or the harness's mock Tor), or mock_tor = 1 to start a mock
   * Tor (mocks/socks5) that connects every onion name to 127.0.0.1 at the
   * port asked. With neither, those types are not offered for onion names
   * (only onion-csr-01). Other names never go through it (§8.4, §8.5). */
  int socks5_port;
  int mock_tor;
  /* A deliberate deviation for client tests: every http-01 challenge carries
   * this token instead of a random one, and validation fetches it as given
   * (RFC 8555 §8.3: a client MUST refuse a token that is not base64url, e.g.
   * "a/b+c="). Printable ASCII without spaces, 1-44 characters; NULL = random
   * tokens. Others are refused with ACMEH_INVALID_ARG. */
  const char *http01_token;
  /* pk-01 and the key identifiers "pk", "selfsign-cert", "csr"
   * (draft-geng-acme-public-key, harness/server/pk.c): NULL or "on" =
   * offered; "off" = key identifiers are unsupportedIdentifier; or one
   * deliberate deviation for the harness's own tests: "csr-any-key"
   * (finalize takes a CSR for another key), "any-proof" (any proof string
   * validates), "other-key" (a CSR-less finalize certifies a key of the
   * server's making), "no-challenge" (authorizations offer no pk-01). Others
   * are refused with ACMEH_INVALID_ARG. */
  const char *pk;
  /* bp-nodeid-00 (RFC 9891): offered for bundleEID identifiers when
   * bundle_node_port is set, the TCPCLv4 port of the bundle node (loopback)
   * through which the server's BP agent sends Challenge Bundles and takes
   * Response Bundles. dtn_node_id: that agent's Node ID (NULL =
   * "dtn://acme-server/"); dtn_record_type: the administrative record type
   * code (0 = 255, IANA's; 0xFFFF = the draft's placeholder); dtn_window_ms:
   * the response interval without an "rtt" (0 = 5000; with one, 2 x rtt
   * clamped to 1..60 s); dtn_deviation: one deliberate deviation for the
   * harness's own tests (harness/server/dtn.c lists them), NULL = none. */
  int bundle_node_port;
  const char *dtn_node_id;
  unsigned dtn_record_type;
  unsigned dtn_window_ms;
  const char *dtn_deviation;
  /* ARI (RFC 9773): renewalInfo and newOrder "replaces"; see acmeh_server_ari. */
  acmeh_server_ari ari;
  /* Profiles (draft-ietf-acme-profiles): an object
   *   {"<name>": {"description": "...", "validity": seconds (60 .. 398 days),
   *               "eku": "serverAuth,clientAuth" (OpenSSL syntax; default "serverAuth"),
   *               "retired": true (refused at newOrder and finalize, not advertised)}}
   * copied at start (at most 16). NULL = "classic" (90 days, serverAuth and
   * clientAuth) and "shortlived" (160 hours, serverAuth only); {} = profiles
   * off (no meta.profiles, "profile" ignored). POST /acmeh/profiles retires
   * and restores profiles at run time. */
  const json_t *profiles;
  /* Profile given to orders that name none (draft §4: RECOMMENDED); NULL =
   * "classic" when offered, else the first; "" = none. */
  const char *default_profile;
  /* External Account Binding (RFC 8555 §7.3.4): neab keys (copied at start,
   * at most 64). With eab_required, meta.externalAccountRequired is true and
   * newAccount without a binding gets externalAccountRequired; otherwise a
   * binding is optional but verified when sent. Each key binds one account
   * only (a second account with the same kid gets unauthorized). */
  const acmeh_server_eab_key *eab_keys;
  size_t neab;
  int eab_required;
  /* tkauth-01 (RFC 9447, RFC 9448, draft-ietf-acme-authority-token-jwtclaimcon):
   * TNAuthList and JWTClaimConstraints identifiers are validated by an
   * Authority Token chaining to the roots in this PEM file (the mock's
   * ta-trust.pem); NULL = no token is ever trusted. x5u is fetched trusting
   * tkauth_x5u_ca_file (NULL = the system's roots). tkauth_authority is the
   * challenges' "token-authority" (NULL = omitted, RFC 9448 §4). A reused
   * jti is refused unless tkauth_allow_jti_reuse (RFC 9447 §3.3 lets a
   * server accept it). All copied at start. */
  const char *tkauth_trust_file, *tkauth_x5u_ca_file, *tkauth_authority;
  int tkauth_allow_jti_reuse;
  /* Deliberate deviations for the harness's own tests (comma-separated;
   * NULL = none): "no-chain", "no-signature", "no-tktype", "no-tkvalue",
   * "no-exp", "no-fingerprint" (skip that RFC 9448 §6 step), "accept-any"
   * (every response is valid, token or not), "no-csr-check" (finalize ignores
   * the token extensions), "no-ca-check" (step 9), "no-exp-cap" (certificates
   * outlive the token), "lenient-der" (identifier values are not checked),
   * "no-tkauth-type" (challenges omit "tkauth-type"). Unknown names are
   * refused with ACMEH_INVALID_ARG. */
  const char *tkauth_deviations;
  /* Fault rules (harness/server/fault.h): a JSON array, copied at start; NULL = none. */
  const json_t *faults;
  /* Sees every exchange (see acmeh_server_observer); NULL = none. */
  acmeh_server_observer observer;
  void *observer_ud;
  /* Sees every validation's outcome (see acmeh_server_validation_observer); NULL = none. */
  acmeh_server_validation_observer validation_observer;
  void *validation_observer_ud;
} acmeh_server_config;

/* Makes the CA, binds the listener and starts the loop thread. On success
 * *out is the running server (stop with acmeh_server_stop); the config's
 * strings are copied. Returns ACMEH_OK, ACMEH_INVALID_ARG (bad config, e.g. a
 * non-loopback bind address or no run_dir), ACMEH_ENV_PORT_IN_USE,
 * ACMEH_ENV_IO (files, sockets), ACMEH_INTERNAL (OpenSSL), ACMEH_NOMEM, with
 * the reason in err (errlen bytes). */
int acmeh_server_start(const acmeh_server_config *cfg, acmeh_server **out, char *err,
                       size_t errlen);

/* Stops accepting, closes every connection, cancels queued validations
 * (a running one ends within its own time bounds: DNS lookups 4 s each, an
 * http-01 attempt 15 s, tls-alpn-01 5 s per connect/read), joins the loop
 * thread and frees everything. NULL is a no-op. */
void acmeh_server_stop(acmeh_server *s);

/* The directory URL, "https://<bind>:<port>/dir" (borrowed, valid until stop). */
const char *acmeh_server_directory_url(const acmeh_server *s);

/* The bound HTTPS port. */
int acmeh_server_port(const acmeh_server *s);

/* The SOCKS5 port .onion validations go through (the mock Tor's with
 * mock_tor, else socks5_port), 0 when none. */
int acmeh_server_socks5_port(const acmeh_server *s);

/* The PEM file that verifies the server's TLS certificate (borrowed; NULL
 * when the config gave a certificate without tls_ca_file). */
const char *acmeh_server_ca_file(const acmeh_server *s);

/* The PEM file holding the roots that issued certificates chain to: the
 * primary root and the alternate root whose cross-signature makes the
 * Link rel="alternate" chain (borrowed). */
const char *acmeh_server_roots_file(const acmeh_server *s);

#endif
