/* Object schemas of ACME messages (schema.h): one table of field rules per
 * kind, a checker that reports the first rule an object breaks, a walk into
 * nested objects of their own kind, and a thread-safe log of what a run saw. */
#include "harness/acme/schema.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "harness/acme/b64.h"
#include "base/strbuf.h"

typedef enum {
  F_STRING,  /* any string */
  F_URL,     /* absolute http(s) URL */
  F_URI,     /* scheme ":" ... (mailto:, urn:, https:) */
  F_TIME,    /* RFC 3339 date-time */
  F_BOOL,
  F_INT,
  F_OBJECT,
  F_B64URL,  /* base64url without padding, non-empty */
  F_STRINGS, /* array of strings */
  F_URIS,    /* array of URIs */
  F_URLS,    /* array of URLs */
  F_IDENT,   /* identifier object {type, value} (RFC 8555 §7.1.3, §7.1.4) */
  F_IDENTS,  /* non-empty array of identifiers */
  F_STATUS,  /* one of `values` */
  F_NESTED,  /* an object of kind `kind` (its own rules are its kind's) */
  F_NESTEDS  /* an array of objects of kind `kind` */
} ftype;

typedef struct {
  const char *name;   /* member, or "parent.member" (checked when the parent object is present) */
  ftype type;
  int required;       /* 1: must be present */
  const char *when;   /* also required when "status" is one of these ("|"-separated), or NULL */
  const char *values; /* F_STATUS: the allowed values, "|"-separated; F_NESTED*: the kind */
} rule;

#define END {NULL, F_STRING, 0, NULL, NULL}

/* RFC 8555 §7.1.1, §9.7.6; renewalInfo RFC 9773 §3. Only newNonce, newAccount
 * and newOrder are needed to do anything at all; CORE-S-002 judges the rest. */
static const rule directory_rules[] = {
    {"newNonce", F_URL, 1, NULL, NULL},        {"newAccount", F_URL, 1, NULL, NULL},
    {"newOrder", F_URL, 1, NULL, NULL},        {"newAuthz", F_URL, 0, NULL, NULL},
    {"revokeCert", F_URL, 0, NULL, NULL},      {"keyChange", F_URL, 0, NULL, NULL},
    {"renewalInfo", F_URL, 0, NULL, NULL},     {"meta", F_OBJECT, 0, NULL, NULL},
    {"meta.termsOfService", F_URI, 0, NULL, NULL}, {"meta.website", F_URI, 0, NULL, NULL},
    {"meta.caaIdentities", F_STRINGS, 0, NULL, NULL}, {"meta.externalAccountRequired", F_BOOL, 0, NULL, NULL},
    {"meta.profiles", F_OBJECT, 0, NULL, NULL}, END};

/* RFC 8555 §7.1.2 */
static const rule account_rules[] = {
    {"status", F_STATUS, 1, NULL, "valid|deactivated|revoked"}, {"contact", F_URIS, 0, NULL, NULL},
    {"termsOfServiceAgreed", F_BOOL, 0, NULL, NULL},             {"externalAccountBinding", F_OBJECT, 0, NULL, NULL},
    {"orders", F_URL, 1, NULL, NULL},                            END};

/* RFC 8555 §7.1.3; replaces RFC 9773 §5, profile draft-ietf-acme-profiles */
static const rule order_rules[] = {
    {"status", F_STATUS, 1, NULL, "pending|ready|processing|valid|invalid"},
    {"expires", F_TIME, 0, "pending|valid", NULL},
    {"identifiers", F_IDENTS, 1, NULL, NULL},
    {"notBefore", F_TIME, 0, NULL, NULL},
    {"notAfter", F_TIME, 0, NULL, NULL},
    {"error", F_NESTED, 0, NULL, "problem"},
    {"authorizations", F_URLS, 1, NULL, NULL},
    {"finalize", F_URL, 1, NULL, NULL},
    {"certificate", F_URL, 0, NULL, NULL},
    {"replaces", F_STRING, 0, NULL, NULL},
    {"profile", F_STRING, 0, NULL, NULL},
    END};

/* RFC 8555 §7.1.4 */
static const rule authorization_rules[] = {
    {"identifier", F_IDENT, 1, NULL, NULL},
    {"status", F_STATUS, 1, NULL, "pending|valid|invalid|deactivated|expired|revoked"},
    {"expires", F_TIME, 0, "valid", NULL},
    {"challenges", F_NESTEDS, 1, NULL, "challenge"},
    {"wildcard", F_BOOL, 0, NULL, NULL},
    END};

