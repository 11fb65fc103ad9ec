/* ACME Renewal Information (ARI, RFC 9773): certificate identifiers (§4.1),
 * RenewalInfo objects (§4.2) and the Retry-After handling of §4.3, plus the
 * RFC 3339 timestamps they use. Shared by the reference server, the client
 * and the ARI checks, so every side builds and reads certIDs the same way. */
#ifndef ACMEH_ACME_ARI_H
#define ACMEH_ACME_ARI_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stddef.h>

/* The RFC's example clamp bounds for Retry-After (§4.3.2): 1 minute .. 1 day. */
#define ACMEH_ARI_RETRY_MIN 60.0
#define ACMEH_ARI_RETRY_MAX 86400.0
/* The wait after a "long-term" error (§4.3.3): 6 hours. */
#define ACMEH_ARI_LONG_TERM_RETRY 21600.0

/* Builds the certID of RFC 9773 §4.1 for `cert`:
 *   base64url(AKI keyIdentifier octets) "." base64url(serial DER content octets)
 * where the serial's content octets are the DER INTEGER without tag and
 * length (so a serial whose first magnitude octet has the top bit set keeps
 * its leading 00); base64url without '=' padding (RFC 4648 §5).
 * On success *out is a malloc'd NUL-terminated string the caller frees.
 * Returns ACMEH_OK; ACMEH_PEER_PROTOCOL when the certificate has no Authority
 * Key Identifier extension or it has no keyIdentifier field (the RFC assumes
 * one); ACMEH_INVALID_ARG (NULL cert); ACMEH_NOMEM; ACMEH_INTERNAL (OpenSSL).
 * The reason goes into err (errlen bytes, may be NULL). */
int acmeh_ari_cert_id(X509 *cert, char **out, char *err, size_t errlen);

/* As acmeh_ari_cert_id for the first CERTIFICATE block of `len` bytes of PEM
 * text `pem` (a chain is fine: its first certificate counts). Same returns;
 * ACMEH_PEER_PROTOCOL also when no certificate can be read. */
int acmeh_ari_cert_id_pem(const char *pem, size_t len, char **out, char *err, size_t errlen);

/* Splits `cert_id` at its single '.' and decodes both parts, which must be
 * non-empty strict base64url without padding (harness/acme/b64.h rules).
 * On success *aki / *serial are malloc'd buffers (caller frees) of *aki_len /
 * *serial_len bytes; any output pointer may be NULL to only validate.
 * The serial part is not required to be minimal DER here (servers differ in
 * leniency, §4.1): see acmeh_ari_serial_der_minimal.
 * Returns ACMEH_OK, ACMEH_PEER_PROTOCOL (why in err: no '.', two '.', empty
 * part, padding, bad character), ACMEH_INVALID_ARG (NULL cert_id), ACMEH_NOMEM. */
int acmeh_ari_cert_id_parse(const char *cert_id, unsigned char **aki, size_t *aki_len,
                            unsigned char **serial, size_t *serial_len, char *err, size_t errlen);

/* 1 when `len` bytes `serial` are the minimal DER content octets of a
 * positive INTEGER (RFC 9773 §4.1 / X.690 §8.3.2): non-empty, no redundant
 * leading 00, first octet's top bit clear. 0 otherwise (e.g. the magnitude
 * bytes of a high-bit serial, which lack the 00). */
int acmeh_ari_serial_der_minimal(const unsigned char *serial, size_t len);

/* The RenewalInfo URL for `cert_id` (§4.1): renewal_info "/" cert_id, without
 * doubling a '/' that renewal_info already ends with. Malloc'd, caller frees;
 * NULL on allocation failure or NULL input. */
char *acmeh_ari_url(const char *renewal_info, const char *cert_id);

/* Parses an RFC 3339 date-time (RFC 3339 §5.6: "YYYY-MM-DDTHH:MM:SS",
 * optional ".fraction", then "Z" or "+hh:mm"/"-hh:mm"; 'T'/'Z' in either
 * case) into seconds since the Unix epoch in *out, fractional seconds and
 * the offset applied. Field ranges are checked (a leap second :60 counts as
 * the next minute's :00). Returns ACMEH_OK or
 * ACMEH_PEER_PROTOCOL for anything else (no out write then). */
