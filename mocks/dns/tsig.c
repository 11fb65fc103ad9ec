#include "mocks/dns/tsig.h"

#include "base/error.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HDR 12
#define MAX_HOPS 64 /* compression pointers followed per name: stops loops */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

int acmeh_wire_skip_name(const uint8_t *w, size_t len, size_t *off) {
  size_t o = *off;
  for (;;) {
    if (o >= len) return -1;
    uint8_t b = w[o];
    if ((b & 0xc0) == 0xc0) {
      if (o + 2 > len) return -1;
      *off = o + 2;
      return 0;
    }
    if (b & 0xc0) return -1;
    o += 1 + (size_t)b;
    if (b == 0) {
      *off = o;
      return 0;
    }
  }
}

/* Decodes the name at off into canonical wire form (lower case, pointers
 * followed, at most MAX_HOPS of them). Returns 0, or -1 for a bad name. */
static int canon_name(const uint8_t *w, size_t len, size_t off, uint8_t out[256], size_t *out_len) {
  size_t n = 0;
  for (int hops = 0; hops <= MAX_HOPS;) {
    if (off >= len) return -1;
    uint8_t b = w[off];
    if ((b & 0xc0) == 0xc0) {
      if (off + 2 > len) return -1;
      off = (size_t)(rd16(w + off) & 0x3fff);
      hops++;
      continue;
    }
    if ((b & 0xc0) || off + 1 + b > len || n + 1 + b > 255) return -1;
    out[n++] = b;
    for (size_t i = 0; i < b; i++) out[n++] = (uint8_t)tolower(w[off + 1 + i]);
    if (b == 0) {
      *out_len = n;
      return 0;
    }
    off += 1 + (size_t)b;
  }
  return -1;
}

/* Presentation form of a canonical wire name, with the trailing dot. */
static void present(const uint8_t *wire, size_t wlen, char out[256]) {
  ldns_rdf *d = ldns_dname_new_frm_data((uint16_t)wlen, wire);
  char *s = d ? ldns_rdf2str(d) : NULL;
  snprintf(out, 256, "%s", s ? s : "?");
  free(s);
  ldns_rdf_deep_free(d);
}

/* Reads the TSIG RDATA at [o, end) into t. Returns 0 or -1. */
static int parse_rdata(const uint8_t *w, size_t o, size_t end, acmeh_tsig *t) {
  size_t a = o;
  /* The algorithm name is never compressed (RFC 8945 §4.2): walk it in place. */
  if (acmeh_wire_skip_name(w, end, &a) != 0) return -1;
  /* Equal lengths: no pointer was followed. */
  if (canon_name(w, end, o, t->alg_wire, &t->alg_wire_len) != 0 || t->alg_wire_len != a - o) return -1;
  present(t->alg_wire, t->alg_wire_len, t->alg_name);
  if (a + 10 > end) return -1;
  t->time_signed = (uint64_t)rd16(w + a) << 32 | (uint64_t)rd16(w + a + 2) << 16 | rd16(w + a + 4);
  t->fudge = rd16(w + a + 6);
  t->mac_len = rd16(w + a + 8);
  a += 10;
  if (t->mac_len > ACMEH_TSIG_MAX_MAC || a + t->mac_len + 6 > end) return -1;
  memcpy(t->mac, w + a, t->mac_len);
  a += t->mac_len;
  t->orig_id = rd16(w + a);
  t->error = rd16(w + a + 2);
  t->other_len = rd16(w + a + 4);
  a += 6;
  if (t->other_len > ACMEH_TSIG_MAX_OTHER || a + t->other_len != end) return -1;
  memcpy(t->other, w + a, t->other_len);
  return 0;
}

size_t acmeh_wire_question_end(const uint8_t *w, size_t len) {
  size_t o = HDR;
  if (!w || len < HDR) return 0;
  for (unsigned i = 0; i < rd16(w + 4); i++)
    if (acmeh_wire_skip_name(w, len, &o) != 0 || (o += 4) > len) return 0;
  return o;
}

/* Walks every RR; fills last_off and last_type for the final one, counts TSIGs. */
static int walk(const uint8_t *w, size_t len, size_t *last_off, uint16_t *last_type, int *ntsig,
                size_t *end) {
  size_t o = acmeh_wire_question_end(w, len), total = (size_t)rd16(w + 6) + rd16(w + 8) + rd16(w + 10);
  if (o == 0) return -1;
  *ntsig = 0;
  *last_off = 0;
  for (size_t i = 0; i < total; i++) {
    size_t start = o;
    if (acmeh_wire_skip_name(w, len, &o) != 0 || o + 10 > len) return -1;
    uint16_t type = rd16(w + o);
    size_t rdlen = rd16(w + o + 8);
    o += 10 + rdlen;
    if (o > len) return -1;
    *last_off = start;
    *last_type = type;
    if (type == LDNS_RR_TYPE_TSIG) (*ntsig)++;
  }
  *end = o; /* trailing bytes are the caller's business: they matter only after a TSIG */
  return 0;
}

