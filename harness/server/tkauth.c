/* tkauth-01 on the reference server: the TNAuthList (RFC 9448 §3) and
 * JWTClaimConstraints (jwtclaimcon draft) identifier types, the challenge's
 * members (RFC 9448 §4), the token validation of RFC 9448 §6 (atc.h does
 * steps 1-8 off the loop; jti replay here on the loop), the CSR's extensions
 * at finalize (step 9, RFC 8555 §7.4) and the issued extensions. */
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "harness/acme/atc.h"
#include "harness/server/internal.h"

static const char *const types[] = {ACMEH_ATC_TNAUTHLIST, ACMEH_ATC_JWTCLAIMCON};

/* Server-side deviations (server.h tkauth_deviations) beside the skipped steps. */
enum { DEV_ACCEPT_ANY = 1, DEV_NO_CSR = 2, DEV_NO_CA = 4, DEV_NO_EXP_CAP = 8, DEV_LENIENT_DER = 16, DEV_NO_TKAUTH_TYPE = 32 };

/* Thread-pool reads of the deviations go through the validation's copy. */
typedef struct {
  const char *name;
  unsigned skip, dev;
} deviation;
static const deviation deviations[] = {
    {"no-chain", ACMEH_ATC_SKIP_CHAIN, 0},       {"no-signature", ACMEH_ATC_SKIP_SIG, 0},
    {"no-tktype", ACMEH_ATC_SKIP_TKTYPE, 0},     {"no-tkvalue", ACMEH_ATC_SKIP_TKVALUE, 0},
    {"no-exp", ACMEH_ATC_SKIP_EXP, 0},           {"no-fingerprint", ACMEH_ATC_SKIP_FINGERPRINT, 0},
    {"accept-any", 0, DEV_ACCEPT_ANY},           {"no-csr-check", 0, DEV_NO_CSR},
    {"no-ca-check", 0, DEV_NO_CA},               {"no-exp-cap", 0, DEV_NO_EXP_CAP},
    {"lenient-der", 0, DEV_LENIENT_DER},         {"no-tkauth-type", 0, DEV_NO_TKAUTH_TYPE},
};

static int parse_deviations(acmeh_server *s, const char *list) {
  char *copy = list ? strdup(list) : NULL, *save = NULL;
  int ok = !list || copy;
  for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; ok && t; t = strtok_r(NULL, ",", &save)) {
    ok = 0;
    for (size_t i = 0; i < sizeof deviations / sizeof *deviations; i++)
      if (strcmp(t, deviations[i].name) == 0) s->tkauth_skip |= deviations[i].skip, s->tkauth_dev |= deviations[i].dev, ok = 1;
  }
  free(copy);
  return ok;
}

int srv_atc_split(const char *name, const char **type, const char **value) {
  for (size_t i = 0; name && i < 2; i++) {
    size_t n = strlen(types[i]);
    if (strncmp(name, types[i], n) == 0 && name[n] == ':') {
      if (type) *type = types[i];
      if (value) *value = name + n + 1;
      return 1;
    }
  }
  return 0;
}

/* The DER kind of a checked value of `type`; -1 when it is none. */
static int kind_of(const char *type, const unsigned char *der, size_t len) {
  if (strcmp(type, ACMEH_ATC_TNAUTHLIST) == 0) return ACMEH_DER_TNAUTHLIST;
  return acmeh_atc_jcc_kind(der, len);
}

char *srv_atc_name(const char *type, const char *value, int lenient_der, const char **ptype, char *why, size_t whylen) {
  unsigned char *der = NULL;
  size_t len = 0;
  char *name = NULL;
  *ptype = "malformed";
  int rc = acmeh_atc_value_decode(value, &der, &len, why, whylen);
  int kind = rc == ACMEH_OK ? kind_of(type, der, len) : -1;
  if (lenient_der && rc == ACMEH_OK) { /* the deviation: any base64url is taken */
    free(der);
    return asprintf(&name, "%s:%s", type, value) < 0 ? NULL : name;
  }
  if (rc == ACMEH_OK && kind < 0)
    snprintf(why, whylen, "%s value is not the DER of a JWTClaimConstraints or EnhancedJWTClaimConstraints", type);
  else if (rc == ACMEH_OK && acmeh_atc_der_check((acmeh_atc_der_kind)kind, der, len, why, whylen) == ACMEH_OK &&
           asprintf(&name, "%s:%s", type, value) < 0)
    name = NULL;
  free(der);
  return name;
}

