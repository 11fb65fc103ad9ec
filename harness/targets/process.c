#include "harness/targets/process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/self.h"

#define MAX_CHILDREN 64
#define TAG_VAR "ACMEH_PROC_TAG"
#define TAG_CHARS 48
#define SWEEP_MS 2000   /* the longest a sweep waits for killed descendants to go */
#define MAX_SWEPT 256   /* descendants of one process waited for at once */

struct acmeh_proc {
  uv_process_t handle;
  int exited;
  int status;
  int pid;
  char tag[TAG_CHARS]; /* "ACMEH_PROC_TAG=<harness pid>.<n>", in its environment */
};

/* Process groups to end from a signal handler: plain ints, written only by
 * the main thread, read by the handler. */
static volatile sig_atomic_t registry[MAX_CHILDREN];
static uv_loop_t *loop;
static void (*user_on_signal)(void);

/* Writers (any thread) take this lock; the signal handler only reads. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;

static void reg_add(int pid) {
  pthread_mutex_lock(&registry_mu);
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (!registry[i]) {
      registry[i] = pid;
      break;
    }
  pthread_mutex_unlock(&registry_mu);
}

static void reg_del(int pid) {
  pthread_mutex_lock(&registry_mu);
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (registry[i] == pid) registry[i] = 0;
  pthread_mutex_unlock(&registry_mu);
}

static int registered(int pid) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (registry[i] == pid) return 1;
  return 0;
}

/* A process that leaves its group (setsid) and outlives its parent would be
 * re-parented to PID 1, out of the harness's reach; as a subreaper the
 * harness becomes its parent instead, so the sweeps below find it. */
static void set_subreaper(void) { prctl(PR_SET_CHILD_SUBREAPER, 1); }

void acmeh_proc_subreaper(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, set_subreaper);
}

/* ---- finding descendants through /proc (async-signal-safe) ---------------- */

struct dirent64_raw {
  unsigned long long ino;
  long long off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

/* Calls fn(pid, ud) for every process in /proc; with raw syscalls only, so a
 * signal handler can use it. */
static void for_each_pid(void (*fn)(int pid, void *ud), void *ud) {
  int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[4096] __attribute__((aligned(8)));
  long n;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n; off += ((struct dirent64_raw *)(buf + off))->reclen) {
      const char *name = ((struct dirent64_raw *)(buf + off))->name;
      int pid = 0;
      for (; *name >= '0' && *name <= '9' && pid < 100000000; name++) pid = pid * 10 + (*name - '0');
      if (!*name && pid > 0) fn(pid, ud);
    }
  close(fd);
}

/* "/proc/<pid>/<file>" into buf (at least 40 bytes), without stdio. */
static void proc_path(char *buf, int pid, const char *file) {
  char digits[12];
  int k = 0;
  do digits[k++] = (char)('0' + pid % 10); while ((pid /= 10) && k < 11);
  char *p = buf;
  for (const char *c = "/proc/"; *c;) *p++ = *c++;
  while (k) *p++ = digits[--k];
  *p++ = '/';
  for (const char *c = file; *c;) *p++ = *c++;
  *p = '\0';
}

/* The parent of pid and whether it is a zombie, from /proc/<pid>/stat
 * ("pid (comm) S ppid ..."; comm may hold ')' so the last one counts). */
static int stat_ppid(int pid, int *zombie) {
  char path[40], st[512];
  proc_path(path, pid, "stat");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, st, sizeof st - 1);
  close(fd);
  if (n <= 0) return -1;
  st[n] = '\0';
  char *p = NULL;
  for (char *c = st; *c; c++)
    if (*c == ')') p = c;
  if (!p || p[1] != ' ' || !p[2] || p[3] != ' ') return -1;
  *zombie = p[2] == 'Z' || p[2] == 'X';
  int ppid = 0;
  for (p += 4; *p >= '0' && *p <= '9'; p++) ppid = ppid * 10 + (*p - '0');
  return ppid;
}

/* Ending the harness: every live child that is not a registered group
 * leader (those were killed by group) is killed, until none is left alive,
 * so descendants re-parented to the harness go too. No reaping: libuv reaps
 * its own children, and the harness is about to end anyway. */
static void kill_live_child(int pid, void *ud) {
  int zombie = 0;
  if (stat_ppid(pid, &zombie) != getpid() || zombie) return;
  *(int *)ud += 1;
  if (!registered(pid)) kill(pid, SIGKILL);
}

