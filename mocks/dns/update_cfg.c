/* Configuration side of the mock's DNS UPDATE: keys and their policies, served
 * zones, the replay cache and the journal. */
#include "mocks/dns/update_int.h"

#include "base/error.h"

#include <ctype.h>
#include <fnmatch.h>
#include <openssl/crypto.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_JOURNAL 1000

acmeh_dnsupd *acmeh_dnsupd_new(size_t journal_cap) {
  acmeh_dnsupd *u = calloc(1, sizeof *u);
  if (!u) return NULL;
  u->journal = json_array();
  if (!u->journal) return free(u), NULL;
  u->journal_cap = journal_cap ? journal_cap : DEFAULT_JOURNAL;
  u->journal_max_bytes = UPD_JOURNAL_MAX_BYTES;
  u->serial = 1;
  pthread_mutex_init(&u->mu, NULL);
  return u;
}

void acmeh_dnsupd_free(acmeh_dnsupd *u) {
  if (!u) return;
  for (upd_key *k = u->keys, *next; k; k = next) {
    next = k->next;
    OPENSSL_cleanse(k->secret, sizeof k->secret);
    free(k);
  }
  json_decref(u->journal);
  pthread_mutex_destroy(&u->mu);
  free(u);
}

int upd_in_zone(const char *name, const char *zone) {
  size_t n = strlen(name), z = strlen(zone);
  return n == z ? strcmp(name, zone) == 0 : n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

const char *upd_zone_of(const acmeh_dnsupd *u, const char *name) {
  const char *best = NULL;
  for (int i = 0; i < u->nzones; i++)
    if (upd_in_zone(name, u->zones[i]) && (!best || strlen(u->zones[i]) > strlen(best))) best = u->zones[i];
  return best;
}

int upd_is_apex(const acmeh_dnsupd *u, const char *name) {
  for (int i = 0; i < u->nzones; i++)
    if (strcmp(u->zones[i], name) == 0) return 1;
  return 0;
}

/* RFC 1035 §2.3.1 host names plus '_' (zones like _acme-challenge.example are
 * delegated in practice): no empty label, labels of 1..63 bytes, no '*'. */
static int zone_syntax(const char *z, char *err, size_t errlen) {
  size_t label = 0;
  for (const char *c = z;; c++) {
    if (*c == '.' || *c == '\0') {
      if (label == 0) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "zone %s has an empty label", z);
      if (label > 63) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "zone %s has a label over 63 bytes", z);
      if (*c == '\0') return ACMEH_OK;
      label = 0;
    } else if (isalnum((unsigned char)*c) || *c == '-' || *c == '_') {
      label++;
    } else {
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "zone %s: character '%c' is not a letter, digit, '-' or '_'", z, *c);
    }
  }
}

int acmeh_dnsupd_add_zone_msg(acmeh_dnsupd *u, const char *zone, char *err, size_t errlen) {
  char z[256];
  if (!u || acmeh_records_norm(zone, z, sizeof z) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "zone must be a name of 1..253 bytes");
  int rc = zone_syntax(z, err, errlen);
  if (rc != ACMEH_OK) return rc;
  pthread_mutex_lock(&u->mu);
  if (!upd_is_apex(u, z)) {
    if (u->nzones < UPD_MAX_ZONES)
      strcpy(u->zones[u->nzones++], z);
    else
      rc = acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "the mock serves at most %d zones; delete one first", UPD_MAX_ZONES);
  }
  pthread_mutex_unlock(&u->mu);
  return rc;
}

int acmeh_dnsupd_add_zone(acmeh_dnsupd *u, const char *zone) { return acmeh_dnsupd_add_zone_msg(u, zone, NULL, 0); }

int acmeh_dnsupd_del_zone(acmeh_dnsupd *u, const char *zone) {
  char z[256];
  if (!u || acmeh_records_norm(zone, z, sizeof z) != ACMEH_OK) return ACMEH_INVALID_ARG;
  pthread_mutex_lock(&u->mu);
  for (int i = 0; i < u->nzones; i++)
    if (strcmp(u->zones[i], z) == 0) memmove(u->zones[i], u->zones[--u->nzones], 256);
  pthread_mutex_unlock(&u->mu);
  return ACMEH_OK;
}

/* "key" or "KEY." -> "key." lower case. */
static int canon_key_name(const char *in, char *out, size_t outlen) {
  char n[256];
  if (acmeh_records_norm(in, n, sizeof n) != ACMEH_OK) return -1;
  size_t len = strlen(n);
  if (len + 2 > outlen) return -1;
  memcpy(out, n, len);
  memcpy(out + len, ".", 2);
  return 0;
}

/* Every field is type-checked: a wrong type must not silently widen the
 * policy ("types": "TXT" once meant every type). */
