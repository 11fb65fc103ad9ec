/* Message side of the mock's DNS UPDATE: TSIG checks in RFC 8945 §5.2 order
 * (key, MAC, time), then RFC 2136 §3 in its order (zone, prerequisites,
 * permission, prescan, apply), all prerequisite checks and changes inside one
 * record-store transaction. Every UPDATE is journalled whatever its fate. */
#include "mocks/dns/update_int.h"

#include "base/error.h"
#include "mocks/dns/answer.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
  acmeh_dnsupd *u;
  acmeh_records *rec;
  const uint8_t *q;
  size_t qlen, max_len;
  ldns_pkt *pkt;   /* NULL when the message does not parse */
  acmeh_tsig tsig;
  int has_tsig;
  upd_key *key;    /* set once the TSIG verified */
  char zone[256];
  json_t *entry;   /* journal entry (UPDATE only) */
  int sections;    /* the entry gets the decoded sections (message parsed) */
  int rcode;
  const char *verdict;
  char reason[600];
} req;

static void set_verdict(req *r, int rcode, const char *verdict, const char *reason) {
  r->rcode = rcode;
  r->verdict = verdict;
  snprintf(r->reason, sizeof r->reason, "%s", reason);
}

/* ---- replies ---- */

/* Header (and, when the message parsed, its first section) with rcode. */
static int shell_wire(const req *r, int rcode, uint8_t **out, size_t *outlen) {
  ldns_pkt *p = ldns_pkt_new();
  if (!p) return ACMEH_NOMEM;
  ldns_pkt_set_id(p, (uint16_t)(r->q[0] << 8 | r->q[1]));
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_opcode(p, (ldns_pkt_opcode)((r->q[2] >> 3) & 0x0f));
  ldns_pkt_set_rcode(p, (uint8_t)rcode);
  if (r->pkt && ldns_pkt_qdcount(r->pkt) == 1) {
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(r->pkt), 0)));
  }
  ldns_status st = ldns_pkt2wire(out, p, outlen);
  ldns_pkt_free(p);
  return st == LDNS_STATUS_OK ? ACMEH_OK : ACMEH_NOMEM;
}

/* Signs reply *out with the verified key (response MAC, RFC 8945 §4.3.1). */
static int sign_reply(req *r, uint16_t error, uint8_t **out, size_t *outlen) {
  acmeh_tsig t = r->tsig;
  t.error = error;
  t.other_len = 0;
  t.orig_id = (uint16_t)((*out)[0] << 8 | (*out)[1]);
  if (error == ACMEH_TSIG_BADTIME) { /* §5.2.3: the server's time in Other Data */
    uint64_t now = (uint64_t)(upd_now(r->u) + r->key->skew_s);
    t.other_len = 6;
    for (int i = 0; i < 6; i++) t.other[i] = (uint8_t)(now >> (40 - 8 * i));
    if (r->entry) json_object_set_new(r->entry, "reported_time", json_integer((json_int_t)now));
  }
  return acmeh_tsig_append(out, outlen, &t, r->key->secret, r->key->secret_len, r->tsig.mac, r->tsig.mac_len);
}

/* NOTAUTH with an unsigned TSIG carrying `error` (BADKEY, BADSIG: §5.2.1-2). */
static int unsigned_tsig_reply(req *r, uint16_t error, uint8_t **out, size_t *outlen) {
  int rc = shell_wire(r, LDNS_RCODE_NOTAUTH, out, outlen);
  if (rc != ACMEH_OK) return rc;
  acmeh_tsig t = r->tsig;
  t.error = error;
  t.mac_len = 0;
  t.other_len = 0;
  return acmeh_tsig_append(out, outlen, &t, NULL, 0, NULL, 0);
}

/* ---- TSIG checks ---- */