/* RFC 8555 §7.1.5, §8 */
static const rule challenge_rules[] = {
    {"type", F_STRING, 1, NULL, NULL},
    {"url", F_URL, 1, NULL, NULL},
    {"status", F_STATUS, 1, NULL, "pending|processing|valid|invalid"},
    {"validated", F_TIME, 0, "valid", NULL},
    {"error", F_NESTED, 0, NULL, "problem"},
    {"token", F_STRING, 0, NULL, NULL},
    END};

/* RFC 8555 §6.7, §6.7.1; RFC 7807 §3.1. A top-level identifier is CORE-S-076's. */
static const rule problem_rules[] = {
    {"type", F_URI, 0, NULL, NULL},       {"title", F_STRING, 0, NULL, NULL},
    {"status", F_INT, 0, NULL, NULL},     {"detail", F_STRING, 0, NULL, NULL},
    {"instance", F_STRING, 0, NULL, NULL}, {"subproblems", F_NESTEDS, 0, NULL, "problem"},
    {"identifier", F_IDENT, 0, NULL, NULL}, {"algorithms", F_STRINGS, 0, NULL, NULL},
    END};

/* RFC 9773 §4.2 */
static const rule renewal_info_rules[] = {
    {"suggestedWindow", F_OBJECT, 1, NULL, NULL},
    {"suggestedWindow.start", F_TIME, 1, NULL, NULL},
    {"suggestedWindow.end", F_TIME, 1, NULL, NULL},
    {"explanationURL", F_URL, 0, NULL, NULL},
    END};

/* Requests. RFC 8555 §7.3, §7.3.4 (the binding is a flattened JWS) */
static const rule new_account_rules[] = {
    {"contact", F_URIS, 0, NULL, NULL},
    {"termsOfServiceAgreed", F_BOOL, 0, NULL, NULL},
    {"onlyReturnExisting", F_BOOL, 0, NULL, NULL},
    {"externalAccountBinding", F_OBJECT, 0, NULL, NULL},
    {"externalAccountBinding.protected", F_B64URL, 1, NULL, NULL},
    {"externalAccountBinding.payload", F_B64URL, 1, NULL, NULL},
    {"externalAccountBinding.signature", F_B64URL, 1, NULL, NULL},
    END};

/* RFC 8555 §7.4 */
static const rule new_order_rules[] = {
    {"identifiers", F_IDENTS, 1, NULL, NULL}, {"notBefore", F_TIME, 0, NULL, NULL},
    {"notAfter", F_TIME, 0, NULL, NULL},      {"replaces", F_STRING, 0, NULL, NULL},
    {"profile", F_STRING, 0, NULL, NULL},     END};

static const rule finalize_rules[] = {{"csr", F_B64URL, 1, NULL, NULL}, END};
/* §7.5.1: any JSON object (the server ignores fields it does not know); C-025 wants {} */
static const rule challenge_response_rules[] = {END};
/* §7.6 */
static const rule revoke_cert_rules[] = {{"certificate", F_B64URL, 1, NULL, NULL}, {"reason", F_INT, 0, NULL, NULL}, END};
/* §7.3.5: the payload is the inner JWS, flattened */
static const rule key_change_rules[] = {
    {"protected", F_B64URL, 1, NULL, NULL}, {"payload", F_B64URL, 1, NULL, NULL}, {"signature", F_B64URL, 1, NULL, NULL}, END};

static const struct {
  const char *kind;
  const rule *rules;
} kinds[] = {
    {"directory", directory_rules},   {"account", account_rules},       {"order", order_rules},
    {"authorization", authorization_rules}, {"challenge", challenge_rules}, {"problem", problem_rules},
    {"renewalInfo", renewal_info_rules}, {"newAccount", new_account_rules}, {"newOrder", new_order_rules},
    {"finalize", finalize_rules},     {"challengeResponse", challenge_response_rules},
    {"revokeCert", revoke_cert_rules}, {"keyChange", key_change_rules},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static int kind_index(const char *kind) {
  for (size_t i = 0; kind && i < NKINDS; i++)
    if (strcmp(kinds[i].kind, kind) == 0) return (int)i;
  return -1;
}

int acmeh_schema_known(const char *kind) { return kind_index(kind) >= 0; }

/* 1 when `word` is one of the "|"-separated `list`. */
static int one_of(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; p && *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, word, n) == 0) return 1;
    p = bar ? bar + 1 : NULL;
  }
  return 0;
}

