/* Targets: real implementations under test, described by JSON files in
 * targets/<name>.json (docs/architecture.md, "Words"). For a server target the
 * file says how to start it (command, environment, generated files, ports),
 * how to trust it, where its directory is and when it is ready. */
#ifndef ACMEH_TARGETS_TARGET_H
#define ACMEH_TARGETS_TARGET_H

#include <jansson.h>
#include <stddef.h>

#include "mocks/mocks.h"

typedef struct acmeh_target_run acmeh_target_run;

/* Loads target `name_or_path` (a name looks up <data>/targets/<name>.json)
 * and checks its shape (targets/README.md): "name" and "role" ("client",
 * "server", "nameserver"); a client's "actions" (objects with a "command"
 * array of strings), "cert_path", "publishes"; a server's "command" and
 * "directory"; a nameserver's "command" and "nameserver", or "mock_dns"; and
 * the JSON type of every other known field. *doc receives a new reference.
 * Returns ACMEH_OK, ACMEH_ENV_IO (not found / bad JSON), ACMEH_INVALID_ARG (a
 * field missing or of the wrong type, named: "target PATH: actions.issue.command:
 * must be ...") with the reason in err. */
int acmeh_target_load(const char *name_or_path, json_t **doc, char *err, size_t errlen);

/* The shape check acmeh_target_load applies to a parsed document (split out
 * so that the fuzz target tests/fuzz/fuzz_target_file.c reaches it without
 * a file): the fields above, by role. `path` only names the document in
 * messages. Returns ACMEH_OK, or ACMEH_INVALID_ARG with "target PATH: FIELD:
 * why" in err (errlen bytes). doc is borrowed. */
int acmeh_target_check(const json_t *doc, const char *path, char *err, size_t errlen);

/* Starts the target described by `doc` with its files under `run_dir`, its
 * validations pointed at `mocks`, and waits (polling, at most the target's
 * ready.timeout_ms) until its directory answers 200. Returns ACMEH_OK,
 * ACMEH_ENV_MISSING_BINARY, ACMEH_ENV_SPAWN, ACMEH_ENV_NOT_READY (with the
 * tail of its log) and others, reason in err. Stop with acmeh_target_stop. */
int acmeh_target_start(const json_t *doc, const char *run_dir, acmeh_mocks *mocks,
                       acmeh_target_run **out, char *err, size_t errlen);

/* acmeh_target_start with the spec revisions under test, "SUITE=REV,..."
 * (NULL: none given), as ${DRAFT} in the target's strings: a server that can
 * follow a revision (reference.json: `serve --draft ${DRAFT}`) puts on the
 * wire what the harness's checks expect. ${DRAFT} is "" otherwise. */
int acmeh_target_start_drafts(const json_t *doc, const char *run_dir, acmeh_mocks *mocks, const char *drafts,
                              acmeh_target_run **out, char *err, size_t errlen);

/* Where a server target validates and resolves, instead of the mocks' own
 * ports: a mock target's (`run --mocks challtestsrv`). */
typedef struct {
  int dns, http01, tlsalpn01;
} acmeh_target_ports;

/* acmeh_target_start_drafts with ${DNS_PORT}, ${HTTP01_PORT} and
 * ${TLSALPN01_PORT} taken from `ports` (NULL: from `mocks`). */
int acmeh_target_start_with(const json_t *doc, const char *run_dir, acmeh_mocks *mocks, const acmeh_target_ports *ports,
                            const char *drafts, acmeh_target_run **out, char *err, size_t errlen);

/* A mock target's (role "mocks") "mocks" object with ${VARS} expanded:
 * "dns_port", "http01_port", "tlsalpn01_port" (integers once expanded with
 * ":int") and "management" (its management API's base URL); borrowed, NULL
 * for other targets. */
const json_t *acmeh_target_mocks(const acmeh_target_run *r);

/* Directory URL and CA file of a started target (borrowed). */
const char *acmeh_target_directory(const acmeh_target_run *r);
const char *acmeh_target_ca_file(const acmeh_target_run *r);
const char *acmeh_target_log(const acmeh_target_run *r);

/* A nameserver target's "nameserver" object with ${VARS} expanded: address,
 * port, zone, keys (borrowed; NULL for other targets). Such a target is ready
 * when its zone's SOA query answers NOERROR instead of its directory. */
const json_t *acmeh_target_nameserver(const acmeh_target_run *r);

/* Ends the target's process group and frees r. NULL is a no-op. */
void acmeh_target_stop(acmeh_target_run *r);

/* The expectations object of a target: its "expectations" file, a plain file
 * name in the targets folder, loaded into *out (new reference; NULL when the
 * target names none). Returns ACMEH_OK, or ACMEH_ENV_IO with the reason in err
 * when the name is a path, the file cannot be read or parsed, or it is not a
 * JSON object (a broken expectations file must not quietly expect nothing). */
int acmeh_target_expectations(const json_t *doc, json_t **out, char *err, size_t errlen);

/* The folder of target `name_or_path`'s file, its ${TARGET_DIR}: the folder
 * of a path (an argument with '/' or ".json"), else <data>/targets. Written
 * into dir (len bytes); returns dir. */
char *acmeh_target_dir(const char *name_or_path, char *dir, size_t len);

/* The version of the implementation a target describes: runs its "version"
 * command (argv; ${TARGET_DIR} = target_dir, ${ACMEH_BIN}; at most 10 s) and
 * keeps the first non-empty line of its output, at most 100 characters, in
 * out (len bytes). out is "unknown" when the target has no such command
 * (ACMEH_UNSUPPORTED) or it failed or printed nothing (ACMEH_ENV_IO or the
 * process error). */
int acmeh_target_version(const json_t *doc, const char *target_dir, char *out, size_t len);

/* A free TCP port on 127.0.0.1 (bound and released), or -1. */
int acmeh_free_port(void);

#endif
