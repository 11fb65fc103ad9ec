/* What the reference client reads from an ACME server's answer. The input is
 * the response as it comes off the wire, e.g.
 *   "HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\n"
 *   "Link: <https://x/dir>;rel=\"index\"\r\nRetry-After: 3\r\n\r\n{\"type\": ...}"
 * turned into an acmeh_http_resp by the client's own header and body
 * callbacks (acmeh_http_resp_from_buffer), then read the ways flow.c, acme.c
 * and ari.c read one: the body as JSON, problem type and description, media
 * type, Location / Replay-Nonce / Link (RFC 8288) headers, Retry-After (RFC
 * 9110 §10.2.3) through both readers, and a RenewalInfo suggestedWindow
 * (RFC 9773 §4.2) clamped by the default policy; and the body checked against
 * every object schema (harness/acme/schema.h) through a schema log. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness/acme/ari.h"
#include "harness/acme/schema.h"
#include "harness/client/acme.h"
#include "harness/client/ari.h"
#include "harness/client/http.h"

static void read_links(const acmeh_http_resp *r) {
  static const char *const rels[] = {"index", "up", "alternate", "terms-of-service"};
  for (size_t i = 0; i < sizeof rels / sizeof *rels; i++)
    for (size_t nth = 0; nth < 3; nth++) free(acmeh_http_link(r, rels[i], nth));
}

static void read_renewal_info(const acmeh_http_resp *r) {
  json_t *body = acmeh_resp_json(r);
  acmeh_ari_window w;
  char err[200];
  (void)acmeh_ari_window_parse(body, &w, err, sizeof err);
  acmeh_ari_window_clear(&w);
  json_decref(body);
  const char *ra = acmeh_http_header_get(r, "Retry-After");
  double s = 0;
  acmeh_ari_policy p = {.min_retry = 60, .max_retry = 86400, .long_term = 21600, .temp_tries = 3, .temp_base = 60};
  if (ra && acmeh_retry_after_parse(ra, 1.7e9, &s) == 0) (void)acmeh_client_ari_clamp(&p, s);
}

static void read_schemas(const acmeh_http_resp *r) {
  static const char *const kinds[] = {"directory", "account", "order", "authorization", "challenge", "problem",
                                      "renewalInfo", "newAccount", "newOrder", "finalize", "challengeResponse",
                                      "revokeCert", "keyChange"};
  json_t *body = acmeh_resp_json(r);
  acmeh_schema_log *log = acmeh_schema_log_new();
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    (void)acmeh_schema_log_object(log, "fuzz", kinds[i], body, "the input");
    free(acmeh_schema_log_violations(log, kinds[i], NULL));
  }
  acmeh_schema_log_free(log);
  json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  acmeh_http_resp r;
  if (acmeh_http_resp_from_buffer((const char *)data, size, &r) == 0) {
    char out[300];
    double s;
    json_decref(acmeh_resp_json(&r));
    acmeh_resp_problem(&r, out, sizeof out);
    acmeh_resp_describe(&r, out, sizeof out);
    acmeh_http_media_type(&r, out, sizeof out);
    (void)acmeh_http_header_get(&r, "Location");
    (void)acmeh_http_header_count(&r, "Replay-Nonce");
    (void)acmeh_http_retry_after(&r, &s);
    read_links(&r);
    read_renewal_info(&r);
    read_schemas(&r);
  }
  acmeh_http_resp_free(&r);
  return 0;
}