/* 0 when the TSIG is good; else the reply is in *out and r says why. */
static int check_tsig(req *r, uint8_t **out, size_t *outlen, int *rc) {
  acmeh_tsig *t = &r->tsig;
  upd_key *k = upd_find_key(r->u, t->key_name);
  if (!k || strcasecmp(k->alg, t->alg_name) != 0) {
    set_verdict(r, LDNS_RCODE_NOTAUTH, "badkey", k ? "key known, algorithm differs" : "unknown key name");
    return *rc = unsigned_tsig_reply(r, ACMEH_TSIG_BADKEY, out, outlen), 1;
  }
  size_t hash = (size_t)EVP_MD_get_size(acmeh_tsig_md(k->alg));
  if (t->mac_len > hash || t->mac_len < (hash / 2 > 10 ? hash / 2 : 10)) {
    set_verdict(r, LDNS_RCODE_FORMERR, "formerr", "MAC size outside max(10, hash/2)..hash (RFC 8945 §5.2.2.1)");
    return *rc = shell_wire(r, LDNS_RCODE_FORMERR, out, outlen), 1;
  }
  if (!acmeh_tsig_verify(t, k->secret, k->secret_len, r->q, r->qlen)) {
    set_verdict(r, LDNS_RCODE_NOTAUTH, "badsig", "MAC does not verify");
    return *rc = unsigned_tsig_reply(r, ACMEH_TSIG_BADSIG, out, outlen), 1;
  }
  r->key = k;
  int64_t now = upd_now(r->u) + k->skew_s, skew = now - (int64_t)t->time_signed;
  if (skew > t->fudge || -skew > t->fudge || t->time_signed < k->last_time) {
    set_verdict(r, LDNS_RCODE_NOTAUTH, "badtime",
                t->time_signed < k->last_time ? "Time Signed older than the key's last one (RFC 8945 §5.2.3)"
                                              : "Time Signed outside the fudge window");
    if ((*rc = shell_wire(r, LDNS_RCODE_NOTAUTH, out, outlen)) == ACMEH_OK) *rc = sign_reply(r, ACMEH_TSIG_BADTIME, out, outlen);
    return 1;
  }
  if (upd_replayed(r->u, k->name, t->mac, t->mac_len)) {
    set_verdict(r, LDNS_RCODE_REFUSED, "replay", "this key and MAC were seen before: replayed message");
    if ((*rc = shell_wire(r, LDNS_RCODE_REFUSED, out, outlen)) == ACMEH_OK) *rc = sign_reply(r, 0, out, outlen);
    return 1;
  }
  k->last_time = t->time_signed;
  return 0;
}

/* ---- plain and signed queries ---- */

static int soa_answer(req *r, const ldns_rr *question, uint8_t **out, size_t *outlen) {
  char text[900];
  snprintf(text, sizeof text, "%s. 0 IN SOA ns1.%s. hostmaster.%s. %u 3600 600 86400 0", r->zone, r->zone, r->zone,
           r->u->serial);
  ldns_rr *soa = NULL;
  ldns_pkt *p = ldns_pkt_new();
  if (!p || ldns_rr_new_frm_str(&soa, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
    ldns_pkt_free(p);
    return ACMEH_NOMEM;
  }
  ldns_pkt_set_id(p, ldns_pkt_id(r->pkt));
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_aa(p, true);
  ldns_pkt_set_rd(p, ldns_pkt_rd(r->pkt));
  ldns_rdf *old = ldns_rr_owner(soa); /* answer in the question's spelling (0x20 case) */
  ldns_rr_set_owner(soa, ldns_rdf_clone(ldns_rr_owner(question)));
  ldns_rdf_deep_free(old);
  ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, soa);
  ldns_status st = ldns_pkt2wire(out, p, outlen);
  ldns_pkt_free(p);
  return st == LDNS_STATUS_OK ? ACMEH_OK : ACMEH_NOMEM;
}

static int query_answer(req *r, acmeh_history *hist, const char *proto, uint8_t **out, size_t *outlen) {
  const ldns_rr *question = r->pkt && ldns_pkt_qdcount(r->pkt) == 1 ? ldns_rr_list_rr(ldns_pkt_question(r->pkt), 0) : NULL;
  if (question && ldns_pkt_get_opcode(r->pkt) == LDNS_PACKET_QUERY && ldns_rr_get_type(question) == LDNS_RR_TYPE_SOA &&
      upd_name(ldns_rr_owner(question), r->zone) == 0 && upd_is_apex(r->u, r->zone))
    return soa_answer(r, question, out, outlen);
  return acmeh_dns_answer(r->rec, hist, proto, r->q, r->qlen, r->max_len, out, outlen);
}

/* ---- UPDATE ---- */

static const char *class_name(ldns_rr_class c) {
  return c == LDNS_RR_CLASS_IN ? "IN" : c == LDNS_RR_CLASS_ANY ? "ANY" : c == LDNS_RR_CLASS_NONE ? "NONE" : "other";
}

/* Store kind of an RR type; -1 for types the store cannot hold. */
static int kind_of(ldns_rr_type t) {
  switch (t) {
  case LDNS_RR_TYPE_A: return ACMEH_REC_A;
  case LDNS_RR_TYPE_AAAA: return ACMEH_REC_AAAA;
  case LDNS_RR_TYPE_TXT: return ACMEH_REC_TXT;
  case LDNS_RR_TYPE_CNAME: return ACMEH_REC_CNAME;
  default: return -1;
  }
}

