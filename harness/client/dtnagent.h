/* The reference client's BP agent for bp-nodeid-00 (RFC 9891 §3 steps 3-9,
 * §3.3.1, §3.4): a TCPCLv4 session to the bundle node under the Node ID being
 * validated, and a thread that answers each Challenge Bundle carrying the
 * challenge's id-chal with one Response Bundle, until stopped. */
#ifndef ACMEH_CLIENT_DTNAGENT_H
#define ACMEH_CLIENT_DTNAGENT_H

#include <stddef.h>

/* Starts an agent for node_id (the bundleEID identifier) on the bundle node at
 * 127.0.0.1:port, answering Challenge Bundles whose id-chal is id_chal (the
 * challenge's base64url text) with SHA-256(token-bundle || tail), tail being
 * token-chal "." thumbprint. record_type: the administrative record type
 * code (0 = 255). Returns once the session is up (so the client may POST its
 * response, §3 step 4): ACMEH_OK, or a PEER / ENV code with the reason in err. */
int acmeh_dtnagent_start(int port, const char *node_id, const char *id_chal, const char *tail, unsigned record_type, char *err, size_t errlen);

/* Stops the agent answering id_chal (§3 step 9: the challenge is over) and
 * ends its session. Unknown ids are ignored. */
void acmeh_dtnagent_stop(const char *id_chal);

#endif
