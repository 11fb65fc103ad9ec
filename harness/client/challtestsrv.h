/* A publisher (publish.h) that drives a running pebble-challtestsrv through
 * its HTTP management API instead of the harness's own mocks: the mock
 * target `challtestsrv` (targets/challtestsrv.json, `run --mocks
 * challtestsrv`). The paths and JSON bodies are challtestsrv's
 * (cmd/pebble-challtestsrv in letsencrypt/pebble): POST /set-txt {"host",
 * "value"}, /clear-txt {"host"}, /add-http01 {"token", "content"},
 * /del-http01 {"token"}, /add-tlsalpn01 {"host", "content"} (challtestsrv
 * builds the RFC 8737 certificate from the keyAuthorization itself),
 * /del-tlsalpn01 {"host"}, /set-cname {"host", "target"}, /clear-cname
 * {"host"}, /http-request-history and /tlsalpn01-request-history {"host"}
 * (their events mapped to the mocks' history shape). The harness's own management API
 * (mocks/mgmt/mgmt.h) accepts the same requests. */
#ifndef ACMEH_CLIENT_CHALLTESTSRV_H
#define ACMEH_CLIENT_CHALLTESTSRV_H

#include <jansson.h>
#include <stddef.h>

#include "harness/client/publish.h"

/* Fills *p with a publisher posting to the management API at `mgmt_url`
 * ("http://127.0.0.1:8055", no final slash; copied). `m` (borrowed, may be
 * NULL) stays in p->mocks for callers that read the harness's own stores.
 * Free with acmeh_publisher_challtestsrv_free. Returns ACMEH_OK or ACMEH_NOMEM. */
int acmeh_publisher_challtestsrv(acmeh_publisher *p, acmeh_mocks *m, const char *mgmt_url);
void acmeh_publisher_challtestsrv_free(acmeh_publisher *p);

/* POSTs JSON `body` (borrowed) to <mgmt_url><path> with a 3 s cap. *status gets
 * the HTTP status (0 when none arrived); *reply (may be NULL) the parsed JSON
 * answer, a new reference or NULL when the body was not JSON. Returns ACMEH_OK
 * when an answer arrived (any status) or the acmeh_http_request error, with the
 * reason in err (errlen bytes). */
int acmeh_challtestsrv_post(const char *mgmt_url, const char *path, const json_t *body, long *status, json_t **reply,
                            char *err, size_t errlen);

/* Polls POST <mgmt_url>/clear-request-history until challtestsrv answers 200
 * or `timeout_ms` passes (its management listener starts on its own, after
 * the challenge servers). Returns ACMEH_OK or ACMEH_ENV_NOT_READY with the
 * last error in err. */
int acmeh_challtestsrv_wait(const char *mgmt_url, int timeout_ms, char *err, size_t errlen);

#endif
