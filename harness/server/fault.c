/* The fault engine (fault.h): rules validated and compiled once at start,
 * then, per request, matched before dispatch (so a rule can stand in for the
 * handler), applied to the JSON body after it, to the headers after the
 * common ones are added, and to the transport last (delay, drop). Everything
 * runs on the loop thread; counters live in the compiled rules. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/acme/ari.h"
#include "harness/acme/b64.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "harness/server/fault.h"
#include "harness/server/internal.h"

#define MAX_DELAY_MS 25000 /* below the server's 30 s idle cut, so a delay never turns into a drop */
#define MAX_HELD 256       /* orders held in "processing" at once; the oldest hold is forgotten */

typedef struct {
  const char *name;
  /* match; NULL / 0 = any */
  const char *resource, *method, *account, *identifier;
  long nth, times;
  /* action; strings and objects are borrowed from the rules copy */
  int status;
  json_t *problem; /* owned, complete problem document */
  const json_t *headers, *remove_headers, *shuffle;
  char retry_after[64];
  unsigned delay_ms;
  srv_drop drop;
  int reject_nonce;
  long processing_polls;
  const char *corrupt_field, *remove_field, *content_type, *replay_nonce;
  const char *append_body; /* text added at the end of the body, e.g. a PEM block after a chain */
  int ari_window;             /* renewalInfo: suggestedWindow replaced by now + these offsets */
  double ari_start, ari_end;
  /* state */
  long seen, applied;
} rule;

typedef struct {
  char id[SRV_ID_CHARS + 1];
  long left;
  size_t rule;
} held;

struct srv_faults {
  json_t *src; /* the rules, copied */
  rule *rules;
  size_t n;
  char *first_account;
  held held[MAX_HELD];
  size_t next_held;
};

/* ---- validation ----------------------------------------------------------- */

typedef struct {
  char *err;
  size_t errlen;
  size_t index;
  const char *name;
} vctx;

static int bad(vctx *v, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(vctx *v, const char *field, const char *fmt, ...) {
  char why[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (v->name) return acmeh_msg(v->err, v->errlen, ACMEH_INVALID_ARG, "rules[%zu] \"%s\": %s: %s", v->index, v->name, field, why);
  return acmeh_msg(v->err, v->errlen, ACMEH_INVALID_ARG, "rules[%zu]: %s: %s", v->index, field, why);
}

static int one_of(const char *s, const char *const *set) {
  for (; s && *set; set++)
    if (strcmp(s, *set) == 0) return 1;
  return 0;
}

static const char *const RESOURCES[] = {"directory", "newNonce", "newAccount", "account", "orders", "newOrder",
                                        "order", "newAuthz", "authz", "challenge", "finalize", "certificate",
                                        "revokeCert", "keyChange", "renewalInfo", "unknown", NULL};

/* Refuses members outside `known`, so a misspelt key is an error, not a no-op. */
static int only_known(vctx *v, const json_t *obj, const char *where, const char *const *known) {
  const char *k;
  json_t *val;
  json_object_foreach((json_t *)obj, k, val) {
    (void)val;
    if (!one_of(k, known)) {
      char f[160];
      snprintf(f, sizeof f, "%s.%s", where, k);
      return bad(v, f, "unknown member");
    }
  }
  return ACMEH_OK;
}

static int positive(vctx *v, const json_t *j, const char *field, long max, long *out) {
  if (!j) return ACMEH_OK;
  if (!json_is_integer(j) || json_integer_value(j) < 1 || json_integer_value(j) > max)
    return bad(v, field, "must be an integer from 1 to %ld", max);
  *out = (long)json_integer_value(j);
  return ACMEH_OK;
}

/* Header names are RFC 9110 tokens; values must not break the framing. */
static int header_name_ok(const char *s) {
  if (!s || !*s) return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s)) return 0;
  return 1;
}

static int value_ok(const char *s) { return s && !strpbrk(s, "\r\n"); }

/* Framing belongs to the HTTP layer; changing it would desynchronise the
 * connection rather than test the client. */
static int framing(const char *name) {
  return strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Connection") == 0 ||
         strcasecmp(name, "Transfer-Encoding") == 0;
}

static int str_member(vctx *v, const json_t *obj, const char *key, const char *field, int nonempty, const char **out) {
  const json_t *j = json_object_get(obj, key);
  if (!j) return ACMEH_OK;
  if (!json_is_string(j) || (nonempty && !*json_string_value(j)) || !value_ok(json_string_value(j)))
    return bad(v, field, "must be a %sstring without line breaks", nonempty ? "non-empty " : "");
  *out = json_string_value(j);
  return ACMEH_OK;
}

