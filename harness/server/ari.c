/* ACME Renewal Information (RFC 9773) on the reference server: the
 * renewalInfo resource (§4.1, §4.2) with its window policy, the newOrder
 * "replaces" field (§5), and the management endpoint /acmeh/ari-window that
 * lets a test move windows at run time. */
#include <math.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "harness/acme/ari.h"
#include "harness/acme/b64.h"
#include "harness/acme/cert.h"
#include "base/clock.h"
#include "base/error.h"
#include "harness/server/internal.h"

#define DEFAULT_RETRY_AFTER 21600u /* 6 h, as Boulder and Pebble send (§4.3.1) */
#define PAST_START (2 * 86400.0)   /* a past window: from 2 days ago ... */
#define PAST_END 86400.0           /* ... to 1 day ago */

/* How a window is placed. */
typedef enum { W_DEFAULT, W_ABS, W_NOW, W_NOT_BEFORE, W_PAST } srv_ari_mode;

struct srv_ari_rule {
  srv_ari_mode mode;
  double a, b;       /* W_ABS: start/end; W_NOW / W_NOT_BEFORE: offsets in seconds */
  char *url;         /* explanationURL, NULL = none */
  long retry;        /* Retry-After seconds, -1 = the policy's */
};

struct srv_ari {
  int off;
  srv_ari_rule base;     /* from the config */
  srv_ari_rule *global;  /* set by the management endpoint for every certificate; NULL = none */
};

void srv_ari_rule_free(srv_ari_rule *r) {
  if (!r) return;
  free(r->url);
  free(r);
}

int srv_ari_offset_ok(double s) { return s >= -SRV_ARI_MAX_OFFSET && s <= SRV_ARI_MAX_OFFSET; }

int srv_ari_new(const acmeh_server_ari *cfg, srv_ari **out, char *err, size_t errlen) {
  if (!srv_ari_offset_ok(cfg->start_offset) || !srv_ari_offset_ok(cfg->end_offset))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: ari.start_offset and ari.end_offset must lie " SRV_ARI_OFFSET_LIMIT);
  srv_ari *a = calloc(1, sizeof *a);
  if (!a) return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  static const srv_ari_mode modes[] = {W_DEFAULT, W_NOW, W_NOT_BEFORE};
  a->off = cfg->off;
  a->base.retry = cfg->retry_after ? (long)cfg->retry_after : (long)DEFAULT_RETRY_AFTER;
  if (cfg->window < ACMEH_ARI_WINDOW_DEFAULT || cfg->window > ACMEH_ARI_WINDOW_FROM_NOT_BEFORE ||
      (cfg->window != ACMEH_ARI_WINDOW_DEFAULT && !(cfg->end_offset > cfg->start_offset))) {
    free(a);
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: ari.window must be 0-2 with end_offset after start_offset");
  }
  a->base.mode = modes[cfg->window];
  a->base.a = cfg->start_offset, a->base.b = cfg->end_offset;
  if (cfg->explanation_url && !(a->base.url = strdup(cfg->explanation_url))) {
    free(a);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  }
  *out = a;
  return ACMEH_OK;
}

void srv_ari_free(srv_ari *a) {
  if (!a) return;
  free(a->base.url);
  srv_ari_rule_free(a->global);
  free(a);
}

void srv_ari_directory(acmeh_server *s, json_t *dir) {
  if (!s->ari || s->ari->off) return;
  char *u = NULL;
  if (asprintf(&u, "%s/renewal-info", s->base) >= 0) json_object_set_new(dir, "renewalInfo", json_string(u));
  free(u);
}

/* ---- finding a certificate by certID (§4.1) ------------------------------- */

static X509 *cert_x509(const srv_cert *c) {
  const unsigned char *p = c->der;
  return d2i_X509(NULL, &p, (long)c->der_len);
}

/* Our serials are 16 random octets (acmeh_x509_new); when the top one has
 * its high bit set, DER puts a 00 before them. Without it they name the id.
 * Returns the certificate, or NULL with *status 400 (malformed certID) or
 * 404 (not one of ours) and why. */
