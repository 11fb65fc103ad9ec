/* Issuance after finalize (on the thread pool; the finalize answer waits a
 * moment for it, wait.c, and says "processing" when it takes longer, RFC 8555
 * §7.4) and certificate download (§7.4.2):
 * application/pem-certificate-chain with Link rel="alternate" to the
 * cross-signed chain, or application/pkix-cert with Link rel="up". */
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/internal.h"

void srv_cert_free(srv_cert *c) {
  if (!c) return;
  free(c->der);
  srv_ari_rule_free(c->ari);
  free(c);
}

/* Certificates are filed under base64url of their 16-byte serial, which is
 * random (ca.c), so the id is also how revokeCert finds one. */
int srv_cert_id(X509 *cert, char id[SRV_ID_CHARS + 1]) {
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
  unsigned char raw[16];
  int ok = bn && BN_num_bytes(bn) <= 16 && BN_bn2binpad(bn, raw, sizeof raw) == 16;
  BN_free(bn);
  char *b = ok ? acmeh_b64url_encode(raw, sizeof raw) : NULL;
  if (b) snprintf(id, SRV_ID_CHARS + 1, "%s", b);
  free(b);
  return b ? ACMEH_OK : ACMEH_PEER_PROTOCOL;
}

typedef struct {
  char order[SRV_ID_CHARS + 1];
  const srv_ca *ca;
  X509_PUBKEY *spki;
  char **names;
  size_t n;
  double not_before, not_after;
  char *eku; /* the order's profile's, NULL = serverAuth */
  char id[SRV_ID_CHARS + 1]; /* results */
  unsigned char *der;
  size_t der_len;
  int rc;
} issue_job;

static void issue_free(issue_job *j) {
  X509_PUBKEY_free(j->spki);
  for (size_t i = 0; i < j->n; i++) free(j->names[i]);
  free(j->names);
  free(j->eku);
  free(j->der);
  free(j);
}

/* The certificate's DER in plain malloc'd memory (what srv_cert keeps). */
static unsigned char *der_of(X509 *x, size_t *len) {
  unsigned char *tmp = NULL, *copy = NULL;
  int n = i2d_X509(x, &tmp);
  if (n > 0 && (copy = malloc((size_t)n))) memcpy(copy, tmp, (size_t)n), *len = (size_t)n;
  OPENSSL_free(tmp);
  return copy;
}

static void issue_work(void *arg) {
  issue_job *j = arg;
  X509 *leaf = NULL;
  j->rc = srv_ca_issue(j->ca, j->spki, j->names, j->n, j->not_before, j->not_after, j->eku, &leaf);
  if (j->rc == ACMEH_OK) j->rc = srv_cert_id(leaf, j->id);
  if (j->rc == ACMEH_OK && !(j->der = der_of(leaf, &j->der_len))) j->rc = ACMEH_NOMEM;
  X509_free(leaf);
}

static srv_cert *store_cert(acmeh_server *s, issue_job *j, const srv_order *o) {
  srv_cert *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  memcpy(c->e.id, j->id, sizeof c->e.id);
  memcpy(c->account, o->account, sizeof c->account);
  c->der = j->der, c->der_len = j->der_len;
  j->der = NULL;
  if (srv_table_add(&s->certs, &c->e) != ACMEH_OK) {
    srv_cert_free(c);
    return NULL;
  }
  return c;
}

static void issue_done(acmeh_server *s, void *arg, int cancelled) {
  issue_job *j = arg;
  srv_order *o = srv_order_get(s, j->order);
  if (!cancelled && o && o->status == ORD_PROCESSING) {
    srv_cert *c = j->rc == ACMEH_OK ? store_cert(s, j, o) : NULL;
    if (c) {
      snprintf(o->cert, sizeof o->cert, "%s", c->e.id);
      o->status = ORD_VALID;
    } else {
      o->status = ORD_INVALID;
      json_decref(o->error);
      o->error = srv_problem_obj("serverInternal", "issuance failed");
    }
  } else if (o && o->status == ORD_PROCESSING) {
    o->status = ORD_INVALID; /* the server is stopping */
  }
  srv_wait_wake(s, SRV_WAIT_ORDER, j->order);
  issue_free(j);
}