static int parse_rule(const json_t *r, upd_rule *rule, char *err, size_t errlen) {
  if (!json_is_object(r)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "each policy rule must be an object");
  const char *name = json_string_value(json_object_get(r, "name"));
  if (!name || acmeh_records_norm(name, rule->pattern, sizeof rule->pattern) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "policy rule needs a \"name\" string");
  rule->ntypes = 0;
  json_t *types = json_object_get(r, "types"), *t;
  if (!types) return ACMEH_OK; /* documented: absent = every type */
  if (!json_is_array(types) || json_array_size(types) == 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "policy \"types\" must be a non-empty array of type names");
  size_t i;
  json_array_foreach(types, i, t) {
    const char *s = json_string_value(t);
    ldns_rr_type type = s ? ldns_get_rr_type_by_name(s) : 0;
    if (!type || rule->ntypes >= UPD_MAX_TYPES)
      return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "policy type %s unknown or more than %d types", s ? s : "(not a string)",
                       UPD_MAX_TYPES);
    if (type == LDNS_RR_TYPE_ANY) return rule->ntypes = 0, ACMEH_OK;
    rule->types[rule->ntypes++] = type;
  }
  return ACMEH_OK;
}

static int parse_secret(const char *b64, upd_key *k, char *err, size_t errlen) {
  ldns_rdf *rdf = NULL;
  if (!b64 || ldns_str2rdf_b64(&rdf, b64) != LDNS_STATUS_OK || ldns_rdf_size(rdf) == 0 ||
      ldns_rdf_size(rdf) > sizeof k->secret) {
    ldns_rdf_deep_free(rdf);
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "\"secret\" must be base64 of 1..128 bytes");
  }
  k->secret_len = ldns_rdf_size(rdf);
  memcpy(k->secret, ldns_rdf_data(rdf), k->secret_len);
  ldns_rdf_deep_free(rdf);
  return ACMEH_OK;
}

/* skew_s: an integer of at most UPD_MAX_SKEW_S seconds either way, so that
 * now + skew can neither overflow nor leave TSIG's 48-bit time field. */
static int parse_skew(const json_t *v, upd_key *k, char *err, size_t errlen) {
  if (!v) return ACMEH_OK;
  if (!json_is_integer(v) || json_integer_value(v) > UPD_MAX_SKEW_S || json_integer_value(v) < -UPD_MAX_SKEW_S)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "\"skew_s\" must be an integer of seconds within +-%lld (10 years)",
                     (long long)UPD_MAX_SKEW_S);
  k->skew_s = json_integer_value(v);
  return ACMEH_OK;
}

static int parse_policy(const json_t *policy, upd_key *k, char *err, size_t errlen) {
  k->has_policy = policy != NULL;
  if (policy && (!json_is_array(policy) || json_array_size(policy) > UPD_MAX_RULES))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "\"policy\" must be an array of at most %d rules", UPD_MAX_RULES);
  size_t i;
  json_t *r;
  int rc = ACMEH_OK;
  json_array_foreach(policy, i, r) if (rc == ACMEH_OK) rc = parse_rule(r, &k->rules[k->nrules++], err, errlen);
  return rc;
}

static int parse_key(const json_t *def, upd_key *k, char *err, size_t errlen) {
  const char *name = json_string_value(json_object_get(def, "name"));
  json_t *alg_j = json_object_get(def, "algorithm");
  const char *alg = alg_j ? json_string_value(alg_j) : "hmac-sha256";
  if (!name || canon_key_name(name, k->name, sizeof k->name) != 0)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "key needs a \"name\" string");
  if (!alg) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "\"algorithm\" must be a string such as \"hmac-sha256\"");
  if (!acmeh_tsig_md(alg)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "algorithm %s not supported", alg);
  if (canon_key_name(alg, k->alg, sizeof k->alg) != 0) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "bad algorithm name");
  int rc = parse_secret(json_string_value(json_object_get(def, "secret")), k, err, errlen);
  if (rc == ACMEH_OK) rc = parse_policy(json_object_get(def, "policy"), k, err, errlen);
  if (rc == ACMEH_OK) rc = parse_skew(json_object_get(def, "skew_s"), k, err, errlen);
  return rc;
}

int acmeh_dnsupd_add_key(acmeh_dnsupd *u, const json_t *def, char *err, size_t errlen) {
  if (!u || !json_is_object(def)) return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "key must be an object");
  upd_key *k = calloc(1, sizeof *k);
  if (!k) return ACMEH_NOMEM;
  int rc = parse_key(def, k, err, errlen);
  if (rc != ACMEH_OK) return free(k), rc;
  acmeh_dnsupd_del_key(u, k->name);
  pthread_mutex_lock(&u->mu);
  k->next = u->keys;
  u->keys = k;
  pthread_mutex_unlock(&u->mu);
  return ACMEH_OK;
}

int acmeh_dnsupd_del_key(acmeh_dnsupd *u, const char *name) {
  char n[256];
  if (!u || !name || canon_key_name(name, n, sizeof n) != 0) return ACMEH_INVALID_ARG;
  int found = 0;
  pthread_mutex_lock(&u->mu);
  for (upd_key **pp = &u->keys; *pp;) {
    upd_key *k = *pp;
    if (strcmp(k->name, n) == 0) {
      *pp = k->next;
      free(k);
      found = 1;
    } else {
      pp = &k->next;
    }
  }
  pthread_mutex_unlock(&u->mu);
  return found ? ACMEH_OK : ACMEH_INVALID_ARG;
}

