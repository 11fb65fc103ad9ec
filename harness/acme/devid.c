/* permanent-identifier and hardware-module values and otherNames (devid.h). */
#include "harness/acme/devid.h"

#include <openssl/asn1t.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* RFC 4043 §2: PermanentIdentifier ::= SEQUENCE { identifierValue UTF8String
 * OPTIONAL, assigner OBJECT IDENTIFIER OPTIONAL } */
typedef struct {
  ASN1_UTF8STRING *identifierValue;
  ASN1_OBJECT *assigner;
} PERMANENT_ID;
ASN1_SEQUENCE(PERMANENT_ID) = {
    ASN1_OPT(PERMANENT_ID, identifierValue, ASN1_UTF8STRING),
    ASN1_OPT(PERMANENT_ID, assigner, ASN1_OBJECT),
} ASN1_SEQUENCE_END(PERMANENT_ID)
IMPLEMENT_ASN1_FUNCTIONS(PERMANENT_ID)

/* RFC 4108 §5: HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER,
 * hwSerialNum OCTET STRING } */
typedef struct {
  ASN1_OBJECT *hwType;
  ASN1_OCTET_STRING *hwSerialNum;
} HW_MODULE_NAME;
ASN1_SEQUENCE(HW_MODULE_NAME) = {
    ASN1_SIMPLE(HW_MODULE_NAME, hwType, ASN1_OBJECT),
    ASN1_SIMPLE(HW_MODULE_NAME, hwSerialNum, ASN1_OCTET_STRING),
} ASN1_SEQUENCE_END(HW_MODULE_NAME)
IMPLEMENT_ASN1_FUNCTIONS(HW_MODULE_NAME)

#define OID_PERMANENT "1.3.6.1.5.5.7.8.3"
#define OID_HWMODULE "1.3.6.1.5.5.7.8.4"

acmeh_devid_type acmeh_devid_type_of(const char *type) {
  if (type && strcmp(type, "permanent-identifier") == 0) return ACMEH_DEVID_PERMANENT;
  if (type && strcmp(type, "hardware-module") == 0) return ACMEH_DEVID_HWMODULE;
  return ACMEH_DEVID_NONE;
}

const char *acmeh_devid_type_name(acmeh_devid_type t) {
  return t == ACMEH_DEVID_PERMANENT ? "permanent-identifier" : t == ACMEH_DEVID_HWMODULE ? "hardware-module" : NULL;
}

/* Dotted decimal OID text: arcs of digits without leading zeros, at least two,
 * the first 0..2 (X.660). */
static int oid_text_ok(const char *s) {
  int arcs = 0;
  for (const char *p = s;; p++) {
    const char *start = p;
    while (*p >= '0' && *p <= '9') p++;
    if (p == start || (*start == '0' && p - start > 1)) return 0;
    if (arcs == 0 && (p - start != 1 || *start > '2')) return 0;
    arcs++;
    if (*p == '\0') return arcs >= 2;
    if (*p != '.') return 0;
  }
}

int acmeh_devid_value_ok(acmeh_devid_type t, const char *value, char *why, size_t whylen) {
  if (!value || t == ACMEH_DEVID_NONE) return snprintf(why, whylen, "no value"), 0;
  const char *slash = strchr(value, '/');
  if (slash == value) return snprintf(why, whylen, "empty %s before \"/\"", t == ACMEH_DEVID_PERMANENT ? "device identifier" : "serial number"), 0;
  if (!slash && t == ACMEH_DEVID_HWMODULE) return snprintf(why, whylen, "a hardware-module value needs \"/<type OID>\" (§4.1)"), 0;
  if (!slash) return *value ? 1 : (snprintf(why, whylen, "empty value"), 0);
  if (!oid_text_ok(slash + 1))
    return snprintf(why, whylen, "\"%.100s\" after \"/\" is no dotted-decimal OID without leading zeros", slash + 1), 0;
  return 1;
}

/* Splits a conforming value into its text part (malloc'd) and OID (or NULL). */
static char *split(acmeh_devid_type t, const char *value, ASN1_OBJECT **oid) {
  char why[8];
  *oid = NULL;
  if (!acmeh_devid_value_ok(t, value, why, sizeof why)) return NULL;
  const char *slash = strchr(value, '/');
  if (slash && !(*oid = OBJ_txt2obj(slash + 1, 1))) return NULL;
  char *text = strndup(value, slash ? (size_t)(slash - value) : strlen(value));
  if (!text) ASN1_OBJECT_free(*oid), *oid = NULL;
  return text;
}

