/* Subcommands of the acme-harness command. Each takes argc/argv starting at
 * the subcommand's name and returns the process exit status (DESIGN.md:
 * 0 pass, 1 a counted check failed, 2 usage or environment error). */
#ifndef ACMEH_CLI_CLI_H
#define ACMEH_CLI_CLI_H

int acmeh_cli_list(int argc, char **argv);
int acmeh_cli_run(int argc, char **argv);
int acmeh_cli_vectors(int argc, char **argv);
int acmeh_cli_serve(int argc, char **argv);

#endif
