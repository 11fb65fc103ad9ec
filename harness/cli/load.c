/* acme-harness load: a bounded load generator for an ACME server under test.
 * `--flows N` threads each create an account and then complete whole orders
 * (newOrder, dns-01 through the mock DNS, finalize, certificate download)
 * until `--orders M` are done in all; before that, `--nonces K` HEAD newNonce
 * requests are spread over the same threads. Prints one JSON object. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness/cli/args.h"
#include "harness/cli/cli.h"
#include "harness/client/flow.h"
#include "base/clock.h"
#include "base/error.h"

#define MAX_FLOWS 64

typedef struct {
  const char *url, *ca;
  acmeh_mocks *mocks;
  acmeh_publisher publisher; /* the mocks: load publishes dns-01 there */
  long orders, nonces;
  long progress;           /* print a line on stderr every this many completed orders; 0 = none */
  int server_pid;          /* > 0: the server's CPU time is read from /proc at the phase edges */
  double until;            /* hard stop (monotonic seconds) */
  atomic_long orders_left, nonces_left, orders_ok, orders_failed, nonces_ok;
  pthread_mutex_t err_mu;
  char first_error[512];
  /* The flows wait at the gate until drive() knows how many started, so the
   * phase barrier counts only threads that exist. */
  pthread_mutex_t gate_mu;
  pthread_cond_t gate_cv;
  int gate_open;
  pthread_barrier_t phase;
} load_state;

static void remember_error(load_state *st, const char *err) {
  pthread_mutex_lock(&st->err_mu);
  if (!st->first_error[0]) snprintf(st->first_error, sizeof st->first_error, "%s", err);
  pthread_mutex_unlock(&st->err_mu);
}

static void nonce_phase(load_state *st, acmeh_acme *c) {
  while (atomic_fetch_sub(&st->nonces_left, 1) > 0 && acmeh_now_mono() < st->until) {
    acmeh_http_resp r;
    char err[256];
    if (acmeh_http_request(acmeh_acme_http(c), "HEAD", acmeh_acme_dir_url(c, "newNonce"), NULL, NULL, 0, NULL, &r, err,
                           sizeof err) == ACMEH_OK && acmeh_http_header_get(&r, "Replay-Nonce"))
      atomic_fetch_add(&st->nonces_ok, 1);
    acmeh_http_resp_free(&r);
  }
}

static void order_phase(load_state *st, acmeh_acme *c, unsigned id) {
  for (long n = 0; atomic_fetch_sub(&st->orders_left, 1) > 0 && acmeh_now_mono() < st->until; n++) {
    char name[128], err[512];
    snprintf(name, sizeof name, "f%u-%ld-%lx.load.acmeh.example.com", id, n, (long)(acmeh_now_wall() * 1000) & 0xffffff);
    const char *names[] = {name};
    acmeh_issued is = {0};
    if (acmeh_flow_issue(c, &st->publisher, names, 1, "dns-01", &is, err, sizeof err) == ACMEH_OK) {
      long done = atomic_fetch_add(&st->orders_ok, 1) + 1;
      /* one write per line, so a reader (ci/bench sampling memory) sees whole lines */
      if (st->progress && done % st->progress == 0) fprintf(stderr, "progress: %ld orders\n", done);
    } else
      atomic_fetch_add(&st->orders_failed, 1), remember_error(st, err);
    acmeh_issued_clear(&is);
  }
}

typedef struct {
  load_state *st;
  unsigned id;
} flow_arg;

static void gate_wait(load_state *st) {
  pthread_mutex_lock(&st->gate_mu);
  while (!st->gate_open) pthread_cond_wait(&st->gate_cv, &st->gate_mu);
  pthread_mutex_unlock(&st->gate_mu);
}

static void *flow(void *p) {
  flow_arg *a = p;
  acmeh_acme_config cfg = {.directory_url = a->st->url, .ca_file = a->st->ca, .deadline = a->st->until};
  acmeh_acme *c = NULL;
  char err[512];
  int rc = acmeh_acme_new(&cfg, &c, err, sizeof err);
  if (rc == ACMEH_OK) rc = acmeh_flow_new_account(c, ACMEH_KEY_ES256, NULL, NULL, err, sizeof err);
  if (rc) remember_error(a->st, err);
  gate_wait(a->st);
  pthread_barrier_wait(&a->st->phase); /* every flow ready: the nonce phase starts together */
  if (rc == ACMEH_OK) nonce_phase(a->st, c);
  pthread_barrier_wait(&a->st->phase);
  if (rc == ACMEH_OK) order_phase(a->st, c, a->id);
  acmeh_acme_free(c);
  return NULL;
}

/* CPU seconds (user + system) of this process, and of process pid from
 * /proc (-1 when unreadable), so a run tells what each side spent per order
 * on a machine the two share. */
