/* ${NAME} variables of target files: a small name -> value table and the
 * expansion of strings and JSON documents with it. */
#ifndef ACMEH_TARGETS_VARS_H
#define ACMEH_TARGETS_VARS_H

#include <jansson.h>
#include <stddef.h>

#define ACMEH_VARS_MAX 48

typedef struct {
  char *kv[ACMEH_VARS_MAX][2]; /* name, value (owned) */
  size_t n;
} acmeh_vars;

/* Sets (or replaces) NAME to value (copied). Silently ignores a full table. */
void acmeh_vars_set(acmeh_vars *v, const char *name, const char *value);
void acmeh_vars_set_int(acmeh_vars *v, const char *name, long value);

/* Value of NAME (borrowed) or NULL. */
const char *acmeh_vars_get(const acmeh_vars *v, const char *name);

/* s with every ${NAME} replaced by the table's value, else the environment
 * variable NAME; names in neither stay as written. Caller frees. */
char *acmeh_vars_expand(const acmeh_vars *v, const char *s);

/* A deep copy of j with every string expanded; a string that is exactly
 * "${NAME:int}" becomes a JSON integer (config files need numbers).
 * New reference. */
json_t *acmeh_vars_expand_json(const acmeh_vars *v, const json_t *j);

/* "NAME=value" strings for every variable, NULL-terminated (malloc'd array of
 * malloc'd strings; free with acmeh_vars_environ_free). */
char **acmeh_vars_environ(const acmeh_vars *v);
void acmeh_vars_environ_free(char **env);

void acmeh_vars_free(acmeh_vars *v);

#endif
