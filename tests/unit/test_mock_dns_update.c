/* Unit tests for the mock DNS's UPDATE/TSIG layer (mocks/dns/update.h):
 * the vectors of vectors/dnsupdate/tsig.json (MACs computed with Python's
 * hmac) checked against our TSIG code and against ldns; each RFC 2136
 * prerequisite and update kind; each TSIG error; replay, policy and unsigned
 * refusals; bad input (truncation, compression loops, wrong counts, garbage
 * TSIG, oversized updates, 64 KB TCP frames) after which good queries still
 * get answers. Requests are built and signed with ldns. */
#include "base/clock.h"
#include "base/error.h"
#include "mocks/dns/answer.h"
#include "mocks/dns/tsig.h"
#include "mocks/dns/update.h"
#include "mocks/mgmt/mgmt.h"
#include "mocks/mocks.h"
#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif

#define KEY "acme-update-key."
#define SECRET "jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o="
#define ADMIN "admin-key."
#define ADMIN_SECRET "c2VjcmV0LWZvci10aGUtYWRtaW4ta2V5LTAxMjM0NQ=="
#define OWNER "_acme-challenge.www.example.com."

static acmeh_records *REC;
static acmeh_dnsupd *UPD;

/* ---------- helpers ---------- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n && i < cap; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
  return n < cap ? n : cap;
}

static void tohex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
  out[2 * n] = '\0';
}

/* Feeds one message to the mock; returns the parsed reply (NULL when none) and the raw reply. */
static ldns_pkt *feed(const uint8_t *w, size_t len, uint8_t **raw, size_t *rawlen) {
  uint8_t *out = NULL;
  size_t outlen = 0;
  int rc = acmeh_dnsupd_answer(UPD, REC, NULL, "udp", "127.0.0.1:5353", w, len, 65535, &out, &outlen);
  ldns_pkt *p = NULL;
  if (rc == ACMEH_OK && ldns_wire2pkt(&p, out, outlen) != LDNS_STATUS_OK) p = NULL;
  if (raw) *raw = out, *rawlen = outlen;
  else free(out);
  return p;
}

/* Feeds one message; returns the raw reply (malloc'd, NULL when none). */
static uint8_t *feed_raw(const uint8_t *w, size_t len) {
  uint8_t *out = NULL;
  size_t outlen = 0;
  acmeh_dnsupd_answer(UPD, REC, NULL, "udp", "127.0.0.1:5353", w, len, 65535, &out, &outlen);
  return out;
}

/* An RR for a prerequisite or update: rdata NULL = empty RDATA. */
static ldns_rr *rr(const char *name, uint32_t ttl, ldns_rr_class cls, ldns_rr_type type, const char *rdata) {
  ldns_rr *r = NULL;
  if (rdata) {
    char text[600];
    char *t = ldns_rr_type2str(type);
    snprintf(text, sizeof text, "%s %u IN %s %s", name, ttl, t, rdata);
    free(t);
    CU_ASSERT_FATAL(ldns_rr_new_frm_str(&r, text, 0, NULL, NULL) == LDNS_STATUS_OK);
  } else {
    r = ldns_rr_new();
    ldns_rr_set_owner(r, ldns_dname_new_frm_str(name));
    ldns_rr_set_type(r, type);
    ldns_rr_set_ttl(r, ttl);
  }
  ldns_rr_set_class(r, cls);
  return r;
}

/* Builds an UPDATE for zone with the given lists (taken), signed with key (NULL = unsigned). */
static uint8_t *build(const char *zone, ldns_rr_list *pre, ldns_rr_list *up, const char *key, const char *secret,
                      const char *alg, size_t *len, ldns_rdf **mac) {
  ldns_pkt *p = ldns_update_pkt_new(ldns_dname_new_frm_str(zone), LDNS_RR_CLASS_IN, pre, up, NULL);
  CU_ASSERT_FATAL(p != NULL);
  ldns_pkt_set_id(p, (uint16_t)(rand() & 0xffff));
  if (key) CU_ASSERT(ldns_pkt_tsig_sign(p, key, secret, 300, alg ? alg : "hmac-sha256.", NULL) == LDNS_STATUS_OK);
  if (mac && key) *mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
  uint8_t *w = NULL;
  CU_ASSERT_FATAL(ldns_pkt2wire(&w, p, len) == LDNS_STATUS_OK);
  ldns_pkt_free(p);
  ldns_rr_list_deep_free(pre);
  ldns_rr_list_deep_free(up);
  return w;
}

static ldns_rr_list *list1(ldns_rr *a) {
  ldns_rr_list *l = ldns_rr_list_new();
  if (a) ldns_rr_list_push_rr(l, a);
  return l;
}
static ldns_rr_list *list2(ldns_rr *a, ldns_rr *b) {
  ldns_rr_list *l = list1(a);
  ldns_rr_list_push_rr(l, b);
  return l;
}

/* Sends a signed (acme key) update; returns the reply's RCODE, checks its TSIG with ldns. */
static int send_update(ldns_rr_list *pre, ldns_rr_list *up, const char *key, const char *secret) {
  size_t len, rawlen = 0;
  ldns_rdf *mac = NULL;
  const char *alg = key && strcmp(key, ADMIN) == 0 ? "hmac-sha512." : NULL;
  uint8_t *w = build("example.com.", pre, up, key, secret, alg, &len, &mac), *raw = NULL;
  ldns_pkt *resp = feed(w, len, &raw, &rawlen);
  CU_ASSERT_FATAL(resp != NULL);
  int rcode = ldns_pkt_get_rcode(resp);
  if (key && rcode != LDNS_RCODE_NOTAUTH) /* signed replies verify with ldns */
    CU_ASSERT(ldns_pkt_tsig_verify(resp, raw, rawlen, key, secret, mac));
  ldns_pkt_free(resp);
  ldns_rdf_deep_free(mac);
  free(raw);
  free(w);
  return rcode;
}
static int acme_update(ldns_rr_list *pre, ldns_rr_list *up) { return send_update(pre, up, KEY, SECRET); }
static int admin_update(ldns_rr_list *pre, ldns_rr_list *up) { return send_update(pre, up, ADMIN, ADMIN_SECRET); }

static int txt_count(const char *name) { return acmeh_records_each(REC, ACMEH_REC_TXT, name, NULL, NULL); }

