#include "harness/targets/vars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

void acmeh_vars_set(acmeh_vars *v, const char *name, const char *value) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->kv[i][0], name) == 0) {
      free(v->kv[i][1]);
      v->kv[i][1] = strdup(value);
      return;
    }
  if (v->n == ACMEH_VARS_MAX) return;
  v->kv[v->n][0] = strdup(name);
  v->kv[v->n][1] = strdup(value);
  v->n++;
}

void acmeh_vars_set_int(acmeh_vars *v, const char *name, long value) {
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", value);
  acmeh_vars_set(v, name, buf);
}

static const char *lookup(const acmeh_vars *v, const char *name, size_t len) {
  for (size_t i = 0; i < v->n; i++)
    if (strlen(v->kv[i][0]) == len && strncmp(v->kv[i][0], name, len) == 0) return v->kv[i][1];
  char env[128]; /* then the environment: a test or a user can hand a target a path */
  if (len >= sizeof env) return NULL;
  memcpy(env, name, len);
  env[len] = '\0';
  return getenv(env);
}

const char *acmeh_vars_get(const acmeh_vars *v, const char *name) { return lookup(v, name, strlen(name)); }

char *acmeh_vars_expand(const acmeh_vars *v, const char *s) {
  acmeh_strbuf b = {0};
  while (*s) {
    const char *open = strstr(s, "${"), *close = open ? strchr(open, '}') : NULL;
    if (!open || !close) {
      acmeh_strbuf_printf(&b, "%s", s);
      break;
    }
    acmeh_strbuf_append(&b, s, (size_t)(open - s), 0);
    const char *val = lookup(v, open + 2, (size_t)(close - open - 2));
    if (val) acmeh_strbuf_printf(&b, "%s", val);
    else acmeh_strbuf_append(&b, open, (size_t)(close - open + 1), 0);
    s = close + 1;
  }
  char *out = acmeh_strbuf_take(&b);
  return out ? out : strdup("");
}

static json_t *expand_int(const acmeh_vars *v, const char *s) {
  size_t n = strlen(s);
  if (n < 8 || strncmp(s, "${", 2) != 0 || strcmp(s + n - 5, ":int}") != 0) return NULL;
  const char *val = lookup(v, s + 2, n - 7);
  char *end;
  long x = val ? strtol(val, &end, 10) : 0;
  return val && *val && !*end ? json_integer(x) : NULL;
}

json_t *acmeh_vars_expand_json(const acmeh_vars *v, const json_t *j) {
  if (json_is_string(j)) {
    json_t *as_int = expand_int(v, json_string_value(j));
    if (as_int) return as_int;
    char *s = acmeh_vars_expand(v, json_string_value(j));
    json_t *out = json_string(s);
    free(s);
    return out;
  }
  json_t *out = json_deep_copy(j);
  const char *k;
  json_t *e;
  size_t i;
  if (json_is_object(out)) json_object_foreach(out, k, e) json_object_set_new(out, k, acmeh_vars_expand_json(v, e));
  if (json_is_array(out)) json_array_foreach(out, i, e) json_array_set_new(out, i, acmeh_vars_expand_json(v, e));
  return out;
}

char **acmeh_vars_environ(const acmeh_vars *v) {
  char **env = calloc(v->n + 1, sizeof *env);
  for (size_t i = 0, k = 0; env && i < v->n; i++)
    if (asprintf(&env[k], "%s=%s", v->kv[i][0], v->kv[i][1]) >= 0) k++;
  return env;
}

void acmeh_vars_environ_free(char **env) {
  for (size_t i = 0; env && env[i]; i++) free(env[i]);
  free(env);
}

void acmeh_vars_free(acmeh_vars *v) {
  for (size_t i = 0; i < v->n; i++) free(v->kv[i][0]), free(v->kv[i][1]);
  v->n = 0;
}
