/* dns-persist-01 record material (persist.h). */
#include "harness/acme/persist.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "harness/acme/b64.h"

const char *acmeh_persist_issuers_field(acmeh_persist_rev rev) {
  return rev == ACMEH_PERSIST_I2 ? "issuerDomainNames" : "issuer-domain-names";
}

char *acmeh_persist_name(const char *identifier) {
  if (!identifier || !*identifier) return NULL;
  const char *base = strncmp(identifier, "*.", 2) == 0 ? identifier + 2 : identifier;
  size_t n = strlen(base);
  if (n && base[n - 1] == '.') n--;
  char *out = NULL;
  if (n == 0 || asprintf(&out, "_validation-persist.%.*s", (int)n, base) < 0) return NULL;
  if (strlen(out) > 253) free(out), out = NULL;
  return out;
}

static int say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *why, size_t whylen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (why && whylen) vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
  return 0;
}

int acmeh_persist_issuer_ok(const char *name, char *why, size_t whylen) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 253) return say(why, whylen, "issuer name of %zu octets (1..253 allowed)", n);
  if (name[n - 1] == '.') return say(why, whylen, "issuer name \"%.80s\" has a trailing dot", name);
  size_t label = 0;
  for (size_t i = 0; i <= n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c == '.' || c == '\0') {
      if (label == 0 || label > 63) return say(why, whylen, "issuer name \"%.80s\" has a label of %zu octets", name, label);
      label = 0;
      continue;
    }
    label++;
    if (!(islower(c) || isdigit(c) || c == '-'))
      return say(why, whylen, "issuer name \"%.80s\" has octet 0x%02x (lower-case A-labels only)", name, c);
  }
  return 1;
}

int acmeh_persist_account_hash(const char *domain, const char *thumbprint, const char *account_url, char out[44]) {
  size_t dl = domain ? strlen(domain) : 0;
  if (!dl || dl > 255 || !thumbprint || !account_url) return ACMEH_INVALID_ARG;
  unsigned char len = (unsigned char)dl, md[32];
  unsigned int mdlen = 0;
  EVP_MD_CTX *x = EVP_MD_CTX_new();
  int ok = x && EVP_DigestInit_ex(x, EVP_sha256(), NULL) && EVP_DigestUpdate(x, &len, 1) &&
           EVP_DigestUpdate(x, domain, dl) && EVP_DigestUpdate(x, thumbprint, strlen(thumbprint)) &&
           EVP_DigestUpdate(x, account_url, strlen(account_url)) && EVP_DigestFinal_ex(x, md, &mdlen);
  EVP_MD_CTX_free(x);
  char *b = ok ? acmeh_b64url_encode(md, mdlen) : NULL;
  if (!b) return ACMEH_INTERNAL;
  snprintf(out, 44, "%s", b);
  free(b);
  return ACMEH_OK;
}

char *acmeh_persist_record(const char *issuer, const char *account, int wildcard, long long until) {
  char *out = NULL, u[40] = "";
  if (!issuer || !account) return NULL;
  if (until >= 0) snprintf(u, sizeof u, "; persistUntil=%lld", until);
  if (asprintf(&out, "%s; accounturi=%s%s%s", issuer, account, wildcard ? "; policy=wildcard" : "", u) < 0) return NULL;
  return out;
}

char *acmeh_persist_issuer_norm(char *name) {
  for (char *p = name; p && *p; p++) *p = (char)tolower((unsigned char)*p);
  size_t n = name ? strlen(name) : 0;
  if (n && name[n - 1] == '.') name[n - 1] = '\0';
  return name;
}

void acmeh_persist_rec_free(acmeh_persist_rec *r) {
  if (!r) return;
  free(r->issuer), free(r->accounturi);
  memset(r, 0, sizeof *r);
}

static int wsp(char c) { return c == ' ' || c == '\t'; }

/* [*b, *e) without surrounding WSP. */
static void trim(const char **b, const char **e) {
  while (*b < *e && wsp(**b)) (*b)++;
  while (*e > *b && wsp((*e)[-1])) (*e)--;
}

