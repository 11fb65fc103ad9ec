#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/cli/args.h"
#include "base/strbuf.h"
#include "harness/cli/cli.h"
#include "harness/runner/catalog.h"
#include "harness/runner/check.h"
#include "harness/runner/suite.h"

static void list_usage(FILE *f) {
  char names[512];
  fprintf(f, "usage: acme-harness list [--suite S[,S...]] [--check ID[,ID...]]... [--draft SUITE=REV]... [--revisions]\n"
             "  prints ID, level, role, section and title of each selected check\n"
             "  --suite      %s\n"
             "  --check      check IDs or globs (quote them: 'CORE-S-00*'), repeatable\n"
             "  --draft      list only the checks that apply to that revision of the suite (default: its newest)\n"
             "  --revisions  print each suite's revisions instead, newest (the default) last\n"
             "exit status: 0 something listed, 2 nothing matches or usage error\n",
          acmeh_suite_names(names, sizeof names));
}

/* One line per suite: its revisions, oldest first, the default marked. */
static int list_revisions(const acmeh_catalog *cat, const char *suite) {
  for (const acmeh_suite *const *s = acmeh_suites(); *s; s++) {
    const json_t *revs = acmeh_catalog_revisions(cat, (*s)->name);
    if (!revs || (suite && !acmeh_list_has(suite, (*s)->name))) continue;
    printf("%-12s", (*s)->name);
    for (size_t i = 0; i < json_array_size(revs); i++)
      printf(" %s%s", json_string_value(json_array_get(revs, i)), i + 1 == json_array_size(revs) ? " (default)" : "");
    putchar('\n');
  }
  return 0;
}

/* " [revisions: a, b]" for a check limited to some revisions, else "". */
static const char *revision_tag(const acmeh_check_def *d, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; d->revisions && i < json_array_size(d->revisions) && used < len; i++) {
    int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : " [revisions: ",
                     json_string_value(json_array_get(d->revisions, i)));
    used += n > 0 ? (size_t)n : 0;
  }
  if (used && used + 2 < len) strcat(buf, "]");
  return buf;
}

static int list_checks(const acmeh_catalog *cat, const char *suite, const char *const *ids, size_t nids,
                       const json_t *drafts) {
  size_t shown = 0;
  for (size_t i = 0; i < cat->n; i++) {
    const acmeh_check_def *d = &cat->checks[i];
    if (!acmeh_catalog_selected(d, suite, ids, nids, NULL, NULL) || !acmeh_catalog_applies(d, drafts)) continue;
    shown++;
    char tag[512];
    printf("%-12s %-6s %-6s %-22s %s%s%s\n", d->id, d->level, d->role, d->section, d->title,
           acmeh_check_impl_find(d->id) ? "" : " [not implemented]", revision_tag(d, tag, sizeof tag));
  }
  if (!shown) {
    char names[512];
    fprintf(stderr, "acme-harness list: no check matches; suites: %s\n", acmeh_suite_names(names, sizeof names));
  }
  return shown ? 0 : 2;
}

