/* device-attest-01 (draft-ietf-acme-device-attest) in the reference server:
 * the permanent-identifier (§3) and hardware-module (§4) identifiers, the
 * challenge's validation of a packed attestation object (§5, through
 * harness/acme/attobj) and finalize's CSR rules (§3.2, §4.2, §8). */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/attobj.h"
#include "harness/acme/b64.h"
#include "harness/acme/devid.h"
#include "harness/runner/catalog.h"
#include "harness/server/internal.h"

typedef enum {
  DA_ON, DA_NO_ABNF, DA_SHORT_TOKEN, DA_ANY_FORMAT, DA_ANY_NONCE, DA_ANY_IDENTIFIER, DA_STRICT_FIELDS, DA_ANY_CSR,
  DA_NEED_SAN
} da_mode;

struct srv_devattest {
  da_mode mode;
  int rev; /* server.h device_attest_rev */
  X509 *roots[8];
  size_t nroots;
};

static int load_roots(struct srv_devattest *d, const char *path, char *err, size_t errlen) {
  char def[4096];
  if (!path) snprintf(def, sizeof def, "%s/vectors/deviceattest/attestation-root.pem", acmeh_data_dir()), path = def;
  FILE *f = fopen(path, "r");
  if (!f) return acmeh_msg(err, errlen, ACMEH_ENV_IO, "server: cannot read attestation roots %.300s", path);
  X509 *x;
  while (d->nroots < sizeof d->roots / sizeof *d->roots && (x = PEM_read_X509(f, NULL, NULL, NULL))) d->roots[d->nroots++] = x;
  fclose(f);
  return d->nroots ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_ENV_IO, "server: no certificate in %.300s", path);
}

int srv_devattest_new(acmeh_server *s, const acmeh_server_config *cfg, char *err, size_t errlen) {
  static const char *const modes[] = {"on", "no-abnf", "short-token", "any-format", "any-nonce", "any-identifier",
                                      "strict-fields", "any-csr", "need-san"};
  const char *m = cfg->device_attest ? cfg->device_attest : "on";
  if (strcmp(m, "off") == 0) return ACMEH_OK;
  size_t i = 0;
  while (i < sizeof modes / sizeof *modes && strcmp(m, modes[i]) != 0) i++;
  if (i == sizeof modes / sizeof *modes) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: unknown device_attest mode \"%.40s\"", m);
  if (!(s->devattest = calloc(1, sizeof *s->devattest))) return ACMEH_NOMEM;
  s->devattest->mode = (da_mode)i;
  s->devattest->rev = cfg->device_attest_rev;
  return load_roots(s->devattest, cfg->attestation_roots, err, errlen);
}

void srv_devattest_free(acmeh_server *s) {
  if (!s->devattest) return;
  for (size_t i = 0; i < s->devattest->nroots; i++) X509_free(s->devattest->roots[i]);
  free(s->devattest);
  s->devattest = NULL;
}

int srv_devattest_short_token(const acmeh_server *s) { return s->devattest && s->devattest->mode == DA_SHORT_TOKEN; }

int srv_is_devid(const char *name) {
  return strncmp(name, "permanent-identifier:", 21) == 0 || strncmp(name, "hardware-module:", 16) == 0;
}


int srv_devid_parse(const acmeh_server *s, const char *type, const char *value, char **name, const char **ptype, char *why,
                    size_t whylen) {
  acmeh_devid_type t = acmeh_devid_type_of(type);
  *name = NULL;
  if (t == ACMEH_DEVID_NONE || !s->devattest) return 0;
  const struct srv_devattest *d = s->devattest;
  /* -01: the whole value is the identifierValue, any non-empty UTF-8 */
  int ok = d->rev == 1 ? *value != '\0' : d->mode == DA_NO_ABNF || acmeh_devid_value_ok(t, value, why, whylen);
  if (d->rev == 1 && !ok) snprintf(why, whylen, "empty value");
  if (!ok) *ptype = "malformed";
  else if (asprintf(name, "%s:%s", type, value) < 0) *name = NULL, *ptype = "serverInternal", snprintf(why, whylen, "out of memory");
  return 1;
}

int srv_devattest01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  (void)a;
  const char *b64 = json_string_value(json_object_get(rq->payload, "attObj"));
  if (b64 && acmeh_b64url_decode(b64, strlen(b64), &v->att_obj, &v->att_len) != ACMEH_OK) v->att_obj = NULL;
  v->att = s->devattest;
  v->att_out = calloc(1, sizeof *v->att_out);
  /* strict-fields: the deviation that breaks §5 "servers MUST ignore unknown fields" */
  if (s->devattest->mode == DA_STRICT_FIELDS && json_object_size(rq->payload) > 1) free(v->att_obj), v->att_obj = NULL;
  return v->att_out ? ACMEH_OK : ACMEH_NOMEM;
}

static json_t *bad(const char *fmt, const char *detail) {
  char d[600];
  snprintf(d, sizeof d, fmt, detail);
  return srv_problem_obj("badAttestationStatement", d);
}

