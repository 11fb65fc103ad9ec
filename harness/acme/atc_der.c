/* TNAuthList (RFC 8226 §9) and (Enhanced)JWTClaimConstraints (RFC 8226 §8,
 * RFC 9118 §3) as OpenSSL ASN.1 templates. The modules are DEFINITIONS
 * EXPLICIT TAGS (RFC 8226 Appendix A), hence ASN1_EXP everywhere: an
 * IMPLICIT-tagged input (0x80 ...) does not decode. DER, not just BER, is
 * enforced by re-encoding and comparing. */
#include <openssl/asn1t.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/acme/atc.h"
#include "harness/acme/b64.h"

/* ---- templates ------------------------------------------------------------ */

typedef struct {
  ASN1_IA5STRING *start;
  ASN1_INTEGER *count;
} TN_RANGE;
ASN1_SEQUENCE(TN_RANGE) = {ASN1_SIMPLE(TN_RANGE, start, ASN1_IA5STRING),
                           ASN1_SIMPLE(TN_RANGE, count, ASN1_INTEGER)} static_ASN1_SEQUENCE_END(TN_RANGE)

enum { TN_SPC = 0, TN_RANGE_E = 1, TN_ONE = 2 };
typedef struct {
  int type;
  union {
    ASN1_IA5STRING *spc;
    TN_RANGE *range;
    ASN1_IA5STRING *one;
  } d;
} TN_ENTRY;
ASN1_CHOICE(TN_ENTRY) = {ASN1_EXP(TN_ENTRY, d.spc, ASN1_IA5STRING, 0), ASN1_EXP(TN_ENTRY, d.range, TN_RANGE, 1),
                         ASN1_EXP(TN_ENTRY, d.one, ASN1_IA5STRING, 2)} static_ASN1_CHOICE_END(TN_ENTRY)
DEFINE_STACK_OF(TN_ENTRY)

typedef STACK_OF(TN_ENTRY) TN_LIST;
ASN1_ITEM_TEMPLATE(TN_LIST) = ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, TNAuthorizationList, TN_ENTRY)
static_ASN1_ITEM_TEMPLATE_END(TN_LIST)

typedef struct {
  ASN1_IA5STRING *claim;
  STACK_OF(ASN1_UTF8STRING) *values;
} JCC_VALUES;
ASN1_SEQUENCE(JCC_VALUES) = {ASN1_SIMPLE(JCC_VALUES, claim, ASN1_IA5STRING),
                             ASN1_SEQUENCE_OF(JCC_VALUES, values, ASN1_UTF8STRING)} static_ASN1_SEQUENCE_END(JCC_VALUES)
DEFINE_STACK_OF(JCC_VALUES)

/* Claim names are IA5String; the stacks hold ASN1_STRINGs whatever the tag. */
typedef struct {
  STACK_OF(ASN1_UTF8STRING) *must_include;
  STACK_OF(JCC_VALUES) *permitted;
} JCC;
ASN1_SEQUENCE(JCC) = {ASN1_EXP_SEQUENCE_OF_OPT(JCC, must_include, ASN1_IA5STRING, 0),
                      ASN1_EXP_SEQUENCE_OF_OPT(JCC, permitted, JCC_VALUES, 1)} static_ASN1_SEQUENCE_END(JCC)

typedef struct {
  STACK_OF(ASN1_UTF8STRING) *must_include;
  STACK_OF(JCC_VALUES) *permitted;
  STACK_OF(ASN1_UTF8STRING) *must_exclude;
} EJCC;
ASN1_SEQUENCE(EJCC) = {ASN1_EXP_SEQUENCE_OF_OPT(EJCC, must_include, ASN1_IA5STRING, 0),
                       ASN1_EXP_SEQUENCE_OF_OPT(EJCC, permitted, JCC_VALUES, 1),
                       ASN1_EXP_SEQUENCE_OF_OPT(EJCC, must_exclude, ASN1_IA5STRING, 2)} static_ASN1_SEQUENCE_END(EJCC)

