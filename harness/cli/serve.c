/* acme-harness serve: the reference ACME server in the foreground, with the
 * mocks it validates against (or, with --no-mocks, against mocks someone
 * else runs on the given ports, as `run --server reference` does), optional
 * fault rules (--faults), and every exchange printed decoded as it happens
 * (off with --quiet). Runs until SIGINT or SIGTERM, then shuts everything
 * down. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/cli/args.h"
#include "harness/cli/cli.h"
#include "harness/runner/catalog.h"
#include "base/error.h"
#include "harness/runner/suite.h"
#include "harness/server/fault.h"
#include "harness/server/server.h"
#include "mocks/mocks.h"

typedef struct {
  int port, dns_port, http01_port, tlsalpn01_port, no_mocks, verbose, quiet, no_verdicts;
  const char *run_dir, *tls_cert, *tls_key, *tls_ca, *faults_file, *dns_account, *onion, *onion_caa_flag;
  int socks5_port, mock_tor;
  json_t *faults; /* loaded and validated rules, NULL = none */
  acmeh_server_eab_key eab[8]; /* --eab-kid / --eab-key pairs, in order */
  size_t neab_kid, neab_key;
  int eab_required;
  char drafts_arg[1024]; /* every --draft, comma-joined ("" = each suite's newest revision) */
  acmeh_wire wire;       /* what the chosen revisions put on the wire */
} serve_args;

static void usage(FILE *f) {
  fputs("usage: acme-harness serve [--port P] [--dns-port P] [--http01-port P] [--tlsalpn01-port P]\n"
        "                          [--run-dir D] [--no-mocks] [--tls-cert F --tls-key F [--tls-ca F]]\n"
        "                          [--faults F] [--dns-account MODE] [--onion MODE] [--onion-caa-flag NAME] [--quiet] [--no-verdicts] [--verbose]\n"
        "                          [--eab-kid KID --eab-key B64URL]... [--eab-required] [--draft SUITE=REV]...\n"
        "  --no-mocks  start only the server; validate against the DNS, http-01 and tls-alpn-01\n"
        "              ports given (mocks of a running `acme-harness run`)\n"
        "  --faults F  inject the fault rules of JSON file F (format: README, \"Fault files\")\n"
        "  --dns-account MODE  dns-account-01: on (default), off, or a deviation for tests\n"
        "              (dns01-name, label-20-bytes, any-account-label, any-txt, wildcard-star,\n"
        "              bare-error, no-cname, short-token; harness/server/server.h)\n"
        "  --onion MODE  .onion names and onion-csr-01 (RFC 9799): on (default), off, or a deviation\n"
        "              for tests (harness/server/server.h, onion)\n"
        "  --onion-caa-flag NAME  the directory meta flag for required in-band CAA: both (default),\n"
        "              inBandOnionCAARequired, onionCAARequired, none\n"
        "  --socks5-port P  validate http-01 and tls-alpn-01 for .onion names through the SOCKS5 proxy\n"
        "              on 127.0.0.1:P (a Tor SocksPort); --mock-tor starts a mock Tor that connects\n"
        "              every onion name to 127.0.0.1 (mocks/socks5). Without either: onion-csr-01 only\n"
        "  --eab-kid KID --eab-key B64URL  an External Account Binding key (RFC 8555 §7.3.4;\n"
        "              HMAC key in base64url, >= 16 bytes; up to 8 pairs); binding optional\n"
        "  --eab-required  newAccount must carry a binding (meta.externalAccountRequired)\n"
        "  --draft SUITE=REV  follow that spec revision on the wire where revisions differ (e.g.\n"
        "              dnsaccount=scoped-dns-challenges-00; `acme-harness list --revisions`)\n"
        "  --no-verdicts  do not judge each exchange with the suites' per-exchange client checks (CORE-C-001..)\n"
        "  --quiet     do not print each exchange on stdout (nor verdicts)\n"
        "  --verbose   log every request and its status on stderr\n"
        "stops on SIGINT or SIGTERM (to the acme-harness process itself), printing the verdict summary;\n"
        "exit status: 0 after a stop signal, 2 usage error or the server or mocks could not start\n",
        f);
}

