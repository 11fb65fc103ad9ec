#include "harness/runner/suite.h"

#include <stdio.h>
#include <string.h>

#include "harness/runner/catalog.h"

/* Defined by the registry (suites/registry.c), the composition root that
 * knows every suite; the engines only walk it. */
extern const acmeh_suite *const acmeh_suite_registry[];

const acmeh_suite *const *acmeh_suites(void) { return acmeh_suite_registry; }

const acmeh_suite *acmeh_suite_find(const char *name) {
  for (const acmeh_suite *const *s = acmeh_suite_registry; name && *s; s++)
    if (strcmp((*s)->name, name) == 0) return *s;
  return NULL;
}

int acmeh_suite_unknown(const char *list, char *bad, size_t len) {
  for (const char *p = list ? list : ""; *p;) {
    size_t n = strcspn(p, ",");
    snprintf(bad, len, "%.*s", (int)n, p);
    if (!acmeh_suite_find(bad)) return 1;
    p += n + (p[n] == ',');
  }
  return 0;
}

static acmeh_check_fn find_in(const acmeh_suite *s, const char *id) {
  for (const acmeh_check_impl *const *t = s->checks; t && *t; t++)
    for (const acmeh_check_impl *c = *t; c->id; c++)
      if (strcmp(c->id, id) == 0) return c->fn;
  return NULL;
}

const acmeh_suite *acmeh_suite_of_check(const char *id) {
  for (const acmeh_suite *const *s = acmeh_suite_registry; *s; s++)
    if (find_in(*s, id)) return *s;
  return NULL;
}

acmeh_check_fn acmeh_check_impl_find(const char *id) {
  acmeh_check_fn fn = NULL;
  for (const acmeh_suite *const *s = acmeh_suite_registry; !fn && *s; s++) fn = find_in(*s, id);
  return fn;
}

static char *data_path(const char *data_dir, const char *a, const char *name, const char *b, char *buf, size_t len) {
  snprintf(buf, len, "%s/%s/%s%s", data_dir ? data_dir : acmeh_data_dir(), a, name, b);
  return buf;
}

char *acmeh_suite_catalog_path(const acmeh_suite *s, const char *data_dir, char *buf, size_t len) {
  return data_path(data_dir, "suites", s->name, "/catalog.json", buf, len);
}

char *acmeh_suite_scenarios_path(const acmeh_suite *s, const char *data_dir, char *buf, size_t len) {
  return data_path(data_dir, "suites", s->name, "/scenarios.json", buf, len);
}

char *acmeh_suite_vectors_dir(const acmeh_suite *s, const char *data_dir, char *buf, size_t len) {
  return data_path(data_dir, "vectors", s->name, "", buf, len);
}

const char *acmeh_step_judge_of(const char *step, const char *check_id, int *is_judge) {
  const char *first = NULL;
  *is_judge = 0;
  for (const acmeh_suite *const *s = acmeh_suite_registry; step && *s; s++)
    for (const acmeh_step_judge *j = (*s)->step_judges; j && j->step; j++) {
      if (strcmp(j->step, step) != 0) continue;
      if (!first) first = j->check;
      if (check_id && strcmp(j->check, check_id) == 0) *is_judge = 1;
    }
  return first;
}

void acmeh_suites_wire(const json_t *drafts, acmeh_wire *w) {
  *w = (acmeh_wire){0};
  for (const acmeh_suite *const *s = acmeh_suite_registry; *s; s++) {
    const char *rev = json_string_value(json_object_get(drafts, (*s)->name));
    if ((*s)->wire && rev) (*s)->wire(rev, w);
  }
}

char *acmeh_suite_names(char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (const acmeh_suite *const *s = acmeh_suite_registry; *s && used < len; s++) {
    int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", (*s)->name);
    if (n < 0) break;
    used += (size_t)n;
  }
  return buf;
}
