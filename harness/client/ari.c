/* Reference client: RenewalInfo fetch and schedule (RFC 9773 §4), replaces
 * (§5) and profiles (draft-ietf-acme-profiles §3, §4). */
#include "harness/client/ari.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"

static double pol(double v, double dflt) { return v > 0 ? v : dflt; }

double acmeh_client_ari_clamp(const acmeh_ari_policy *p, double seconds) {
  double lo = pol(p ? p->min_retry : 0, ACMEH_ARI_RETRY_MIN), hi = pol(p ? p->max_retry : 0, ACMEH_ARI_RETRY_MAX);
  if (isnan(seconds)) return pol(p ? p->long_term : 0, ACMEH_ARI_LONG_TERM_RETRY);
  return seconds < lo ? lo : seconds > hi ? hi : seconds;
}

static int decided(acmeh_ari_fetch *f, acmeh_ari_outcome o, const char *fmt, const char *a) {
  f->outcome = o;
  snprintf(f->why, sizeof f->why, fmt, a);
  return ACMEH_OK;
}

/* Transport failures: refused / unresolvable are long-term, the rest temporary (§4.3.3). */
static int transport_failed(acmeh_ari_fetch *f, int rc, const char *err) {
  if (rc == ACMEH_DEADLINE || rc == ACMEH_NOMEM) return snprintf(f->why, sizeof f->why, "%s", err), rc;
  return decided(f, rc == ACMEH_PEER_UNREACHABLE ? ACMEH_ARI_FETCH_LONG_TERM : ACMEH_ARI_FETCH_TEMPORARY, "%s", err);
}

static int classify(acmeh_ari_fetch *f, const acmeh_http_resp *r, const acmeh_ari_policy *p) {
  char d[200];
  f->status = r->status;
  if (r->status >= 500) return acmeh_resp_describe(r, d, sizeof d), decided(f, ACMEH_ARI_FETCH_TEMPORARY, "RenewalInfo answered %s", d);
  if (r->status != 200) return acmeh_resp_describe(r, d, sizeof d), decided(f, ACMEH_ARI_FETCH_LONG_TERM, "RenewalInfo answered %s", d);
  json_t *body = acmeh_resp_json(r);
  char err[200] = "";
  int rc = acmeh_ari_window_parse(body, &f->window, err, sizeof err);
  json_decref(body);
  if (rc == ACMEH_NOMEM) return rc;
  if (rc) return decided(f, ACMEH_ARI_FETCH_LONG_TERM, "invalid RenewalInfo: %s", err);
  const char *ra = acmeh_http_header_get(r, "Retry-After");
  double s = 0;
  snprintf(f->retry_after_value, sizeof f->retry_after_value, "%s", ra ? ra : "");
  f->retry_after_ok = ra && acmeh_retry_after_parse(ra, acmeh_now_wall(), &s) == ACMEH_OK;
  f->retry_after = f->retry_after_ok ? acmeh_client_ari_clamp(p, s) : 0;
  return decided(f, ACMEH_ARI_FETCH_OK, "%s", f->retry_after_ok ? "" : "no valid Retry-After: next fetch after the long-term delay");
}

int acmeh_client_ari_fetch(acmeh_acme *c, const char *url, const char *method, const acmeh_ari_policy *p,
                           acmeh_ari_fetch *out) {
  memset(out, 0, sizeof *out);
  static const char *const accept[] = {"Accept: application/json", NULL};
  acmeh_http_resp r = {0};
  char err[256] = "";
  int post = method && strcmp(method, "POST") == 0;
  int rc = post ? acmeh_acme_post(c, url, NULL, NULL, &r, err, sizeof err)
                : acmeh_http_request(acmeh_acme_http(c), "GET", url, NULL, NULL, 0, accept, &r, err, sizeof err);
  rc = rc ? transport_failed(out, rc, err) : classify(out, &r, p);
  acmeh_http_resp_free(&r);
  return rc;
}