static int check_match(vctx *v, const json_t *m, rule *r) {
  static const char *const known[] = {"resource", "method", "nth", "times", "account", "identifier", NULL};
  static const char *const methods[] = {"GET", "HEAD", "POST", NULL};
  if (!m) return ACMEH_OK;
  if (!json_is_object(m)) return bad(v, "match", "must be an object");
  int rc = only_known(v, m, "match", known);
  if (rc) return rc;
  if ((rc = str_member(v, m, "resource", "match.resource", 1, &r->resource)) ||
      (rc = str_member(v, m, "method", "match.method", 1, &r->method)) ||
      (rc = str_member(v, m, "account", "match.account", 1, &r->account)) ||
      (rc = str_member(v, m, "identifier", "match.identifier", 1, &r->identifier)))
    return rc;
  if (r->resource && !one_of(r->resource, RESOURCES))
    return bad(v, "match.resource", "\"%s\" is not a resource name (directory, newNonce, newAccount, account, "
               "orders, newOrder, order, newAuthz, authz, challenge, finalize, certificate, revokeCert, keyChange, "
               "renewalInfo, unknown)", r->resource);
  if (r->method && !one_of(r->method, methods)) return bad(v, "match.method", "must be GET, HEAD or POST");
  if (r->account && strcmp(r->account, "any") == 0) r->account = NULL;
  if (r->account && strcmp(r->account, "first") && strcmp(r->account, "none") && strncmp(r->account, "https://", 8))
    return bad(v, "match.account", "must be \"any\", \"first\", \"none\" or an account URL");
  if ((rc = positive(v, json_object_get(m, "nth"), "match.nth", 1000000000L, &r->nth))) return rc;
  if ((rc = positive(v, json_object_get(m, "times"), "match.times", 1000000000L, &r->times))) return rc;
  if (r->nth && !r->times) r->times = 1;
  return ACMEH_OK;
}

/* The default status of a problem type (RFC 8555 §6.7 and common practice). */
static int problem_status(const char *type) {
  const char *t = strncmp(type, SRV_PROBLEM_NS, strlen(SRV_PROBLEM_NS)) == 0 ? type + strlen(SRV_PROBLEM_NS) : type;
  if (strcmp(t, "unauthorized") == 0) return 403;
  if (strcmp(t, "rateLimited") == 0) return 429;
  if (strcmp(t, "serverInternal") == 0) return 500;
  return 400;
}

/* "subproblems": [{"type", "detail", "identifier": {"type", "value"}}] (RFC 8555
 * §6.7.1), copied into the problem with the URN prefix added to each type. */
static int check_subproblems(vctx *v, const json_t *subs, json_t *problem) {
  static const char *const known[] = {"type", "detail", "identifier", NULL};
  if (!subs) return ACMEH_OK;
  if (!json_is_array(subs) || !json_array_size(subs) || json_array_size(subs) > 16)
    return bad(v, "action.problem.subproblems", "must be an array of 1 to 16 problem objects");
  json_t *out = json_array();
  size_t i;
  json_t *sp;
  int rc = out ? ACMEH_OK : ACMEH_NOMEM;
  json_array_foreach(subs, i, sp) {
    const char *type = NULL;
    const json_t *id = json_object_get(sp, "identifier");
    if (rc || (rc = json_is_object(sp) ? only_known(v, sp, "action.problem.subproblems[]", known)
                                       : bad(v, "action.problem.subproblems[]", "must be an object")) ||
        (rc = str_member(v, sp, "type", "action.problem.subproblems[].type", 1, &type)))
      break;
    if (!type || (id && !json_is_object(id))) {
      rc = bad(v, "action.problem.subproblems[]", "needs a \"type\" and an optional \"identifier\" object");
      break;
    }
    json_t *c = json_deep_copy(sp);
    char full[256];
    snprintf(full, sizeof full, "%s%s", strchr(type, ':') ? "" : SRV_PROBLEM_NS, type);
    json_object_set_new(c, "type", json_string(full));
    json_array_append_new(out, c);
  }
  if (rc == ACMEH_OK) json_object_set(problem, "subproblems", out);
  json_decref(out);
  return rc;
}

static int check_problem(vctx *v, const json_t *p, rule *r) {
  static const char *const known[] = {"type", "detail", "subproblems", NULL};
  if (!p) return ACMEH_OK;
  if (!json_is_object(p)) return bad(v, "action.problem", "must be an object with \"type\"");
  int rc = only_known(v, p, "action.problem", known);
  const char *type = NULL, *detail = "fault injected by the test harness";
  if (rc || (rc = str_member(v, p, "type", "action.problem.type", 1, &type)) ||
      (rc = str_member(v, p, "detail", "action.problem.detail", 0, &detail)))
    return rc;
  if (!type) return bad(v, "action.problem.type", "is required");
  char full[256];
  snprintf(full, sizeof full, "%s%s", strchr(type, ':') ? "" : SRV_PROBLEM_NS, type);
  if (!r->status) r->status = problem_status(full);
  r->problem = json_pack("{s:s,s:s,s:i}", "type", full, "detail", detail, "status", r->status);
  return r->problem ? check_subproblems(v, json_object_get(p, "subproblems"), r->problem) : ACMEH_NOMEM;
}

