#include "harness/runner/runner.h"

#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "harness/acme/schema.h"
#include "harness/runner/suite.h"

/* Bytes of transcript kept per check. */
#define TRANSCRIPT_MAX (512u * 1024u)
/* Seconds past the budget before the watchdog gives up on a check. */
#define GRACE_S 2.0

enum slot_state { SLOT_PENDING, SLOT_RUNNING, SLOT_DONE, SLOT_ABANDONED };

typedef struct {
  const acmeh_check_def *def;
  acmeh_result *res;
  enum slot_state state;
  double started;
} slot;

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  slot *slots;
  size_t n, next, done;
  size_t n_first; /* slots [0, n_first) judge their own scenarios; the rest (every_scenario) wait for them */
  const acmeh_env *env;
  const acmeh_run_opts *o;
  acmeh_schema_log *schema; /* what every check received, for the schema checks */
} run_state;

static volatile sig_atomic_t cancelled;

void acmeh_runner_cancel(void) { cancelled = 1; }

static uint64_t seed_for(uint64_t seed, const char *id) {
  uint64_t h = seed ^ 1469598103934665603ULL;
  for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return h;
}

/* A peer failure that the check returned as it came from a set-up step of
 * the reference client: unless this check judges that step (its
 * step_judges, runner/suite.h), the check was not judged; it is blocked and
 * names the check that judges the step. 1 when so. */
static int blocked(acmeh_check_ctx *ctx) {
  int own = 0;
  const char *judge = acmeh_step_judge_of(ctx->failed_step, ctx->id, &own);
  if (!judge || own) return 0;
  acmeh_check_blocked(ctx, ctx->failed_step, judge, ctx->err);
  return 1;
}

/* Turns what the check function returned into a verdict and message. */
static void judge(acmeh_check_ctx *ctx, int rc) {
  if (ctx->concluded) return;
  if (rc == ACMEH_OK) {
    ctx->verdict = ACMEH_PASS;
    return;
  }
  acmeh_errclass cls = acmeh_err_class(rc);
  if (cls == ACMEH_CLASS_PEER && ctx->failed_step && blocked(ctx)) return;
  ctx->verdict = cls == ACMEH_CLASS_PEER      ? ACMEH_FAIL
                 : cls == ACMEH_CLASS_UNSUP   ? ACMEH_SKIP
                 : cls == ACMEH_CLASS_BLOCKED ? ACMEH_BLOCKED
                                              : ACMEH_ERROR;
  char *m = NULL;
  if (asprintf(&m, "%s (%s)", ctx->err[0] ? ctx->err : acmeh_strerror(rc), ctx->section) < 0) m = NULL;
  ctx->message = m;
  acmeh_check_note(ctx, "%s: %s", acmeh_verdict_name(ctx->verdict), m ? m : "");
}

static void run_one(run_state *st, slot *s, acmeh_result *out) {
  acmeh_check_ctx ctx = {.env = st->env, .id = s->def->id, .section = s->def->section, .revision = s->res->revision,
                         .schema_log = st->schema};
  ctx.transcript.max = TRANSCRIPT_MAX;
  ctx.deadline = s->started + st->o->timeout_s;
  ctx.rng = seed_for(st->env->seed, s->def->id);
  acmeh_check_note(&ctx, "%s %s [%s, %s%s%s]", s->def->id, s->def->title, s->def->level, s->def->section,
                   ctx.revision ? ", revision " : "", ctx.revision ? ctx.revision : "");
  acmeh_check_fn fn = acmeh_check_impl_find(s->def->id);
  int rc = fn ? fn(&ctx) : acmeh_msg(ctx.err, sizeof ctx.err, ACMEH_INTERNAL, "no implementation for %s", s->def->id);
  if (rc == ACMEH_OK && acmeh_now_mono() > ctx.deadline)
    rc = acmeh_msg(ctx.err, sizeof ctx.err, ACMEH_DEADLINE, "check exceeded its %.0f s budget", st->o->timeout_s);
  judge(&ctx, rc);
  out->verdict = ctx.verdict;
  out->blocked_by = ctx.blocked_by;
  out->message = ctx.message;
  out->expected = ctx.expected;
  out->actual = ctx.actual;
  out->transcript = acmeh_strbuf_take(&ctx.transcript);
  out->duration_s = acmeh_now_mono() - s->started;
}