static const ASN1_ITEM *item_of(acmeh_atc_der_kind k) {
  return k == ACMEH_DER_TNAUTHLIST ? ASN1_ITEM_rptr(TN_LIST) : k == ACMEH_DER_JCC ? ASN1_ITEM_rptr(JCC) : ASN1_ITEM_rptr(EJCC);
}

/* ---- decoding and the RFCs' constraints --------------------------------- */

/* Decodes der strictly as `it`: whole input used, and re-encoding gives the same bytes. */
static ASN1_VALUE *decode_der(const ASN1_ITEM *it, const unsigned char *der, size_t len, char *why, size_t whylen) {
  if (!der || len == 0 || len > ACMEH_ATC_MAX_DER) {
    acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "DER of %zu bytes (1..%d expected)", len, ACMEH_ATC_MAX_DER);
    return NULL;
  }
  const unsigned char *p = der;
  ASN1_VALUE *v = ASN1_item_d2i(NULL, &p, (long)len, it);
  if (!v || p != der + len) {
    acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "not a %s (explicit tags, RFC 8226 Appendix A)%s", it->sname,
              v ? ": trailing bytes" : "");
    ASN1_item_free(v, it);
    return NULL;
  }
  unsigned char *re = NULL;
  int n = ASN1_item_i2d(v, &re, it);
  int same = n == (int)len && memcmp(re, der, len) == 0;
  OPENSSL_free(re);
  if (!same) {
    acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "%s is BER, not DER (RFC 9448 §3)", it->sname);
    ASN1_item_free(v, it);
    return NULL;
  }
  return v;
}

static int ascii_in(const ASN1_STRING *s, const char *set, int lo, int hi) {
  int n = ASN1_STRING_length(s);
  const unsigned char *d = ASN1_STRING_get0_data(s);
  if (n < lo || n > hi) return 0;
  for (int i = 0; i < n; i++)
    if (d[i] == 0 || d[i] > 0x7e || (set && !strchr(set, d[i]))) return 0;
  return 1;
}

#define TN_CHARS "0123456789#*"

static int range_ok(const TN_RANGE *r, char *why, size_t whylen) {
  if (!ascii_in(r->start, TN_CHARS, 1, 15))
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "range start is not a TelephoneNumber (RFC 8226 §9)");
  int64_t count;
  if (!ASN1_INTEGER_get_int64(&count, r->count) || count < 2)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "range count must be an INTEGER >= 2 (RFC 8226 §9)");
  int len = ASN1_STRING_length(r->start);
  const unsigned char *d = ASN1_STRING_get0_data(r->start);
  uint64_t start = 0, limit = 1;
  for (int i = 0; i < len; i++) {
    if (d[i] < '0' || d[i] > '9') return ACMEH_OK; /* the sum rule is for digit-only starts */
    start = start * 10 + (uint64_t)(d[i] - '0');
    limit *= 10;
  }
  if ((uint64_t)count >= limit || start + (uint64_t)count >= limit)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL,
                     "range start %.*s + count %lld reaches 10^%d (RFC 8226 §9: start + count < 10^D)", len, d,
                     (long long)count, len);
  return ACMEH_OK;
}

static int tnauthlist_ok(const TN_LIST *l, char *why, size_t whylen) {
  int n = sk_TN_ENTRY_num(l);
  if (n < 1) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "TNAuthorizationList is empty (SIZE (1..MAX))");
  for (int i = 0; i < n; i++) {
    const TN_ENTRY *e = sk_TN_ENTRY_value(l, i);
    if (e->type == TN_SPC && !ascii_in(e->d.spc, NULL, 1, 256))
      return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "entry %d: ServiceProviderCode is not printable IA5", i);
    if (e->type == TN_ONE && !ascii_in(e->d.one, TN_CHARS, 1, 15))
      return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "entry %d: not a TelephoneNumber (1..15 of 0-9#*)", i);
    if (e->type == TN_RANGE_E && range_ok(e->d.range, why, whylen) != ACMEH_OK) return ACMEH_PEER_PROTOCOL;
  }
  return ACMEH_OK;
}

