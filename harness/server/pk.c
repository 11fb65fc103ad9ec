/* pk-01 and the key identifiers "pk", "selfsign-cert" and "csr"
 * (draft-geng-acme-public-key; the -01 design, spec digest pk-challenges.md
 * §1.0; the wire details the draft leaves open are harness/acme/pk.h's).
 * An order for a key identifier (its only identifier) gets one authorization
 * offering pk-01, valid once the response's proof verifies under the
 * identifier's key; finalize then certifies exactly that key, from no CSR or
 * from a CSR for the same key: a CSR for another key is the public-key
 * replacement the draft is written against, and is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/csr.h"
#include "harness/acme/pk.h"
#include "harness/server/internal.h"

int srv_pk_mode_parse(const char *name) {
  /* the order of srv_pk_mode */
  static const char *const names[] = {"off", "on", "csr-any-key", "any-proof", "other-key", "no-challenge"};
  if (!name) return PK_ON;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0) return (int)i;
  return -1;
}

const char *srv_key_ident_type(const char *name) {
  static const char *const types[] = {"pk", "selfsign-cert", "csr"};
  for (size_t i = 0; name && i < sizeof types / sizeof *types; i++) {
    size_t n = strlen(types[i]);
    if (strncmp(name, types[i], n) == 0 && name[n] == ':') return types[i];
  }
  return NULL;
}

int srv_is_key_ident(const char *name) { return srv_key_ident_type(name) != NULL; }

int srv_pk01_enabled(const acmeh_server *s) { return s->pk != PK_OFF && s->pk != PK_NO_CHALLENGE; }

char *srv_key_ident(acmeh_server *s, const char *type, const char *value, const char **ptype, char *why, size_t whylen) {
  *ptype = "unsupportedIdentifier";
  if (s->pk == PK_OFF) return snprintf(why, whylen, "identifier type \"%s\" is not supported", type), NULL;
  EVP_PKEY *key = NULL;
  *ptype = "malformed";
  if (acmeh_pk_ident_key(type, value, &key, why, whylen) != ACMEH_OK) return NULL;
  acmeh_key *k = NULL;
  char tp[44] = "";
  int usable = acmeh_key_from_pkey(key, &k) == ACMEH_OK; /* pk-01's proof is a JWS: the key needs a JWS algorithm */
  if (!usable) snprintf(why, whylen, "the %s key is none of P-256, P-384, RSA, Ed25519", type);
  else if (!srv_key_acceptable(k, NULL, why, whylen)) usable = 0; /* the sizes a CSR key may have */
  else if (acmeh_key_thumbprint(k, tp) == ACMEH_OK && srv_account_by_key(s, tp))
    usable = 0, snprintf(why, whylen, "the %s key is an account key (RFC 8555 §11.1)", type);
  EVP_PKEY_free(key);
  acmeh_key_free(k);
  if (!usable) return *ptype = "badPublicKey", NULL;
  char *name = NULL;
  if (asprintf(&name, "%s:%s", type, value) < 0) return *ptype = "serverInternal", snprintf(why, whylen, "out of memory"), NULL;
  return name;
}

void srv_pk01_chal_members(json_t *chal) {
  /* The proof goes to the challenge URL itself (pk.h), so that is where the
   * public-key authentication starts; the token signature is the
   * "simplified" form of the -01 slides. */
  json_object_set(chal, "pk_url", json_object_get(chal, "url"));
  json_object_set_new(chal, "standardization", json_string("simplified"));
}

int srv_pk01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  (void)a;
  const char *proof = json_string_value(json_object_get(rq->payload, "proof"));
  v->pk = s->pk;
  if (proof && !(v->proof = strdup(proof))) return ACMEH_NOMEM;
  return ACMEH_OK;
}

json_t *srv_validate_pk01(const srv_validation *v) {
  const char *type = srv_key_ident_type(v->name);
  char why[300] = "";
  EVP_PKEY *key = NULL;
  int rc = type ? acmeh_pk_ident_key(type, v->name + strlen(type) + 1, &key, why, sizeof why) : ACMEH_INVALID_ARG;
  if (rc == ACMEH_OK && !(v->pk == PK_ANY_PROOF && v->proof)) /* the deviation: any proof at all will do */
    rc = acmeh_pk_proof_verify(key, v->proof, v->token, why, sizeof why);
  EVP_PKEY_free(key);
  return rc == ACMEH_OK ? NULL : srv_problem_obj("unauthorized", why[0] ? why : "not a key identifier");
}

/* The CSR's key, when it is the identifier's `key` (or any key under the
 * csr-any-key deviation); 0 with the refusal in rs. */
static int csr_key(const acmeh_server *s, const char *csr, EVP_PKEY *key, X509_PUBKEY **spki, srv_resp *rs) {
  acmeh_csr *req = NULL;
  if (acmeh_csr_read(csr, &req) != ACMEH_OK)
    return srv_problem(rs, 400, "badCSR", "csr is not base64url (unpadded) DER of one PKCS#10 request"), 0;
  char why[256] = "";
  int ok = acmeh_spki_form_ok(acmeh_csr_spki(req), why, sizeof why) && acmeh_csr_verify(req);
  if (!ok && !why[0]) snprintf(why, sizeof why, "the CSR's self-signature does not verify");
  if (ok && s->pk != PK_CSR_ANY_KEY && !acmeh_pk_same_key(acmeh_csr_key(req), key))
    ok = 0, snprintf(why, sizeof why, "the CSR's key is not the key the pk-01 challenge proved (a public-key replacement, "
                                      "draft-geng-acme-public-key)");
  if (ok && (!(*spki = X509_PUBKEY_new()) || !srv_spki_copy(*spki, acmeh_csr_spki(req))))
    ok = 0, snprintf(why, sizeof why, "out of memory");
  acmeh_csr_free(req);
  if (!ok) srv_problem(rs, 400, "badCSR", "%s; the order stays ready", why);
  return ok;
}

int srv_pk_finalize_key(acmeh_server *s, const char *name, const json_t *payload, X509_PUBKEY **spki, srv_resp *rs) {
  const char *type = srv_key_ident_type(name);
  const json_t *csr = json_object_get(payload, "csr");
  EVP_PKEY *key = NULL, *other = NULL;
  char why[300];
  *spki = NULL;
  if (csr && !json_is_string(csr)) return srv_problem(rs, 400, "malformed", "\"csr\" must be a string when present"), 0;
  if (acmeh_pk_ident_key(type, name + strlen(type) + 1, &key, why, sizeof why) != ACMEH_OK)
    return srv_problem(rs, 500, "serverInternal", "the order's %s identifier no longer reads: %s", type, why), 0;
  int ok = 1;
  if (csr) ok = csr_key(s, json_string_value(csr), key, spki, rs);
  else if (s->pk == PK_OTHER_KEY) { /* the deviation: certify a key of the server's own making */
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    ok = kc && EVP_PKEY_keygen_init(kc) > 0 && EVP_PKEY_CTX_set_group_name(kc, "P-256") > 0 && EVP_PKEY_keygen(kc, &other) > 0 &&
         X509_PUBKEY_set(spki, other);
    EVP_PKEY_CTX_free(kc);
    if (!ok) srv_problem(rs, 500, "serverInternal", "cannot make the deviation's key");
  } else ok = X509_PUBKEY_set(spki, key);
  if (!ok && !rs->body) srv_problem(rs, 500, "serverInternal", "out of memory");
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
  if (!ok) X509_PUBKEY_free(*spki), *spki = NULL;
  return ok;
}
