#include "mocks/dns/answer.h"

#include "harness/core/error.h"

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

static int encode(ldns_pkt *p, size_t max_len, uint8_t **out, size_t *outlen) {
  if (!p) return ACMEH_NOMEM;
  if (ldns_pkt2wire(out, p, outlen) != LDNS_STATUS_OK) {
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
    ldns_status st = ldns_pkt2wire(out, p, outlen);
    ldns_pkt_free(p);
    return st == LDNS_STATUS_OK ? ACMEH_OK : ACMEH_NOMEM;
  }
  ldns_pkt_free(p);
  return ACMEH_OK;
}

static void record_query(acmeh_history *hist, const char *proto, const ldns_rr *question) {
  if (!hist) return;
  char *qname = ldns_rdf2str(ldns_rr_owner(question));
  char *qtype = ldns_rr_type2str(ldns_rr_get_type(question));
  if (qname && qtype) {
    size_t n = strlen(qname);
    if (n > 1 && qname[n - 1] == '.') qname[n - 1] = '\0';
    /* "Question" mirrors pebble-challtestsrv's history entries for old scripts. */
    json_t *entry =
        json_pack("{s:s, s:s, s:s, s:{s:s, s:i, s:i}}", "qname", qname, "qtype", qtype, "proto",
                  proto, "Question", "Name", qname, "Qtype", (int)ldns_rr_get_type(question),
                  "Qclass", (int)ldns_rr_get_class(question));
    acmeh_history_add(hist, ACMEH_HIST_DNS, qname, entry);
  }
  free(qname);
  free(qtype);
}

/* Lower-case presentation form of a question name without the trailing dot. */
static int question_key(const ldns_rr *question, char out[256]) {
  char *s = ldns_rdf2str(ldns_rr_owner(question));
  int rc = s ? acmeh_records_norm(s, out, 256) : ACMEH_NOMEM;
  free(s);
  return rc;
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
  if (ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK || ldns_pkt_qdcount(query) != 1) {
    ldns_pkt_free(query);
    return encode(response_shell(id, opcode, rd, LDNS_RCODE_FORMERR), max_len, out, outlen);
  }
  if (opcode != LDNS_PACKET_QUERY) {
    ldns_pkt_free(query);
    return encode(response_shell(id, opcode, rd, LDNS_RCODE_NOTIMPL), max_len, out, outlen);
  }
  const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(query), 0);
  record_query(hist, proto, question);
  ldns_pkt *resp = response_shell(id, opcode, rd, LDNS_RCODE_NOERROR);
  char key[256];
  if (resp) {
    ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    if (question_key(question, key) != ACMEH_OK) {
      ldns_pkt_set_rcode(resp, LDNS_RCODE_NOERROR); /* the root or an odd name: no data */
    } else if (acmeh_records_has(rec, ACMEH_REC_SERVFAIL, key)) {
      ldns_pkt_set_rcode(resp, LDNS_RCODE_SERVFAIL);
    } else {
      resolve(rec, resp, ldns_rr_owner(question), key, ldns_rr_get_type(question), 0);
    }
    if (ldns_pkt_edns(query)) { /* answer EDNS with EDNS and honour its buffer size */
      ldns_pkt_set_edns_udp_size(resp, MAX_EDNS_UDP);
      size_t adv = ldns_pkt_edns_udp_size(query);
      if (max_len < adv) max_len = adv > MAX_EDNS_UDP ? MAX_EDNS_UDP : adv;
    }
  }
  ldns_pkt_free(query);
  return encode(resp, max_len, out, outlen);
}
