/* ACME profiles (draft-ietf-acme-profiles-00) on the reference server:
 * meta.profiles (§3), the newOrder "profile" field (§4) with invalidProfile
 * refusals, retired profiles (refused at newOrder and at finalize), and the
 * certificate contents each profile stands for (validity, extendedKeyUsage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "harness/server/internal.h"

#define MAX_PROFILES 16

typedef struct {
  char *name, *description, *eku;
  double validity; /* seconds */
  int retired;
  int no_ip; /* "ip": false: DNS names only, an ip identifier (RFC 8738) gets invalidProfile */
} srv_profile;

struct srv_profiles {
  srv_profile p[MAX_PROFILES];
  size_t n;
  char *dflt; /* NULL = no default: orders without "profile" get none */
};

static const char DEFAULT_PROFILES[] =
    "{\"classic\": {\"description\": \"90 days; extendedKeyUsage serverAuth and clientAuth; DNS names only\","
    "               \"validity\": 7776000, \"eku\": \"serverAuth,clientAuth\", \"ip\": false},"
    " \"shortlived\": {\"description\": \"160 hours (about 6 days); extendedKeyUsage serverAuth only\","
    "                  \"validity\": 576000, \"eku\": \"serverAuth\"}}";

static int one_profile(srv_profile *p, const char *name, const json_t *v, char *err, size_t errlen) {
  const json_t *d = json_object_get(v, "description"), *val = json_object_get(v, "validity"),
               *eku = json_object_get(v, "eku"), *ret = json_object_get(v, "retired"), *ip = json_object_get(v, "ip");
  if (!*name || !json_is_string(d) || !json_is_number(val) || json_number_value(val) < 60 ||
      json_number_value(val) > 398 * 86400.0 || (eku && !json_is_string(eku)) || (ret && !json_is_boolean(ret)) ||
      (ip && !json_is_boolean(ip)))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG,
                     "server: profiles.\"%.40s\" needs \"description\" (string), \"validity\" (60 s to 398 days), "
                     "optional \"eku\" (e.g. \"serverAuth,clientAuth\"), \"retired\" and \"ip\" (booleans)", name);
  p->name = strdup(name);
  p->description = strdup(json_string_value(d));
  p->eku = strdup(eku ? json_string_value(eku) : "serverAuth");
  p->validity = json_number_value(val);
  p->retired = json_is_true(ret);
  p->no_ip = json_is_false(ip);
  return p->name && p->description && p->eku ? ACMEH_OK : acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
}

static int fill(srv_profiles *ps, const json_t *cfg, const char *dflt, char *err, size_t errlen) {
  if (!json_is_object(cfg) || json_object_size(cfg) > MAX_PROFILES)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: profiles must be an object of at most %d profiles", MAX_PROFILES);
  const char *name;
  const json_t *v;
  json_object_foreach((json_t *)cfg, name, v) {
    int rc = one_profile(&ps->p[ps->n++], name, v, err, errlen);
    if (rc) return rc;
  }
  if (!ps->n) return ACMEH_OK; /* {} = profiles off */
  const char *d = dflt ? dflt : json_object_get(cfg, "classic") ? "classic" : ps->p[0].name;
  if (*d && !json_object_get(cfg, d))
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "server: default_profile \"%.40s\" is not a profile", d);
  ps->dflt = *d ? strdup(d) : NULL;
  return *d && !ps->dflt ? acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory") : ACMEH_OK;
}

int srv_profiles_new(const json_t *cfg, const char *dflt, srv_profiles **out, char *err, size_t errlen) {
  srv_profiles *ps = calloc(1, sizeof *ps);
  json_t *defaults = cfg ? NULL : json_loads(DEFAULT_PROFILES, 0, NULL);
  if (!ps || (!cfg && !defaults)) {
    free(ps);
    return acmeh_msg(err, errlen, ACMEH_NOMEM, "server: out of memory");
  }
  int rc = fill(ps, cfg ? cfg : defaults, dflt, err, errlen);
  json_decref(defaults);
  if (rc) srv_profiles_free(ps), ps = NULL;
  *out = ps;
  return rc;
}

