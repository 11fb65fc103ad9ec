/* Interop matrix writers: Markdown, HTML and JSON from one acmeh_matrix.
 * Reasons come from peers' output and exit statuses, so every one of them is
 * escaped for the format it lands in. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "reports/report_internal.h"
#include "reports/reports.h"

static const acmeh_mx_cell *cell_at(const acmeh_matrix *m, size_t row, size_t col) {
  return &m->cells[row * m->ncolumns + col];
}

/* "server / kind": "reference / http-01" (issue with that challenge) or
 * "pebble / renew" (a kind run with the client's usual challenge). */
static void column_label(const acmeh_mx_column *c, char *buf, size_t len) {
  char server[120];
  if (c->server_version) snprintf(server, sizeof server, "%s (%s)", c->server, c->server_version);
  else snprintf(server, sizeof server, "%s", c->server);
  if (c->challenge && strcmp(c->kind, "issue") == 0) snprintf(buf, len, "%s / %s", server, c->challenge);
  else if (c->challenge) snprintf(buf, len, "%s / %s %s", server, c->kind, c->challenge);
  else snprintf(buf, len, "%s / %s", server, c->kind);
}

/* A row's label: the client, with its version when known ("lego (4.9.1-1)"). */
static void row_label(const acmeh_matrix *m, size_t i, char *buf, size_t len) {
  const char *v = m->client_versions ? m->client_versions[i] : NULL;
  if (v) snprintf(buf, len, "%s (%s)", m->clients[i], v);
  else snprintf(buf, len, "%s", m->clients[i]);
}

/* ---- Markdown ---------------------------------------------------------- */

/* Text in a table cell: no line breaks, no column separators, no raw HTML. */
static void md_text(acmeh_rep_file *f, const char *s, size_t max) {
  char *clean = acmeh_rep_utf8_sanitize(s ? s : "");
  size_t n = 0;
  for (const char *p = clean ? clean : ""; *p && n < max; p++, n++) {
    if (*p == '|') acmeh_rep_puts(f, "\\|");
    else if (*p == '<') acmeh_rep_puts(f, "&lt;");
    else if (*p == '>') acmeh_rep_puts(f, "&gt;");
    else if (*p == '&') acmeh_rep_puts(f, "&amp;");
    else if (*p == '[' || *p == ']' || *p == '*' || *p == '_' || *p == '`' || *p == '\\') acmeh_rep_printf(f, "\\%c", *p);
    else acmeh_rep_putc(f, (unsigned char)*p < 0x20 ? ' ' : *p);
  }
  if (clean && strlen(clean) > max) acmeh_rep_puts(f, "...");
  free(clean);
}

static void md_cell(acmeh_rep_file *f, const acmeh_mx_cell *c) {
  static const char *const shown[] = {"pass", "**FAIL**", "skip", "**ERROR**"};
  acmeh_rep_puts(f, " ");
  if (c->transcript) acmeh_rep_printf(f, "[%s](%s)", shown[c->verdict & 3], c->transcript);
  else acmeh_rep_puts(f, shown[c->verdict & 3]);
  if (c->verdict != ACMEH_SKIP) acmeh_rep_printf(f, " %.1f s", c->duration_s);
  if (c->reason && c->verdict != ACMEH_PASS) acmeh_rep_puts(f, ": "), md_text(f, c->reason, 120);
  if (c->checks_failed) acmeh_rep_puts(f, "; request checks failed: "), md_text(f, c->checks_failed, 120);
  acmeh_rep_puts(f, " |");
}

static void md_write(acmeh_rep_file *f, const acmeh_matrix *m) {
  char label[256], when[32];
  acmeh_rep_iso8601(m->started_unix, when, sizeof when);
  acmeh_rep_printf(f, "# ACME interop matrix\n\nStarted %s, %.1f s%s. Rows: clients; columns: server and scenario. "
                      "Each cell links to its transcript.\n\n| client |", when, m->duration_s,
                   m->interrupted ? " (interrupted: unfinished cells are errors)" : "");
  for (size_t j = 0; j < m->ncolumns; j++) column_label(&m->columns[j], label, sizeof label), acmeh_rep_puts(f, " "), md_text(f, label, 200), acmeh_rep_puts(f, " |");
  acmeh_rep_puts(f, "\n|---|");
  for (size_t j = 0; j < m->ncolumns; j++) acmeh_rep_puts(f, "---|");
  acmeh_rep_puts(f, "\n");
  for (size_t i = 0; i < m->nclients; i++) {
    row_label(m, i, label, sizeof label), acmeh_rep_puts(f, "| "), md_text(f, label, 200), acmeh_rep_puts(f, " |");
    for (size_t j = 0; j < m->ncolumns; j++) md_cell(f, cell_at(m, i, j));
    acmeh_rep_puts(f, "\n");
  }
}