/* The RR's data as the store keeps it (malloc'd): TXT strings joined, addresses
 * and names in presentation form. NULL when empty or not storable (a NUL byte). */
static char *rr_value(const ldns_rr *rr) {
  if (ldns_rr_rd_count(rr) == 0) return NULL;
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT) {
    size_t total = 0;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) total += ldns_rdf_size(ldns_rr_rdf(rr, i));
    char *s = calloc(1, total + 1), *o = s;
    for (size_t i = 0; s && i < ldns_rr_rd_count(rr); i++) {
      const ldns_rdf *d = ldns_rr_rdf(rr, i);
      if (ldns_rdf_size(d) < 1) continue;
      memcpy(o, ldns_rdf_data(d) + 1, ldns_rdf_size(d) - 1);
      o += ldns_rdf_size(d) - 1;
    }
    if (s && strlen(s) != (size_t)(o - s)) return free(s), NULL;
    return s;
  }
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME) {
    char n[256];
    return upd_name(ldns_rr_rdf(rr, 0), n) == 0 ? strdup(n) : NULL;
  }
  return ldns_rdf2str(ldns_rr_rdf(rr, 0));
}

static json_t *describe(const ldns_rr *rr, const char *op) {
  char name[256] = "?", *type = ldns_rr_type2str(ldns_rr_get_type(rr)), *value = rr_value(rr);
  upd_name(ldns_rr_owner(rr), name);
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "op", op, "name", name, "type", type ? type : "?", "class",
                        class_name(ldns_rr_get_class(rr)), "ttl", (json_int_t)ldns_rr_ttl(rr));
  if (o && value && strlen(value) > UPD_VALUE_KEEP) { /* bounded journal: a TXT RR can be 64 KB */
    value[UPD_VALUE_KEEP] = '\0';
    json_object_set_new(o, "value_truncated", json_true());
  }
  if (o && value) json_object_set_new(o, "value", json_string(value));
  free(type);
  free(value);
  return o;
}

static const char *update_op(const ldns_rr *rr) {
  switch (ldns_rr_get_class(rr)) {
  case LDNS_RR_CLASS_IN: return "add";
  case LDNS_RR_CLASS_ANY: return ldns_rr_get_type(rr) == LDNS_RR_TYPE_ANY ? "delete-name" : "delete-rrset";
  case LDNS_RR_CLASS_NONE: return "delete-rr";
  default: return "invalid";
  }
}

static const char *prereq_meaning(const ldns_rr *rr) {
  int any = ldns_rr_get_type(rr) == LDNS_RR_TYPE_ANY;
  switch (ldns_rr_get_class(rr)) {
  case LDNS_RR_CLASS_ANY: return any ? "name is in use" : "RRset exists (value independent)";
  case LDNS_RR_CLASS_NONE: return any ? "name is not in use" : "RRset does not exist";
  case LDNS_RR_CLASS_IN: return "RRset exists (value dependent)";
  default: return "invalid";
  }
}

/* The first `keep` RRs of each section, decoded; counts give the full sizes. */
static void journal_sections(req *r, size_t keep) {
  json_t *pre = json_array(), *upd = json_array();
  ldns_rr_list *pl = ldns_pkt_answer(r->pkt), *ul = ldns_pkt_authority(r->pkt);
  size_t np = ldns_rr_list_rr_count(pl), nu = ldns_rr_list_rr_count(ul);
  for (size_t i = 0; i < np && i < keep; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(pl, i);
    json_t *d = describe(rr, prereq_meaning(rr));
    json_object_set_new(d, "meaning", json_string(prereq_meaning(rr)));
    json_object_del(d, "op");
    json_array_append_new(pre, d);
  }
  for (size_t i = 0; i < nu && i < keep; i++)
    json_array_append_new(upd, describe(ldns_rr_list_rr(ul, i), update_op(ldns_rr_list_rr(ul, i))));
  json_object_set_new(r->entry, "prerequisites", pre);
  json_object_set_new(r->entry, "updates", upd);
  json_object_set_new(r->entry, "prerequisite_count", json_integer((json_int_t)np));
  json_object_set_new(r->entry, "update_count", json_integer((json_int_t)nu));
  if (np > keep || nu > keep) json_object_set_new(r->entry, "truncated", json_true());
}

#define MAX_PREREQS 256
#define MAX_UPDATES 1024

