/* Object schemas of ACME messages: the fields each object kind must or may
 * carry, their JSON types, RFC 3339 timestamps, URLs and status values.
 * Responses: RFC 8555 §7.1.1 (directory), §7.1.2 (account), §7.1.3 (order),
 * §7.1.4 (authorization), §7.1.5 / §8 (challenge), §6.7 (problem document,
 * RFC 7807), RFC 9773 §4.2 (renewalInfo). Requests (the payloads a client
 * sends): §7.3 (newAccount), §7.4 (newOrder, finalize), §7.5.1 (challenge
 * response), §7.6 (revokeCert), §7.3.5 (keyChange).
 *
 * The rules are a table per kind (schema.c). A log gathers what the objects
 * a run saw looked like, once per (origin, kind, field): the reference client
 * fills it with every response it parses, the runner judges the schema checks
 * from it (docs/architecture.md, "Object schemas"). */
#ifndef ACMEH_ACME_SCHEMA_H
#define ACMEH_ACME_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

/* Response kinds: "directory", "account", "order", "authorization",
 * "challenge", "problem", "renewalInfo". Request kinds (payloads):
 * "newAccount", "newOrder", "finalize", "challengeResponse", "revokeCert",
 * "keyChange". */

/* Called once per object a walk meets: the object itself, then the objects
 * nested in it that have their own kind (an authorization's challenges, an
 * order's or challenge's error, a problem's subproblems; 8 levels deep at
 * most). `kind` is the
 * object's kind, `path` where it sits ("authorization.challenges[1]", or the
 * kind for the top object), `field` the first field that breaks the kind's
 * rules ("order.expires", kind-rooted) and `msg` the violation
 * ("order.expires: not an RFC 3339 timestamp (got \"tomorrow\")"), both NULL
 * when the object conforms. Strings are valid during the call only. */
typedef void (*acmeh_schema_visit)(void *ud, const char *kind, const char *path, const char *field,
                                   const char *msg);

/* Checks `obj` against the rules of `kind` and walks its nested objects,
 * calling visit for each (see above). Returns the number of objects that broke
 * their rules, or -1 when `kind` is unknown (visit not called). */
int acmeh_schema_walk(const char *kind, const json_t *obj, acmeh_schema_visit visit, void *ud);

/* The first violation of `obj` against `kind` alone (nested kinds only checked
 * to be objects): field path into field (flen bytes), message into msg (mlen
 * bytes). Returns 0 when it conforms, 1 on a violation, -1 for an unknown kind. */
int acmeh_schema_check(const char *kind, const json_t *obj, char *field, size_t flen, char *msg, size_t mlen);

/* 1 when `kind` is one of the kinds above. */
int acmeh_schema_known(const char *kind);

/* A thread-safe log of the objects a run checked. */
typedef struct acmeh_schema_log acmeh_schema_log;

/* A new, empty log, or NULL without memory. Free with acmeh_schema_log_free
 * (NULL is a no-op). */
acmeh_schema_log *acmeh_schema_log_new(void);
void acmeh_schema_log_free(acmeh_schema_log *log);

/* Walks `obj` as `kind` (acmeh_schema_walk) and logs it: each object met
 * counts for its kind; each violation is kept once per (origin, kind, field),
 * the first time, with `origin` (a check ID, or "scenario NAME") and `where`
 * (the exchange: "POST https://... answered 201"). A NULL log is a no-op.
 * Returns the number of violations found in obj (0 when none or no log). */
int acmeh_schema_log_object(acmeh_schema_log *log, const char *origin, const char *kind, const json_t *obj,
                            const char *where);

/* How many objects of `kind` the log counted. */
size_t acmeh_schema_log_count(acmeh_schema_log *log, const char *kind);

/* The violations logged for `kind`, one per field, in the order first seen:
 * "<msg> (first in <origin>: <where>) (also in N more: <origins>)" (the
 * other origins that logged the same field, the first 8 named), joined by
 * "; " (malloc'd, caller frees); NULL when there is none; *n (may be NULL)
 * gets the number of fields. */
char *acmeh_schema_log_violations(acmeh_schema_log *log, const char *kind, size_t *n);

#endif