size_t srv_atc_plain_names(char *const *names, size_t n, char **out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!srv_atc_split(names[i], NULL, NULL)) out[k++] = names[i];
  return k;
}

/* ---- the challenge ------------------------------------------------------- */

void srv_atc_chal_json(const acmeh_server *s, json_t *chal) {
  if (!(s->tkauth_dev & DEV_NO_TKAUTH_TYPE))
    json_object_set_new(chal, "tkauth-type", json_string("atc")); /* RFC 9447 §6.3's only entry */
  if (s->tkauth_authority) json_object_set_new(chal, "token-authority", json_string(s->tkauth_authority));
}

int srv_tkauth01_inputs(acmeh_server *s, const srv_req *rq, const srv_authz *a, srv_validation *v) {
  (void)a;
  const char *tok = json_string_value(json_object_get(rq->payload, "tkauth"));
  v->tkauth = tok ? strdup(tok) : NULL;
  v->thumb = strdup(rq->acct->thumb);
  v->trust_file = s->tkauth_trust ? strdup(s->tkauth_trust) : NULL;
  v->x5u_ca_file = s->tkauth_x5u_ca ? strdup(s->tkauth_x5u_ca) : NULL;
  v->atc_out = calloc(1, sizeof *v->atc_out);
  v->tkauth_skip = s->tkauth_skip;
  v->tkauth_accept_any = (s->tkauth_dev & DEV_ACCEPT_ANY) != 0;
  return v->thumb && v->atc_out && (!tok || v->tkauth) ? ACMEH_OK : ACMEH_NOMEM;
}

void srv_atc_inputs_free(srv_validation *v) {
  free(v->tkauth), free(v->thumb), free(v->trust_file), free(v->x5u_ca_file), free(v->atc_out);
}

json_t *srv_validate_tkauth01(const srv_validation *v) {
  const char *type, *value;
  char why[400];
  if (!srv_atc_split(v->name, &type, &value))
    return srv_problem_obj("unauthorized", "tkauth-01 validates TNAuthList and JWTClaimConstraints identifiers only");
  if (v->tkauth_accept_any) return NULL;
  if (!v->tkauth)
    return srv_problem_obj("malformed", "the response has no \"tkauth\" string (RFC 9448 §4)");
  if (!v->trust_file)
    return srv_problem_obj("unauthorized", "this server trusts no token authority (serve --tkauth-trust)");
  acmeh_atc_expect e = {.tktype = type, .tkvalue = value, .thumb = v->thumb, .trust_file = v->trust_file,
                        .x5u_ca_file = v->x5u_ca_file, .now = acmeh_now_wall(), .x5u_timeout_ms = 5000,
                        .skip = v->tkauth_skip};
  if (acmeh_atc_validate(v->tkauth, &e, v->atc_out, why, sizeof why) != ACMEH_OK) {
    char d[480];
    snprintf(d, sizeof d, "Authority Token refused (RFC 9448 §6 %s)", why);
    return srv_problem_obj("unauthorized", d);
  }
  return NULL;
}

json_t *srv_atc_accept(acmeh_server *s, srv_authz *a, const srv_validation *v) {
  const acmeh_atc_result *r = v->atc_out;
  double now = acmeh_now_wall();
  const char *k;
  json_t *exp, *tmp;
  json_object_foreach_safe(s->atc_jtis, tmp, k, exp) /* expired tokens cannot come back */
      if (json_number_value(exp) < now) json_object_del(s->atc_jtis, k);
  if (!s->tkauth_jti_reuse && json_object_get(s->atc_jtis, r->jti)) {
    char d[300];
    snprintf(d, sizeof d, "the Authority Token's jti %.128s was used before (RFC 9447 §4: replay)", r->jti);
    return srv_problem_obj("unauthorized", d);
  }
  if (json_object_size(s->atc_jtis) < 100000) json_object_set_new(s->atc_jtis, r->jti, json_real(r->exp));
  a->atc_exp = r->exp;
  a->atc_ca = r->ca;
  return NULL;
}