void acmeh_ari_fetch_clear(acmeh_ari_fetch *f) {
  if (f) acmeh_ari_window_clear(&f->window), memset(f, 0, sizeof *f);
}

void acmeh_client_ari_update(acmeh_ari_schedule *s, const acmeh_ari_fetch *f, const acmeh_ari_policy *p,
                             double now, double u) {
  double long_term = pol(p ? p->long_term : 0, ACMEH_ARI_LONG_TERM_RETRY);
  int tries = p && p->temp_tries > 0 ? p->temp_tries : 3;
  if (f->outcome == ACMEH_ARI_FETCH_OK) {
    double w = f->window.end - f->window.start, t = f->window.start + (u < 0 ? 0 : u > 1 ? 1 : u) * w;
    s->renew_at = t < now ? now : t; /* §4.2 step 3: an instant in the past means now */
    s->next_fetch = now + (f->retry_after_ok ? f->retry_after : long_term);
    s->temp_failures = 0;
  } else if (f->outcome == ACMEH_ARI_FETCH_TEMPORARY && ++s->temp_failures <= tries) {
    s->next_fetch = now + pol(p ? p->temp_base : 0, 1.0) * ldexp(1.0, s->temp_failures - 1);
  } else { /* long-term, or temporary errors exhausted (§4.3.3 MUST) */
    s->next_fetch = now + long_term;
    s->temp_failures = 0;
  }
}

acmeh_ari_step acmeh_client_ari_next(const acmeh_ari_schedule *s, double now, double *until) {
  if (s->replaced) return ACMEH_ARI_DONE;
  if (s->renew_at > 0 && s->renew_at <= now) return ACMEH_ARI_RENEW;
  if (s->next_fetch <= now) return ACMEH_ARI_REFETCH;
  *until = s->renew_at > 0 && s->renew_at < s->next_fetch ? s->renew_at : s->next_fetch;
  return ACMEH_ARI_WAIT;
}

int acmeh_client_ari_offered(const acmeh_acme *c) { return acmeh_acme_dir_url(c, "renewalInfo") != NULL; }

static const json_t *profiles(const acmeh_acme *c) {
  const json_t *p = json_object_get(json_object_get(acmeh_acme_dir(c), "meta"), "profiles");
  return json_is_object(p) && json_object_size(p) ? p : NULL;
}

void acmeh_client_profiles_describe(const acmeh_acme *c, char *out, size_t outlen) {
  const char *k;
  json_t *v;
  size_t used = 0;
  out[0] = '\0';
  json_object_foreach((json_t *)profiles(c), k, v) {
    int n = snprintf(out + used, outlen - used, "%s%s (%s)", used ? ", " : "", k, json_is_string(v) ? json_string_value(v) : "?");
    if (n < 0 || (size_t)n >= outlen - used) break;
    used += (size_t)n;
  }
}

int acmeh_client_profile_check(const acmeh_acme *c, const char *profile, char *err, size_t errlen) {
  const json_t *p = profiles(c);
  if (!p) return acmeh_msg(err, errlen, ACMEH_UNSUPPORTED, "the directory lists no profiles (meta.profiles)");
  if (profile && json_object_get(p, profile)) return ACMEH_OK;
  char names[400];
  acmeh_client_profiles_describe(c, names, sizeof names);
  return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "profile \"%s\" is not offered; the server offers %s", profile ? profile : "",
                   names);
}

char *acmeh_client_order_payload(const char *const *names, size_t n, const char *replaces, const char *profile) {
  json_t *ids = json_array(), *p = json_object();
  for (size_t i = 0; ids && i < n; i++) json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", names[i]));
  json_object_set_new(p, "identifiers", ids);
  if (replaces) json_object_set_new(p, "replaces", json_string(replaces));
  if (profile) json_object_set_new(p, "profile", json_string(profile));
  char *out = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  return out;
}
