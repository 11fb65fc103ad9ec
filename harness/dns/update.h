/* Client side of DNS UPDATE (RFC 2136) with TSIG (RFC 8945), built on ldns.
 *
 * An UPDATE is assembled with acmeh_dnsup_new and the add/delete/prereq
 * functions, turned into wire bytes with acmeh_dnsup_sign (TSIG computed here,
 * not by ldns, so that checks can bend it: clock offset, wrong MAC, wrong key
 * name, unknown algorithm, TSIG not last), sent with acmeh_dnsup_send (UDP,
 * TCP after TC) and the answer judged with the acmeh_dnsup_resp fields,
 * including the TSIG error and the verification of the answer's MAC.
 * A signed message can be sent again byte for byte (a replay).
 *
 * Names are presentation-format absolute or relative-to-root names
 * ("_acme-challenge.www.example.com."; a missing final dot is added).
 * Network: loopback addresses only (the harness's rule), every wait bounded. */
#ifndef ACMEH_DNS_UPDATE_H
#define ACMEH_DNS_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/client/publish.h"

/* RFC 2136 §2.2 / RFC 1035 header RCODEs and RFC 8945 §3 TSIG errors. */
enum {
  ACMEH_RCODE_NOERROR = 0, ACMEH_RCODE_FORMERR = 1, ACMEH_RCODE_SERVFAIL = 2, ACMEH_RCODE_NXDOMAIN = 3,
  ACMEH_RCODE_NOTIMP = 4, ACMEH_RCODE_REFUSED = 5, ACMEH_RCODE_YXDOMAIN = 6, ACMEH_RCODE_YXRRSET = 7,
  ACMEH_RCODE_NXRRSET = 8, ACMEH_RCODE_NOTAUTH = 9, ACMEH_RCODE_NOTZONE = 10
};
enum { ACMEH_TSIG_BADSIG = 16, ACMEH_TSIG_BADKEY = 17, ACMEH_TSIG_BADTIME = 18, ACMEH_TSIG_BADTRUNC = 22 };

/* Name of an RCODE or TSIG error ("NOTAUTH", "BADTIME", "RCODE99"). Static or
 * thread-local string; do not free. */
const char *acmeh_rcode_name(int code);

/* A TSIG shared key (RFC 8945 §3). */
typedef struct {
  char name[256];              /* key name, absolute with final dot, e.g. "acme-key." */
  char alg[64];                /* "hmac-sha256." or "hmac-sha512." (RFC 8945 §6) */
  unsigned char secret[128];   /* decoded secret */
  size_t secret_len;           /* octets in secret */
} acmeh_tsig_key;

/* Fills *k from a key name, an algorithm ("hmac-sha256" / "hmac-sha512", final
 * dot optional, case-insensitive) and a base64 secret (1..128 octets decoded).
 * Returns ACMEH_OK or ACMEH_INVALID_ARG with the reason in err. */
int acmeh_tsig_key_set(acmeh_tsig_key *k, const char *name, const char *alg, const char *secret_b64,
                       char *err, size_t errlen);

/* Parses "name:alg:base64secret" (the CLI's --tsig-key form) into *k. Same returns. */
int acmeh_tsig_key_parse(const char *spec, acmeh_tsig_key *k, char *err, size_t errlen);

/* An UPDATE message under construction (opaque; wraps an ldns_pkt). */
typedef struct acmeh_dnsup acmeh_dnsup;

/* New UPDATE for `zone` (zone section: ZNAME zone, ZTYPE SOA, ZCLASS IN; RFC 2136 §2.3)
 * with message ID `id`. NULL when out of memory or zone is not a valid name.
 * Free with acmeh_dnsup_free. */
acmeh_dnsup *acmeh_dnsup_new(const char *zone, uint16_t id);
void acmeh_dnsup_free(acmeh_dnsup *u);

/* Update section (RFC 2136 §2.5). `rdata` is presentation format for `type`
 * (e.g. "\"value\"" for TXT, "192.0.2.1" for A); type is a mnemonic ("TXT").
 * add_rr:    CLASS IN, the given TTL (seconds)        (§2.5.1)
 * del_rr:    CLASS NONE, TTL 0, the exact rdata        (§2.5.4)
 * del_rrset: CLASS ANY, TTL 0, no rdata                (§2.5.2)
 * Each returns ACMEH_OK or ACMEH_INVALID_ARG (name/type/rdata not parseable). */
int acmeh_dnsup_add_rr(acmeh_dnsup *u, const char *owner, uint32_t ttl, const char *type, const char *rdata);
int acmeh_dnsup_del_rr(acmeh_dnsup *u, const char *owner, const char *type, const char *rdata);
int acmeh_dnsup_del_rrset(acmeh_dnsup *u, const char *owner, const char *type);

