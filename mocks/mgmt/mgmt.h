/* The management API: a loopback HTTP server speaking pebble-challtestsrv's
 * vocabulary, so existing client test scripts can drive the mocks unchanged.
 * Every endpoint is POST with a JSON object body (at most 64 KiB); field
 * names match case-insensitively as Go's encoding/json does. Replies: 200
 * (history endpoints: a JSON array), 400 for bad JSON or missing fields (the
 * DNS UPDATE endpoints /add-dns-zone, /add-tsig-key, /dns-update-journal and
 * /add-caa say why in {"error": reason}: bad name, wrong field type, 65th
 * zone, CAA "flags" outside 0..255; /add-caa adds no policy then), 404
 * for unknown paths, 405 for other methods. Endpoints:
 *   /set-default-ipv4 {"ip"}            /set-default-ipv6 {"ip"}   ("" clears)
 *   /set-txt, /add-txt {"host","value"} /clear-txt {"host"}
 *   /add-a {"host","addresses":[..]}     /clear-a {"host"}
 *   /add-aaaa {"host","addresses":[..]}  /clear-aaaa {"host"}
 *   /add-caa {"host","policies":[{"tag","value"[,"flags"]}]}  /clear-caa {"host"}
 *   /set-cname {"host","target"}         /clear-cname {"host"}
 *   /set-servfail {"host"}               /clear-servfail {"host"}
 *   /add-http01 {"token","content"}      /del-http01 {"token"}
 *   /add-tlsalpn01 {"host","content"}    /del-tlsalpn01, /clear-tlsalpn01 {"host"}
 *   /http-request-history, /dns-request-history, /tlsalpn01-request-history {"host"}
 *   /clear-request-history {"host","type": "http"|"dns"|"tlsalpn"} */
#ifndef ACMEH_MOCKS_MGMT_H
#define ACMEH_MOCKS_MGMT_H

#include "base/httpsrv.h"
#include "mocks/mocks.h"

#define ACMEH_MGMT_MAX_BODY (64 * 1024)

/* The acmeh_httpsrv handler; ud is the acmeh_mocks it manages. */
void acmeh_mgmt_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud);

#endif
