/* Orders (RFC 8555 §7.1.3, §7.4): identifier validation (§7.1.4: DNS names
 * in certificate form, A-labels checked with libidn2), creation with
 * authorizations (reusing the account's valid ones, §7.1.3), the order state
 * machine (§7.1.6) and finalize with the CSR checks of §7.4 and §11.1. */
#include <arpa/inet.h>
#include <ctype.h>
#include <idn2.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/acme/cert.h"
#include "harness/acme/csr.h"
#include "harness/acme/pk.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/internal.h"

#define MAX_ORDER_SPAN (398 * 86400.0) /* longest notAfter - notBefore accepted (CA/B limit) */

/* An "xn--" label must be a valid IDNA2008 A-label: it decodes, and encoding
 * the decoded U-label gives it back. */
static int alabel_ok(const char *label) {
  char *u = NULL, *back = NULL;
  int ok = idn2_to_unicode_8z8z(label, &u, 0) == IDN2_OK &&
           idn2_to_ascii_8z(u, &back, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) == IDN2_OK && strcmp(back, label) == 0;
  free(u);
  free(back);
  return ok;
}

/* LDH rules (RFC 1123 §2.1, RFC 5891 §4.2.3.1) for one label of n chars. */
static const char *label_problem(const char *l, size_t n) {
  if (n == 0) return "has an empty label";
  if (n > 63) return "has a label longer than 63 characters";
  if (l[0] == '-' || l[n - 1] == '-') return "has a label starting or ending with '-'";
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)l[i]) && l[i] != '-') return "has a character outside letters, digits and '-'";
  if (n >= 4 && l[2] == '-' && l[3] == '-') {
    char buf[64];
    memcpy(buf, l, n);
    buf[n] = '\0';
    if (strncmp(buf, "xn--", 4) != 0) return "has a reserved label (hyphens in 3rd and 4th place, but not \"xn--\")";
    if (!alabel_ok(buf)) return "has an \"xn--\" label that is not a valid A-label (RFC 5891)";
  }
  return NULL;
}

char *srv_dns_name(const char *value, int wildcard_ok, const char **type, char *why, size_t whylen) {
  *type = "rejectedIdentifier";
  size_t len = strlen(value);
  int wild = wildcard_ok && strncmp(value, "*.", 2) == 0;
  const char *name = wild ? value + 2 : value;
  char *low = strdup(value);
  for (char *p = low; p && *p; p++) *p = (char)tolower((unsigned char)*p);
  const char *problem = !low ? "out of memory" : len == 0 ? "is empty" : len > 253 ? "is longer than 253 characters"
                        : strchr(name, '*') ? "has a '*' that is not a leading \"*.\"" : NULL;
  const char *nm = low ? low + (wild ? 2 : 0) : NULL;
  int labels = 0, numeric_tld = 1;
  for (const char *l = nm; !problem && l; labels++) {
    const char *dot = strchr(l, '.');
    size_t n = dot ? (size_t)(dot - l) : strlen(l);
    problem = label_problem(l, n);
    numeric_tld = 1;
    for (size_t i = 0; i < n; i++) numeric_tld &= isdigit((unsigned char)l[i]) != 0;
    l = dot ? dot + 1 : NULL;
  }
  if (!problem && labels < 2) problem = "is not a fully qualified domain name";
  if (!problem && numeric_tld) problem = "looks like an IP address; those are \"ip\" identifiers";
  if (problem) {
    snprintf(why, whylen, "\"%.100s\" %s", value, problem);
    free(low);
    return NULL;
  }
  return low;
}

int srv_is_ip(const char *name) {
  unsigned char bin[16];
  return name && (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1);
}

const char *srv_ident_type(const char *name) {
  const char *t, *key = srv_key_ident_type(name); /* draft-geng-acme-public-key */
  if (srv_is_devid(name)) return strncmp(name, "hardware-module:", 16) == 0 ? "hardware-module" : "permanent-identifier";
  return srv_atc_split(name, &t, NULL) ? t : key ? key : srv_is_ip(name) ? "ip" : srv_is_eid(name) ? "bundleEID" : "dns";
}