static const int dns_kinds[] = {ACMEH_REC_A, ACMEH_REC_AAAA, ACMEH_REC_TXT, ACMEH_REC_CAA, ACMEH_REC_CNAME};

static int name_in_use(const req *r, const char *name) {
  if (upd_is_apex(r->u, name)) return 1; /* the zone's SOA lives there */
  for (size_t i = 0; i < sizeof dns_kinds / sizeof *dns_kinds; i++)
    if (acmeh_records_has(r->rec, (acmeh_rec_kind)dns_kinds[i], name)) return 1;
  return 0;
}

static int rrset_exists(const req *r, const char *name, ldns_rr_type type) {
  if (type == LDNS_RR_TYPE_SOA) return upd_is_apex(r->u, name);
  int kind = kind_of(type);
  return kind >= 0 && acmeh_records_has(r->rec, (acmeh_rec_kind)kind, name);
}

/* Hashed in the store: an UPDATE's per-RR checks must not cost what the
 * name already holds, or repeated large UPDATEs grow quadratically. */
static int has_value(const req *r, int kind, const char *name, const char *value) {
  return acmeh_records_has_value(r->rec, (acmeh_rec_kind)kind, name, value);
}

static int same_set(const ldns_rr *a, const ldns_rr *b) {
  return ldns_rr_get_class(a) == ldns_rr_get_class(b) && ldns_rr_get_type(a) == ldns_rr_get_type(b) &&
         ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

/* §3.2.3: the RRs of prerequisite i's name/type (class IN) must equal the zone's RRset. */
static int value_group(req *r, const ldns_rr_list *pl, size_t i, const char *name) {
  const ldns_rr *first = ldns_rr_list_rr(pl, i);
  for (size_t j = 0; j < i; j++)
    if (same_set(ldns_rr_list_rr(pl, j), first)) return 0; /* judged with its first member */
  int kind = kind_of(ldns_rr_get_type(first)), distinct = 0, bad = kind < 0;
  for (size_t j = i; !bad && j < ldns_rr_list_rr_count(pl); j++) {
    const ldns_rr *rr = ldns_rr_list_rr(pl, j);
    if (!same_set(rr, first)) continue;
    char *v = rr_value(rr);
    bad = !v || !has_value(r, kind, name, v);
    int dup = 0;
    for (size_t k = i; !bad && k < j && !dup; k++)
      dup = same_set(ldns_rr_list_rr(pl, k), first) && ldns_rr_compare_no_rdata(ldns_rr_list_rr(pl, k), rr) == 0 &&
            ldns_rr_compare(ldns_rr_list_rr(pl, k), rr) == 0;
    distinct += !dup;
    free(v);
  }
  if (!bad && acmeh_records_each(r->rec, (acmeh_rec_kind)kind, name, NULL, NULL) == distinct) return 0;
  return set_verdict(r, LDNS_RCODE_NXRRSET, "prereq-failed", "value-dependent RRset differs (RFC 2136 §3.2.3)"), 1;
}

static int fail(req *r, int rcode, const char *verdict, const char *why) { return set_verdict(r, rcode, verdict, why), 1; }

/* §3.2: one prerequisite; 0 when it holds. */
static int check_prereq(req *r, const ldns_rr_list *pl, size_t i) {
  const ldns_rr *rr = ldns_rr_list_rr(pl, i);
  char name[256];
  int any = ldns_rr_get_type(rr) == LDNS_RR_TYPE_ANY, empty = ldns_rr_rd_count(rr) == 0;
  if (upd_name(ldns_rr_owner(rr), name) != 0 || ldns_rr_ttl(rr) != 0) return fail(r, LDNS_RCODE_FORMERR, "formerr", "prerequisite with a bad name or TTL != 0");
  if (!upd_in_zone(name, r->zone)) return fail(r, LDNS_RCODE_NOTZONE, "notzone", "prerequisite name outside the zone (RFC 2136 §3.2)");
  switch (ldns_rr_get_class(rr)) {
  case LDNS_RR_CLASS_ANY:
    if (!empty) return fail(r, LDNS_RCODE_FORMERR, "formerr", "class ANY prerequisite with RDATA");
    if (any) return name_in_use(r, name) ? 0 : fail(r, LDNS_RCODE_NXDOMAIN, "prereq-failed", "name is not in use");
    return rrset_exists(r, name, ldns_rr_get_type(rr)) ? 0 : fail(r, LDNS_RCODE_NXRRSET, "prereq-failed", "RRset does not exist");
  case LDNS_RR_CLASS_NONE:
    if (!empty) return fail(r, LDNS_RCODE_FORMERR, "formerr", "class NONE prerequisite with RDATA");
    if (any) return name_in_use(r, name) ? fail(r, LDNS_RCODE_YXDOMAIN, "prereq-failed", "name is in use") : 0;
    return rrset_exists(r, name, ldns_rr_get_type(rr)) ? fail(r, LDNS_RCODE_YXRRSET, "prereq-failed", "RRset exists") : 0;
  case LDNS_RR_CLASS_IN: return value_group(r, pl, i, name);
  default: return fail(r, LDNS_RCODE_FORMERR, "formerr", "prerequisite class is not ANY, NONE or the zone's");
  }
}

static int meta_type(ldns_rr_type t) {
  return t == LDNS_RR_TYPE_ANY || t == LDNS_RR_TYPE_AXFR || t == LDNS_RR_TYPE_IXFR || t == LDNS_RR_TYPE_MAILA ||
         t == LDNS_RR_TYPE_MAILB || t == LDNS_RR_TYPE_TSIG || t == LDNS_RR_TYPE_OPT;
}

/* §3.3 permission and §3.4.1 prescan of one update RR; 0 when fine. */
static int prescan(req *r, const ldns_rr *rr, const char *name) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  if (!upd_in_zone(name, r->zone)) return fail(r, LDNS_RCODE_NOTZONE, "notzone", "update name outside the zone (RFC 2136 §3.4.1.3)");
  switch (ldns_rr_get_class(rr)) {
  case LDNS_RR_CLASS_IN: {
    if (meta_type(t)) return fail(r, LDNS_RCODE_FORMERR, "formerr", "add of a meta type");
    char *v = rr_value(rr);
    int ok = v != NULL;
    free(v);
    if (kind_of(t) < 0) return fail(r, LDNS_RCODE_REFUSED, "refused", "the mock stores only A, AAAA, TXT and CNAME");
    return ok ? 0 : fail(r, LDNS_RCODE_FORMERR, "formerr", "add with empty or unstorable RDATA");
  }
  case LDNS_RR_CLASS_ANY:
    if (ldns_rr_ttl(rr) || ldns_rr_rd_count(rr) || (meta_type(t) && t != LDNS_RR_TYPE_ANY))
      return fail(r, LDNS_RCODE_FORMERR, "formerr", "class ANY delete needs TTL 0, no RDATA, a real type or ANY");
    return 0;
  case LDNS_RR_CLASS_NONE:
    if (ldns_rr_ttl(rr) || meta_type(t) || !ldns_rr_rd_count(rr))
      return fail(r, LDNS_RCODE_FORMERR, "formerr", "class NONE delete needs TTL 0, RDATA and a real type");
    return 0;
  default: return fail(r, LDNS_RCODE_FORMERR, "formerr", "update class is not IN, ANY or NONE");
  }
}

