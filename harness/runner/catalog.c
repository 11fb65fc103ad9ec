#include "harness/runner/catalog.h"

#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/core/error.h"
#include "harness/runner/suite.h"

const char *acmeh_data_dir(void) {
  const char *d = getenv("ACMEH_DATA_DIR");
  return d && *d ? d : ACMEH_SOURCE_DIR;
}

static int valid_id(const char *id) {
  regex_t re;
  if (regcomp(&re, "^[A-Z]+(-[A-Z]+)*-[SC]-[0-9]{3}$", REG_EXTENDED | REG_NOSUB)) return 0;
  int ok = regexec(&re, id, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

static int add_check(acmeh_catalog *c, const char *spec, json_t *j, char *err, size_t errlen) {
  acmeh_check_def d = {0};
  d.spec = spec;
  if (json_unpack(j, "{s:s,s:s,s:s,s:s,s:s}", "id", &d.id, "title", &d.title, "section", &d.section,
                  "level", &d.level, "role", &d.role))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: a check lacks id/title/section/level/role", spec);
  d.digest_ref = json_string_value(json_object_get(j, "ref"));
  if (!valid_id(d.id)) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: malformed check ID %s", spec, d.id);
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->checks[i].id, d.id) == 0)
      return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog: duplicate check ID %s", d.id);
  acmeh_check_def *p = realloc(c->checks, (c->n + 1) * sizeof *p);
  if (!p) return ACMEH_NOMEM;
  c->checks = p;
  c->checks[c->n++] = d;
  return ACMEH_OK;
}

/* One suite's catalog. Its "spec" must be the suite's name, so that one
 * spelling holds everywhere (runner/suite.h). */
static int load_file(acmeh_catalog *c, const acmeh_suite *s, const char *path, char *err, size_t errlen) {
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  if (!doc) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "%s:%d: %s (set ACMEH_DATA_DIR)", path, je.line, je.text);
  json_array_append_new(c->docs, doc);
  const char *spec = json_string_value(json_object_get(doc, "spec"));
  json_t *checks = json_object_get(doc, "checks");
  if (!spec || !json_is_array(checks))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: needs \"spec\" and a \"checks\" array", path);
  if (strcmp(spec, s->name) != 0)
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: \"spec\" is \"%s\", the suite is named \"%s\"", path, spec, s->name);
  size_t i;
  json_t *j;
  json_array_foreach(checks, i, j) {
    int rc = add_check(c, spec, j, err, errlen);
    if (rc) return rc;
  }
  return ACMEH_OK;
}

int acmeh_catalog_load(const char *data_dir, acmeh_catalog *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->docs = json_array();
  int rc = out->docs ? ACMEH_OK : ACMEH_NOMEM;
  for (const acmeh_suite *const *s = acmeh_suites(); rc == ACMEH_OK && *s; s++) {
    char path[4600];
    acmeh_suite_catalog_path(*s, data_dir, path, sizeof path);
    rc = load_file(out, *s, path, err, errlen);
  }
  if (rc) acmeh_catalog_free(out);
  return rc;
}

void acmeh_catalog_free(acmeh_catalog *c) {
  json_decref(c->docs);
  free(c->checks);
  memset(c, 0, sizeof *c);
}

static int level_matches(const char *have, const char *want) {
  return strncmp(have, want, strlen(want)) == 0;
}

/* Is `spec` one of the comma-separated names in `list`? */
static int listed(const char *list, const char *spec) {
  size_t n = strlen(spec);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, spec, n) == 0) return 1;
    p += len + (p[len] == ',');
  }
  return 0;
}

int acmeh_catalog_selected(const acmeh_check_def *d, const char *suite, const char *const *ids,
                           size_t nids, const char *level, const char *role) {
  if (suite && !listed(suite, d->spec)) return 0;
  if (level && !level_matches(d->level, level)) return 0;
  if (role && strcmp(role, d->role) != 0) return 0;
  if (!ids || !nids) return 1;
  for (size_t i = 0; i < nids; i++)
    if (fnmatch(ids[i], d->id, 0) == 0) return 1;
  return 0;
}
