/* Test support: the JSON test vectors under vectors/<spec>/ (format in
 * vectors/README.md: {"spec": ..., "vectors": [{"name", "input", "expected"}]}),
 * and the accessors the vector tests share. */
#ifndef ACMEH_TESTS_VECTORS_H
#define ACMEH_TESTS_VECTORS_H

#include <CUnit/Basic.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Appends the vectors of every vectors/<spec>/ JSON file to `into` (a JSON
 * array). Each file must name `spec` and hold a "vectors" array. Returns 0,
 * or -1 (reason on stderr) when the folder is missing or empty, or a file is
 * unreadable or of another shape. */
int acmeh_test_vectors_load(json_t *into, const char *spec);

/* Calls fn on every vector of `all` whose input.op is `op`; returns how many. */
int acmeh_test_vectors_for_op(const json_t *all, const char *op, void (*fn)(const json_t *v));

static inline const char *vname(const json_t *v) { return json_string_value(json_object_get(v, "name")); }
static inline const json_t *vin(const json_t *v) { return json_object_get(v, "input"); }
static inline const json_t *vexp(const json_t *v) { return json_object_get(v, "expected"); }
static inline const char *sget(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static inline int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
/* Lower-case hex of n bytes, malloc'd (NULL when out of memory). */
char *acmeh_test_hex(const unsigned char *b, size_t n);

/* A CUnit assertion that names the failing vector, since one test covers many. */
#define VCHECK(cond, v)                                                            \
  do {                                                                             \
    int ok_ = (cond);                                                              \
    if (!ok_) fprintf(stderr, "\n  vector \"%s\": %s failed\n", vname(v), #cond); \
    CU_ASSERT(ok_);                                                                \
  } while (0)

#endif