/* §3.4.2: one change; returns whether the store changed. */
static int apply_rr(req *r, const ldns_rr *rr, const char *name) {
  int kind = kind_of(ldns_rr_get_type(rr)), changed = 0;
  char *v = rr_value(rr);
  switch (ldns_rr_get_class(rr)) {
  case LDNS_RR_CLASS_IN:
    if (v && !has_value(r, kind, name, v)) /* §2.5.1: a duplicate add is ignored */
      changed = acmeh_records_add(r->rec, (acmeh_rec_kind)kind, name, v, NULL, 0) == ACMEH_OK;
    break;
  case LDNS_RR_CLASS_ANY:
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_ANY)
      for (size_t i = 0; i < sizeof dns_kinds / sizeof *dns_kinds; i++)
        changed += acmeh_records_del(r->rec, (acmeh_rec_kind)dns_kinds[i], name);
    else if (kind >= 0)
      changed = acmeh_records_del(r->rec, (acmeh_rec_kind)kind, name);
    break;
  default:
    if (kind >= 0 && v) changed = acmeh_records_del_value(r->rec, (acmeh_rec_kind)kind, name, v);
    break;
  }
  free(v);
  return changed > 0;
}

/* Inside the store's lock: prerequisites, permission, prescan, then every change. */
static int apply_txn(acmeh_records *rec, void *ud) {
  (void)rec;
  req *r = ud;
  const ldns_rr_list *pl = ldns_pkt_answer(r->pkt), *ul = ldns_pkt_authority(r->pkt);
  size_t np = ldns_rr_list_rr_count(pl), nu = ldns_rr_list_rr_count(ul);
  char name[256];
  if (np > MAX_PREREQS || nu > MAX_UPDATES) return fail(r, LDNS_RCODE_FORMERR, "formerr", "more RRs than the mock takes in one update"), ACMEH_OK;
  for (size_t i = 0; i < np; i++)
    if (check_prereq(r, pl, i)) return ACMEH_OK;
  for (size_t i = 0; i < nu; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(ul, i);
    if (upd_name(ldns_rr_owner(rr), name) != 0) return fail(r, LDNS_RCODE_FORMERR, "formerr", "update RR name does not parse"), ACMEH_OK;
    if (!upd_policy_allows(r->key, name, (int)ldns_rr_get_type(rr))) {
      snprintf(r->reason, sizeof r->reason, "key %s may not change %s %s", r->key->name, name, update_op(rr));
      r->rcode = LDNS_RCODE_REFUSED, r->verdict = "refused";
      return ACMEH_OK;
    }
  }
  for (size_t i = 0; i < nu; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(ul, i);
    if (upd_name(ldns_rr_owner(rr), name) == 0 && prescan(r, rr, name)) return ACMEH_OK;
  }
  int changed = 0;
  for (size_t i = 0; i < nu; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(ul, i);
    if (upd_name(ldns_rr_owner(rr), name) == 0) changed += apply_rr(r, rr, name);
  }
  if (changed) r->u->serial++;
  json_object_set_new(r->entry, "applied", json_true());
  json_object_set_new(r->entry, "changes", json_integer(changed));
  set_verdict(r, LDNS_RCODE_NOERROR, "accepted", "");
  return ACMEH_OK;
}