/* ---- HTML --------------------------------------------------------------- */

static void html_text(acmeh_rep_file *f, const char *s) {
  char *clean = acmeh_rep_utf8_sanitize(s ? s : "");
  for (const char *p = clean ? clean : ""; *p; p++) {
    switch (*p) {
    case '<': acmeh_rep_puts(f, "&lt;"); break;
    case '>': acmeh_rep_puts(f, "&gt;"); break;
    case '&': acmeh_rep_puts(f, "&amp;"); break;
    case '"': acmeh_rep_puts(f, "&quot;"); break;
    case '\'': acmeh_rep_puts(f, "&#39;"); break;
    default: acmeh_rep_putc(f, (unsigned char)*p < 0x20 ? ' ' : *p);
    }
  }
  free(clean);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ACME interop matrix</title>\n<style>\n"
    "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}\n"
    "th,td{border:1px solid #999;padding:4px 8px;vertical-align:top;font-size:90%}\n"
    "td.pass{background:#c8f0c8}td.fail{background:#f5b8b8}td.skip{background:#e4e4e4;color:#555}\n"
    "td.error{background:#f8e0a0}td small{display:block;max-width:22em}\n</style></head><body>\n";

static void html_cell(acmeh_rep_file *f, const acmeh_mx_cell *c) {
  const char *v = acmeh_verdict_name(c->verdict);
  acmeh_rep_printf(f, "<td class=\"%s\">", v);
  if (c->transcript) acmeh_rep_puts(f, "<a href=\""), html_text(f, c->transcript), acmeh_rep_printf(f, "\">%s</a>", v);
  else acmeh_rep_puts(f, v);
  if (c->verdict != ACMEH_SKIP) acmeh_rep_printf(f, " %.1f s", c->duration_s);
  if (c->reason && c->verdict != ACMEH_PASS) acmeh_rep_puts(f, "<small>"), html_text(f, c->reason), acmeh_rep_puts(f, "</small>");
  if (c->checks_failed) acmeh_rep_puts(f, "<small>request checks failed: "), html_text(f, c->checks_failed), acmeh_rep_puts(f, "</small>");
  acmeh_rep_puts(f, "</td>");
}

static void html_write(acmeh_rep_file *f, const acmeh_matrix *m) {
  char label[256], when[32];
  acmeh_rep_iso8601(m->started_unix, when, sizeof when);
  acmeh_rep_puts(f, html_head);
  acmeh_rep_printf(f, "<h1>ACME interop matrix</h1>\n<p>Started %s, %.1f s%s. Rows: clients; columns: server and "
                      "scenario. Each cell links to its transcript.</p>\n<table>\n<tr><th>client</th>",
                   when, m->duration_s, m->interrupted ? " (interrupted: unfinished cells are errors)" : "");
  for (size_t j = 0; j < m->ncolumns; j++)
    column_label(&m->columns[j], label, sizeof label), acmeh_rep_puts(f, "<th>"), html_text(f, label), acmeh_rep_puts(f, "</th>");
  acmeh_rep_puts(f, "</tr>\n");
  for (size_t i = 0; i < m->nclients; i++) {
    row_label(m, i, label, sizeof label), acmeh_rep_puts(f, "<tr><th>"), html_text(f, label), acmeh_rep_puts(f, "</th>");
    for (size_t j = 0; j < m->ncolumns; j++) html_cell(f, cell_at(m, i, j));
    acmeh_rep_puts(f, "</tr>\n");
  }
  acmeh_rep_puts(f, "</table>\n</body></html>\n");
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *jstr(const char *s) {
  if (!s) return json_null();
  char *clean = acmeh_rep_utf8_sanitize(s);
  json_t *j = clean ? json_string(clean) : NULL;
  free(clean);
  return j;
}

static json_t *cell_json(const acmeh_matrix *m, size_t i, size_t j) {
  const acmeh_mx_cell *c = cell_at(m, i, j);
  const acmeh_mx_column *col = &m->columns[j];
  json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:s,s:o,s:f,s:o}", "client", jstr(m->clients[i]), "server", jstr(col->server),
                         "kind", jstr(col->kind), "challenge", jstr(col->challenge), "verdict", acmeh_verdict_name(c->verdict),
                         "reason", jstr(c->reason), "duration_s", (double)(long long)(c->duration_s * 1000 + 0.5) / 1000,
                         "transcript", jstr(c->transcript));
  /* {"judged": n, "failed": ["CORE-C-009", ...]} when the exchanges were judged */
  json_t *failed = json_array();
  for (const char *p = c->checks_failed; p && *p;) {
    size_t n = strcspn(p, ",");
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)(n < 63 ? n : 63), p);
    json_array_append_new(failed, jstr(id));
    p += n + (p[n] == ',');
  }
  if (o && c->checks_judged) json_object_set_new(o, "request_checks", json_pack("{s:I,s:o}", "judged", (json_int_t)c->checks_judged, "failed", failed));
  else json_decref(failed);
  return o;
}

