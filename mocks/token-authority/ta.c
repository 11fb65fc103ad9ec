/* The mock Token Authority (ta.h): lifecycle, per-run PKI and state. The
 * HTTP handlers are in ta_http.c. The loop thread and callers share the
 * state under one mutex. */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/acme/cert.h"
#include "harness/targets/pki.h"
#include "mocks/token-authority/ta_int.h"

static const char *const faults[] = {
    "expired", "exp in the past (RFC 9448 §6 step 7)",
    "no-exp", "no exp claim (RFC 9447 §4)",
    "no-jti", "no jti claim (RFC 9447 §4)",
    "wrong-fingerprint", "fingerprint of another key (RFC 9448 §6 step 8)",
    "wrong-tkvalue", "tkvalue of another identifier (§6 step 6)",
    "widened-tkvalue", "TNAuthList with one SPC more than asked (§6 step 6)",
    "bad-signature", "signature with one bit flipped (§6 step 4)",
    "unknown-x5u", "signed by a stray authority whose certificate x5u serves (§6 step 2)",
    "unreachable-x5u", "x5u names a closed loopback port (§6 step 2)",
    "http-x5u", "x5u is an http:// URL (§6 step 2)",
    "reused-jti", "jti of the previous token (RFC 9447 §4)",
    "wrong-ca", "ca flag inverted (§6 step 9)",
    "other-type", "tktype of the other identifier type (§6 step 5)",
    "x5c", "not a fault: x5c header (the chain) instead of x5u",
    "stall", "the token request is answered after 120 s",
    "slow", "the token request is answered after 3 s",
    NULL};

const char *const *acmeh_ta_faults(void) { return faults; }

static int is_loopback(const char *addr) {
  unsigned char a[16];
  if (inet_pton(AF_INET, addr, a) == 1) return a[0] == 127;
  return inet_pton(AF_INET6, addr, a) == 1 && memcmp(a, in6addr_loopback.s6_addr, 16) == 0;
}