static int check_headers(vctx *v, const json_t *a, rule *r) {
  const json_t *h = json_object_get(a, "headers"), *rm = json_object_get(a, "remove_headers");
  if (h) {
    if (!json_is_object(h)) return bad(v, "action.headers", "must be an object of name: value strings");
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)h, k, val) {
      char f[160];
      snprintf(f, sizeof f, "action.headers.%s", k);
      if (!header_name_ok(k)) return bad(v, f, "is not a header name");
      if (framing(k)) return bad(v, f, "framing headers cannot be changed");
      if (!json_is_string(val) || !value_ok(json_string_value(val))) return bad(v, f, "must be a string without line breaks");
    }
    r->headers = h;
  }
  if (rm) {
    size_t i;
    json_t *val;
    if (!json_is_array(rm)) return bad(v, "action.remove_headers", "must be an array of header names");
    json_array_foreach(rm, i, val) {
      const char *n = json_string_value(val);
      if (!header_name_ok(n)) return bad(v, "action.remove_headers", "element %zu is not a header name", i);
      if (framing(n)) return bad(v, "action.remove_headers", "framing header %s cannot be removed", n);
    }
    r->remove_headers = rm;
  }
  return ACMEH_OK;
}

static int check_path(vctx *v, const char *path, const char *field) {
  if (!path) return ACMEH_OK;
  if (path[0] == '.' || path[strlen(path) - 1] == '.' || strstr(path, ".."))
    return bad(v, field, "must be a dotted path like \"status\" or \"challenges.0.url\"");
  return ACMEH_OK;
}

static int check_transport(vctx *v, const json_t *a, rule *r) {
  const json_t *d = json_object_get(a, "delay_ms"), *drop = json_object_get(a, "drop");
  if (d) {
    if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > MAX_DELAY_MS)
      return bad(v, "action.delay_ms", "must be an integer from 0 to %d", MAX_DELAY_MS);
    r->delay_ms = (unsigned)json_integer_value(d);
  }
  if (drop) {
    const char *s = json_string_value(drop);
    if (s && strcmp(s, "before_headers") == 0) r->drop = SRV_DROP_BEFORE_HEADERS;
    else if (s && strcmp(s, "after_headers") == 0) r->drop = SRV_DROP_AFTER_HEADERS;
    else return bad(v, "action.drop", "must be \"before_headers\" or \"after_headers\"");
  }
  return ACMEH_OK;
}

static int check_retry_after(vctx *v, const json_t *ra, rule *r) {
  if (!ra) return ACMEH_OK;
  if (json_is_integer(ra) && json_integer_value(ra) >= 0) {
    snprintf(r->retry_after, sizeof r->retry_after, "%lld", (long long)json_integer_value(ra));
    return ACMEH_OK;
  }
  const char *s = json_string_value(ra);
  if (!s || !*s || !value_ok(s) || strlen(s) >= sizeof r->retry_after)
    return bad(v, "action.retry_after", "must be seconds (a number or string) or an HTTP-date string");
  snprintf(r->retry_after, sizeof r->retry_after, "%s", s);
  return ACMEH_OK;
}

static int check_shuffle(vctx *v, const json_t *sh, rule *r) {
  if (!sh) return ACMEH_OK;
  size_t i;
  json_t *val;
  if (!json_is_array(sh)) return bad(v, "action.shuffle", "must be an array of field paths");
  json_array_foreach(sh, i, val) {
    if (!json_is_string(val) || !*json_string_value(val)) return bad(v, "action.shuffle", "element %zu is not a field path", i);
    int rc = check_path(v, json_string_value(val), "action.shuffle");
    if (rc) return rc;
  }
  r->shuffle = sh;
  return ACMEH_OK;
}

/* {"start_offset": s, "end_offset": s} from now; end may precede start, so a
 * client can be shown the invalid window RFC 9773 §4.2 tells it to ignore. */
static int check_ari_window(vctx *v, const json_t *w, rule *r) {
  if (!w) return ACMEH_OK;
  const json_t *s = json_object_get(w, "start_offset"), *e = json_object_get(w, "end_offset");
  if (!json_is_object(w) || json_object_size(w) != 2 || !json_is_number(s) || !json_is_number(e))
    return bad(v, "action.ari_window", "must be {\"start_offset\": seconds, \"end_offset\": seconds} (from now)");
  if (!r->resource || strcmp(r->resource, "renewalInfo") != 0)
    return bad(v, "action.ari_window", "needs match.resource \"renewalInfo\"");
  if (!srv_ari_offset_ok(json_number_value(s)) || !srv_ari_offset_ok(json_number_value(e)))
    return bad(v, "action.ari_window", "start_offset and end_offset must lie " SRV_ARI_OFFSET_LIMIT);
  r->ari_window = 1;
  r->ari_start = json_number_value(s), r->ari_end = json_number_value(e);
  return ACMEH_OK;
}

/* "append_body": any non-empty text; unlike the header values, line breaks are
 * allowed, since what it adds (a PEM block) is made of lines. */
static int check_append(vctx *v, const json_t *a, rule *r) {
  const json_t *j = json_object_get(a, "append_body");
  if (!j) return ACMEH_OK;
  if (!json_is_string(j) || !*json_string_value(j)) return bad(v, "action.append_body", "must be a non-empty string");
  r->append_body = json_string_value(j);
  return ACMEH_OK;
}