/* Prerequisite section (RFC 2136 §2.4), TTL 0 throughout. */
typedef enum {
  ACMEH_PREREQ_RRSET_EXISTS,       /* CLASS ANY, type, empty   (§2.4.1) */
  ACMEH_PREREQ_RRSET_EXISTS_VALUE, /* CLASS IN, type, rdata    (§2.4.2) */
  ACMEH_PREREQ_RRSET_ABSENT,       /* CLASS NONE, type, empty  (§2.4.3) */
  ACMEH_PREREQ_NAME_IN_USE,        /* CLASS ANY, TYPE ANY      (§2.4.4) */
  ACMEH_PREREQ_NAME_NOT_IN_USE     /* CLASS NONE, TYPE ANY     (§2.4.5) */
} acmeh_prereq_kind;

/* Adds a prerequisite. `type` and `rdata` are ignored where the kind has none
 * (NULL allowed). Returns ACMEH_OK or ACMEH_INVALID_ARG. */
int acmeh_dnsup_prereq(acmeh_dnsup *u, acmeh_prereq_kind kind, const char *owner, const char *type,
                       const char *rdata);

/* Deliberate defects for negative checks. All zero = a correct TSIG. */
typedef struct {
  int unsigned_msg;        /* send no TSIG at all */
  long time_offset_s;      /* added to the real clock for Time Signed (seconds) */
  uint16_t fudge;          /* Fudge in seconds; 0 = 300 */
  int corrupt_mac;         /* flip one bit of the correct MAC */
  const char *key_name;    /* write this key name instead of the key's (MAC still uses the secret) */
  const char *alg_name;    /* write this algorithm name instead of the key's */
  int tsig_not_last;       /* append an A RR (owner root) after the TSIG, ADCOUNT counting it */
  uint64_t fixed_time;     /* non-zero: Time Signed (seconds since the epoch) instead of the clock */
} acmeh_tsig_mut;

/* A message ready to send: wire bytes and what verifying its answer needs. */
typedef struct {
  uint8_t *wire;           /* owned; the exact bytes to send */
  size_t len;
  uint16_t id;
  int is_signed;           /* a TSIG is present */
  uint8_t mac[64];         /* the request MAC as sent (after any corruption) */
  size_t mac_len;
  uint64_t time_signed;    /* seconds since the epoch, as written */
  uint16_t fudge;
  acmeh_tsig_key key;      /* copy of the signing key */
} acmeh_dnsup_msg;

/* Serializes `u` and signs it with `key` (NULL or mut->unsigned_msg = unsigned)
 * per RFC 8945 §4.3 / §5.1, applying `mut` (NULL = none). Fills *out (free with
 * acmeh_dnsup_msg_clear). Returns ACMEH_OK, ACMEH_NOMEM, ACMEH_INTERNAL. */
int acmeh_dnsup_sign(const acmeh_dnsup *u, const acmeh_tsig_key *key, const acmeh_tsig_mut *mut,
                     acmeh_dnsup_msg *out);
void acmeh_dnsup_msg_clear(acmeh_dnsup_msg *m);

/* How the answer's TSIG fared (RFC 8945 §5.4). */
typedef enum {
  ACMEH_TSIG_ABSENT = 0,   /* no TSIG RR in the answer */
  ACMEH_TSIG_UNSIGNED,     /* TSIG with MAC Size 0 (§5.3.2 error form) */
  ACMEH_TSIG_VERIFIED,     /* MAC verifies with the request's key over request MAC + answer */
  ACMEH_TSIG_BAD           /* MAC present but wrong, or other key/algorithm */
} acmeh_tsig_state;

/* What came back. */
typedef struct {
  uint16_t id;
  int qr, opcode, rcode;   /* header fields */
  int tcp;                 /* the answer came over TCP (UDP answer had TC) */
  acmeh_tsig_state tsig;
  int tsig_error;          /* the TSIG Error field (0 if no TSIG) */
  char tsig_key[256];      /* key name in the answer's TSIG */
  char tsig_alg[64];       /* algorithm name in it */
  uint64_t tsig_time;      /* its Time Signed */
  uint16_t tsig_fudge;
  size_t tsig_mac_len;
  int other_len;           /* Other Len */
  uint64_t server_time;    /* Other Data as a 48-bit time when other_len == 6 */
  char *text;              /* malloc'd presentation form (ldns) for transcripts, or NULL */
} acmeh_dnsup_resp;

