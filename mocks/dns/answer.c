#include "mocks/dns/answer.h"

#include "base/error.h"
#include "mocks/dns/tsig.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#define DNS_HEADER_LEN 12
#define MAX_CNAME_HOPS 8
#define MAX_EDNS_UDP 4096
#define TTL 0 /* validators must never cache what a check changes a moment later */

/* Owner name for answers about `name` (normalised, no trailing dot). */
static ldns_rdf *dname(const char *name) {
  char abs[300];
  snprintf(abs, sizeof abs, "%s.", name);
  return ldns_dname_new_frm_str(abs);
}

/* Appends rr to the answer section, or frees it when it is incomplete. */
static void push_answer(ldns_pkt *resp, ldns_rr *rr, int ok) {
  if (!rr) return;
  if (!ok || !ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr)) ldns_rr_free(rr);
}

static ldns_rr *rr_new(const ldns_rdf *owner, ldns_rr_type type) {
  ldns_rr *rr = ldns_rr_new();
  if (!rr) return NULL;
  ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
  ldns_rr_set_type(rr, type);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr, TTL);
  return rr;
}

/* Pushes rdf onto rr; false (and rdf freed) on failure. */
static int push_rdf(ldns_rr *rr, ldns_rdf *rdf) {
  if (!rdf) return 0;
  if (!ldns_rr_push_rdf(rr, rdf)) {
    ldns_rdf_deep_free(rdf);
    return 0;
  }
  return 1;
}

/* A TXT value as character-strings of at most 255 bytes (RFC 1035 §3.3.14). */
static int push_txt_strings(ldns_rr *rr, const char *value) {
  size_t len = strlen(value), off = 0;
  uint8_t chunk[256];
  do {
    size_t n = len - off > 255 ? 255 : len - off;
    chunk[0] = (uint8_t)n;
    memcpy(chunk + 1, value + off, n);
    if (!push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, chunk))) return 0;
    off += n;
  } while (off < len);
  return 1;
}

/* CAA rdata (RFC 8659 §4.1): flags octet, tag as length + bytes, raw value. */
static int push_caa(ldns_rr *rr, const acmeh_rec *rec) {
  uint8_t flags = (uint8_t)rec->flags, tag[16];
  size_t tl = strlen(rec->tag);
  tag[0] = (uint8_t)tl;
  memcpy(tag + 1, rec->tag, tl);
  size_t vl = strlen(rec->value);
  ldns_rdf *value = vl ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_LONG_STR, vl, rec->value)
                       : ldns_rdf_new(LDNS_RDF_TYPE_LONG_STR, 0, NULL); /* `issue ""` is legal */
  return push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8, 1, &flags)) &&
         push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TAG, tl + 1, tag)) && push_rdf(rr, value);
}

typedef struct {
  ldns_pkt *resp;
  const ldns_rdf *owner;
  ldns_rr_type type;
} emit_ctx;

/* Records-store callback: one stored record -> one answer RR. */
static void emit(const acmeh_rec *rec, void *ud) {
  emit_ctx *e = ud;
  ldns_rr *rr = rr_new(e->owner, e->type);
  if (!rr) return;
  int ok = 0;
  switch (rec->kind) {
  case ACMEH_REC_A: ok = push_rdf(rr, ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, rec->value)); break;
  case ACMEH_REC_AAAA:
    ok = push_rdf(rr, ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, rec->value));
    break;
  case ACMEH_REC_TXT: ok = push_txt_strings(rr, rec->value); break;
  case ACMEH_REC_CAA: ok = push_caa(rr, rec); break;
  case ACMEH_REC_CNAME: ok = push_rdf(rr, dname(rec->value)); break;
  default: break;
  }
  push_answer(e->resp, rr, ok);
}

static void emit_default(emit_ctx *e, acmeh_rec_kind kind, const char *ip) {
  if (!ip[0]) return;
  acmeh_rec rec = {kind, "", ip, NULL, 0};
  emit(&rec, e);
}

