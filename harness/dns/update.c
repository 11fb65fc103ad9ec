/* DNS UPDATE messages (RFC 2136) and their TSIG (RFC 8945). ldns builds and
 * prints the messages; the TSIG is computed here over the wire bytes, because
 * the negative checks need TSIGs that ldns would never produce. */
#include "harness/dns/update.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/error.h"
#include "harness/dns/wire.h"

struct acmeh_dnsup {
  ldns_pkt *pkt;
};

const char *acmeh_rcode_name(int code) {
  static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                      "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (code >= 0 && code <= 10) return names[code];
  if (code == ACMEH_TSIG_BADSIG) return "BADSIG";
  if (code == ACMEH_TSIG_BADKEY) return "BADKEY";
  if (code == ACMEH_TSIG_BADTIME) return "BADTIME";
  if (code == ACMEH_TSIG_BADTRUNC) return "BADTRUNC";
  static _Thread_local char buf[24];
  snprintf(buf, sizeof buf, "RCODE%d", code);
  return buf;
}

/* Strict base64 (RFC 4648 §4) into out; returns the decoded length or -1. */
static int b64_decode(const char *s, unsigned char *out, size_t cap) {
  size_t n = strlen(s), pad = 0;
  while (pad < n && pad < 2 && s[n - 1 - pad] == '=') pad++;
  /* '=' only as the last one or two characters; the length test allows for them */
  if (n == 0 || n % 4 || memchr(s, '=', n - pad) || n / 4 * 3 - pad > cap) return -1;
  unsigned char tmp[n / 4 * 3 + 1];
  int len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
  if (len < 0) return -1;
  len -= (int)pad;
  memcpy(out, tmp, (size_t)len);
  return len;
}

/* The mnemonic's canonical form "hmac-sha256." or NULL when unsupported. */
static const char *alg_canon(const char *alg) {
  static const char *const known[] = {"hmac-sha256.", "hmac-sha512."};
  size_t n = strlen(alg);
  if (n && alg[n - 1] == '.') n--;
  for (size_t i = 0; i < 2; i++)
    if (n == strlen(known[i]) - 1 && strncasecmp(alg, known[i], n) == 0) return known[i];
  return NULL;
}

static const EVP_MD *alg_md(const char *alg) {
  const char *c = alg_canon(alg);
  if (!c) return NULL;
  return strcmp(c, "hmac-sha512.") == 0 ? EVP_sha512() : EVP_sha256();
}

int acmeh_tsig_key_set(acmeh_tsig_key *k, const char *name, const char *alg, const char *secret_b64,
                       char *err, size_t errlen) {
  memset(k, 0, sizeof *k);
  const char *c = alg ? alg_canon(alg) : NULL;
  if (!c) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "TSIG algorithm \"%s\" is not hmac-sha256 or hmac-sha512", alg ? alg : "");
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 250) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "TSIG key name is empty or too long");
  snprintf(k->name, sizeof k->name, "%s%s", name, name[n - 1] == '.' ? "" : ".");
  snprintf(k->alg, sizeof k->alg, "%s", c);
  int len = secret_b64 ? b64_decode(secret_b64, k->secret, sizeof k->secret) : -1;
  if (len <= 0) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "TSIG secret is not base64 of 1 to 128 octets");
  k->secret_len = (size_t)len;
  return ACMEH_OK;
}

int acmeh_tsig_key_parse(const char *spec, acmeh_tsig_key *k, char *err, size_t errlen) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", spec);
  char *alg = strchr(buf, ':');
  char *secret = alg ? strchr(alg + 1, ':') : NULL;
  if (!secret) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "TSIG key \"%.60s\" is not name:algorithm:base64secret", spec);
  *alg++ = '\0', *secret++ = '\0';
  return acmeh_tsig_key_set(k, buf, alg, secret, err, errlen);
}

acmeh_dnsup *acmeh_dnsup_new(const char *zone, uint16_t id) {
  ldns_rdf *z = ldns_dname_new_frm_str(zone);
  if (!z) return NULL;
  acmeh_dnsup *u = calloc(1, sizeof *u);
  ldns_rr_list *none = ldns_rr_list_new(); /* ldns wants an update list; it copies it */
  if (u && none) u->pkt = ldns_update_pkt_new(z, LDNS_RR_CLASS_IN, NULL, none, NULL);
  ldns_rr_list_free(none);
  if (!u || !u->pkt) {
    if (!u) ldns_rdf_deep_free(z);
    free(u);
    return NULL;
  }
  ldns_pkt_set_id(u->pkt, id);
  ldns_pkt_set_rd(u->pkt, false); /* UPDATE uses only QR among the flags (RFC 2136 §2.2) */
  return u;
}