static void kill_orphans(void) {
  for (int round = 0; round < SWEEP_MS / 10; round++) {
    int live = 0;
    for_each_pid(kill_live_child, &live);
    if (!live) return;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

void acmeh_proc_kill_all(void) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (registry[i] > 0) kill(-registry[i], SIGKILL);
  kill_orphans();
}

/* ---- after one child: its descendants, by the tag they inherited ------------ */

/* A fresh tag for one child; every descendant inherits it in its environment
 * (unless it clears that), which tells them from another child's. */
static void new_tag(char tag[TAG_CHARS]) {
  static atomic_uint next;
  snprintf(tag, TAG_CHARS, "%s=%d.%u", TAG_VAR, (int)getpid(), atomic_fetch_add(&next, 1) + 1);
}

/* Does /proc/<pid>/environ hold the entry `tag`? (The first 256 KiB, ample
 * for an environment; unreadable = no.) */
static int has_tag(int pid, const char *tag) {
  enum { MAX_ENV = 256 * 1024 };
  char path[40];
  proc_path(path, pid, "environ");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  char *env = fd < 0 ? NULL : malloc(MAX_ENV + 1);
  size_t n = 0;
  ssize_t got = 0;
  while (env && n < MAX_ENV && (got = read(fd, env + n, MAX_ENV - n)) > 0) n += (size_t)got;
  if (fd >= 0) close(fd);
  int found = 0;
  if (env) env[n] = '\0';
  for (size_t i = 0; env && i < n && !found; i += strlen(env + i) + 1) found = strcmp(env + i, tag) == 0;
  free(env);
  return found;
}

typedef struct {
  const char *tag;
  int killed[MAX_SWEPT];
  size_t n;
  int found;
} sweep;

static void kill_tagged(int pid, void *ud) {
  sweep *w = ud;
  if (pid == getpid() || registered(pid) || !has_tag(pid, w->tag)) return;
  kill(pid, SIGKILL);
  w->found++;
  size_t i = 0;
  while (i < w->n && w->killed[i] != pid) i++;
  if (i == w->n && w->n < MAX_SWEPT) w->killed[w->n++] = pid;
}

/* Reaps the killed ones that are (or became) the harness's children; drops
 * those gone altogether. */
static void reap_killed(sweep *w) {
  for (size_t i = 0; i < w->n;) {
    pid_t r = waitpid(w->killed[i], NULL, WNOHANG);
    if (r == w->killed[i] || (r < 0 && kill(w->killed[i], 0) != 0)) w->killed[i] = w->killed[--w->n];
    else i++;
  }
}

/* Kills every process carrying `tag` (what a child left running: detached
 * daemons, setsid'd helpers) and reaps those re-parented to the harness;
 * bounded by SWEEP_MS. */
static void sweep_tag(const char *tag) {
  sweep w = {.tag = tag};
  double until = acmeh_now_mono() + SWEEP_MS / 1000.0;
  do {
    w.found = 0;
    for_each_pid(kill_tagged, &w);
    reap_killed(&w);
    if (!w.found && !w.n) return;
    acmeh_sleep_ms(5);
  } while (acmeh_now_mono() < until);
}

static volatile sig_atomic_t interrupts;

int acmeh_proc_interrupted(void) { return interrupts > 0; }

/* The first Ctrl-C asks the run to wind down (reports still written); any
 * other fatal signal, or a second Ctrl-C, ends every child at once and then
 * the harness, by the same signal. */
static void on_fatal_signal(int sig) {
  if (sig == SIGINT && interrupts++ == 0 && user_on_signal) {
    static const char msg[] = "\nacme-harness: interrupted; finishing the running checks and writing reports "
                              "(Ctrl-C again to stop at once)\n";
    user_on_signal();
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    return;
  }
  acmeh_proc_kill_all();
  signal(sig, SIG_DFL);
  raise(sig);
}

void acmeh_proc_install_cleanup(void (*on_signal)(void)) {
  acmeh_proc_subreaper();
  user_on_signal = on_signal;
  static const int fatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
                              SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGXCPU, SIGXFSZ};
  struct sigaction sa = {0};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++) sigaction(fatal[i], &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a closed stdout pipe becomes a write error, not a silent death */
  atexit(acmeh_proc_kill_all);
}

/* The handle owns its acmeh_proc once closing starts. */
static void on_closed(uv_handle_t *h) { free(h->data); }

static void on_exit_cb(uv_process_t *h, int64_t status, int term_signal) {
  acmeh_proc *p = h->data;
  p->exited = 1;
  p->status = term_signal ? 128 + term_signal : (int)status;
}

int acmeh_proc_in_path(const char *name) {
  if (strchr(name, '/')) return access(name, X_OK) == 0;
  const char *path = getenv("PATH");
  char buf[4096];
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    size_t n = strcspn(p, ":");
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, name);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return 1;
    p += n + (p[n] == ':');
  }
  return 0;
}

