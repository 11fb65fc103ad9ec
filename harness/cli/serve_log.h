/* `acme-harness serve`'s live log, for someone debugging a client: every
 * exchange decoded, the verdicts of the suites' per-exchange client checks
 * (their live judges, harness/runner/suite.h), every validation the server
 * ran with its outcome, and what the mocks saw (DNS questions with what they
 * answered, http-01 and tls-alpn-01 fetches, management API calls such as
 * the hook CLI's). Internal to harness/cli/. */
#ifndef ACMEH_CLI_SERVE_LOG_H
#define ACMEH_CLI_SERVE_LOG_H

#include <jansson.h>
#include <stddef.h>

#include "mocks/mocks.h"

typedef struct serve_log serve_log;

/* A new log printing on stdout: `color` 1 for ANSI colours; `verdicts` 1 to
 * judge every exchange with every suite's live judge; `only_failures` 1 to
 * print nothing but each check's first failing verdict, once, with its
 * level. Levels come from the catalog (harness/runner/catalog.h). NULL when
 * out of memory or the catalog does not load (reason on stderr). Free with
 * serve_log_free. */
serve_log *serve_log_new(int color, int verdicts, int only_failures);
void serve_log_free(serve_log *l);

/* acmeh_server_observer and acmeh_server_validation_observer
 * (harness/server/server.h): called on the server's loop thread with `ud`
 * the serve_log. Each prints one block under the log's lock. */
void serve_log_exchange(void *ud, const json_t *exchange);
void serve_log_validation(void *ud, const json_t *validation);

/* Prints what the mocks saw since the last call (nothing under
 * only_failures). Called from the main thread between signal waits. */
void serve_log_mocks(serve_log *l, acmeh_mocks *m);

/* At shutdown: per check, its level and how many exchanges passed and
 * failed it; then the number of validations by outcome. */
void serve_log_summary(serve_log *l);

#endif