static json_t *last_journal(void) {
  json_t *j = acmeh_dnsupd_journal(UPD, NULL);
  json_t *e = json_incref(json_array_get(j, json_array_size(j) - 1));
  json_decref(j);
  return e;
}

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void add_keys(void) {
  char err[256];
  json_t *k = json_pack("{s:s, s:s, s:s, s:[{s:s, s:[s]}]}", "name", KEY, "algorithm", "hmac-sha256", "secret", SECRET,
                        "policy", "name", "_acme-challenge.*", "types", "TXT");
  CU_ASSERT_FATAL(acmeh_dnsupd_add_key(UPD, k, err, sizeof err) == ACMEH_OK);
  json_decref(k);
  k = json_pack("{s:s, s:s, s:s}", "name", ADMIN, "algorithm", "hmac-sha512", "secret", ADMIN_SECRET);
  CU_ASSERT_FATAL(acmeh_dnsupd_add_key(UPD, k, err, sizeof err) == ACMEH_OK);
  json_decref(k);
}

static int setup(void) {
  REC = acmeh_records_new("127.0.0.1");
  UPD = acmeh_dnsupd_new(64);
  if (!REC || !UPD || acmeh_dnsupd_add_zone(UPD, "example.com") != ACMEH_OK) return 1;
  srand(7);
  return 0;
}

static int teardown(void) {
  acmeh_dnsupd_free(UPD);
  acmeh_records_free(REC);
  return 0;
}

/* ---------- vectors ---------- */

static json_t *load_vectors(void) {
  json_error_t je;
  json_t *doc = json_load_file("vectors/dnsupdate/tsig.json", 0, &je);
  CU_ASSERT_FATAL(doc != NULL);
  return doc;
}

static void check_request_vector(json_t *in, json_t *exp) {
  uint8_t signed_w[512], mac[EVP_MAX_MD_SIZE], secret[128];
  size_t len = unhex(jstr(exp, "signed_hex"), signed_w, sizeof signed_w);
  acmeh_tsig t;
  int found = 0;
  char err[128], hex[2 * EVP_MAX_MD_SIZE + 1];
  CU_ASSERT_FATAL(acmeh_tsig_find(signed_w, len, &t, &found, err, sizeof err) == ACMEH_OK && found);
  ldns_rdf *sec = NULL;
  CU_ASSERT_FATAL(ldns_str2rdf_b64(&sec, jstr(in, "secret")) == LDNS_STATUS_OK);
  size_t slen = ldns_rdf_size(sec);
  memcpy(secret, ldns_rdf_data(sec), slen);
  ldns_rdf_deep_free(sec);
  /* Our MAC code over the unsigned message equals Python's. */
  uint8_t plain[512];
  size_t plen = unhex(jstr(in, "unsigned_hex"), plain, sizeof plain);
  unsigned mlen = 0;
  CU_ASSERT(acmeh_tsig_mac(&t, secret, slen, NULL, 0, plain, plen, mac, &mlen) == ACMEH_OK);
  tohex(mac, mlen, hex);
  CU_ASSERT_STRING_EQUAL(hex, jstr(exp, "mac_hex"));
  CU_ASSERT(acmeh_tsig_verify(&t, secret, slen, signed_w, len));
  /* ldns agrees the Python MAC is right. */
  ldns_pkt *p = NULL;
  CU_ASSERT_FATAL(ldns_wire2pkt(&p, signed_w, len) == LDNS_STATUS_OK);
  CU_ASSERT(ldns_pkt_tsig_verify(p, signed_w, len, jstr(in, "key_name"), jstr(in, "secret"), NULL));
  ldns_pkt_free(p);
}

/* The add vector through the mock at the edges of the fudge window. */
static void check_window(json_t *in, json_t *exp) {
  uint8_t w[512];
  size_t len = unhex(jstr(exp, "signed_hex"), w, sizeof w);
  char err[128];
  json_t *k = json_pack("{s:s, s:s, s:s}", "name", jstr(in, "key_name"), "algorithm", jstr(in, "algorithm"), "secret",
                        jstr(in, "secret"));
  CU_ASSERT_FATAL(acmeh_dnsupd_add_key(UPD, k, err, sizeof err) == ACMEH_OK);
  json_decref(k);
  acmeh_dnsupd_set_time(UPD, json_integer_value(json_object_get(exp, "badtime_from")));
  ldns_pkt *p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOTAUTH);
  ldns_pkt_free(p);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "badtime");
  json_decref(e);
  acmeh_dnsupd_set_time(UPD, json_integer_value(json_object_get(exp, "accept_until")));
  p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR);
  ldns_pkt_free(p);
  acmeh_dnsupd_set_time(UPD, 0);
}

/* Response vectors: the mock's reply bytes equal Python's (NOERROR, and BADTIME with server time). */
static void check_response_vector(json_t *doc, json_t *in, json_t *exp) {
  json_t *req = NULL;
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(doc, "vectors"), i, v) {
    json_t *vi = json_object_get(v, "input");
    if (strcmp(jstr(vi, "kind"), "request") == 0 && strcmp(jstr(vi, "message"), "add") == 0 &&
        strcmp(jstr(vi, "algorithm"), jstr(in, "algorithm")) == 0)
      req = json_object_get(v, "expected");
  }
  CU_ASSERT_FATAL(req != NULL);
  uint8_t w[512], *raw = NULL, other[8];
  size_t len = unhex(jstr(req, "signed_hex"), w, sizeof w), rawlen = 0;
  char err[128];
  json_t *k = json_pack("{s:s, s:s, s:s}", "name", jstr(in, "key_name"), "algorithm", jstr(in, "algorithm"), "secret",
                        jstr(in, "secret"));
  acmeh_dnsupd *saved = UPD; /* a fresh instance: the shared one remembers this request (replay) */
  UPD = acmeh_dnsupd_new(4);
  acmeh_dnsupd_add_zone(UPD, "example.com");
  acmeh_dnsupd_add_key(UPD, k, err, sizeof err);
  json_decref(k);
  int64_t t = json_integer_value(json_object_get(in, "time_signed"));
  if (json_integer_value(json_object_get(in, "error")) == ACMEH_TSIG_BADTIME) {
    unhex(jstr(in, "other_hex"), other, 6);
    t = 0;
    for (int b = 0; b < 6; b++) t = t << 8 | other[b];
  }
  acmeh_dnsupd_set_time(UPD, t);
  acmeh_records_del(REC, ACMEH_REC_TXT, OWNER);
  ldns_pkt_free(feed(w, len, &raw, &rawlen));
  char *hex = malloc(2 * rawlen + 1);
  tohex(raw, rawlen, hex);
  CU_ASSERT_STRING_EQUAL(hex, jstr(exp, "signed_hex"));
  if (strcmp(hex, jstr(exp, "signed_hex")) != 0) fprintf(stderr, "\nmock:   %s\nvector: %s\n", hex, jstr(exp, "signed_hex"));
  free(hex);
  free(raw);
  acmeh_dnsupd_free(UPD);
  UPD = saved;
  acmeh_records_del(REC, ACMEH_REC_TXT, OWNER);
}