/* A failure that is not the one an entry's "message" pattern describes is a
 * plain fail: the peer's behaviour changed, and the reason no longer tells
 * what happens. The message says so, with the pattern. */
static int differs(acmeh_result *r, const char *pattern) {
  if (!pattern || (r->message && fnmatch(pattern, r->message, 0) == 0)) return 0;
  char *m = NULL;
  if (asprintf(&m, "differs from the expected failure (\"%.200s\"): %s", pattern, r->message ? r->message : "") >= 0)
    free(r->message), r->message = m;
  return 1;
}

/* xfail / xpass per the target's expectations. */
static void apply_expectation(acmeh_result *r, const json_t *exp) {
  const char *why = exp ? acmeh_expectation_for(exp, r->id, r->revision) : NULL;
  if (!why || (r->verdict != ACMEH_FAIL && r->verdict != ACMEH_PASS)) return;
  if (r->verdict == ACMEH_FAIL && differs(r, acmeh_expectation_pattern(exp, r->id))) return;
  r->verdict = r->verdict == ACMEH_FAIL ? ACMEH_XFAIL : ACMEH_XPASS;
  r->xfail_reason = strdup(why);
}

/* Moves a finished check's outcome into its result (under the lock). */
static void store(run_state *st, slot *s, acmeh_result *tmp) {
  acmeh_result *r = s->res;
  r->verdict = tmp->verdict;
  r->blocked_by = tmp->blocked_by;
  r->message = tmp->message, r->expected = tmp->expected, r->actual = tmp->actual;
  r->duration_s = tmp->duration_s;
  apply_expectation(r, st->o->expectations);
  acmeh_strbuf t = {.data = tmp->transcript, .len = tmp->transcript ? strlen(tmp->transcript) : 0};
  t.cap = t.len + 1;
  acmeh_strbuf_printf(&t, "\n# verdict: %s%s%s\n", acmeh_verdict_name(r->verdict), r->xfail_reason ? " - expected: " : "",
                      r->xfail_reason ? r->xfail_reason : "");
  r->transcript = acmeh_strbuf_take(&t);
  if (st->o->live) { /* the message of a blocked check starts with "blocked: ", the verdict's column says it already */
    const char *m = r->message && r->verdict == ACMEH_BLOCKED && !strncmp(r->message, "blocked: ", 9) ? r->message + 9 : r->message;
    fprintf(stderr, "%-12s %-5s %s\n", r->id, acmeh_verdict_name(r->verdict), acmeh_term_clean(m, (char[2048]){0}, 2048));
  }
}

/* A check that judges every scenario starts once every other check is done
 * (under the lock): the scenarios they asked for are then all recorded. 0
 * when the run was interrupted meanwhile; the slot is then stored as such. */
static int wait_for_first(run_state *st, slot *s) {
  while (s - st->slots >= (ptrdiff_t)st->n_first && st->done < st->n_first && !cancelled) pthread_cond_wait(&st->cv, &st->mu);
  if (!cancelled) return 1;
  s->res->verdict = ACMEH_ERROR;
  s->res->message = strdup("run interrupted before this check started");
  s->state = SLOT_DONE;
  st->done++;
  pthread_cond_broadcast(&st->cv);
  return 0;
}