/* --draft through the catalogs (the revisions they list) into a->wire; 0 or 2. */
static int parse_drafts(serve_args *a) {
  if (!a->drafts_arg[0]) return 0;
  char err[1024];
  acmeh_catalog cat;
  json_t *drafts = NULL;
  int rc = acmeh_catalog_load(NULL, &cat, err, sizeof err);
  if (rc == ACMEH_OK) {
    rc = acmeh_catalog_drafts(&cat, a->drafts_arg, &drafts, err, sizeof err);
    acmeh_catalog_free(&cat);
  }
  if (rc != ACMEH_OK) return fprintf(stderr, "acme-harness serve: %s\n", err), 2;
  acmeh_suites_wire(drafts, &a->wire);
  json_decref(drafts);
  return 0;
}

static int parse(serve_args *a, int argc, char **argv) {
  static const struct option opts[] = {
      {"port", required_argument, 0, 'p'},           {"dns-port", required_argument, 0, 'D'},
      {"http01-port", required_argument, 0, 'H'},    {"tlsalpn01-port", required_argument, 0, 'L'},
      {"run-dir", required_argument, 0, 'R'},        {"no-mocks", no_argument, 0, 'N'},
      {"tls-cert", required_argument, 0, 'c'},       {"tls-key", required_argument, 0, 'k'},
      {"tls-ca", required_argument, 0, 'a'},         {"help", no_argument, 0, 'h'},
      {"verbose", no_argument, 0, 'v'},              {"faults", required_argument, 0, 'f'},
      {"no-verdicts", no_argument, 0, 'V'},
      {"quiet", no_argument, 0, 'q'},                {"dns-account", required_argument, 0, 'A'},
      {"eab-kid", required_argument, 0, 'K'},        {"eab-key", required_argument, 0, 'M'},
      {"eab-required", no_argument, 0, 'E'},         {"draft", required_argument, 0, 'r'},
      {"onion", required_argument, 0, 'O'},          {"onion-caa-flag", required_argument, 0, 'F'},
      {"socks5-port", required_argument, 0, 'S'},    {"mock-tor", no_argument, 0, 'T'},
      {0}};
  for (int ch; (ch = getopt_long(argc, argv, "hvq", opts, NULL)) != -1;) {
    switch (ch) {
    case 'p': a->port = atoi(optarg); break;
    case 'D': a->dns_port = atoi(optarg); break;
    case 'H': a->http01_port = atoi(optarg); break;
    case 'L': a->tlsalpn01_port = atoi(optarg); break;
    case 'R': a->run_dir = optarg; break;
    case 'N': a->no_mocks = 1; break;
    case 'c': a->tls_cert = optarg; break;
    case 'k': a->tls_key = optarg; break;
    case 'a': a->tls_ca = optarg; break;
    case 'v': a->verbose = 1; break;
    case 'V': a->no_verdicts = 1; break;
    case 'f': a->faults_file = optarg; break;
    case 'q': a->quiet = 1; break;
    case 'A': a->dns_account = optarg; break;
    case 'O': a->onion = optarg; break;
    case 'F': a->onion_caa_flag = optarg; break;
    case 'S': a->socks5_port = atoi(optarg); break;
    case 'T': a->mock_tor = 1; break;
    case 'K': if (a->neab_kid < 8) a->eab[a->neab_kid].kid = optarg; a->neab_kid++; break;
    case 'M': if (a->neab_key < 8) a->eab[a->neab_key].hmac_key_b64url = optarg; a->neab_key++; break;
    case 'E': a->eab_required = 1; break;
    case 'r':
      if (*optarg && acmeh_arg_append("draft", optarg, a->drafts_arg, sizeof a->drafts_arg)) return 2;
      break;
    case 'h': usage(stdout); return 1; /* 1: asked for help, exit 0 */
    default: usage(stderr); return 2;
    }
  }
  if (a->neab_kid != a->neab_key || a->neab_kid > 8 || (a->eab_required && !a->neab_kid))
    return fputs("acme-harness serve: give --eab-kid and --eab-key in pairs (at most 8); --eab-required needs one\n", stderr), 2;
  if (!a->tls_cert != !a->tls_key) return fputs("acme-harness serve: give both --tls-cert and --tls-key\n", stderr), 2;
  if (a->no_mocks && (!a->dns_port || !a->http01_port || !a->tlsalpn01_port))
    return fputs("acme-harness serve: --no-mocks needs --dns-port, --http01-port and --tlsalpn01-port\n", stderr), 2;
  if (optind < argc) return fprintf(stderr, "acme-harness serve: unexpected argument %s\n", argv[optind]), usage(stderr), 2;
  char err[1024];
  if (a->faults_file && acmeh_faults_load(a->faults_file, &a->faults, err, sizeof err) != ACMEH_OK)
    return fprintf(stderr, "acme-harness serve: --faults: %s\n", err), 2;
  return parse_drafts(a);
}

