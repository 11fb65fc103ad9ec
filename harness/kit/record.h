/* Check-writing kit for client checks: reading the record of a scenario
 * (runner/scenario.h), exchange by exchange, with typed fields instead of
 * string keys. An exchange is the JSON object harness/server/server.h
 * describes, a validation the one acmeh_server_validation_observer gets;
 * acmeh_kit_exchange_read and acmeh_kit_validation_read give their fields. */
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
  const char *method, *url, *path; /* "" when the server refused the request unparsed */
  const char *resource;      /* "newOrder", "challenge", ... (server.h) */
  const json_t *req_headers; /* {lower-case name: value} */
  const char *req_body;      /* the body as text (first 64 KiB; bytes outside UTF-8 as \xNN) */
  long long req_body_len;    /* the body's total bytes */
  int has_jws;               /* 1 when the request had a body, so the JWS fields below were read from it (well-formed or not) */
  const json_t *protected_hdr; /* the JWS protected header decoded, NULL when no JWS or not a JSON object */
  const char *protected_b64, *payload_b64, *signature_b64; /* the flattened JWS members as sent, NULL when absent */
  const char *payload;       /* the JWS payload decoded ("" = POST-as-GET), NULL when no JWS */
  const char *jws_error;     /* why the body is not a well-formed flattened JWS, or NULL */
  const char *account;       /* the account URL it was authenticated as, or NULL */
  long status;               /* HTTP status of the answer (0: dropped) */
  const json_t *resp_headers;
  const char *resp_body;     /* first 64 KiB */
  const json_t *faults;      /* names of the fault rules applied (array) */
} acmeh_kit_exchange;

/* Fills *e from exchange object x (zeroed first; a NULL x leaves it zeroed). */
void acmeh_kit_exchange_read(const json_t *x, acmeh_kit_exchange *e);

/* Exchange i (0-based) of run r into *e; 0 when r is NULL or has no exchange
 * i (then *e is left as it was), else 1. */
int acmeh_kit_exchange_at(const acmeh_client_run *r, size_t i, acmeh_kit_exchange *e);

/* Every exchange of a run in order: ACMEH_KIT_EACH(run, i, e) { ... } with
 * size_t i and acmeh_kit_exchange e, read afresh for each. A NULL run has none. */
#define ACMEH_KIT_EACH(r, i, e) for ((i) = 0; acmeh_kit_exchange_at((r), (i), &(e)); (i)++)

/* Request / response header `name` (lower-case) of e, or NULL. */
const char *acmeh_kit_req_header(const acmeh_kit_exchange *e, const char *name);
const char *acmeh_kit_resp_header(const acmeh_kit_exchange *e, const char *name);

/* 1 when e is `method` to `resource` (NULL = any resource). */
int acmeh_kit_is(const acmeh_kit_exchange *e, const char *method, const char *resource);
/* Wall-clock time (s since the epoch) at which exchange e of run r was answered. */
double acmeh_kit_wall(const acmeh_client_run *r, const acmeh_kit_exchange *e);
/* e's JWS payload parsed as JSON (new reference), NULL when there is none or
 * it is not JSON ("" of a POST-as-GET included). */
json_t *acmeh_kit_payload_json(const acmeh_kit_exchange *e);
/* The newOrder payload of e parsed (new reference), NULL when e is not a newOrder. */
json_t *acmeh_kit_order_payload(const acmeh_kit_exchange *e);
/* e's response body parsed as JSON (new reference), NULL when it is not JSON. */
json_t *acmeh_kit_resp_json(const acmeh_kit_exchange *e);

/* One validation the reference server ran (server.h,
 * acmeh_server_validation_observer). Borrowed like an exchange's fields. */
typedef struct {
  const char *challenge;  /* the challenge URL */
  const char *type;       /* "http-01", "dns-01", ... */
  const char *identifier; /* the name validated (a wildcard's base name) */
  long long arrived_ms;   /* when the challenge response that started it arrived */
  long long started_ms, ended_ms; /* when the lookup itself ran */
  const char *status;     /* "valid" | "invalid" | "cancelled" */
  const char *error_detail; /* the "detail" of an invalid one's problem document, or NULL */
} acmeh_kit_validation;

/* Fills *v from validation object x (zeroed first). */
void acmeh_kit_validation_read(const json_t *x, acmeh_kit_validation *v);

/* Every validation of a run in order: ACMEH_KIT_EACH_VALIDATION(run, i, v)
 * { ... } with size_t i and acmeh_kit_validation v. A NULL run has none. */
int acmeh_kit_validation_at(const acmeh_client_run *r, size_t i, acmeh_kit_validation *v);
#define ACMEH_KIT_EACH_VALIDATION(r, i, v) for ((i) = 0; acmeh_kit_validation_at((r), (i), &(v)); (i)++)

/* The record of scenario `scenario` into *r; fails the check when the client
 * sent no request at all. Returns as acmeh_scenario_get. */
int acmeh_kit_record(acmeh_check_ctx *ctx, const char *scenario, const acmeh_client_run **r);

/* ACMEH_OK when some exchange of `r` had one of the scenario's fault rules
 * applied. When none did: the client never sent a POST to `resource` (the
 * one the scenario disturbs) -> acmeh_kit_unreached's verdict; it did and the
 * rule still never fired -> ACMEH_INTERNAL (the scenario says nothing about
 * the client, the harness's error). */
int acmeh_kit_fault_fired(acmeh_check_ctx *ctx, const acmeh_client_run *r, const char *resource);

/* A client check whose scenario never reached what it judges (`what`, e.g.
 * "the client never finalized"): when the client's run ended in failure (a
 * non-zero exit, a time-out), no rule of this check was exercised, so it is
 * blocked, naming the scenario and how the client ended; when the client
 * ended well, the check fails: acmeh_check_fail(ctx, expected, what). */
int acmeh_kit_unreached(acmeh_check_ctx *ctx, const acmeh_client_run *r, const char *expected, const char *what);

/* 1 when the target file's (or the run's) "claims" has `name`: true. */
int acmeh_kit_claims(const acmeh_check_ctx *ctx, const char *name);
/* 1 when the client target's "claims" has `name`: false (declared absent). */
int acmeh_kit_disclaims(const acmeh_check_ctx *ctx, const char *name);

#endif