/* [this binary, ACMEH_CHILD_SHIM, argv...]: the child first arms
 * PR_SET_PDEATHSIG, so it dies with the harness even when the harness is
 * SIGKILLed and no handler runs. NULL when /proc/self/exe is unreadable.
 * The array is malloc'd (free it alone); the exe path is static. */
static char **with_death_shim(const char *const *argv) {
  const char *self = acmeh_self_exe();
  if (!self) return NULL;
  size_t n = 0;
  while (argv[n]) n++;
  char **out = calloc(n + 3, sizeof *out);
  if (!out) return NULL;
  out[0] = (char *)self; /* argv is not const in execvp */
  out[1] = ACMEH_CHILD_SHIM;
  memcpy(out + 2, argv, n * sizeof *out);
  return out;
}

int acmeh_proc_child_shim(char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 127; /* the harness died before we armed the signal */
  execvp(argv[0], argv);
  fprintf(stderr, "acme-harness: cannot execute %s: %s\n", argv[0], strerror(errno));
  return 127;
}

/* Does "NAME=value" entry e name a variable that one of `extra` sets? */
static int overridden(const char *e, const char *const *extra) {
  size_t n = strcspn(e, "=");
  for (size_t i = 0; extra && extra[i]; i++)
    if (strncmp(extra[i], e, n) == 0 && extra[i][n] == '=') return 1;
  return 0;
}

/* environ plus the extra variables, which replace same-named ones (getenv
 * would find an inherited duplicate first), plus the child's `tag` (replacing
 * one inherited from a harness above), as a NULL-terminated array (caller
 * frees the array only). */
static char **merged_env(const char *const *extra, const char *tag) {
  extern char **environ;
  const char *const tags[] = {tag, NULL};
  size_t n = 0, m = 0, k = 0;
  while (environ[n]) n++;
  while (extra && extra[m]) m++;
  char **env = calloc(n + m + 2, sizeof *env);
  if (!env) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!overridden(environ[i], extra) && !overridden(environ[i], tags)) env[k++] = environ[i];
  for (size_t i = 0; i < m; i++)
    if (!overridden(extra[i], tags)) env[k++] = (char *)extra[i];
  env[k++] = (char *)tag;
  return env;
}

int acmeh_proc_start(const char *const *argv, const char *const *env, const char *cwd,
                     const char *log_path, acmeh_proc **out, char *err, size_t errlen) {
  if (!acmeh_proc_in_path(argv[0]))
    return acmeh_msg(err, errlen, ACMEH_ENV_MISSING_BINARY, strchr(argv[0], '/') ? "%s: not found or not executable"
                                                                                   : "%s: not found in PATH (run ci/setup)", argv[0]);
  if (!loop && !(loop = uv_default_loop())) return ACMEH_INTERNAL;
  acmeh_proc_subreaper();
  int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot open %s", log_path);
  acmeh_proc *p = calloc(1, sizeof *p);
  if (p) new_tag(p->tag);
  char **envp = p ? merged_env(env, p->tag) : NULL;
  char **shimmed = with_death_shim(argv);
  uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = fd},
                                   {.flags = UV_INHERIT_FD, .data.fd = fd}};
  uv_process_options_t o = {.exit_cb = on_exit_cb, .file = shimmed ? shimmed[0] : argv[0],
                            .args = shimmed ? shimmed : (char **)argv,
                            .env = envp, .cwd = cwd, .flags = UV_PROCESS_DETACHED,
                            .stdio_count = 3, .stdio = stdio};
  int spawned = p && envp;
  int rc = spawned ? uv_spawn(loop, &p->handle, &o) : UV_ENOMEM;
  close(fd);
  free(envp);
  free(shimmed);
  if (rc) {
    if (spawned) { /* libuv initialised the handle even though spawning failed: it must be closed */
      p->handle.data = p;
      uv_close((uv_handle_t *)&p->handle, on_closed);
    } else {
      free(p);
    }
    return acmeh_msg(err, errlen, ACMEH_ENV_SPAWN, "cannot start %s: %s", argv[0], uv_strerror(rc));
  }
  p->handle.data = p;
  p->pid = p->handle.pid;
  reg_add(p->pid);
  *out = p;
  return ACMEH_OK;
}

int acmeh_proc_running(acmeh_proc *p, int *status) {
  uv_run(loop, UV_RUN_NOWAIT);
  if (p->exited && status) *status = p->status;
  return !p->exited;
}

int acmeh_proc_pid(const acmeh_proc *p) { return p->pid; }