static void test_vectors(void) {
  json_t *doc = load_vectors(), *v;
  size_t i, nreq = 0, nresp = 0;
  json_array_foreach(json_object_get(doc, "vectors"), i, v) {
    json_t *in = json_object_get(v, "input"), *exp = json_object_get(v, "expected");
    if (strcmp(jstr(in, "kind"), "request") == 0) {
      check_request_vector(in, exp);
      if (strcmp(jstr(in, "message"), "add") == 0) check_window(in, exp);
      nreq++;
    } else {
      check_response_vector(doc, in, exp);
      nresp++;
    }
  }
  CU_ASSERT(nreq >= 5 && nresp >= 2);
  json_decref(doc);
  add_keys(); /* the vectors replaced the acme key without a policy */
}

/* ---------- functional ---------- */

#define VALUE_A "\"valueA-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define VALUE_B "\"valueB-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""

static void test_update_kinds(void) {
  add_keys();
  acmeh_records_del(REC, ACMEH_REC_TXT, OWNER);
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A))) == LDNS_RCODE_NOERROR);
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_B))) == LDNS_RCODE_NOERROR);
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_B))) == LDNS_RCODE_NOERROR);
  CU_ASSERT_EQUAL(txt_count(OWNER), 2); /* the duplicate add was ignored (§2.5.1) */
  /* delete one RR: the other value survives */
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 0, LDNS_RR_CLASS_NONE, LDNS_RR_TYPE_TXT, VALUE_A))) == LDNS_RCODE_NOERROR);
  CU_ASSERT_EQUAL(txt_count(OWNER), 1);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(json_array_get(json_object_get(e, "updates"), 0), "op"), "delete-rr");
  CU_ASSERT_STRING_EQUAL(jstr(e, "key"), KEY);
  json_decref(e);
  /* delete RRset */
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_TXT, NULL))) == LDNS_RCODE_NOERROR);
  CU_ASSERT_EQUAL(txt_count(OWNER), 0);
  /* delete all RRsets of a name (admin key: no policy) */
  CU_ASSERT(admin_update(NULL, list2(rr("www.example.com.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_A, "192.0.2.7"),
                                     rr("www.example.com.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"x\""))) ==
            LDNS_RCODE_NOERROR);
  CU_ASSERT(acmeh_records_has(REC, ACMEH_REC_A, "www.example.com"));
  CU_ASSERT(admin_update(NULL, list1(rr("www.example.com.", 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_ANY, NULL))) ==
            LDNS_RCODE_NOERROR);
  CU_ASSERT(!acmeh_records_has(REC, ACMEH_REC_A, "www.example.com") && !txt_count("www.example.com"));
}

static void test_prerequisites(void) {
  acmeh_records_del(REC, ACMEH_REC_TXT, OWNER);
  ldns_rr *add = rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A);
  CU_ASSERT(acme_update(NULL, list1(ldns_rr_clone(add))) == LDNS_RCODE_NOERROR);
  /* RRset does not exist, while it does -> YXRRSET */
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_NONE, LDNS_RR_TYPE_TXT, NULL)), list1(ldns_rr_clone(add))) ==
            LDNS_RCODE_YXRRSET);
  /* RRset exists (value independent) */
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_TXT, NULL)), list1(ldns_rr_clone(add))) ==
            LDNS_RCODE_NOERROR);
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_A, NULL)), list1(ldns_rr_clone(add))) ==
            LDNS_RCODE_NXRRSET);
  /* value dependent: right value, wrong value */
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), list1(ldns_rr_clone(add))) ==
            LDNS_RCODE_NOERROR);
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_B)), list1(ldns_rr_clone(add))) ==
            LDNS_RCODE_NXRRSET);
  /* name in use / not in use */
  CU_ASSERT(acme_update(list1(rr("nothing.example.com.", 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_ANY, NULL)),
                        list1(ldns_rr_clone(add))) == LDNS_RCODE_NXDOMAIN);
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_NONE, LDNS_RR_TYPE_ANY, NULL)), list1(ldns_rr_clone(add))) ==
            LDNS_RCODE_YXDOMAIN);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "prereq-failed");
  CU_ASSERT_STRING_EQUAL(jstr(json_array_get(json_object_get(e, "prerequisites"), 0), "meaning"), "name is not in use");
  CU_ASSERT(json_is_false(json_object_get(e, "applied")));
  json_decref(e);
  /* a failed prerequisite changes nothing: atomic */
  CU_ASSERT(acme_update(list1(rr(OWNER, 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_A, NULL)),
                        list1(rr(OWNER, 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_TXT, NULL))) == LDNS_RCODE_NXRRSET);
  CU_ASSERT_EQUAL(txt_count(OWNER), 1);
  ldns_rr_free(add);
}

static void test_zone_checks(void) {
  size_t len;
  /* NOTZONE */
  CU_ASSERT(admin_update(NULL, list1(rr("_acme-challenge.example.org.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"x\""))) ==
            LDNS_RCODE_NOTZONE);
  /* NOTAUTH for a zone not served */
  uint8_t *w = build("example.net.", NULL, list1(rr("a.example.net.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"x\"")),
                     ADMIN, ADMIN_SECRET, "hmac-sha512.", &len, NULL);
  ldns_pkt *p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOTAUTH);
  ldns_pkt_free(p);
  free(w);
  /* FORMERR: ZTYPE not SOA (unsigned so the edit does not break a MAC) */
  acmeh_dnsupd_set_allow_unsigned(UPD, 1);
  w = build("example.com.", NULL, list1(rr("a.example.com.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"x\"")), NULL,
            NULL, NULL, &len, NULL);
  w[12 + 13 + 1] = 1; /* after "example.com." (13 octets): type SOA -> A */
  p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_FORMERR);
  ldns_pkt_free(p);
  free(w);
  acmeh_dnsupd_set_allow_unsigned(UPD, 0);
}

