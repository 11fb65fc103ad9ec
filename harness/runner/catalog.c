#include "harness/runner/catalog.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/self.h"
#include "base/strbuf.h"
#include "harness/runner/suite.h"

/* A binary outside the build tree it was built in is an installed one
 * (cmake --install): its data is beside it, and only there, so a broken
 * install says so instead of quietly reading the build machine's sources. */
static const char *installed_data_dir(void) {
  static char dir[4200];
  const char *exe = acmeh_self_exe();
  const char *slash = exe ? strrchr(exe, '/') : NULL;
  size_t nb = strlen(ACMEH_BINARY_DIR);
  if (!slash || (strncmp(exe, ACMEH_BINARY_DIR, nb) == 0 && exe[nb] == '/')) return NULL;
  snprintf(dir, sizeof dir, "%.*s/../share/acme-harness", (int)(slash - exe), exe);
  return dir;
}

static const char *installed_dir;
static void find_installed(void) { installed_dir = installed_data_dir(); }

const char *acmeh_data_dir(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  const char *d = getenv("ACMEH_DATA_DIR");
  if (d && *d) return d;
  pthread_once(&once, find_installed);
  return installed_dir ? installed_dir : ACMEH_SOURCE_DIR;
}

static regex_t id_re;
static int id_re_ok;
static void compile_id_re(void) {
  id_re_ok = regcomp(&id_re, "^[A-Z]+(-[A-Z]+)*-[SC]-[0-9]{3}$", REG_EXTENDED | REG_NOSUB) == 0;
}

/* Compiled once: a catalog of thousands of checks must not compile it per check. */
static int valid_id(const char *id) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, compile_id_re);
  return id_re_ok && regexec(&id_re, id, 0, NULL, 0) == 0;
}

static int one_of(const char *s, const char *const *allowed) {
  for (; *allowed; allowed++)
    if (strcmp(s, *allowed) == 0) return 1;
  return 0;
}

/* Level and role take the values reports and selection understand. */
static int fields_ok(const acmeh_check_def *d, char *err, size_t errlen) {
  static const char *const levels[] = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY", NULL};
  static const char *const roles[] = {"server", "client", "nameserver", NULL};
  if (!one_of(d->level, levels))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: %s level \"%.40s\" is none of MUST, SHOULD, MAY (NOT)", d->spec, d->id, d->level);
  if (!one_of(d->role, roles))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: %s role \"%.40s\" is none of server, client, nameserver", d->spec, d->id, d->role);
  return ACMEH_OK;
}

static int add_check(acmeh_catalog *c, const char *spec, json_t *j, char *err, size_t errlen) {
  acmeh_check_def d = {0};
  d.spec = spec;
  if (json_unpack(j, "{s:s,s:s,s:s,s:s,s:s}", "id", &d.id, "title", &d.title, "section", &d.section,
                  "level", &d.level, "role", &d.role))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: a check lacks id/title/section/level/role", spec);
  d.digest_ref = json_string_value(json_object_get(j, "ref"));
  d.revisions = json_object_get(j, "revisions");
  const char *scope = json_string_value(json_object_get(j, "scope"));
  if (json_object_get(j, "scope") && (!scope || strcmp(scope, "every-scenario") != 0))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: %s scope must be \"every-scenario\"", spec, d.id);
  d.every_scenario = scope != NULL;
  if (!valid_id(d.id)) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: malformed check ID %.40s", spec, d.id);
  int rc = fields_ok(&d, err, errlen);
  if (rc) return rc;
  if (json_object_get(c->ids, d.id)) return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog: duplicate check ID %s", d.id);
  if (c->n == c->cap) { /* doubling: a catalog of many checks loads in linear time */
    size_t cap = c->cap ? 2 * c->cap : 256;
    acmeh_check_def *p = realloc(c->checks, cap * sizeof *p);
    if (!p) return ACMEH_NOMEM;
    c->checks = p, c->cap = cap;
  }
  if (json_object_set_new(c->ids, d.id, json_integer((json_int_t)c->n))) return ACMEH_NOMEM;
  c->checks[c->n++] = d;
  return ACMEH_OK;
}

static int listed_in(const json_t *arr, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return 1;
  return 0;
}

/* An array of distinct non-empty strings (an empty array too). */
static int strings_ok(const json_t *arr) {
  size_t i;
  json_t *v, *seen = json_object();
  int ok = json_is_array(arr) && seen;
  json_array_foreach(arr, i, v) {
    const char *s = json_string_value(v);
    if (!ok || !s || !*s || json_object_get(seen, s)) {
      ok = 0;
      break;
    }
    json_object_set_new(seen, s, json_true());
  }
  json_decref(seen);
  return ok;
}

/* A check's "revisions" must be a non-empty list of its suite's revisions. */
static int revisions_ok(const acmeh_check_def *d, const json_t *suite_revs, char *err, size_t errlen) {
  if (!d->revisions) return ACMEH_OK;
  if (!strings_ok(d->revisions) || !json_array_size(d->revisions))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: %s \"revisions\" must be a non-empty array of distinct non-empty strings", d->spec, d->id);
  size_t i;
  json_t *v;
  json_array_foreach(d->revisions, i, v) if (!listed_in(suite_revs, json_string_value(v)))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "catalog %s: %s names revision \"%s\", which the suite does not list",
                     d->spec, d->id, json_string_value(v));
  return ACMEH_OK;
}

/* One suite's catalog. Its "spec" must be the suite's name, so that one
 * spelling holds everywhere (runner/suite.h). */