int srv_issue_async(acmeh_server *s, srv_order *o, const X509_PUBKEY *spki) {
  issue_job *j = calloc(1, sizeof *j);
  if (!j) return ACMEH_NOMEM;
  memcpy(j->order, o->e.id, sizeof j->order);
  j->ca = s->ca;
  j->spki = X509_PUBKEY_new();
  if (!j->spki || !srv_spki_copy(j->spki, spki)) {
    issue_free(j);
    return ACMEH_NOMEM;
  }
  j->names = calloc(o->nnames + 1, sizeof *j->names);
  size_t want = 0; /* a key identifier (draft-geng-acme-public-key) names nothing in the certificate */
  for (size_t i = 0; j->names && i < o->nnames; i++)
    if (!srv_is_key_ident(o->names[i]) && ++want && (j->names[j->n] = strdup(o->names[i]))) j->n++;
  j->not_before = o->not_before, j->not_after = o->not_after;
  double validity;
  const char *eku;
  if (o->profile && srv_profile_params(s, o->profile, &validity, &eku)) {
    j->eku = strdup(eku); /* the profile decides the lifetime unless the order asked for notAfter */
    if (!j->not_after) j->not_before = o->not_before ? o->not_before : acmeh_now_wall() - 60,
                       j->not_after = j->not_before + validity;
  }
  srv_atc_cap_validity(s, o, &j->not_before, &j->not_after);
  int rc = j->names && j->n == want ? srv_job_queue(s, issue_work, issue_done, j) : ACMEH_NOMEM;
  if (rc) issue_free(j);
  return rc;
}

/* ---- download ------------------------------------------------------------------- */

static void send_bytes(srv_resp *rs, const char *ctype, const void *data, size_t len) {
  rs->status = 200;
  rs->ctype = ctype;
  rs->body = malloc(len ? len : 1);
  rs->body_len = rs->body ? len : 0;
  if (rs->body) memcpy(rs->body, data, len);
}

/* The leaf as PEM (from its DER, without parsing it) followed by the issuer. */
static void send_chain(srv_resp *rs, const srv_cert *c, const char *issuer_pem) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *leaf = NULL;
  long n = bio && PEM_write_bio(bio, "CERTIFICATE", "", c->der, (long)c->der_len) > 0 ? BIO_get_mem_data(bio, &leaf) : 0;
  size_t extra = strlen(issuer_pem);
  rs->body = n > 0 ? malloc((size_t)n + extra) : NULL;
  if (!rs->body) {
    BIO_free(bio);
    return srv_problem(rs, 500, "serverInternal", "cannot write the chain");
  }
  memcpy(rs->body, leaf, (size_t)n);
  memcpy(rs->body + n, issuer_pem, extra);
  rs->body_len = (size_t)n + extra;
  rs->status = 200;
  rs->ctype = "application/pem-certificate-chain";
  BIO_free(bio);
}

static int wants_der(const srv_req *rq) {
  const char *accept = acmeh_httpsrv_req_header(rq->http, "Accept");
  return accept && strstr(accept, "application/pkix-cert") && !strstr(accept, "application/pem-certificate-chain");
}

void srv_h_cert(srv_req *rq, srv_resp *rs, const char *id, const char *sub) {
  acmeh_server *s = rq->s;
  srv_cert *c = srv_cert_get(s, id);
  if (rq->is_post && !rq->post_as_get)
    return srv_problem(rs, 400, "malformed", "a certificate is fetched with POST-as-GET (payload \"\")");
  if (!c) return srv_problem(rs, 404, "malformed", "no such certificate");
  char *self = srv_url(s, "cert", c->e.id);
  if (!self) return srv_problem(rs, 500, "serverInternal", "out of memory");
  if (!sub && wants_der(rq)) { /* single-certificate form: the issuer via rel="up" (§7.4.2) */
    send_bytes(rs, "application/pkix-cert", c->der, c->der_len);
    srv_header(rs, "Link: <%s/issuer/1>;rel=\"up\"", s->base);
  } else {
    send_chain(rs, c, srv_ca_issuer_pem(s->ca, sub ? 2 : 1));
    srv_header(rs, sub ? "Link: <%s>;rel=\"alternate\"" : "Link: <%s/alt>;rel=\"alternate\"", self);
  }
  free(self);
}

void srv_h_issuer(srv_req *rq, srv_resp *rs, const char *which) {
  size_t len = 0;
  unsigned char *der = strlen(which) == 1 ? srv_ca_issuer_der(rq->s->ca, which[0] - '0', &len) : NULL;
  if (!der) return srv_problem(rs, 404, "malformed", "no such issuer");
  rs->status = 200;
  rs->ctype = "application/pkix-cert";
  rs->body = (char *)der;
  rs->body_len = len;
}