static srv_cert *find_cert(acmeh_server *s, const char *cert_id, int *status, char *why, size_t whylen) {
  unsigned char *serial = NULL;
  size_t slen = 0;
  *status = 400;
  if (acmeh_ari_cert_id_parse(cert_id, NULL, NULL, &serial, &slen, why, whylen)) return NULL;
  int minimal = acmeh_ari_serial_der_minimal(serial, slen);
  const unsigned char *mag = slen == 17 && serial[0] == 0 ? serial + 1 : serial;
  char *id = slen - (size_t)(mag - serial) == 16 ? acmeh_b64url_encode(mag, 16) : NULL;
  free(serial);
  if (!minimal) {
    free(id);
    snprintf(why, whylen, "certID serial part is not the DER INTEGER content octets of a positive serial");
    return NULL;
  }
  *status = 404;
  srv_cert *c = id ? srv_cert_get(s, id) : NULL;
  free(id);
  char *mine = NULL;
  X509 *x = c ? cert_x509(c) : NULL;
  if (x && acmeh_ari_cert_id(x, &mine, NULL, 0) == ACMEH_OK && strcmp(mine, cert_id) == 0) {
    free(mine), X509_free(x);
    return c;
  }
  snprintf(why, whylen, c ? "certID keyIdentifier does not name this CA's issuer" : "no certificate with this serial number");
  free(mine), X509_free(x);
  return NULL;
}

/* ---- the window (§4.2) ---------------------------------------------------- */

/* Boulder's simple schedule: centred on the point where a third of the
 * lifetime remains, a day wide on each side (less for short lifetimes). */
static void default_window(double nb, double na, double *st, double *en) {
  double v = na - nb, ideal = na - v / 3, half = fmin(86400.0, v / 12);
  *st = ideal - half, *en = ideal + half;
}

static const srv_ari_rule *rule_for(const acmeh_server *s, const srv_cert *c) {
  if (c->ari) return c->ari;
  if (s->ari->global) return s->ari->global;
  return &s->ari->base;
}

/* The window for c (from x's validity) and the URL / Retry-After to send. */
static void window_of(const acmeh_server *s, const srv_cert *c, X509 *x, double *st, double *en, const char **url,
                      long *retry) {
  double now = acmeh_now_wall(), nb = 0, na = 0;
  struct tm tm;
  if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm)) nb = (double)timegm(&tm);
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm)) na = (double)timegm(&tm);
  const srv_ari_rule *r = rule_for(s, c);
  srv_ari_mode m = c->revoked ? W_PAST : r->mode;
  switch (m) {
  case W_ABS: *st = r->a, *en = r->b; break;
  case W_NOW: *st = now + r->a, *en = now + r->b; break;
  case W_NOT_BEFORE: *st = nb + r->a, *en = nb + r->b; break;
  case W_PAST: *st = now - PAST_START, *en = now - PAST_END; break;
  default: default_window(nb, na, st, en); break;
  }
  *url = r->url ? r->url : s->ari->base.url;
  *retry = r->retry >= 0 ? r->retry : s->ari->base.retry;
}

void srv_h_renewal_info(srv_req *rq, srv_resp *rs, const char *cert_id) {
  acmeh_server *s = rq->s;
  if (!s->ari || s->ari->off) return srv_problem(rs, 404, "malformed", "no such resource (ARI is off)");
  if (rq->is_post && !rq->post_as_get)
    return srv_problem(rs, 400, "malformed", "renewalInfo is fetched with GET (or POST-as-GET), RFC 9773 §4.1");
  int status;
  char why[200];
  srv_cert *c = find_cert(s, cert_id, &status, why, sizeof why);
  if (!c) return srv_problem(rs, status, "malformed", "%s", why);
  X509 *x = cert_x509(c);
  if (!x) return srv_problem(rs, 500, "serverInternal", "cannot read the stored certificate");
  double st, en;
  const char *url;
  long retry;
  window_of(s, c, x, &st, &en, &url, &retry);
  X509_free(x);
  char a[32], b[32];
  json_t *body = json_pack("{s:{s:s,s:s}}", "suggestedWindow", "start", acmeh_rfc3339_format(st, a, sizeof a) ? a : "",
                           "end", acmeh_rfc3339_format(en, b, sizeof b) ? b : "");
  if (url) json_object_set_new(body, "explanationURL", json_string(url));
  srv_header(rs, "Retry-After: %ld", retry);
  srv_json(rs, 200, body);
}

/* ---- newOrder "replaces" (§5) --------------------------------------------- */