int acmeh_cli_list(int argc, char **argv) {
  static const struct option opts[] = {{"suite", required_argument, 0, 's'}, {"check", required_argument, 0, 'c'},
                                       {"draft", required_argument, 0, 'd'}, {"revisions", no_argument, 0, 'r'},
                                       {"help", no_argument, 0, 'h'},        {0}};
  const char *suite = NULL, *ids[128];
  char drafts_arg[1024] = "";
  size_t nids = 0;
  int revisions = 0;
  for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    if (ch == 'h') return list_usage(stdout), 0;
    if (ch == 's') suite = optarg;
    else if (ch == 'r') revisions = 1;
    else if (ch == 'd') {
      if (acmeh_arg_append("draft", optarg, drafts_arg, sizeof drafts_arg)) return 2;
    } else if (ch != 'c') return list_usage(stderr), 2;
    else if (acmeh_arg_ids("check", optarg, ids, &nids, 128)) return 2;
  }
  if (optind < argc) return fprintf(stderr, "acme-harness list: unexpected argument '%s'\n", argv[optind]), 2;
  acmeh_catalog cat;
  char err[600];
  if (acmeh_catalog_load(NULL, &cat, err, sizeof err)) return fprintf(stderr, "acme-harness: %s\n", err), 2;
  json_t *drafts = NULL;
  char bad[128];
  int status = acmeh_suite_unknown(suite, bad, sizeof bad)
                   ? (fprintf(stderr, "acme-harness list: --suite: no suite '%s'; suites: %s\n", bad,
                              acmeh_suite_names(err, sizeof err)), 2)
               : *drafts_arg && acmeh_catalog_drafts(&cat, drafts_arg, &drafts, err, sizeof err)
                   ? (fprintf(stderr, "acme-harness list: %s\n", err), 2)
               : revisions ? list_revisions(&cat, suite)
                           : list_checks(&cat, suite, ids, nids, drafts);
  json_decref(drafts);
  acmeh_catalog_free(&cat);
  return status;
}

/* Spellings the vectors command took before every suite had one name
 * (dns-account, dns-update): still accepted, so scripts keep working. */
static const char *const vector_aliases[][2] = {{"dns-update", "dnsupdate"}, {"dns-account", "dnsaccount"}};

static void vectors_usage(FILE *f) {
  char names[512];
  fprintf(f, "usage: acme-harness vectors [--spec S]\n"
             "  prints the test vectors of vectors/S/ as one JSON object {\"<file>\": <content>}\n"
             "  --spec  a suite: %s (default core)\n",
          acmeh_suite_names(names, sizeof names));
}

/* Unknown spec: say which suites have vectors, in registry order. Returns 2. */
static int vectors_unknown(const char *spec) {
  fprintf(stderr, "acme-harness vectors: no vectors for spec '%.200s'; specs:", spec);
  for (const acmeh_suite *const *s = acmeh_suites(); *s; s++) {
    char dir[4200];
    if (access(acmeh_suite_vectors_dir(*s, NULL, dir, sizeof dir), R_OK) == 0) fprintf(stderr, " %s", (*s)->name);
  }
  fputc('\n', stderr);
  return 2;
}

/* Prints every JSON file of vectors/<spec>/ as one object {"<file>": <content>}. */
int acmeh_cli_vectors(int argc, char **argv) {
  static const struct option opts[] = {{"spec", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0}};
  const char *spec = "core";
  for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    if (ch == 'h') return vectors_usage(stdout), 0;
    if (ch == 's') spec = optarg;
    else return vectors_usage(stderr), 2;
  }
  if (optind < argc) return fprintf(stderr, "acme-harness vectors: unexpected argument '%s'\n", argv[optind]), 2;
  if (!*spec) return fputs("acme-harness vectors: --spec needs a name\n", stderr), vectors_usage(stderr), 2;
  for (size_t i = 0; i < sizeof vector_aliases / sizeof vector_aliases[0]; i++)
    if (strcmp(spec, vector_aliases[i][0]) == 0) spec = vector_aliases[i][1];
  const acmeh_suite *suite = acmeh_suite_find(spec); /* only a suite's own folder, never a path */
  char dir[4200];
  DIR *d = suite ? opendir(acmeh_suite_vectors_dir(suite, NULL, dir, sizeof dir)) : NULL;
  if (!d) return vectors_unknown(spec);
  json_t *all = json_object();
  int status = 0;
  for (struct dirent *e; status == 0 && (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    struct stat st;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    /* regular files only: a FIFO named *.json would block the read forever */
    if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (j) json_object_set_new(all, e->d_name, j);
    else {
      fprintf(stderr, "acme-harness vectors: %s:%d: %s\n", path, je.line, je.text);
      status = 2;
    }
  }
  closedir(d);
  if (status) return json_decref(all), status;
  json_dumpf(all, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
  putchar('\n');
  json_decref(all);
  return 0;
}