/* ---- finalize and issuance ----------------------------------------------- */

static const char *oid_of(int kind) {
  return kind == ACMEH_DER_TNAUTHLIST ? ACMEH_OID_TNAUTHLIST : kind == ACMEH_DER_JCC ? ACMEH_OID_JWTCLAIMCON
                                                                                     : ACMEH_OID_EJWTCLAIMCON;
}

/* The extension value of `oid` in exts: borrowed; NULL when absent, *count how many. */
static const ASN1_OCTET_STRING *ext_value(const STACK_OF(X509_EXTENSION) *exts, const char *oid, int *count) {
  ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
  const ASN1_OCTET_STRING *v = NULL;
  *count = 0;
  for (int i = 0; o && i < sk_X509_EXTENSION_num(exts); i++) {
    X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_cmp(X509_EXTENSION_get_object(e), o) == 0 && (*count)++ == 0) v = X509_EXTENSION_get_data(e);
  }
  ASN1_OBJECT_free(o);
  return v;
}

/* Which token identifiers the order has: kind -> its DER (malloc'd) and the tokens' ca. */
typedef struct {
  unsigned char *der[3];
  size_t len[3];
  int ca, any;
} wanted;

static int collect(acmeh_server *s, const srv_order *o, wanted *w, char *why, size_t whylen) {
  memset(w, 0, sizeof *w);
  for (size_t i = 0; i < o->nnames; i++) {
    const char *type, *value;
    if (!srv_atc_split(o->names[i], &type, &value)) continue;
    unsigned char *der = NULL;
    size_t len = 0;
    if (acmeh_atc_value_decode(value, &der, &len, why, whylen) != ACMEH_OK) return 0;
    int k = kind_of(type, der, len);
    if (k < 0 || w->der[k]) { /* two of one kind cannot both be one extension */
      free(der);
      return snprintf(why, whylen, "the order has two %s identifiers of one extension", type), 0;
    }
    w->der[k] = der, w->len[k] = len, w->any = 1;
    srv_authz *a = srv_authz_get(s, o->authz[i]);
    w->ca |= a && a->atc_ca;
  }
  return 1;
}

static int exts_match(const STACK_OF(X509_EXTENSION) *exts, const wanted *w, char *why, size_t whylen) {
  int n[3];
  const ASN1_OCTET_STRING *v[3];
  for (int k = 0; k < 3; k++) v[k] = ext_value(exts, oid_of(k), &n[k]);
  if (v[ACMEH_DER_JCC] && v[ACMEH_DER_EJCC])
    return snprintf(why, whylen, "the CSR asks for both JWTClaimConstraints and EnhancedJWTClaimConstraints "
                                 "(RFC 9118 §6: MUST NOT both appear)"), 0;
  for (int k = 0; k < 3; k++) {
    if (n[k] > 1) return snprintf(why, whylen, "the CSR has %d %s extensions", n[k], oid_of(k)), 0;
    if (!w->der[k] && v[k]) return snprintf(why, whylen, "the CSR has extension %s the order did not authorize", oid_of(k)), 0;
    if (w->der[k] && !v[k]) return snprintf(why, whylen, "the CSR lacks the %s extension of the order", oid_of(k)), 0;
    if (w->der[k] && ((size_t)ASN1_STRING_length(v[k]) != w->len[k] ||
                      memcmp(ASN1_STRING_get0_data(v[k]), w->der[k], w->len[k]) != 0))
      return snprintf(why, whylen, "the CSR's %s extension differs from the authorized value (RFC 9448 §6 step 6)",
                      oid_of(k)), 0;
  }
  return 1;
}

