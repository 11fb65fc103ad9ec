/* ARI (RFC 9773) helpers: certID, RenewalInfo parsing, Retry-After. */
#include "harness/acme/ari.h"

#include <math.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/acme/b64.h"
#include "base/error.h"

/* The content octets of a DER TLV (tag and length stripped). */
static int der_content(const unsigned char *der, size_t len, const unsigned char **c, size_t *clen) {
  if (len < 2) return 0;
  size_t hdr = 2, n = der[1];
  if (n & 0x80) {
    size_t k = n & 0x7f;
    if (k == 0 || k > sizeof(size_t) || len < 2 + k) return 0;
    n = 0;
    for (size_t i = 0; i < k; i++) n = (n << 8) | der[2 + i];
    hdr += k;
  }
  if (hdr + n != len) return 0;
  *c = der + hdr;
  *clen = n;
  return 1;
}

/* base64url of the serial's DER content octets (so a high-bit serial keeps its 00). */
static char *serial_b64(X509 *cert) {
  unsigned char *der = NULL;
  int dlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &der);
  const unsigned char *c;
  size_t clen;
  char *out = NULL;
  if (dlen > 0 && der_content(der, (size_t)dlen, &c, &clen)) out = acmeh_b64url_encode(c, clen);
  OPENSSL_free(der);
  return out;
}

int acmeh_ari_cert_id(X509 *cert, char **out, char *err, size_t errlen) {
  if (!cert || !out) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "no certificate");
  *out = NULL;
  int crit = 0;
  AUTHORITY_KEYID *akid = X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, NULL);
  if (!akid) {
    if (crit == -1) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "certificate has no Authority Key Identifier extension");
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "Authority Key Identifier extension unreadable or repeated");
  }
  if (!akid->keyid || akid->keyid->length <= 0) {
    AUTHORITY_KEYID_free(akid);
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "Authority Key Identifier has no keyIdentifier field");
  }
  char *a = acmeh_b64url_encode(akid->keyid->data, (size_t)akid->keyid->length);
  AUTHORITY_KEYID_free(akid);
  char *s = serial_b64(cert);
  if (!a || !s) {
    free(a), free(s);
    return acmeh_msg(err, errlen, ACMEH_INTERNAL, "encoding the serial number failed");
  }
  size_t n = strlen(a) + strlen(s) + 2;
  *out = malloc(n);
  if (*out) snprintf(*out, n, "%s.%s", a, s);
  free(a), free(s);
  return *out ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory");
}

int acmeh_ari_cert_id_pem(const char *pem, size_t len, char **out, char *err, size_t errlen) {
  if (!pem || !out) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "no PEM");
  *out = NULL;
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  X509 *cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  if (!cert) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "no PEM CERTIFICATE block could be read");
  int rc = acmeh_ari_cert_id(cert, out, err, errlen);
  X509_free(cert);
  return rc;
}

static int decode_part(const char *s, size_t n, const char *what, unsigned char **out, size_t *outlen,
                       char *err, size_t errlen) {
  if (n == 0) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "certID %s part is empty", what);
  if (memchr(s, '=', n)) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "certID %s part has '=' padding", what);
  int rc = acmeh_b64url_decode(s, n, out, outlen);
  if (rc == ACMEH_PEER_PROTOCOL) return acmeh_msg(err, errlen, rc, "certID %s part is not base64url", what);
  if (rc) return acmeh_msg(err, errlen, rc, "out of memory");
  return ACMEH_OK;
}

int acmeh_ari_cert_id_parse(const char *cert_id, unsigned char **aki, size_t *aki_len,
                            unsigned char **serial, size_t *serial_len, char *err, size_t errlen) {
  if (aki) *aki = NULL;
  if (serial) *serial = NULL;
  if (!cert_id) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "no certID");
  const char *dot = strchr(cert_id, '.');
  if (!dot) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "certID has no '.' separator");
  if (strchr(dot + 1, '.')) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "certID has more than one '.'");
  int rc = decode_part(cert_id, (size_t)(dot - cert_id), "keyIdentifier", aki, aki_len, err, errlen);
  if (rc) return rc;
  rc = decode_part(dot + 1, strlen(dot + 1), "serial", serial, serial_len, err, errlen);
  if (rc && aki) free(*aki), *aki = NULL;
  return rc;
}