/* RFC 2136 §3.1: one zone entry of type SOA naming a served zone. */
static int check_zone(req *r) {
  if (ldns_pkt_qdcount(r->pkt) != 1) return set_verdict(r, LDNS_RCODE_FORMERR, "formerr", "zone section count is not 1 (RFC 2136 §3.1.1)"), 1;
  const ldns_rr *z = ldns_rr_list_rr(ldns_pkt_question(r->pkt), 0);
  if (upd_name(ldns_rr_owner(z), r->zone) != 0) snprintf(r->zone, sizeof r->zone, ".");
  json_object_set_new(r->entry, "zone", json_string(r->zone));
  if (ldns_rr_get_type(z) != LDNS_RR_TYPE_SOA)
    return set_verdict(r, LDNS_RCODE_FORMERR, "formerr", "ZTYPE is not SOA (RFC 2136 §3.1.1)"), 1;
  if (!upd_is_apex(r->u, r->zone) || ldns_rr_get_class(z) != LDNS_RR_CLASS_IN)
    return set_verdict(r, LDNS_RCODE_NOTAUTH, "notauth", "zone not served by the mock (RFC 2136 §3.1.1)"), 1;
  return 0;
}

static void journal_tsig(req *r) {
  json_t *e = r->entry;
  if (!r->has_tsig) return;
  json_object_set_new(e, "key", json_string(r->tsig.key_name));
  json_object_set_new(e, "algorithm", json_string(r->tsig.alg_name));
  json_object_set_new(e, "time_signed", json_integer((json_int_t)r->tsig.time_signed));
  json_object_set_new(e, "fudge", json_integer(r->tsig.fudge));
  json_object_set_new(e, "tsig_error_in_request", json_integer(r->tsig.error));
  char hex[2 * ACMEH_TSIG_MAX_MAC + 1];
  for (int i = 0; i < r->tsig.mac_len; i++) snprintf(hex + 2 * i, 3, "%02x", r->tsig.mac[i]);
  hex[2 * r->tsig.mac_len] = '\0';
  json_object_set_new(e, "mac", json_string(hex));
}

static json_t *new_entry(const req *r, const char *proto, const char *source) {
  json_t *e = json_pack("{s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:I}", "opcode", "UPDATE", "proto", proto, "source", source ? source : "",
                        "id", r->q[0] << 8 | r->q[1], "z", (r->q[3] >> 4) & 7, "applied", 0, "zone", "", "server_time",
                        (json_int_t)upd_now(r->u));
  return e ? e : json_object();
}

/* The first `keep` bytes of the request as hex, and its full length. */
static void journal_wire(req *r, size_t keep) {
  size_t n = r->qlen > keep ? keep : r->qlen;
  char *hex = malloc(2 * n + 1);
  for (size_t i = 0; hex && i < n; i++) snprintf(hex + 2 * i, 3, "%02x", r->q[i]);
  if (hex) hex[2 * n] = '\0';
  json_object_set_new(r->entry, "wire", json_string(hex ? hex : ""));
  json_object_set_new(r->entry, "wire_len", json_integer((json_int_t)r->qlen));
  if (n < r->qlen) json_object_set_new(r->entry, "truncated", json_true());
  free(hex);
}

