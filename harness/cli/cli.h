/* Subcommands of the acme-harness command. Each takes argc/argv starting at
 * the subcommand's name and returns the process exit status (docs/architecture.md:
 * 0 pass, 1 a counted check failed, 2 usage or environment error). */
#ifndef ACMEH_CLI_CLI_H
#define ACMEH_CLI_CLI_H

int acmeh_cli_list(int argc, char **argv);
int acmeh_cli_run(int argc, char **argv);
int acmeh_cli_vectors(int argc, char **argv);
int acmeh_cli_serve(int argc, char **argv);
/* acme-harness token-authority (ta.c): the mock token authority in the foreground. */
int acmeh_cli_token_authority(int argc, char **argv);
struct acmeh_ta;
/* Starts the mock token authority in run_dir (ports 0 = pick); 0, or 2 with the reason on stderr. */
int acmeh_cli_ta_start(const char *run_dir, int port, int mgmt_port, struct acmeh_ta **ta);
/* Prints the authority's URL, account, PEM files and management port. */
void acmeh_cli_ta_announce(struct acmeh_ta *ta, const char *account, const char *secret);
/* acme-harness hook TYPE add|del SUBJECT [VALUE] [--keyauth KA] [--mgmt URL]:
 * publishes or withdraws one challenge response (http-01, dns-01,
 * tls-alpn-01) through the mocks' management API for a real client's hook.
 * Needs curl_global_init. Returns 0 done, 1 the API refused or could not be
 * reached, 2 usage. */
int acmeh_cli_hook(int argc, char **argv);
/* acme-harness load: bounded load on a server under test (see load.c). */
int acmeh_cli_load(int argc, char **argv);
/* acme-harness matrix: every client target against every server target
 * (see matrix.c); writes matrix.md/.html/.json and transcripts. Returns 0
 * all passed or skipped, 1 a cell failed, 2 usage or a cell errored, 130 on Ctrl-C. */
int acmeh_cli_matrix(int argc, char **argv);

#endif
