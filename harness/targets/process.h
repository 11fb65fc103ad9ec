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

/* Runs argv to completion on a private event loop (callable from any
 * thread), like acmeh_proc_start for environment, cwd and log, but waits at
 * most `timeout_ms` milliseconds, then SIGKILLs the process group. Whatever
 * the process leaves in its group is killed when it exits, and so is every
 * process that inherited its ACMEH_PROC_TAG environment entry (one that left
 * the group with setsid, a daemon); those re-parented to the harness are
 * reaped. *status receives
 * the exit code (128 + signal when killed). Returns ACMEH_OK when it exited by
 * itself, ACMEH_PEER_TIMEOUT when it had to be killed, ACMEH_ENV_MISSING_BINARY,
 * ACMEH_ENV_SPAWN, ACMEH_ENV_IO. */
int acmeh_proc_run(const char *const *argv, const char *const *env, const char *cwd, const char *log_path,
                   long timeout_ms, int *status, char *err, size_t errlen);

/* Returns 1 while the process runs; 0 once it exited (its status in *status
 * when status != NULL: exit code, or 128 + signal). */
int acmeh_proc_running(acmeh_proc *p, int *status);

/* Pid of the process (also its process group id). */
int acmeh_proc_pid(const acmeh_proc *p);

/* Ends the process group: SIGTERM, up to `grace_ms` milliseconds, then
 * SIGKILL; then every process carrying its ACMEH_PROC_TAG (as
 * acmeh_proc_run); reaps them and frees p. NULL is a no-op. */
void acmeh_proc_stop(acmeh_proc *p, int grace_ms);

/* Makes the harness a child subreaper (PR_SET_CHILD_SUBREAPER, once; also
 * done by the first acmeh_proc_start / acmeh_proc_run), so descendants that
 * leave their process group and outlive their parent are re-parented to the
 * harness rather than PID 1, and the clean-ups below still find them. */
void acmeh_proc_subreaper(void);

/* Installs handlers for every fatal signal and an atexit hook that SIGKILL
 * every process group still registered, then every other live child of the
 * harness (descendants re-parented to it; up to 2 s for them to appear), and
 * ignores SIGPIPE; makes the harness a subreaper. With
 * `on_signal` (async-signal-safe; may be NULL) the first SIGINT only calls it
 * (the caller winds down and writes its reports); a second SIGINT, and every
 * other fatal signal, ends the children and then the harness by that signal.
 * Children also carry PR_SET_PDEATHSIG, so they end even if the harness is SIGKILLed. */
void acmeh_proc_install_cleanup(void (*on_signal)(void));

/* 1 once a SIGINT has arrived (for loops that should stop waiting). */
int acmeh_proc_interrupted(void);

/* First argument by which acme-harness runs as the exec shim of a child. */
#define ACMEH_CHILD_SHIM "__child-exec"

/* The shim: arms PR_SET_PDEATHSIG(SIGKILL) and execs argv[0] with argv
 * (NULL-terminated). Returns 127 only if the exec failed. */
int acmeh_proc_child_shim(char **argv);

/* SIGKILLs every registered process group, then every other live child of
 * the harness until none is left (at most 2 s; async-signal-safe). */
void acmeh_proc_kill_all(void);

/* Returns 1 when `name` is an executable in PATH (or a path to one). */
int acmeh_proc_in_path(const char *name);

#endif