int acmeh_wire_tsig_safe(const uint8_t *w, size_t len) {
  size_t last = 0, end = 0;
  uint16_t type = 0;
  int ntsig = 0;
  if (!w || len < HDR || walk(w, len, &last, &type, &ntsig, &end) != 0) return 0;
  return ntsig == 0 || (ntsig == 1 && type == LDNS_RR_TYPE_TSIG);
}

int acmeh_tsig_find(const uint8_t *w, size_t len, acmeh_tsig *t, int *found, char *err,
                    size_t errlen) {
  *found = 0;
  memset(t, 0, sizeof *t);
  size_t last = 0;
  uint16_t type = 0;
  int ntsig = 0;
  size_t end = 0;
  if (len < HDR || walk(w, len, &last, &type, &ntsig, &end) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "message does not parse (counts or names)");
  if (ntsig == 0) return ACMEH_OK;
  if (end != len) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "bytes after the TSIG RR");
  if (ntsig > 1 || type != LDNS_RR_TYPE_TSIG || rd16(w + 10) == 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "%d TSIG RRs, %s", ntsig,
                     type == LDNS_RR_TYPE_TSIG ? "more than one" : "not the last additional RR");
  size_t o = last;
  if (canon_name(w, len, o, t->key_wire, &t->key_wire_len) != 0 ||
      acmeh_wire_skip_name(w, len, &o) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "TSIG key name does not parse");
  present(t->key_wire, t->key_wire_len, t->key_name);
  size_t rdlen = rd16(w + o + 8);
  if (rd16(w + o + 2) != LDNS_RR_CLASS_ANY || rd16(w + o + 4) || rd16(w + o + 6) ||
      parse_rdata(w, o + 10, o + 10 + rdlen, t) != 0)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL,
                     "TSIG RR malformed (class ANY, TTL 0, RDATA layout of RFC 8945 §4.2)");
  t->rr_off = last;
  *found = 1;
  return ACMEH_OK;
}

const EVP_MD *acmeh_tsig_md(const char *alg) {
  static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
  } algs[] = {{"hmac-sha1", EVP_sha1},     {"hmac-sha224", EVP_sha224}, {"hmac-sha256", EVP_sha256},
              {"hmac-sha384", EVP_sha384}, {"hmac-sha512", EVP_sha512}};
  if (!alg) return NULL;
  size_t n = strlen(alg);
  if (n && alg[n - 1] == '.') n--;
  for (size_t i = 0; i < sizeof algs / sizeof *algs; i++)
    if (strlen(algs[i].name) == n && strncasecmp(alg, algs[i].name, n) == 0) return algs[i].md();
  return NULL;
}

/* The TSIG variables of RFC 8945 §4.3.3 into out (>= 600 bytes). */
static size_t variables(const acmeh_tsig *t, uint8_t *out) {
  size_t n = 0;
  memcpy(out, t->key_wire, t->key_wire_len);
  n += t->key_wire_len;
  wr16(out + n, LDNS_RR_CLASS_ANY);
  memset(out + n + 2, 0, 4); /* TTL */
  n += 6;
  memcpy(out + n, t->alg_wire, t->alg_wire_len);
  n += t->alg_wire_len;
  wr16(out + n, (uint16_t)(t->time_signed >> 32));
  wr16(out + n + 2, (uint16_t)(t->time_signed >> 16));
  wr16(out + n + 4, (uint16_t)t->time_signed);
  wr16(out + n + 6, t->fudge);
  wr16(out + n + 8, t->error);
  wr16(out + n + 10, t->other_len);
  n += 12;
  memcpy(out + n, t->other, t->other_len);
  return n + t->other_len;
}

