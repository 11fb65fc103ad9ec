/* Shared pieces of the device-attest-01 suite (deviceattest.h). */
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/b64.h"
#include "harness/acme/challenge.h"
#include "harness/kit/kit.h"
#include "harness/runner/catalog.h"
#include "suites/deviceattest/deviceattest.h"

int da_rev(const acmeh_check_ctx *ctx) { return ctx->revision && strcmp(ctx->revision, "device-attest-01") == 0 ? 1 : 9; }

void da_value(acmeh_check_ctx *ctx, acmeh_devid_type t, char *out, size_t len) {
  unsigned long long r = acmeh_check_rand(ctx);
  if (t == ACMEH_DEVID_HWMODULE) snprintf(out, len, "HSM%012llX/1.3.6.1.4.1.45724.1.1.4", r & 0xffffffffffffULL);
  else if (da_rev(ctx) == 1) snprintf(out, len, "ACMEH%012llX", r & 0xffffffffffffULL);
  else snprintf(out, len, "ACMEH%012llX/1.3.6.1.4.1.45724.1", r & 0xffffffffffffULL);
}

int da_new_order_raw(acmeh_check_ctx *ctx, acmeh_acme *c, const char *type, const char *value, acmeh_http_resp *r) {
  json_t *p = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", type, "value", value);
  char *body = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  const char *url = acmeh_acme_dir_url(c, "newOrder");
  int rc = body && url ? acmeh_kit_post(ctx, c, url, body, NULL, r)
                       : acmeh_msg(ctx->err, sizeof ctx->err, url ? ACMEH_NOMEM : ACMEH_PEER_PROTOCOL, "no newOrder URL");
  free(body);
  return rc;
}

int da_claimed(const acmeh_check_ctx *ctx) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(ctx->env->claims, "challenges"), i, c) if (json_is_string(c) && strcmp(json_string_value(c), DA_TYPE) == 0) return 1;
  return 0;
}

int da_refused(acmeh_check_ctx *ctx, const acmeh_http_resp *r, const char *type) {
  json_t *body = acmeh_resp_json(r);
  const char *ptype = json_string_value(json_object_get(body, "type")), *detail = json_string_value(json_object_get(body, "detail"));
  int rc = da_claimed(ctx) ? acmeh_kit_expect_status(ctx, r, 201, "newOrder for a conforming device identifier (the target claims device-attest-01)")
                           : acmeh_check_skip(ctx, "server does not support %s identifiers: a conforming value is refused (HTTP %ld %s: %.200s)",
                                              type, r->status, ptype ? ptype : "", detail ? detail : "");
  json_decref(body);
  return rc;
}

static int load_ca(acmeh_check_ctx *ctx, acmeh_att_ca **ca) {
  char cert[4096], key[4096];
  snprintf(cert, sizeof cert, "%s/vectors/deviceattest/attestation-root.pem", acmeh_data_dir());
  snprintf(key, sizeof key, "%s/vectors/deviceattest/attestation-root-key.pem", acmeh_data_dir());
  return acmeh_att_ca_load(cert, key, ca) ? acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_ENV_IO, "cannot read %s and its key", cert)
                                          : ACMEH_OK;
}