static int load_file(acmeh_catalog *c, const acmeh_suite *s, const char *path, char *err, size_t errlen) {
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  if (!doc && je.line < 0) /* not opened: the data folder is elsewhere or incomplete */
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot read %s (%s): %s the folder holding suites/", path, strerror(errno),
                     getenv("ACMEH_DATA_DIR") && *getenv("ACMEH_DATA_DIR") ? "ACMEH_DATA_DIR must name" : "set ACMEH_DATA_DIR to");
  if (!doc) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "%s:%d: %s", path, je.line, je.text);
  json_array_append_new(c->docs, doc);
  const char *spec = json_string_value(json_object_get(doc, "spec"));
  json_t *checks = json_object_get(doc, "checks");
  if (!spec || !json_is_array(checks))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: needs \"spec\" and a \"checks\" array", path);
  if (strcmp(spec, s->name) != 0)
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: \"spec\" is \"%s\", the suite is named \"%s\"", path, spec, s->name);
  const json_t *revs = json_object_get(doc, "revisions");
  if (!strings_ok(revs) || !json_array_size(revs))
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "%s: needs \"revisions\", the spec's revisions as distinct non-empty strings, newest last", path);
  size_t i;
  json_t *j;
  json_array_foreach(checks, i, j) {
    int rc = add_check(c, spec, j, err, errlen);
    if (rc == ACMEH_OK) rc = revisions_ok(&c->checks[c->n - 1], revs, err, errlen);
    if (rc) return rc;
  }
  return ACMEH_OK;
}

int acmeh_catalog_load(const char *data_dir, acmeh_catalog *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->docs = json_array();
  out->ids = json_object();
  int rc = out->docs && out->ids ? ACMEH_OK : ACMEH_NOMEM;
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
  json_decref(c->ids);
  free(c->checks);
  memset(c, 0, sizeof *c);
}

static int level_matches(const char *have, const char *want) {
  return strncmp(have, want, strlen(want)) == 0;
}

int acmeh_catalog_selected(const acmeh_check_def *d, const char *suite, const char *const *ids,
                           size_t nids, const char *level, const char *role) {
  if (suite && !acmeh_list_has(suite, d->spec)) return 0;
  if (level && !level_matches(d->level, level)) return 0;
  if (role && strcmp(role, d->role) != 0) return 0;
  if (!ids || !nids) return 1;
  for (size_t i = 0; i < nids; i++)
    if (fnmatch(ids[i], d->id, 0) == 0) return 1;
  return 0;
}

const json_t *acmeh_catalog_revisions(const acmeh_catalog *c, const char *spec) {
  size_t i;
  json_t *doc;
  json_array_foreach(c->docs, i, doc) if (strcmp(json_string_value(json_object_get(doc, "spec")), spec) == 0)
      return json_object_get(doc, "revisions");
  return NULL;
}

/* One "SUITE=REV" of --draft into drafts. */
static int draft_one(const acmeh_catalog *c, const char *item, size_t len, json_t *drafts, char *err, size_t errlen) {
  const char *eq = memchr(item, '=', len);
  if (!eq || eq == item || eq + 1 == item + len)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--draft: '%.*s' is not SUITE=REVISION", (int)(len > 200 ? 200 : len), item);
  /* Whole strings, never cut: a long value must not match a shorter revision. */
  char *suite = strndup(item, (size_t)(eq - item)), *rev = strndup(eq + 1, (size_t)(item + len - eq - 1));
  const json_t *revs = suite && rev ? acmeh_catalog_revisions(c, suite) : NULL;
  int rc = !suite || !rev ? ACMEH_NOMEM : ACMEH_OK;
  if (rc == ACMEH_OK && !revs)
    rc = acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--draft: no suite '%.64s' (acme-harness list --revisions names them)", suite);
  /* still the default (the catalog's own newest entry, shared): not given yet */
  else if (rc == ACMEH_OK && json_object_get(drafts, suite) != json_array_get(revs, json_array_size(revs) - 1))
    rc = acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--draft: suite %.64s is given twice", suite);
  else if (rc == ACMEH_OK && !listed_in(revs, rev)) {
    char *known = json_dumps(revs, JSON_COMPACT);
    rc = acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--draft: suite %s has no revision '%.128s'; its revisions: %.300s", suite, rev,
                   known ? known : "?");
    free(known);
  }
  if (rc == ACMEH_OK) json_object_set_new(drafts, suite, json_string(rev));
  free(suite), free(rev);
  return rc;
}

int acmeh_catalog_drafts(const acmeh_catalog *c, const char *arg, json_t **out, char *err, size_t errlen) {
  json_t *drafts = json_object();
  size_t i;
  json_t *doc;
  json_array_foreach(c->docs, i, doc) { /* default: the newest */
    const json_t *revs = json_object_get(doc, "revisions");
    json_object_set(drafts, json_string_value(json_object_get(doc, "spec")), json_array_get(revs, json_array_size(revs) - 1));
  }
  size_t alen = arg ? strlen(arg) : 0;
  int rc = alen && arg[alen - 1] == ',' ? acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--draft: an empty value in '%.200s'", arg)
                                          : ACMEH_OK;
  for (const char *p = arg ? arg : ""; rc == ACMEH_OK && *p;) {
    size_t len = strcspn(p, ",");
    rc = len ? draft_one(c, p, len, drafts, err, errlen)
             : acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "--draft: an empty value in '%.200s'", arg);
    p += len + (p[len] == ',');
  }
  if (rc) json_decref(drafts), drafts = NULL;
  *out = drafts;
  return rc;
}

int acmeh_catalog_applies(const acmeh_check_def *d, const json_t *drafts) {
  const char *rev = json_string_value(json_object_get(drafts, d->spec));
  return !drafts || !d->revisions || !rev || listed_in(d->revisions, rev);
}