static int names_ok(const STACK_OF(ASN1_UTF8STRING) *names, const char *what, char *why, size_t whylen) {
  if (!names) return ACMEH_OK;
  if (sk_ASN1_UTF8STRING_num(names) < 1)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "%s is empty (SIZE (1..MAX))", what);
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(names); i++)
    if (!ascii_in(sk_ASN1_UTF8STRING_value(names, i), NULL, 1, 256))
      return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "%s: claim name %d is not ASCII (RFC 9118 §3)", what, i);
  return ACMEH_OK;
}

static int values_ok(const STACK_OF(JCC_VALUES) *pv, char *why, size_t whylen) {
  if (!pv) return ACMEH_OK;
  if (sk_JCC_VALUES_num(pv) < 1) return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "permittedValues is empty");
  for (int i = 0; i < sk_JCC_VALUES_num(pv); i++) {
    const JCC_VALUES *v = sk_JCC_VALUES_value(pv, i);
    if (!ascii_in(v->claim, NULL, 1, 256) || sk_ASN1_UTF8STRING_num(v->values) < 1)
      return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "permittedValues %d: ASCII claim and >= 1 value needed", i);
  }
  return ACMEH_OK;
}

static int jcc_ok(acmeh_atc_der_kind k, ASN1_VALUE *v, char *why, size_t whylen) {
  const STACK_OF(ASN1_UTF8STRING) *inc, *exc = NULL;
  const STACK_OF(JCC_VALUES) *pv;
  if (k == ACMEH_DER_JCC) {
    inc = ((JCC *)v)->must_include, pv = ((JCC *)v)->permitted;
  } else {
    inc = ((EJCC *)v)->must_include, pv = ((EJCC *)v)->permitted, exc = ((EJCC *)v)->must_exclude;
  }
  if (!inc && !pv && !exc)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "%s has no component (%s)",
                     k == ACMEH_DER_JCC ? "JWTClaimConstraints" : "EnhancedJWTClaimConstraints",
                     k == ACMEH_DER_JCC ? "RFC 8226 §8: mustInclude or permittedValues" : "RFC 9118 §3");
  if (names_ok(inc, "mustInclude", why, whylen) != ACMEH_OK || values_ok(pv, why, whylen) != ACMEH_OK ||
      names_ok(exc, "mustExclude", why, whylen) != ACMEH_OK)
    return ACMEH_PEER_PROTOCOL;
  return ACMEH_OK;
}

int acmeh_atc_der_check(acmeh_atc_der_kind kind, const unsigned char *der, size_t len, char *why, size_t whylen) {
  const ASN1_ITEM *it = item_of(kind);
  ASN1_VALUE *v = decode_der(it, der, len, why, whylen);
  if (!v) return ACMEH_PEER_PROTOCOL;
  int rc = kind == ACMEH_DER_TNAUTHLIST ? tnauthlist_ok((TN_LIST *)v, why, whylen) : jcc_ok(kind, v, why, whylen);
  ASN1_item_free(v, it);
  return rc;
}

int acmeh_atc_jcc_kind(const unsigned char *der, size_t len) {
  char why[8];
  for (int k = ACMEH_DER_JCC; k <= ACMEH_DER_EJCC; k++) {
    ASN1_VALUE *v = decode_der(item_of((acmeh_atc_der_kind)k), der, len, why, sizeof why);
    ASN1_item_free(v, item_of((acmeh_atc_der_kind)k));
    if (v) return k;
  }
  return -1;
}

/* ---- building from JSON ------------------------------------------------- */

static ASN1_STRING *str_of(const json_t *j, int type) {
  const char *s = json_string_value(j);
  ASN1_STRING *a = s ? ASN1_STRING_type_new(type) : NULL;
  if (a && !ASN1_STRING_set(a, s, (int)strlen(s))) ASN1_STRING_free(a), a = NULL;
  return a;
}

