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
#include "harness/cli/serve_log.h"
#include "harness/runner/catalog.h"
#include "base/error.h"
#include "harness/runner/suite.h"
#include "harness/server/fault.h"
#include "harness/server/server.h"
#include "mocks/mocks.h"
#include "mocks/token-authority/ta.h"

typedef struct {
  int port, dns_port, http01_port, tlsalpn01_port, no_mocks, verbose, quiet, no_verdicts, only_failures;
  int bundle_node_port;                      /* RFC 9891: the bundle node the server's BP agent uses; 0 = the mocks' */
  const char *dtn_deviation, *dtn_node_id;   /* bp-nodeid-00 deviation for tests; the agent's Node ID */
  unsigned dtn_record_type, dtn_window_ms;
  const char *run_dir, *tls_cert, *tls_key, *tls_ca, *faults_file, *dns_account, *dns_persist;
  const char *device_attest, *attestation_roots, *onion, *onion_caa_flag;
  int socks5_port, mock_tor;
  json_t *faults; /* loaded and validated rules, NULL = none */
  acmeh_server_eab_key eab[8]; /* --eab-kid / --eab-key pairs, in order */
  size_t neab_kid, neab_key;
  int eab_required;
  char drafts_arg[1024]; /* every --draft, comma-joined ("" = each suite's newest revision) */
  acmeh_wire wire;       /* what the chosen revisions put on the wire */
  /* tkauth-01 (server.h): trust, x5u TLS trust, advertised authority, jti reuse, deviations;
   * mock_ta: start the mock token authority and trust it */
  const char *tk_trust, *tk_x5u_ca, *tk_authority, *tk_devs;
  int tk_jti_reuse, mock_ta;
  const char *pk;        /* --pk: pk-01 mode (server.h) */
} serve_args;

