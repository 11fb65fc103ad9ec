/* The reference client's side of ACME Renewal Information (RFC 9773) and of
 * ACME profiles (draft-ietf-acme-profiles): fetching RenewalInfo, the
 * renewal schedule of §4.2-§4.3 (random instant in the window, Retry-After
 * clamped, temporary and long-term errors), newOrder payloads carrying
 * `replaces` (§5) and `profile`, and the profile checks against the
 * directory's meta.profiles. Building blocks only: the caller decides when
 * to sleep, so a cron-style client can persist the schedule between runs. */
#ifndef ACMEH_CLIENT_ARI_H
#define ACMEH_CLIENT_ARI_H

#include <jansson.h>

#include "harness/acme/ari.h"
#include "harness/client/acme.h"

/* How the client treats RenewalInfo answers. Zero members take the RFC's
 * values (harness/acme/ari.h): clamp 60 s .. 86400 s, long-term wait 6 h,
 * 3 temporary errors backed off from 1 s (doubling) before long-term. */
typedef struct {
  double min_retry, max_retry; /* Retry-After clamp bounds, seconds (§4.3.2) */
  double long_term;            /* wait after a long-term error, seconds (§4.3.3) */
  int temp_tries;              /* temporary errors in a row before long-term handling */
  double temp_base;            /* first back-off after a temporary error, seconds */
} acmeh_ari_policy;

typedef enum {
  ACMEH_ARI_FETCH_OK,        /* a valid window arrived */
  ACMEH_ARI_FETCH_TEMPORARY, /* 5xx, timeout, dropped connection (§4.3.3) */
  ACMEH_ARI_FETCH_LONG_TERM  /* anything else that failed (§4.3.3) */
} acmeh_ari_outcome;

/* One RenewalInfo fetch. Clear with acmeh_ari_fetch_clear. */
typedef struct {
  acmeh_ari_outcome outcome;
  acmeh_ari_window window;  /* valid when outcome is OK */
  double retry_after;       /* seconds until the next fetch, clamped (OK only; 0 otherwise) */
  int retry_after_ok;       /* the answer carried a valid Retry-After */
  char retry_after_value[64]; /* the Retry-After header as received ("" when none) */
  long status;              /* HTTP status, 0 when none arrived */
  char why[256];            /* what went wrong, for the operator */
} acmeh_ari_fetch;

/* Fetches `url` (acmeh_ari_url of the renewalInfo resource and certID) with
 * an unauthenticated GET (§4.1), or with `method` "POST" as a POST-as-GET
 * (a deviation for negative tests; NULL = GET), and classifies the answer:
 * 200 with a valid RenewalInfo object is OK (a missing or invalid Retry-After
 * then makes the next fetch wait the long-term delay, §4.3.3); 5xx and
 * timeouts are temporary; other statuses, connection refused, unresolvable
 * names, and bodies that are not valid RenewalInfo (end <= start included,
 * §4.2) are long-term. Always fills *out. Returns ACMEH_OK when an outcome
 * was decided (see out->outcome), ACMEH_DEADLINE / ACMEH_NOMEM otherwise. */
int acmeh_client_ari_fetch(acmeh_acme *c, const char *url, const char *method, const acmeh_ari_policy *p,
                           acmeh_ari_fetch *out);
void acmeh_ari_fetch_clear(acmeh_ari_fetch *f);

/* A certificate's renewal schedule; plain numbers so a client can save it.
 * Times are seconds since the epoch (acmeh_now_wall()). */
typedef struct {
  double renew_at;   /* chosen renewal instant; 0 = none chosen yet */
  double next_fetch; /* when RenewalInfo may be fetched again */
  int temp_failures; /* temporary errors in a row */
  int replaced;      /* the certificate was replaced: never fetch again (§4.3) */
} acmeh_ari_schedule;

/* The clamp of §4.3.2 with the policy's bounds. */
double acmeh_client_ari_clamp(const acmeh_ari_policy *p, double seconds);

/* Folds fetch `f` made at `now` into `s` (§4.2, §4.3): a valid window sets
 * renew_at to start + u * (end - start) (u in [0, 1], the caller's uniform
 * random draw; a past instant means "now") and next_fetch to now +
 * the clamped Retry-After (long-term delay when Retry-After was missing);
 * a temporary error backs off exponentially, and after temp_tries in a row
 * waits the long-term delay; a long-term error waits the long-term delay.
 * Errors keep the renew_at of an earlier valid window. */
void acmeh_client_ari_update(acmeh_ari_schedule *s, const acmeh_ari_fetch *f, const acmeh_ari_policy *p,
                             double now, double u);

typedef enum { ACMEH_ARI_RENEW, ACMEH_ARI_REFETCH, ACMEH_ARI_WAIT, ACMEH_ARI_DONE } acmeh_ari_step;

/* What to do at `now`: DONE once replaced; RENEW when renew_at has come;
 * REFETCH when next_fetch has come; else WAIT, with *until = the earlier of
 * the two instants (seconds since the epoch). */
acmeh_ari_step acmeh_client_ari_next(const acmeh_ari_schedule *s, double now, double *until);

/* 1 when the directory advertises renewalInfo (§3), so `replaces` may be
 * sent (§5: SHOULD NOT otherwise). */
int acmeh_client_ari_offered(const acmeh_acme *c);

/* Checks `profile` against the directory's meta.profiles: ACMEH_OK when
 * listed; ACMEH_UNSUPPORTED when the directory lists no profiles (send
 * none); ACMEH_INVALID_ARG when others are listed but not this one (the
 * draft's §4: SHOULD NOT request it), with the offered names in err. */
int acmeh_client_profile_check(const acmeh_acme *c, const char *profile, char *err, size_t errlen);

/* Writes "name (description), ..." of meta.profiles into out; "" when none. */
void acmeh_client_profiles_describe(const acmeh_acme *c, char *out, size_t outlen);

/* The newOrder payload for `n` DNS names, with "replaces" (RFC 9773 §5) and
 * "profile" (profiles draft §4) members when non-NULL. Malloc'd JSON text the
 * caller frees; NULL on allocation failure. */
char *acmeh_client_order_payload(const char *const *names, size_t n, const char *replaces, const char *profile);

#endif
