/* Internals shared by the reference server's modules. Everything here runs
 * on the server's loop thread, except validate.c's blocking validators and
 * ca.c's signing, which run on libuv's thread pool over copied inputs. */
#ifndef ACMEH_SERVER_INTERNAL_H
#define ACMEH_SERVER_INTERNAL_H

#include <jansson.h>
#include <ldns/ldns.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "harness/acme/csr.h"
#include "harness/acme/jwk.h"
#include "harness/acme/jws.h"
#include "base/strbuf.h"
#include "harness/server/server.h"
#include "base/httpsrv.h"

#define SRV_PROBLEM_NS "urn:ietf:params:acme:error:"
#define SRV_ID_CHARS 22        /* 128 random bits in base64url (RFC 8555 §10.5: unpredictable) */
#define SRV_MAX_BODY (64 * 1024) /* the largest request: a keyChange or a 4096-bit RSA CSR, a few KB */
#define SRV_MAX_IDENTIFIERS 100
#define SRV_ORDER_LIFETIME (7 * 86400.0)
#define SRV_AUTHZ_LIFETIME (30 * 86400.0) /* a valid authorization's reuse window */
#define SRV_CERT_LIFETIME (90 * 86400.0)
#define SRV_ORDERS_PAGE 50               /* orders per page of an account's list (§7.1.2.1) */

/* ---- store: tables of objects by random id, oldest first ----------------- */

/* First member of every stored object. */
typedef struct srv_entry {
  char id[SRV_ID_CHARS + 1];
  struct srv_entry *older, *newer;
} srv_entry;

typedef struct {
  void *root; /* tsearch tree of srv_entry* by id */
  srv_entry *oldest, *newest;
  size_t count;
} srv_table;

/* Fills id with a fresh random base64url id. Returns ACMEH_OK or ACMEH_INTERNAL. */
int srv_random_id(char id[SRV_ID_CHARS + 1]);
/* Adds e (its id set) as the newest entry. Returns ACMEH_OK or ACMEH_NOMEM. */
int srv_table_add(srv_table *t, srv_entry *e);
srv_entry *srv_table_find(const srv_table *t, const char *id);
void srv_table_remove(srv_table *t, srv_entry *e);

/* ---- objects (RFC 8555 §7.1.2-§7.1.6) ----------------------------------- */

typedef enum { ACCT_VALID, ACCT_DEACTIVATED } srv_acct_status;
typedef enum { AZ_PENDING, AZ_VALID, AZ_INVALID, AZ_DEACTIVATED, AZ_EXPIRED } srv_authz_status;
typedef enum { CH_PENDING, CH_PROCESSING, CH_VALID, CH_INVALID } srv_chal_status;
typedef enum { ORD_PENDING, ORD_READY, ORD_PROCESSING, ORD_VALID, ORD_INVALID } srv_order_status;
typedef enum { CHAL_HTTP01, CHAL_DNS01, CHAL_TLSALPN01, CHAL_DNSACCT01, CHAL_PERSIST01, CHAL_TKAUTH01, CHAL_PK01, CHAL_BPNODEID00,
               CHAL_DEVATTEST01, CHAL_ONIONCSR01, CHAL_COUNT } srv_chal_type;
/* pk-01 and its key identifiers (draft-geng-acme-public-key, pk.c): off, on,
 * or on with one deliberate deviation for the harness's own tests (server.h, pk). */
typedef enum { PK_OFF, PK_ON, PK_CSR_ANY_KEY, PK_ANY_PROOF, PK_OTHER_KEY, PK_NO_CHALLENGE } srv_pk_mode;
/* bp-nodeid-00 (RFC 9891): the server's BP agent and its deliberate deviations (dtn.c). */
typedef struct {
  int port;                /* bundle node TCPCL port; 0 = bp-nodeid-00 not offered */
  char node_id[256];
  unsigned record_type, window_ms;
  int deviation;           /* 0 = none, else an index into dtn.c's list */
} srv_dtn;
/* dns-account-01 (draft-ietf-acme-dns-account-label): off, on, or on with one
 * deliberate deviation for the harness's own tests (server.h, dns_account). */
typedef enum {
  DNSACCT_OFF, DNSACCT_ON, DNSACCT_DNS01_NAME, DNSACCT_LABEL_20, DNSACCT_ANY_ACCOUNT, DNSACCT_ANY_TXT,
  DNSACCT_WILDCARD_STAR, DNSACCT_BARE_ERROR, DNSACCT_NO_CNAME, DNSACCT_SHORT_TOKEN
} srv_dnsacct_mode;
/* RFC 9799 (.onion names, onion-csr-01): off, on, or on with one deliberate
 * deviation for the harness's own tests (server.h, onion; onion.c). */
typedef enum {
  ONION_OFF, ONION_ON, ONION_V2_OK, ONION_NO_CHECKSUM, ONION_DNS01_TOO, ONION_EVERYWHERE, ONION_BASE64URL_NONCE,
  ONION_SHORT_NONCE, ONION_ANY_KEY, ONION_NONCE_UNCHECKED, ONION_SHORT_APP_NONCE, ONION_SUBJECT_CHECKED,
  ONION_CAA_UNCHECKED, ONION_CAA_32BIT, ONION_CAA_WRONG_ERROR, ONION_AUTHKEY_REUSED, ONION_NO_WILDCARD, ONION_MODE_COUNT
} srv_onion_mode;

typedef struct {
  srv_entry e;
  acmeh_key *key;
  char thumb[44]; /* RFC 7638 thumbprint: the key index and keyAuthorization suffix */
  srv_acct_status status;
  json_t *contact; /* array or NULL */
  int tos_agreed;
  char **orders; /* ids of its orders, oldest first (an evicted order leaves the list) */
  size_t norders, orders_cap;
  json_t *valid_authz; /* "name" (or "*.name") -> id of its newest valid authorization (live ones only) */
  size_t valid_authz_peak; /* most entries since valid_authz was last rebuilt (its table never shrinks) */
  json_t *eab;         /* the verified externalAccountBinding, echoed in the account (RFC 8555 §7.3.4); NULL = none */
} srv_account;