static void test_tsig_errors(void) {
  size_t len, rawlen;
  uint8_t *raw;
  /* BADKEY: unknown key -> NOTAUTH, TSIG error 17, MAC size 0 */
  CU_ASSERT(send_update(NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), "nobody.", SECRET) ==
            LDNS_RCODE_NOTAUTH);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "badkey");
  json_decref(e);
  /* BADSIG: right key name, wrong secret */
  uint8_t *w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), KEY,
                     ADMIN_SECRET, NULL, &len, NULL);
  ldns_pkt *p = feed(w, len, &raw, &rawlen);
  CU_ASSERT_FATAL(p && ldns_pkt_tsig(p));
  CU_ASSERT(ldns_pkt_get_rcode(p) == LDNS_RCODE_NOTAUTH);
  CU_ASSERT(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p), 5)) == ACMEH_TSIG_BADSIG);
  CU_ASSERT(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(p), 3)) == 2); /* MAC size 0: only the length field */
  ldns_pkt_free(p);
  free(raw);
  free(w);
  /* BADTIME: the key's clock is an hour ahead -> signed reply with server time */
  char err[128];
  json_t *k = json_pack("{s:s, s:s, s:s, s:i}", "name", "skewed-key.", "algorithm", "hmac-sha256", "secret", SECRET,
                        "skew_s", 3600);
  CU_ASSERT(acmeh_dnsupd_add_key(UPD, k, err, sizeof err) == ACMEH_OK);
  json_decref(k);
  ldns_rdf *mac = NULL;
  w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), "skewed-key.",
            SECRET, NULL, &len, &mac);
  p = feed(w, len, &raw, &rawlen);
  CU_ASSERT_FATAL(p && ldns_pkt_tsig(p));
  CU_ASSERT(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p), 5)) == ACMEH_TSIG_BADTIME);
  CU_ASSERT(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(p), 6)) == 8); /* Other Len 6 + 6 octets of time */
  CU_ASSERT(ldns_pkt_tsig_verify(p, raw, rawlen, "skewed-key.", SECRET, mac));
  e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "badtime");
  CU_ASSERT(json_integer_value(json_object_get(e, "tsig_error")) == 18);
  json_decref(e);
  ldns_pkt_free(p);
  ldns_rdf_deep_free(mac);
  free(raw);
  free(w);
}

static void test_replay_policy_unsigned(void) {
  size_t len;
  uint8_t *w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_B)), KEY,
                     SECRET, NULL, &len, NULL);
  ldns_pkt *p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR);
  ldns_pkt_free(p);
  p = feed(w, len, NULL, NULL); /* the same bytes again */
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED);
  ldns_pkt_free(p);
  free(w);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "replay");
  json_decref(e);
  /* policy: the acme key may not touch an A record or a name outside _acme-challenge.* */
  CU_ASSERT(acme_update(NULL, list1(rr("www.example.com.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_A, "192.0.2.1"))) ==
            LDNS_RCODE_REFUSED);
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_A, "192.0.2.1"))) == LDNS_RCODE_REFUSED);
  CU_ASSERT(acme_update(NULL, list1(rr(OWNER, 0, LDNS_RR_CLASS_ANY, LDNS_RR_TYPE_ANY, NULL))) == LDNS_RCODE_REFUSED);
  e = last_journal();
  CU_ASSERT(strstr(jstr(e, "reason"), "may not change") != NULL);
  json_decref(e);
  /* unsigned: refused by default, accepted when allowed */
  CU_ASSERT(send_update(NULL, list1(rr("_acme-challenge.u.example.com.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"u\"")),
                        NULL, NULL) == LDNS_RCODE_REFUSED);
  acmeh_dnsupd_set_allow_unsigned(UPD, 1);
  CU_ASSERT(send_update(NULL, list1(rr("_acme-challenge.u.example.com.", 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"u\"")),
                        NULL, NULL) == LDNS_RCODE_NOERROR);
  acmeh_dnsupd_set_allow_unsigned(UPD, 0);
  CU_ASSERT_EQUAL(txt_count("_acme-challenge.u.example.com"), 1);
}

/* A signed TXT query gets a signed answer; SOA at the apex is synthesized. */
static void test_signed_query_and_soa(void) {
  ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("example.com."), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
  ldns_pkt_set_id(q, 77);
  CU_ASSERT_FATAL(ldns_pkt_tsig_sign(q, KEY, SECRET, 300, "hmac-sha256.", NULL) == LDNS_STATUS_OK);
  ldns_rdf *mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(q), 3));
  uint8_t *w = NULL, *raw = NULL;
  size_t len, rawlen;
  ldns_pkt2wire(&w, q, &len);
  ldns_pkt *p = feed(w, len, &raw, &rawlen);
  CU_ASSERT_FATAL(p != NULL);
  CU_ASSERT(ldns_pkt_aa(p) && ldns_pkt_ancount(p) == 1);
  CU_ASSERT(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)) == LDNS_RR_TYPE_SOA);
  CU_ASSERT(ldns_pkt_tsig_verify(p, raw, rawlen, KEY, SECRET, mac));
  ldns_pkt_free(p);
  ldns_pkt_free(q);
  ldns_rdf_deep_free(mac);
  free(w);
  free(raw);
}

/* ---------- bad input ---------- */

/* A plain TXT query still gets its answer (the mock survived what came before). */
static void assert_still_serving(void) {
  acmeh_records_add(REC, ACMEH_REC_TXT, "alive.example.com", "yes", NULL, 0);
  ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("alive.example.com."), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0);
  uint8_t *w = NULL;
  size_t len;
  ldns_pkt2wire(&w, q, &len);
  ldns_pkt *p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_ancount(p) == 1);
  ldns_pkt_free(p);
  ldns_pkt_free(q);
  free(w);
}

/* Every reply is FORMERR, NOTAUTH or absent: never a crash, never NOERROR. */
static void expect_rejected(const uint8_t *w, size_t len) {
  uint8_t *out = NULL;
  size_t outlen = 0;
  int rc = acmeh_dnsupd_answer(UPD, REC, NULL, "tcp", "127.0.0.1:1", w, len, 65535, &out, &outlen);
  if (rc == ACMEH_OK && outlen >= 4) {
    int rcode = out[3] & 0x0f;
    CU_ASSERT(rcode != LDNS_RCODE_NOERROR);
  }
  free(out);
}

static void test_bad_input(void) {
  size_t len;
  uint8_t *w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), KEY,
                     SECRET, NULL, &len, NULL);
  for (size_t n = 0; n < len; n++) expect_rejected(w, n); /* truncated at every length */
  uint8_t *m = malloc(len + 4);
  memcpy(m, w, len);
  m[11] = 5; /* ARCOUNT 5, one RR present */
  expect_rejected(m, len);
  memcpy(m, w, len);
  m[len - 20] ^= 0xff; /* garbage inside the TSIG RDATA */
  expect_rejected(m, len);
  memcpy(m, w, len);
  memcpy(m + len, "\0\0\0\0", 4); /* bytes after the TSIG */
  expect_rejected(m, len + 4);
  /* compression loop: the zone name points at itself */
  memcpy(m, w, len);
  m[12] = 0xc0, m[13] = 12;
  expect_rejected(m, len);
  free(m);
  /* the TSIG not last: append a second copy of the update RR after it */
  uint8_t *twice = malloc(2 * len);
  memcpy(twice, w, len);
  memcpy(twice + len, w + 12, len - 12);
  twice[11] = 2;
  expect_rejected(twice, 2 * len - 12);
  free(twice);
  free(w);
  /* oversized: 2000 update RRs in one 64 KB message */
  ldns_rr_list *up = ldns_rr_list_new();
  for (int i = 0; i < 2000; i++) ldns_rr_list_push_rr(up, rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, "\"v\""));
  w = build("example.com.", NULL, up, KEY, SECRET, NULL, &len, NULL);
  expect_rejected(w, len);
  free(w);
  /* random mutations of a good signed update */
  w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), KEY, SECRET, NULL,
            &len, NULL);
  m = malloc(len);
  for (int i = 0; i < 3000; i++) {
    memcpy(m, w, len);
    for (int j = 0; j < 1 + i % 4; j++) m[12 + (size_t)rand() % (len - 12)] ^= (uint8_t)(1 + rand() % 255);
    expect_rejected(m, len);
  }
  free(m);
  free(w);
  assert_still_serving();
}