static void usage(FILE *f) {
  fputs("usage: acme-harness serve [--port P] [--dns-port P] [--http01-port P] [--tlsalpn01-port P]\n"
        "                          [--run-dir D] [--no-mocks] [--tls-cert F --tls-key F [--tls-ca F]]\n"
        "                          [--faults F] [--dns-account MODE] [--dns-persist MODE] [--onion MODE]\n"
        "                          [--onion-caa-flag NAME] [--quiet] [--no-verdicts] [--only-failures] [--verbose]\n"
        "                          [--eab-kid KID --eab-key B64URL]... [--eab-required] [--draft SUITE=REV]...\n"
        "                          [--pk MODE]\n"
        "                          [--bundle-node-port P] [--dtn-node-id EID] [--dtn-record-type N]\n"
        "                          [--dtn-window-ms MS] [--dtn-deviation NAME]\n"
        "  --no-mocks  start only the server; validate against the DNS, http-01 and tls-alpn-01\n"
        "              ports given (mocks of a running `acme-harness run`)\n"
        "  --faults F  inject the fault rules of JSON file F (format: README, \"Fault files\")\n"
        "  --dns-account MODE  dns-account-01: on (default), off, or a deviation for tests\n"
        "              (dns01-name, label-20-bytes, any-account-label, any-txt, wildcard-star,\n"
        "              bare-error, no-cname, short-token; harness/server/server.h)\n"
        "  --pk MODE   pk-01 and the pk / selfsign-cert / csr identifiers: on (default), off, or a\n"
        "              deviation for tests (csr-any-key, any-proof, other-key, no-challenge)\n"
        "  --dns-persist MODE  dns-persist-01: on (default), off, or a deviation for tests\n"
        "              (harness/server/persist.c)\n"
        "  --device-attest MODE  device-attest-01 and permanent-identifier / hardware-module:\n"
        "              on (default), off, or a deviation for tests (harness/server/server.h)\n"
        "  --attestation-roots F  PEM trust anchors for attestations (default: the mocks' test root,\n"
        "              vectors/deviceattest/attestation-root.pem)\n"
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
        "  --tkauth-trust F  tkauth-01: trust Authority Tokens chaining to the roots in PEM file F\n"
        "  --tkauth-x5u-ca F  TLS trust for fetching a token's x5u (default: the system's)\n"
        "  --token-authority URL  put \"token-authority\": URL in tkauth-01 challenges\n"
        "  --tkauth-jti-reuse  accept a token whose jti was seen before (RFC 9447 §3.3)\n"
        "  --tkauth-deviations LIST  deliberate tkauth-01 deviations for tests (server.h)\n"
        "  --mock-token-authority  also run the mock token authority (account stir:stir-secret) and trust it\n"
        "  --bundle-node-port P  bp-nodeid-00 (RFC 9891): the TCPCLv4 bundle node its BP agent uses\n"
        "              (default: the mocks' own; with --no-mocks, none and bp-nodeid-00 is not offered)\n"
        "  --dtn-node-id EID  the server's BP agent Node ID (default dtn://acme-server/)\n"
        "  --dtn-record-type N  administrative record type code (default 255, IANA; 65535 = draft placeholder)\n"
        "  --dtn-window-ms MS  response interval without \"rtt\" (default 5000)\n"
        "  --dtn-deviation NAME  break one bp-nodeid-00 rule on purpose (harness/server/dtn.c)\n"
        "  --no-verdicts  do not judge each exchange with the suites' per-exchange client checks (CORE-C-001..)\n"
        "  --only-failures  print only each client check's first failing verdict, with its level\n"
        "  --quiet     do not print each exchange on stdout (nor verdicts)\n"
        "  --verbose   log every request and its status on stderr\n"
        "each exchange, its verdicts, each validation and what the mocks saw (DNS questions and answers,\n"
        "http-01 and tls-alpn-01 fetches, hook calls) are printed as they happen;\n"
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
      {"no-verdicts", no_argument, 0, 'V'},         {"only-failures", no_argument, 0, 'O'},
      {"quiet", no_argument, 0, 'q'},                {"dns-account", required_argument, 0, 'A'},
      {"dns-persist", required_argument, 0, 1010},
      {"eab-kid", required_argument, 0, 'K'},        {"eab-key", required_argument, 0, 'M'},
      {"eab-required", no_argument, 0, 'E'},         {"draft", required_argument, 0, 'r'},
      {"tkauth-trust", required_argument, 0, 1001},  {"tkauth-x5u-ca", required_argument, 0, 1002},
      {"token-authority", required_argument, 0, 1003}, {"tkauth-jti-reuse", no_argument, 0, 1004},
      {"tkauth-deviations", required_argument, 0, 1005}, {"mock-token-authority", no_argument, 0, 1006},
      {"pk", required_argument, 0, 'P'},
      {"bundle-node-port", required_argument, 0, 1021}, {"dtn-deviation", required_argument, 0, 1022},
      {"dtn-node-id", required_argument, 0, 1023},   {"dtn-record-type", required_argument, 0, 1024},
      {"dtn-window-ms", required_argument, 0, 1025},
      {"device-attest", required_argument, 0, 'T'},  {"attestation-roots", required_argument, 0, 1031},
      {"onion", required_argument, 0, 1041},         {"onion-caa-flag", required_argument, 0, 1042},
      {"socks5-port", required_argument, 0, 1043},   {"mock-tor", no_argument, 0, 1044},
      {0}};
  for (int ch; (ch = getopt_long(argc, argv, "hvq", opts, NULL)) != -1;) {
    switch (ch) {
    case 'p': if (acmeh_arg_int("port", optarg, 0, 65535, &a->port)) return 2; break;
    case 'D': if (acmeh_arg_int("dns-port", optarg, 0, 65535, &a->dns_port)) return 2; break;
    case 'H': if (acmeh_arg_int("http01-port", optarg, 0, 65535, &a->http01_port)) return 2; break;
    case 'L': if (acmeh_arg_int("tlsalpn01-port", optarg, 0, 65535, &a->tlsalpn01_port)) return 2; break;
    case 'R': a->run_dir = optarg; break;
    case 'N': a->no_mocks = 1; break;
    case 'c': a->tls_cert = optarg; break;
    case 'k': a->tls_key = optarg; break;
    case 'a': a->tls_ca = optarg; break;
    case 'v': a->verbose = 1; break;
    case 'V': a->no_verdicts = 1; break;
    case 'O': a->only_failures = 1; break;
    case 'f': a->faults_file = optarg; break;
    case 'q': a->quiet = 1; break;
    case 'A': a->dns_account = optarg; break;
    case 'P': a->pk = optarg; break;
    case 1010: a->dns_persist = optarg; break;
    case 'T': a->device_attest = optarg; break;
    case 1031: a->attestation_roots = optarg; break;
    case 1041: a->onion = optarg; break;
    case 1042: a->onion_caa_flag = optarg; break;
    case 1043: if (acmeh_arg_int("socks5-port", optarg, 1, 65535, &a->socks5_port)) return 2; break;
    case 1044: a->mock_tor = 1; break;
    case 'K': if (a->neab_kid < 8) a->eab[a->neab_kid].kid = optarg; a->neab_kid++; break;
    case 'M': if (a->neab_key < 8) a->eab[a->neab_key].hmac_key_b64url = optarg; a->neab_key++; break;
    case 'E': a->eab_required = 1; break;
    case 1021: if (acmeh_arg_int("bundle-node-port", optarg, 1, 65535, &a->bundle_node_port)) return 2; break;
    case 1022: a->dtn_deviation = optarg; break;
    case 1023: a->dtn_node_id = optarg; break;
    case 1024: { /* 1..65535: a record type code (RFC 9171 §6.1) */
      int v;
      if (acmeh_arg_int("dtn-record-type", optarg, 1, 65535, &v)) return 2;
      a->dtn_record_type = (unsigned)v;
      break;
    }
    case 1025: { /* the response interval: 1 ms .. 10 min */
      int v;
      if (acmeh_arg_int("dtn-window-ms", optarg, 1, 600000, &v)) return 2;
      a->dtn_window_ms = (unsigned)v;
      break;
    }
    case 'r':
      if (*optarg && acmeh_arg_append("draft", optarg, a->drafts_arg, sizeof a->drafts_arg)) return 2;
      break;
    case 1001: a->tk_trust = optarg; break;
    case 1002: a->tk_x5u_ca = optarg; break;
    case 1003: a->tk_authority = optarg; break;
    case 1004: a->tk_jti_reuse = 1; break;
    case 1005: a->tk_devs = optarg; break;
    case 1006: a->mock_ta = 1; break;
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

/* Blocks the stop signals in every thread (threads inherit the mask), so the
 * main thread alone receives them with sigwait. */
static void block_stop_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT), sigaddset(set, SIGTERM), sigaddset(set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, set, NULL);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* a harness that dies must not leave its server running */
}

/* Waits for a stop signal; meanwhile prints what the mocks saw, four times
 * a second, so a DNS question shows about when it was asked. */
static int wait_for_stop(const sigset_t *set, serve_log *log, acmeh_mocks *mocks) {
  const struct timespec tick = {0, 250 * 1000000L};
  for (;;) {
    int sig = sigtimedwait(set, NULL, &tick);
    if (log) serve_log_mocks(log, mocks); /* also the last moments before the signal */
    if (sig > 0) return sig;
  }
}

/* --mock-token-authority: the mock in <run_dir>/ta, trusted by the server. */
static int start_ta(serve_args *a, const char *run_dir, acmeh_ta **ta) {
  static char dir[4200];
  snprintf(dir, sizeof dir, "%s/ta", run_dir);
  if (mkdir(dir, 0755) != 0) return fprintf(stderr, "acme-harness serve: cannot create %s\n", dir), 2;
  if (acmeh_cli_ta_start(dir, 0, 0, ta)) return 2;
  acmeh_ta_add_account(*ta, "stir", "stir-secret", NULL, 1);
  if (!a->tk_trust) a->tk_trust = acmeh_ta_trust_file(*ta);
  if (!a->tk_x5u_ca) a->tk_x5u_ca = acmeh_ta_tls_ca_file(*ta);
  return 0;
}

static int start_all(serve_args *a, const char *run_dir, serve_log *log, acmeh_mocks **mocks, acmeh_server **srv,
                     acmeh_ta **ta) {
  char err[1024];
  if (a->mock_ta && start_ta(a, run_dir, ta)) return 2;
  if (!a->no_mocks) {
    acmeh_mocks_config mc = {.dns_port = a->dns_port, .http01_port = a->http01_port,
                             .tlsalpn01_port = a->tlsalpn01_port, .mgmt_port = 0, .bundle_node_port = a->bundle_node_port};
    if (acmeh_mocks_start(&mc, mocks, err, sizeof err))
      return fprintf(stderr, "acme-harness serve: mocks: %s\n", err), 2;
    a->dns_port = acmeh_mocks_dns_port(*mocks);
    a->http01_port = acmeh_mocks_http01_port(*mocks);
    a->tlsalpn01_port = acmeh_mocks_tlsalpn01_port(*mocks);
    if (!a->bundle_node_port) a->bundle_node_port = acmeh_mocks_bundle_node_port(*mocks);
  }
  acmeh_server_config sc = {.port = a->port, .tls_cert_file = a->tls_cert, .tls_key_file = a->tls_key,
                            .tls_ca_file = a->tls_ca, .dns_addr = "127.0.0.1", .dns_port = a->dns_port,
                            .http01_port = a->http01_port, .tlsalpn01_port = a->tlsalpn01_port, .run_dir = run_dir,
                            .log_requests = a->verbose, .faults = a->faults, .dns_account = a->dns_account, .pk = a->pk,
                            .onion = a->onion, .onion_caa_flag = a->onion_caa_flag,
                            .socks5_port = a->socks5_port, .mock_tor = a->mock_tor,
                            .eab_keys = a->eab, .neab = a->neab_kid, .eab_required = a->eab_required,
                            .dns_account_scheme = a->wire.dnsacct_scheme, .tkauth_trust_file = a->tk_trust,
                            .tkauth_x5u_ca_file = a->tk_x5u_ca, .tkauth_authority = a->tk_authority,
                            .tkauth_allow_jti_reuse = a->tk_jti_reuse, .tkauth_deviations = a->tk_devs,
                            .dns_persist = a->dns_persist, .dns_persist_rev = a->wire.persist_rev,
                            .bundle_node_port = a->bundle_node_port, .dtn_node_id = a->dtn_node_id,
                            .dtn_record_type = a->dtn_record_type, .dtn_window_ms = a->dtn_window_ms,
                            .dtn_deviation = a->dtn_deviation,
                            .device_attest = a->device_attest, .attestation_roots = a->attestation_roots,
                            .device_attest_rev = a->wire.devattest_rev,
                            .observer = log ? serve_log_exchange : NULL, .observer_ud = log,
                            .validation_observer = log ? serve_log_validation : NULL, .validation_observer_ud = log};
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
  if (a->bundle_node_port > 0) /* RFC 9891: where a client's BP agent opens its TCPCLv4 session */
    printf("%s bundle node (TCPCLv4) on 127.0.0.1:%d; bp-nodeid-00 offered for bundleEID identifiers\n", mocks ? "mock" : "validating through the",
           a->bundle_node_port);
  if (a->faults) printf("faults: %zu rule(s) from %s\n", json_array_size(a->faults), a->faults_file);
  if (a->tk_trust) printf("tkauth-01: trusting Authority Tokens chaining to %s\n", a->tk_trust);
  if (acmeh_server_socks5_port(srv))
    printf("%s SOCKS5 (.onion validations) on 127.0.0.1:%d\n", a->mock_tor ? "mock Tor" : "Tor", acmeh_server_socks5_port(srv));
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
  acmeh_ta *ta = NULL;
  const char *nc = getenv("NO_COLOR");
  serve_log *log = a.quiet ? NULL : serve_log_new(isatty(STDOUT_FILENO) && !(nc && *nc), !a.no_verdicts, a.only_failures);
  if (!a.quiet && !log) return 2;
  int status = start_all(&a, run_dir, log, &mocks, &srv, &ta);
  if (status == 0) {
    if (ta) acmeh_cli_ta_announce(ta, "stir", "stir-secret");
    announce(&a, mocks, srv, run_dir);
    int sig = wait_for_stop(&set, log, mocks);
    fprintf(stderr, "acme-harness serve: %s, shutting down\n", strsignal(sig));
  }
  acmeh_server_stop(srv); /* no observer call after this */
  if (status == 0 && log) serve_log_summary(log);
  serve_log_free(log);
  acmeh_mocks_stop(mocks);
  acmeh_ta_stop(ta);
  json_decref(a.faults);
  return status;
}
