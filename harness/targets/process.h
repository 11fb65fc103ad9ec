/* Child processes the harness starts (targets, real clients), each in its own
 * process group so the whole tree can be ended, and all ended when the run
 * ends, on failure and on Ctrl-C. Call from the main thread only. */
#ifndef ACMEH_TARGETS_PROCESS_H
#define ACMEH_TARGETS_PROCESS_H

#include <stddef.h>

typedef struct acmeh_proc acmeh_proc;

/* Starts argv[0] (looked up in PATH) with `argv` (NULL-terminated), the
 * harness's environment plus `env` ("NAME=value", NULL-terminated, may be
 * NULL), working directory `cwd` (NULL = current), stdout and stderr appended
 * to `log_path`. Returns ACMEH_OK, ACMEH_ENV_MISSING_BINARY, ACMEH_ENV_SPAWN,
 * ACMEH_ENV_IO with the reason in err. Stop with acmeh_proc_stop. */
int acmeh_proc_start(const char *const *argv, const char *const *env, const char *cwd,
                     const char *log_path, acmeh_proc **out, char *err, size_t errlen);

/* Returns 1 while the process runs; 0 once it exited (its status in *status
 * when status != NULL: exit code, or 128 + signal). */
int acmeh_proc_running(acmeh_proc *p, int *status);

/* Pid of the process (also its process group id). */
int acmeh_proc_pid(const acmeh_proc *p);

/* Ends the process group: SIGTERM, up to `grace_ms` milliseconds, then
 * SIGKILL; reaps it and frees p. NULL is a no-op. */
void acmeh_proc_stop(acmeh_proc *p, int grace_ms);

/* Installs SIGINT/SIGTERM/SIGHUP handlers and an atexit hook that SIGKILL
 * every process group still registered. `on_signal` (may be NULL) runs first
 * inside the handler and must be async-signal-safe. */
void acmeh_proc_install_cleanup(void (*on_signal)(void));

/* SIGKILLs every registered process group (async-signal-safe). */
void acmeh_proc_kill_all(void);

/* Returns 1 when `name` is an executable in PATH (or a path to one). */
int acmeh_proc_in_path(const char *name);

#endif
