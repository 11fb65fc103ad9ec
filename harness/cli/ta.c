/* acme-harness token-authority: the mock token authority
 * (mocks/token-authority/ta.h) in the foreground until SIGINT or SIGTERM,
 * for an STI-CA under test to trust and a STIR client under test to get
 * Authority Tokens from. Prints its URL, the PEM files and the account. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "harness/cli/cli.h"
#include "mocks/token-authority/ta.h"

static void usage(FILE *f) {
  fputs("usage: acme-harness token-authority [--port P] [--mgmt-port P] [--run-dir D]\n"
        "                                    [--account ID:SECRET]... [--fault NAME]\n"
        "  an HTTPS Authority Token service (RFC 9447 §5, RFC 9448 §5.5) on 127.0.0.1:\n"
        "  POST /at/account/ID/token with \"Authorization: Bearer SECRET\"; its token signing root\n"
        "  is RUN-DIR/ta-trust.pem (give it to the CA under test), its TLS CA RUN-DIR/ca.pem.\n"
        "  --account ID:SECRET  an account entitled to any well-formed value (default stir:stir-secret)\n"
        "  --fault NAME  start with that fault (GET /faults on the management port lists them)\n",
        f);
}

int acmeh_cli_ta_start(const char *run_dir, int port, int mgmt_port, acmeh_ta **ta) {
  char err[512];
  acmeh_ta_config cfg = {.run_dir = run_dir, .port = port, .mgmt_port = mgmt_port};
  if (acmeh_ta_start(&cfg, ta, err, sizeof err) != ACMEH_OK)
    return fprintf(stderr, "acme-harness: token authority: %s\n", err), 2;
  return 0;
}

void acmeh_cli_ta_announce(acmeh_ta *ta, const char *account, const char *secret) {
  printf("token authority: %s (POST /at/account/%s/token, Authorization: Bearer %s)\n", acmeh_ta_url(ta), account,
         secret);
  printf("token trust anchor: %s\n", acmeh_ta_trust_file(ta));
  printf("token authority TLS CA: %s\n", acmeh_ta_tls_ca_file(ta));
  if (acmeh_ta_mgmt_port(ta) > 0)
    printf("token authority management API: http://127.0.0.1:%d (/set-fault, /issued, /faults, /add-account)\n",
           acmeh_ta_mgmt_port(ta));
}

int acmeh_cli_token_authority(int argc, char **argv) {
  static const struct option opts[] = {{"port", required_argument, 0, 'p'},  {"mgmt-port", required_argument, 0, 'm'},
                                       {"run-dir", required_argument, 0, 'R'}, {"account", required_argument, 0, 'a'},
                                       {"fault", required_argument, 0, 'f'},   {"help", no_argument, 0, 'h'},
                                       {0}};
  int port = 0, mgmt = 0;
  const char *dir = NULL, *fault = NULL;
  char *accounts[8];
  int nacc = 0;
  for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    if (ch == 'p') port = atoi(optarg);
    else if (ch == 'm') mgmt = atoi(optarg);
    else if (ch == 'R') dir = optarg;
    else if (ch == 'a' && nacc < 8 && strchr(optarg, ':')) accounts[nacc++] = optarg;
    else if (ch == 'f') fault = optarg;
    else if (ch == 'h') return usage(stdout), 0;
    else return usage(stderr), 2;
  }
  char run_dir[PATH_MAX];
  snprintf(run_dir, sizeof run_dir, "%s", dir ? dir : "/tmp/acme-harness-ta-XXXXXX");
  if (dir ? mkdir(run_dir, 0755) && access(run_dir, W_OK) : !mkdtemp(run_dir))
    return fprintf(stderr, "acme-harness token-authority: cannot create %s\n", run_dir), 2;
  char abs[PATH_MAX];
  if (realpath(run_dir, abs)) snprintf(run_dir, sizeof run_dir, "%s", abs);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT), sigaddset(&set, SIGTERM), sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  acmeh_ta *ta = NULL;
  if (acmeh_cli_ta_start(run_dir, port, mgmt, &ta)) return 2;
  if (fault && acmeh_ta_set_fault(ta, fault) != ACMEH_OK) {
    acmeh_ta_stop(ta);
    return fprintf(stderr, "acme-harness token-authority: unknown fault %s\n", fault), 2;
  }
  if (!nacc) accounts[nacc++] = "stir:stir-secret";
  for (int i = 0; i < nacc; i++) {
    char id[130];
    snprintf(id, sizeof id, "%.*s", (int)(strchr(accounts[i], ':') - accounts[i]), accounts[i]);
    acmeh_ta_add_account(ta, id, strchr(accounts[i], ':') + 1, NULL, 1);
    acmeh_cli_ta_announce(ta, id, strchr(accounts[i], ':') + 1);
  }
  printf("run folder: %s\nserving until SIGINT or SIGTERM\n", run_dir);
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  acmeh_ta_stop(ta);
  return 0;
}