int acmeh_ari_serial_der_minimal(const unsigned char *serial, size_t len) {
  if (!serial || len == 0) return 0;
  if (serial[0] & 0x80) return 0; /* negative, or a magnitude missing its 00 */
  if (len > 1 && serial[0] == 0 && !(serial[1] & 0x80)) return 0;
  return 1;
}

char *acmeh_ari_url(const char *renewal_info, const char *cert_id) {
  if (!renewal_info || !cert_id) return NULL;
  size_t rl = strlen(renewal_info), n = rl + strlen(cert_id) + 2;
  char *u = malloc(n);
  if (!u) return NULL;
  int slash = rl > 0 && renewal_info[rl - 1] == '/';
  snprintf(u, n, "%s%s%s", renewal_info, slash ? "" : "/", cert_id);
  return u;
}

/* ---- RFC 3339 ---------------------------------------------------------- */

/* Reads exactly `n` digits at *p into *v and advances. */
static int digits(const char **p, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return 0;
    *v = *v * 10 + (c - '0');
  }
  *p += n;
  return 1;
}

static int lit(const char **p, char a, char b) {
  if (**p != a && **p != b) return 0;
  (*p)++;
  return 1;
}

static int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : d[m - 1];
}

/* "YYYY-MM-DDTHH:MM:SS" into tm with range checks. */
static int parse_date_time(const char **p, struct tm *tm) {
  int y, mo, d, h, mi, s;
  if (!digits(p, 4, &y) || !lit(p, '-', '-') || !digits(p, 2, &mo) || !lit(p, '-', '-') ||
      !digits(p, 2, &d) || !lit(p, 'T', 't') || !digits(p, 2, &h) || !lit(p, ':', ':') ||
      !digits(p, 2, &mi) || !lit(p, ':', ':') || !digits(p, 2, &s))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60) return 0;
  *tm = (struct tm){.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
  return 1;
}

/* "Z" or "+hh:mm" / "-hh:mm" into seconds east of UTC. */
static int parse_offset(const char **p, long *off) {
  if (lit(p, 'Z', 'z')) return *off = 0, 1;
  char sign = **p;
  if (sign != '+' && sign != '-') return 0;
  (*p)++;
  int hh, mm;
  if (!digits(p, 2, &hh) || !lit(p, ':', ':') || !digits(p, 2, &mm) || hh > 23 || mm > 59) return 0;
  *off = (hh * 3600L + mm * 60L) * (sign == '-' ? -1 : 1);
  return 1;
}

int acmeh_rfc3339_parse(const char *s, double *out) {
  if (!s || !out) return ACMEH_PEER_PROTOCOL;
  const char *p = s;
  struct tm tm;
  if (!parse_date_time(&p, &tm)) return ACMEH_PEER_PROTOCOL;
  double frac = 0;
  if (*p == '.') {
    const char *f = ++p;
    double scale = 0.1;
    while (*p >= '0' && *p <= '9') frac += (*p++ - '0') * scale, scale /= 10;
    if (p == f) return ACMEH_PEER_PROTOCOL;
  }
  long off;
  if (!parse_offset(&p, &off) || *p) return ACMEH_PEER_PROTOCOL;
  time_t t = timegm(&tm); /* normalises a leap second :60 into the next minute */
  if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31)) return ACMEH_PEER_PROTOCOL;
  *out = (double)t - (double)off + frac;
  return ACMEH_OK;
}

char *acmeh_rfc3339_format(double t, char *buf, size_t len) {
  /* Outside the years 0000-9999 before the cast: converting a double beyond
   * time_t's range is undefined behaviour, not just a wrong year. */
  if (!buf || len < 21 || !(t >= -62167219200.0 && t < 253402300800.0)) return NULL;
  time_t secs = (time_t)floor(t);
  struct tm tm;
  if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) return NULL;
  if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return NULL;
  return buf;
}

/* ---- RenewalInfo ------------------------------------------------------- */

void acmeh_ari_window_clear(acmeh_ari_window *w) {
  if (!w) return;
  free(w->explanation_url);
  memset(w, 0, sizeof *w);
}

static int window_time(const json_t *sw, const char *name, double *t, char *err, size_t errlen) {
  const json_t *v = json_object_get(sw, name);
  if (!json_is_string(v))
    return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "suggestedWindow.%s is %s", name,
                     v ? "not a string" : "missing");
  if (acmeh_rfc3339_parse(json_string_value(v), t))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "suggestedWindow.%s \"%s\" is not an RFC 3339 date-time",
                     name, json_string_value(v));
  return ACMEH_OK;
}

