/* Challenge types as the reference client answers them: one row per type,
 * with the identifier types it serves and how its response is published and
 * removed through a publisher (publish.h). Adding a challenge type to the
 * client is one row plus its two functions (chaltype.c). The reference
 * server's validation of each type is in harness/server/validate.c. */
#ifndef ACMEH_CLIENT_CHALTYPE_H
#define ACMEH_CLIENT_CHALTYPE_H

#include <jansson.h>
#include <stddef.h>

#include "harness/client/acme.h"
#include "harness/client/publish.h"

/* One response to publish or remove. Everything is borrowed. */
typedef struct {
  acmeh_acme *c;              /* the client whose account answers (its kid, for dns-account-01) */
  const acmeh_publisher *pub; /* where the response goes */
  const json_t *chal;         /* the challenge object (type, token, url) */
  const char *name;           /* the identifier's value (a wildcard's base name) */
  int wildcard;               /* the authorization is for "*.<name>" (RFC 8555 §7.1.4) */
  const char *keyauth;        /* token "." thumbprint (RFC 8555 §8.1); NULL when removing */
} acmeh_chal_response;

typedef struct {
  const char *name;                    /* "dns-01" */
  const char *const *identifier_types; /* NULL-terminated, e.g. {"dns", NULL} */
  /* Puts the response in place. Returns ACMEH_OK or an error (reason in err). */
  int (*publish)(const acmeh_chal_response *r, char *err, size_t errlen);
  /* Removes what publish put in place (best effort). */
  void (*unpublish)(const acmeh_chal_response *r);
  /* 1 when the server's validation connects to where the client is (http-01,
   * tls-alpn-01): a client that answers by its own listener then owns the
   * validation ports; 0 when it looks the answer up in DNS. */
  int client_listens;
  /* The challenge response's payload (malloc'd JSON text) for types whose
   * answer travels in the POST itself (device-attest-01's {"attObj": ...});
   * NULL (the function, or its result on failure) = "{}" (RFC 8555 §7.5.1). */
  char *(*payload)(const acmeh_chal_response *r);
} acmeh_chaltype;

/* The row of challenge type `name`, or NULL when the client does not answer it. */
const acmeh_chaltype *acmeh_chaltype_find(const char *name);

/* Every row, NULL-terminated. */
const acmeh_chaltype *const *acmeh_chaltypes(void);

#endif