void srv_profiles_free(srv_profiles *ps) {
  if (!ps) return;
  for (size_t i = 0; i < ps->n; i++) free(ps->p[i].name), free(ps->p[i].description), free(ps->p[i].eku);
  free(ps->dflt);
  free(ps);
}

static srv_profile *find(const srv_profiles *ps, const char *name) {
  for (size_t i = 0; ps && name && i < ps->n; i++)
    if (strcmp(ps->p[i].name, name) == 0) return (srv_profile *)&ps->p[i];
  return NULL;
}

void srv_profiles_meta(const srv_profiles *ps, json_t *meta) {
  if (!ps || !ps->n || !meta) return;
  json_t *m = json_object();
  for (size_t i = 0; i < ps->n; i++)
    if (!ps->p[i].retired) json_object_set_new(m, ps->p[i].name, json_string(ps->p[i].description));
  json_object_set_new(meta, "profiles", m);
}

/* p can be given to an order (has_ip: the order has an ip identifier). */
static int usable(const srv_profile *p, int has_ip) { return p && !p->retired && !(has_ip && p->no_ip); }

int srv_profile_select(acmeh_server *s, const json_t *payload, int has_ip, char **out, srv_resp *rs) {
  const srv_profiles *ps = s->profiles;
  const json_t *j = json_object_get(payload, "profile");
  *out = NULL;
  if (!ps || !ps->n) return 1; /* profiles off: the member is unknown, so ignored */
  if (j && !json_is_string(j)) return srv_problem(rs, 400, "malformed", "\"profile\" must be a string"), 0;
  const char *name = j ? json_string_value(j) : ps->dflt;
  srv_profile *p = find(ps, name);
  if (j && (!p || p->retired))
    return srv_problem(rs, 400, "invalidProfile", "profile \"%.60s\" is not %s", name, p ? "issued any more" : "one this server offers"), 0;
  if (j && has_ip && p->no_ip) /* profiles draft §4: a profile that cannot carry the identifiers */
    return srv_problem(rs, 400, "invalidProfile", "profile \"%.60s\" does not issue for ip identifiers", name), 0;
  /* No profile named: the default, else the first that can carry the order. */
  for (size_t i = 0; !j && !usable(p, has_ip) && i < ps->n; i++) p = usable(&ps->p[i], has_ip) ? (srv_profile *)&ps->p[i] : NULL;
  if (!p || p->retired) return 1; /* every profile retired: the order carries none */
  if (!usable(p, has_ip))
    return srv_problem(rs, 400, "rejectedIdentifier", "no profile of this server issues for ip identifiers"), 0;
  *out = strdup(p->name);
  return *out ? 1 : (srv_problem(rs, 500, "serverInternal", "out of memory"), 0);
}

int srv_profile_params(const acmeh_server *s, const char *name, double *validity, const char **eku) {
  const srv_profile *p = find(s->profiles, name);
  if (!p || p->retired) return 0;
  *validity = p->validity;
  *eku = p->eku;
  return 1;
}

/* POST /acmeh/profiles {"retire": name} | {"restore": name}. */
void srv_h_profiles_mgmt(srv_req *rq, srv_resp *rs, const json_t *body) {
  const char *ret = json_string_value(json_object_get(body, "retire"));
  const char *res = json_string_value(json_object_get(body, "restore"));
  if (!ret == !res) return srv_problem(rs, 400, "malformed", "give {\"retire\": name} or {\"restore\": name}");
  srv_profile *p = find(rq->s->profiles, ret ? ret : res);
  if (!p) return srv_problem(rs, 404, "malformed", "no profile \"%.60s\"", ret ? ret : res);
  p->retired = ret != NULL;
  json_t *meta = json_object(), *retired = json_array();
  srv_profiles_meta(rq->s->profiles, meta);
  for (size_t i = 0; i < rq->s->profiles->n; i++)
    if (rq->s->profiles->p[i].retired) json_array_append_new(retired, json_string(rq->s->profiles->p[i].name));
  json_object_set_new(meta, "retired", retired);
  srv_json(rs, 200, meta);
}