static void *worker(void *arg) {
  run_state *st = arg;
  pthread_mutex_lock(&st->mu);
  while (st->next < st->n && !cancelled) {
    slot *s = &st->slots[st->next++];
    if (!wait_for_first(st, s)) continue;
    s->state = SLOT_RUNNING;
    s->started = acmeh_now_mono();
    pthread_mutex_unlock(&st->mu);
    acmeh_result tmp = {0};
    run_one(st, s, &tmp);
    pthread_mutex_lock(&st->mu);
    if (s->state == SLOT_ABANDONED) { /* the watchdog already reported it */
      acmeh_result_clear(&tmp);
      continue;
    }
    store(st, s, &tmp);
    s->state = SLOT_DONE;
    st->done++;
    pthread_cond_broadcast(&st->cv);
  }
  pthread_mutex_unlock(&st->mu);
  return NULL;
}

/* Marks checks past their budget as errors and returns how many it abandoned. */
static size_t watchdog(run_state *st) {
  size_t abandoned = 0;
  double now = acmeh_now_mono();
  for (size_t i = 0; i < st->n; i++) {
    slot *s = &st->slots[i];
    if (s->state != SLOT_RUNNING || now - s->started < st->o->timeout_s + GRACE_S) continue;
    s->state = SLOT_ABANDONED;
    s->res->verdict = ACMEH_ERROR;
    if (asprintf(&s->res->message, "check did not finish within its %.0f s budget; abandoned", st->o->timeout_s) < 0)
      s->res->message = NULL;
    s->res->duration_s = now - s->started;
    st->done++;
    abandoned++;
  }
  return abandoned;
}

static void spawn_worker(run_state *st) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, st) == 0) pthread_detach(t);
}

static void wait_all(run_state *st) {
  pthread_mutex_lock(&st->mu);
  while (st->done < st->n) {
    if (cancelled && st->next == st->done) break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&st->cv, &st->mu, &ts);
    for (size_t k = watchdog(st); k > 0; k--) spawn_worker(st); /* replace stuck workers */
  }
  for (size_t i = st->next; i < st->n; i++) { /* never started: run was interrupted */
    st->slots[i].res->verdict = ACMEH_ERROR;
    st->slots[i].res->message = strdup("run interrupted before this check started");
  }
  pthread_mutex_unlock(&st->mu);
}

/* The reason of entry v when it applies under `revision`, else NULL. */
static const char *entry_reason(const json_t *v, const char *revision) {
  if (json_is_string(v)) return json_string_value(v);
  const json_t *revs = json_object_get(v, "revisions"), *r;
  size_t i;
  int applies = !revs;
  json_array_foreach(revs, i, r) if (revision && json_is_string(r) && strcmp(json_string_value(r), revision) == 0) applies = 1;
  return applies ? json_string_value(json_object_get(v, "reason")) : NULL;
}

/* The entry for `id`: exact key, else the first glob that matches. */
static const json_t *entry_of(const json_t *expectations, const char *id) {
  const char *key;
  json_t *v;
  const json_t *exact = json_object_get(expectations, id);
  if (exact) return exact;
  json_object_foreach((json_t *)expectations, key, v) if (fnmatch(key, id, 0) == 0) return v;
  return NULL;
}

const char *acmeh_expectation_pattern(const json_t *expectations, const char *id) {
  return json_string_value(json_object_get(entry_of(expectations, id), "message"));
}

const char *acmeh_expectation_for(const json_t *expectations, const char *id, const char *revision) {
  const json_t *v = entry_of(expectations, id);
  return v ? entry_reason(v, revision) : NULL;
}

static int nonempty_strings(const json_t *a) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (!json_is_string(v) || !*json_string_value(v)) return 0;
  return json_array_size(a) > 0;
}

