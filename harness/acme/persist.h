/* dns-persist-01 record material (draft-ietf-acme-dns-persist, every
 * revision): the validation domain name, the RFC 8659 issue-value record
 * (build and parse), the -02 hashed account URI and issuer-name syntax.
 * Both reference sides use it: the client to publish, the server to judge.
 * Digest: /work/shared/specs/dns-persist.md §1-§4. */
#ifndef ACMEH_ACME_PERSIST_H
#define ACMEH_ACME_PERSIST_H

#include <stddef.h>

/* The wire formats. Zero is the newest (acmeh_wire's rule):
 * ACMEH_PERSIST_I2 = draft-ietf-acme-dns-persist-02: challenge field
 *   "issuerDomainNames", no "accounturi" in the challenge, directory meta
 *   "accountHashPrefix" and "issuerDomainNames", record accounturi =
 *   <prefix>"sha-256/"<digest> (§3.2, §4.1);
 * ACMEH_PERSIST_I1 = draft-ietf-acme-dns-persist-01: "issuer-domain-names"
 *   plus the challenge "accounturi", used verbatim in the record (§3.1);
 * ACMEH_PERSIST_R0 = draft-sheurich-acme-dns-persist-00/-01 and
 *   draft-ietf-acme-dns-persist-00: "issuer-domain-names" only, record
 *   accounturi = the account URL (§3.1, §4). */
typedef enum { ACMEH_PERSIST_I2 = 0, ACMEH_PERSIST_I1 = 1, ACMEH_PERSIST_R0 = 2 } acmeh_persist_rev;

#define ACMEH_PERSIST_MAX_ISSUERS 10 /* §3.1: the challenge lists 1..10 names */
#define ACMEH_PERSIST_MAX_RECORD 65535 /* one TXT RDATA can never be longer */

/* The challenge member holding the issuer list in revision `rev`. */
const char *acmeh_persist_issuers_field(acmeh_persist_rev rev);

/* "_validation-persist.<base>" for `identifier` ("*.<base>" for a wildcard;
 * a trailing dot dropped). malloc'd, caller frees; NULL when the name would
 * exceed 253 characters, on bad arguments or no memory. */
char *acmeh_persist_name(const char *identifier);

/* 1 when `name` is an issuer domain name in the form the challenge must carry
 * (§3.1): 1..253 octets, lower-case LDH labels of 1..63 octets (A-labels),
 * no trailing dot. Else 0 and the reason in why (whylen bytes, may be 0). */
int acmeh_persist_issuer_ok(const char *name, char *why, size_t whylen);

/* The -02 account digest (§4.1, §10.2): base64url without padding of
 * SHA-256(len(domain) as one octet || domain || thumbprint || account_url),
 * where thumbprint is the 43-character base64url RFC 7638 thumbprint text and
 * domain the record's FQDN (lower case, no trailing dot) or "*". Writes 43
 * characters + NUL into out. Returns ACMEH_OK, ACMEH_INVALID_ARG (NULL
 * argument, domain empty or over 255 octets), ACMEH_INTERNAL. */
int acmeh_persist_account_hash(const char *domain, const char *thumbprint, const char *account_url, char out[44]);

/* The record text "<issuer>; accounturi=<account>[; policy=wildcard]
 * [; persistUntil=<until>]" (every revision's grammar; until < 0 = none).
 * malloc'd, caller frees; NULL on bad arguments / no memory. */
char *acmeh_persist_record(const char *issuer, const char *account, int wildcard, long long until);

/* One parsed record. Strings are malloc'd, freed by acmeh_persist_rec_free. */
typedef struct {
  char *issuer;      /* the issuer-domain-name as written, white space trimmed */
  char *accounturi;  /* NULL when absent */
  int wildcard;      /* policy=wildcard (value case-insensitive); any other value = absent */
  int has_until;     /* persistUntil present */
  long long until;   /* its value, seconds since the epoch */
} acmeh_persist_rec;

/* Parses record text (len octets, the TXT strings joined) by RFC 8659 §4.2:
 * issuer, then ";"-separated tag=value parameters, tags case-insensitive,
 * unknown tags ignored (§4). Only the issuer is set when the text is
 * malformed. Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL with the reason in why
 * (empty issuer, empty parameter or trailing ";", no "=", empty tag, a value
 * with a space, control or non-ASCII octet or ";", a known tag twice,
 * persistUntil not a base-10 integer), ACMEH_NOMEM. */
int acmeh_persist_parse(const char *text, size_t len, acmeh_persist_rec *out, char *why, size_t whylen);
void acmeh_persist_rec_free(acmeh_persist_rec *r);

/* Lower-cases `name` in place and drops one trailing dot: the comparison form
 * of an issuer name written in a record. Returns name. */
char *acmeh_persist_issuer_norm(char *name);

#endif