/* Token identifiers are kept as "type:value" (tkauth.c), key and device identifiers as "type:value" too. */
const char *srv_ident_value(const char *name) {
  const char *v, *key = srv_key_ident_type(name);
  if (srv_is_devid(name)) return strchr(name, ':') + 1;
  return srv_atc_split(name, NULL, &v) ? v : key ? name + strlen(key) + 1 : name;
}

/* RFC 8738 §3: the value is the address's canonical text, so the same address
 * always has one spelling (authorization reuse, CSR matching). inet_ntop
 * writes exactly that form (glibc follows RFC 5952 §4 for IPv6). */
char *srv_ip_name(const char *value, const char **type, char *why, size_t whylen) {
  unsigned char bin[16];
  char text[INET6_ADDRSTRLEN];
  int af = strchr(value, ':') ? AF_INET6 : AF_INET;
  *type = "malformed";
  if (inet_pton(af, value, bin) != 1 || !inet_ntop(af, bin, text, sizeof text)) {
    /* inet_pton refuses "127.000.000.001" too; name the rule that matters. */
    snprintf(why, whylen, "\"%.100s\" is not an IPv%d address in canonical text form (RFC 8738 §3)", value,
             af == AF_INET6 ? 6 : 4);
    return NULL;
  }
  if (strcmp(text, value) != 0) {
    snprintf(why, whylen, "\"%.100s\" is not the canonical text of its address (RFC 8738 §3: RFC 1123 §2.1 / "
             "RFC 5952 §4); write \"%s\"", value, text);
    return NULL;
  }
  char *copy = strdup(value);
  if (!copy) *type = "serverInternal", snprintf(why, whylen, "out of memory");
  return copy;
}

/* ---- state ------------------------------------------------------------------- */

void srv_order_free(srv_order *o) {
  if (!o) return;
  for (size_t i = 0; i < o->nnames; i++) free(o->names[i]);
  free(o->names);
  free(o->authz);
  json_decref(o->error);
  free(o->replaces);
  free(o->profile);
  free(o);
}

static void order_fail(srv_order *o, json_t *error) {
  o->status = ORD_INVALID;
  json_decref(o->error);
  o->error = error;
}

static const char *authz_status_name(srv_authz_status st) {
  static const char *const n[] = {"pending", "valid", "invalid", "deactivated", "expired"};
  return n[st];
}

void srv_order_refresh(acmeh_server *s, srv_order *o) {
  if (o->status != ORD_PENDING && o->status != ORD_READY) return;
  if (acmeh_now_wall() > o->expires) return order_fail(o, srv_problem_obj("malformed", "the order expired"));
  int all_valid = 1;
  for (size_t i = 0; i < o->nnames; i++) {
    srv_authz *a = srv_authz_get(s, o->authz[i]);
    if (a) srv_authz_refresh(s, a);
    if (a && a->status == AZ_VALID) continue;
    if (a && a->status == AZ_PENDING) {
      all_valid = 0;
      continue;
    }
    char d[200];
    snprintf(d, sizeof d, "authorization for %s is %s", o->names[i], a ? authz_status_name(a->status) : "gone");
    return order_fail(o, srv_problem_obj("unauthorized", d));
  }
  o->status = all_valid ? ORD_READY : ORD_PENDING;
}

json_t *srv_order_json(acmeh_server *s, srv_order *o) {
  static const char *const st[] = {"pending", "ready", "processing", "valid", "invalid"};
  char t[32];
  srv_rfc3339(o->expires, t);
  json_t *ids = json_array(), *authz = json_array();
  for (size_t i = 0; i < o->nnames; i++) {
    json_array_append_new(ids, json_pack("{s:s,s:s}", "type", srv_ident_type(o->names[i]), "value", srv_ident_value(o->names[i])));
    char *u = srv_url(s, "authz", o->authz[i]);
    if (u) json_array_append_new(authz, json_string(u));
    free(u);
  }
  json_t *j = json_pack("{s:s,s:s,s:o,s:o}", "status", st[o->status], "expires", t, "identifiers", ids,
                        "authorizations", authz);
  if (o->not_before) srv_rfc3339(o->not_before, t), json_object_set_new(j, "notBefore", json_string(t));
  if (o->not_after) srv_rfc3339(o->not_after, t), json_object_set_new(j, "notAfter", json_string(t));
  char *u = srv_url(s, "order", o->e.id), *fin = NULL;
  if (u && asprintf(&fin, "%s/finalize", u) >= 0) json_object_set_new(j, "finalize", json_string(fin));
  free(u), free(fin);
  if (o->cert[0]) {
    u = srv_url(s, "cert", o->cert);
    if (u) json_object_set_new(j, "certificate", json_string(u));
    free(u);
  }
  if (o->error) json_object_set(j, "error", o->error);
  if (o->replaces) json_object_set_new(j, "replaces", json_string(o->replaces)); /* RFC 9773 §5 */
  if (o->profile) json_object_set_new(j, "profile", json_string(o->profile));    /* profiles draft §4 */
  return j;
}