upd_key *upd_find_key(acmeh_dnsupd *u, const char *name) {
  for (upd_key *k = u->keys; k; k = k->next)
    if (strcasecmp(k->name, name) == 0) return k;
  return NULL;
}

void acmeh_dnsupd_set_allow_unsigned(acmeh_dnsupd *u, int allow) {
  if (!u) return;
  pthread_mutex_lock(&u->mu);
  u->allow_unsigned = allow;
  pthread_mutex_unlock(&u->mu);
}

void acmeh_dnsupd_set_time(acmeh_dnsupd *u, int64_t epoch_s) {
  if (!u) return;
  pthread_mutex_lock(&u->mu);
  u->fixed_now = epoch_s;
  pthread_mutex_unlock(&u->mu);
}

int64_t upd_now(const acmeh_dnsupd *u) { return u->fixed_now ? u->fixed_now : (int64_t)time(NULL); }

int upd_replayed(acmeh_dnsupd *u, const char *key, const uint8_t *mac, uint16_t mac_len) {
  for (size_t i = 0; i < UPD_REPLAY_SLOTS; i++) {
    const upd_seen *s = &u->seen[i];
    if (s->mac_len == mac_len && mac_len && memcmp(s->mac, mac, mac_len) == 0 && strcmp(s->key, key) == 0)
      return 1;
  }
  upd_seen *s = &u->seen[u->seen_next++ % UPD_REPLAY_SLOTS];
  snprintf(s->key, sizeof s->key, "%s", key);
  memcpy(s->mac, mac, mac_len);
  s->mac_len = mac_len;
  return 0;
}

static int rule_allows(const upd_rule *r, const char *name, int type) {
  if (fnmatch(r->pattern, name, 0) != 0) return 0;
  if (r->ntypes == 0) return 1;
  if (type == LDNS_RR_TYPE_ANY) return 0; /* "every type" needs a rule without a type list */
  for (int i = 0; i < r->ntypes; i++)
    if (r->types[i] == type) return 1;
  return 0;
}

int upd_policy_allows(const upd_key *key, const char *name, int type) {
  if (!key) return 1; /* unsigned updates, when allowed at all, have no per-key policy */
  if (!key->has_policy) return 1;
  for (int i = 0; i < key->nrules; i++)
    if (rule_allows(&key->rules[i], name, type)) return 1;
  return 0;
}

static size_t entry_bytes(const json_t *e) { return json_dumpb(e, NULL, 0, JSON_COMPACT); }

void upd_journal_add(acmeh_dnsupd *u, json_t *entry) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  json_object_set_new(entry, "time_ms", json_integer((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
  size_t bytes = entry_bytes(entry);
  while (json_array_size(u->journal) &&
         (json_array_size(u->journal) >= u->journal_cap || u->journal_bytes + bytes > u->journal_max_bytes)) {
    size_t old = entry_bytes(json_array_get(u->journal, 0));
    u->journal_bytes -= old < u->journal_bytes ? old : u->journal_bytes;
    json_array_remove(u->journal, 0);
  }
  if (json_array_append_new(u->journal, entry) == 0) u->journal_bytes += bytes;
}

void acmeh_dnsupd_set_journal_max_bytes(acmeh_dnsupd *u, size_t bytes) {
  if (!u) return;
  pthread_mutex_lock(&u->mu);
  u->journal_max_bytes = bytes ? bytes : UPD_JOURNAL_MAX_BYTES;
  pthread_mutex_unlock(&u->mu);
}

json_t *acmeh_dnsupd_journal(acmeh_dnsupd *u, const char *zone) {
  char z[256];
  if (!u || (zone && acmeh_records_norm(zone, z, sizeof z) != ACMEH_OK)) return NULL;
  json_t *out = json_array();
  pthread_mutex_lock(&u->mu);
  size_t i;
  json_t *e;
  json_array_foreach(u->journal, i, e) {
    const char *ez = json_string_value(json_object_get(e, "zone"));
    if (out && (!zone || (ez && upd_in_zone(ez, z)))) json_array_append_new(out, json_deep_copy(e));
  }
  pthread_mutex_unlock(&u->mu);
  return out;
}

void acmeh_dnsupd_clear_journal(acmeh_dnsupd *u) {
  if (!u) return;
  pthread_mutex_lock(&u->mu);
  json_array_clear(u->journal);
  u->journal_bytes = 0;
  pthread_mutex_unlock(&u->mu);
}

int upd_name(const void *rdf, char out[256]) {
  char *s = rdf ? ldns_rdf2str(rdf) : NULL;
  int rc = s && acmeh_records_norm(s, out, 256) == ACMEH_OK ? 0 : -1;
  free(s);
  return rc;
}
