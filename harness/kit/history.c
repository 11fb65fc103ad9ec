/* acmeh_kit_history (fixture.h): the responders' request history, wherever
 * the run's publisher put the responses. */
#include "harness/client/publish.h"
#include "harness/kit/fixture.h"

json_t *acmeh_kit_history(acmeh_check_ctx *ctx, const char *kind, const char *host) {
  const acmeh_publisher *p = ctx->env->publisher;
  if (p && p->history) return p->history(p, kind, host);
  return acmeh_mocks_history(ctx->env->mocks, kind, host);
}
