/* acme-harness: the command line. Subcommands: list, run, serve, vectors. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/core/error.h"
#include "harness/targets/process.h"

static void usage(FILE *f) {
  fputs("usage: acme-harness <command> [options]\n"
        "  list    [--suite S] [--check ID]...   print the check catalog\n"
        "  run     --server TARGET | --server-url URL [--ca FILE] | --client TARGET [--dns-port P]\n"
        "          [--http01-port P] [--tlsalpn01-port P] [--mgmt-port P]\n"
        "          [--suite S] [--check ID]... [--level MUST|SHOULD|MAY] [--jobs N]\n"
        "          [--timeout SECONDS] [--junit F] [--json F] [--transcripts DIR]\n"
        "          [--expect FILE] [--strict] [--seed N] [--verbose] [--run-dir NEW-DIR]\n"
        "  serve   [--port P] [--dns-port P] [--http01-port P] [--tlsalpn01-port P]\n"
        "          [--run-dir D] [--no-mocks] [--tls-cert F --tls-key F [--tls-ca F]]\n"
        "                                          run the reference ACME server until Ctrl-C\n"
        "  hook    [--mgmt URL] http-01|dns-01|tls-alpn-01 add|del NAME-OR-TOKEN [VALUE] [--keyauth KA]\n"
        "                                          publish a challenge response through the mocks\n"
        "  load    --server-url URL [--ca F] [--dns-port P] [--flows N] [--orders M] [--nonces K]\n"
        "                                          bounded load: N concurrent dns-01 issuance flows; JSON figures\n"
        "  matrix  [--clients A,B] [--servers reference,pebble] [--out DIR] [--timeout S] [--jobs N]\n"
        "                                          interop matrix: every client target against every server target\n"
        "  vectors [--spec S]                      print test vectors as JSON\n"
        "exit status: 0 all counted checks passed, 1 a counted check failed, 2 usage or environment error\n",
        f);
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], ACMEH_CHILD_SHIM) == 0) return acmeh_proc_child_shim(argv + 2);
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;
  if (strcmp(argv[1], "list") == 0) rc = acmeh_cli_list(argc - 1, argv + 1);
  else if (strcmp(argv[1], "run") == 0) rc = acmeh_cli_run(argc - 1, argv + 1);
  else if (strcmp(argv[1], "serve") == 0) rc = acmeh_cli_serve(argc - 1, argv + 1);
  else if (strcmp(argv[1], "hook") == 0) rc = acmeh_cli_hook(argc - 1, argv + 1);
  else if (strcmp(argv[1], "load") == 0) rc = acmeh_cli_load(argc - 1, argv + 1);
  else if (strcmp(argv[1], "matrix") == 0) rc = acmeh_cli_matrix(argc - 1, argv + 1);
  else if (strcmp(argv[1], "vectors") == 0) rc = acmeh_cli_vectors(argc - 1, argv + 1);
  else {
    fprintf(stderr, "acme-harness: unknown command '%s'\n", argv[1]);
    usage(stderr);
    rc = 2;
  }
  curl_global_cleanup();
  return rc;
}