/* ---- newOrder ------------------------------------------------------------------ */

/* Validates the identifiers into names (deduplicated); 0 with rs filled on refusal. */
static int parse_identifiers(acmeh_server *s, const json_t *ids, char ***names, size_t *n, srv_resp *rs) {
  if (!json_is_array(ids) || !json_array_size(ids) || json_array_size(ids) > SRV_MAX_IDENTIFIERS)
    return srv_problem(rs, 400, "malformed", "identifiers must be an array of 1 to %d objects", SRV_MAX_IDENTIFIERS), 0;
  *names = calloc(json_array_size(ids), sizeof **names);
  json_t *subs = json_array(), *id;
  size_t i, unsupported = 0;
  json_array_foreach(ids, i, id) {
    const char *type = json_string_value(json_object_get(id, "type")), *value = json_string_value(json_object_get(id, "value"));
    const char *ptype = "malformed";
    char why[300] = "identifier needs string type and value", *name = NULL;
    int eid = type && value && strcmp(type, "bundleEID") == 0 && s->dtn.port; /* RFC 9891 §2 */
    if (type && value && srv_devid_parse(s, type, value, &name, &ptype, why, sizeof why))
      ; /* draft-ietf-acme-device-attest §3, §4 (devattest.c) */
    else if (type && value && (strcmp(type, "TNAuthList") == 0 || strcmp(type, "JWTClaimConstraints") == 0))
      name = srv_atc_name(type, value, srv_atc_lenient_der(s), &ptype, why, sizeof why);
    else if (type && value && acmeh_pk_is_key_type(type)) /* draft-geng-acme-public-key */
      name = srv_key_ident(s, type, value, &ptype, why, sizeof why), unsupported += !name && !strcmp(ptype, "unsupportedIdentifier");
    else if (type && value && strcmp(type, "dns") != 0 && strcmp(type, "ip") != 0 && !eid)
      ptype = "unsupportedIdentifier", unsupported++,
      snprintf(why, sizeof why, "identifier type \"%.40s\" is not supported; use \"dns\" or \"ip\"", type);
    else if (eid)
      name = srv_eid_name(&s->dtn, value, &ptype, why, sizeof why);
    else if (type && value && strcmp(type, "ip") == 0) /* RFC 8738 §3; never a wildcard */
      name = srv_ip_name(value, &ptype, why, sizeof why);
    else if (type && value)
      name = srv_dns_name(value, 1, &ptype, why, sizeof why);
    const char *onion = name && strcmp(type, "dns") == 0 ? srv_onion_name_problem(s, name + (name[0] == '*' ? 2 : 0), why, sizeof why) : NULL;
    if (onion) { /* RFC 9799 §2: v3 onion addresses only */
      char reason[300];
      snprintf(reason, sizeof reason, "\"%.100s\" %s", name, onion);
      snprintf(why, sizeof why, "%s", reason);
      free(name), name = NULL, ptype = "rejectedIdentifier";
    }
    if (!name) {
      json_t *sp = srv_problem_obj(ptype, why);
      if (type && value) json_object_set_new(sp, "identifier", json_pack("{s:s,s:s}", "type", type, "value", value));
      json_array_append_new(subs, sp);
      continue;
    }
    size_t k = 0;
    while (k < *n && strcmp((*names)[k], name) != 0) k++;
    if (k < *n) free(name);
    else (*names)[(*n)++] = name;
  }
  if (!json_array_size(subs)) {
    json_decref(subs);
    for (size_t k = 0; *n > 1 && k < *n; k++)
      if (srv_is_key_ident((*names)[k]))
        return srv_problem(rs, 400, "rejectedIdentifier", "a %s identifier must be the order's only identifier: one "
                           "certificate certifies one key (draft-geng-acme-public-key)", srv_key_ident_type((*names)[k])), 0;
    return 1;
  }
  const char *top = unsupported == json_array_size(subs) ? "unsupportedIdentifier" : "rejectedIdentifier";
  char d[100];
  snprintf(d, sizeof d, "%zu of the identifiers cannot be issued for; see subproblems", json_array_size(subs));
  json_t *p = srv_problem_obj(top, d);
  json_object_set_new(p, "subproblems", subs);
  srv_problem_send(rs, 400, p);
  return 0;
}