int acmeh_expectations_check(const json_t *expectations, const char *name, char *err, size_t errlen) {
  const char *key;
  json_t *v;
  if (!json_is_object(expectations)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s: must be a JSON object of check ID -> reason", name);
  json_object_foreach((json_t *)expectations, key, v) {
    const char *reason = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "reason"));
    const json_t *revs = json_object_get(v, "revisions");
    if (!reason || !*reason)
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s: %.80s: must be a reason, or {\"reason\": ..., \"revisions\": [...]}", name, key);
    const char *member;
    json_t *ignored;
    json_object_foreach((json_t *)v, member, ignored)
      if (strcmp(member, "reason") && strcmp(member, "message") && strcmp(member, "revisions"))
        return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s: %.80s: unknown member \"%.40s\" (reason, message, revisions)", name, key, member);
    const json_t *msg = json_object_get(v, "message");
    if (msg && (!json_is_string(msg) || !*json_string_value(msg)))
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s: %.80s: message: must be a non-empty pattern (fnmatch glob)", name, key);
    if (revs && !nonempty_strings(revs))
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s: %.80s: revisions: must be a non-empty array of revision names", name, key);
  }
  return ACMEH_OK;
}

static int select_checks(const acmeh_catalog *cat, const acmeh_run_opts *o, acmeh_run_report *rep) {
  rep->results = calloc(cat->n ? cat->n : 1, sizeof *rep->results);
  if (!rep->results) return ACMEH_NOMEM;
  for (size_t i = 0; i < cat->n; i++) {
    const acmeh_check_def *d = &cat->checks[i];
    if (!acmeh_catalog_selected(d, o->suite, o->ids, o->nids, o->level, o->role)) continue;
    if (!acmeh_catalog_applies(d, o->drafts)) continue; /* not in the revision under test */
    acmeh_result *r = &rep->results[rep->n++];
    r->id = d->id, r->title = d->title, r->spec = d->spec;
    r->revision = json_string_value(json_object_get(o->drafts, d->spec));
    r->section = d->section, r->level = d->level, r->role = d->role;
  }
  return ACMEH_OK;
}

/* The result of check `id` in rep, or NULL when the run did not select it. */
static const acmeh_result *result_of(const acmeh_run_report *rep, const char *id) {
  for (size_t k = 0; k < rep->n; k++)
    if (strcmp(rep->results[k].id, id) == 0) return &rep->results[k];
  return NULL;
}

/* A blocked check names the check that judges the step that failed for it.
 * When that check is in this run and did not fail (the step failed only
 * sometimes, or its judge was itself blocked), no check reports the fault:
 * the blocked check's own observation is then the failure. */
static void unblock_unjudged(acmeh_run_report *rep, const json_t *exp) {
  for (size_t i = 0; i < rep->n; i++) {
    acmeh_result *r = &rep->results[i];
    if (r->verdict != ACMEH_BLOCKED || !r->blocked_by) continue;
    const acmeh_result *j = result_of(rep, r->blocked_by);
    if (!j || j->verdict == ACMEH_FAIL || j->verdict == ACMEH_XFAIL || j->verdict == ACMEH_ERROR) continue;
    char *m = NULL;
    const char *was = r->message ? r->message : "";
    if (strncmp(was, "blocked: ", 9) == 0) was += 9;
    if (asprintf(&m, "%s did not fail in this run, so this is the failure: %s", r->blocked_by, was) >= 0)
      free(r->message), r->message = m;
    r->verdict = ACMEH_FAIL;
    apply_expectation(r, exp);
  }
}

/* Slots in catalog order, except that checks judging every scenario
 * (every_scenario) come last; results keep catalog order. */
static void order_slots(run_state *st, const acmeh_catalog *cat, const acmeh_run_report *rep) {
  size_t k = 0, first = 0, last = 0;
  for (size_t i = 0; i < cat->n; i++)
    if (k < rep->n && strcmp(cat->checks[i].id, rep->results[k].id) == 0) first += !cat->checks[i].every_scenario, k++;
  st->n_first = first, k = 0;
  for (size_t i = 0; i < cat->n && st->slots; i++) {
    if (k >= rep->n || strcmp(cat->checks[i].id, rep->results[k].id) != 0) continue;
    int late = cat->checks[i].every_scenario;
    slot *s = &st->slots[late ? first + last++ : k - last];
    s->def = &cat->checks[i], s->res = &rep->results[k++];
  }
}