static acmeh_rec_kind kind_of(ldns_rr_type t, int *known) {
  *known = 1;
  switch (t) {
  case LDNS_RR_TYPE_A: return ACMEH_REC_A;
  case LDNS_RR_TYPE_AAAA: return ACMEH_REC_AAAA;
  case LDNS_RR_TYPE_TXT: return ACMEH_REC_TXT;
  case LDNS_RR_TYPE_CAA: return ACMEH_REC_CAA;
  case LDNS_RR_TYPE_CNAME: return ACMEH_REC_CNAME;
  default: *known = 0; return ACMEH_REC_A;
  }
}

/* Fills the answer section for name/type, following CNAMEs. `owner` is the
 * name as it goes on the wire (the question's spelling on the first hop). */
static void resolve(acmeh_records *rec, ldns_pkt *resp, const ldns_rdf *owner, const char *name,
                    ldns_rr_type type, int hops) {
  emit_ctx e = {resp, owner, type};
  char *target = acmeh_records_get(rec, ACMEH_REC_CNAME, name);
  if (target && type != LDNS_RR_TYPE_CNAME) {
    e.type = LDNS_RR_TYPE_CNAME;
    acmeh_records_each(rec, ACMEH_REC_CNAME, name, emit, &e);
    ldns_rdf *next = dname(target);
    if (next && hops < MAX_CNAME_HOPS) resolve(rec, resp, next, target, type, hops + 1);
    ldns_rdf_deep_free(next);
    free(target);
    return;
  }
  free(target);
  int known;
  acmeh_rec_kind kind = kind_of(type, &known);
  if (!known) return;
  int n = acmeh_records_each(rec, kind, name, emit, &e);
  char ip[46];
  if (n == 0 && type == LDNS_RR_TYPE_A) {
    acmeh_records_default_ipv4(rec, ip);
    emit_default(&e, kind, ip);
  } else if (n == 0 && type == LDNS_RR_TYPE_AAAA) {
    acmeh_records_default_ipv6(rec, ip);
    emit_default(&e, kind, ip);
  }
}

/* The mock answers every name it is asked about (A and AAAA default to
 * loopback), so every name is the apex of a zone it serves: an SOA for it
 * lets clients that look for the zone of their TXT record before publishing
 * or checking propagation (lego, certbot's dns plugins) find one at once.
 * Zones added for DNS UPDATE answer their own SOA before this (update.c). */
static void soa_for(ldns_pkt *resp, const ldns_rdf *owner, const char *key) {
  char text[1024];
  snprintf(text, sizeof text, "%s. 0 IN SOA ns1.%s. hostmaster.%s. 1 3600 600 86400 0", key, key, key);
  ldns_rr *soa = NULL;
  if (ldns_rr_new_frm_str(&soa, text, 0, NULL, NULL) != LDNS_STATUS_OK) return;
  ldns_rdf_deep_free(ldns_rr_owner(soa));
  ldns_rr_set_owner(soa, ldns_rdf_clone(owner)); /* in the question's spelling (0x20 case) */
  ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, soa);
}

/* A response shell echoing the query's id, opcode and RD bit. */
static ldns_pkt *response_shell(uint16_t id, ldns_pkt_opcode opcode, int rd, ldns_pkt_rcode rcode) {
  ldns_pkt *p = ldns_pkt_new();
  if (!p) return NULL;
  ldns_pkt_set_id(p, id);
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_aa(p, true);
  ldns_pkt_set_rd(p, rd);
  ldns_pkt_set_opcode(p, opcode);
  ldns_pkt_set_rcode(p, (uint8_t)rcode);
  return p;
}

/* ldns_pkt2wire without its 64 KiB buffer per call (LDNS_MAX_PACKETLEN): a
 * small one that grows as needed, handed over as *out (caller frees). The big
 * ones, several alive per recvmmsg batch, made glibc trim its heap with
 * madvise after every batch. */