/* ---- per-run PKI -------------------------------------------------------- */

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca) {
  double now = acmeh_now_wall();
  X509 *c = acmeh_x509_new(cn, now - 3600, now + 2 * 86400.0);
  if (!c || !X509_set_pubkey(c, key)) goto fail;
  X509 *iss = issuer ? issuer : c;
  X509_set_issuer_name(c, X509_get_subject_name(iss));
  if (!acmeh_x509_add_ext(c, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
      !acmeh_x509_add_ext(c, iss, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") ||
      !acmeh_x509_add_ext(c, iss, NID_subject_key_identifier, "hash") ||
      (issuer && !acmeh_x509_add_ext(c, iss, NID_authority_key_identifier, "keyid:always")) ||
      !X509_sign(c, issuer ? ikey : key, EVP_sha256()))
    goto fail;
  return c;
fail:
  X509_free(c);
  return NULL;
}

/* A root and a signer it certifies; *chain = [signer, root]. */
static int make_authority(const char *cn, acmeh_key **signer, STACK_OF(X509) **chain) {
  EVP_PKEY *rk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *sk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char name[128];
  snprintf(name, sizeof name, "%s root", cn);
  X509 *root = rk ? make_cert(rk, name, NULL, NULL, 1) : NULL;
  snprintf(name, sizeof name, "%s signer", cn);
  X509 *leaf = root && sk ? make_cert(sk, name, root, rk, 0) : NULL;
  *chain = sk_X509_new_null();
  int ok = leaf && *chain && sk_X509_push(*chain, leaf) && (leaf = NULL, sk_X509_push(*chain, root)) &&
           (root = NULL, acmeh_key_from_pkey(sk, signer) == ACMEH_OK);
  X509_free(leaf), X509_free(root), EVP_PKEY_free(rk), EVP_PKEY_free(sk);
  return ok ? ACMEH_OK : ACMEH_INTERNAL;
}

static char *pem_of(X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  char *d, *out = NULL;
  long n = b && PEM_write_bio_X509(b, x) ? BIO_get_mem_data(b, &d) : 0;
  if (n > 0) out = strndup(d, (size_t)n);
  BIO_free(b);
  return out;
}

static int write_pem(const char *path, X509 *x) {
  FILE *f = fopen(path, "w");
  int ok = f && PEM_write_X509(f, x);
  if (f && fclose(f) != 0) ok = 0;
  return ok ? ACMEH_OK : ACMEH_ENV_IO;
}

static int make_pki(acmeh_ta *ta, const char *dir, char *err, size_t errlen) {
  int rc = acmeh_pki_make_server_cert(dir, err, errlen);
  if (rc != ACMEH_OK) return rc;
  if (make_authority("acme-harness mock token authority", &ta->signer, &ta->chain) != ACMEH_OK ||
      make_authority("acme-harness stray token authority", &ta->stray, &ta->stray_chain) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "token authority: cannot make the signing chain");
  ta->cert_pem = pem_of(sk_X509_value(ta->chain, 0));
  ta->stray_pem = pem_of(sk_X509_value(ta->stray_chain, 0));
  if (asprintf(&ta->trust_file, "%s/ta-trust.pem", dir) < 0 || asprintf(&ta->tls_ca_file, "%s/ca.pem", dir) < 0)
    return ACMEH_NOMEM;
  rc = write_pem(ta->trust_file, sk_X509_value(ta->chain, 1));
  if (rc != ACMEH_OK) return acmeh_msg(err, errlen, rc, "token authority: cannot write %s", ta->trust_file);
  ta->tls = SSL_CTX_new(TLS_server_method());
  char cert[4096], key[4096];
  snprintf(cert, sizeof cert, "%s/server-cert.pem", dir);
  snprintf(key, sizeof key, "%s/server-key.pem", dir);
  if (!ta->tls || SSL_CTX_use_certificate_chain_file(ta->tls, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ta->tls, key, SSL_FILETYPE_PEM) != 1)
    return acmeh_msg(err, errlen, ACMEH_ENV_IO, "token authority: cannot use TLS certificate %s", cert);
  return ta->cert_pem && ta->stray_pem ? ACMEH_OK : ACMEH_NOMEM;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void on_stop(uv_async_t *a) {
  acmeh_ta *ta = a->data;
  acmeh_httpsrv_close(ta->https);
  acmeh_httpsrv_close(ta->mgmt);
  uv_close((uv_handle_t *)&ta->stop, NULL);
}

static void *loop_main(void *arg) {
  acmeh_ta *ta = arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  uv_run(&ta->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void free_all(acmeh_ta *ta) {
  uv_loop_close(&ta->loop);
  acmeh_httpsrv_free(ta->https);
  acmeh_httpsrv_free(ta->mgmt);
  SSL_CTX_free(ta->tls);
  acmeh_key_free(ta->signer), acmeh_key_free(ta->stray);
  sk_X509_pop_free(ta->chain, X509_free), sk_X509_pop_free(ta->stray_chain, X509_free);
  free(ta->cert_pem), free(ta->stray_pem), free(ta->trust_file), free(ta->tls_ca_file), free(ta->url);
  json_decref(ta->accounts), json_decref(ta->issued);
  pthread_mutex_destroy(&ta->mu);
  free(ta);
}

static int start_servers(acmeh_ta *ta, const acmeh_ta_config *cfg, const char *addr, char *err, size_t errlen) {
  acmeh_httpsrv_opts o = {.max_body = TA_MAX_BODY, .tls = ta->tls, .idle_ms = 10000, .max_conns = 64};
  int rc = acmeh_httpsrv_start_opts(&ta->loop, addr, cfg->port, &o, acmeh_ta_handle, ta, &ta->https, err, errlen);
  if (rc != ACMEH_OK || cfg->mgmt_port == -1) return rc;
  return acmeh_httpsrv_start(&ta->loop, addr, cfg->mgmt_port, TA_MAX_BODY, acmeh_ta_mgmt_handle, ta, &ta->mgmt, err,
                             errlen);
}

int acmeh_ta_start(const acmeh_ta_config *cfg, acmeh_ta **out, char *err, size_t errlen) {
  const char *addr = cfg && cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
  if (!cfg || !cfg->run_dir || !is_loopback(addr))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "token authority: needs a run_dir and a loopback address");
  acmeh_ta *ta = calloc(1, sizeof *ta);
  if (!ta) return ACMEH_NOMEM;
  pthread_mutex_init(&ta->mu, NULL);
  ta->lifetime = cfg->lifetime_s > 0 ? cfg->lifetime_s : 600;
  ta->accounts = json_object(), ta->issued = json_array();
  uv_loop_init(&ta->loop);
  uv_async_init(&ta->loop, &ta->stop, on_stop);
  ta->stop.data = ta;
  int rc = make_pki(ta, cfg->run_dir, err, errlen);
  if (rc == ACMEH_OK) rc = start_servers(ta, cfg, addr, err, errlen);
  ta->mgmt_port = ta->mgmt ? acmeh_httpsrv_port(ta->mgmt) : -1;
  if (rc == ACMEH_OK && asprintf(&ta->url, strchr(addr, ':') ? "https://[%s]:%d" : "https://%s:%d", addr,
                                 acmeh_httpsrv_port(ta->https)) < 0)
    rc = ACMEH_NOMEM, ta->url = NULL;
  if (rc == ACMEH_OK && pthread_create(&ta->thread, NULL, loop_main, ta) != 0)
    rc = acmeh_msg(err, errlen, ACMEH_ENV_IO, "token authority: cannot start the loop thread");
  if (rc != ACMEH_OK) {
    on_stop(&ta->stop);
    uv_run(&ta->loop, UV_RUN_DEFAULT);
    free_all(ta);
    return rc;
  }
  *out = ta;
  return ACMEH_OK;
}

void acmeh_ta_stop(acmeh_ta *ta) {
  if (!ta) return;
  uv_async_send(&ta->stop);
  pthread_join(ta->thread, NULL);
  free_all(ta);
}

const char *acmeh_ta_url(const acmeh_ta *ta) { return ta->url; }
int acmeh_ta_mgmt_port(const acmeh_ta *ta) { return ta->mgmt_port; }
const char *acmeh_ta_trust_file(const acmeh_ta *ta) { return ta->trust_file; }
const char *acmeh_ta_tls_ca_file(const acmeh_ta *ta) { return ta->tls_ca_file; }

/* ---- state -------------------------------------------------------------- */

int acmeh_ta_add_account(acmeh_ta *ta, const char *id, const char *secret, const json_t *tkvalues, int any) {
  if (!ta || !id || !*id || strlen(id) > 128 || strchr(id, '/') || !secret || !*secret ||
      (!any && !json_is_array(tkvalues)))
    return ACMEH_INVALID_ARG;
  json_t *a = json_pack("{s:s,s:b,s:o}", "secret", secret, "any", any, "tkvalues",
                        tkvalues ? json_deep_copy(tkvalues) : json_array());
  pthread_mutex_lock(&ta->mu);
  int rc = a && json_object_set_new(ta->accounts, id, a) == 0 ? ACMEH_OK : ACMEH_NOMEM;
  pthread_mutex_unlock(&ta->mu);
  return rc;
}

int acmeh_ta_set_fault(acmeh_ta *ta, const char *fault) {
  int found = !fault || !*fault;
  for (int i = 0; !found && faults[i]; i += 2) found = strcmp(faults[i], fault) == 0;
  if (!ta || !found) return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&ta->mu);
  snprintf(ta->fault, sizeof ta->fault, "%s", fault ? fault : "");
  pthread_mutex_unlock(&ta->mu);
  return ACMEH_OK;
}

json_t *acmeh_ta_issued(acmeh_ta *ta) {
  pthread_mutex_lock(&ta->mu);
  json_t *a = json_deep_copy(ta->issued);
  pthread_mutex_unlock(&ta->mu);
  return a;
}

void acmeh_ta_clear_issued(acmeh_ta *ta) {
  pthread_mutex_lock(&ta->mu);
  json_array_clear(ta->issued);
  pthread_mutex_unlock(&ta->mu);
}