static int parse_validity(const json_t *p, srv_order *o, srv_resp *rs) {
  const json_t *nb = json_object_get(p, "notBefore"), *na = json_object_get(p, "notAfter");
  if ((nb && (!json_is_string(nb) || !srv_parse_rfc3339(json_string_value(nb), &o->not_before))) ||
      (na && (!json_is_string(na) || !srv_parse_rfc3339(json_string_value(na), &o->not_after))))
    return srv_problem(rs, 400, "malformed", "notBefore / notAfter must be RFC 3339 date-times"), 0;
  double from = o->not_before ? o->not_before : acmeh_now_wall();
  if (o->not_after && (o->not_after <= from || o->not_after - from > MAX_ORDER_SPAN))
    return srv_problem(rs, 400, "malformed", "notAfter must be after notBefore and at most 398 days later"), 0;
  return 1;
}

/* The account's valid, unexpired authorization for name, if any (§7.1.3 reuse). */
static srv_authz *reusable(acmeh_server *s, srv_account *acct, const char *name) {
  srv_authz *a = srv_authz_get(s, json_string_value(json_object_get(acct->valid_authz, name)));
  if (a) srv_authz_refresh(s, a);
  return a && a->status == AZ_VALID && a->expires > acmeh_now_wall() + 86400 ? a : NULL;
}

static int attach_authz(acmeh_server *s, srv_account *acct, srv_order *o) {
  o->authz = calloc(o->nnames ? o->nnames : 1, sizeof *o->authz);
  if (!o->authz) return ACMEH_NOMEM;
  for (size_t i = 0; i < o->nnames; i++) {
    srv_authz *a = reusable(s, acct, o->names[i]);
    int rc = ACMEH_OK;
    if (!a) a = srv_authz_create(s, acct, o->names[i], &rc);
    if (!a) return rc;
    memcpy(o->authz[i], a->e.id, sizeof o->authz[i]);
  }
  return ACMEH_OK;
}

/* Eviction goes oldest first, so the order is nearly always the first entry. */
void srv_order_unlist(acmeh_server *s, const srv_order *o) {
  srv_account *acct = srv_account_get(s, o->account);
  for (size_t i = 0; acct && i < acct->norders; i++)
    if (strcmp(acct->orders[i], o->e.id) == 0) {
      free(acct->orders[i]);
      memmove(&acct->orders[i], &acct->orders[i + 1], (acct->norders - i - 1) * sizeof *acct->orders);
      acct->norders--;
      /* Given back as the list empties, so a quiet account keeps little. */
      if (acct->orders_cap > 16 && acct->norders * 4 < acct->orders_cap) {
        char **p = realloc(acct->orders, acct->orders_cap / 2 * sizeof *p);
        if (p) acct->orders = p, acct->orders_cap /= 2;
      }
      return;
    }
}

/* Remembers the order in the account's list, dropping ids of evicted orders when it fills. */
static void remember(acmeh_server *s, srv_account *acct, const char *id) {
  if (acct->norders == acct->orders_cap) {
    size_t k = 0;
    for (size_t i = 0; i < acct->norders; i++) {
      if (srv_order_get(s, acct->orders[i])) acct->orders[k++] = acct->orders[i];
      else free(acct->orders[i]);
    }
    acct->norders = k;
  }
  if (acct->norders == acct->orders_cap) {
    size_t cap = acct->orders_cap ? acct->orders_cap * 2 : 16;
    char **p = realloc(acct->orders, cap * sizeof *p);
    if (!p) return;
    acct->orders = p;
    acct->orders_cap = cap;
  }
  acct->orders[acct->norders] = strdup(id);
  if (acct->orders[acct->norders]) acct->norders++;
}