typedef struct {
  srv_chal_type type;
  char token[SRV_ID_CHARS * 2 + 1]; /* 256 random bits (RFC 8555 §8.1 asks >= 128); bp-nodeid-00's "token-chal" */
  char id_chal[SRV_ID_CHARS + 1];   /* bp-nodeid-00's "id-chal" (RFC 9891 §3.1), 128 bits */
  char nonce[32]; /* onion-csr-01 only: the challenge nonce as sent (RFC 9799 §3.2: padded standard base64) */
  char auth_x[48]; /* onion-csr-01 only: the authKey's Ed25519 "x" (RFC 9799 §4), "" = none */
  srv_chal_status status;
  double validated; /* wall seconds, 0 = never */
  json_t *error;    /* problem document or NULL */
} srv_chal;

typedef struct {
  srv_entry e;
  char account[SRV_ID_CHARS + 1];
  char *value; /* DNS name, base name for wildcards */
  int wildcard;
  srv_authz_status status;
  double expires;
  srv_chal chal[CHAL_COUNT];
  int nchal;
  int validating; /* a validation job for one of its challenges is queued or running */
  double atc_exp; /* tkauth-01: the valid token's exp (0 = none), for finalize */
  int atc_ca;     /* tkauth-01: the valid token's atc.ca */
  unsigned char *attested_spki; /* device-attest-01: DER SubjectPublicKeyInfo the attestation certified, NULL = none */
  size_t attested_spki_len;
} srv_authz;

typedef struct {
  srv_entry e;
  char account[SRV_ID_CHARS + 1];
  srv_order_status status;
  double expires, not_before, not_after; /* 0 = not requested */
  char **names; /* identifier values as ordered ("*.x" kept), lower case, no duplicates */
  size_t nnames;
  char (*authz)[SRV_ID_CHARS + 1];
  json_t *error;
  char cert[SRV_ID_CHARS * 2 + 1]; /* certificate id once valid */
  char *replaces; /* RFC 9773 §5: certID of the certificate it replaces, NULL = none */
  char *profile;  /* draft-ietf-acme-profiles §4: the profile chosen, NULL = none */
} srv_order;

typedef struct srv_ari_rule srv_ari_rule; /* a renewal window placement (ari.c) */

typedef struct {
  srv_entry e; /* id = serial number in hex */
  char account[SRV_ID_CHARS + 1];
  /* DER only: the chains are assembled on download from the CA's cached
   * intermediates, so a kept certificate costs ~0.5 KB, not ~7 KB of X509
   * object and two PEM chains. */
  unsigned char *der;
  size_t der_len;
  int revoked, reason;
  char replaced_by[SRV_ID_CHARS + 1]; /* order whose newOrder named it in "replaces", "" = none */
  srv_ari_rule *ari;                  /* its own window (management endpoint), NULL = the server's */
} srv_cert;

/* ---- nonces (nonce.c) ---------------------------------------------------- */
typedef struct srv_nonces srv_nonces;
srv_nonces *srv_nonces_new(size_t cap);
void srv_nonces_free(srv_nonces *n);
/* A fresh nonce (malloc'd, caller frees), NULL on failure. */
char *srv_nonce_issue(srv_nonces *n);
/* 1 and consumes it if `nonce` was issued and not yet used, else 0. */
int srv_nonce_redeem(srv_nonces *n, const char *nonce);

/* ---- CA (ca.c) ----------------------------------------------------------- */
typedef struct srv_ca srv_ca;
/* Makes the hierarchy and writes <run_dir>/issuing-roots.pem. */
int srv_ca_new(const char *run_dir, srv_ca **out, char *err, size_t errlen);
void srv_ca_free(srv_ca *ca);
const char *srv_ca_roots_file(const srv_ca *ca);
/* Copies a SubjectPublicKeyInfo field by field into `to` (a fresh one). 1 = done. */
int srv_spki_copy(X509_PUBKEY *to, const X509_PUBKEY *from);
/* Issues a certificate for `names` on the key `spki` (thread-safe: the CA is
 * read only), with extendedKeyUsage `eku` in OpenSSL config syntax (NULL =
 * "serverAuth"). On success *leaf is the caller's. */
int srv_ca_issue(const srv_ca *ca, const X509_PUBKEY *spki, char *const *names, size_t n, double not_before,
                 double not_after, const char *eku, X509 **leaf);
/* PEM of intermediate `which` (1 = primary, 2 = cross-signed), borrowed. */
const char *srv_ca_issuer_pem(const srv_ca *ca, int which);
/* DER of intermediate `which` (1 = primary, 2 = cross-signed); malloc'd. */
unsigned char *srv_ca_issuer_der(const srv_ca *ca, int which, size_t *len);

/* ---- the server ---------------------------------------------------------- */

typedef struct srv_job srv_job;
typedef struct srv_dnsq srv_dnsq;
typedef struct srv_faults srv_faults;
typedef struct srv_ari srv_ari;
typedef struct srv_profiles srv_profiles;
typedef struct srv_wait srv_wait;