static int check_action(vctx *v, const json_t *a, rule *r) {
  static const char *const known[] = {"status", "problem", "headers", "remove_headers", "retry_after", "delay_ms",
                                      "drop", "reject_nonce", "processing_polls", "corrupt_field", "remove_field",
                                      "content_type", "replay_nonce", "shuffle", "ari_window", "append_body", NULL};
  if (!json_is_object(a) || json_object_size(a) == 0) return bad(v, "action", "must be an object with at least one action");
  int rc = only_known(v, a, "action", known);
  if (rc) return rc;
  const json_t *st = json_object_get(a, "status"), *rn = json_object_get(a, "reject_nonce");
  if (st && (!json_is_integer(st) || json_integer_value(st) < 100 || json_integer_value(st) > 599))
    return bad(v, "action.status", "must be an integer from 100 to 599");
  r->status = st ? (int)json_integer_value(st) : 0;
  if (rn && !json_is_boolean(rn)) return bad(v, "action.reject_nonce", "must be true or false");
  r->reject_nonce = json_is_true(rn);
  if (r->reject_nonce && json_object_get(a, "problem"))
    return bad(v, "action.reject_nonce", "cannot be combined with \"problem\" (both decide the answer)");
  if ((rc = check_problem(v, json_object_get(a, "problem"), r)) || (rc = check_headers(v, a, r)) ||
      (rc = check_transport(v, a, r)) || (rc = check_retry_after(v, json_object_get(a, "retry_after"), r)) ||
      (rc = check_shuffle(v, json_object_get(a, "shuffle"), r)) ||
      (rc = check_ari_window(v, json_object_get(a, "ari_window"), r)) || (rc = check_append(v, a, r)) ||
      (rc = str_member(v, a, "corrupt_field", "action.corrupt_field", 1, &r->corrupt_field)) ||
      (rc = str_member(v, a, "remove_field", "action.remove_field", 1, &r->remove_field)) ||
      (rc = str_member(v, a, "content_type", "action.content_type", 1, &r->content_type)) ||
      (rc = str_member(v, a, "replay_nonce", "action.replay_nonce", 0, &r->replay_nonce)) ||
      (rc = check_path(v, r->corrupt_field, "action.corrupt_field")) ||
      (rc = check_path(v, r->remove_field, "action.remove_field")) ||
      (rc = positive(v, json_object_get(a, "processing_polls"), "action.processing_polls", 1000000L, &r->processing_polls)))
    return rc;
  if (r->processing_polls && (!r->resource || (strcmp(r->resource, "order") && strcmp(r->resource, "finalize"))))
    return bad(v, "action.processing_polls", "needs match.resource \"order\" or \"finalize\"");
  return ACMEH_OK;
}

/* `names` maps each earlier rule's name to its index: a hash lookup, where
 * comparing with every earlier rule made loading quadratic. */
static int check_rule(vctx *v, const json_t *j, rule *r, json_t *names) {
  static const char *const known[] = {"name", "match", "action", NULL};
  if (!json_is_object(j)) return bad(v, "rule", "must be an object with \"name\", \"match\" and \"action\"");
  const char *name = json_string_value(json_object_get(j, "name"));
  if (!name || !*name) return bad(v, "name", "is required (a non-empty string)");
  v->name = name;
  r->name = name;
  const json_t *prev = json_object_get(names, name);
  if (prev) return bad(v, "name", "is also the name of rules[%lld]", (long long)json_integer_value(prev));
  if (json_object_set_new(names, name, json_integer((json_int_t)v->index))) return ACMEH_NOMEM;
  int rc = only_known(v, j, "rule", known);
  if (rc || (rc = check_match(v, json_object_get(j, "match"), r))) return rc;
  if (!json_object_get(j, "action")) return bad(v, "action", "is required");
  return check_action(v, json_object_get(j, "action"), r);
}

void srv_faults_free(srv_faults *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n; i++) json_decref(f->rules[i].problem);
  free(f->rules);
  free(f->first_account);
  json_decref(f->src);
  free(f);
}

int srv_faults_new(const json_t *rules, srv_faults **out, char *err, size_t errlen) {
  *out = NULL;
  if (!json_is_array(rules)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "fault rules: must be a JSON array of rules");
  if (json_array_size(rules) > ACMEH_FAULTS_MAX_RULES)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "fault rules: %zu rules; at most %d are allowed",
                     json_array_size(rules), ACMEH_FAULTS_MAX_RULES);
  srv_faults *f = calloc(1, sizeof *f);
  if (!f) return acmeh_msg(err, errlen, ACMEH_NOMEM, "fault rules: out of memory");
  f->src = json_deep_copy(rules);
  f->n = json_array_size(rules);
  f->rules = calloc(f->n ? f->n : 1, sizeof *f->rules);
  if (!f->src || !f->rules) {
    srv_faults_free(f);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "fault rules: out of memory");
  }
  json_t *names = json_object();
  int rc = names ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_NOMEM, "fault rules: out of memory");
  for (size_t i = 0; i < f->n && !rc; i++) {
    vctx v = {err, errlen, i, NULL};
    rc = check_rule(&v, json_array_get(f->src, i), &f->rules[i], names);
  }
  json_decref(names);
  if (rc) {
    srv_faults_free(f);
    return rc;
  }
  *out = f;
  return ACMEH_OK;
}