void srv_h_new_order(srv_req *rq, srv_resp *rs) {
  acmeh_server *s = rq->s;
  if (rq->post_as_get) return srv_problem(rs, 400, "malformed", "newOrder needs a JSON object payload");
  srv_order *o = calloc(1, sizeof *o);
  if (!o) return srv_problem(rs, 500, "serverInternal", "out of memory");
  srv_cert *replaced = NULL;
  int ok = parse_identifiers(s, json_object_get(rq->payload, "identifiers"), &o->names, &o->nnames, rs), has_ip = 0;
  for (size_t i = 0; ok && i < o->nnames; i++) has_ip |= srv_is_ip(o->names[i]);
  if (!ok || !parse_validity(rq->payload, o, rs) || !srv_profile_select(s, rq->payload, has_ip, &o->profile, rs) ||
      !srv_ari_replaces_check(rq, rs, o->names, o->nnames, &replaced))
    return srv_order_free(o);
  memcpy(o->account, rq->acct->e.id, sizeof o->account);
  o->expires = acmeh_now_wall() + SRV_ORDER_LIFETIME;
  if (srv_random_id(o->e.id) || attach_authz(s, rq->acct, o) || srv_table_add(&s->orders, &o->e)) {
    srv_order_free(o);
    return srv_problem(rs, 500, "serverInternal", "cannot store the order");
  }
  remember(s, rq->acct, o->e.id);
  if (replaced) srv_ari_mark_replaced(replaced, o, json_string_value(json_object_get(rq->payload, "replaces")));
  srv_order_refresh(s, o);
  char *u = srv_url(s, "order", o->e.id);
  srv_header(rs, "Location: %s", u ? u : "");
  free(u);
  srv_json(rs, 201, srv_order_json(s, o));
}

/* ---- finalize ------------------------------------------------------------------- */

static int has_name(char *const *names, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(names[i], name) == 0) return 1;
  return 0;
}

/* A dNSName holding an address literal: its text would pass for an ip
 * identifier, but RFC 8738 identifiers go in iPAddress SANs (RFC 5280
 * §4.2.1.6), so one is refused. */
static int csr_dns_holds_ip(const STACK_OF(X509_EXTENSION) *exts, char *why, size_t whylen) {
  GENERAL_NAMES *gens = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
  int found = 0;
  for (int i = 0; !found && i < sk_GENERAL_NAME_num(gens); i++) {
    int t = 0;
    const ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &t);
    char text[64];
    if (t != GEN_DNS || ASN1_STRING_length(v) >= (int)sizeof text) continue;
    snprintf(text, sizeof text, "%.*s", ASN1_STRING_length(v), (const char *)ASN1_STRING_get0_data(v));
    if (srv_is_ip(text)) found = 1, snprintf(why, whylen, "the CSR has %s as a dNSName; an ip identifier "
                                             "goes in an iPAddress SAN (RFC 8738)", text);
  }
  GENERAL_NAMES_free(gens);
  return found;
}

/* §7.4: the CSR names exactly the order's identifiers (SANs, and the CN if
 * any; an ip identifier only as an iPAddress SAN). */
/* Names OpenSSL would read past: a second subjectAltName extension makes it
 * read none (RFC 5280 §4.2 allows one of each extension), a second
 * commonName is never looked at, a NUL cuts the name short. Each would let a
 * CSR name more than the order (§7.4: exactly the order's identifiers). */