static ldns_status to_wire(const ldns_pkt *p, uint8_t **out, size_t *outlen) {
  ldns_buffer *b = ldns_buffer_new(512);
  if (!b) return LDNS_STATUS_MEM_ERR;
  ldns_status st = ldns_pkt2buffer_wire(b, p);
  if (st == LDNS_STATUS_OK) {
    *outlen = ldns_buffer_position(b);
    *out = ldns_buffer_export(b); /* the data is ours now; _free keeps it */
  }
  ldns_buffer_free(b);
  return st;
}

static int encode(ldns_pkt *p, size_t max_len, uint8_t **out, size_t *outlen) {
  if (!p) return ACMEH_NOMEM;
  if (to_wire(p, out, outlen) != LDNS_STATUS_OK) {
    ldns_pkt_free(p);
    return ACMEH_NOMEM;
  }
  if (*outlen > max_len) { /* RFC 1035 §4.2.1: truncate, the client retries over TCP */
    free(*out);
    *out = NULL;
    ldns_rr_list_deep_free(ldns_pkt_answer(p));
    ldns_pkt_set_answer(p, ldns_rr_list_new());
    ldns_pkt_set_ancount(p, 0);
    ldns_pkt_set_tc(p, true);
    ldns_status st = to_wire(p, out, outlen);
    ldns_pkt_free(p);
    return st == LDNS_STATUS_OK ? ACMEH_OK : ACMEH_NOMEM;
  }
  ldns_pkt_free(p);
  return ACMEH_OK;
}

/* ldns_rdf2str's presentation form of a wire name, written into out (1024
 * bytes hold the longest: 255 octets, each at most "\\DDD"), with no malloc:
 * converting the question twice through ldns was ~13% of an answer's CPU.
 * tests/unit/test_mocks.c compares it with ldns_rdf2str. */
static void dname_str(const ldns_rdf *name, char out[1024]) {
  const uint8_t *d = ldns_rdf_data(name);
  size_t size = ldns_rdf_size(name), pos = 0, o = 0;
  if (size <= 1 || size > LDNS_MAX_DOMAINLEN) { /* the wire parser allows no longer */
    strcpy(out, ".");
    return;
  }
  while (pos < size && d[pos] > 0) {
    size_t len = d[pos++];
    for (size_t i = 0; i < len && pos < size; i++, pos++) {
      uint8_t c = d[pos];
      if (c == '.' || c == ';' || c == '(' || c == ')' || c == '\\') {
        out[o++] = '\\';
        out[o++] = (char)c;
      } else if (c <= 0x20 || c >= 0x7f) {
        o += (size_t)snprintf(out + o, 5, "\\%03u", c);
      } else {
        out[o++] = (char)c;
      }
    }
    if (pos < size) out[o++] = '.';
  }
  out[o] = '\0';
}

/* ldns_rr_type2str's mnemonic without its malloc: the meta types by name
 * first (ldns's descriptors call them TYPE251..255), "TYPE%u" for unknown. */
static void type_str(ldns_rr_type t, char out[16]) {
  const char *s = NULL;
  switch (t) {
  case LDNS_RR_TYPE_IXFR: s = "IXFR"; break;
  case LDNS_RR_TYPE_AXFR: s = "AXFR"; break;
  case LDNS_RR_TYPE_MAILA: s = "MAILA"; break;
  case LDNS_RR_TYPE_MAILB: s = "MAILB"; break;
  case LDNS_RR_TYPE_ANY: s = "ANY"; break;
  default: {
    const ldns_rr_descriptor *d = ldns_rr_descript(t);
    s = d ? d->_name : NULL;
  }
  }
  if (s)
    snprintf(out, 16, "%s", s);
  else
    snprintf(out, 16, "TYPE%u", (unsigned)t);
}

