/* Helpers of the ARI-C checks (client_common.h). */
#include "suites/ari/client_common.h"

#include <stdlib.h>
#include <string.h>

#include "harness/acme/ari.h"
#include "base/error.h"

const char *ari_rec_base(const acmeh_client_run *r) {
  size_t i;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) if (acmeh_kit_is(&e, "GET", "directory")) {
    json_t *d = acmeh_kit_resp_json(&e);
    static __thread char base[512];
    const char *u = json_string_value(json_object_get(d, "renewalInfo"));
    int ok = u && strlen(u) < sizeof base;
    if (ok) strcpy(base, u);
    json_decref(d);
    if (ok) return base;
  }
  return NULL;
}

int ari_rec_is_ari(const acmeh_client_run *r, const acmeh_kit_exchange *e) {
  const char *res = e->resource, *url = e->url, *base = ari_rec_base(r);
  if (res && strcmp(res, "renewalInfo") == 0) return 1;
  return base && url && strncmp(url, base, strlen(base)) == 0 && url[strlen(base)] == '/';
}

const char *ari_rec_id(const acmeh_client_run *r, const acmeh_kit_exchange *e) {
  const char *url = e->url, *base = ari_rec_base(r);
  const char *p = base && url && strncmp(url, base, strlen(base)) == 0 ? url + strlen(base) : url ? strrchr(url, '/') : NULL;
  while (p && *p == '/') p++;
  return p ? p : "";
}

size_t ari_rec_count(const acmeh_client_run *r) {
  size_t i, n = 0;
  acmeh_kit_exchange e;
  ACMEH_KIT_EACH(r, i, e) n += (size_t)ari_rec_is_ari(r, &e);
  return n;
}

json_t *ari_rec_issued_ids(const acmeh_client_run *r) {
  json_t *out = json_array();
  acmeh_kit_exchange e;
  size_t i;
  ACMEH_KIT_EACH(r, i, e) if (acmeh_kit_is(&e, "POST", "certificate") && e.status == 200) {
    const char *pem = e.resp_body;
    char *id = NULL;
    if (pem && acmeh_ari_cert_id_pem(pem, strlen(pem), &id, NULL, 0) == ACMEH_OK) json_array_append_new(out, json_string(id));
    free(id);
  }
  return out;
}

int ari_rec_client_uses_ari(acmeh_check_ctx *ctx) {
  const acmeh_client_run *r;
  return acmeh_scenario_get(ctx, "ari-window-past", &r) == ACMEH_OK && ari_rec_count(r) > 0;
}

