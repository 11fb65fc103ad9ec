/* Device identifiers of draft-ietf-acme-device-attest: the
 * "permanent-identifier" (§3, RFC 4043 PermanentIdentifier) and
 * "hardware-module" (§4, RFC 4108 HardwareModuleName) identifier types, their
 * value syntax and their subjectAltName otherName forms (ASN.1 templates, no
 * hand-written DER). */
#ifndef ACMEH_ACME_DEVID_H
#define ACMEH_ACME_DEVID_H

#include <openssl/x509v3.h>
#include <stddef.h>

typedef enum { ACMEH_DEVID_NONE = 0, ACMEH_DEVID_PERMANENT, ACMEH_DEVID_HWMODULE } acmeh_devid_type;

/* The type named by an ACME identifier "type" ("permanent-identifier",
 * "hardware-module"), or ACMEH_DEVID_NONE. */
acmeh_devid_type acmeh_devid_type_of(const char *type);
/* The ACME identifier type name of t (static), or NULL. */
const char *acmeh_devid_type_name(acmeh_devid_type t);

/* Checks `value` against the draft's ABNF (§3.1 permanent-identifier-value =
 * device-identifier ["/" assigner OID]; §4.1 hardware-module-value =
 * serial "/" type OID), OIDs dotted decimal without leading zeros. 1 when it
 * conforms, else 0 with the reason in why (whylen bytes). */
int acmeh_devid_value_ok(acmeh_devid_type t, const char *value, char *why, size_t whylen);

/* The otherName GENERAL_NAME (id-on-permanentIdentifier 1.3.6.1.5.5.7.8.3 or
 * id-on-hardwareModuleName 1.3.6.1.5.5.7.8.4) for a conforming value; caller
 * frees with GENERAL_NAME_free. NULL when the value does not conform. */
GENERAL_NAME *acmeh_devid_general_name(acmeh_devid_type t, const char *value);

/* The DER of the inner PermanentIdentifier / HardwareModuleName SEQUENCE for
 * a conforming value (vectors), malloc'd into *der and *len. ACMEH_OK,
 * ACMEH_INVALID_ARG or ACMEH_NOMEM. */
int acmeh_devid_der(acmeh_devid_type t, const char *value, unsigned char **der, size_t *len);

/* The identifier value a GENERAL_NAME carries when it is one of these
 * otherNames: identifierValue ["/" assigner] or hwSerialNum "/" hwType,
 * octet for octet (§3.2, §4.2: no normalisation). malloc'd; *t set. NULL
 * (with *t NONE) for any other name or an undecodable one. */
char *acmeh_devid_from_general_name(const GENERAL_NAME *gn, acmeh_devid_type *t);

#endif