static TN_ENTRY *tn_entry_of(const json_t *e) {
  TN_ENTRY *t = (TN_ENTRY *)ASN1_item_new(ASN1_ITEM_rptr(TN_ENTRY));
  const json_t *r = json_object_get(e, "range");
  if (!t) return NULL;
  if (json_object_get(e, "spc")) {
    t->type = TN_SPC, t->d.spc = str_of(json_object_get(e, "spc"), V_ASN1_IA5STRING);
  } else if (json_object_get(e, "one")) {
    t->type = TN_ONE, t->d.one = str_of(json_object_get(e, "one"), V_ASN1_IA5STRING);
  } else if (json_is_object(r) && json_is_integer(json_object_get(r, "count"))) {
    t->type = TN_RANGE_E;
    t->d.range = (TN_RANGE *)ASN1_item_new(ASN1_ITEM_rptr(TN_RANGE));
    if (t->d.range) {
      ASN1_IA5STRING_free(t->d.range->start);
      t->d.range->start = str_of(json_object_get(r, "start"), V_ASN1_IA5STRING);
      ASN1_INTEGER_set_int64(t->d.range->count, json_integer_value(json_object_get(r, "count")));
    }
  } else {
    t->type = -1;
  }
  if (t->type < 0 || !t->d.spc || (t->type == TN_RANGE_E && !t->d.range->start)) {
    ASN1_item_free((ASN1_VALUE *)t, ASN1_ITEM_rptr(TN_ENTRY));
    return NULL;
  }
  return t;
}

static ASN1_VALUE *tn_build(const json_t *desc) {
  TN_LIST *l = sk_TN_ENTRY_new_null();
  size_t i;
  const json_t *e;
  if (!l || !json_is_array(desc)) goto fail;
  json_array_foreach(desc, i, e) {
    TN_ENTRY *t = tn_entry_of(e);
    if (!t || !sk_TN_ENTRY_push(l, t)) {
      ASN1_item_free((ASN1_VALUE *)t, ASN1_ITEM_rptr(TN_ENTRY));
      goto fail;
    }
  }
  return (ASN1_VALUE *)l;
fail:
  ASN1_item_free((ASN1_VALUE *)l, ASN1_ITEM_rptr(TN_LIST));
  return NULL;
}

/* An array of strings as a stack of `type` strings; NULL member = absent (*ok stays 1). */
static STACK_OF(ASN1_UTF8STRING) *names_of(const json_t *a, int type, int *ok) {
  if (!a) return NULL;
  STACK_OF(ASN1_UTF8STRING) *s = json_is_array(a) ? sk_ASN1_UTF8STRING_new_null() : NULL;
  size_t i;
  const json_t *e;
  if (!s) *ok = 0;
  json_array_foreach(a, i, e) {
    ASN1_STRING *v = s ? str_of(e, type) : NULL;
    if (!v || !sk_ASN1_UTF8STRING_push(s, v)) ASN1_STRING_free(v), *ok = 0;
  }
  return s;
}

static STACK_OF(JCC_VALUES) *values_of(const json_t *o, int *ok) {
  if (!o) return NULL;
  STACK_OF(JCC_VALUES) *s = json_is_object(o) ? sk_JCC_VALUES_new_null() : NULL;
  const char *k;
  const json_t *vals;
  if (!s) *ok = 0;
  json_object_foreach((json_t *)o, k, vals) {
    JCC_VALUES *v = s ? (JCC_VALUES *)ASN1_item_new(ASN1_ITEM_rptr(JCC_VALUES)) : NULL;
    if (!v || !sk_JCC_VALUES_push(s, v)) {
      ASN1_item_free((ASN1_VALUE *)v, ASN1_ITEM_rptr(JCC_VALUES)), *ok = 0;
      continue;
    }
    ASN1_IA5STRING_free(v->claim);
    v->claim = ASN1_IA5STRING_new();
    if (!v->claim || !ASN1_STRING_set(v->claim, k, (int)strlen(k))) *ok = 0;
    sk_ASN1_UTF8STRING_free(v->values);
    v->values = names_of(vals, V_ASN1_UTF8STRING, ok);
    if (!v->values) *ok = 0;
  }
  return s;
}

