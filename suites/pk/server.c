/* PK-S-010..013: a server under test offering pk-01 and the key
 * identifiers (draft-geng-acme-public-key -01, spec digest §1.0; the proof's
 * form is harness/acme/pk.h's). Each check makes its own account and a fresh
 * key, orders a certificate for the key and answers pk-01 itself. */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/cert.h"
#include "harness/acme/pk.h"
#include "harness/kit/kit.h"
#include "suites/pk/pk.h"

/* One check's state: the client, the key the identifier names, the order. */
typedef struct {
  acmeh_acme *c;
  acmeh_key *key;
  char *ident;     /* "<type>:<value>", as the reference client orders it */
  acmeh_issued is; /* order URL and object, then the chain */
  char *authz_url;
  json_t *authz;
} pk_fx;

static void fx_free(pk_fx *f) {
  acmeh_acme_free(f->c);
  acmeh_key_free(f->key);
  free(f->ident);
  acmeh_issued_clear(&f->is);
  free(f->authz_url);
  json_decref(f->authz);
}

/* Account, a fresh P-256 key and an order for it as identifier `type`, its
 * authorization fetched. Skips when the target does not claim pk-01. */
static int fx_order(acmeh_check_ctx *ctx, pk_fx *f, const char *type) {
  if (!pk_claimed(ctx)) return acmeh_check_skip(ctx, PK_SERVER_LACKS);
  int rc = acmeh_kit_account(ctx, &f->c);
  char *value = NULL;
  if (rc == ACMEH_OK && (acmeh_key_generate(ACMEH_KEY_ES256, &f->key) ||
                         acmeh_pk_ident_make(type, acmeh_key_pkey(f->key), "pk-01 device", &value) ||
                         asprintf(&f->ident, "%s:%s", type, value) < 0))
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "cannot make the %s identifier", type);
  free(value);
  if (rc) return rc;
  acmeh_acme_set_pop_key(f->c, f->key);
  const char *names[] = {f->ident};
  rc = acmeh_flow_new_order(f->c, names, 1, &f->is.order_url, &f->is.order, ctx->err, sizeof ctx->err);
  if (rc) return acmeh_check_fail(ctx, "newOrder with a key identifier accepted (the target claims pk-01)", "%s identifier: %s",
                                  type, ctx->err);
  const char *u = acmeh_kit_first_authz(f->is.order);
  if (!u) return acmeh_check_fail(ctx, "an order with one authorization for the key identifier", "no authorization URL");
  f->authz_url = strdup(u);
  return acmeh_acme_get_json(f->c, u, &f->authz, NULL, ctx->err, sizeof ctx->err);
}

/* The authorization lists pk-01 (digest PK-S10). */
static int expect_pk01(acmeh_check_ctx *ctx, pk_fx *f) {
  if (acmeh_flow_find_challenge(f->authz, "pk-01")) return ACMEH_OK;
  char *ch = json_dumps(json_object_get(f->authz, "challenges"), JSON_COMPACT);
  int rc = acmeh_check_fail(ctx, "an authorization for the key identifier whose challenges include pk-01",
                            "challenges %.300s", ch ? ch : "(none)");
  free(ch);
  return rc;
}