static void wait_exit(acmeh_proc *p, int ms) {
  double until = acmeh_now_mono() + ms / 1000.0;
  while (acmeh_proc_running(p, NULL) && acmeh_now_mono() < until) acmeh_sleep_ms(5);
}


void acmeh_proc_stop(acmeh_proc *p, int grace_ms) {
  if (!p) return;
  kill(-p->pid, SIGTERM); /* the whole group: wrappers and their children too */
  wait_exit(p, grace_ms);
  kill(-p->pid, SIGKILL);
  wait_exit(p, 2000);
  sweep_tag(p->tag); /* what left the group: setsid'd helpers, daemons */
  reg_del(p->pid);
  uv_close((uv_handle_t *)&p->handle, on_closed);
  uv_run(loop, UV_RUN_NOWAIT);
}

/* State of one blocking run on a private loop. */
typedef struct {
  uv_process_t proc;
  uv_timer_t timer;
  int exited, status, timed_out;
  int spawn_tried; /* uv_spawn initialised proc, so it needs uv_close even on failure */
} blocking_run;

static void on_run_exit(uv_process_t *h, int64_t status, int term_signal) {
  blocking_run *b = h->data;
  b->exited = 1;
  b->status = term_signal ? 128 + term_signal : (int)status;
  uv_timer_stop(&b->timer);
}

static void on_run_timeout(uv_timer_t *t) {
  blocking_run *b = t->data;
  b->timed_out = 1;
  kill(-b->proc.pid, SIGKILL); /* the whole group: a client's helpers too */
}

static int spawn_on(uv_loop_t *l, blocking_run *b, const char *const *argv, const char *const *env, const char *cwd,
                    int fd, const char *tag) {
  char **envp = merged_env(env, tag), **shimmed = with_death_shim(argv);
  uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = fd},
                                   {.flags = UV_INHERIT_FD, .data.fd = fd}};
  uv_process_options_t o = {.exit_cb = on_run_exit, .file = shimmed ? shimmed[0] : argv[0],
                            .args = shimmed ? shimmed : (char **)argv, .env = envp, .cwd = cwd,
                            .flags = UV_PROCESS_DETACHED, .stdio_count = 3, .stdio = stdio};
  b->proc.data = b;
  b->spawn_tried = envp != NULL;
  int rc = envp ? uv_spawn(l, &b->proc, &o) : UV_ENOMEM;
  free(envp);
  free(shimmed);
  return rc;
}

int acmeh_proc_run(const char *const *argv, const char *const *env, const char *cwd, const char *log_path,
                   long timeout_ms, int *status, char *err, size_t errlen) {
  if (!acmeh_proc_in_path(argv[0]))
    return acmeh_msg(err, errlen, ACMEH_ENV_MISSING_BINARY, "%s: not found or not executable", argv[0]);
  int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "cannot open %s", log_path);
  uv_loop_t l;
  blocking_run b = {0};
  char tag[TAG_CHARS];
  if (uv_loop_init(&l) != 0) {
    close(fd);
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "cannot create an event loop");
  }
  acmeh_proc_subreaper();
  new_tag(tag);
  int rc = spawn_on(&l, &b, argv, env, cwd, fd, tag);
  close(fd);
  if (rc) {
    if (b.spawn_tried) uv_close((uv_handle_t *)&b.proc, NULL); /* libuv wants a failed process handle closed too */
    uv_run(&l, UV_RUN_DEFAULT);
    uv_loop_close(&l);
    return acmeh_msg(err, errlen, ACMEH_ENV_SPAWN, "cannot start %s: %s", argv[0], uv_strerror(rc));
  }
  reg_add(b.proc.pid);
  uv_timer_init(&l, &b.timer);
  b.timer.data = &b;
  uv_timer_start(&b.timer, on_run_timeout, (uint64_t)(timeout_ms > 0 ? timeout_ms : 1), 0);
  while (!b.exited) uv_run(&l, UV_RUN_ONCE);
  kill(-b.proc.pid, SIGKILL); /* anything the client left behind in its group */
  sweep_tag(tag);             /* and what left the group (setsid) */
  reg_del(b.proc.pid);
  uv_close((uv_handle_t *)&b.proc, NULL);
  uv_close((uv_handle_t *)&b.timer, NULL);
  uv_run(&l, UV_RUN_DEFAULT);
  uv_loop_close(&l);
  *status = b.status;
  if (b.timed_out) return acmeh_msg(err, errlen, ACMEH_PEER_TIMEOUT, "%s did not finish within %ld ms", argv[0], timeout_ms);
  return ACMEH_OK;
}