static ASN1_VALUE *jcc_build(acmeh_atc_der_kind k, const json_t *desc) {
  int ok = json_is_object(desc);
  ASN1_VALUE *v = ok ? ASN1_item_new(item_of(k)) : NULL;
  if (!v) return NULL;
  STACK_OF(ASN1_UTF8STRING) *inc = names_of(json_object_get(desc, "mustInclude"), V_ASN1_IA5STRING, &ok);
  STACK_OF(JCC_VALUES) *pv = values_of(json_object_get(desc, "permittedValues"), &ok);
  if (k == ACMEH_DER_JCC) {
    ((JCC *)v)->must_include = inc, ((JCC *)v)->permitted = pv;
    if (json_object_get(desc, "mustExclude")) ok = 0;
  } else {
    ((EJCC *)v)->must_include = inc, ((EJCC *)v)->permitted = pv;
    ((EJCC *)v)->must_exclude = names_of(json_object_get(desc, "mustExclude"), V_ASN1_IA5STRING, &ok);
  }
  if (!ok) ASN1_item_free(v, item_of(k)), v = NULL;
  return v;
}

int acmeh_atc_der_build(acmeh_atc_der_kind kind, const json_t *desc, unsigned char **der, size_t *len, char *why,
                        size_t whylen) {
  const ASN1_ITEM *it = item_of(kind);
  ASN1_VALUE *v = kind == ACMEH_DER_TNAUTHLIST ? tn_build(desc) : jcc_build(kind, desc);
  if (!v) return acmeh_msg(why, whylen, ACMEH_INVALID_ARG, "cannot build a %s from that description", it->sname);
  unsigned char *out = NULL;
  int n = ASN1_item_i2d(v, &out, it);
  ASN1_item_free(v, it);
  if (n <= 0) return acmeh_msg(why, whylen, ACMEH_NOMEM, "DER encoding failed");
  *der = malloc((size_t)n);
  if (*der) memcpy(*der, out, (size_t)n);
  OPENSSL_free(out);
  *len = (size_t)n;
  return *der ? ACMEH_OK : ACMEH_NOMEM;
}

/* ---- identifier values -------------------------------------------------- */

char *acmeh_atc_value(const unsigned char *der, size_t len) { return acmeh_b64url_encode(der, len); }

int acmeh_atc_value_decode(const char *value, unsigned char **der, size_t *len, char *why, size_t whylen) {
  size_t n = value ? strlen(value) : 0;
  *der = NULL;
  if (n == 0 || n > (ACMEH_ATC_MAX_DER * 4 + 2) / 3)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL, "identifier value of %zu characters", n);
  if (acmeh_b64url_decode(value, n, der, len) != ACMEH_OK)
    return acmeh_msg(why, whylen, ACMEH_PEER_PROTOCOL,
                     "value is not unpadded base64url (RFC 9448 §3: no '=', no '+' or '/')");
  return ACMEH_OK;
}

int acmeh_atc_tn_add_spc(const unsigned char *der, size_t len, const char *spc, unsigned char **out, size_t *outlen) {
  char why[8];
  TN_LIST *l = (TN_LIST *)decode_der(ASN1_ITEM_rptr(TN_LIST), der, len, why, sizeof why);
  json_t *d = json_pack("{s:s}", "spc", spc);
  TN_ENTRY *e = l && d ? tn_entry_of(d) : NULL;
  json_decref(d);
  int rc = e && sk_TN_ENTRY_push(l, e) ? ACMEH_OK : ACMEH_INVALID_ARG;
  if (rc != ACMEH_OK) ASN1_item_free((ASN1_VALUE *)e, ASN1_ITEM_rptr(TN_ENTRY));
  unsigned char *enc = NULL;
  int n = rc == ACMEH_OK ? ASN1_item_i2d((ASN1_VALUE *)l, &enc, ASN1_ITEM_rptr(TN_LIST)) : 0;
  ASN1_item_free((ASN1_VALUE *)l, ASN1_ITEM_rptr(TN_LIST));
  if (rc == ACMEH_OK && n > 0 && (*out = malloc((size_t)n))) {
    memcpy(*out, enc, (size_t)n);
    *outlen = (size_t)n;
  } else if (rc == ACMEH_OK) {
    rc = ACMEH_NOMEM;
  }
  OPENSSL_free(enc);
  return rc;
}