int srv_atc_csr_ok(acmeh_server *s, const srv_order *o, const acmeh_csr *csr, char *why, size_t whylen) {
  wanted w;
  if (s->tkauth_dev & DEV_NO_CSR) return 1;
  STACK_OF(X509_EXTENSION) *exts = acmeh_csr_extensions(csr);
  int ok = collect(s, o, &w, why, whylen) && exts_match(exts, &w, why, whylen);
  if (ok && w.any && !(s->tkauth_dev & DEV_NO_CA)) {
    BASIC_CONSTRAINTS *bc = X509V3_get_d2i(exts, NID_basic_constraints, NULL, NULL);
    int is_ca = bc && bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    if (is_ca != w.ca) /* step 9, read strictly: ca:true with an end-entity CSR is a mismatch too */
      ok = 0, snprintf(why, whylen, "the CSR's BasicConstraints cA is %s but the Authority Token's ca is %s "
                                    "(RFC 9448 §6 step 9)", is_ca ? "TRUE" : "FALSE", w.ca ? "true" : "false");
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  for (int k = 0; k < 3; k++) free(w.der[k]);
  return ok;
}

int srv_atc_add_exts(X509 *leaf, char *const *names, size_t n) {
  int ok = 1;
  for (size_t i = 0; ok && i < n; i++) {
    const char *type, *value;
    unsigned char *der = NULL;
    size_t len = 0;
    char why[8];
    if (!srv_atc_split(names[i], &type, &value)) continue;
    ok = acmeh_atc_value_decode(value, &der, &len, why, sizeof why) == ACMEH_OK;
    int k = ok ? kind_of(type, der, len) : -1;
    ASN1_OBJECT *obj = k >= 0 ? OBJ_txt2obj(oid_of(k), 1) : NULL;
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    ok = obj && os && ASN1_OCTET_STRING_set(os, der, (int)len) &&
         (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(leaf, e, -1);
    X509_EXTENSION_free(e), ASN1_OCTET_STRING_free(os), ASN1_OBJECT_free(obj), free(der);
  }
  return ok;
}

void srv_atc_cap_validity(acmeh_server *s, const srv_order *o, double *not_before, double *not_after) {
  double now = acmeh_now_wall();
  for (size_t i = 0; !(s->tkauth_dev & DEV_NO_EXP_CAP) && i < o->nnames; i++) {
    srv_authz *a = srv_atc_split(o->names[i], NULL, NULL) ? srv_authz_get(s, o->authz[i]) : NULL;
    if (!a || !a->atc_exp) continue;
    if (!*not_before) *not_before = now - 60;
    if (!*not_after || *not_after > a->atc_exp) *not_after = a->atc_exp;
  }
}

/* ---- configuration -------------------------------------------------------- */

static int dup_opt(char **to, const char *from) {
  *to = from ? strdup(from) : NULL;
  return !from || *to;
}

int srv_atc_setup(acmeh_server *s, const acmeh_server_config *cfg) {
  s->tkauth_jti_reuse = cfg->tkauth_allow_jti_reuse;
  if (!parse_deviations(s, cfg->tkauth_deviations)) return ACMEH_INVALID_ARG;
  s->atc_jtis = json_object();
  return s->atc_jtis && dup_opt(&s->tkauth_trust, cfg->tkauth_trust_file) &&
                 dup_opt(&s->tkauth_x5u_ca, cfg->tkauth_x5u_ca_file) &&
                 dup_opt(&s->tkauth_authority, cfg->tkauth_authority)
             ? ACMEH_OK
             : ACMEH_NOMEM;
}

int srv_atc_lenient_der(const acmeh_server *s) { return (s->tkauth_dev & DEV_LENIENT_DER) != 0; }

void srv_atc_free(acmeh_server *s) {
  free(s->tkauth_trust), free(s->tkauth_x5u_ca), free(s->tkauth_authority);
  json_decref(s->atc_jtis);
}