/* The inner SEQUENCE as an ASN1_TYPE (for otherName.value), NULL on failure. */
static ASN1_TYPE *inner(acmeh_devid_type t, const char *value) {
  ASN1_OBJECT *oid = NULL;
  char *text = split(t, value, &oid);
  ASN1_TYPE *out = NULL;
  if (text && t == ACMEH_DEVID_PERMANENT) {
    PERMANENT_ID *p = PERMANENT_ID_new();
    if (p && (p->identifierValue = ASN1_UTF8STRING_new()) && ASN1_STRING_set(p->identifierValue, text, -1))
      p->assigner = oid, oid = NULL, ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PERMANENT_ID), p, &out);
    PERMANENT_ID_free(p);
  } else if (text && t == ACMEH_DEVID_HWMODULE) {
    HW_MODULE_NAME *h = HW_MODULE_NAME_new();
    if (h && ASN1_STRING_set(h->hwSerialNum, text, -1)) {
      ASN1_OBJECT_free(h->hwType);
      h->hwType = oid, oid = NULL, ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(HW_MODULE_NAME), h, &out);
    }
    HW_MODULE_NAME_free(h);
  }
  ASN1_OBJECT_free(oid);
  free(text);
  return out;
}

GENERAL_NAME *acmeh_devid_general_name(acmeh_devid_type t, const char *value) {
  ASN1_TYPE *v = inner(t, value);
  ASN1_OBJECT *type_id = v ? OBJ_txt2obj(t == ACMEH_DEVID_PERMANENT ? OID_PERMANENT : OID_HWMODULE, 1) : NULL;
  GENERAL_NAME *gn = type_id ? GENERAL_NAME_new() : NULL;
  if (gn && GENERAL_NAME_set0_othername(gn, type_id, v)) return gn;
  GENERAL_NAME_free(gn), ASN1_OBJECT_free(type_id), ASN1_TYPE_free(v);
  return NULL;
}

int acmeh_devid_der(acmeh_devid_type t, const char *value, unsigned char **der, size_t *len) {
  ASN1_TYPE *v = inner(t, value);
  if (!v) return ACMEH_INVALID_ARG;
  const ASN1_STRING *s = v->value.sequence;
  *der = malloc((size_t)s->length);
  if (*der) memcpy(*der, s->data, (size_t)s->length), *len = (size_t)s->length;
  ASN1_TYPE_free(v);
  return *der ? ACMEH_OK : ACMEH_NOMEM;
}

/* "<text>[/<oid>]" from raw text bytes and an optional OID; malloc'd or NULL. */
static char *join(const unsigned char *text, int tlen, const ASN1_OBJECT *oid) {
  char o[128] = "";
  if (oid && OBJ_obj2txt(o, sizeof o, oid, 1) <= 0) return NULL;
  char *out = NULL;
  if (tlen < 0 || memchr(text, '\0', (size_t)tlen)) return NULL;
  if (asprintf(&out, "%.*s%s%s", tlen, (const char *)text, oid ? "/" : "", o) < 0) return NULL;
  return out;
}

char *acmeh_devid_from_general_name(const GENERAL_NAME *gn, acmeh_devid_type *t) {
  *t = ACMEH_DEVID_NONE;
  ASN1_OBJECT *type_id = NULL;
  ASN1_TYPE *v = NULL;
  if (!gn || !GENERAL_NAME_get0_otherName(gn, &type_id, &v) || !v || v->type != V_ASN1_SEQUENCE) return NULL;
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, type_id, 1);
  char *out = NULL;
  if (strcmp(oid, OID_PERMANENT) == 0) {
    PERMANENT_ID *p = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PERMANENT_ID), v);
    if (p && p->identifierValue) /* the draft requires identifierValue (§3.2) */
      out = join(p->identifierValue->data, p->identifierValue->length, p->assigner), *t = ACMEH_DEVID_PERMANENT;
    PERMANENT_ID_free(p);
  } else if (strcmp(oid, OID_HWMODULE) == 0) {
    HW_MODULE_NAME *h = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(HW_MODULE_NAME), v);
    if (h) out = join(h->hwSerialNum->data, h->hwSerialNum->length, h->hwType), *t = ACMEH_DEVID_HWMODULE;
    HW_MODULE_NAME_free(h);
  }
  if (!out) *t = ACMEH_DEVID_NONE;
  return out;
}