/* ---------- doubled and misplaced TSIG ---------- */

/* w (len bytes, signed, its TSIG at tsig_off) with `copies` TSIG RRs at the
 * end, followed by an A RR at the root when `trailer`; malloc'd. */
static uint8_t *retsig(const uint8_t *w, size_t len, size_t tsig_off, int copies, int trailer, size_t *outlen) {
  static const uint8_t a_rr[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
  size_t tl = len - tsig_off, n = tsig_off + (size_t)copies * tl + (trailer ? sizeof a_rr : 0);
  uint8_t *m = malloc(n), *o = m + tsig_off;
  CU_ASSERT_FATAL(m != NULL);
  memcpy(m, w, tsig_off);
  for (int i = 0; i < copies; i++, o += tl) memcpy(o, w + tsig_off, tl);
  if (trailer) memcpy(o, a_rr, sizeof a_rr);
  unsigned ar = (unsigned)(w[10] << 8 | w[11]) - 1 + (unsigned)copies + (trailer ? 1 : 0);
  m[10] = (uint8_t)(ar >> 8), m[11] = (uint8_t)ar;
  *outlen = n;
  return m;
}

/* Feeds m; asserts a FORMERR reply echoing the question. */
static void expect_formerr(const uint8_t *m, size_t n) {
  ldns_pkt *p = feed(m, n, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_FORMERR && ldns_pkt_qdcount(p) == 1 && !ldns_pkt_tsig(p));
  ldns_pkt_free(p);
}

/* Bytes the process holds on the heap (glibc), for leak checks without ASan. */
static size_t heap_in_use(void) {
#ifdef __GLIBC__
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}

/* RFC 8945 §5.2: two TSIG RRs, or one that is not the last additional RR, get
 * FORMERR, and without leaking: ldns_wire2pkt keeps only the last TSIG it reads
 * and leaks the others (0.5 M such UDP queries once grew the mock by 900 MB). */
static void test_doubled_tsig(void) {
  ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(OWNER), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0);
  CU_ASSERT_FATAL(ldns_pkt_tsig_sign(q, KEY, SECRET, 300, "hmac-sha256.", NULL) == LDNS_STATUS_OK);
  uint8_t *wq = NULL, *wu, *m[6];
  size_t lq, lu, n[6];
  CU_ASSERT_FATAL(ldns_pkt2wire(&wq, q, &lq) == LDNS_STATUS_OK);
  ldns_pkt_free(q);
  wu = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), KEY, SECRET, NULL,
             &lu, NULL);
  acmeh_tsig tq, tu;
  int found = 0;
  char err[128];
  CU_ASSERT_FATAL(acmeh_tsig_find(wq, lq, &tq, &found, err, sizeof err) == ACMEH_OK && found);
  CU_ASSERT_FATAL(acmeh_tsig_find(wu, lu, &tu, &found, err, sizeof err) == ACMEH_OK && found);
  m[0] = retsig(wq, lq, tq.rr_off, 2, 0, &n[0]); /* query, two TSIGs */
  m[1] = retsig(wu, lu, tu.rr_off, 2, 0, &n[1]); /* update, two TSIGs */
  m[2] = retsig(wq, lq, tq.rr_off, 1, 1, &n[2]); /* query, TSIG then an A RR */
  m[3] = retsig(wq, lq, tq.rr_off, 3, 1, &n[3]); /* three TSIGs, then an A RR */
  m[4] = retsig(wu, lu, tu.rr_off, 1, 1, &n[4]); /* update, TSIG not last */
  m[5] = retsig(wu, lu, tu.rr_off, 2, 1, &n[5]); /* update, two TSIGs, then an A RR */
  for (int i = 0; i < 6; i++) expect_formerr(m[i], n[i]);
  /* the plain answer path (a mock DNS without the UPDATE layer) too */
  uint8_t *out = NULL;
  size_t outlen = 0;
  CU_ASSERT(acmeh_dns_answer(REC, NULL, "udp", m[3], n[3], 512, &out, &outlen) == ACMEH_OK && outlen >= 12 &&
            (out[3] & 0x0f) == LDNS_RCODE_FORMERR);
  free(out);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "formerr");
  CU_ASSERT(strstr(jstr(e, "reason"), "TSIG") != NULL);
  json_decref(e);
  for (int i = 0; i < 200; i++) /* warm up: the journal reaches its entry cap */
    for (int k = 0; k < 6; k++) free(feed_raw(m[k], n[k]));
  size_t before = heap_in_use();
  for (int i = 0; i < 2000; i++) {
    for (int k = 0; k < 6; k++) free(feed_raw(m[k], n[k]));
    if (acmeh_dns_answer(REC, NULL, "udp", m[3], n[3], 512, &out, &outlen) == ACMEH_OK) free(out);
  }
  size_t after = heap_in_use(), grew = after > before ? after - before : 0;
  if (grew > 65536) fprintf(stderr, "\nheap grew by %zu bytes over 14000 doubled-TSIG messages\n", grew);
  CU_ASSERT(grew <= 65536);
#ifdef HAVE_LSAN
  CU_ASSERT(__lsan_do_recoverable_leak_check() == 0);
#endif
  for (int i = 0; i < 6; i++) free(m[i]);
  free(wq);
  free(wu);
}

/* ---------- cost of large UPDATEs ---------- */

#define BULK_UPDATES 20
#define BULK_RRS 1000

/* An unsigned UPDATE of BULK_RRS TXT adds: update u's names when `one_name`
 * is 0, else all at one name with distinct values. */