/* Files the question and what the answer says (rcode, answer count);
 * `name` is its presentation form (trailing dot kept). */
static void record_query(acmeh_history *hist, const char *proto, const ldns_rr *question,
                         const char *name, const ldns_pkt *resp) {
  if (!hist) return;
  char qname[1024], qtype[16];
  snprintf(qname, sizeof qname, "%s", name);
  size_t n = strlen(qname);
  if (n > 1 && qname[n - 1] == '.') qname[n - 1] = '\0';
  type_str(ldns_rr_get_type(question), qtype);
  ldns_lookup_table *rc = resp ? ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(resp)) : NULL;
  acmeh_hist_dns h = {.proto = proto, .qname = qname, .qtype = qtype, .qtype_num = (int)ldns_rr_get_type(question),
                      .qclass = (int)ldns_rr_get_class(question), .rcode = rc ? rc->name : "SERVFAIL",
                      .answers = resp ? (int)ldns_pkt_ancount(resp) : 0};
  acmeh_history_add_dns(hist, &h);
}

int acmeh_dns_answer(acmeh_records *rec, acmeh_history *hist, const char *proto, const uint8_t *q,
                     size_t qlen, size_t max_len, uint8_t **out, size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  if (!q || qlen < DNS_HEADER_LEN || (q[2] & 0x80)) return ACMEH_PEER_PROTOCOL;
  uint16_t id = (uint16_t)(q[0] << 8 | q[1]);
  ldns_pkt_opcode opcode = (ldns_pkt_opcode)((q[2] >> 3) & 0x0f);
  int rd = q[2] & 1;
  ldns_pkt *query = NULL;
  /* Two additional RRs are needed for ldns_wire2pkt to leak a TSIG (see
   * acmeh_wire_tsig_safe); the usual query, with at most an OPT, skips the walk. */
  int unsafe = (q[10] || q[11] > 1) && !acmeh_wire_tsig_safe(q, qlen);
  if (unsafe || ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK || ldns_pkt_qdcount(query) != 1) {
    ldns_pkt_free(query);
    return encode(response_shell(id, opcode, rd, LDNS_RCODE_FORMERR), max_len, out, outlen);
  }
  if (opcode != LDNS_PACKET_QUERY) {
    ldns_pkt_free(query);
    return encode(response_shell(id, opcode, rd, LDNS_RCODE_NOTIMPL), max_len, out, outlen);
  }
  const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(query), 0);
  char name[1024], key[256]; /* converted once, for the history and the lookup */
  dname_str(ldns_rr_owner(question), name);
  ldns_pkt *resp = response_shell(id, opcode, rd, LDNS_RCODE_NOERROR);
  if (resp) {
    ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    if (acmeh_records_norm(name, key, sizeof key) != ACMEH_OK) {
      ldns_pkt_set_rcode(resp, LDNS_RCODE_NOERROR); /* the root or an odd name: no data */
    } else if (acmeh_records_has(rec, ACMEH_REC_SERVFAIL, key)) {
      ldns_pkt_set_rcode(resp, LDNS_RCODE_SERVFAIL);
    } else if (ldns_rr_get_type(question) == LDNS_RR_TYPE_SOA) {
      soa_for(resp, ldns_rr_owner(question), key);
    } else {
      resolve(rec, resp, ldns_rr_owner(question), key, ldns_rr_get_type(question), 0);
    }
    record_query(hist, proto, question, name, resp);
    if (ldns_pkt_edns(query)) { /* answer EDNS with EDNS and honour its buffer size */
      ldns_pkt_set_edns_udp_size(resp, MAX_EDNS_UDP);
      size_t adv = ldns_pkt_edns_udp_size(query);
      if (max_len < adv) max_len = adv > MAX_EDNS_UDP ? MAX_EDNS_UDP : adv;
    }
  }
  ldns_pkt_free(query);
  return encode(resp, max_len, out, outlen);
}