/* Appends a line to r's transcript. */
static void transcript_note(acmeh_result *r, const char *line) {
  char *t = NULL;
  if (asprintf(&t, "%s# %s\n", r->transcript ? r->transcript : "", line) >= 0) free(r->transcript), r->transcript = t;
}

/* The verdict of schema check r over `kind`: every violation the run logged
 * (fail), else a pass when objects of the kind were checked, else what the
 * check itself found (an error, a block) or a skip. Its own verdict counted
 * only what it received itself; the log holds what every check received. */
/* The violations of every "|"-separated kind in `kinds`, joined by "; "
 * (malloc'd, NULL when none), their number in *nv and the objects seen in *seen. */
static char *schema_findings(acmeh_schema_log *log, const char *kinds, size_t *nv, size_t *seen) {
  char *list = NULL, kind[64];
  *nv = *seen = 0;
  for (const char *p = kinds; p && *p;) {
    const char *bar = strchr(p, '|');
    snprintf(kind, sizeof kind, "%.*s", (int)(bar ? (size_t)(bar - p) : strlen(p)), p);
    p = bar ? bar + 1 : NULL;
    size_t n = 0;
    char *more = acmeh_schema_log_violations(log, kind, &n), *both = NULL;
    *seen += acmeh_schema_log_count(log, kind), *nv += n;
    if (!more) continue;
    if (!list) list = more;
    else if (asprintf(&both, "%s; %s", list, more) >= 0) free(list), free(more), list = both;
    else free(more);
  }
  return list;
}

static void judge_schema(acmeh_result *r, const char *kinds, acmeh_schema_log *log, const json_t *exp) {
  size_t nv = 0, seen = 0;
  char *list = schema_findings(log, kinds, &nv, &seen), kind[200];
  snprintf(kind, sizeof kind, "%s", kinds);
  for (char *p = kind; *p; p++) if (*p == '|') *p = '/';
  if (!list && (r->verdict == ACMEH_ERROR || (!seen && r->verdict == ACMEH_BLOCKED))) return;
  if (!list && !seen && r->verdict == ACMEH_SKIP) return; /* its own reason says more */
  if (r->xfail_reason) { /* judged anew below */
    r->verdict = r->verdict == ACMEH_XFAIL ? ACMEH_FAIL : ACMEH_PASS;
    free(r->xfail_reason), r->xfail_reason = NULL;
  }
  free(r->message), free(r->expected), free(r->actual);
  r->message = r->expected = r->actual = NULL;
  r->blocked_by = NULL;
  int m;
  if (list) {
    r->verdict = ACMEH_FAIL;
    r->expected = strdup(kind);
    r->actual = list;
    m = asprintf(&r->message, "expected every %s object to follow its schema; got %zu violation%s: %s (%s)", kind, nv,
                 nv == 1 ? "" : "s", list, r->section);
  } else if (seen) {
    r->verdict = ACMEH_PASS;
    m = asprintf(&r->message, "%zu %s object%s checked, none breaks the schema", seen, kind, seen == 1 ? "" : "s");
  } else {
    r->verdict = ACMEH_SKIP;
    m = asprintf(&r->message, "no %s object was received or sent in this run, so none was checked", kind);
  }
  if (m < 0) r->message = NULL;
  apply_expectation(r, exp);
  char line[300];
  snprintf(line, sizeof line, "schema verdict over the whole run: %s", acmeh_verdict_name(r->verdict));
  transcript_note(r, line);
  if (r->message) transcript_note(r, r->message);
}

/* Every schema check of the run (the suites' schema_judges) judged from the log. */
static void judge_schemas(acmeh_run_report *rep, acmeh_schema_log *log, const json_t *exp) {
  for (const acmeh_suite *const *s = acmeh_suites(); *s; s++)
    for (const acmeh_schema_judge *j = (*s)->schema_judges; j && j->kind; j++) {
      acmeh_result *r = (acmeh_result *)result_of(rep, j->check);
      if (r) judge_schema(r, j->kind, log, exp);
    }
}

