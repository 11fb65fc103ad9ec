#include "tests/unit/support/vectors.h"

#include <dirent.h>
#include <stdlib.h>

int acmeh_test_vectors_load(json_t *into, const char *spec) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/vectors/%s/", ACMEH_SOURCE_DIR, spec);
  DIR *d = opendir(dir);
  if (!d) return fprintf(stderr, "%s: cannot open\n", dir), -1;
  int rc = 0, files = 0;
  for (struct dirent *de; rc == 0 && (de = readdir(d));) {
    size_t n = strlen(de->d_name);
    if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0) continue;
    char path[2048];
    snprintf(path, sizeof path, "%s%s", dir, de->d_name);
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e), *list = json_object_get(doc, "vectors");
    if (!json_is_array(list) || !streq(sget(doc, "spec"), spec)) {
      fprintf(stderr, "%s: not a vectors file for %s (%s)\n", path, spec, doc ? "shape" : e.text);
      rc = -1;
    } else {
      json_array_extend(into, list);
      files++;
    }
    json_decref(doc);
  }
  closedir(d);
  if (rc == 0 && !files) fprintf(stderr, "%s: no vectors files\n", dir);
  return rc ? rc : files ? 0 : -1;
}

int acmeh_test_vectors_for_op(const json_t *all, const char *op, void (*fn)(const json_t *v)) {
  size_t i;
  json_t *v;
  int n = 0;
  json_array_foreach(all, i, v) if (streq(sget(vin(v), "op"), op)) fn(v), n++;
  return n;
}

char *acmeh_test_hex(const unsigned char *b, size_t n) {
  char *s = malloc(2 * n + 1);
  for (size_t i = 0; s && i < n; i++) sprintf(s + 2 * i, "%02x", b[i]);
  if (s) s[2 * n] = '\0';
  return s;
}