static uint8_t *bulk_update(int u, int one_name, size_t *len) {
  ldns_rr_list *up = ldns_rr_list_new();
  char name[96], value[64];
  for (int i = 0; i < BULK_RRS; i++) {
    if (one_name)
      snprintf(name, sizeof name, "_acme-challenge.bulk.example.com.");
    else
      snprintf(name, sizeof name, "_acme-challenge.u%d-%d.example.com.", u, i);
    snprintf(value, sizeof value, "\"value-%d-%d\"", u, i);
    ldns_rr_list_push_rr(up, rr(name, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, value));
  }
  return build("example.com.", NULL, up, NULL, NULL, NULL, len, NULL);
}

/* The mock's time on each of BULK_UPDATES updates into a fresh store, in t[];
 * stops after 10 s so a quadratic store fails quickly. Returns how many were
 * accepted. */
static int time_bulk(int one_name, double t[BULK_UPDATES]) {
  acmeh_records *saved_rec = REC;
  acmeh_dnsupd *saved_upd = UPD;
  REC = acmeh_records_new(NULL);
  UPD = acmeh_dnsupd_new(8);
  CU_ASSERT_FATAL(REC && UPD && acmeh_dnsupd_add_zone(UPD, "example.com") == ACMEH_OK);
  acmeh_dnsupd_set_allow_unsigned(UPD, 1);
  double total = 0;
  int ok = 0;
  for (int u = 0; u < BULK_UPDATES; u++) {
    size_t len;
    uint8_t *w = total < 10 ? bulk_update(u, one_name, &len) : NULL;
    double t0 = acmeh_now_mono();
    uint8_t *out = w ? feed_raw(w, len) : NULL;
    t[u] = w ? acmeh_now_mono() - t0 : 10;
    total += t[u];
    ok += out && (out[3] & 0x0f) == LDNS_RCODE_NOERROR;
    free(out);
    free(w);
  }
  CU_ASSERT(acmeh_records_each(REC, ACMEH_REC_TXT, one_name ? "_acme-challenge.bulk.example.com" : "_acme-challenge.u0-7.example.com",
                               NULL, NULL) == (one_name ? ok * BULK_RRS : 1));
  acmeh_dnsupd_free(UPD);
  acmeh_records_free(REC);
  REC = saved_rec;
  UPD = saved_upd;
  return ok;
}

#ifdef __SANITIZE_ADDRESS__
#define TIME_SCALE 8 /* an unoptimised ASan+UBSan build is that much slower */
#else
#define TIME_SCALE 1
#endif

/* Each UPDATE costs what it carries, not what the store already holds: 20
 * UPDATEs of 1,000 TXT adds, at new names or all at one name. The last five
 * may take at most 3 times as long as the first five (a quadratic store took
 * 17 times as long), and all 20 under 2 s (x8 with sanitizers). */
static void test_bulk_update_cost(void) {
  for (int one_name = 0; one_name < 2; one_name++) {
    double t[BULK_UPDATES], total = 0, head = 0, tail = 0;
    int ok = time_bulk(one_name, t);
    for (int u = 0; u < BULK_UPDATES; u++) {
      total += t[u];
      head += u < 5 ? t[u] : 0;
      tail += u >= BULK_UPDATES - 5 ? t[u] : 0;
    }
    fprintf(stderr, "\n%d UPDATEs of %d TXT RRs (%s): %.3f s; first five %.1f ms each, last five %.1f ms each", ok,
            BULK_RRS, one_name ? "one name" : "new names", total, 1e3 * head / 5, 1e3 * tail / 5);
    CU_ASSERT_EQUAL(ok, BULK_UPDATES);
    CU_ASSERT(tail < 3 * head);
    CU_ASSERT(total < 2.0 * TIME_SCALE);
  }
  fprintf(stderr, "\n");
}

/* ---------- over the wire, through the mocks ---------- */

static int sock(int type, int port) {
  int s = socket(AF_INET, type, 0);
  struct timeval tv = {3, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  CU_ASSERT_FATAL(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
  return s;
}

/* One framed exchange over TCP; returns the reply length (0 when the server closed). */
static size_t tcp_exchange(int s, const uint8_t *w, size_t len, uint8_t *reply, size_t cap) {
  uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  if (send(s, hdr, 2, MSG_NOSIGNAL) != 2 || send(s, w, len, MSG_NOSIGNAL) != (ssize_t)len) return 0;
  size_t got = 0, want = 2;
  while (got < want && got < cap) {
    ssize_t n = recv(s, reply + got, cap - got, 0);
    if (n <= 0) return 0;
    got += (size_t)n;
    if (got >= 2) want = 2 + ((size_t)reply[0] << 8 | reply[1]);
  }
  return got;
}

static void test_over_the_wire(void) {
  acmeh_mocks_config cfg = {0};
  acmeh_mocks *M = NULL;
  char err[256];
  CU_ASSERT_FATAL(acmeh_mocks_start(&cfg, &M, err, sizeof err) == ACMEH_OK);
  CU_ASSERT(acmeh_mocks_add_zone(M, "example.com") == ACMEH_OK);
  json_t *k = json_pack("{s:s, s:s, s:s}", "name", KEY, "algorithm", "hmac-sha256", "secret", SECRET);
  CU_ASSERT(acmeh_mocks_add_tsig_key(M, k, err, sizeof err) == ACMEH_OK);
  json_decref(k);
  int port = acmeh_mocks_dns_port(M);
  size_t len;
  uint8_t *w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), KEY,
                     SECRET, NULL, &len, NULL), reply[65600];
  int u = sock(SOCK_DGRAM, port);
  CU_ASSERT(send(u, w, len, 0) == (ssize_t)len);
  ssize_t n = recv(u, reply, sizeof reply, 0);
  CU_ASSERT(n > 12 && (reply[3] & 0x0f) == LDNS_RCODE_NOERROR);
  free(w);
  /* a 64 KB frame of garbage over TCP, then a good signed update on a new connection */
  int t = sock(SOCK_STREAM, port);
  uint8_t *big = calloc(1, 65535);
  big[2] = 0x28; /* opcode UPDATE, everything else zero: counts say nothing, 64 KB of trailing zeros */
  size_t got = tcp_exchange(t, big, 65535, reply, sizeof reply);
  CU_ASSERT(got == 0 || (reply[2 + 3] & 0x0f) == LDNS_RCODE_FORMERR);
  free(big);
  close(t);
  t = sock(SOCK_STREAM, port);
  w = build("example.com.", NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_B)), KEY, SECRET, NULL,
            &len, NULL);
  got = tcp_exchange(t, w, len, reply, sizeof reply);
  CU_ASSERT(got > 14 && (reply[2 + 3] & 0x0f) == LDNS_RCODE_NOERROR);
  free(w);
  close(t);
  /* the change is visible to plain queries */
  ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(OWNER), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0);
  ldns_pkt2wire(&w, q, &len);
  CU_ASSERT(send(u, w, len, 0) == (ssize_t)len);
  n = recv(u, reply, sizeof reply, 0);
  ldns_pkt *p = NULL;
  CU_ASSERT(n > 0 && ldns_wire2pkt(&p, reply, (size_t)n) == LDNS_STATUS_OK && ldns_pkt_ancount(p) == 2);
  ldns_pkt_free(p);
  ldns_pkt_free(q);
  free(w);
  close(u);
  json_t *j = acmeh_mocks_dns_update_journal(M, "example.com");
  CU_ASSERT_FATAL(json_array_size(j) == 2); /* the zone-less garbage is not filed under it */
  CU_ASSERT(strncmp(jstr(json_array_get(j, 0), "source"), "127.0.0.1:", 10) == 0);
  CU_ASSERT_STRING_EQUAL(jstr(json_array_get(j, 1), "proto"), "tcp");
  json_decref(j);
  j = acmeh_mocks_dns_update_journal(M, NULL);
  CU_ASSERT(json_array_size(j) == 3);
  CU_ASSERT_STRING_EQUAL(jstr(json_array_get(j, 1), "verdict"), "formerr");
  json_decref(j);
  acmeh_mocks_stop(M);
}

