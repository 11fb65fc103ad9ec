/* DTN-C-*: a client under test answering bp-nodeid-00 (RFC 9891 §3, §3.4,
 * §5). A client whose target does not list bp-nodeid-00 in its "challenges"
 * is skipped with that reason; none of the packaged clients implements it.
 * The client-role scenarios (the client's BP agent on the run's bundle node,
 * its Response Bundles read from the node's journal) are not written yet, so
 * a client that does claim bp-nodeid-00 gets a skip saying so, not a pass. */
#include <string.h>

#include "base/error.h"
#include "harness/kit/kit.h"
#include "suites/dtn/dtn.h"

static int claims_bpnodeid(const acmeh_check_ctx *ctx) {
  const json_t *v;
  size_t i;
  json_array_foreach(json_object_get(ctx->env->client, "challenges"), i, v)
    if (json_is_string(v) && strcmp(json_string_value(v), "bp-nodeid-00") == 0) return 1;
  return 0;
}

static int client_check(acmeh_check_ctx *ctx) {
  if (!claims_bpnodeid(ctx))
    return acmeh_check_skip(ctx, "%s (%s lists no bp-nodeid-00 in its challenges)", DTN_CLIENT_NOT_IMPLEMENTED, ctx->env->target_name ? ctx->env->target_name : "the target");
  return acmeh_check_skip(ctx, "the harness's client-role bp-nodeid-00 scenarios are not written yet; no verdict");
}

const acmeh_check_impl dtn_client_checks[] = {
    {"DTN-C-001", client_check}, {"DTN-C-002", client_check}, {"DTN-C-003", client_check}, {"DTN-C-004", client_check},
    {"DTN-C-005", client_check}, {"DTN-C-006", client_check}, {"DTN-C-007", client_check}, {"DTN-C-008", client_check},
    {"DTN-C-009", client_check}, {"DTN-C-010", client_check}, {"DTN-C-011", client_check}, {"DTN-C-012", client_check},
    {"DTN-C-013", client_check}, {0}};