/* ---- live exchange printing (the observer, on the server's loop thread) ---- */

/* Live verdicts: how often each per-exchange client check (every suite's live judge) passed and failed. */
#define MAX_LIVE_CHECKS 64
#define MAX_LIVE_JUDGES 16
/* Characters of a verdict message shown on its line. */
#define MAX_VERDICT_CHARS 300
typedef struct {
  const char *id;
  size_t pass, fail;
} live_count;

typedef struct {
  int color;
  /* Every suite's live judge (runner/suite.h) and its state; none with --no-verdicts. */
  const acmeh_live_judge *judges[MAX_LIVE_JUDGES];
  void *states[MAX_LIVE_JUDGES];
  size_t njudges;
  live_count counts[MAX_LIVE_CHECKS];
  size_t exchanges;
} printer;

static const char *paint(const printer *p, const char *code) { return p->color ? code : ""; }

static const char *status_color(int status) {
  return status == 0 || status >= 500 ? "\033[31m" : status >= 400 ? "\033[33m" : "\033[32m";
}

/* A JSON text shown compactly on one line when it parses, else as sent. */
static void print_json_text(const char *label, const char *text) {
  json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  char *compact = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  const char *show = compact ? compact : text ? text : "";
  size_t n = strlen(show);
  printf("    %-10s %.*s%s\n", label, (int)(n > 2000 ? 2000 : n), show, n > 2000 ? " ..." : "");
  free(compact);
  json_decref(j);
}

static void print_faults(const printer *p, const json_t *faults) {
  if (!json_array_size(faults)) return;
  printf("  %sfaults:", paint(p, "\033[35m"));
  size_t i;
  json_t *v;
  json_array_foreach(faults, i, v) printf(" %s", json_string_value(v));
  printf("%s", paint(p, "\033[0m"));
}

static void print_jws(const json_t *jws) {
  if (!json_is_object(jws)) return;
  char *prot = json_dumps(json_object_get(jws, "protected"), JSON_COMPACT | JSON_ENCODE_ANY);
  printf("    %-10s %s\n", "protected", prot ? prot : "null");
  free(prot);
  const char *payload = json_string_value(json_object_get(jws, "payload"));
  print_json_text("payload", payload && !*payload ? "(empty: POST-as-GET)" : payload);
  const char *err = json_string_value(json_object_get(jws, "error"));
  if (err) printf("    %-10s %s\n", "bad JWS", err);
}

static void print_problem(const json_t *ex) {
  const char *ct = json_string_value(json_object_get(json_object_get(ex, "resp_headers"), "content-type"));
  if (!ct || strncmp(ct, "application/problem+json", 24) != 0) return;
  json_t *p = json_loads(json_string_value(json_object_get(ex, "resp_body")), 0, NULL);
  printf("    %-10s %s: %s\n", "problem", json_string_value(json_object_get(p, "type")) ? json_string_value(json_object_get(p, "type")) : "?",
         json_string_value(json_object_get(p, "detail")) ? json_string_value(json_object_get(p, "detail")) : "");
  json_decref(p);
}

/* One verdict line under the exchange (acmeh_live_emit). */
static void print_verdict(void *ud, const char *id, int pass, const char *message) {
  printer *p = ud;
  size_t k = 0;
  while (k < MAX_LIVE_CHECKS && p->counts[k].id && strcmp(p->counts[k].id, id) != 0) k++;
  if (k < MAX_LIVE_CHECKS) {
    p->counts[k].id = id; /* the rule table's static string */
    pass ? p->counts[k].pass++ : p->counts[k].fail++;
  }
  /* One screen line's worth: a peer's 2 KB kid must not flood the terminal (the exchange printed above shows it whole). */
  size_t n = strlen(message);
  printf("  %s %s%s%s %.*s%s\n", id, paint(p, pass ? "\033[32m" : "\033[31m"), pass ? "pass" : "FAIL", paint(p, "\033[0m"),
         (int)(n > MAX_VERDICT_CHARS ? MAX_VERDICT_CHARS : n), message, n > MAX_VERDICT_CHARS ? " ..." : "");
}