int acmeh_faults_validate(const json_t *rules, char *err, size_t errlen) {
  srv_faults *f = NULL;
  int rc = srv_faults_new(rules, &f, err, errlen);
  srv_faults_free(f);
  return rc;
}

int acmeh_faults_load(const char *path, json_t **rules, char *err, size_t errlen) {
  *rules = NULL;
  FILE *fp = fopen(path, "r");
  if (!fp) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "%s: %s", path, strerror(errno));
  json_error_t je;
  json_t *j = json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
  fclose(fp);
  if (!j) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s:%d:%d: %s", path, je.line, je.column, je.text);
  char why[512];
  int rc = acmeh_faults_validate(j, why, sizeof why);
  if (rc) {
    json_decref(j);
    return acmeh_msg(err, errlen, rc, "%s: %s", path, why);
  }
  *rules = j;
  return ACMEH_OK;
}

/* ---- matching ------------------------------------------------------------- */

/* What the rules may look at, decoded lazily and without verification: a
 * rule that matches on the account also fires for a forged request, which is
 * what a test of the client wants. */
typedef struct {
  int parsed;
  json_t *prot, *payload;
  int acct_done;
  char *acct; /* account URL or NULL */
  int ids_done;
  json_t *ids; /* identifier values */
} view;

static json_t *b64_json(const char *b64) {
  unsigned char *raw = NULL;
  size_t n = 0;
  if (!b64 || !*b64 || acmeh_b64url_decode(b64, strlen(b64), &raw, &n) != ACMEH_OK) return NULL;
  json_t *j = json_loadb((const char *)raw, n, 0, NULL);
  free(raw);
  return j;
}

static void view_parse(view *w, const srv_req *rq) {
  if (w->parsed) return;
  w->parsed = 1;
  if (!rq->is_post || !rq->http->body_len) return;
  json_t *env = json_loadb(rq->http->body, rq->http->body_len, 0, NULL);
  w->prot = b64_json(json_string_value(json_object_get(env, "protected")));
  w->payload = b64_json(json_string_value(json_object_get(env, "payload")));
  json_decref(env);
}

static void view_free(view *w) {
  json_decref(w->prot);
  json_decref(w->payload);
  json_decref(w->ids);
  free(w->acct);
}

static const char *view_account(view *w, const srv_req *rq) {
  if (w->acct_done) return w->acct;
  w->acct_done = 1;
  view_parse(w, rq);
  const char *kid = json_string_value(json_object_get(w->prot, "kid"));
  char tp[44];
  srv_account *a = NULL;
  if (kid) return w->acct = strdup(kid);
  if (json_is_object(json_object_get(w->prot, "jwk")) &&
      acmeh_jwk_thumbprint(json_object_get(w->prot, "jwk"), tp) == ACMEH_OK)
    a = srv_account_by_key(rq->s, tp);
  if (a) w->acct = srv_url(rq->s, "acct", a->e.id);
  return w->acct;
}

/* The id after "/<kind>/" in path, into id; 0 when the path is not of that kind. */
static int path_id(const char *path, const char *kind, char id[SRV_ID_CHARS + 1]) {
  size_t k = strlen(kind);
  if (path[0] != '/' || strncmp(path + 1, kind, k) || path[1 + k] != '/') return 0;
  const char *p = path + 2 + k;
  size_t n = strcspn(p, "/");
  if (n == 0 || n > SRV_ID_CHARS) return 0;
  memcpy(id, p, n);
  id[n] = '\0';
  return 1;
}

static void add_id(json_t *ids, const json_t *identifier) {
  const char *v = json_string_value(json_object_get(identifier, "value"));
  if (v) json_array_append_new(ids, json_string(v));
}

static const json_t *view_ids(view *w, const srv_req *rq) {
  if (w->ids_done) return w->ids;
  w->ids_done = 1;
  w->ids = json_array();
  view_parse(w, rq);
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(w->payload, "identifiers"), i, v) add_id(w->ids, v);
  add_id(w->ids, json_object_get(w->payload, "identifier"));
  char id[SRV_ID_CHARS + 1];
  srv_order *o = path_id(rq->path, "order", id) ? srv_order_get(rq->s, id) : NULL;
  for (size_t k = 0; o && k < o->nnames; k++) json_array_append_new(w->ids, json_string(o->names[k]));
  srv_authz *a = path_id(rq->path, "authz", id) || path_id(rq->path, "chal", id) ? srv_authz_get(rq->s, id) : NULL;
  if (a) json_array_append_new(w->ids, json_string(a->value));
  return w->ids;
}

