/* acme-harness: the command line. Subcommands: list, run, serve, hook, load, matrix, vectors. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "base/error.h"
#include "harness/runner/suite.h"
#include "harness/targets/process.h"

static void usage(FILE *f) {
  fputs("usage: acme-harness <command> [options]    (acme-harness <command> --help: all its options;\n"
        "                                             acme-harness --version)\n"
        "  list    [--suite S[,S...]] [--check ID]... [--draft SUITE=REV] [--revisions]\n"
        "                                                print the check catalog (or each suite's revisions)\n"
        "  run     --server T | --server-url URL [--ca F] | --client T | --nameserver T\n"
        "          [--suite S[,S...]] [--check ID]... [--level MUST|SHOULD|MAY] [--strict] [--jobs N]\n"
        "          [--timeout S] [--junit F] [--json F] [--transcripts DIR] [--report-transcripts all|failed]\n"
        "          [--expect F | --no-expect] [--claims F] [--draft SUITE=REV]... [--seed N]\n"
        "          [--verbose] [--run-dir NEW-DIR] [--dns-port P] [--http01-port P] [--tlsalpn01-port P]\n"
        "          [--mgmt-port P] [--dns-update-server A:P --dns-update-zone Z --tsig-key N:ALG:B64]\n"
        "                                                run checks against a server, client or nameserver\n"
        "  serve   [--port P] [--faults F] [--quiet] [--no-verdicts] [--dns-account MODE]\n"
        "          [--eab-kid K --eab-key B64URL]... [--eab-required] [--no-mocks] [--dns-port P] ...\n"
        "                                                the reference ACME server, until Ctrl-C\n"
        "  hook    [--mgmt URL] http-01|dns-01|tls-alpn-01 add|del NAME-OR-TOKEN [VALUE]\n"
        "                                                publish a challenge response through the mocks\n"
        "  load    --server-url URL [--ca F] [--dns-port P] [--flows N] [--orders M] [--nonces K]\n"
        "                                                bounded load; JSON figures\n"
        "  matrix  [--clients A,B] [--servers reference,pebble] [--kinds K,...] [--out DIR] [--jobs N]\n"
        "                                                interop matrix: client targets x server targets\n"
        "  vectors [--spec S]                            print test vectors as JSON\n"
        "  token-authority [--port P] [--account ID:SECRET] [--run-dir D]\n"
        "                                                mock Authority Token service (tkauth-01), until Ctrl-C\n"
        "exit status (run): 0 all counted checks passed, 1 a counted check failed or errored or an xpass\n"
        "  occurred, 2 usage or environment error, 130 interrupted\n",
        f);
  char names[512];
  fprintf(f, "suites: %s\n", acmeh_suite_names(names, sizeof names));
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], ACMEH_CHILD_SHIM) == 0) return acmeh_proc_child_shim(argv + 2);
  if (argc == 2 && strcmp(argv[1], "--version") == 0) return printf("acme-harness %s\n", ACMEH_VERSION) < 0;
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  acmeh_proc_subreaper(); /* before any child: its detached descendants stay ours to end */
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;
  if (strcmp(argv[1], "list") == 0) rc = acmeh_cli_list(argc - 1, argv + 1);
  else if (strcmp(argv[1], "run") == 0) rc = acmeh_cli_run(argc - 1, argv + 1);
  else if (strcmp(argv[1], "serve") == 0) rc = acmeh_cli_serve(argc - 1, argv + 1);
  else if (strcmp(argv[1], "hook") == 0) rc = acmeh_cli_hook(argc - 1, argv + 1);
  else if (strcmp(argv[1], "load") == 0) rc = acmeh_cli_load(argc - 1, argv + 1);
  else if (strcmp(argv[1], "matrix") == 0) rc = acmeh_cli_matrix(argc - 1, argv + 1);
  else if (strcmp(argv[1], "vectors") == 0) rc = acmeh_cli_vectors(argc - 1, argv + 1);
  else if (strcmp(argv[1], "token-authority") == 0) rc = acmeh_cli_token_authority(argc - 1, argv + 1);
  else {
    fprintf(stderr, "acme-harness: unknown command '%s'\n", argv[1]);
    usage(stderr);
    rc = 2;
  }
  curl_global_cleanup();
  return rc;
}