static int csr_names_unambiguous(const acmeh_csr *csr, const STACK_OF(X509_EXTENSION) *exts, char *why, size_t whylen) {
  if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1)) >= 0)
    return snprintf(why, whylen, "the CSR has more than one subjectAltName extension (RFC 5280 §4.2)"), 0;
  const X509_NAME *subj = acmeh_csr_subject(csr);
  int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
  if (i < 0) return 1;
  if (X509_NAME_get_index_by_NID(subj, NID_commonName, i) >= 0)
    return snprintf(why, whylen, "the CSR's subject has more than one commonName"), 0;
  const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
  if (ASN1_STRING_length(cn) > 64 || memchr(ASN1_STRING_get0_data(cn), 0, (size_t)ASN1_STRING_length(cn)))
    return snprintf(why, whylen, "the CSR's commonName is longer than 64 bytes or holds a NUL byte (RFC 5280 ub-common-name)"), 0;
  return 1;
}

int srv_csr_names_ok(const acmeh_csr *csr, char *const *all, size_t nall, char *why, size_t whylen) {
  for (size_t i = 0; i < nall; i++) /* device identifiers: srv_devid_csr_ok instead */
    if (srv_is_devid(all[i])) return 1;
  char *names[SRV_MAX_IDENTIFIERS]; /* token identifiers are judged by srv_atc_csr_ok */
  size_t nnames = srv_atc_plain_names(all, nall < SRV_MAX_IDENTIFIERS ? nall : SRV_MAX_IDENTIFIERS, names);
  char **sans = NULL, cn[256] = "";
  size_t n = 0;
  STACK_OF(X509_EXTENSION) *exts = acmeh_csr_extensions(csr);
  int read = csr_names_unambiguous(csr, exts, why, whylen) && !csr_dns_holds_ip(exts, why, whylen) &&
             acmeh_exts_sans(exts, &sans, &n) == ACMEH_OK;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (!read) return why[0] ? 0 : (snprintf(why, whylen, "cannot read the CSR's names"), 0);
  X509_NAME_get_text_by_NID(acmeh_csr_subject(csr), NID_commonName, cn, sizeof cn);
  int ok = 1;
  for (size_t i = 0; ok && i < n; i++)
    if (!has_name(names, nnames, sans[i]))
      ok = 0, snprintf(why, whylen, "the CSR names %.100s, which is not in the order", sans[i]);
  for (size_t i = 0; ok && i < nnames; i++)
    if (!has_name(sans, n, names[i]) && (srv_is_ip(names[i]) || srv_is_eid(names[i]) || strcasecmp(cn, names[i]) != 0))
      ok = 0, snprintf(why, whylen, "the CSR does not name %.100s from the order", names[i]);
  if (ok && cn[0] && !has_name(names, nnames, cn))
    ok = 0, snprintf(why, whylen, "the CSR's common name %.100s is not in the order", cn);
  acmeh_names_free(sans, n);
  return ok;
}

/* §11.1: the certificate key must be acceptable and no account's key. */
static int csr_key_ok(acmeh_server *s, EVP_PKEY *pub, char *why, size_t whylen) {
  acmeh_key *k = NULL;
  char tp[44];
  int ok = 0;
  if (acmeh_key_from_pkey(pub, &k) != ACMEH_OK) snprintf(why, whylen, "the CSR key type is not supported");
  else if (!srv_key_acceptable(k, NULL, why, whylen)) ok = 0;
  else if (acmeh_key_thumbprint(k, tp) != ACMEH_OK) snprintf(why, whylen, "cannot hash the CSR key");
  else if (srv_account_by_key(s, tp)) snprintf(why, whylen, "the CSR key is an account key (RFC 8555 §11.1)");
  else ok = 1;
  acmeh_key_free(k);
  return ok;
}

/* The order's JSON is built by srv_order_answer, after a short wait when
 * issuance runs (wait.c). */
static void answer_later(srv_resp *rs, const srv_order *o) {
  rs->wait = (srv_wait_on){.kind = SRV_WAIT_ORDER};
  memcpy(rs->wait.id, o->e.id, sizeof rs->wait.id);
}

void srv_order_answer(acmeh_server *s, srv_resp *rs, const char *order_id) {
  srv_order *o = srv_order_get(s, order_id);
  if (!o) return srv_problem(rs, 404, "malformed", "no such order");
  srv_order_refresh(s, o);
  if (o->status == ORD_PROCESSING) srv_header(rs, "Retry-After: 1");
  srv_json(rs, 200, srv_order_json(s, o));
}