/* Sends `m` to addr:port (numeric IPv4/IPv6 loopback) over UDP, waits at most
 * `timeout_ms` for an answer with the same ID, retries over TCP when it has TC,
 * parses it and verifies its TSIG against the request MAC and key (when the
 * request was signed). Fills *r (free with acmeh_dnsup_resp_clear).
 * Returns ACMEH_OK (any RCODE), ACMEH_PEER_TIMEOUT, ACMEH_PEER_UNREACHABLE,
 * ACMEH_PEER_PROTOCOL (unparseable answer) with the reason in err. */
int acmeh_dnsup_send(const char *addr, int port, const acmeh_dnsup_msg *m, int timeout_ms, acmeh_dnsup_resp *r,
                     char *err, size_t errlen);
void acmeh_dnsup_resp_clear(acmeh_dnsup_resp *r);

/* How acmeh_dnsup_send reads an answer once it has arrived: header fields,
 * the presentation form, and the last additional RR's TSIG checked against
 * request `m` (NULL or unsigned: any MAC counts as ACMEH_TSIG_BAD) per RFC 8945
 * §5.3/§5.4. Public so the reader can be driven without a socket
 * (tests/fuzz/fuzz_dns_response.c). `w` is len bytes from the peer, never
 * trusted. Fills *r (r->tcp left 0; free with acmeh_dnsup_resp_clear, also on
 * error). Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL when shorter than a header
 * or the TSIG RR is malformed. */
int acmeh_dnsup_resp_read(const acmeh_dnsup_msg *m, const uint8_t *w, size_t len, acmeh_dnsup_resp *r);

/* A plain query (RD=0) for name/type ("TXT", "A"). Fills *rcode and the
 * answer's rdata of that type, one string per RR in presentation form, joined
 * by '\n' into *answers (malloc'd, "" when none). Same returns as send. */
int acmeh_dns_query(const char *addr, int port, const char *name, const char *type, int timeout_ms,
                    int *rcode, char **answers, char *err, size_t errlen);

/* How acmeh_dns_query reads its answer: message `w` (len bytes from the peer)
 * parsed by ldns, *rcode its RCODE and *answers (malloc'd, caller frees; ""
 * when none) the rdata of every answer RR of `type` (an RR type number),
 * as acmeh_dns_query describes. Returns ACMEH_OK, ACMEH_PEER_PROTOCOL (does
 * not parse; *answers NULL) or ACMEH_NOMEM. */
int acmeh_dns_answers_read(const uint8_t *w, size_t len, uint16_t type, int *rcode, char **answers);

/* The presentation form of a message's wire bytes (ldns), malloc'd, or NULL. */
char *acmeh_dns_wire_text(const uint8_t *wire, size_t len);

/* The reference client's dns-01 publication by UPDATE instead of the mocks
 * (acme-harness run --dns-update-server / --tsig-key): */
typedef struct {
  char addr[64];           /* numeric address of the primary, e.g. "127.0.0.1" */
  int port;
  char zone[256];          /* zone apex the records live in */
  acmeh_tsig_key key;
  uint32_t ttl;            /* TXT TTL in seconds (0 = 60) */
  int timeout_ms;          /* per UPDATE (0 = 3000) */
} acmeh_dnsupdate_cfg;

/* A publisher (harness/client/publish.h) whose TXT records go in by signed
 * UPDATE to cfg's primary (cfg copied), requiring NOERROR and a verified
 * answer TSIG (RFC 8945 §5.4), and are removed one RR at a time (CLASS NONE,
 * so other clients' values at the same owner stay); http-01 and tls-alpn-01
 * go to the mocks `m` (borrowed). Thread-safe. Fills *p; release with
 * acmeh_publisher_dns_update_free. Returns ACMEH_OK or ACMEH_NOMEM. */
int acmeh_publisher_dns_update(acmeh_publisher *p, acmeh_mocks *m, const acmeh_dnsupdate_cfg *cfg);
void acmeh_publisher_dns_update_free(acmeh_publisher *p);

/* The nameserver under test, as the DNSUP-S checks see it (acmeh_env.nameserver),
 * filled from the target's "nameserver" object. */
typedef struct acmeh_ns_env {
  char addr[64];           /* numeric loopback address */
  int port;                /* UDP and TCP */
  char zone[256];          /* a zone it is primary for, with final dot */
  acmeh_tsig_key key;      /* may update TXT at names under _acme-challenge.<zone> only */
  int have_key512;
  acmeh_tsig_key key512;   /* hmac-sha512 key with the same policy, when have_key512 */
  int have_other;
  acmeh_tsig_key other;    /* a key whose policy covers only other_scope */
  char other_scope[256];   /* e.g. "other.<zone>" */
} acmeh_ns_env;

#endif