static int account_matches(const srv_faults *f, const rule *r, view *w, const srv_req *rq) {
  if (!r->account) return 1;
  const char *acct = view_account(w, rq);
  if (strcmp(r->account, "none") == 0) return acct == NULL;
  if (strcmp(r->account, "first") == 0) return acct && f->first_account && strcmp(acct, f->first_account) == 0;
  return acct && strcmp(acct, r->account) == 0;
}

static int identifier_matches(const rule *r, view *w, const srv_req *rq) {
  if (!r->identifier) return 1;
  size_t i;
  json_t *v;
  json_array_foreach(view_ids(w, rq), i, v) if (strstr(json_string_value(v), r->identifier)) return 1;
  return 0;
}

static int rule_matches(const srv_faults *f, const rule *r, view *w, const srv_req *rq) {
  if (strcmp(rq->resource, "management") == 0) return 0; /* the test's own controls stay reliable */
  if (r->resource && strcmp(r->resource, rq->resource) != 0) return 0;
  if (r->method && strcmp(r->method, rq->http->method) != 0) return 0;
  return account_matches(f, r, w, rq) && identifier_matches(r, w, rq);
}

/* ---- per-request application ------------------------------------------------ */

static void add_hit(srv_outcome *oc, size_t i) {
  size_t *h = realloc(oc->hits, (oc->nhits + 1) * sizeof *h);
  if (!h) return;
  oc->hits = h;
  oc->hits[oc->nhits++] = i;
}

static held *find_held(srv_faults *f, const char *id) {
  for (size_t i = 0; i < MAX_HELD; i++)
    if (f->held[i].left > 0 && strcmp(f->held[i].id, id) == 0) return &f->held[i];
  return NULL;
}

/* A POST-as-GET of an order held in "processing" uses up one poll of its hold. */
static void take_held_poll(srv_faults *f, const srv_req *rq, srv_outcome *oc) {
  char id[SRV_ID_CHARS + 1];
  if (!rq->is_post || strcmp(rq->resource, "order") || !path_id(rq->path, "order", id)) return;
  held *h = find_held(f, id);
  if (!h) return;
  h->left--;
  oc->hold = 1;
  oc->hold_rule = h->rule;
}

static void start_hold(srv_faults *f, const srv_req *rq, size_t i, srv_outcome *oc) {
  char id[SRV_ID_CHARS + 1];
  if (!path_id(rq->path, "order", id)) return;
  held *h = find_held(f, id);
  if (!h) {
    h = &f->held[f->next_held];
    f->next_held = (f->next_held + 1) % MAX_HELD;
  }
  snprintf(h->id, sizeof h->id, "%s", id);
  h->left = f->rules[i].processing_polls;
  h->rule = i;
  oc->hold = 1;
  oc->hold_rule = i;
}

/* The request's nonce is used up, as a real server checks it before anything
 * else: a client must not get a faulted answer and then succeed by resending
 * the same nonce (RFC 8555 §6.5). */
static void consume_nonce(view *w, srv_req *rq) {
  view_parse(w, rq);
  const char *nonce = json_string_value(json_object_get(w->prot, "nonce"));
  if (nonce) srv_nonce_redeem(rq->s->nonces, nonce);
}

/* reject_nonce: a good nonce is used up all the same, so the client cannot
 * simply resend it. */
static void reject_nonce(view *w, srv_req *rq, srv_resp *rs) {
  consume_nonce(w, rq);
  srv_problem(rs, 400, "badNonce", "the nonce was refused (fault injected by the test harness)");
}

int srv_faults_before(srv_faults *f, srv_req *rq, srv_resp *rs, srv_outcome *oc) {
  view w = {0};
  int decided = 0;
  take_held_poll(f, rq, oc);
  for (size_t i = 0; i < f->n; i++) {
    rule *r = &f->rules[i];
    if (!rule_matches(f, r, &w, rq)) continue;
    r->seen++;
    if ((r->nth && r->seen < r->nth) || (r->times && r->applied >= r->times)) continue;
    r->applied++;
    add_hit(oc, i);
    if (!decided && r->reject_nonce) {
      reject_nonce(&w, rq, rs);
      decided = 1;
    } else if (!decided && r->problem) {
      consume_nonce(&w, rq);
      srv_problem_send(rs, r->status, json_deep_copy(r->problem));
      decided = 1;
    }
    if (r->processing_polls) start_hold(f, rq, i, oc);
  }
  view_free(&w);
  return decided;
}

/* ---- body actions ------------------------------------------------------------ */

/* The container holding the last component of `path`, and that component. */
static json_t *path_parent(json_t *root, const char *path, char *last, size_t lastlen) {
  json_t *cur = root;
  const char *p = path;
  for (;;) {
    size_t n = strcspn(p, ".");
    snprintf(last, lastlen, "%.*s", (int)n, p);
    if (!p[n]) return cur;
    char *end;
    json_t *next = json_is_array(cur) ? json_array_get(cur, strtoul(last, &end, 10)) : json_object_get(cur, last);
    if (!next) return NULL;
    cur = next;
    p += n + 1;
  }
}