int acmeh_ari_window_parse(const json_t *body, acmeh_ari_window *w, char *err, size_t errlen) {
  if (!w) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "no window");
  memset(w, 0, sizeof *w);
  if (!json_is_object(body)) return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "RenewalInfo is not a JSON object");
  const json_t *sw = json_object_get(body, "suggestedWindow");
  if (!json_is_object(sw))
    return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "suggestedWindow is %s", sw ? "not an object" : "missing");
  double start, end;
  int rc = window_time(sw, "start", &start, err, errlen);
  if (!rc) rc = window_time(sw, "end", &end, err, errlen);
  if (rc) return rc;
  if (!(end > start))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "suggestedWindow end is not after start (%.3f s)", end - start);
  const json_t *u = json_object_get(body, "explanationURL");
  if (u && !json_is_string(u)) return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "explanationURL is not a string");
  if (u && !(w->explanation_url = strdup(json_string_value(u)))) return acmeh_msg(err, errlen, ACMEH_NOMEM, "out of memory");
  w->start = start;
  w->end = end;
  return ACMEH_OK;
}

/* ---- Retry-After --------------------------------------------------------- */

/* The three HTTP-date forms of RFC 9110 §5.6.7, in the C locale's names. */
static int http_date(const char *v, double *t) {
  static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    struct tm tm = {0};
    const char *rest = strptime(v, fmts[i], &tm);
    if (rest && *rest == '\0') {
      *t = (double)timegm(&tm);
      return 1;
    }
  }
  return 0;
}

int acmeh_retry_after_parse(const char *value, double now, double *seconds) {
  if (!value || !seconds) return ACMEH_PEER_PROTOCOL;
  while (*value == ' ' || *value == '\t') value++;
  size_t n = strlen(value);
  while (n && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
  if (n == 0 || n > 64) return ACMEH_PEER_PROTOCOL;
  char v[65];
  memcpy(v, value, n);
  v[n] = '\0';
  if (strspn(v, "0123456789") == n) {
    *seconds = strtod(v, NULL);
    return ACMEH_OK;
  }
  double t;
  if (!http_date(v, &t)) return ACMEH_PEER_PROTOCOL;
  *seconds = t > now ? t - now : 0;
  return ACMEH_OK;
}

double acmeh_ari_clamp_retry(double seconds) {
  if (isnan(seconds)) return ACMEH_ARI_LONG_TERM_RETRY;
  if (seconds < ACMEH_ARI_RETRY_MIN) return ACMEH_ARI_RETRY_MIN;
  if (seconds > ACMEH_ARI_RETRY_MAX) return ACMEH_ARI_RETRY_MAX;
  return seconds;
}

/* ---- profiles ------------------------------------------------------------ */

int acmeh_profiles_from_directory(const json_t *directory, const json_t **profiles, char *err, size_t errlen) {
  if (profiles) *profiles = NULL;
  if (!directory) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "no directory");
  const json_t *p = json_object_get(json_object_get(directory, "meta"), "profiles");
  if (!p) return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "directory has no meta.profiles");
  if (!json_is_object(p)) return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "meta.profiles is not an object");
  const char *name;
  const json_t *desc;
  json_object_foreach((json_t *)p, name, desc) {
    if (!*name) return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "meta.profiles has an empty profile name");
    if (!json_is_string(desc))
      return acmeh_msg(err, errlen, ACMEH_PEER_BAD_JSON, "meta.profiles.%s is not a string", name);
  }
  if (profiles) *profiles = p;
  return ACMEH_OK;
}

int acmeh_order_profile_check(const json_t *order, const char *requested, char *err, size_t errlen) {
  const json_t *p = json_object_get(order, "profile");
  if (!p) return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "order has no \"profile\"");
  const char *v = json_string_value(p);
  if (!v || !*v) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "order \"profile\" is not a non-empty string");
  if (requested && strcmp(v, requested) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "order \"profile\" is \"%s\", requested \"%s\"", v, requested);
  return ACMEH_OK;
}

int acmeh_problem_type_is(const json_t *problem, const char *type) {
  const char *t = json_string_value(json_object_get(problem, "type"));
  return t && type && strcmp(t, type) == 0;
}