int acmeh_tsig_mac(const acmeh_tsig *t, const uint8_t *secret, size_t secret_len,
                   const uint8_t *req_mac, size_t req_mac_len, const uint8_t *msg,
                   size_t msg_len, uint8_t *mac, unsigned *mac_len) {
  const EVP_MD *md = acmeh_tsig_md(t->alg_name);
  if (!md || msg_len < HDR) return ACMEH_INVALID_ARG;
  uint8_t vars[600], hdr[HDR];
  memcpy(hdr, msg, HDR);
  wr16(hdr, t->orig_id);
  size_t vlen = variables(t, vars);
  /* One buffer and the one-shot HMAC(): the streaming HMAC_CTX API is deprecated in OpenSSL 3. */
  size_t pl = req_mac ? 2 + req_mac_len : 0;
  uint8_t *buf = malloc(pl + msg_len + vlen);
  if (!buf) return ACMEH_NOMEM;
  if (req_mac) {
    wr16(buf, (uint16_t)req_mac_len);
    memcpy(buf + 2, req_mac, req_mac_len);
  }
  memcpy(buf + pl, hdr, HDR);
  memcpy(buf + pl + HDR, msg + HDR, msg_len - HDR);
  memcpy(buf + pl + msg_len, vars, vlen);
  int ok = HMAC(md, secret, (int)secret_len, buf, pl + msg_len + vlen, mac, mac_len) != NULL;
  free(buf);
  return ok ? ACMEH_OK : ACMEH_NOMEM;
}

int acmeh_tsig_verify(const acmeh_tsig *t, const uint8_t *secret, size_t secret_len,
                      const uint8_t *w, size_t len) {
  if (t->rr_off < HDR || t->rr_off > len || t->mac_len == 0) return 0;
  uint8_t *copy = malloc(t->rr_off), mac[EVP_MAX_MD_SIZE];
  unsigned mlen = 0;
  if (!copy) return 0;
  memcpy(copy, w, t->rr_off);
  wr16(copy + 10, (uint16_t)(rd16(copy + 10) - 1)); /* ARCOUNT without the TSIG */
  int ok = acmeh_tsig_mac(t, secret, secret_len, NULL, 0, copy, t->rr_off, mac, &mlen) == ACMEH_OK &&
           t->mac_len <= mlen && CRYPTO_memcmp(mac, t->mac, t->mac_len) == 0;
  free(copy);
  return ok;
}

size_t acmeh_tsig_rr_size(const acmeh_tsig *t, size_t mac_len, size_t other_len) {
  return t->key_wire_len + 10 + t->alg_wire_len + 16 + mac_len + other_len; /* as acmeh_tsig_append writes it */
}

int acmeh_tsig_append(uint8_t **w, size_t *len, acmeh_tsig *t, const uint8_t *secret,
                      size_t secret_len, const uint8_t *req_mac, size_t req_mac_len) {
  if (*len < HDR) return ACMEH_INVALID_ARG;
  if (secret) {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mlen = 0;
    int rc = acmeh_tsig_mac(t, secret, secret_len, req_mac, req_mac_len, *w, *len, mac, &mlen);
    if (rc != ACMEH_OK) return rc;
    t->mac_len = (uint16_t)(mlen > ACMEH_TSIG_MAX_MAC ? ACMEH_TSIG_MAX_MAC : mlen);
    memcpy(t->mac, mac, t->mac_len);
  }
  size_t rdlen = t->alg_wire_len + 16 + t->mac_len + t->other_len;
  uint8_t *p = realloc(*w, *len + t->key_wire_len + 10 + rdlen);
  if (!p) return ACMEH_NOMEM;
  uint8_t *o = p + *len;
  memcpy(o, t->key_wire, t->key_wire_len);
  o += t->key_wire_len;
  wr16(o, LDNS_RR_TYPE_TSIG);
  wr16(o + 2, LDNS_RR_CLASS_ANY);
  memset(o + 4, 0, 4);
  wr16(o + 8, (uint16_t)rdlen);
  o += 10;
  memcpy(o, t->alg_wire, t->alg_wire_len);
  o += t->alg_wire_len;
  wr16(o, (uint16_t)(t->time_signed >> 32));
  wr16(o + 2, (uint16_t)(t->time_signed >> 16));
  wr16(o + 4, (uint16_t)t->time_signed);
  wr16(o + 6, t->fudge);
  wr16(o + 8, t->mac_len);
  memcpy(o + 10, t->mac, t->mac_len);
  o += 10 + t->mac_len;
  wr16(o, t->orig_id);
  wr16(o + 2, t->error);
  wr16(o + 4, t->other_len);
  memcpy(o + 6, t->other, t->other_len);
  wr16(p + 10, (uint16_t)(rd16(p + 10) + 1));
  *len += t->key_wire_len + 10 + rdlen;
  *w = p;
  return ACMEH_OK;
}