int da_setup(acmeh_check_ctx *ctx, da_fx *f, acmeh_devid_type t) {
  acmeh_http_resp r = {0};
  f->type = t;
  da_value(ctx, t, f->value, sizeof f->value);
  int rc = load_ca(ctx, &f->ca);
  if (rc == ACMEH_OK && !(f->dev = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")))
    rc = acmeh_msg(ctx->err, sizeof ctx->err, ACMEH_INTERNAL, "no device key");
  if (rc == ACMEH_OK) rc = acmeh_kit_account(ctx, &f->c);
  if (rc == ACMEH_OK) rc = da_new_order_raw(ctx, f->c, acmeh_devid_type_name(t), f->value, &r);
  json_t *body = rc ? NULL : acmeh_resp_json(&r);
  if (rc == ACMEH_OK && r.status != 201) rc = da_refused(ctx, &r, acmeh_devid_type_name(t));
  if (rc == ACMEH_OK) {
    f->order = json_incref(body);
    const char *loc = NULL;
    for (size_t i = 0; i < r.nheaders; i++) if (strcasecmp(r.headers[i].name, "Location") == 0) loc = r.headers[i].value;
    f->order_url = loc ? strdup(loc) : NULL;
    f->authz_url = acmeh_kit_first_authz(f->order);
    rc = f->authz_url ? acmeh_acme_get_json(f->c, f->authz_url, &f->authz, NULL, ctx->err, sizeof ctx->err)
                      : acmeh_check_fail(ctx, "an authorization URL in the order", "none");
  }
  if (rc == ACMEH_OK && !(f->ch = acmeh_flow_find_challenge(f->authz, DA_TYPE)))
    rc = da_claimed(ctx) ? acmeh_check_fail(ctx, "a device-attest-01 challenge (the target claims it)", "none in the authorization")
                         : acmeh_check_skip(ctx, "server does not support device-attest-01 for %s identifiers", acmeh_devid_type_name(t));
  json_decref(body);
  acmeh_http_resp_free(&r);
  return rc;
}

void da_free(da_fx *f) {
  acmeh_acme_free(f->c);
  free(f->order_url);
  json_decref(f->order), json_decref(f->authz);
  EVP_PKEY_free(f->dev);
  acmeh_att_ca_free(f->ca);
  memset(f, 0, sizeof *f);
}

char *da_attobj(acmeh_check_ctx *ctx, da_fx *f, const char *tbs, const char *attested, acmeh_att_fault fault) {
  char tp[44], *ka = NULL;
  if (!tbs && acmeh_key_thumbprint(acmeh_acme_key(f->c), tp) == ACMEH_OK)
    ka = acmeh_key_authorization(json_string_value(json_object_get(f->ch, "token")), tp);
  const char *what = tbs ? tbs : ka;
  acmeh_att_packed_in in = {f->dev, f->type, attested ? attested : f->value, (const unsigned char *)what,
                            what ? strlen(what) : 0, 0, fault};
  char *b = what ? acmeh_att_packed_b64(f->ca, &in) : NULL;
  if (b) acmeh_check_note(ctx, "attestation (packed, fault %d) over \"%s\" naming %s", (int)fault, what, in.id_value);
  free(ka);
  return b;
}

int da_respond(acmeh_check_ctx *ctx, da_fx *f, const char *payload, json_t **ch) {
  acmeh_http_resp r = {0};
  json_t *final = NULL;
  *ch = NULL;
  int rc = acmeh_kit_post(ctx, f->c, json_string_value(json_object_get(f->ch, "url")), payload, NULL, &r);
  if (rc == ACMEH_OK && r.status >= 400) { /* refused at once: judged as an invalid challenge */
    json_t *p = acmeh_resp_json(&r);
    *ch = json_pack("{s:s,s:O?}", "status", "invalid", "error", p);
    json_decref(p);
    acmeh_http_resp_free(&r);
    return ACMEH_OK;
  }
  acmeh_http_resp_free(&r);
  static const char *const waiting[] = {"pending", "processing"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(f->c, f->authz_url, waiting, 2, &final, ctx->err, sizeof ctx->err);
  const json_t *c = acmeh_flow_find_challenge(final, DA_TYPE);
  if (rc == ACMEH_OK) *ch = c ? json_incref((json_t *)c) : json_pack("{s:s}", "status", "(missing)");
  json_decref(final);
  return rc;
}

int da_expect_bad(acmeh_check_ctx *ctx, const json_t *ch, const char *why) {
  const char *st = json_string_value(json_object_get(ch, "status"));
  const char *type = json_string_value(json_object_get(json_object_get(ch, "error"), "type"));
  char exp[300];
  snprintf(exp, sizeof exp, "the challenge invalid with badAttestationStatement when %s", why);
  if (st && strcmp(st, "invalid") == 0 && type && strcmp(type, "urn:ietf:params:acme:error:badAttestationStatement") == 0)
    return ACMEH_OK;
  return acmeh_check_fail(ctx, exp, "challenge \"%s\", error %s", st ? st : "?", type ? type : "none");
}

int da_ready(acmeh_check_ctx *ctx, da_fx *f) {
  char *att = da_attobj(ctx, f, NULL, NULL, ACMEH_ATT_OK), *payload = NULL;
  json_t *ch = NULL, *order = NULL;
  int rc = att && asprintf(&payload, "{\"attObj\":\"%s\"}", att) >= 0 ? ACMEH_OK : ACMEH_NOMEM;
  if (rc == ACMEH_OK) rc = da_respond(ctx, f, payload, &ch);
  const char *st = json_string_value(json_object_get(ch, "status"));
  if (rc == ACMEH_OK && (!st || strcmp(st, "valid") != 0)) {
    char *e = json_dumps(json_object_get(ch, "error"), JSON_COMPACT);
    rc = acmeh_kit_step_fault(ctx, "device-attest-01 challenge", "a packed attestation over the key authorization to validate device-attest-01",
                              e ? e : "no error");
    free(e);
  }
  static const char *const waiting[] = {"pending"};
  if (rc == ACMEH_OK) rc = acmeh_flow_poll(f->c, f->order_url, waiting, 1, &order, ctx->err, sizeof ctx->err);
  if (rc == ACMEH_OK) json_decref(f->order), f->order = json_incref(order);
  free(att), free(payload);
  json_decref(ch), json_decref(order);
  return rc;
}

/* A PKCS#10 request on k, base64url DER, with san as the only name. */
static char *csr_of(da_fx *f, EVP_PKEY *k, const char *san) {
  X509_REQ *req = X509_REQ_new();
  STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
  GENERAL_NAMES *gns = san ? sk_GENERAL_NAME_new_null() : NULL;
  GENERAL_NAME *gn = san ? acmeh_devid_general_name(f->type, san) : NULL;
  int ok = req && exts && X509_REQ_set_pubkey(req, k);
  if (ok && san) {
    ok = gns && gn && sk_GENERAL_NAME_push(gns, gn);
    if (ok) gn = NULL;
    X509_EXTENSION *e = ok ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gns) : NULL;
    ok = e && sk_X509_EXTENSION_push(exts, e) && X509_REQ_add_extensions(req, exts);
    if (!ok) X509_EXTENSION_free(e);
  }
  ok = ok && X509_REQ_sign(req, k, EVP_sha256());
  unsigned char *der = NULL;
  int n = ok ? i2d_X509_REQ(req, &der) : -1;
  char *b = n > 0 ? acmeh_b64url_encode(der, (size_t)n) : NULL;
  OPENSSL_free(der);
  GENERAL_NAME_free(gn), GENERAL_NAMES_free(gns);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  return b;
}

int da_finalize(acmeh_check_ctx *ctx, da_fx *f, EVP_PKEY *k, const char *san, acmeh_http_resp *r) {
  const char *url = json_string_value(json_object_get(f->order, "finalize"));
  char *csr = csr_of(f, k, san), *payload = NULL;
  if (!url) return acmeh_check_fail(ctx, "a finalize URL in the ready order", "none");
  int rc = csr && asprintf(&payload, "{\"csr\":\"%s\"}", csr) >= 0 ? ACMEH_OK : ACMEH_INTERNAL;
  if (rc == ACMEH_OK) acmeh_check_note(ctx, "finalize with a CSR naming %s", san ? san : "nothing (privacy mode)");
  if (rc == ACMEH_OK) rc = acmeh_kit_post(ctx, f->c, url, payload, NULL, r);
  free(csr), free(payload);
  return rc;
}