static int index_of(const json_t *arr, const char *key, size_t *idx) {
  char *end;
  unsigned long i = strtoul(key, &end, 10);
  if (!*key || *end || i >= json_array_size(arr)) return 0;
  *idx = i;
  return 1;
}

static json_t *get_at(json_t *parent, const char *key) {
  size_t i;
  if (json_is_object(parent)) return json_object_get(parent, key);
  return json_is_array(parent) && index_of(parent, key, &i) ? json_array_get(parent, i) : NULL;
}

static void set_at(json_t *parent, const char *key, json_t *v) {
  size_t i;
  if (json_is_object(parent)) json_object_set_new(parent, key, v);
  else if (json_is_array(parent) && index_of(parent, key, &i)) json_array_set_new(parent, i, v);
  else json_decref(v);
}

static void remove_at(json_t *parent, const char *key) {
  size_t i;
  if (json_is_object(parent)) json_object_del(parent, key);
  else if (json_is_array(parent) && index_of(parent, key, &i)) json_array_remove(parent, i);
}

/* A wrong value of the same JSON type (documented in fault.h). */
static json_t *corrupted(const json_t *v) {
  char *s = NULL;
  json_t *out;
  switch (json_typeof(v)) {
  case JSON_STRING:
    if (asprintf(&s, strstr(json_string_value(v), "://") ? "%s/corrupted" : "corrupted-%s", json_string_value(v)) < 0) s = NULL;
    out = json_string(s ? s : "corrupted");
    free(s);
    return out;
  case JSON_INTEGER: return json_integer(json_integer_value(v) + 1);
  case JSON_REAL: return json_real(json_real_value(v) + 1.0);
  case JSON_TRUE: return json_false();
  case JSON_FALSE: return json_true();
  case JSON_ARRAY:
    out = json_deep_copy(v);
    if (json_array_size(out)) json_array_remove(out, json_array_size(out) - 1);
    else json_array_append_new(out, json_string("corrupted"));
    return out;
  case JSON_OBJECT: return json_object_size(v) ? json_object() : json_pack("{s:b}", "corrupted", 1);
  default: return json_null();
  }
}

static void edit_field(json_t *body, const char *path, int remove) {
  char key[128];
  json_t *parent = path_parent(body, path, key, sizeof key);
  json_t *v = parent ? get_at(parent, key) : NULL;
  if (!v) return;
  if (remove) remove_at(parent, key);
  else set_at(parent, key, corrupted(v));
}

static void rotate(json_t *body, const char *path) {
  char key[128];
  json_t *parent = path_parent(body, path, key, sizeof key);
  json_t *arr = parent ? get_at(parent, key) : NULL;
  if (json_array_size(arr) < 2) return;
  json_array_append(arr, json_array_get(arr, 0));
  json_array_remove(arr, 0);
}

static int body_is_json(const srv_resp *rs) {
  return rs->body && rs->ctype &&
         (strcmp(rs->ctype, "application/json") == 0 || strcmp(rs->ctype, "application/problem+json") == 0);
}

static void edit_body(const rule *r, json_t *body) {
  json_t *sw = r->ari_window ? json_object_get(body, "suggestedWindow") : NULL;
  if (json_is_object(sw)) {
    char a[32], b[32];
    double now = acmeh_now_wall();
    json_object_set_new(sw, "start", json_string(acmeh_rfc3339_format(now + r->ari_start, a, sizeof a) ? a : ""));
    json_object_set_new(sw, "end", json_string(acmeh_rfc3339_format(now + r->ari_end, b, sizeof b) ? b : ""));
  }
  if (r->remove_field) edit_field(body, r->remove_field, 1);
  if (r->corrupt_field) edit_field(body, r->corrupt_field, 0);
  size_t i;
  json_t *p;
  json_array_foreach(r->shuffle, i, p) rotate(body, json_string_value(p));
}

/* The JSON body actions (processing hold, fields, shuffles, ARI window). */
static void edit_json(srv_faults *f, srv_resp *rs, srv_outcome *oc) {
  json_t *body = body_is_json(rs) ? json_loadb(rs->body, rs->body_len, 0, NULL) : NULL;
  if (!body) return;
  if (oc->hold && json_is_string(json_object_get(body, "status"))) {
    json_object_set_new(body, "status", json_string("processing"));
    json_object_del(body, "certificate");
  }
  for (size_t k = 0; k < oc->nhits; k++) edit_body(&f->rules[oc->hits[k]], body);
  char *text = json_dumps(body, JSON_INDENT(2));
  json_decref(body);
  if (!text) return;
  free(rs->body);
  rs->body = text;
  rs->body_len = strlen(text);
}

/* The rules' append_body texts after the body, whatever its media type. */
static void append_bodies(const srv_faults *f, srv_resp *rs, const srv_outcome *oc) {
  for (size_t k = 0; k < oc->nhits; k++) {
    const char *t = f->rules[oc->hits[k]].append_body;
    size_t n = t ? strlen(t) : 0;
    char *grown = n ? realloc(rs->body, rs->body_len + n + 1) : NULL;
    if (!grown) continue;
    memcpy(grown + rs->body_len, t, n + 1);
    rs->body = grown;
    rs->body_len += n;
  }
}