json_t *srv_validate_devattest01(const srv_validation *v) {
  const struct srv_devattest *d = v->att;
  if (!v->att_obj) return bad("%s", "the response has no \"attObj\" of base64url (draft-ietf-acme-device-attest §5)");
  if (d->mode == DA_ANY_FORMAT) return NULL;
  acmeh_devid_type t = strncmp(v->name, "hardware-module:", 16) == 0 ? ACMEH_DEVID_HWMODULE : ACMEH_DEVID_PERMANENT;
  acmeh_attobj_expect e = {d->roots, d->nroots, (const unsigned char *)v->keyauth, strlen(v->keyauth), t,
                           srv_ident_value(v->name), 0};
  acmeh_attobj_result r;
  char err[400] = "";
  int rc = acmeh_attobj_verify(v->att_obj, v->att_len, &e, &r, err, sizeof err);
  int excused = (d->mode == DA_ANY_NONCE && strstr(err, "attestation signature") == err) ||
                (d->mode == DA_ANY_IDENTIFIER && strstr(err, "attested identifier") == err);
  if (excused) { /* the deviation: verify the rest as if that step had passed */
    e.tbs = NULL;
    rc = ACMEH_OK;
  }
  if (rc == ACMEH_OK && !r.key) rc = ACMEH_PEER_PROTOCOL, snprintf(err, sizeof err, "no attested key");
  unsigned char *der = NULL;
  int n = r.key ? i2d_PUBKEY(r.key, &der) : -1;
  if (rc == ACMEH_OK && n > 0) v->att_out->spki = der, v->att_out->spki_len = (size_t)n, der = NULL;
  OPENSSL_free(der);
  EVP_PKEY_free(r.key);
  return rc == ACMEH_OK || excused ? NULL : bad("%s (draft-ietf-acme-device-attest §5)", err);
}

void srv_devattest01_done(srv_authz *a, srv_validation *v) {
  if (!v->att_out || !v->att_out->spki) return;
  free(a->attested_spki);
  a->attested_spki = v->att_out->spki, a->attested_spki_len = v->att_out->spki_len;
  v->att_out->spki = NULL;
}

int srv_devid_add_sans(GENERAL_NAMES *gns, char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!srv_is_devid(names[i])) continue;
    acmeh_devid_type t = strncmp(names[i], "hardware-module:", 16) == 0 ? ACMEH_DEVID_HWMODULE : ACMEH_DEVID_PERMANENT;
    GENERAL_NAME *gn = acmeh_devid_general_name(t, srv_ident_value(names[i]));
    if (!gn) { /* -01 values (no ABNF): all of it is identifierValue */
      char *plain = t == ACMEH_DEVID_PERMANENT ? strdup(srv_ident_value(names[i])) : NULL;
      char *slash = plain ? strchr(plain, '/') : NULL;
      if (!slash) gn = plain ? acmeh_devid_general_name(t, plain) : NULL;
      free(plain);
    }
    if (!gn || !sk_GENERAL_NAME_push(gns, gn)) return GENERAL_NAME_free(gn), 0;
  }
  return 1;
}

/* Every device identifier otherName of the CSR names one of the order's
 * (octet for octet, §3.2/§4.2), and no dNSName or iPAddress is there. */
static int csr_names(const srv_order *o, const acmeh_csr *csr, int need_san, char *why, size_t whylen) {
  STACK_OF(X509_EXTENSION) *exts = acmeh_csr_extensions(csr);
  GENERAL_NAMES *gns = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  int ok = 1;
  if (need_san && sk_GENERAL_NAME_num(gns) <= 0)
    ok = 0, snprintf(why, whylen, "the CSR names no device identifier (this server's deviation: no privacy mode)");
  for (int i = 0; ok && i < sk_GENERAL_NAME_num(gns); i++) {
    acmeh_devid_type t;
    char *v = acmeh_devid_from_general_name(sk_GENERAL_NAME_value(gns, i), &t), *stored = NULL;
    if (!v) ok = 0, snprintf(why, whylen, "the CSR has a subjectAltName that is none of the order's device identifiers");
    else if (asprintf(&stored, "%s:%s", acmeh_devid_type_name(t), v) >= 0) {
      size_t k = 0;
      while (k < o->nnames && strcmp(o->names[k], stored) != 0) k++;
      if (k == o->nnames) ok = 0, snprintf(why, whylen, "the CSR names %s \"%.100s\", which is not the order's (octet for octet)",
                                             acmeh_devid_type_name(t), v);
    }
    free(v), free(stored);
  }
  GENERAL_NAMES_free(gns);
  return ok;
}

/* The CSR key is the key an attestation of the order certified (§8). */
static int csr_key(acmeh_server *s, const srv_order *o, const acmeh_csr *csr, char *why, size_t whylen) {
  unsigned char *der = NULL;
  int n = i2d_X509_PUBKEY(acmeh_csr_spki(csr), &der), ok = 1;
  for (size_t i = 0; ok && i < o->nnames; i++) {
    srv_authz *a = srv_authz_get(s, o->authz[i]);
    if (a && a->attested_spki && (n < 0 || (size_t)n != a->attested_spki_len || memcmp(der, a->attested_spki, (size_t)n) != 0))
      ok = 0, snprintf(why, whylen, "the CSR's public key is not the key the device attestation certified (draft-ietf-acme-device-attest §8)");
  }
  OPENSSL_free(der);
  return ok;
}

int srv_devid_csr_ok(acmeh_server *s, const srv_order *o, const acmeh_csr *csr, char *why, size_t whylen) {
  if (s->devattest && s->devattest->mode == DA_ANY_CSR) return 1;
  return csr_names(o, csr, s->devattest && s->devattest->mode == DA_NEED_SAN, why, whylen) && csr_key(s, o, csr, why, whylen);
}