static int is_url(const char *s) {
  const char *rest = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;
  if (!rest || !*rest || *rest == '/') return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f) return 0;
  return 1;
}

static int is_uri(const char *s) { /* RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
  const char *p = s;
  if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return 0;
  while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("+-.", *p)) p++;
  return *p == ':' && p[1];
}

/* "(got <value>)" for the message, the value in JSON, cut at 60 characters. */
static void got(const json_t *v, char *out, size_t len) {
  char *j = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  snprintf(out, len, "got %.60s%s", j ? j : "?", j && strlen(j) > 60 ? "..." : "");
  free(j);
}

/* Why a string value breaks `t`, or NULL. */
static const char *string_fault(ftype t, const char *s) {
  double ignored;
  switch (t) {
  case F_URL: return is_url(s) ? NULL : "not an absolute http(s) URL";
  case F_URI: return is_uri(s) ? NULL : "not a URI";
  case F_TIME: return acmeh_rfc3339_parse(s, &ignored) == 0 ? NULL : "not an RFC 3339 timestamp";
  case F_B64URL: return *s && acmeh_b64url_valid(s) ? NULL : "not base64url without padding";
  default: return NULL;
  }
}

/* Checks value v against type t (values: status list). On a fault writes
 * "<field>: <why> (got ...)" into msg and the faulty field's path into field. */
static int value_fault(ftype t, const char *values, const json_t *v, const char *path, char *field, size_t flen,
                       char *msg, size_t mlen);

static int fault(const char *path, const char *why, const json_t *v, char *field, size_t flen, char *msg, size_t mlen) {
  char g[96] = "";
  if (v) got(v, g, sizeof g);
  snprintf(field, flen, "%s", path);
  snprintf(msg, mlen, "%s: %s%s%s%s", path, why, v ? " (" : "", g, v ? ")" : "");
  return 1;
}

static int ident_fault(const json_t *v, const char *path, char *field, size_t flen, char *msg, size_t mlen) {
  if (!json_is_object(v)) return fault(path, "not an identifier object {type, value}", v, field, flen, msg, mlen);
  static const char *const members[] = {"type", "value"};
  for (int i = 0; i < 2; i++) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s.%s", path, members[i]);
    const json_t *m = json_object_get(v, members[i]);
    if (!m) return fault(sub, "missing", NULL, field, flen, msg, mlen);
    if (!json_is_string(m)) return fault(sub, "not a string", m, field, flen, msg, mlen);
  }
  return 0;
}

static int array_fault(ftype elem, const json_t *v, const char *path, int nonempty, char *field, size_t flen, char *msg,
                       size_t mlen) {
  if (!json_is_array(v)) return fault(path, "not an array", v, field, flen, msg, mlen);
  if (nonempty && json_array_size(v) == 0) return fault(path, "empty (at least one required)", NULL, field, flen, msg, mlen);
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s[%zu]", path, i);
    if (value_fault(elem, NULL, e, sub, field, flen, msg, mlen)) return 1;
  }
  return 0;
}

static int value_fault(ftype t, const char *values, const json_t *v, const char *path, char *field, size_t flen,
                       char *msg, size_t mlen) {
  char why[200];
  switch (t) {
  case F_STRING: case F_URL: case F_URI: case F_TIME: case F_B64URL: {
    if (!json_is_string(v)) return fault(path, "not a string", v, field, flen, msg, mlen);
    const char *w = string_fault(t, json_string_value(v));
    return w ? fault(path, w, v, field, flen, msg, mlen) : 0;
  }
  case F_STATUS:
    if (json_is_string(v) && one_of(values, json_string_value(v))) return 0;
    snprintf(why, sizeof why, "not one of %s", values);
    for (char *p = why; *p; p++) if (*p == '|') *p = ',';
    return fault(path, why, v, field, flen, msg, mlen);
  case F_BOOL: return json_is_boolean(v) ? 0 : fault(path, "not a boolean", v, field, flen, msg, mlen);
  case F_INT: return json_is_integer(v) ? 0 : fault(path, "not an integer", v, field, flen, msg, mlen);
  case F_OBJECT: case F_NESTED: return json_is_object(v) ? 0 : fault(path, "not an object", v, field, flen, msg, mlen);
  case F_STRINGS: return array_fault(F_STRING, v, path, 0, field, flen, msg, mlen);
  case F_URIS: return array_fault(F_URI, v, path, 0, field, flen, msg, mlen);
  case F_URLS: return array_fault(F_URL, v, path, 0, field, flen, msg, mlen);
  case F_IDENT: return ident_fault(v, path, field, flen, msg, mlen);
  case F_IDENTS: return array_fault(F_IDENT, v, path, 1, field, flen, msg, mlen);
  case F_NESTEDS: return array_fault(F_OBJECT, v, path, 0, field, flen, msg, mlen);
  }
  return 0;
}