int acmeh_runner_run(const acmeh_catalog *cat, const acmeh_env *env, const acmeh_run_opts *o,
                     acmeh_run_report *rep, char *err, size_t errlen) {
  memset(rep, 0, sizeof *rep);
  if (select_checks(cat, o, rep)) return ACMEH_NOMEM;
  if (!rep->n) {
    acmeh_run_report_free(rep);
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "no check matches the selection");
  }
  /* On the heap: a worker the watchdog abandoned may still use it after we return. */
  run_state *st = calloc(1, sizeof *st);
  if (!st) return ACMEH_NOMEM;
  st->n = rep->n, st->env = env, st->o = o;
  st->schema = acmeh_schema_log_new();
  pthread_mutex_init(&st->mu, NULL);
  pthread_cond_init(&st->cv, NULL);
  st->slots = calloc(rep->n, sizeof *st->slots);
  order_slots(st, cat, rep);
  rep->started_unix = acmeh_now_wall();
  double t0 = acmeh_now_mono();
  int jobs = o->jobs > 0 ? (o->jobs > 64 ? 64 : o->jobs) : 1;
  pthread_t threads[64];
  int started = 0;
  for (; started < jobs; started++)
    if (pthread_create(&threads[started], NULL, worker, st) != 0) break;
  wait_all(st);
  rep->duration_s = acmeh_now_mono() - t0;
  int stuck = 0;
  pthread_mutex_lock(&st->mu);
  for (size_t i = 0; i < st->n; i++) {
    stuck |= st->slots[i].state == SLOT_ABANDONED || st->slots[i].state == SLOT_RUNNING;
    rep->abandoned += st->slots[i].state == SLOT_ABANDONED;
  }
  rep->interrupted = cancelled && st->next < st->n;
  judge_schemas(rep, st->schema, o->expectations);
  unblock_unjudged(rep, o->expectations); /* under the lock: an abandoned worker may still store */
  pthread_mutex_unlock(&st->mu);
  for (int j = 0; j < started; j++) stuck ? pthread_detach(threads[j]) : pthread_join(threads[j], NULL);
  if (!stuck) { /* otherwise leaked on purpose: the process ends soon after */
    free(st->slots);
    acmeh_schema_log_free(st->schema);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st);
  }
  rep->seed = env->seed;
  return ACMEH_OK;
}

void acmeh_run_report_free(acmeh_run_report *rep) {
  for (size_t i = 0; i < rep->n; i++) acmeh_result_clear(&rep->results[i]);
  free(rep->results);
  memset(rep, 0, sizeof *rep);
}

const char *acmeh_runner_unreported_block(const acmeh_run_report *rep, int strict) {
  for (size_t i = 0; i < rep->n; i++) {
    const acmeh_result *r = &rep->results[i];
    if (r->verdict != ACMEH_BLOCKED || !r->blocked_by || !(strict || strncmp(r->level, "MUST", 4) == 0)) continue;
    if (!strstr(r->blocked_by, "-S-") && !strstr(r->blocked_by, "-C-")) continue; /* no check judges it */
    if (!result_of(rep, r->blocked_by)) return r->blocked_by;
  }
  return NULL;
}

int acmeh_runner_exit_status(const acmeh_run_report *rep, int strict) {
  for (size_t i = 0; i < rep->n; i++) {
    const acmeh_result *r = &rep->results[i];
    int counted = strict || strncmp(r->level, "MUST", 4) == 0;
    if (r->verdict == ACMEH_XPASS || ((r->verdict == ACMEH_FAIL || r->verdict == ACMEH_ERROR) && counted)) return 1;
  }
  /* A counted check blocked by a step whose judge this run did not select:
   * the peer's fault is reported by no check of the run, so it cannot pass. */
  return acmeh_runner_unreported_block(rep, strict) ? 1 : 0;
}