static json_t *matrix_json(const acmeh_matrix *m) {
  char when[32];
  size_t counts[4] = {0};
  acmeh_rep_iso8601(m->started_unix, when, sizeof when);
  json_t *clients = json_array(), *cols = json_array(), *cells = json_array();
  json_t *versions = json_object(); /* {"<target>": "<version>"} of every client and server known */
  for (size_t i = 0; i < m->nclients; i++) {
    json_array_append_new(clients, jstr(m->clients[i]));
    if (m->client_versions && m->client_versions[i]) json_object_set_new(versions, m->clients[i], jstr(m->client_versions[i]));
  }
  for (size_t j = 0; j < m->ncolumns; j++) {
    json_array_append_new(cols, json_pack("{s:o,s:o,s:o}", "server", jstr(m->columns[j].server), "kind",
                                          jstr(m->columns[j].kind), "challenge", jstr(m->columns[j].challenge)));
    if (m->columns[j].server_version) json_object_set_new(versions, m->columns[j].server, jstr(m->columns[j].server_version));
  }
  for (size_t i = 0; i < m->nclients; i++)
    for (size_t j = 0; j < m->ncolumns; j++) json_array_append_new(cells, cell_json(m, i, j)), counts[cell_at(m, i, j)->verdict & 3]++;
  json_t *summary = json_object(), *doc = json_object();
  static const char *const names[] = {"pass", "fail", "skip", "error"};
  for (int k = 0; k < 4; k++) json_object_set_new(summary, names[k], json_integer((json_int_t)counts[k]));
  json_object_set_new(doc, "started", json_string(when));
  json_object_set_new(doc, "duration_s", json_real((double)(long long)(m->duration_s * 1000 + 0.5) / 1000));
  json_object_set_new(doc, "interrupted", json_boolean(m->interrupted));
  json_object_set_new(doc, "clients", clients);
  json_object_set_new(doc, "versions", versions);
  json_object_set_new(doc, "columns", cols);
  json_object_set_new(doc, "summary", summary);
  json_object_set_new(doc, "cells", cells);
  return doc;
}

static int json_write(acmeh_rep_file *f, const acmeh_matrix *m) {
  json_t *doc = matrix_json(m);
  char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
  json_decref(doc);
  if (!text) return ACMEH_NOMEM;
  acmeh_rep_puts(f, text);
  acmeh_rep_putc(f, '\n');
  free(text);
  return ACMEH_OK;
}

/* ---- all three ------------------------------------------------------------ */

static int write_one(const acmeh_matrix *m, const char *dir, const char *name, char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  acmeh_rep_file f;
  int rc = acmeh_rep_file_open(&f, path, err, errlen);
  if (rc) return rc;
  if (strcmp(name, "matrix.md") == 0) md_write(&f, m);
  else if (strcmp(name, "matrix.html") == 0) html_write(&f, m);
  else if (json_write(&f, m) != ACMEH_OK) {
    acmeh_rep_file_abort(&f);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "%s: out of memory", path);
  }
  return acmeh_rep_file_commit(&f, err, errlen);
}

int acmeh_report_matrix_write(const acmeh_matrix *m, const char *dir, char *err, size_t errlen) {
  static const char *const names[] = {"matrix.md", "matrix.html", "matrix.json"};
  for (int k = 0; k < 3; k++) {
    int rc = write_one(m, dir, names[k], err, errlen);
    if (rc) return rc;
  }
  return ACMEH_OK;
}
