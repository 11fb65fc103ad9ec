/* Internals of the mock token authority shared by ta.c and ta_http.c. */
#ifndef ACMEH_MOCKS_TA_INT_H
#define ACMEH_MOCKS_TA_INT_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <uv.h>

#include "base/httpsrv.h"
#include "harness/acme/jwk.h"
#include "mocks/token-authority/ta.h"

#define TA_MAX_BODY (16 * 1024)
#define TA_MAX_ISSUED 1000

struct acmeh_ta {
  uv_loop_t loop;
  uv_async_t stop;
  pthread_t thread;
  SSL_CTX *tls;
  acmeh_httpsrv *https, *mgmt;
  int mgmt_port;
  char *url, *trust_file, *tls_ca_file;
  acmeh_key *signer, *stray;          /* the authority's signing key; a stray authority's */
  STACK_OF(X509) *chain, *stray_chain; /* [signer certificate, root] */
  char *cert_pem, *stray_pem;         /* served at /cert and /stray-cert */
  double lifetime;
  pthread_mutex_t mu; /* guards what follows */
  json_t *accounts;   /* id -> {"secret", "any", "tkvalues"} */
  json_t *issued;     /* acmeh_ta_issued's entries */
  char fault[32];
  char last_jti[64];
};

/* HTTPS token interface and /cert (ta_http.c). */
void acmeh_ta_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud);
/* Management API (ta_http.c). */
void acmeh_ta_mgmt_handle(const acmeh_httpsrv_req *req, acmeh_httpsrv_resp *resp, void *ud);

#endif