static int malformed(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int malformed(char *why, size_t whylen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (why && whylen) vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
  return ACMEH_PEER_PROTOCOL;
}

/* persistUntil's value: an optional "-" and 1..19 decimal digits. */
static int parse_until(const char *v, size_t n, long long *out) {
  char buf[24];
  size_t digits = n - (n && v[0] == '-');
  if (n == 0 || n >= sizeof buf || digits == 0) return 0;
  for (size_t i = n - digits; i < n; i++)
    if (!isdigit((unsigned char)v[i])) return 0;
  memcpy(buf, v, n), buf[n] = '\0';
  errno = 0;
  *out = strtoll(buf, NULL, 10);
  return errno == 0;
}

/* One "tag=value" parameter [b, e) into r; seen: bit 0 accounturi, 1 policy, 2 persistUntil. */
static int parse_param(const char *b, const char *e, acmeh_persist_rec *r, unsigned *seen, char *why, size_t whylen) {
  trim(&b, &e);
  if (b == e) return malformed(why, whylen, "empty parameter or trailing \";\"");
  const char *eq = memchr(b, '=', (size_t)(e - b));
  if (!eq) return malformed(why, whylen, "parameter \"%.*s\" is not tag=value", (int)(e - b > 60 ? 60 : e - b), b);
  const char *tb = b, *te = eq, *vb = eq + 1, *ve = e;
  trim(&tb, &te), trim(&vb, &ve);
  size_t tl = (size_t)(te - tb), vl = (size_t)(ve - vb);
  if (tl == 0) return malformed(why, whylen, "parameter with an empty tag");
  for (const char *p = vb; p < ve; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x21 || c > 0x7e || c == ';')
      return malformed(why, whylen, "value of \"%.*s\" has octet 0x%02x (RFC 8659: %%x21-3A / %%x3C-7E)", (int)(tl > 40 ? 40 : tl), tb, c);
  }
  static const char *const known[] = {"accounturi", "policy", "persistUntil"};
  int k = -1;
  for (int i = 0; i < 3; i++)
    if (tl == strlen(known[i]) && strncasecmp(tb, known[i], tl) == 0) k = i;
  if (k < 0) return ACMEH_OK; /* §4: unknown tags are ignored */
  if (*seen & (1u << k)) return malformed(why, whylen, "parameter \"%s\" appears twice", known[k]);
  *seen |= 1u << k;
  if (k == 0) {
    if (vl == 0) return malformed(why, whylen, "empty accounturi");
    r->accounturi = strndup(vb, vl);
    return r->accounturi ? ACMEH_OK : ACMEH_NOMEM;
  }
  if (k == 1) {
    r->wildcard = vl == 8 && strncasecmp(vb, "wildcard", 8) == 0;
    return ACMEH_OK;
  }
  r->has_until = 1;
  if (!parse_until(vb, vl, &r->until))
    return malformed(why, whylen, "persistUntil \"%.*s\" is not a base-10 integer", (int)(vl > 40 ? 40 : vl), vb);
  return ACMEH_OK;
}

int acmeh_persist_parse(const char *text, size_t len, acmeh_persist_rec *out, char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  if (why && whylen) why[0] = '\0';
  const char *end = text + len, *semi = memchr(text, ';', len);
  const char *ib = text, *ie = semi ? semi : end;
  trim(&ib, &ie);
  out->issuer = strndup(ib, (size_t)(ie - ib));
  if (!out->issuer) return ACMEH_NOMEM;
  if (ib == ie) return malformed(why, whylen, "empty issuer-domain-name");
  unsigned seen = 0;
  for (const char *p = semi; p && p < end;) {
    const char *b = p + 1, *next = memchr(b, ';', (size_t)(end - b)), *e = next ? next : end;
    int rc = parse_param(b, e, out, &seen, why, whylen);
    if (rc) {
      free(out->accounturi), out->accounturi = NULL, out->wildcard = out->has_until = 0;
      return rc;
    }
    p = next;
  }
  return ACMEH_OK;
}
