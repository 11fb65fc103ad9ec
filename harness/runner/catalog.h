/* The check catalog: suites/<spec>/catalog.json files, loaded as data. */
#ifndef ACMEH_RUNNER_CATALOG_H
#define ACMEH_RUNNER_CATALOG_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
  const char *id, *title, *spec, *section, *level, *role; /* borrowed from the JSON */
  const char *digest_ref; /* the digest's own numbering, e.g. "CORE-S11" (may be NULL) */
  const json_t *revisions; /* the spec revisions the check applies to (array of strings,
                              borrowed); NULL = every revision of its suite */
  int every_scenario;      /* "scope": "every-scenario": a client check judging every request of
                              every scenario the run made; the runner starts it after the others */
} acmeh_check_def;

typedef struct {
  json_t *docs;           /* loaded catalog documents (owned) */
  acmeh_check_def *checks;
  size_t n, cap;
  json_t *ids;            /* check ID -> its index in checks (owned) */
} acmeh_catalog;

/* The folder holding suites/, vectors/ and targets/: $ACMEH_DATA_DIR; else,
 * for an installed binary (cmake --install), <prefix>/share/acme-harness
 * beside <prefix>/bin; else the source tree the binary was built from.
 * Borrowed static string. */
const char *acmeh_data_dir(void);

/* Loads the catalog of every registered suite (runner/suite.h),
 * suites/<name>/catalog.json under `data_dir` (NULL = acmeh_data_dir()).
 * Each file: {"spec":"core","checks":[{"id","title","section","level","role","ref"}]}, a check
 * optionally with "revisions" and "scope": "every-scenario" (acmeh_check_def).
 * Rejects duplicate or malformed IDs. Returns ACMEH_OK, ACMEH_ENV_IO, ACMEH_INTERNAL
 * (malformed catalog) with the reason in err. Free with acmeh_catalog_free. */
int acmeh_catalog_load(const char *data_dir, acmeh_catalog *out, char *err, size_t errlen);
void acmeh_catalog_free(acmeh_catalog *c);

/* Does check `d` match the selection? suite NULL = all, else one spec name or
 * several separated by commas ("ari,profiles"); ids NULL or empty = all
 * (each entry a glob, e.g. "CORE-S-01*"); level NULL = all ("MUST" selects MUST
 * and MUST NOT, and so on); role NULL = all. */
int acmeh_catalog_selected(const acmeh_check_def *d, const char *suite, const char *const *ids,
                           size_t nids, const char *level, const char *role);

/* The revisions of suite `spec` from its catalog's "revisions" (array of
 * strings, oldest first, newest last; borrowed), or NULL for an unknown suite. */
const json_t *acmeh_catalog_revisions(const acmeh_catalog *c, const char *spec);

/* The revision chosen for every suite: `arg` is NULL or "SUITE=REV[,SUITE=REV...]"
 * (run/list --draft, repeatable by joining with commas); a suite not named
 * gets its newest revision. *out receives {"<suite>": "<revision>"} (new
 * reference). Returns ACMEH_OK, or ACMEH_INVALID_ARG naming the unknown suite
 * or revision and the known ones in err. */
int acmeh_catalog_drafts(const acmeh_catalog *c, const char *arg, json_t **out, char *err, size_t errlen);

/* Does check `d` apply to the revision `drafts` chose for its suite? 1 when
 * the check lists no revisions or lists that one, or drafts is NULL. */
int acmeh_catalog_applies(const acmeh_check_def *d, const json_t *drafts);

#endif
