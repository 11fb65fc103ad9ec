/* Every suite's check implementations, looked up by check ID. */
#include <string.h>

#include "harness/runner/check.h"

extern const acmeh_check_impl acmeh_core_directory_checks[];
extern const acmeh_check_impl acmeh_core_nonce_checks[];
extern const acmeh_check_impl acmeh_core_jws_checks[];
extern const acmeh_check_impl acmeh_core_account_checks[];
extern const acmeh_check_impl acmeh_core_keychange_checks[];
extern const acmeh_check_impl acmeh_core_order_checks[];
extern const acmeh_check_impl acmeh_core_challenge_checks[];
extern const acmeh_check_impl acmeh_core_cert_checks[];
extern const acmeh_check_impl acmeh_core_error_checks[];
extern const acmeh_check_impl acmeh_core_client_checks[];
extern const acmeh_check_impl acmeh_core_ip_checks[];
extern const acmeh_check_impl acmeh_core_eab_checks[];
extern const acmeh_check_impl acmeh_dnsaccount_server_checks[];
extern const acmeh_check_impl acmeh_dnsaccount_client_checks[];
extern const acmeh_check_impl acmeh_dnsup_update_checks[];
extern const acmeh_check_impl acmeh_dnsup_tsig_checks[];
extern const acmeh_check_impl acmeh_dnsup_client_checks[];
extern const acmeh_check_impl acmeh_ari_window_checks[];
extern const acmeh_check_impl acmeh_ari_certid_checks[];
extern const acmeh_check_impl acmeh_ari_replaces_checks[];
extern const acmeh_check_impl acmeh_profiles_checks[];
extern const acmeh_check_impl acmeh_ari_client_checks[];
extern const acmeh_check_impl acmeh_profiles_client_checks[];

static const acmeh_check_impl *const tables[] = {
    acmeh_core_directory_checks, acmeh_core_nonce_checks, acmeh_core_jws_checks,
    acmeh_core_account_checks,   acmeh_core_keychange_checks, acmeh_core_order_checks, acmeh_core_challenge_checks,
    acmeh_core_cert_checks,      acmeh_core_error_checks,     acmeh_core_client_checks,    acmeh_core_ip_checks,
    acmeh_core_eab_checks,
    acmeh_dnsup_update_checks,   acmeh_dnsup_tsig_checks,     acmeh_dnsup_client_checks,
    acmeh_dnsaccount_server_checks, acmeh_dnsaccount_client_checks,
    acmeh_ari_window_checks,     acmeh_ari_certid_checks,     acmeh_ari_replaces_checks,   acmeh_profiles_checks,
    acmeh_ari_client_checks,     acmeh_profiles_client_checks};

acmeh_check_fn acmeh_check_impl_find(const char *id) {
  for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
    for (const acmeh_check_impl *c = tables[t]; c->id; c++)
      if (strcmp(c->id, id) == 0) return c->fn;
  return NULL;
}