/* The member a rule names (a "parent.member" is looked up in the parent);
 * *parent_absent = 1 when its parent object is missing (rule not applicable). */
static const json_t *member_of(const json_t *obj, const char *name, int *parent_absent) {
  const char *dot = strchr(name, '.');
  *parent_absent = 0;
  if (!dot) return json_object_get(obj, name);
  char parent[64];
  snprintf(parent, sizeof parent, "%.*s", (int)(dot - name), name);
  const json_t *p = json_object_get(obj, parent);
  if (!json_is_object(p)) return *parent_absent = 1, NULL; /* absent or wrong: the parent's rule says so */
  return json_object_get(p, dot + 1);
}

static int rules_fault(const char *kind, const rule *rules, const json_t *obj, char *field, size_t flen, char *msg,
                       size_t mlen) {
  const char *status = json_string_value(json_object_get(obj, "status"));
  for (const rule *r = rules; r->name; r++) {
    char path[256];
    snprintf(path, sizeof path, "%s.%s", kind, r->name);
    int parent_absent;
    const json_t *v = member_of(obj, r->name, &parent_absent);
    if (parent_absent) continue;
    if (!v) {
      if (r->required) return fault(path, "required, missing", NULL, field, flen, msg, mlen);
      if (r->when && status && one_of(r->when, status)) {
        char why[128];
        snprintf(why, sizeof why, "required when status is \"%s\", missing", status);
        return fault(path, why, NULL, field, flen, msg, mlen);
      }
      continue;
    }
    if (value_fault(r->type, r->values, v, path, field, flen, msg, mlen)) return 1;
  }
  return 0;
}

int acmeh_schema_check(const char *kind, const json_t *obj, char *field, size_t flen, char *msg, size_t mlen) {
  int k = kind_index(kind);
  if (k < 0) return -1;
  if (!json_is_object(obj)) return fault(kind, "not a JSON object", obj, field, flen, msg, mlen);
  return rules_fault(kind, kinds[k].rules, obj, field, flen, msg, mlen);
}

/* How deep a walk goes into nested objects (subproblems of subproblems...):
 * a peer's nesting must not run the stack out. */
#define MAX_DEPTH 8

static int walk(const char *kind, const json_t *obj, const char *path, acmeh_schema_visit visit, void *ud, int depth) {
  char field[256], msg[512];
  int bad = acmeh_schema_check(kind, obj, field, sizeof field, msg, sizeof msg) == 1;
  visit(ud, kind, path, bad ? field : NULL, bad ? msg : NULL);
  if (!json_is_object(obj) || depth >= MAX_DEPTH) return bad;
  for (const rule *r = kinds[kind_index(kind)].rules; r->name; r++) {
    const json_t *v = json_object_get(obj, r->name);
    char sub[256];
    if (r->type == F_NESTED && json_is_object(v)) {
      snprintf(sub, sizeof sub, "%s.%s", path, r->name);
      bad += walk(r->values, v, sub, visit, ud, depth + 1);
    }
    size_t i;
    json_t *e;
    if (r->type == F_NESTEDS && json_is_array(v)) json_array_foreach(v, i, e) if (json_is_object(e)) {
        snprintf(sub, sizeof sub, "%s.%s[%zu]", path, r->name, i);
        bad += walk(r->values, e, sub, visit, ud, depth + 1);
      }
  }
  return bad;
}

int acmeh_schema_walk(const char *kind, const json_t *obj, acmeh_schema_visit visit, void *ud) {
  return kind_index(kind) < 0 ? -1 : walk(kind, obj, kind, visit, ud, 0);
}

/* The log. */

typedef struct {
  char *origin, *kind, *field, *line; /* line: "<msg> (first in <origin>: <where>)" */
} violation;

struct acmeh_schema_log {
  pthread_mutex_t mu;
  size_t counts[NKINDS];
  violation *v;
  size_t n, cap;
};

acmeh_schema_log *acmeh_schema_log_new(void) {
  acmeh_schema_log *l = calloc(1, sizeof *l);
  if (l) pthread_mutex_init(&l->mu, NULL);
  return l;
}