/* At shutdown: per check, how many exchanges passed and failed it. */
static int by_id(const void *a, const void *b) { return strcmp(((const live_count *)a)->id, ((const live_count *)b)->id); }

static void print_verdict_summary(printer *p) {
  if (!p->njudges) return;
  size_t fails = 0, n = 0;
  while (n < MAX_LIVE_CHECKS && p->counts[n].id) n++;
  qsort(p->counts, n, sizeof *p->counts, by_id);
  for (size_t k = 0; k < MAX_LIVE_CHECKS && p->counts[k].id; k++) fails += p->counts[k].fail;
  printf("client checks over %zu exchange(s): %zu failure(s)\n", p->exchanges, fails);
  for (size_t k = 0; k < MAX_LIVE_CHECKS && p->counts[k].id; k++)
    printf("  %s %s%s%s %zu pass, %zu fail\n", p->counts[k].id, paint(p, p->counts[k].fail ? "\033[31m" : "\033[32m"),
           p->counts[k].fail ? "FAIL" : "pass", paint(p, "\033[0m"), p->counts[k].pass, p->counts[k].fail);
  fflush(stdout);
}

static void print_exchange(void *ud, const json_t *ex) {
  printer *p = ud;
  int status = (int)json_integer_value(json_object_get(ex, "status"));
  const char *method = json_string_value(json_object_get(ex, "method"));
  char st[32];
  snprintf(st, sizeof st, status ? "%d" : "dropped", status);
  printf("%s#%lld%s +%lld ms %s %s (%s) -> %s%s%s", paint(p, "\033[1m"), (long long)json_integer_value(json_object_get(ex, "seq")),
         paint(p, "\033[0m"), (long long)json_integer_value(json_object_get(ex, "time_ms")),
         method && *method ? method : "(unparsed request)", json_string_value(json_object_get(ex, "url")),
         json_string_value(json_object_get(ex, "resource")), paint(p, status_color(status)), st, paint(p, "\033[0m"));
  print_faults(p, json_object_get(ex, "faults"));
  printf("\n");
  print_jws(json_object_get(ex, "jws"));
  const char *acct = json_string_value(json_object_get(ex, "account"));
  if (acct) printf("    %-10s %s\n", "account", acct);
  print_problem(ex);
  p->exchanges++;
  for (size_t k = 0; k < p->njudges; k++) p->judges[k]->exchange(p->states[k], ex, print_verdict, p);
  fflush(stdout);
}

/* A state for every suite's live judge. Returns 0, or -1 out of memory. */
static int judges_start(printer *p) {
  for (const acmeh_suite *const *s = acmeh_suites(); *s && p->njudges < MAX_LIVE_JUDGES; s++) {
    if (!(*s)->live) continue;
    void *st = (*s)->live->create();
    if (!st) return -1;
    p->judges[p->njudges] = (*s)->live, p->states[p->njudges++] = st;
  }
  return 0;
}

static void judges_stop(printer *p) {
  for (size_t k = 0; k < p->njudges; k++) p->judges[k]->destroy(p->states[k]);
  p->njudges = 0;
}

/* Blocks the stop signals in every thread (threads inherit the mask), so the
 * main thread alone receives them with sigwait. */
static void block_stop_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT), sigaddset(set, SIGTERM), sigaddset(set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, set, NULL);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* a harness that dies must not leave its server running */
}