typedef struct {
  double self, server;
} cpu_mark;

static double proc_cpu_s(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = pid > 0 ? fopen(path, "r") : NULL;
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  unsigned long ut, st;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The process a /proc id belongs to (its Tgid): a thread's own id also has a
 * /proc entry, whose CPU times are that thread's alone. -1 when unreadable. */
static int process_of(int pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  int tgid = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Tgid: %d", &tgid) == 1) break;
  if (f) fclose(f);
  return tgid;
}

static cpu_mark cpu_now(const load_state *st) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double self = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  return (cpu_mark){self, st->server_pid > 0 ? proc_cpu_s(st->server_pid) : -1};
}

/* CPU per completed unit between two marks, in milliseconds times `scale`;
 * JSON null when unknown: no units, /proc unreadable, or no change at all
 * (below /proc's clock tick, 10 ms, so not "free"). */
static json_t *per_unit(double a, double b, long units, double scale) {
  return a < 0 || b <= a || units <= 0 ? json_null() : json_real((b - a) * 1000 * scale / (double)units);
}

/* A JSON string of s; bytes that are not UTF-8 (a URL or a peer's error
 * text may hold any) become '?', so the report is always printed. */
static json_t *text(const char *s) {
  json_t *j = json_string(s);
  if (j) return j;
  char *copy = strdup(s);
  for (char *p = copy; p && *p; p++)
    if ((unsigned char)*p >= 0x80) *p = '?';
  j = json_string(copy ? copy : "");
  free(copy);
  return j;
}

static void report(const load_state *st, int flows, double nonce_s, double order_s, const cpu_mark m[3]) {
  long nonces = atomic_load(&st->nonces_ok), orders = atomic_load(&st->orders_ok);
  json_t *j = json_pack("{s:o,s:i,s:I,s:f,s:I,s:I,s:f,s:f,s:o}", "server", text(st->url), "flows", flows, "nonces",
                        (json_int_t)nonces, "nonces_per_s", nonce_s > 0 ? nonces / nonce_s : 0.0, "orders",
                        (json_int_t)orders, "orders_failed", (json_int_t)atomic_load(&st->orders_failed),
                        "orders_per_s", order_s > 0 ? orders / order_s : 0.0, "order_seconds", order_s,
                        "first_error", text(st->first_error));
  /* Orders never tried: flows that could not set up, or the time ran out. */
  long not_run = st->orders - orders - atomic_load(&st->orders_failed);
  json_object_set_new(j, "orders_not_run", json_integer(not_run > 0 ? not_run : 0));
  json_object_set_new(j, "client_cpu_ms_per_order", per_unit(m[1].self, m[2].self, orders, 1));
  if (st->server_pid > 0) {
    json_object_set_new(j, "server_cpu_ms_per_order", per_unit(m[1].server, m[2].server, orders, 1));
    json_object_set_new(j, "server_cpu_us_per_nonce", per_unit(m[0].server, m[1].server, nonces, 1000));
  }
  json_dumpf(j, stdout, JSON_COMPACT);
  putchar('\n');
  json_decref(j);
}

/* Runs the flows; returns the exit status. */
static int drive(load_state *st, int flows) {
  pthread_t t[MAX_FLOWS];
  flow_arg args[MAX_FLOWS];
  int started = 0;
  for (; started < flows; started++) {
    args[started] = (flow_arg){.st = st, .id = (unsigned)started};
    if (pthread_create(&t[started], NULL, flow, &args[started]) != 0) break;
  }
  if (started < flows) {
    char e[128];
    snprintf(e, sizeof e, "only %d of %d flows could start (thread creation failed)", started, flows);
    fprintf(stderr, "acme-harness load: %s\n", e); /* "flows" in the report says how many ran */
    remember_error(st, e);
  }
  pthread_barrier_init(&st->phase, NULL, (unsigned)started + 1);
  pthread_mutex_lock(&st->gate_mu);
  st->gate_open = 1;
  pthread_cond_broadcast(&st->gate_cv);
  pthread_mutex_unlock(&st->gate_mu);
  cpu_mark m[3];
  pthread_barrier_wait(&st->phase);
  double t0 = acmeh_now_mono();
  m[0] = cpu_now(st);
  pthread_barrier_wait(&st->phase);
  double t1 = acmeh_now_mono();
  m[1] = cpu_now(st);
  for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
  double t2 = acmeh_now_mono();
  m[2] = cpu_now(st);
  pthread_barrier_destroy(&st->phase);
  report(st, started, t1 - t0, t2 - t1, m);
  return started < flows || atomic_load(&st->orders_failed) || atomic_load(&st->orders_ok) < st->orders ? 1 : 0;
}

