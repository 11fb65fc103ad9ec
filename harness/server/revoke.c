/* Revocation (RFC 8555 §7.6): by the issuing account, by an account holding
 * valid authorizations for every name of the certificate, or signed by the
 * certificate's own key (jwk). Reasons are RFC 5280 §5.3.1 CRLReason codes. */
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/internal.h"

/* 7 is unassigned; nothing above aACompromise (10) exists. */
static int reason_allowed(json_int_t r) { return r >= 0 && r <= 10 && r != 7; }

static X509 *decode_cert(const char *b64) {
  unsigned char *der = NULL;
  size_t len = 0;
  if (!b64 || acmeh_b64url_decode(b64, strlen(b64), &der, &len) != ACMEH_OK) return NULL;
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (x && p != der + len) X509_free(x), x = NULL; /* trailing bytes: not one certificate */
  free(der);
  return x;
}

/* §7.6: an account with valid authorizations for every name may revoke too. */
static int holds_authorizations(acmeh_server *s, srv_account *acct, X509 *leaf) {
  char **names = NULL;
  size_t n = 0;
  if (acmeh_cert_sans(leaf, &names, &n) != ACMEH_OK || n == 0) return 0;
  int ok = 1;
  for (size_t i = 0; ok && i < n; i++) {
    srv_authz *a = srv_authz_get(s, json_string_value(json_object_get(acct->valid_authz, names[i])));
    if (a) srv_authz_refresh(s, a);
    ok = a && a->status == AZ_VALID && strcmp(a->account, acct->e.id) == 0;
  }
  acmeh_names_free(names, n);
  return ok;
}

/* x is the presented certificate, byte-identical to the one issued. */
static int authorized(srv_req *rq, const srv_cert *c, X509 *x) {
  if (rq->jwk) return EVP_PKEY_eq(X509_get0_pubkey(x), acmeh_key_pkey(rq->jwk)) == 1;
  return strcmp(rq->acct->e.id, c->account) == 0 || holds_authorizations(rq->s, rq->acct, x);
}

static int same_der(X509 *x, const srv_cert *c) {
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  int same = n > 0 && (size_t)n == c->der_len && memcmp(der, c->der, c->der_len) == 0;
  OPENSSL_free(der);
  return same;
}

void srv_h_revoke(srv_req *rq, srv_resp *rs) {
  if (rq->post_as_get) return srv_problem(rs, 400, "malformed", "revokeCert needs {\"certificate\": ...}");
  X509 *x = decode_cert(json_string_value(json_object_get(rq->payload, "certificate")));
  if (!x) return srv_problem(rs, 400, "malformed", "certificate must be base64url (unpadded) DER of one certificate");
  char id[SRV_ID_CHARS + 1] = "";
  srv_cert *c = srv_cert_id(x, id) == ACMEH_OK ? srv_cert_get(rq->s, id) : NULL;
  if (!c || !same_der(x, c)) {
    X509_free(x);
    return srv_problem(rs, 404, "malformed", "this server issued no such certificate");
  }
  int ok = authorized(rq, c, x);
  X509_free(x);
  if (!ok)
    return srv_problem(rs, 403, "unauthorized",
                       "only the issuing account, an account authorized for all its names, or the certificate key may revoke it");
  const json_t *reason = json_object_get(rq->payload, "reason");
  if (reason && (!json_is_integer(reason) || !reason_allowed(json_integer_value(reason))))
    return srv_problem(rs, 400, "badRevocationReason", "allowed reason codes are 0-6 and 8-10 (RFC 5280 §5.3.1)");
  if (c->revoked) return srv_problem(rs, 400, "alreadyRevoked", "the certificate is already revoked");
  c->revoked = 1;
  c->reason = reason ? (int)json_integer_value(reason) : -1;
  rs->status = 200;
}