static int shares_name(const srv_cert *c, char *const *names, size_t n) {
  X509 *x = cert_x509(c);
  char **sans = NULL;
  size_t ns = 0;
  int found = 0;
  if (x && acmeh_cert_sans(x, &sans, &ns) == ACMEH_OK)
    for (size_t i = 0; !found && i < ns; i++)
      for (size_t k = 0; !found && k < n; k++) found = strcasecmp(sans[i], names[k]) == 0;
  acmeh_names_free(sans, ns);
  X509_free(x);
  return found;
}

/* 1 when the order replacing c is still live (not invalid, not gone). */
static int replaced_live(acmeh_server *s, const srv_cert *c) {
  srv_order *o = c->replaced_by[0] ? srv_order_get(s, c->replaced_by) : NULL;
  if (o) srv_order_refresh(s, o);
  return o && o->status != ORD_INVALID;
}

int srv_ari_replaces_check(srv_req *rq, srv_resp *rs, char *const *names, size_t n, srv_cert **out) {
  acmeh_server *s = rq->s;
  const json_t *j = json_object_get(rq->payload, "replaces");
  *out = NULL;
  if (!j || !s->ari || s->ari->off) return 1; /* without ARI the member is just unknown, so ignored */
  if (!json_is_string(j)) return srv_problem(rs, 400, "malformed", "\"replaces\" must be a certID string"), 0;
  int status;
  char why[200];
  srv_cert *c = find_cert(s, json_string_value(j), &status, why, sizeof why);
  if (!c) return srv_problem(rs, 400, "malformed", "\"replaces\": %s", why), 0;
  if (strcmp(c->account, rq->acct->e.id) != 0)
    return srv_problem(rs, 403, "unauthorized", "the certificate \"replaces\" names was issued to another account"), 0;
  if (!shares_name(c, names, n))
    return srv_problem(rs, 400, "malformed", "the order has no identifier in common with the certificate it replaces"), 0;
  if (replaced_live(s, c))
    return srv_problem(rs, 409, "alreadyReplaced", "the certificate is already replaced by order %s", c->replaced_by), 0;
  *out = c;
  return 1;
}

void srv_ari_mark_replaced(srv_cert *c, srv_order *o, const char *cert_id) {
  snprintf(c->replaced_by, sizeof c->replaced_by, "%s", o->e.id);
  free(o->replaces);
  o->replaces = strdup(cert_id);
}

/* ---- management: POST /acmeh/ari-window ------------------------------------- */

static int body_times(const json_t *b, srv_ari_rule *r, char *why, size_t whylen) {
  const json_t *st = json_object_get(b, "start"), *en = json_object_get(b, "end");
  const json_t *so = json_object_get(b, "start_offset"), *eo = json_object_get(b, "end_offset");
  const char *from = json_string_value(json_object_get(b, "from"));
  if (json_is_true(json_object_get(b, "past"))) return r->mode = W_PAST, 1;
  if (st || en) {
    r->mode = W_ABS;
    if (acmeh_rfc3339_parse(json_string_value(st), &r->a) || acmeh_rfc3339_parse(json_string_value(en), &r->b))
      return snprintf(why, whylen, "\"start\" and \"end\" must both be RFC 3339 strings"), 0;
  } else if (so || eo) {
    r->mode = from && strcmp(from, "notBefore") == 0 ? W_NOT_BEFORE : W_NOW;
    if (!json_is_number(so) || !json_is_number(eo) || (from && strcmp(from, "now") && strcmp(from, "notBefore")))
      return snprintf(why, whylen, "\"start_offset\" and \"end_offset\" must both be numbers; \"from\" \"now\" or \"notBefore\""), 0;
    r->a = json_number_value(so), r->b = json_number_value(eo);
  } else if (json_is_true(json_object_get(b, "default"))) {
    r->mode = W_DEFAULT;
  } else {
    return snprintf(why, whylen, "give start/end, start_offset/end_offset, \"past\": true, \"default\": true or \"reset\": true"), 0;
  }
  /* Absolute times must print as RFC 3339 years 0001-9999; offsets stay within a century. */
  if (r->mode == W_ABS && !(r->a >= -62135596800.0 && r->a <= 253402300799.0 && r->b >= -62135596800.0 && r->b <= 253402300799.0))
    return snprintf(why, whylen, "start and end must lie in the years 0001-9999"), 0;
  if ((r->mode == W_NOW || r->mode == W_NOT_BEFORE) && !(srv_ari_offset_ok(r->a) && srv_ari_offset_ok(r->b)))
    return snprintf(why, whylen, "offsets must lie " SRV_ARI_OFFSET_LIMIT), 0;
  if ((r->mode == W_ABS || r->mode == W_NOW || r->mode == W_NOT_BEFORE) && !(r->b > r->a) &&
      !json_is_true(json_object_get(b, "allow_invalid")))
    return snprintf(why, whylen, "end is not after start (add \"allow_invalid\": true to send such a window)"), 0;
  return 1;
}

