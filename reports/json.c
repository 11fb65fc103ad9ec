/* JSON results writer (jansson). Strings a peer influenced are made valid
 * UTF-8 first: jansson refuses anything else, and a dropped field would hide
 * exactly the evidence the report is for. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "base/error.h"
#include "reports/report_internal.h"
#include "reports/reports.h"

/* Returns a JSON string for s (sanitised), json null for NULL, or NULL on OOM. */
static json_t *jstr(const char *s) {
  if (!s) return json_null();
  char *clean = acmeh_rep_utf8_sanitize(s);
  if (!clean) return NULL;
  json_t *j = json_string(clean);
  free(clean);
  return j;
}

/* Seconds rounded to milliseconds, so the output reads 12.3, not 12.300000000000001. */
static json_t *jseconds(double s) {
  if (!(s == s) || s < 0 || s > 1e12) s = 0;
  return json_real((double)(long long)(s * 1000.0 + 0.5) / 1000.0);
}

/* Sets o[key] = v, stealing v; records failure (OOM) in *bad. */
static void put(json_t *o, const char *key, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, key, v) != 0) *bad = 1;
}

static json_t *result_json(const acmeh_run_report *rep, const acmeh_result *r, int *bad) {
  json_t *o = json_object();
  if (!o) {
    *bad = 1;
    return NULL;
  }
  put(o, "id", jstr(r->id), bad);
  put(o, "title", jstr(r->title), bad);
  put(o, "spec", jstr(r->spec), bad);
  put(o, "revision", jstr(r->revision), bad);
  put(o, "section", jstr(r->section), bad);
  put(o, "level", jstr(r->level), bad);
  put(o, "role", jstr(r->role), bad);
  put(o, "verdict", json_string(acmeh_verdict_name(r->verdict)), bad);
  put(o, "message", jstr(r->message), bad);
  put(o, "expected", jstr(r->expected), bad);
  put(o, "actual", jstr(r->actual), bad);
  put(o, "xfail_reason", jstr(r->xfail_reason), bad);
  put(o, "duration_s", jseconds(r->duration_s), bad);
  /* The text itself, so `report` can rebuild other formats from this file
   * alone; the path too, when --transcripts wrote one. */
  put(o, "transcript", acmeh_rep_keeps_transcript(rep, r) ? jstr(r->transcript) : json_null(), bad);
  put(o, "transcript_path", jstr(r->transcript_path), bad);
  return o;
}

static json_t *summary_json(const acmeh_run_report *rep, int *bad) {
  size_t c[ACMEH_REP_NVERDICTS] = {0};
  for (size_t i = 0; i < rep->n; i++) {
    unsigned v = (unsigned)rep->results[i].verdict;
    c[v < ACMEH_REP_NVERDICTS ? v : ACMEH_ERROR]++;
  }
  json_t *o = json_object();
  if (!o) {
    *bad = 1;
    return NULL;
  }
  for (unsigned v = 0; v < ACMEH_REP_NVERDICTS; v++)
    put(o, acmeh_verdict_name((acmeh_verdict)v), json_integer((json_int_t)c[v]), bad);
  put(o, "total", json_integer((json_int_t)rep->n), bad);
  return o;
}

/* A seed beyond INT64_MAX does not fit a json integer; it goes out as a
 * decimal string rather than wrapping to a negative number. */
static json_t *seed_json(uint64_t seed) {
  if (seed <= (uint64_t)INT64_MAX) return json_integer((json_int_t)seed);
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)seed);
  return json_string(buf);
}

/* {"<suite>": "<revision tested>"} over the results (--draft). */
static json_t *revisions_json(const acmeh_run_report *rep, int *bad) {
  json_t *o = json_object();
  if (!o) *bad = 1;
  for (size_t i = 0; o && i < rep->n; i++)
    if (rep->results[i].revision && rep->results[i].spec)
      put(o, rep->results[i].spec, json_string(rep->results[i].revision), bad);
  return o;
}

static json_t *document_json(const acmeh_run_report *rep, int *bad) {
  json_t *doc = json_object(), *results = json_array();
  if (!doc || !results) {
    json_decref(doc);
    json_decref(results);
    *bad = 1;
    return NULL;
  }
  char started[32];
  acmeh_rep_iso8601(rep->started_unix, started, sizeof started);
  put(doc, "tool", jstr(rep->tool_version), bad);
  put(doc, "target", jstr(rep->target), bad);
  put(doc, "peer_version", jstr(rep->peer_version), bad);
  put(doc, "role", jstr(rep->role), bad);
  put(doc, "seed", seed_json(rep->seed), bad);
  put(doc, "started", json_string(started), bad);
  put(doc, "duration_s", jseconds(rep->duration_s), bad);
  put(doc, "summary", summary_json(rep, bad), bad);
  put(doc, "revisions", revisions_json(rep, bad), bad);
  for (size_t i = 0; i < rep->n && !*bad; i++) {
    json_t *r = result_json(rep, &rep->results[i], bad);
    if (!r || json_array_append_new(results, r) != 0) *bad = 1;
  }
  put(doc, "results", results, bad);
  return doc;
}

int acmeh_report_json_write(const acmeh_run_report *rep, const char *path, char *err,
                            size_t errlen) {
  int bad = 0;
  json_t *doc = document_json(rep, &bad);
  if (bad) {
    json_decref(doc);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory building %s", path);
  }
  acmeh_rep_file a;
  int rc = acmeh_rep_file_open(&a, path, err, errlen);
  if (rc == ACMEH_OK) {
    if (json_dumpf(doc, a.f, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) != 0)
      acmeh_rep_fail(&a, 0);
    acmeh_rep_putc(&a, '\n');
    rc = acmeh_rep_file_commit(&a, err, errlen);
  }
  json_decref(doc);
  return rc;
}