void acmeh_dnsup_free(acmeh_dnsup *u) {
  if (!u) return;
  ldns_pkt_free(u->pkt);
  free(u);
}

/* An RR with owner, type, class, TTL and optionally rdata (presentation). */
static ldns_rr *make_rr(const char *owner, const char *type, ldns_rr_class cls, uint32_t ttl, const char *rdata) {
  ldns_rr *rr = NULL;
  if (rdata) {
    char *text = NULL;
    if (asprintf(&text, "%s %u IN %s %s", owner, ttl, type, rdata) < 0) return NULL;
    ldns_status st = ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL);
    free(text);
    if (st != LDNS_STATUS_OK) return NULL;
    ldns_rr_set_class(rr, cls);
    return rr;
  }
  ldns_rr_type t = ldns_get_rr_type_by_name(type);
  ldns_rdf *o = ldns_dname_new_frm_str(owner);
  if (!t || !o || !(rr = ldns_rr_new())) return ldns_rdf_deep_free(o), NULL;
  ldns_rr_set_owner(rr, o);
  ldns_rr_set_type(rr, t);
  ldns_rr_set_class(rr, cls);
  ldns_rr_set_ttl(rr, ttl);
  ldns_rr_set_question(rr, false);
  return rr;
}

/* ldns names the UPDATE sections by their query names: prerequisites are
 * ANSWER, updates AUTHORITY (RFC 2136 §2: same positions). */
static int push(acmeh_dnsup *u, ldns_pkt_section sec, ldns_rr *rr) {
  if (!rr) return ACMEH_INVALID_ARG;
  if (!ldns_pkt_push_rr(u->pkt, sec, rr)) return ldns_rr_free(rr), ACMEH_NOMEM;
  return ACMEH_OK;
}

int acmeh_dnsup_add_rr(acmeh_dnsup *u, const char *owner, uint32_t ttl, const char *type, const char *rdata) {
  return push(u, LDNS_SECTION_AUTHORITY, make_rr(owner, type, LDNS_RR_CLASS_IN, ttl, rdata));
}

int acmeh_dnsup_del_rr(acmeh_dnsup *u, const char *owner, const char *type, const char *rdata) {
  return push(u, LDNS_SECTION_AUTHORITY, make_rr(owner, type, LDNS_RR_CLASS_NONE, 0, rdata));
}

int acmeh_dnsup_del_rrset(acmeh_dnsup *u, const char *owner, const char *type) {
  return push(u, LDNS_SECTION_AUTHORITY, make_rr(owner, type, LDNS_RR_CLASS_ANY, 0, NULL));
}

int acmeh_dnsup_prereq(acmeh_dnsup *u, acmeh_prereq_kind kind, const char *owner, const char *type,
                       const char *rdata) {
  ldns_rr *rr = NULL;
  switch (kind) {
  case ACMEH_PREREQ_RRSET_EXISTS: rr = make_rr(owner, type, LDNS_RR_CLASS_ANY, 0, NULL); break;
  case ACMEH_PREREQ_RRSET_EXISTS_VALUE: rr = make_rr(owner, type, LDNS_RR_CLASS_IN, 0, rdata); break;
  case ACMEH_PREREQ_RRSET_ABSENT: rr = make_rr(owner, type, LDNS_RR_CLASS_NONE, 0, NULL); break;
  case ACMEH_PREREQ_NAME_IN_USE: rr = make_rr(owner, "ANY", LDNS_RR_CLASS_ANY, 0, NULL); break;
  case ACMEH_PREREQ_NAME_NOT_IN_USE: rr = make_rr(owner, "ANY", LDNS_RR_CLASS_NONE, 0, NULL); break;
  }
  return push(u, LDNS_SECTION_ANSWER, rr);
}

/* TSIG variables (RFC 8945 §4.3.3) after the name fields: time, fudge, error, other. */
static void put_timers(acmeh_wbuf *b, uint64_t t, uint16_t fudge) {
  acmeh_wbuf_u16(b, (uint16_t)(t >> 32));
  acmeh_wbuf_u32(b, (uint32_t)t);
  acmeh_wbuf_u16(b, fudge);
}

static int mac_of(const acmeh_tsig_key *k, const uint8_t *data, size_t len, uint8_t *mac, size_t *mac_len) {
  const EVP_MD *md = alg_md(k->alg);
  unsigned int n = 0;
  if (!md || !HMAC(md, k->secret, (int)k->secret_len, data, len, mac, &n)) return ACMEH_INTERNAL;
  *mac_len = n;
  return ACMEH_OK;
}