/* Detail in proportion to trust: a message neither authenticated nor accepted
 * (anyone can send those, in floods) is kept as a summary. */
static void journal_detail(req *r) {
  int summary = !r->key && strcmp(r->verdict ? r->verdict : "accepted", "accepted") != 0;
  journal_wire(r, summary ? UPD_WIRE_KEEP_SUMMARY : UPD_WIRE_KEEP);
  if (r->sections) journal_sections(r, summary ? UPD_RRS_KEEP_SUMMARY : UPD_RRS_KEEP);
}

/* Runs every step after TSIG; the rcode and verdict end up in r. */
static int process_update(req *r) {
  if (check_zone(r)) return 0; /* §3.1 comes before the permission check of §3.3 */
  if (!r->key && !r->u->allow_unsigned)
    return set_verdict(r, LDNS_RCODE_REFUSED, "refused", "unsigned update and unsigned updates are not allowed"), 0;
  return acmeh_records_txn(r->rec, apply_txn, r);
}

/* Verdict, RCODE and TSIG error into the entry, which goes to the journal. */
static void file_entry(req *r) {
  char *rname = ldns_pkt_rcode2str((ldns_pkt_rcode)r->rcode);
  json_object_set_new(r->entry, "verdict", json_string(r->verdict ? r->verdict : "accepted"));
  json_object_set_new(r->entry, "rcode", json_string(rname ? rname : "?"));
  json_object_set_new(r->entry, "reason", json_string(r->reason));
  json_object_set_new(r->entry, "tsig_error",
                      json_integer(strcmp(r->verdict ? r->verdict : "", "badkey") == 0   ? ACMEH_TSIG_BADKEY
                                   : strcmp(r->verdict ? r->verdict : "", "badsig") == 0 ? ACMEH_TSIG_BADSIG
                                   : strcmp(r->verdict ? r->verdict : "", "badtime") == 0 ? ACMEH_TSIG_BADTIME
                                                                                          : 0));
  free(rname);
  journal_detail(r);
  upd_journal_add(r->u, r->entry);
  r->entry = NULL;
}

static int finish_update(req *r, uint8_t **out, size_t *outlen, int rc) {
  file_entry(r);
  if (rc != ACMEH_OK || *out) return rc; /* a TSIG error reply is already built */
  rc = shell_wire(r, r->rcode, out, outlen);
  if (rc == ACMEH_OK && r->key) rc = sign_reply(r, 0, out, outlen);
  return rc;
}

static int handle_update(req *r, const char *proto, const char *source, int tsig_rc, uint8_t **out, size_t *outlen) {
  r->entry = new_entry(r, proto, source);
  int rc = ACMEH_OK;
  if (!r->pkt || tsig_rc != ACMEH_OK) {
    char why[sizeof r->reason]; /* set_verdict writes r->reason: no overlapping copy */
    snprintf(why, sizeof why, "%s", r->reason[0] ? r->reason : "message does not parse");
    set_verdict(r, LDNS_RCODE_FORMERR, "formerr", why);
  } else {
    if (r->pkt && ldns_pkt_qdcount(r->pkt) == 1 && upd_name(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r->pkt), 0)), r->zone) == 0)
      json_object_set_new(r->entry, "zone", json_string(r->zone));
    journal_tsig(r);
    r->sections = 1; /* what it asked for, whatever its fate (decoded when filed) */
    if (!r->has_tsig || !check_tsig(r, out, outlen, &rc)) rc = process_update(r);
  }
  return finish_update(r, out, outlen, rc);
}

#define EDNS_UDP_CAP 4096 /* the most answer.c sends for an EDNS query */

/* The size the signed reply must fit in: the transport's, or a larger EDNS
 * buffer the query advertises (capped as answer.c caps it). */
static size_t reply_limit(const req *r) {
  size_t adv = ldns_pkt_edns(r->pkt) ? ldns_pkt_edns_udp_size(r->pkt) : 0;
  if (adv > EDNS_UDP_CAP) adv = EDNS_UDP_CAP;
  return adv > r->max_len ? adv : r->max_len;
}

/* RFC 8945 §5.3 with RFC 1035 §4.2.1: the answer is built with room left for
 * the TSIG; when it still does not fit (an EDNS answer sized to the buffer),
 * a truncated reply (header with TC, question) is signed instead, so the
 * client retries over TCP and never sees an unsigned or oversized reply. */
