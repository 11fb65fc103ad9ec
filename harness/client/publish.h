/* Publishers: where the reference client puts its challenge responses. One
 * travels in the run's environment (acmeh_env.publisher) and is passed to
 * every flow call, so no process-wide mode decides where a record goes
 * (docs/architecture.md, "Challenge types and publishers"). */
#ifndef ACMEH_CLIENT_PUBLISH_H
#define ACMEH_CLIENT_PUBLISH_H

#include <stddef.h>

#include "mocks/mocks.h"

typedef struct acmeh_publisher acmeh_publisher;

/* Each operation returns ACMEH_OK or an error code with the reason in err
 * (errlen bytes); the removals are best effort (the challenge is decided). */
struct acmeh_publisher {
  const char *name; /* "mocks", "dns-update": for messages */
  /* A TXT record `value` at `host` (e.g. "_acme-challenge.www.example.com", no final dot). */
  int (*set_txt)(const acmeh_publisher *p, const char *host, const char *value, char *err, size_t errlen);
  void (*clear_txt)(const acmeh_publisher *p, const char *host);
  /* The http-01 resource /.well-known/acme-challenge/<token> serving `keyauth`. */
  int (*add_http01)(const acmeh_publisher *p, const char *token, const char *keyauth, char *err, size_t errlen);
  void (*del_http01)(const acmeh_publisher *p, const char *token);
  /* A tls-alpn-01 validation certificate for `name` carrying `keyauth`'s digest. */
  int (*add_tlsalpn01)(const acmeh_publisher *p, const char *name, const char *keyauth, char *err, size_t errlen);
  void (*del_tlsalpn01)(const acmeh_publisher *p, const char *name);
  /* A CNAME at `host` to `target` (a delegated validation name), and its removal. */
  int (*set_cname)(const acmeh_publisher *p, const char *host, const char *target, char *err, size_t errlen);
  void (*clear_cname)(const acmeh_publisher *p, const char *host);
  /* What the validator asked of the responders for `host`, in the mocks'
   * shape (acmeh_mocks_history: kind "http", "dns", "tlsalpn"); a new array
   * reference the caller decrefs, NULL on failure. NULL here: the mocks' own
   * history (acmeh_kit_history reads it from p->mocks). */
  json_t *(*history)(const acmeh_publisher *p, const char *kind, const char *host);
  acmeh_mocks *mocks; /* what the mocks publisher writes into (borrowed) */
  void *state;        /* the publisher's own, when it has any */
};

/* A publisher that writes into the mocks' stores (DNS, HTTP-01, TLS-ALPN-01)
 * of `m` (borrowed; must outlive the publisher). Fills *p. */
void acmeh_publisher_mocks(acmeh_publisher *p, acmeh_mocks *m);

#endif