/* draft-geng-acme-public-key: the key the pk-01 challenge proved is the one
 * certified, from a CSR for that key or from no CSR at all (pk.c). */
static void finalize_key(srv_req *rq, srv_resp *rs, srv_order *o) {
  X509_PUBKEY *spki = NULL;
  if (!srv_pk_finalize_key(rq->s, o->names[0], rq->payload, &spki, rs)) return;
  int rc = srv_issue_async(rq->s, o, spki);
  X509_PUBKEY_free(spki);
  if (rc != ACMEH_OK) return srv_problem(rs, 500, "serverInternal", "cannot queue issuance");
  o->status = ORD_PROCESSING;
  char *u = srv_url(rq->s, "order", o->e.id);
  srv_header(rs, "Location: %s", u ? u : "");
  free(u);
  answer_later(rs, o);
}

static void finalize(srv_req *rq, srv_resp *rs, srv_order *o) {
  acmeh_server *s = rq->s;
  static const char *const st[] = {"pending", "ready", "processing", "valid", "invalid"};
  if (rq->post_as_get) return srv_problem(rs, 400, "malformed", "finalize needs {\"csr\": ...}");
  srv_order_refresh(s, o);
  if (o->status != ORD_READY)
    return srv_problem(rs, 403, "orderNotReady", "the order is %s, not ready (RFC 8555 §7.4)", st[o->status]);
  double validity;
  const char *eku;
  if (o->profile && !srv_profile_params(s, o->profile, &validity, &eku))
    return srv_problem(rs, 400, "invalidProfile", "profile \"%s\" is no longer issued; start a new order", o->profile);
  if (o->nnames == 1 && srv_is_key_ident(o->names[0])) return finalize_key(rq, rs, o);
  const char *csr = json_string_value(json_object_get(rq->payload, "csr"));
  acmeh_csr *req = NULL;
  char why[256] = "";
  if (!csr) return srv_problem(rs, 400, "malformed", "finalize payload needs a \"csr\" string");
  if (!srv_onion_finalize_caa(s, o, rq->payload, rs)) return; /* RFC 9799 §6.4 in-band CAA */
  if (acmeh_csr_read(csr, &req) != ACMEH_OK)
    return srv_problem(rs, 400, "badCSR", "csr is not base64url (unpadded) DER of one PKCS#10 request");
  int ok = acmeh_spki_form_ok(acmeh_csr_spki(req), why, sizeof why);
  if (ok && !(ok = acmeh_csr_verify(req))) snprintf(why, sizeof why, "the CSR's self-signature does not verify");
  ok = ok && csr_key_ok(s, acmeh_csr_key(req), why, sizeof why) && srv_csr_names_ok(req, o->names, o->nnames, why, sizeof why) &&
       srv_atc_csr_ok(s, o, req, why, sizeof why);
  int devids = 0;
  for (size_t i = 0; i < o->nnames; i++) devids |= srv_is_devid(o->names[i]);
  ok = ok && (!devids || srv_devid_csr_ok(s, o, req, why, sizeof why));
  if (ok && srv_issue_async(s, o, acmeh_csr_spki(req)) != ACMEH_OK) {
    acmeh_csr_free(req);
    return srv_problem(rs, 500, "serverInternal", "cannot queue issuance");
  }
  acmeh_csr_free(req);
  if (!ok) return srv_problem(rs, 400, "badCSR", "%s; the order stays ready for a corrected CSR", why);
  o->status = ORD_PROCESSING;
  char *u = srv_url(s, "order", o->e.id);
  srv_header(rs, "Location: %s", u ? u : "");
  free(u);
  answer_later(rs, o);
}

void srv_h_order(srv_req *rq, srv_resp *rs, const char *id, const char *sub) {
  srv_order *o = srv_order_get(rq->s, id);
  /* Another account's order looks like a missing one (§10.5: no probing). */
  if (!o || strcmp(o->account, rq->acct->e.id) != 0) return srv_problem(rs, 404, "malformed", "no such order");
  if (sub) return finalize(rq, rs, o);
  if (!rq->post_as_get) return srv_problem(rs, 400, "malformed", "an order is fetched with POST-as-GET (payload \"\")");
  answer_later(rs, o);
}