/* ---------- robustness: bounded journal, strict configuration, UDP size ---------- */

/* An UPDATE of n TXT adds of `value` under OWNER, unsigned (key NULL) or signed. */
static uint8_t *big_update(int n, const char *value, const char *key, const char *secret, size_t *len) {
  ldns_rr_list *up = ldns_rr_list_new();
  for (int i = 0; i < n; i++) ldns_rr_list_push_rr(up, rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, value));
  return build("example.com.", NULL, up, key, secret, key ? "hmac-sha512." : NULL, len, NULL);
}

/* A flood of large unsigned UPDATEs: each is a summary, and the journal stays under its byte cap. */
static void test_journal_bounds(void) {
  char v750[800];
  snprintf(v750, sizeof v750, "\"%0250d\" \"%0250d\" \"%0250d\"", 1, 2, 3);
  size_t len;
  uint8_t *w = big_update(100, v750, NULL, NULL, &len); /* 57 KB */
  ldns_pkt *p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED);
  ldns_pkt_free(p);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "refused");
  CU_ASSERT(json_is_true(json_object_get(e, "truncated")));
  CU_ASSERT(json_array_size(json_object_get(e, "updates")) == 8);
  CU_ASSERT(json_integer_value(json_object_get(e, "update_count")) == 100);
  CU_ASSERT(json_integer_value(json_object_get(e, "wire_len")) == (json_int_t)len);
  CU_ASSERT(strlen(jstr(e, "wire")) == 2 * 256);
  json_t *u0 = json_array_get(json_object_get(e, "updates"), 0);
  CU_ASSERT_FATAL(jstr(u0, "value") != NULL);
  CU_ASSERT(strlen(jstr(u0, "value")) == 512 && json_is_true(json_object_get(u0, "value_truncated")));
  json_decref(e);
  acmeh_dnsupd_set_journal_max_bytes(UPD, 40000);
  for (int i = 0; i < 30; i++) ldns_pkt_free(feed(w, len, NULL, NULL));
  json_t *j = acmeh_dnsupd_journal(UPD, NULL);
  size_t total = json_dumpb(j, NULL, 0, JSON_COMPACT);
  CU_ASSERT(total <= 40000 + json_array_size(j) + 2); /* separators between the entries */
  CU_ASSERT(json_array_size(j) >= 5);
  json_decref(j);
  acmeh_dnsupd_set_journal_max_bytes(UPD, 0);
  free(w);
  /* authenticated and accepted: 64 RRs per section kept, with the count */
  w = big_update(100, "\"many\"", ADMIN, ADMIN_SECRET, &len);
  p = feed(w, len, NULL, NULL);
  CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR);
  ldns_pkt_free(p);
  free(w);
  e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "accepted");
  CU_ASSERT(json_array_size(json_object_get(e, "updates")) == 64 && json_integer_value(json_object_get(e, "update_count")) == 100);
  CU_ASSERT(json_is_true(json_object_get(e, "truncated")));
  json_decref(e);
}

static int try_key(const char *json, char *err, size_t errlen) {
  json_t *k = json_loads(json, 0, NULL);
  CU_ASSERT_FATAL(k != NULL);
  err[0] = '\0';
  int rc = acmeh_dnsupd_add_key(UPD, k, err, errlen);
  json_decref(k);
  return rc;
}

/* Wrong types and out-of-range skews are refused with a reason, never defaulted. */
static void test_key_validation(void) {
  char err[256];
  static const struct {
    const char *json, *reason;
  } bad[] = {
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"skew_s\":9223372036854775807}", "skew_s"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"skew_s\":-315576001}", "skew_s"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"skew_s\":\"abc\"}", "skew_s"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"skew_s\":1e300}", "skew_s"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"algorithm\":7}", "algorithm"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"policy\":[{\"name\":\"_acme-challenge.*\",\"types\":\"TXT\"}]}", "types"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"policy\":[{\"name\":\"_acme-challenge.*\",\"types\":[]}]}", "types"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"policy\":[\"_acme-challenge.*\"]}", "object"},
      {"{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"policy\":{\"name\":\"x\"}}", "policy"},
      {"{\"name\":5,\"secret\":\"" SECRET "\"}", "name"},
      {"{\"name\":\"v.\",\"secret\":[1]}", "secret"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CU_ASSERT(try_key(bad[i].json, err, sizeof err) == ACMEH_INVALID_ARG);
    CU_ASSERT(strstr(err, bad[i].reason) != NULL);
  }
  /* the largest allowed skew: a signed update gets BADTIME, no overflow */
  CU_ASSERT_FATAL(try_key("{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"skew_s\":315576000}", err, sizeof err) == ACMEH_OK);
  CU_ASSERT(send_update(NULL, list1(rr(OWNER, 60, LDNS_RR_CLASS_IN, LDNS_RR_TYPE_TXT, VALUE_A)), "v.", SECRET) ==
            LDNS_RCODE_NOTAUTH);
  json_t *e = last_journal();
  CU_ASSERT_STRING_EQUAL(jstr(e, "verdict"), "badtime");
  json_decref(e);
  CU_ASSERT(try_key("{\"name\":\"v.\",\"secret\":\"" SECRET "\",\"skew_s\":-315576000}", err, sizeof err) == ACMEH_OK);
  acmeh_dnsupd_del_key(UPD, "v.");
}