void srv_faults_body(srv_faults *f, srv_req *rq, srv_resp *rs, srv_outcome *oc) {
  (void)rq;
  for (size_t k = 0; k < oc->nhits; k++) {
    const rule *r = &f->rules[oc->hits[k]];
    if (r->status && !r->problem) rs->status = r->status;
  }
  edit_json(f, rs, oc);
  append_bodies(f, rs, oc); /* last: the JSON edits need the body still parseable */
}

/* ---- header and transport actions -------------------------------------------- */

/* Removes every "name: ..." line from the header block. */
static void hdr_remove(char **block, const char *name) {
  acmeh_strbuf b = {0};
  size_t n = strlen(name);
  for (const char *l = *block; l && *l;) {
    const char *eol = strstr(l, "\r\n");
    size_t len = eol ? (size_t)(eol - l) + 2 : strlen(l);
    if (!(strncasecmp(l, name, n) == 0 && l[n] == ':')) acmeh_strbuf_append(&b, l, len, 0);
    l += len;
  }
  free(*block);
  *block = acmeh_strbuf_take(&b);
}

static void hdr_set(char **block, const char *name, const char *value) {
  hdr_remove(block, name);
  acmeh_strbuf b = {0};
  acmeh_strbuf_printf(&b, "%s%s: %s\r\n", *block ? *block : "", name, value);
  free(*block);
  *block = acmeh_strbuf_take(&b);
}

static int hdr_has(const char *block, const char *name) {
  size_t n = strlen(name);
  for (const char *l = block; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : "")
    if (strncasecmp(l, name, n) == 0 && l[n] == ':') return 1;
  return 0;
}

static void edit_headers(const rule *r, acmeh_httpsrv_resp *out) {
  const char *k;
  json_t *v;
  size_t i;
  json_object_foreach((json_t *)r->headers, k, v) {
    if (strcasecmp(k, "Content-Type") == 0) out->content_type = json_string_value(v);
    else hdr_set(&out->headers, k, json_string_value(v));
  }
  json_array_foreach(r->remove_headers, i, v) {
    if (strcasecmp(json_string_value(v), "Content-Type") == 0) out->content_type = "";
    else hdr_remove(&out->headers, json_string_value(v));
  }
  if (r->retry_after[0]) hdr_set(&out->headers, "Retry-After", r->retry_after);
  if (r->replay_nonce) hdr_set(&out->headers, "Replay-Nonce", r->replay_nonce);
  if (r->content_type) out->content_type = r->content_type;
}

/* The first account: remembered from the first newAccount that created one. */
static void learn_first_account(srv_faults *f, const srv_req *rq, const acmeh_httpsrv_resp *out) {
  if (f->first_account || strcmp(rq->resource, "newAccount") || out->status != 201) return;
  for (const char *l = out->headers; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : "")
    if (strncasecmp(l, "Location:", 9) == 0) {
      const char *v = l + 9 + strspn(l + 9, " \t");
      f->first_account = strndup(v, strcspn(v, "\r\n"));
      return;
    }
}

static void name_faults(const srv_faults *f, srv_outcome *oc) {
  oc->faults = json_array();
  for (size_t k = 0; k < oc->nhits; k++) json_array_append_new(oc->faults, json_string(f->rules[oc->hits[k]].name));
  int listed = 0;
  for (size_t k = 0; oc->hold && k < oc->nhits; k++) listed |= oc->hits[k] == oc->hold_rule;
  if (oc->hold && !listed) json_array_append_new(oc->faults, json_string(f->rules[oc->hold_rule].name));
}

void srv_faults_after(srv_faults *f, srv_req *rq, acmeh_httpsrv_resp *out, srv_outcome *oc) {
  learn_first_account(f, rq, out);
  unsigned delay = 0;
  for (size_t k = 0; k < oc->nhits; k++) {
    const rule *r = &f->rules[oc->hits[k]];
    edit_headers(r, out);
    delay += r->delay_ms;
    if (r->drop == SRV_DROP_BEFORE_HEADERS || (r->drop && !oc->drop)) oc->drop = r->drop;
  }
  if (oc->hold && !hdr_has(out->headers, "Retry-After"))
    hdr_set(&out->headers, "Retry-After", f->rules[oc->hold_rule].retry_after[0] ? f->rules[oc->hold_rule].retry_after : "1");
  oc->delay_ms = delay > MAX_DELAY_MS ? MAX_DELAY_MS : delay;
  out->delay_ms = oc->delay_ms;
  out->drop = oc->drop == SRV_DROP_BEFORE_HEADERS  ? ACMEH_HTTPSRV_DROP_BEFORE_HEADERS
              : oc->drop == SRV_DROP_AFTER_HEADERS ? ACMEH_HTTPSRV_DROP_AFTER_HEADERS
                                                   : ACMEH_HTTPSRV_SEND;
  if (oc->nhits || oc->hold) name_faults(f, oc);
}

void srv_outcome_free(srv_outcome *oc) {
  free(oc->hits);
  json_decref(oc->faults);
}
