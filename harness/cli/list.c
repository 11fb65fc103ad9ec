#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/args.h"
#include "harness/cli/cli.h"
#include "harness/runner/catalog.h"
#include "harness/runner/check.h"

int acmeh_cli_list(int argc, char **argv) {
  static const struct option opts[] = {{"suite", required_argument, 0, 's'}, {"check", required_argument, 0, 'c'}, {0}};
  const char *suite = NULL, *ids[128];
  size_t nids = 0;
  for (int ch; (ch = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    if (ch == 's') suite = optarg;
    else if (ch != 'c' || acmeh_arg_ids("check", optarg, ids, &nids, 128)) return 2;
  }
  if (optind < argc) return fprintf(stderr, "acme-harness list: unexpected argument '%s'\n", argv[optind]), 2;
  acmeh_catalog cat;
  char err[512];
  if (acmeh_catalog_load(NULL, &cat, err, sizeof err)) {
    fprintf(stderr, "acme-harness: %s\n", err);
    return 2;
  }
  size_t shown = 0;
  for (size_t i = 0; i < cat.n; i++) {
    const acmeh_check_def *d = &cat.checks[i];
    if (!acmeh_catalog_selected(d, suite, ids, nids, NULL, NULL)) continue;
    shown++;
    printf("%-12s %-6s %-6s %-22s %s%s\n", d->id, d->level, d->role, d->section, d->title,
           acmeh_check_impl_find(d->id) ? "" : " [not implemented]");
  }
  if (!shown) {
    fprintf(stderr, "acme-harness list: no check matches; suites:");
    for (size_t i = 0; i < cat.n; i++)
      if (i == 0 || strcmp(cat.checks[i].spec, cat.checks[i - 1].spec) != 0) fprintf(stderr, " %s", cat.checks[i].spec);
    fputc('\n', stderr);
  }
  acmeh_catalog_free(&cat);
  return shown ? 0 : 2;
}

/* Prints every JSON file of vectors/<spec>/ as one object {"<file>": <content>}. */
int acmeh_cli_vectors(int argc, char **argv) {
  static const struct option opts[] = {{"spec", required_argument, 0, 's'}, {0}};
  const char *spec = "core";
  for (int ch; (ch = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    if (ch == 's') spec = optarg;
    else return 2;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/vectors/%s", acmeh_data_dir(), spec);
  DIR *d = opendir(dir);
  if (!d || strchr(spec, '/')) {
    if (d) closedir(d);
    fprintf(stderr, "acme-harness: no vectors for spec '%s' (%s)\n", spec, dir);
    return 2;
  }
  json_t *all = json_object();
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    json_t *j = json_load_file(path, 0, NULL);
    if (j) json_object_set_new(all, e->d_name, j);
  }
  closedir(d);
  json_dumpf(all, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
  putchar('\n');
  json_decref(all);
  return 0;
}
