/* The reference client's log of the ACME objects it receives: which kind
 * each response body is (by the URL it came from and what earlier objects
 * said that URL is), checked against its schema (harness/acme/schema.h) and
 * put in the run's schema log, with each violation noted in the transcript.
 * Used by acme.c when its config has a schema_log; not thread-safe (one per
 * engine). */
#ifndef ACMEH_CLIENT_OBJLOG_H
#define ACMEH_CLIENT_OBJLOG_H

#include <jansson.h>

#include "harness/acme/schema.h"
#include "harness/client/http.h"

typedef struct acmeh_objlog acmeh_objlog;

/* A new object log writing into `log` as `origin` (both borrowed, must
 * outlive it) for the server whose directory is `directory_url` (copied).
 * NULL when log is NULL or without memory. Free with acmeh_objlog_free. */
acmeh_objlog *acmeh_objlog_new(acmeh_schema_log *log, const char *origin, const char *directory_url);
void acmeh_objlog_free(acmeh_objlog *o);

/* One complete response to `method` `url`: when its body is a JSON object
 * of a known kind (a problem document for any 4xx/5xx; by URL for 2xx: the
 * directory, newAccount / the account URL `kid` -> account, newOrder and
 * URLs named as orders or finalize -> order, newAuthz and an order's
 * authorizations -> authorization, an authorization's challenge URLs ->
 * challenge, under the directory's renewalInfo -> renewalInfo), logs it and
 * notes its violations through h's transcript, then learns the URLs it names.
 * `dir` is the directory object (NULL before it arrived). o NULL: no-op. */
void acmeh_objlog_response(acmeh_objlog *o, const json_t *dir, const char *kid, acmeh_http *h, const char *method,
                           const char *url, const acmeh_http_resp *r);

#endif
