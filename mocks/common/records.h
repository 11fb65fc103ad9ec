/* The mocks' record store: DNS records, HTTP-01 tokens and TLS-ALPN-01
 * certificates. Written by check threads (through mocks.h) and by the
 * management API, read by the responders on the loop thread, so every
 * function takes the store's mutex. Host names are normalised (ASCII lower
 * case, no trailing dot); HTTP-01 tokens are compared exactly. */
#ifndef ACMEH_MOCKS_RECORDS_H
#define ACMEH_MOCKS_RECORDS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

typedef enum {
  ACMEH_REC_A,
  ACMEH_REC_AAAA,
  ACMEH_REC_TXT,
  ACMEH_REC_CAA,
  ACMEH_REC_CNAME,
  ACMEH_REC_SERVFAIL,
  ACMEH_REC_HTTP01,
  ACMEH_REC_TLSALPN,
  ACMEH_REC_KIND_COUNT
} acmeh_rec_kind;

/* One record as handed to an iteration callback; pointers are valid only
 * during the callback (the store is locked). */
typedef struct {
  acmeh_rec_kind kind;
  const char *key;   /* normalised name or token */
  const char *value; /* address, TXT string, CAA value, CNAME target, content, keyauth */
  const char *tag;   /* CAA tag, else NULL */
  int flags;         /* CAA flags */
} acmeh_rec;

typedef struct acmeh_records acmeh_records;

/* Normalises a host name into out (outlen bytes): lower case, one trailing dot
 * removed. Returns ACMEH_OK or ACMEH_INVALID_ARG (empty, too long, NUL-free
 * name required). */
int acmeh_records_norm(const char *host, char *out, size_t outlen);

/* New empty store; default_ipv4 may be NULL (= no default A answer). Caller
 * frees with acmeh_records_free. Returns NULL when out of memory or the
 * default is not an IPv4 literal. */
acmeh_records *acmeh_records_new(const char *default_ipv4);
void acmeh_records_free(acmeh_records *r);

/* Adds one record. A/AAAA values must be address literals of their family
 * (duplicates are ignored); CNAME, HTTP01 and SERVFAIL replace the previous
 * record of that key; TXT and CAA accumulate. `tag`/`flags` only for CAA.
 * Returns ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_records_add(acmeh_records *r, acmeh_rec_kind kind, const char *key, const char *value,
                      const char *tag, int flags);

/* Adds a TLS-ALPN-01 certificate for `host` (also reachable by its
 * in-addr.arpa / ip6.arpa name when host is an IP literal, since that is the
 * SNI RFC 8738 clients send). Takes a reference on key and cert (the caller
 * keeps its own). Replaces an older entry. Returns ACMEH_OK,
 * ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_records_add_tlsalpn(acmeh_records *r, const char *host, const char *keyauth,
                              EVP_PKEY *key, X509 *cert);

/* Removes every record of `kind` for `key`. Returns the number removed. */
int acmeh_records_del(acmeh_records *r, acmeh_rec_kind kind, const char *key);

/* Removes the records of `kind` under `key` whose value equals `value`
 * exactly (RFC 2136 §2.5.4 delete of one RR). Returns the number removed. */
int acmeh_records_del_value(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                            const char *value);

/* Runs fn(r, ud) with the store locked, so a DNS UPDATE's prerequisite checks
 * and changes are atomic for every other thread (the lock is recursive: fn
 * may call the other functions here). Returns fn's result, or
 * ACMEH_INVALID_ARG for NULL arguments. */
int acmeh_records_txn(acmeh_records *r, int (*fn)(acmeh_records *r, void *ud), void *ud);

/* Calls fn (may be NULL) for each record of `kind` under `key`, in insertion
 * order, with the store locked (fn must not call back into the store).
 * Returns the count. Lookups by kind and key are hashed: their cost does not
 * grow with the rest of the store. */
int acmeh_records_each(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                       void (*fn)(const acmeh_rec *rec, void *ud), void *ud);

/* Copies the first value of kind/key into a new malloc'd string (caller
 * frees); NULL when there is none. */
char *acmeh_records_get(acmeh_records *r, acmeh_rec_kind kind, const char *key);

/* Whether any record of `kind` exists under `key`. */
int acmeh_records_has(acmeh_records *r, acmeh_rec_kind kind, const char *key);

/* Whether a record of `kind` under `key` has exactly `value` (RFC 2136
 * §2.5.1 duplicate check); costs what that key holds, hashed. */
int acmeh_records_has_value(acmeh_records *r, acmeh_rec_kind kind, const char *key,
                            const char *value);

/* The TLS-ALPN-01 key and certificate for SNI `host`, each with a new
 * reference the caller drops. Returns ACMEH_OK or ACMEH_INVALID_ARG (none). */
int acmeh_records_tlsalpn(acmeh_records *r, const char *host, EVP_PKEY **key, X509 **cert);

/* Default A answer for names without A records; copies into out (>= 46
 * bytes), "" when none. Set with NULL or "" to disable. Returns ACMEH_OK or
 * ACMEH_INVALID_ARG. */
void acmeh_records_default_ipv4(acmeh_records *r, char out[46]);
int acmeh_records_set_default_ipv4(acmeh_records *r, const char *ipv4);
void acmeh_records_default_ipv6(acmeh_records *r, char out[46]);
int acmeh_records_set_default_ipv6(acmeh_records *r, const char *ipv6);

#endif