struct acmeh_server {
  uv_loop_t loop;
  uv_async_t stop;
  pthread_t thread;
  int thread_started;
  SSL_CTX *tls;
  acmeh_httpsrv *http;
  char *bind, *base, *dir_url, *run_dir, *ca_file;
  int port;
  char *dns_addr;
  int dns_port, http01_port, tlsalpn01_port;
  srv_nonces *nonces;
  srv_ca *ca;
  srv_table accounts, orders, authzs, certs;
  void *by_thumb; /* tsearch tree of srv_account* by thumbprint */
  size_t max_accounts, max_orders, max_authzs, max_certs;
  srv_job *jobs; /* running thread-pool jobs, cancelled at stop */
  srv_dnsq *dnsqs; /* DNS questions under way on the loop (dnsq.c), cancelled at stop */
  srv_wait *waits; /* answers waiting a moment for a job (wait.c) */
  int stopping;
  int log_requests;
  acmeh_server_observer observer; /* NULL = no exchange JSON is built at all */
  void *observer_ud;
  acmeh_server_validation_observer validation_observer; /* NULL = validations not reported */
  void *validation_observer_ud;
  unsigned long long obs_seq; /* exchanges seen, for "seq" */
  uint64_t t0_ns;             /* uv_hrtime at start, for "time_ms" */
  srv_faults *faults;         /* compiled fault rules; NULL = none */
  srv_ari *ari;               /* RFC 9773 policy and window overrides (ari.c) */
  srv_profiles *profiles;     /* profiles offered (profile.c) */
  srv_dnsacct_mode dnsacct;   /* dns-account-01 offered, and how it validates */
  int dnsacct_scheme;         /* acmeh_dnsacct_scheme: which revision's validation name */
  int persist_mode;           /* srv_persist_mode (persist.c): dns-persist-01 offered, and how it validates */
  int persist_rev;            /* acmeh_persist_rev (harness/acme/persist.h): which revision's wire format */
  srv_dtn dtn;                /* bp-nodeid-00 (dtn.c) */
  srv_onion_mode onion;       /* RFC 9799 .onion names and onion-csr-01 (onion.c) */
  int socks5_port;            /* SOCKS5 proxy for .onion validations (0 = none) */
  struct acmeh_socks5 *mock_tor; /* the server's own mock Tor, NULL = none */
  char onion_auth_reused[48];    /* ONION_AUTHKEY_REUSED: the one authKey x of every challenge */
  int onion_caa_flag;         /* in-band CAA required: 0 no, 1 meta inBandOnionCAARequired, 2 onionCAARequired, 3 both */
  char http01_token[SRV_ID_CHARS * 2 + 1]; /* every http-01 challenge's token (config deviation); "" = random */
  struct srv_eab *eab;        /* External Account Binding keys (eab.c); NULL = none */
  size_t neab;
  int eab_required;
  char *tkauth_trust, *tkauth_x5u_ca, *tkauth_authority; /* tkauth.c; see server.h */
  int tkauth_jti_reuse;
  unsigned tkauth_skip; /* ACMEH_ATC_SKIP_* deviations */
  unsigned tkauth_dev;  /* SRV_TKAUTH_* deviations (tkauth.c) */
  json_t *atc_jtis; /* jti -> exp of every token accepted (tkauth.c) */
  srv_pk_mode pk;             /* pk-01 and the key identifiers offered, and how (pk.c) */
  struct srv_devattest *devattest; /* device-attest-01 settings and trust anchors (devattest.c); NULL = off */
};

/* One request as the handlers see it. */
typedef struct {
  acmeh_server *s;
  const acmeh_httpsrv_req *http;
  int is_post;
  char *url;        /* base + request target: what the JWS "url" must equal (§6.4) */
  char *path;       /* request target without the query */
  const char *query; /* after '?', "" when none */
  /* Filled by srv_jws_verify: */
  acmeh_jws_parsed jws;
  acmeh_key *jwk;     /* key from a "jwk" header (owned), NULL with kid */
  srv_account *acct;  /* account from "kid", NULL with jwk */
  json_t *payload;    /* the payload JSON, NULL for POST-as-GET */
  int post_as_get;
  int verified;         /* every §6.2-§6.4 check passed: acct / jwk speak for the sender */
  char jwk_thumb[44];   /* thumbprint of a verified jwk ("" otherwise): handlers may take rq->jwk */
  const char *resource; /* server.h's resource name for the path ("unknown" when none) */
} srv_req;

/* What an answer may wait for: a challenge being validated, an order being
 * issued. */
typedef enum { SRV_WAIT_NONE, SRV_WAIT_CHALLENGE, SRV_WAIT_ORDER } srv_wait_kind;
typedef struct {
  srv_wait_kind kind;
  char id[SRV_ID_CHARS + 1]; /* authorization (challenge) or order id */
  int idx;                   /* the challenge's index in its authorization */
} srv_wait_on;

typedef struct {
  int status;
  const char *ctype;
  char *body;
  size_t body_len;
  acmeh_strbuf hdr; /* extra header lines */
  int is_directory; /* no Link rel="index" on the directory itself */
  int gives_nonce;  /* newNonce: Replay-Nonce + Cache-Control: no-store */
  /* Set by a handler instead of a body when the object's state may change in
   * a moment (a validation or an issuance runs): the body is built by
   * srv_wait_answer, after waiting up to SRV_WAIT_MS for that job. */
  srv_wait_on wait;
} srv_resp;

/* problem.c: application/problem+json (RFC 7807, RFC 8555 §6.7). `type` is
 * the suffix after urn:ietf:params:acme:error:. */
