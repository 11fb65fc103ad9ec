/* The HTTP-01 responder (RFC 8555 §8.3): GET of
 * /.well-known/acme-challenge/<token> returns the stored content as
 * application/octet-stream for any Host; everything else is 404. Every
 * request is recorded in the "http" history under its Host (port removed). */
#ifndef ACMEH_MOCKS_HTTP01_H
#define ACMEH_MOCKS_HTTP01_H

#include "mocks/common/history.h"
#include "base/httpsrv.h"
#include "mocks/common/records.h"

typedef struct {
  acmeh_records *rec;
  acmeh_history *hist;
} acmeh_http01_ctx;

/* The acmeh_httpsrv handler; ud is an acmeh_http01_ctx that outlives the server. */
void acmeh_http01_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud);

#endif
