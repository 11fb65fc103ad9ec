/* Per-check transcript files: <dir>/<ID>.txt, one per result that has one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "reports/report_internal.h"
#include "reports/reports.h"

/* mkdir -p: creates each missing component of dir. */
static int mkdir_p(const char *dir, char *err, size_t errlen) {
  char *p = strdup(dir);
  if (!p) return acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory");
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) break; /* reported by the final check */
    *s = '/';
  }
  int rc = ACMEH_OK;
  struct stat st;
  if (mkdir(p, 0755) != 0 && errno != EEXIST)
    rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot create %s: %s", dir, strerror(errno));
  else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
    rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "%s is not a directory", dir);
  free(p);
  return rc;
}

/* Writes id into buf as a safe file name: a catalog ID is [A-Z0-9-], but a
 * '/' or leading '.' must never let a name escape dir. */
static void safe_name(const char *id, char *buf, size_t len) {
  snprintf(buf, len, "%s", id && *id ? id : "UNKNOWN");
  for (char *p = buf; *p; p++) {
    int ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '_' || (*p == '.' && p != buf);
    if (!ok) *p = '_';
  }
}

/* How many earlier results share r's ID: --repeat runs a check more than
 * once, and each run's transcript deserves its own file. */
static size_t earlier_same_id(const acmeh_run_report *rep, size_t i) {
  size_t k = 0;
  const char *id = rep->results[i].id;
  for (size_t j = 0; j < i; j++) {
    const acmeh_result *o = &rep->results[j];
    if (o->transcript && *o->transcript && id && o->id && strcmp(o->id, id) == 0) k++;
  }
  return k;
}

/* Returns the malloc'd path for result i, or NULL on OOM. */
static char *transcript_path(const acmeh_run_report *rep, size_t i, const char *dir) {
  char name[128], suffix[32] = "";
  safe_name(rep->results[i].id, name, sizeof name);
  size_t k = earlier_same_id(rep, i);
  if (k) snprintf(suffix, sizeof suffix, ".%zu", k + 1);
  char *path = NULL;
  if (asprintf(&path, "%s/%s%s.txt", dir, name, suffix) < 0) return NULL;
  return path;
}

static int write_one(acmeh_run_report *rep, size_t i, const char *dir, char *err, size_t errlen) {
  acmeh_result *r = &rep->results[i];
  char *path = transcript_path(rep, i, dir);
  if (!path) return acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory");
  acmeh_rep_file a;
  int rc = acmeh_rep_file_open(&a, path, err, errlen);
  if (rc == ACMEH_OK) {
    acmeh_rep_write(&a, r->transcript, strlen(r->transcript));
    rc = acmeh_rep_file_commit(&a, err, errlen);
  }
  if (rc != ACMEH_OK) {
    free(path);
    return rc;
  }
  free(r->transcript_path);
  r->transcript_path = path;
  return ACMEH_OK;
}

int acmeh_report_transcripts_write(acmeh_run_report *rep, const char *dir, char *err,
                                   size_t errlen) {
  int rc = mkdir_p(dir, err, errlen);
  for (size_t i = 0; i < rep->n && rc == ACMEH_OK; i++)
    if (rep->results[i].transcript && *rep->results[i].transcript)
      rc = write_one(rep, i, dir, err, errlen);
  return rc;
}