void srv_problem(srv_resp *rs, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A problem document object (new reference) for challenge errors and subproblems. */
json_t *srv_problem_obj(const char *type, const char *detail);
/* Sends `prob` (reference stolen) with `status`. */
void srv_problem_send(srv_resp *rs, int status, json_t *prob);
/* A JSON body (reference stolen). */
void srv_json(srv_resp *rs, int status, json_t *body);
void srv_header(srv_resp *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* jws_verify.c: the RFC 8555 §6.2-§6.4 / §12 checks of a POST. Returns 1 and
 * fills rq on success; 0 with the error response in rs. */
typedef enum { AUTH_KID, AUTH_JWK, AUTH_EITHER } srv_auth;
int srv_jws_verify(srv_req *rq, srv_resp *rs, srv_auth how);
/* Key acceptability for JWS and CSRs: writes why not into why. 1 = acceptable. */
int srv_key_acceptable(const acmeh_key *k, const char *alg, char *why, size_t whylen);
/* A peer's public JWK as a key (*out, caller frees): an RSA modulus outside
 * the acceptable sizes is refused from its length before any key is built.
 * 1 = a key; 0 with why filled (badPublicKey). */
int srv_key_from_jwk(const json_t *jwk, acmeh_key **out, char *why, size_t whylen);
/* Inner keyChange JWS checks (account.c uses them); see §7.3.5. */
const char *const *srv_algorithms(void);

/* server.h's resource name for a request path ("unknown" when it names none). */
const char *srv_resource_of(const char *path);

/* URLs (server.c); malloc'd. */
char *srv_url(const acmeh_server *s, const char *kind, const char *id);
/* Time as RFC 3339 (static buffer per thread is not used: out has 32 bytes). */
void srv_rfc3339(double t, char out[32]);
int srv_parse_rfc3339(const char *s, double *t);

/* Lookups honouring eviction; NULL when gone. */
srv_account *srv_account_get(acmeh_server *s, const char *id);
srv_account *srv_account_by_key(acmeh_server *s, const char *thumb);
srv_order *srv_order_get(acmeh_server *s, const char *id);
srv_authz *srv_authz_get(acmeh_server *s, const char *id);
srv_cert *srv_cert_get(acmeh_server *s, const char *id);

/* account.c */
json_t *srv_account_json(acmeh_server *s, const srv_account *a);
void srv_account_free(srv_account *a);
int srv_account_index_key(acmeh_server *s, srv_account *a);
void srv_account_unindex_key(acmeh_server *s, srv_account *a);
void srv_h_new_account(srv_req *rq, srv_resp *rs);
void srv_h_account(srv_req *rq, srv_resp *rs, const char *id, const char *sub);
void srv_h_key_change(srv_req *rq, srv_resp *rs);

/* order.c */
void srv_order_free(srv_order *o);
/* Finalize's name check (RFC 8555 §7.4): the CSR names exactly the order's
 * identifiers names[0..nnames) (its SANs, and its CN if any; an ip
 * identifier only as an iPAddress SAN), each readable without ambiguity.
 * Returns 1, or 0 with the reason in why (whylen bytes). Apart from
 * finalize, tests/fuzz/fuzz_csr.c calls it. */
int srv_csr_names_ok(const acmeh_csr *csr, char *const *names, size_t nnames, char *why, size_t whylen);
/* Drops o from its account's orders list (o is being evicted). */
void srv_order_unlist(acmeh_server *s, const srv_order *o);
void srv_order_refresh(acmeh_server *s, srv_order *o);
json_t *srv_order_json(acmeh_server *s, srv_order *o);
void srv_h_new_order(srv_req *rq, srv_resp *rs);
void srv_h_order(srv_req *rq, srv_resp *rs, const char *id, const char *sub);
/* Validates and normalises one dns identifier value (lower case A-labels,
 * optional "*." when wildcard_ok). Returns NULL and fills type/why on refusal. */
char *srv_dns_name(const char *value, int wildcard_ok, const char **type, char *why, size_t whylen);
/* Validates one ip identifier value (RFC 8738 §3): an IPv4 or IPv6 address in
 * its canonical text (RFC 1123 §2.1 dotted quad, RFC 5952 §4 for IPv6), which
 * is also how it is stored. Returns a malloc'd copy, or NULL with type
 * ("malformed" for non-canonical text, "rejectedIdentifier" otherwise) and
 * why filled. */
char *srv_ip_name(const char *value, const char **type, char *why, size_t whylen);
/* 1 when a stored identifier value is an address (an ip identifier): dns
 * names never parse as one, since srv_dns_name refuses numeric TLDs. */
int srv_is_ip(const char *name);
/* "ip", "dns", a token or a key identifier's type for a stored identifier value. */
const char *srv_ident_type(const char *name);
/* The value as sent: the name itself, or a token, key or device identifier's
 * value (after "<type>:", borrowed). */
const char *srv_ident_value(const char *name);

/* authz.c */
void srv_authz_free(srv_authz *a);
void srv_authz_refresh(acmeh_server *s, srv_authz *a);
json_t *srv_authz_json(acmeh_server *s, srv_authz *a);
json_t *srv_chal_json(acmeh_server *s, const srv_authz *a, int i);
srv_authz *srv_authz_create(acmeh_server *s, srv_account *acct, const char *name, int *rc);
void srv_h_new_authz(srv_req *rq, srv_resp *rs);
void srv_h_authz(srv_req *rq, srv_resp *rs, const char *id);

/* challenge.c */
/* Drops a from its account's valid-authorization index (a is being evicted). */
void srv_authz_unindex(acmeh_server *s, const srv_authz *a);
void srv_h_challenge(srv_req *rq, srv_resp *rs, const char *authz_id, const char *idx);
const char *srv_chal_type_name(srv_chal_type t);
/* server.h's dns_account value (NULL = "on") as a mode; -1 when unknown. */
int srv_dnsacct_mode_parse(const char *name);

/* validate.c: blocking validation (thread pool). Returns NULL when valid,
 * else a problem document (new reference). */
typedef struct {
  char *dns_addr;
  int dns_port, http01_port, tlsalpn01_port;
  srv_chal_type type;
  char *name;    /* the identifier (base name for wildcards) */
  char *token;
  char *keyauth; /* token "." thumbprint */
  /* dns-account-01 only: */
  int wildcard;
  char *account_url;  /* the kid of the JWS that POSTed the response */
  srv_dnsacct_mode dnsacct;
  int dnsacct_scheme;  /* acmeh_dnsacct_scheme (harness/acme/challenge.h) */
  char **other_urls;  /* DNSACCT_ANY_ACCOUNT: recent other accounts' URLs */
  size_t nother;
  /* tkauth-01 only (tkauth.c): */
  char *tkauth;       /* the response's "tkauth" (NULL = absent) */
  char *thumb;        /* the responding account's thumbprint */
  char *trust_file, *x5u_ca_file;
  struct acmeh_atc_result_s *atc_out; /* what a valid token said (owned by the job) */
  unsigned tkauth_skip;               /* the server's ACMEH_ATC_SKIP_* deviations */
  int tkauth_accept_any;              /* deviation: every response is valid */
  /* pk-01 only: the "proof" of the response (NULL = none) and the mode */
  char *proof;
  srv_pk_mode pk;
  /* dns-persist-01 only (account_url and wildcard above too): */
  int persist_mode, persist_rev;
  char persist_thumb[44]; /* the account key's RFC 7638 thumbprint (the -02 account digest) */
  char hash_prefix[300];  /* the -02 directory's accountHashPrefix */
  double now;             /* wall seconds when the response arrived (persistUntil) */
  /* bp-nodeid-00 only (fixed arrays: nothing to free): */
  srv_dtn dtn;
  char id_chal[SRV_ID_CHARS + 1];
  char dtn_thumb[44];   /* the responding account's thumbprint */
  double rtt;           /* the response's "rtt" in seconds; < 0 = none */
  /* device-attest-01 only: */
  unsigned char *att_obj;          /* the decoded "attObj" of the response, NULL = none or not base64url */
  size_t att_len;
  const struct srv_devattest *att; /* settings and roots (read only on the pool) */
  struct srv_att_out *att_out;     /* what the validation found (the attested key), for job_done */
  /* onion-csr-01 only: the response's "csr" (NULL = none) and the challenge nonce as sent */
  char *csr;
  char onion_nonce[32];
  srv_onion_mode onion;
  int socks5_port; /* .onion names validated through this SOCKS5 proxy (0 = none) */
} srv_validation;
json_t *srv_validate(const srv_validation *v);
/* Each type's blocking validation (the rows of srv_chaltype). */
json_t *srv_validate_http01(const srv_validation *v);  /* RFC 8555 §8.3 */
json_t *srv_validate_dns01(const srv_validation *v);   /* RFC 8555 §8.4 */
json_t *srv_validate_tlsalpn01(const srv_validation *v); /* RFC 8737 §3 */
json_t *srv_validate_dnsaccount01(const srv_validation *v); /* draft-ietf-acme-dns-account-label §3.3 */
json_t *srv_validate_pk01(const srv_validation *v); /* draft-geng-acme-public-key (pk.c) */
/* onion.c (RFC 9799): onion-csr-01's inputs (the response's "csr") and its
 * blocking verification (§3.2); the identifier check for .onion names (§2:
 * v3 only, checksum verified): NULL = fine, else the reason (static or in
 * why); whether type t is offered for `name`; the challenge's fresh nonce;
 * the in-band CAA check of a finalize (§6.4, §6.4.1: 1 = go on, 0 = rs holds
 * the problem); the directory's meta flag; the mode by name (-1 unknown). */
int srv_onioncsr01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
json_t *srv_validate_onioncsr01(const srv_validation *v);
const char *srv_onion_name_problem(const acmeh_server *s, const char *name, char *why, size_t whylen);
int srv_onion_offers(const acmeh_server *s, srv_chal_type t, const char *name);
int srv_onion_nonce(const acmeh_server *s, char out[32]);
int srv_onion_auth_key(acmeh_server *s, char out[48]);
int srv_onion_finalize_caa(acmeh_server *s, const srv_order *o, const json_t *payload, srv_resp *rs);
void srv_onion_meta(const acmeh_server *s, json_t *meta);
int srv_onion_mode_parse(const char *name);
int srv_onion_caa_flag_parse(const char *name);
/* dns-account-01's extra inputs: the kid of the JWS that POSTed the response (challenge.c). */
int srv_dnsaccount01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
/* dtn.c: bp-nodeid-00 (RFC 9891): the validation (sends a Challenge Bundle
 * through the bundle node, judges the Response Bundle), its inputs (the
 * account thumbprint, id-chal, the response's "rtt"), whether it is offered,
 * bundleEID identifiers (srv_eid_name: percent-decoded, normalised, or NULL
 * with the problem type and reason) and the deviation names of server.h. */
json_t *srv_validate_bpnodeid00(const srv_validation *v);
int srv_bpnodeid00_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
int srv_bpnodeid00_enabled(const acmeh_server *s);
int srv_is_eid(const char *name);
char *srv_eid_name(const srv_dtn *d, const char *value, const char **type, char *why, size_t whylen);
int srv_dtn_config(srv_dtn *d, const acmeh_server_config *cfg, char *err, size_t errlen);
/* Whether name (a normalised EID) is a Node ID bp-nodeid-00 can validate (RFC 9891 §3). */
int srv_eid_is_node_id(const acmeh_server *s, const char *name);
/* Fills c's token ("token-chal") and id_chal with fresh 128-bit base64url values. */
int srv_bpnodeid00_tokens(const acmeh_server *s, srv_chal *c);
/* The leaf's SANs when an order holds a bundleEID: BundleEID otherNames (RFC 9891 §5). Returns 1 or 0. */
int srv_dtn_add_names(X509 *leaf, char *const *names, size_t n);

/* persist.c: dns-persist-01 (draft-ietf-acme-dns-persist). */
/* server.h's dns_persist value (NULL = "on") as a mode; -1 when unknown. */
int srv_persist_mode_parse(const char *name);
int srv_persist01_enabled(const acmeh_server *s);
/* Adds the revision's issuer list (and, -01, accounturi) to challenge j of a; drops the token. */
void srv_persist01_chal_json(acmeh_server *s, const srv_authz *a, json_t *j);
/* Adds the -02 directory meta fields (accountHashPrefix, issuerDomainNames) to meta. */
void srv_persist01_meta(acmeh_server *s, json_t *meta);
int srv_persist01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
json_t *srv_validate_persist01(const srv_validation *v); /* draft-ietf-acme-dns-persist §4 */
/* validate.c's blocking TXT query: the answer's TXT records at host into *list (caller's). */
json_t *srv_txt_query(const srv_validation *v, const char *host, ldns_rr_list **list);

/* devattest.c: device-attest-01 (draft-ietf-acme-device-attest) and its
 * identifier types, stored in names as "<type>:<value>" ("permanent-
 * identifier:ABC/1.2.3.4"; no DNS name or address holds ':' after a letter
 * other than a-f). */
struct srv_att_out {
  unsigned char *spki; /* DER of the attested key */
  size_t spki_len;
};
/* Parses server.h's device_attest mode and loads the trust anchors. */
int srv_devattest_new(acmeh_server *s, const acmeh_server_config *cfg, char *err, size_t errlen);
void srv_devattest_free(acmeh_server *s);
/* 1 when `type` is a device identifier type the server takes (offered or
 * not); then *name is the stored name or NULL with ptype / why filled. */
int srv_devid_parse(const acmeh_server *s, const char *type, const char *value, char **name, const char **ptype, char *why,
                    size_t whylen);
/* 1 when the "short-token" deviation is on (a 64-bit device-attest-01 token). */
int srv_devattest_short_token(const acmeh_server *s);
/* 1 when the stored name is a device identifier. */
int srv_is_devid(const char *name);
int srv_devattest01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
json_t *srv_validate_devattest01(const srv_validation *v); /* draft-ietf-acme-device-attest §5 */
/* The verdict reached the loop: keeps the attested key on the authorization. */
void srv_devattest01_done(srv_authz *a, srv_validation *v);
/* Finalize of an order with device identifiers (§3.2, §4.2, §8): the CSR may
 * omit them, or name exactly them; its key must be the attested key. 1 = ok,
 * else 0 with why. */
int srv_devid_csr_ok(acmeh_server *s, const srv_order *o, const acmeh_csr *csr, char *why, size_t whylen);
/* Adds the otherName SANs of the device identifiers among names to gns. */
int srv_devid_add_sans(GENERAL_NAMES *gns, char *const *names, size_t n);

/* chaltype.c: the challenge types the reference server offers, one row each,
 * indexed by srv_chal_type; authorizations offer them in this order. Adding a
 * type to the server is one enum value, one row and its validate function. */
typedef struct {
  const char *name;        /* "dns-01" */
  int for_dns, for_ip;     /* offered for dns identifiers / ip identifiers (RFC 8738 §7) */
  int for_wildcard;        /* offered for a wildcard (only DNS methods prove a whole subtree) */
  int (*enabled)(const acmeh_server *s); /* NULL = always; else whether this server offers it */
  /* Extra inputs from the request that responds (NULL = none). Returns ACMEH_OK or an error. */
  int (*inputs)(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
  json_t *(*validate)(const srv_validation *v); /* blocking, on the pool: NULL = valid, else a problem */
  int for_atc; /* offered for TNAuthList / JWTClaimConstraints identifiers (and nothing else is) */
  int for_key; /* offered for the key identifiers pk, selfsign-cert, csr (draft-geng-acme-public-key) */
  int for_eid;             /* offered for bundleEID identifiers usable as Node IDs (RFC 9891) */
  int for_devid;           /* offered for permanent-identifier / hardware-module identifiers only */
  int onion; /* for .onion names (RFC 9799): 0 = never, 1 = also, 2 = only (onion-csr-01) */
} srv_chaltype_row;
const srv_chaltype_row *srv_chaltype(srv_chal_type t);
/* dns-01 (RFC 8555 §8.4) split in two for the loop's own UDP query (dnsq.c):
 * the name to ask TXT of (_acme-challenge.<name>), and the verdict srv_validate
 * would give for a query that ended with status st and answer (NULL when
 * none): NULL = valid, else a problem document (new reference). */
void srv_dns01_host(const srv_validation *v, char *host, size_t len);

/* dnsq.c: one question (name, type t) to the server's DNS (dns_addr,
 * dns_port) over UDP on the loop: two tries of 2 s. cb runs once on the loop,
 * later, with the answer (borrowed; NULL unless st is LDNS_STATUS_OK; it may
 * be truncated, ldns_pkt_tc) or cancelled = 1 when the server stops first.
 * Returns ACMEH_OK, or ACMEH_INVALID_ARG / ACMEH_NOMEM / ACMEH_ENV_IO and cb
 * never runs. */
typedef void (*srv_dnsq_cb)(acmeh_server *s, void *ud, ldns_status st, const ldns_pkt *answer, int cancelled);
int srv_dnsq_start(acmeh_server *s, const char *name, ldns_rr_type t, srv_dnsq_cb cb, void *ud);
/* Ends every question under way (their cb with cancelled = 1). */
void srv_dnsq_cancel_all(acmeh_server *s);
json_t *srv_dns01_verdict(const srv_validation *v, ldns_status st, const ldns_pkt *answer);

/* tkauth.c: tkauth-01 (RFC 9447, RFC 9448 §4-§6) and its identifier types.
 * Authority-token identifiers are stored as "<type>:<value>". */
/* 1 when a stored name is an authority-token identifier, with its type and value. */
int srv_atc_split(const char *name, const char **type, const char **value);
/* newOrder: a TNAuthList / JWTClaimConstraints identifier checked (unpadded
 * base64url of valid DER) into a stored name (malloc'd); NULL with ptype and why. */
char *srv_atc_name(const char *type, const char *value, int lenient_der, const char **ptype, char *why, size_t whylen);
/* 1 under the "lenient-der" deviation. */
int srv_atc_lenient_der(const acmeh_server *s);
/* The names that are not token identifiers, into out (n at most); returns how many. */
size_t srv_atc_plain_names(char *const *names, size_t n, char **out);
/* Finalize (RFC 9448 §6 step 9, RFC 8555 §7.4): the CSR carries each token
 * identifier's extension with the authorized DER, no other such extension,
 * not both JWTClaimConstraints forms (RFC 9118 §6), and its cA equals the
 * tokens' ca. 1 = fine; 0 with why. */
int srv_atc_csr_ok(acmeh_server *s, const srv_order *o, const acmeh_csr *csr, char *why, size_t whylen);
/* Issuance: the extensions of the token identifiers among names. 1 = done. */
int srv_atc_add_exts(X509 *leaf, char *const *names, size_t n);
/* Issuance: not_after no later than any token's exp (RFC 9447 §7 SHOULD NOT outlive). */
void srv_atc_cap_validity(acmeh_server *s, const srv_order *o, double *not_before, double *not_after);
/* tkauth-01 challenge members: "tkauth-type", "token-authority". */
void srv_atc_chal_json(const acmeh_server *s, json_t *chal);
int srv_tkauth01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
json_t *srv_validate_tkauth01(const srv_validation *v);
/* On the loop after a valid token: jti replay (refused unless allowed) and
 * what finalize needs; NULL = accepted, else the problem. */
json_t *srv_atc_accept(acmeh_server *s, srv_authz *a, const srv_validation *v);
void srv_atc_inputs_free(srv_validation *v);
/* Copies the tkauth settings; ACMEH_OK, ACMEH_INVALID_ARG (unknown deviation), ACMEH_NOMEM. */
int srv_atc_setup(acmeh_server *s, const acmeh_server_config *cfg);
void srv_atc_free(acmeh_server *s);

/* cert.c / revoke.c */
void srv_cert_free(srv_cert *c);
/* A certificate's id: base64url of its 16-byte serial. Returns ACMEH_OK or ACMEH_PEER_PROTOCOL. */
int srv_cert_id(X509 *cert, char id[SRV_ID_CHARS + 1]);
void srv_h_cert(srv_req *rq, srv_resp *rs, const char *id, const char *sub);
void srv_h_issuer(srv_req *rq, srv_resp *rs, const char *which);
void srv_h_revoke(srv_req *rq, srv_resp *rs);
/* Queues issuance of order o for the CSR's key (copied). */
int srv_issue_async(acmeh_server *s, srv_order *o, const X509_PUBKEY *spki);

/* Thread-pool jobs (server.c): `work` runs off the loop, `done` on it with
 * cancelled = 1 when the server stopped first. `arg` is the job's. */
int srv_job_queue(acmeh_server *s, void (*work)(void *arg), void (*done)(acmeh_server *s, void *arg, int cancelled),
                  void *arg);

/* ---- observer (observe.c) ----------------------------------------------- */

typedef enum { SRV_DROP_NONE, SRV_DROP_BEFORE_HEADERS, SRV_DROP_AFTER_HEADERS } srv_drop;

/* What the fault engine did to one exchange. */
typedef struct {
  json_t *faults; /* array of applied rule names (owned), NULL = none */
  srv_drop drop;
  unsigned delay_ms;
  size_t *hits, nhits; /* indexes of the rules that matched, in file order */
  int hold;            /* the order reads "processing" (processing_polls) */
  size_t hold_rule;
} srv_outcome;

/* ---- waiting answers (wait.c) ---------------------------------------------- */

/* How long an answer waits for its job: long enough for a DNS lookup or a
 * signature on a loaded machine, short enough that a slow validation still
 * answers "processing" (with Retry-After) promptly. */
#define SRV_WAIT_MS 50

/* Builds the answer rs->wait asks for from the state now (challenge.c, order.c). */
void srv_chal_answer(acmeh_server *s, srv_resp *rs, const char *authz_id, int idx);
void srv_order_answer(acmeh_server *s, srv_resp *rs, const char *order_id);
void srv_wait_answer(acmeh_server *s, srv_resp *rs);
/* When the job rs->wait names still runs: defers the HTTP answer, taking
 * over rs, oc and rq's url and path (left NULL in rq), and returns 1; the
 * answer goes out when the job ends (srv_wait_wake) or after SRV_WAIT_MS.
 * 0 = answer now. */
int srv_wait_begin(acmeh_server *s, srv_req *rq, srv_resp *rs, srv_outcome *oc);
/* A job on the object `id` ended: its waiting answers go out. */
void srv_wait_wake(acmeh_server *s, srv_wait_kind kind, const char *id);
/* At stop: every waiting answer goes out now. */
void srv_wait_stop_all(acmeh_server *s);
/* The common end of every exchange (server.c): fault body and header
 * actions, the headers every response gets, the log line and the observer. */
void srv_respond(acmeh_server *s, srv_req *rq, srv_resp *rs, srv_outcome *oc, acmeh_httpsrv_resp *out);

/* ---- fault engine (fault.c; the format is in fault.h) --------------------- */

/* Validates and compiles `rules` (copied). ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int srv_faults_new(const json_t *rules, srv_faults **out, char *err, size_t errlen);
void srv_faults_free(srv_faults *f);
/* Before dispatch: counts matches, picks the rules that apply to rq into oc,
 * and returns 1 when one of them decided the answer (problem, reject_nonce)
 * into rs, so the request must not be processed. */
int srv_faults_before(srv_faults *f, srv_req *rq, srv_resp *rs, srv_outcome *oc);
/* After dispatch: status and JSON body actions on rs. */
void srv_faults_body(srv_faults *f, srv_req *rq, srv_resp *rs, srv_outcome *oc);
/* After the common headers: header and transport actions on out; names the
 * applied rules in oc->faults. */
void srv_faults_after(srv_faults *f, srv_req *rq, acmeh_httpsrv_resp *out, srv_outcome *oc);
void srv_outcome_free(srv_outcome *oc);

/* Text of `len` bytes as a JSON string: the first 64 KiB, with NUL and bytes
 * that are not well-formed UTF-8 written as \xNN. Never NULL. */
json_t *srv_text_json(const char *data, size_t len);
/* The observer's "jws" member for a request body: null for an empty body. */
json_t *srv_jws_view(const char *body, size_t len);
/* The response's headers as an object of lower-case names, as sent. */
json_t *srv_resp_headers(const acmeh_httpsrv_resp *out);
/* Builds the exchange (server.h) and calls the observer; a no-op without one.
 * rq is NULL for requests the HTTP parser refused; oc may be NULL. */
void srv_observe(acmeh_server *s, const srv_req *rq, const acmeh_httpsrv_resp *out, const srv_outcome *oc);
/* One validation's timing and outcome (server.h, acmeh_server_validation_observer);
 * times are uv_hrtime values, result NULL = valid. A no-op without an observer. */
typedef struct {
  const char *challenge_url, *type, *identifier;
  uint64_t arrived_ns, started_ns, ended_ns;
  int cancelled;
  const json_t *result;
} srv_validation_report;
void srv_observe_validation(acmeh_server *s, const srv_validation_report *r);

/* ---- External Account Binding, RFC 8555 §7.3.4 (eab.c) --------------------- */

/* Copies and decodes the config's keys. ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int srv_eab_new(acmeh_server *s, const acmeh_server_config *cfg, char *err, size_t errlen);
void srv_eab_free(acmeh_server *s);
/* newAccount's binding check for a request whose outer JWS carried rq->jwk:
 * 1 = acceptable (no binding when none is required, or one that verifies),
 * with *bound the key it used (NULL = none); 0 with the refusal in rs
 * (externalAccountRequired, malformed, unauthorized). */
int srv_eab_check(srv_req *rq, srv_resp *rs, struct srv_eab **bound);
/* Marks `k` as used by account `acct_id` (one account per key). */
void srv_eab_bind(struct srv_eab *k, const char *acct_id);

/* ---- ARI, RFC 9773 (ari.c) and profiles (profile.c) ------------------------ */

/* The bound on window offsets (seconds from now or notBefore), shared by the
 * server config, fault rules' ari_window and /acmeh/ari-window: about a
 * century either way, so now + offset always prints as an RFC 3339 date. */
#define SRV_ARI_MAX_OFFSET 3.2e9
#define SRV_ARI_OFFSET_LIMIT "within +-3.2e9 seconds (a century)" /* for messages */
/* 1 when s is a finite offset within +-SRV_ARI_MAX_OFFSET. */
int srv_ari_offset_ok(double s);
int srv_ari_new(const acmeh_server_ari *cfg, srv_ari **out, char *err, size_t errlen);
void srv_ari_free(srv_ari *a);
void srv_ari_rule_free(srv_ari_rule *r);
/* Adds "renewalInfo" to the directory object when ARI is on. */
void srv_ari_directory(acmeh_server *s, json_t *dir);
/* GET (or POST-as-GET) {renewalInfo}/{certID}. */
void srv_h_renewal_info(srv_req *rq, srv_resp *rs, const char *cert_id);
/* newOrder "replaces" (§5) for an order naming `names`: 1 = acceptable, with
 * *out the certificate it replaces (NULL when absent or ARI is off); 0 with
 * the refusal in rs (400 malformed, 403 unauthorized, 409 alreadyReplaced). */
int srv_ari_replaces_check(srv_req *rq, srv_resp *rs, char *const *names, size_t n, srv_cert **out);
/* Records that order o replaces c (and echoes cert_id in o). */
void srv_ari_mark_replaced(srv_cert *c, srv_order *o, const char *cert_id);
/* POST /acmeh/<what> management endpoints (README "Reference server"). */
void srv_h_mgmt(srv_req *rq, srv_resp *rs, const char *what);
void srv_h_ari_window(srv_req *rq, srv_resp *rs, const json_t *body);

/* cfg NULL = the default classic and shortlived; {} = profiles off. */
int srv_profiles_new(const json_t *cfg, const char *dflt, srv_profiles **out, char *err, size_t errlen);
void srv_profiles_free(srv_profiles *ps);
/* Adds "profiles" (the ones not retired) to the directory's meta object. */
void srv_profiles_meta(const srv_profiles *ps, json_t *meta);
/* newOrder "profile": 1 with *out the chosen name (malloc'd; NULL when
 * profiles are off), 0 with 400 invalidProfile / malformed in rs. has_ip:
 * the order has an ip identifier, which profiles with "ip": false refuse
 * (invalidProfile when named; skipped over when choosing a default). */
int srv_profile_select(acmeh_server *s, const json_t *payload, int has_ip, char **out, srv_resp *rs);
/* Validity (seconds) and EKU of profile `name`; 0 when unknown or retired. */
int srv_profile_params(const acmeh_server *s, const char *name, double *validity, const char **eku);
void srv_h_profiles_mgmt(srv_req *rq, srv_resp *rs, const json_t *body);

/* ---- pk-01 and key identifiers, draft-geng-acme-public-key (pk.c) ----------- */

/* A stored key identifier is "<type>:<value as sent>" (dns names and
 * canonical addresses never start so). */
/* server.h's pk value (NULL = "on") as a mode; -1 when unknown. */
int srv_pk_mode_parse(const char *name);
/* 1 when stored identifier `name` is a key identifier. */
int srv_is_key_ident(const char *name);
/* A stored key identifier's type ("pk", "selfsign-cert", "csr"; static), or
 * NULL for a dns or ip name. */
const char *srv_key_ident_type(const char *name);
/* Validates key identifier {type, value}: a malloc'd stored name, or NULL
 * with ptype and why filled (unsupportedIdentifier when pk is off; malformed
 * when it does not read; badPublicKey for a key without a JWS algorithm, of
 * a size a CSR key may not have, or an account's key, RFC 8555 §11.1). */
char *srv_key_ident(acmeh_server *s, const char *type, const char *value, const char **ptype, char *why, size_t whylen);
/* pk-01's extra input: the response's "proof". */
int srv_pk01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v);
int srv_pk01_enabled(const acmeh_server *s);
/* pk-01's challenge members beyond RFC 8555's: pk_url, standardization. */
void srv_pk01_chal_members(json_t *chal);
/* Finalize of an order for key identifier `name`: payload without "csr"
 * (the draft's CSR-less issuance) or with a CSR for exactly the identifier's
 * key. 1 with *spki the key to certify (caller frees); 0 with the refusal in rs. */
int srv_pk_finalize_key(acmeh_server *s, const char *name, const json_t *payload, X509_PUBKEY **spki, srv_resp *rs);

/* Eviction (store.c): keeps the tables under their caps. */
void srv_store_trim(acmeh_server *s);
void srv_store_free(acmeh_server *s);

#endif
