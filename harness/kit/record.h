/* Check-writing kit for client checks: reading the record of a scenario
 * (runner/scenario.h), exchange by exchange, with typed fields instead of
 * string keys. An exchange is the JSON object harness/server/server.h
 * describes; acmeh_kit_exchange_read gives its fields. */
#ifndef ACMEH_KIT_RECORD_H
#define ACMEH_KIT_RECORD_H

#include <jansson.h>

#include "harness/runner/check.h"
#include "harness/runner/scenario.h"

/* One exchange as the reference server saw it. Strings and objects are
 * borrowed from the exchange object; absent fields are NULL / 0. */
typedef struct {
  long long seq;             /* 1-based, in the order answers were given */
  long long time_ms;         /* ms since the server started */
  const char *method, *url, *path;
  const char *resource;      /* "newOrder", "challenge", ... (server.h) */
  const json_t *req_headers; /* {lower-case name: value} */
  const json_t *protected_hdr; /* the JWS protected header decoded, NULL when no JWS */
  const char *payload;       /* the JWS payload decoded ("" = POST-as-GET), NULL when no JWS */
  const char *jws_error;     /* why the body is not a well-formed flattened JWS, or NULL */
  const char *account;       /* the account URL it was authenticated as, or NULL */
  long status;               /* HTTP status of the answer (0: dropped) */
  const json_t *resp_headers;
  const char *resp_body;     /* first 64 KiB */
  const json_t *faults;      /* names of the fault rules applied (array) */
} acmeh_kit_exchange;

/* Every exchange of a run in order: ACMEH_KIT_EACH(run, i, x) { ... } with
 * size_t i and json_t *x (the raw object). A NULL run has none. */
#define ACMEH_KIT_EACH(r, i, x) json_array_foreach((r) ? (r)->exchanges : NULL, i, x)

/* Fills *e from exchange object x (zeroed first). */
void acmeh_kit_exchange_read(const json_t *x, acmeh_kit_exchange *e);

/* Request / response header `name` (lower-case) of e, or NULL. */
const char *acmeh_kit_req_header(const acmeh_kit_exchange *e, const char *name);
const char *acmeh_kit_resp_header(const acmeh_kit_exchange *e, const char *name);

/* String member k of object x (borrowed), NULL when absent or not a string. */
const char *acmeh_kit_x_field(const json_t *x, const char *k);
/* The "seq" of exchange x. */
long long acmeh_kit_x_seq(const json_t *x);
/* 1 when exchange x is `method` to `resource` (NULL = any resource). */
int acmeh_kit_x_is(const json_t *x, const char *method, const char *resource);
/* Wall-clock time (s since the epoch) at which exchange x of run r was answered. */
double acmeh_kit_x_wall(const acmeh_client_run *r, const json_t *x);
/* The newOrder payload of x parsed (new reference), NULL when x is not a newOrder. */
json_t *acmeh_kit_x_order_payload(const json_t *x);

/* The record of scenario `scenario` into *r; fails the check when the client
 * sent no request at all. Returns as acmeh_scenario_get. */
int acmeh_kit_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r);

/* 1 when the target file's (or the run's) "claims" has `name`: true. */
int acmeh_kit_claims(const acmeh_check_ctx *ctx, const char *name);
/* 1 when the client target's "claims" has `name`: false (declared absent). */
int acmeh_kit_disclaims(const acmeh_check_ctx *ctx, const char *name);

#endif