void acmeh_schema_log_free(acmeh_schema_log *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) free(l->v[i].origin), free(l->v[i].kind), free(l->v[i].field), free(l->v[i].line);
  free(l->v);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

typedef struct {
  acmeh_schema_log *log;
  const char *origin, *where;
  int bad;
} visit_ctx;

static int seen(const acmeh_schema_log *l, const char *origin, const char *kind, const char *field) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].origin, origin) && !strcmp(l->v[i].kind, kind) && !strcmp(l->v[i].field, field)) return 1;
  return 0;
}

/* Caps what one run keeps: a peer that breaks every object must not grow it without end. */
#define MAX_VIOLATIONS 512

static void log_visit(void *ud, const char *kind, const char *path, const char *field, const char *msg) {
  visit_ctx *vc = ud;
  acmeh_schema_log *l = vc->log;
  l->counts[kind_index(kind)]++;
  if (!field) return;
  vc->bad++;
  if (seen(l, vc->origin, kind, field) || l->n >= MAX_VIOLATIONS) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    violation *nv = realloc(l->v, cap * sizeof *nv);
    if (!nv) return;
    l->v = nv, l->cap = cap;
  }
  violation *v = &l->v[l->n];
  const char *where = vc->where ? vc->where : "?";
  int rc = strcmp(path, kind) != 0 ? asprintf(&v->line, "%s (first in %s: %s of %s)", msg, vc->origin, path, where)
                                   : asprintf(&v->line, "%s (first in %s: %s)", msg, vc->origin, where);
  if (rc < 0) return;
  v->origin = strdup(vc->origin), v->kind = strdup(kind), v->field = strdup(field);
  if (!v->origin || !v->kind || !v->field) {
    free(v->origin), free(v->kind), free(v->field), free(v->line);
    return;
  }
  l->n++;
}

int acmeh_schema_log_object(acmeh_schema_log *log, const char *origin, const char *kind, const json_t *obj,
                            const char *where) {
  if (!log || kind_index(kind) < 0) return 0;
  visit_ctx vc = {.log = log, .origin = origin ? origin : "?", .where = where};
  pthread_mutex_lock(&log->mu);
  walk(kind, obj, kind, log_visit, &vc, 0);
  pthread_mutex_unlock(&log->mu);
  return vc.bad;
}

size_t acmeh_schema_log_count(acmeh_schema_log *log, const char *kind) {
  int k = kind_index(kind);
  if (!log || k < 0) return 0;
  pthread_mutex_lock(&log->mu);
  size_t n = log->counts[k];
  pthread_mutex_unlock(&log->mu);
  return n;
}

/* Appends the origins after v that logged the same kind and field: " (also in 3 more: A, B, C)". */
static void also_in(const acmeh_schema_log *l, size_t first, acmeh_strbuf *b) {
  const violation *f = &l->v[first];
  size_t more = 0, shown = 0;
  for (size_t i = first + 1; i < l->n; i++) more += !strcmp(l->v[i].kind, f->kind) && !strcmp(l->v[i].field, f->field);
  if (!more) return;
  acmeh_strbuf_printf(b, " (also in %zu more: ", more);
  for (size_t i = first + 1; i < l->n && shown < 8; i++)
    if (!strcmp(l->v[i].kind, f->kind) && !strcmp(l->v[i].field, f->field))
      acmeh_strbuf_printf(b, "%s%s", shown++ ? ", " : "", l->v[i].origin);
  acmeh_strbuf_printf(b, "%s)", more > shown ? ", ..." : "");
}

char *acmeh_schema_log_violations(acmeh_schema_log *log, const char *kind, size_t *n) {
  size_t count = 0;
  acmeh_strbuf b = {0};
  if (n) *n = 0;
  if (!log) return NULL;
  pthread_mutex_lock(&log->mu);
  for (size_t i = 0; i < log->n; i++) {
    const violation *v = &log->v[i];
    int first = strcmp(v->kind, kind) == 0;
    for (size_t k = 0; first && k < i; k++) first = strcmp(log->v[k].kind, kind) || strcmp(log->v[k].field, v->field);
    if (!first) continue;
    acmeh_strbuf_printf(&b, "%s%s", count++ ? "; " : "", v->line);
    also_in(log, i, &b);
  }
  pthread_mutex_unlock(&log->mu);
  if (n) *n = count;
  return count ? acmeh_strbuf_take(&b) : (acmeh_strbuf_free(&b), NULL);
}