static int signed_answer(req *r, acmeh_history *hist, const char *proto, uint8_t **out, size_t *outlen) {
  size_t limit = reply_limit(r), tsig = acmeh_tsig_rr_size(&r->tsig, (size_t)EVP_MD_get_size(acmeh_tsig_md(r->key->alg)), 0);
  size_t room = limit > tsig + 12 ? limit - tsig : 12, saved = r->max_len;
  r->max_len = room;
  int rc = query_answer(r, hist, proto, out, outlen);
  r->max_len = saved;
  if (rc == ACMEH_OK && *outlen > room) {
    free(*out);
    *out = NULL;
    rc = shell_wire(r, LDNS_RCODE_NOERROR, out, outlen);
    if (rc == ACMEH_OK) (*out)[2] |= 0x02 | (r->q[2] & 0x01); /* TC, and RD copied */
  }
  return rc == ACMEH_OK ? sign_reply(r, 0, out, outlen) : rc;
}

/* Signed queries are journalled too (opcode QUERY, filed under the qname):
 * a client's first TSIG exchange is often its SOA lookup (certbot's). */
static int handle_query(req *r, acmeh_history *hist, const char *proto, const char *source, uint8_t **out,
                        size_t *outlen) {
  int rc = ACMEH_OK;
  if (!r->has_tsig || !r->pkt) return query_answer(r, hist, proto, out, outlen);
  r->entry = new_entry(r, proto, source);
  json_object_set_new(r->entry, "opcode", json_string("QUERY"));
  char qname[256];
  if (ldns_pkt_qdcount(r->pkt) == 1 && upd_name(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r->pkt), 0)), qname) == 0)
    json_object_set_new(r->entry, "zone", json_string(qname));
  journal_tsig(r);
  if (!check_tsig(r, out, outlen, &rc)) {
    set_verdict(r, LDNS_RCODE_NOERROR, "answered", "");
    rc = signed_answer(r, hist, proto, out, outlen);
  }
  file_entry(r);
  return rc;
}

/* The message for ldns; NULL when it does not parse. One with repeated or
 * misplaced TSIG RRs (FORMERR, RFC 8945 §5.2) is parsed only up to its
 * question, which the FORMERR reply echoes: ldns_wire2pkt would leak every
 * TSIG RR but the last (see acmeh_wire_tsig_safe). */
static ldns_pkt *parse(const uint8_t *q, size_t qlen) {
  ldns_pkt *p = NULL;
  if (acmeh_wire_tsig_safe(q, qlen)) return ldns_wire2pkt(&p, q, qlen) == LDNS_STATUS_OK ? p : NULL;
  size_t end = acmeh_wire_question_end(q, qlen);
  uint8_t *head = end ? malloc(end) : NULL;
  if (!head) return NULL;
  memcpy(head, q, end);
  memset(head + 6, 0, 6); /* ANCOUNT, NSCOUNT, ARCOUNT: the question alone */
  if (ldns_wire2pkt(&p, head, end) != LDNS_STATUS_OK) p = NULL;
  free(head);
  return p;
}

int acmeh_dnsupd_answer(acmeh_dnsupd *u, acmeh_records *rec, acmeh_history *hist, const char *proto,
                        const char *source, const uint8_t *q, size_t qlen, size_t max_len, uint8_t **out,
                        size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  if (!q || qlen < 12 || (q[2] & 0x80)) return ACMEH_PEER_PROTOCOL;
  req r = {.u = u, .rec = rec, .q = q, .qlen = qlen, .max_len = max_len, .rcode = LDNS_RCODE_NOERROR};
  int update = ((q[2] >> 3) & 0x0f) == LDNS_PACKET_UPDATE;
  r.pkt = parse(q, qlen);
  pthread_mutex_lock(&u->mu);
  int tsig_rc = acmeh_tsig_find(q, qlen, &r.tsig, &r.has_tsig, r.reason, sizeof r.reason);
  int rc;
  if (update)
    rc = handle_update(&r, proto, source, tsig_rc, out, outlen);
  else if (tsig_rc != ACMEH_OK && r.pkt)
    rc = shell_wire(&r, LDNS_RCODE_FORMERR, out, outlen); /* §5.2: misplaced or doubled TSIG */
  else
    rc = handle_query(&r, hist, proto, source, out, outlen);
  pthread_mutex_unlock(&u->mu);
  json_decref(r.entry);
  ldns_pkt_free(r.pkt);
  return rc;
}