static srv_ari_rule *rule_from_body(const json_t *b, char *why, size_t whylen) {
  srv_ari_rule *r = calloc(1, sizeof *r);
  const json_t *u = json_object_get(b, "explanationURL"), *ra = json_object_get(b, "retryAfter");
  if (!r) return snprintf(why, whylen, "out of memory"), NULL;
  r->retry = -1;
  int ok = body_times(b, r, why, whylen);
  if (ok && u && !json_is_string(u)) ok = 0, snprintf(why, whylen, "\"explanationURL\" must be a string");
  if (ok && ra && (!json_is_integer(ra) || json_integer_value(ra) < 0 || json_integer_value(ra) > 100000000))
    ok = 0, snprintf(why, whylen, "\"retryAfter\" must be an integer of seconds");
  if (ok && u) r->url = strdup(json_string_value(u));
  if (ok && ra) r->retry = (long)json_integer_value(ra);
  if (!ok) srv_ari_rule_free(r), r = NULL;
  return r;
}

/* Resets every override (no certID) or one certificate's. */
static void reset(acmeh_server *s, srv_cert *c) {
  if (c) {
    srv_ari_rule_free(c->ari), c->ari = NULL;
    return;
  }
  srv_ari_rule_free(s->ari->global), s->ari->global = NULL;
  for (srv_entry *e = s->certs.oldest; e; e = e->newer) {
    srv_cert *k = (srv_cert *)e;
    srv_ari_rule_free(k->ari), k->ari = NULL;
  }
}

void srv_h_ari_window(srv_req *rq, srv_resp *rs, const json_t *body) {
  acmeh_server *s = rq->s;
  const json_t *cid = json_object_get(body, "certID");
  int status;
  char why[300];
  srv_cert *c = NULL;
  if (cid && !json_is_string(cid)) return srv_problem(rs, 400, "malformed", "\"certID\" must be a string");
  if (cid && !(c = find_cert(s, json_string_value(cid), &status, why, sizeof why)))
    return srv_problem(rs, status, "malformed", "certID: %s", why);
  if (json_is_true(json_object_get(body, "reset"))) {
    reset(s, c);
  } else {
    srv_ari_rule *r = rule_from_body(body, why, sizeof why);
    if (!r) return srv_problem(rs, 400, "malformed", "%s", why);
    srv_ari_rule **slot = c ? &c->ari : &s->ari->global;
    srv_ari_rule_free(*slot);
    *slot = r;
  }
  srv_json(rs, 200, json_pack("{s:b,s:s}", "ok", 1, "scope", c ? json_string_value(cid) : "all"));
}

/* ---- management endpoints ---------------------------------------------------- */

/* /acmeh/<what>: plain JSON POSTs (no JWS) for tests and people driving a
 * run; the server only listens on loopback. */
void srv_h_mgmt(srv_req *rq, srv_resp *rs, const char *what) {
  if (!rq->is_post) return srv_problem(rs, 405, "malformed", "management endpoints take POST with a JSON object");
  json_t *body = json_loadb(rq->http->body ? rq->http->body : "", rq->http->body_len, 0, NULL);
  if (!json_is_object(body)) srv_problem(rs, 400, "malformed", "the body must be a JSON object");
  else if (strcmp(what, "ari-window") == 0 && rq->s->ari) srv_h_ari_window(rq, rs, body);
  else if (strcmp(what, "profiles") == 0 && rq->s->profiles) srv_h_profiles_mgmt(rq, rs, body);
  else srv_problem(rs, 404, "malformed", "no management endpoint \"%.40s\" (ari-window, profiles)", what);
  json_decref(body);
}