static void usage(FILE *f) {
  fputs("usage: acme-harness load --server-url URL [--ca F] [--dns-port P] [--flows N] [--orders M] [--nonces K]\n"
        "                         [--max-seconds S] [--progress N] [--server-pid PID]\n"
        "  --server-url URL  directory of the server under load; --ca F verifies its TLS certificate\n"
        "  --dns-port P      port of the mock DNS the server resolves through (default a free one)\n"
        "  --flows N         concurrent issuance flows (default 8, at most 64)\n"
        "  --orders M        whole dns-01 orders to complete in all (default 200)\n"
        "  --nonces K        HEAD newNonce requests first (default 5000)\n"
        "  --max-seconds S   stop after S seconds (default 600)\n"
        "  --progress N      print \"progress: <count> orders\" on stderr every N completed orders\n"
        "  --server-pid PID  also report the server's CPU per order and per nonce (read from /proc)\n"
        "prints one JSON object of figures; exit status 0 all orders done, 1 some failed or not run, 2 usage\n",
        f);
}

int acmeh_cli_load(int argc, char **argv) {
  static const struct option opts[] = {
      {"server-url", required_argument, 0, 'U'}, {"ca", required_argument, 0, 'A'}, {"dns-port", required_argument, 0, 'D'},
      {"flows", required_argument, 0, 'f'},      {"orders", required_argument, 0, 'o'}, {"nonces", required_argument, 0, 'n'},
      {"max-seconds", required_argument, 0, 's'}, {"progress", required_argument, 0, 'p'},
      {"server-pid", required_argument, 0, 'P'},
      {"help", no_argument, 0, 'h'},              {0}};
  load_state st = {.orders = 200, .nonces = 5000};
  int flows = 8, dns_port = 0;
  double max_s = 600;
  for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    if (ch == 'h') return usage(stdout), 0;
    int bad = ch == 'U' ? (st.url = optarg, 0) : ch == 'A' ? (st.ca = optarg, 0)
            : ch == 'D' ? acmeh_arg_int("dns-port", optarg, 0, 65535, &dns_port)
            : ch == 'f' ? acmeh_arg_int("flows", optarg, 1, MAX_FLOWS, &flows)
            : ch == 'o' ? acmeh_arg_long("orders", optarg, 0, 1000000, &st.orders)
            : ch == 'n' ? acmeh_arg_long("nonces", optarg, 0, 10000000, &st.nonces)
            : ch == 's' ? acmeh_arg_seconds("max-seconds", optarg, 86400, &max_s)
            : ch == 'p' ? acmeh_arg_long("progress", optarg, 0, 1000000, &st.progress)
            : ch == 'P' ? acmeh_arg_int("server-pid", optarg, 1, 1 << 30, &st.server_pid) : 2;
    if (bad) return 2;
  }
  if (optind < argc) return fprintf(stderr, "acme-harness load: unexpected argument '%s'\n", argv[optind]), 2;
  if (!st.url) return fprintf(stderr, "acme-harness load: --server-url is required\n"), 2;
  int tgid = st.server_pid > 0 ? process_of(st.server_pid) : 0;
  if (tgid < 0) return fprintf(stderr, "acme-harness load: --server-pid %d: no such process\n", st.server_pid), 2;
  if (tgid && tgid != st.server_pid)
    return fprintf(stderr, "acme-harness load: --server-pid %d is a thread of process %d; give %d\n", st.server_pid,
                   tgid, tgid), 2;
  char err[512];
  acmeh_mocks_config mc = {.dns_port = dns_port, .mgmt_port = -1};
  if (acmeh_mocks_start(&mc, &st.mocks, err, sizeof err)) {
    /* Status 1 always comes with the JSON report: here no order ran. */
    fprintf(stderr, "acme-harness load: mock DNS: %s\n", err);
    snprintf(st.first_error, sizeof st.first_error, "mock DNS: %.400s", err);
    const cpu_mark none[3] = {{-1, -1}, {-1, -1}, {-1, -1}};
    report(&st, 0, 0, 0, none);
    return 1;
  }
  acmeh_publisher_mocks(&st.publisher, st.mocks);
  atomic_store(&st.orders_left, st.orders);
  atomic_store(&st.nonces_left, st.nonces);
  pthread_mutex_init(&st.err_mu, NULL);
  pthread_mutex_init(&st.gate_mu, NULL);
  pthread_cond_init(&st.gate_cv, NULL);
  st.until = acmeh_now_mono() + max_s;
  int status = drive(&st, flows);
  acmeh_mocks_stop(st.mocks);
  pthread_mutex_destroy(&st.err_mu);
  pthread_mutex_destroy(&st.gate_mu);
  pthread_cond_destroy(&st.gate_cv);
  return status;
}