int acmeh_rfc3339_parse(const char *s, double *out);

/* Formats `t` (seconds since the epoch, fraction dropped) as RFC 3339 UTC
 * "YYYY-MM-DDTHH:MM:SSZ" into `buf` (`len` bytes; 21 needed). Returns buf,
 * or NULL when len is too small or t is out of range. */
char *acmeh_rfc3339_format(double t, char *buf, size_t len);

/* A parsed RenewalInfo object (§4.2). start/end are seconds since the epoch. */
typedef struct {
  double start, end;
  char *explanation_url; /* malloc'd, NULL when absent */
} acmeh_ari_window;

/* Parses a RenewalInfo response `body` (§4.2): "suggestedWindow" object with
 * RFC 3339 strings "start" and "end", where end must be strictly after start
 * (a window with end <= start is invalid and the client must treat it as a
 * failed fetch); optional "explanationURL" string. Fills *w (clear it with
 * acmeh_ari_window_clear; *w is zeroed on error).
 * Returns ACMEH_OK; ACMEH_PEER_BAD_JSON (not an object, suggestedWindow
 * missing or not an object, start/end missing or not strings,
 * explanationURL not a string); ACMEH_PEER_PROTOCOL (a timestamp that is not
 * RFC 3339, end <= start); ACMEH_NOMEM. Why goes into err. */
int acmeh_ari_window_parse(const json_t *body, acmeh_ari_window *w, char *err, size_t errlen);

/* Frees w's members and zeroes it. NULL is a no-op. */
void acmeh_ari_window_clear(acmeh_ari_window *w);

/* Parses a Retry-After header value (RFC 9110 §10.2.3): delay-seconds
 * (digits only) or an HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT",
 * or the obsolete RFC 850 and asctime forms), relative to `now` (seconds
 * since the epoch). *seconds gets the delay in seconds; a date in the past
 * gives 0. Returns ACMEH_OK, or ACMEH_PEER_PROTOCOL for an empty, negative,
 * non-numeric or unparsable value (§4.3.3: a "long-term" error). */
int acmeh_retry_after_parse(const char *value, double now, double *seconds);

/* Clamps a Retry-After delay in seconds to the RFC's example bounds (§4.3.2):
 * below 60 s -> 60 s, above 86400 s -> 86400 s (NaN -> 21600 s). */
double acmeh_ari_clamp_retry(double seconds);

/* ---- ACME profiles (draft-ietf-acme-profiles-00) ------------------------ */

#define ACMEH_PROBLEM_INVALID_PROFILE "urn:ietf:params:acme:error:invalidProfile"
#define ACMEH_PROBLEM_ALREADY_REPLACED "urn:ietf:params:acme:error:alreadyReplaced"

/* Reads "meta"."profiles" of a `directory` object (§3): it must be an
 * object whose members map non-empty profile names to description strings.
 * On ACMEH_OK *profiles is that object (borrowed from directory; may be
 * empty). Returns ACMEH_UNSUPPORTED when the directory has no meta.profiles
 * (with *profiles NULL), ACMEH_PEER_BAD_JSON when it is not an object of
 * strings (why in err), ACMEH_INVALID_ARG for a NULL directory. */
int acmeh_profiles_from_directory(const json_t *directory, const json_t **profiles, char *err, size_t errlen);

/* Checks the "profile" member of an `order` object against the name the
 * client asked for (§4): `requested` NULL accepts any non-empty string (the
 * server's choice). Returns ACMEH_OK; ACMEH_UNSUPPORTED when the order has
 * no "profile" (the server ignored the field); ACMEH_PEER_PROTOCOL when it
 * is not a string, empty, or another name (why in err). */
int acmeh_order_profile_check(const json_t *order, const char *requested, char *err, size_t errlen);

/* 1 when `problem` is a JSON object whose "type" equals `type` (full URN,
 * e.g. ACMEH_PROBLEM_INVALID_PROFILE), else 0. */
int acmeh_problem_type_is(const json_t *problem, const char *type);

#endif