static int start_all(serve_args *a, const char *run_dir, printer *pr, acmeh_mocks **mocks, acmeh_server **srv) {
  char err[1024];
  if (!a->no_mocks) {
    acmeh_mocks_config mc = {.dns_port = a->dns_port, .http01_port = a->http01_port,
                             .tlsalpn01_port = a->tlsalpn01_port, .mgmt_port = 0};
    if (acmeh_mocks_start(&mc, mocks, err, sizeof err))
      return fprintf(stderr, "acme-harness serve: mocks: %s\n", err), 2;
    a->dns_port = acmeh_mocks_dns_port(*mocks);
    a->http01_port = acmeh_mocks_http01_port(*mocks);
    a->tlsalpn01_port = acmeh_mocks_tlsalpn01_port(*mocks);
  }
  acmeh_server_config sc = {.port = a->port, .tls_cert_file = a->tls_cert, .tls_key_file = a->tls_key,
                            .tls_ca_file = a->tls_ca, .dns_addr = "127.0.0.1", .dns_port = a->dns_port,
                            .http01_port = a->http01_port, .tlsalpn01_port = a->tlsalpn01_port, .run_dir = run_dir,
                            .log_requests = a->verbose, .faults = a->faults, .dns_account = a->dns_account, .onion = a->onion, .onion_caa_flag = a->onion_caa_flag,
                            .socks5_port = a->socks5_port, .mock_tor = a->mock_tor,
                            .eab_keys = a->eab, .neab = a->neab_kid, .eab_required = a->eab_required,
                            .dns_account_scheme = a->wire.dnsacct_scheme,
                            .observer = a->quiet ? NULL : print_exchange, .observer_ud = pr};
  if (acmeh_server_start(&sc, srv, err, sizeof err)) return fprintf(stderr, "acme-harness serve: %s\n", err), 2;
  return 0;
}

static void announce(const serve_args *a, acmeh_mocks *mocks, acmeh_server *srv, const char *run_dir) {
  printf("directory: %s\n", acmeh_server_directory_url(srv));
  printf("trust (TLS CA file): %s\n", acmeh_server_ca_file(srv) ? acmeh_server_ca_file(srv) : "(as given)");
  printf("issuing roots: %s\n", acmeh_server_roots_file(srv));
  printf("run folder: %s\n", run_dir);
  printf("%s DNS on 127.0.0.1:%d (udp+tcp), http-01 on :%d, tls-alpn-01 on :%d", mocks ? "mock" : "validating against",
         a->dns_port, a->http01_port, a->tlsalpn01_port);
  if (mocks) printf(", management API on :%d", acmeh_mocks_mgmt_port(mocks));
  printf("\n");
  if (a->faults) printf("faults: %zu rule(s) from %s\n", json_array_size(a->faults), a->faults_file);
  printf("serving until SIGINT or SIGTERM%s\n", a->quiet ? "" : "; each exchange follows");
  fflush(stdout);
}

int acmeh_cli_serve(int argc, char **argv) {
  serve_args a = {0};
  int parsed = parse(&a, argc, argv);
  if (parsed) return parsed == 1 ? 0 : 2;
  char run_dir[4096];
  snprintf(run_dir, sizeof run_dir, "%s", a.run_dir ? a.run_dir : "/tmp/acme-harness-serve-XXXXXX");
  if (a.run_dir ? mkdir(run_dir, 0755) && access(run_dir, W_OK) : !mkdtemp(run_dir)) {
    json_decref(a.faults);
    return fprintf(stderr, "acme-harness serve: cannot create run folder %s\n", run_dir), 2;
  }
  char abs_run_dir[PATH_MAX]; /* the CA file and logs it names are then usable from any folder */
  if (realpath(run_dir, abs_run_dir)) snprintf(run_dir, sizeof run_dir, "%s", abs_run_dir);
  sigset_t set;
  block_stop_signals(&set);
  acmeh_mocks *mocks = NULL;
  acmeh_server *srv = NULL;
  const char *nc = getenv("NO_COLOR");
  printer pr = {.color = isatty(STDOUT_FILENO) && !(nc && *nc)};
  if (!a.quiet && !a.no_verdicts && judges_start(&pr)) return fputs("acme-harness serve: out of memory\n", stderr), 2;
  int status = start_all(&a, run_dir, &pr, &mocks, &srv);
  if (status == 0) {
    announce(&a, mocks, srv, run_dir);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "acme-harness serve: %s, shutting down\n", strsignal(sig));
  }
  acmeh_server_stop(srv); /* no observer call after this */
  if (status == 0) print_verdict_summary(&pr);
  judges_stop(&pr);
  acmeh_mocks_stop(mocks);
  json_decref(a.faults);
  return status;
}
