/* PK-C-010, PK-C-011: a client under test that orders a certificate for a
 * key identifier (draft-geng-acme-public-key -01) and answers pk-01 (proof
 * form: harness/acme/pk.h). Judged from the records of scenarios pk-issue
 * and pk-other-key (scenarios.json). */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/cert.h"
#include "harness/acme/pk.h"
#include "harness/kit/kit.h"
#include "suites/pk/pk.h"

/* The key of the first key identifier any newOrder of r carried (caller
 * frees), or NULL; its type into *type. */
static EVP_PKEY *ordered_key(const acmeh_client_run *r, const char **type, char *why, size_t whylen) {
  size_t i, k;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    json_t *p = acmeh_kit_order_payload(&e), *id;
    EVP_PKEY *key = NULL;
    json_array_foreach(json_object_get(p, "identifiers"), k, id) {
      const char *t = json_string_value(json_object_get(id, "type"));
      if (!key && acmeh_pk_is_key_type(t) &&
          acmeh_pk_ident_key(t, json_string_value(json_object_get(id, "value")), &key, why, whylen) == ACMEH_OK)
        *type = !strcmp(t, "pk") ? "pk" : !strcmp(t, "csr") ? "csr" : "selfsign-cert";
    }
    json_decref(p);
    if (key) return key;
  }
  return NULL;
}

/* PK-C-010 (digest PK-C10): every pk-01 response's proof verifies under the
 * ordered key (and so not under the account key). */
static int proves_with_ordered_key(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = acmeh_kit_record(ctx, "pk-issue", &r);
  if (rc) return rc;
  const char *type = NULL;
  char why[300] = "";
  EVP_PKEY *key = ordered_key(r, &type, why, sizeof why);
  if (!key) return acmeh_kit_unreached(ctx, r, "a newOrder carrying a pk, selfsign-cert or csr identifier",
                                       "no newOrder carried a readable key identifier");
  size_t i, seen = 0;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) {
    json_t *p = acmeh_kit_is(&e, "POST", "challenge") ? acmeh_kit_payload_json(&e) : NULL, *ch = acmeh_kit_resp_json(&e);
    const char *proof = json_string_value(json_object_get(p, "proof"));
    const char *token = json_string_value(json_object_get(ch, "token"));
    if (p && strcmp(json_string_value(json_object_get(ch, "type")) ? json_string_value(json_object_get(ch, "type")) : "", "pk-01") == 0) {
      seen++;
      if (rc == ACMEH_OK && acmeh_pk_proof_verify(key, proof, token, why, sizeof why) != ACMEH_OK)
        rc = acmeh_check_fail(ctx, "a pk-01 response {\"proof\": JWS over the token} signed with the key of the ordered identifier",
                              "request #%lld: %s", e.seq, why);
    }
    json_decref(p), json_decref(ch);
  }
  EVP_PKEY_free(key);
  if (rc == ACMEH_OK && !seen) return acmeh_kit_unreached(ctx, r, "a pk-01 challenge response", "the client never answered pk-01");
  return rc;
}

/* PK-C-011: the server certified another key; a client that exits 0 with
 * that certificate at its cert_path took it. */
static int refuses_other_key_cert(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r = NULL;
  int rc = acmeh_kit_record(ctx, "pk-other-key", &r);
  if (rc) return rc;
  const char *type = NULL;
  char why[300] = "", want[65] = "?", got[65] = "?";
  EVP_PKEY *key = ordered_key(r, &type, why, sizeof why);
  if (!key) return acmeh_kit_unreached(ctx, r, "a newOrder carrying a pk, selfsign-cert or csr identifier",
                                       "no newOrder carried a readable key identifier");
  size_t i, downloads = 0;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) downloads += acmeh_kit_is(&e, "POST", "certificate") && e.status == 200;
  if (!downloads) {
    EVP_PKEY_free(key);
    return acmeh_kit_unreached(ctx, r, "a client that downloads the certificate", "the client never downloaded a certificate");
  }
  STACK_OF(X509) *chain = NULL;
  int kept = r->exit_status == 0 && r->cert_pem &&
             acmeh_pem_chain_parse(r->cert_pem, strlen(r->cert_pem), &chain, why, sizeof why) == ACMEH_OK;
  EVP_PKEY *leaf = kept ? X509_get0_pubkey(sk_X509_value(chain, 0)) : NULL;
  if (kept && !acmeh_pk_same_key(leaf, key)) {
    acmeh_pk_spki_sha256(key, want);
    if (leaf) acmeh_pk_spki_sha256(leaf, got);
    rc = acmeh_check_fail(ctx, "the client refuses (non-zero exit, no certificate kept) a certificate for another key than its "
                               "key identifier's", "exit 0 with a certificate for SHA-256(SPKI) %s at cert_path; the %s "
                               "identifier's key is %s", got, type, want);
  }
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
  return rc;
}

const acmeh_check_impl pk_client_checks[] = {
    {"PK-C-010", proves_with_ordered_key},
    {"PK-C-011", refuses_other_key_cert},
    {0},
};