/* Zone names must be host names; the 65th zone is refused with a reason. */
static void test_zone_validation(void) {
  char err[256], z[80];
  static const char *bad[] = {"a..b", "*.x", ".", "a b.example", "x.-y.example\"", NULL};
  for (int i = 0; bad[i]; i++) CU_ASSERT(acmeh_dnsupd_add_zone_msg(UPD, bad[i], err, sizeof err) == ACMEH_INVALID_ARG);
  snprintf(z, sizeof z, "%064d.example", 0);
  CU_ASSERT(acmeh_dnsupd_add_zone_msg(UPD, z, err, sizeof err) == ACMEH_INVALID_ARG && strstr(err, "63"));
  CU_ASSERT(acmeh_dnsupd_add_zone_msg(UPD, "_acme-challenge.deleg-ated.example.", err, sizeof err) == ACMEH_OK);
  int added = 1, rc = ACMEH_OK;
  for (int i = 0; rc == ACMEH_OK && i < 100; i++) {
    snprintf(z, sizeof z, "z%d.example", i);
    if ((rc = acmeh_dnsupd_add_zone_msg(UPD, z, err, sizeof err)) == ACMEH_OK) added++;
  }
  CU_ASSERT(rc == ACMEH_INVALID_ARG && strstr(err, "at most 64 zones") != NULL);
  CU_ASSERT(added + 1 == 64); /* example.com is the first */
  for (int i = 0; i < 100; i++) snprintf(z, sizeof z, "z%d.example", i), acmeh_dnsupd_del_zone(UPD, z);
  acmeh_dnsupd_del_zone(UPD, "_acme-challenge.deleg-ated.example");
}

/* One signed TXT query answered over "UDP" with the classic 512-byte limit. */
static ldns_pkt *signed_txt_query(const char *name, size_t *rawlen, int *verified) {
  ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD);
  CU_ASSERT_FATAL(ldns_pkt_tsig_sign(q, ADMIN, ADMIN_SECRET, 300, "hmac-sha512.", NULL) == LDNS_STATUS_OK);
  ldns_rdf *mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(q), 3));
  uint8_t *w = NULL, *out = NULL;
  size_t len;
  ldns_pkt2wire(&w, q, &len);
  ldns_pkt *p = NULL;
  CU_ASSERT_FATAL(acmeh_dnsupd_answer(UPD, REC, NULL, "udp", "127.0.0.1:1", w, len, 512, &out, rawlen) == ACMEH_OK);
  CU_ASSERT_FATAL(ldns_wire2pkt(&p, out, *rawlen) == LDNS_STATUS_OK);
  *verified = ldns_pkt_tsig_verify(p, out, *rawlen, ADMIN, ADMIN_SECRET, mac);
  ldns_rdf_deep_free(mac);
  ldns_pkt_free(q);
  free(w);
  free(out);
  return p;
}

/* RFC 8945 §5.3: a signed UDP answer fits 512 bytes with its TSIG, else it is TC and still signed. */
static void test_signed_udp_size(void) {
  char v[500];
  size_t rawlen;
  int ok;
  memset(v, 'x', 460), v[460] = '\0';
  acmeh_records_add(REC, ACMEH_REC_TXT, "big.example.com", v, NULL, 0);
  ldns_pkt *p = signed_txt_query("big.example.com.", &rawlen, &ok);
  CU_ASSERT(rawlen <= 512 && ldns_pkt_tc(p) && ldns_pkt_ancount(p) == 0 && ldns_pkt_rd(p) && ok);
  ldns_pkt_free(p);
  acmeh_records_add(REC, ACMEH_REC_TXT, "small.example.com", "small", NULL, 0);
  p = signed_txt_query("small.example.com.", &rawlen, &ok);
  CU_ASSERT(rawlen <= 512 && !ldns_pkt_tc(p) && ldns_pkt_ancount(p) == 1 && ok);
  ldns_pkt_free(p);
}

/* The management API: reasons for bad zones, a wrong-type journal filter is 400. */
static int mgmt_call(acmeh_mocks *M, const char *url, const char *body, char **reply) {
  acmeh_httpsrv_req req = {.method = "POST", .url = url, .host = "", .body = body, .body_len = strlen(body)};
  acmeh_httpsrv_resp resp = {0};
  acmeh_mgmt_handle(&req, &resp, M);
  *reply = resp.body;
  free(resp.headers);
  return resp.status;
}

static void test_mgmt_validation(void) {
  acmeh_mocks_config cfg = {0};
  acmeh_mocks *M = NULL;
  char err[256], *reply = NULL;
  CU_ASSERT_FATAL(acmeh_mocks_start(&cfg, &M, err, sizeof err) == ACMEH_OK);
  CU_ASSERT(mgmt_call(M, "/add-dns-zone", "{\"zone\":\"a..b\"}", &reply) == 400 && strstr(reply, "empty label"));
  free(reply);
  CU_ASSERT(mgmt_call(M, "/add-dns-zone", "{\"zone\":\"*.x\"}", &reply) == 400 && strstr(reply, "'*'"));
  free(reply);
  CU_ASSERT(mgmt_call(M, "/add-dns-zone", "{\"zone\":\"ok.example\"}", &reply) == 200);
  free(reply);
  CU_ASSERT(mgmt_call(M, "/dns-update-journal", "{\"zone\":5}", &reply) == 400 && strstr(reply, "string"));
  free(reply);
  CU_ASSERT(mgmt_call(M, "/dns-update-journal", "{\"zone\":\"ok.example\"}", &reply) == 200);
  free(reply);
  CU_ASSERT(mgmt_call(M, "/add-tsig-key", "{\"name\":\"k\",\"secret\":\"" SECRET "\",\"skew_s\":\"abc\"}", &reply) == 400 &&
            strstr(reply, "skew_s"));
  free(reply);
  acmeh_mocks_stop(M);
}

int main(void) {
  static const acmeh_unit_test tests[] = {
      {"TSIG vectors (Python hmac) vs ours and ldns", test_vectors},
      {"update kinds", test_update_kinds},
      {"prerequisites", test_prerequisites},
      {"zone checks", test_zone_checks},
      {"TSIG errors", test_tsig_errors},
      {"replay, policy, unsigned", test_replay_policy_unsigned},
      {"signed query and SOA", test_signed_query_and_soa},
      {"bad input", test_bad_input},
      {"doubled or misplaced TSIG: FORMERR, no leak", test_doubled_tsig},
      {"20 UPDATEs of 1,000 RRs: cost linear in the update", test_bulk_update_cost},
      {"over the wire", test_over_the_wire},
      {"journal bounded in bytes", test_journal_bounds},
      {"key fields validated", test_key_validation},
      {"zone names validated", test_zone_validation},
      {"signed UDP answers fit 512 bytes", test_signed_udp_size},
      {"management API validation", test_mgmt_validation},
  };
  return acmeh_unit_run("dnsupdate", setup, teardown, tests, ACMEH_UNIT_COUNT(tests));
}