/* Appends the TSIG RR for `msg` (unsigned wire in b) and fills m's MAC fields. */
static int append_tsig(acmeh_wbuf *b, const acmeh_tsig_key *k, const acmeh_tsig_mut *mut, acmeh_dnsup_msg *m) {
  const char *kname = mut->key_name ? mut->key_name : k->name;
  const char *alg = mut->alg_name ? mut->alg_name : k->alg;
  m->fudge = mut->fudge ? mut->fudge : 300;
  m->time_signed = mut->fixed_time ? mut->fixed_time : (uint64_t)((long)time(NULL) + mut->time_offset_s);
  acmeh_wbuf in = {0};
  acmeh_wbuf_put(&in, b->data, b->len);
  int rc = acmeh_wbuf_name(&in, kname, 1);
  acmeh_wbuf_u16(&in, LDNS_RR_CLASS_ANY);
  acmeh_wbuf_u32(&in, 0);
  if (!rc) rc = acmeh_wbuf_name(&in, alg, 1);
  put_timers(&in, m->time_signed, m->fudge);
  acmeh_wbuf_u16(&in, 0), acmeh_wbuf_u16(&in, 0); /* error, other len */
  if (!rc) rc = in.oom ? ACMEH_NOMEM : mac_of(k, in.data, in.len, m->mac, &m->mac_len);
  acmeh_wbuf_free(&in);
  if (rc) return rc;
  if (mut->corrupt_mac) m->mac[m->mac_len / 2] ^= 0x20;
  size_t rdlen_at;
  acmeh_wbuf_name(b, kname, 0);
  acmeh_wbuf_u16(b, LDNS_RR_TYPE_TSIG), acmeh_wbuf_u16(b, LDNS_RR_CLASS_ANY), acmeh_wbuf_u32(b, 0);
  rdlen_at = b->len, acmeh_wbuf_u16(b, 0);
  acmeh_wbuf_name(b, alg, 0);
  put_timers(b, m->time_signed, m->fudge);
  acmeh_wbuf_u16(b, (uint16_t)m->mac_len), acmeh_wbuf_put(b, m->mac, m->mac_len);
  acmeh_wbuf_u16(b, m->id), acmeh_wbuf_u16(b, 0), acmeh_wbuf_u16(b, 0);
  acmeh_wbuf_set_u16(b, rdlen_at, (uint16_t)(b->len - rdlen_at - 2));
  acmeh_wbuf_set_u16(b, 10, (uint16_t)(acmeh_wbuf_get_u16(b, 10) + 1));
  return ACMEH_OK;
}

/* An A RR owned by the root after the TSIG: the TSIG is then not last (§5.2). */
static void append_trailer(acmeh_wbuf *b) {
  static const uint8_t rr[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1};
  acmeh_wbuf_put(b, rr, sizeof rr);
  acmeh_wbuf_set_u16(b, 10, (uint16_t)(acmeh_wbuf_get_u16(b, 10) + 1));
}

int acmeh_dnsup_sign(const acmeh_dnsup *u, const acmeh_tsig_key *key, const acmeh_tsig_mut *mut,
                     acmeh_dnsup_msg *out) {
  static const acmeh_tsig_mut none;
  if (!mut) mut = &none;
  memset(out, 0, sizeof *out);
  uint8_t *w = NULL;
  size_t wl = 0;
  if (ldns_pkt2wire(&w, u->pkt, &wl) != LDNS_STATUS_OK) return ACMEH_INTERNAL;
  acmeh_wbuf b = {0};
  acmeh_wbuf_put(&b, w, wl);
  free(w);
  out->id = ldns_pkt_id(u->pkt);
  int rc = ACMEH_OK;
  if (key && !mut->unsigned_msg) {
    out->key = *key, out->is_signed = 1;
    rc = append_tsig(&b, key, mut, out);
  }
  if (!rc && mut->tsig_not_last) append_trailer(&b);
  if (!rc && b.oom) rc = ACMEH_NOMEM;
  if (rc) return acmeh_wbuf_free(&b), rc;
  out->wire = b.data, out->len = b.len;
  return ACMEH_OK;
}

void acmeh_dnsup_msg_clear(acmeh_dnsup_msg *m) {
  free(m->wire);
  memset(m, 0, sizeof *m);
}

char *acmeh_dns_wire_text(const uint8_t *wire, size_t len) {
  ldns_pkt *p = NULL;
  if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK) return NULL;
  char *s = ldns_pkt2str(p);
  ldns_pkt_free(p);
  return s;
}
