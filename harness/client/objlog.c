/* The reference client's log of received ACME objects (objlog.h). */
#include "harness/client/objlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/client/acme.h"

/* URLs remembered per engine; the oldest is forgotten past this (a check
 * rarely follows more than a few orders). */
#define KNOWN_MAX 64

typedef struct {
  char *url;
  const char *kind; /* static */
} known;

struct acmeh_objlog {
  acmeh_schema_log *log;
  const char *origin;
  char *directory_url;
  known urls[KNOWN_MAX];
  size_t n;
};

acmeh_objlog *acmeh_objlog_new(acmeh_schema_log *log, const char *origin, const char *directory_url) {
  if (!log) return NULL;
  acmeh_objlog *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->log = log, o->origin = origin;
  o->directory_url = directory_url ? strdup(directory_url) : NULL;
  return o;
}

void acmeh_objlog_free(acmeh_objlog *o) {
  if (!o) return;
  for (size_t i = 0; i < o->n; i++) free(o->urls[i].url);
  free(o->directory_url);
  free(o);
}

static const char *known_kind(const acmeh_objlog *o, const char *url) {
  for (size_t i = o->n; i-- > 0;)
    if (strcmp(o->urls[i].url, url) == 0) return o->urls[i].kind;
  return NULL;
}

static void learn(acmeh_objlog *o, const char *url, const char *kind) {
  if (!url || known_kind(o, url)) return;
  char *dup = strdup(url);
  if (!dup) return;
  if (o->n == KNOWN_MAX) { /* forget the oldest */
    free(o->urls[0].url);
    memmove(o->urls, o->urls + 1, (KNOWN_MAX - 1) * sizeof *o->urls);
    o->n--;
  }
  o->urls[o->n++] = (known){dup, kind};
}

static int same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The kind of a 2xx JSON object from `method` `url`, or NULL when none of ours. */
static const char *kind_of(const acmeh_objlog *o, const json_t *dir, const char *kid, const char *method, const char *url) {
  if (strcmp(method, "GET") == 0) {
    const char *ri = json_string_value(json_object_get(dir, "renewalInfo"));
    if (same(url, o->directory_url)) return "directory";
    return ri && *ri && strncmp(url, ri, strlen(ri)) == 0 ? "renewalInfo" : NULL;
  }
  if (strcmp(method, "POST") != 0) return NULL;
  if (same(url, json_string_value(json_object_get(dir, "newAccount"))) || same(url, kid)) return "account";
  if (same(url, json_string_value(json_object_get(dir, "newOrder")))) return "order";
  if (same(url, json_string_value(json_object_get(dir, "newAuthz")))) return "authorization";
  return known_kind(o, url);
}

/* What an object tells about URLs: an account's or order's Location, an
 * order's authorizations and finalize, an authorization's challenges. */
static void learn_from(acmeh_objlog *o, const char *kind, const json_t *obj, const acmeh_http_resp *r) {
  size_t i;
  json_t *v;
  const char *loc = acmeh_http_header_get(r, "Location");
  if (loc && r->status == 201 && (!strcmp(kind, "account") || !strcmp(kind, "order") || !strcmp(kind, "authorization")))
    learn(o, loc, kind);
  if (!strcmp(kind, "order")) {
    learn(o, json_string_value(json_object_get(obj, "finalize")), "order");
    json_array_foreach(json_object_get(obj, "authorizations"), i, v) learn(o, json_string_value(v), "authorization");
  } else if (!strcmp(kind, "authorization")) {
    json_array_foreach(json_object_get(obj, "challenges"), i, v)
      learn(o, json_string_value(json_object_get(v, "url")), "challenge");
  }
}

static void note_violation(void *ud, const char *kind, const char *path, const char *field, const char *msg) {
  (void)kind, (void)path;
  if (field) acmeh_http_note(ud, "schema: %s", msg);
}

void acmeh_objlog_response(acmeh_objlog *o, const json_t *dir, const char *kid, acmeh_http *h, const char *method,
                           const char *url, const acmeh_http_resp *r) {
  if (!o || !r->body_len) return;
  json_t *j = acmeh_resp_json(r);
  const char *kind = !json_is_object(j) ? NULL
                     : r->status >= 400 ? "problem"
                     : r->status >= 200 && r->status < 300 ? kind_of(o, dir, kid, method, url)
                                                           : NULL;
  if (kind) {
    char where[600];
    snprintf(where, sizeof where, "%s %.500s answered %ld", method, url, r->status);
    if (acmeh_schema_log_object(o->log, o->origin, kind, j, where)) acmeh_schema_walk(kind, j, note_violation, h);
    learn_from(o, kind, j, r);
  }
  json_decref(j);
}