/* Answers pk-01 with the reference client's proof and leaves the order ready. */
static int fx_ready(acmeh_check_ctx *ctx, pk_fx *f) {
  int rc = expect_pk01(ctx, f);
  json_t *final = NULL, *o = NULL;
  if (rc == ACMEH_OK) rc = acmeh_flow_authorize(f->c, NULL, f->authz_url, "pk-01", &final, ctx->err, sizeof ctx->err);
  json_decref(final);
  static const char *const waiting[] = {"pending"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(f->c, f->is.order_url, waiting, 1, &o, ctx->err, sizeof ctx->err);
  if (o) json_decref(f->is.order), f->is.order = o;
  return acmeh_kit_attribute(ctx, rc);
}

/* The leaf of a downloaded chain carries exactly the identifier's key. */
static int expect_leaf_key(acmeh_check_ctx *ctx, pk_fx *f, const char *type) {
  STACK_OF(X509) *chain = NULL;
  char why[300] = "";
  if (acmeh_pem_chain_parse(f->is.chain_pem, strlen(f->is.chain_pem), &chain, why, sizeof why) != ACMEH_OK)
    return acmeh_check_fail(ctx, "a PEM certificate chain", "%s", why);
  EVP_PKEY *leaf = X509_get0_pubkey(sk_X509_value(chain, 0));
  char got[65] = "?", want[65] = "?";
  int same = acmeh_pk_same_key(leaf, acmeh_key_pkey(f->key));
  if (leaf) acmeh_pk_spki_sha256(leaf, got);
  acmeh_pk_spki_sha256(acmeh_key_pkey(f->key), want);
  sk_X509_pop_free(chain, X509_free);
  if (same) return ACMEH_OK;
  return acmeh_check_fail(ctx, "the certificate carries exactly the SubjectPublicKeyInfo of the key identifier",
                          "%s identifier's key SHA-256(SPKI) %s, certificate's %s", type, want, got);
}

/* PK-S-010 (digest PK-S10): each key identifier type gets pk-01, and a
 * CSR-less finalize certifies exactly the identifier's key. */
static int issues_for_key(acmeh_check_ctx *ctx) {
  static const char *const types[] = {"pk", "selfsign-cert", "csr"};
  int rc = ACMEH_OK;
  for (size_t i = 0; rc == ACMEH_OK && i < sizeof types / sizeof *types; i++) {
    pk_fx f = {0};
    rc = fx_order(ctx, &f, types[i]);
    if (rc == ACMEH_OK) rc = fx_ready(ctx, &f);
    if (rc == ACMEH_OK) rc = acmeh_kit_attribute(ctx, acmeh_flow_finalize(f.c, &f.is, NULL, ctx->err, sizeof ctx->err));
    if (rc == ACMEH_OK) rc = expect_leaf_key(ctx, &f, types[i]);
    fx_free(&f);
  }
  return rc;
}

/* PK-S-011 (digest PK-S11): the replacement attack. After pk-01 proved the
 * identifier's key, a finalize with a CSR for another key is refused and the
 * order does not become valid. */
static int refuses_other_csr_key(acmeh_check_ctx *ctx) {
  pk_fx f = {0};
  acmeh_key *other = NULL;
  char *csr = NULL;
  int rc = fx_order(ctx, &f, "pk");
  if (rc == ACMEH_OK) rc = fx_ready(ctx, &f);
  const char *names[] = {"replaced.example"};
  if (rc == ACMEH_OK && (acmeh_key_generate(ACMEH_KEY_ES256, &other) || acmeh_csr_build(acmeh_key_pkey(other), names, 1, &csr)))
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "cannot build the other key's CSR");
  const char *fin = json_string_value(json_object_get(f.is.order, "finalize"));
  char *payload = NULL;
  acmeh_http_resp r = {0};
  if (rc == ACMEH_OK && (!fin || asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0))
    rc = acmeh_check_fail(ctx, "a ready order with a finalize URL", "none");
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f.c, fin, payload, NULL, &r);
  if (rc == ACMEH_OK && r.status < 400) {
    char d[300];
    acmeh_resp_describe(&r, d, sizeof d);
    rc = acmeh_check_fail(ctx, "finalize with a CSR for another key than the pk-01-proven one refused "
                               "(the public-key replacement attack)", "finalize answered %s", d);
  }
  acmeh_http_resp_free(&r);
  free(payload), free(csr);
  acmeh_key_free(other);
  fx_free(&f);
  return rc;
}

/* Answers pk-01 with a proof signed by `signer` instead of the identifier's
 * key and expects the challenge to end invalid. */
static int refuses_proof_by(acmeh_check_ctx *ctx, int by_account) {
  pk_fx f = {0};
  acmeh_key *other = NULL;
  int rc = fx_order(ctx, &f, "pk");
  if (rc == ACMEH_OK) rc = expect_pk01(ctx, &f);
  if (rc == ACMEH_OK && !by_account && acmeh_key_generate(ACMEH_KEY_ES256, &other))
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "cannot make a key");
  const acmeh_key *signer = by_account ? acmeh_acme_key(f.c) : other;
  const char *who = by_account ? "the account key" : "another key than the identifier's";
  if (rc == ACMEH_OK) acmeh_acme_set_pop_key(f.c, signer);
  json_t *final = NULL;
  if (rc == ACMEH_OK) {
    rc = acmeh_flow_authorize(f.c, NULL, f.authz_url, "pk-01", &final, ctx->err, sizeof ctx->err);
    const char *st = json_string_value(json_object_get(acmeh_flow_find_challenge(final, "pk-01"), "status"));
    if (st && strcmp(st, "valid") == 0) {
      char exp[200];
      snprintf(exp, sizeof exp, "pk-01 \"invalid\" for a proof signed by %s", who);
      rc = acmeh_check_fail(ctx, exp, "challenge ended \"valid\"");
    } else if (rc != ACMEH_OK && ctx->failed_step && strcmp(ctx->failed_step, "pk-01 challenge") == 0)
      rc = ACMEH_OK; /* the refusal this check wants */
  }
  json_decref(final);
  acmeh_key_free(other);
  fx_free(&f);
  return rc;
}

/* PK-S-012 (digest PK-S12): a signature by another key does not prove possession. */
static int refuses_other_signer(acmeh_check_ctx *ctx) { return refuses_proof_by(ctx, 0); }
/* PK-S-013 (digest PK-S13, the pk-jwk-01 form): nor one by the account key. */
static int refuses_account_signer(acmeh_check_ctx *ctx) { return refuses_proof_by(ctx, 1); }

const acmeh_check_impl pk_server_checks[] = {
    {"PK-S-010", issues_for_key},
    {"PK-S-011", refuses_other_csr_key},
    {"PK-S-012", refuses_other_signer},
    {"PK-S-013", refuses_account_signer},
    {0},
};
