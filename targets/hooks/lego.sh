#!/bin/sh
# lego driver: lego.sh issue|renew|revoke. Picks lego's solver for $CHALLENGE:
# http-01 and tls-alpn-01 are lego's own listeners on 127.0.0.1:$HTTP01_PORT /
# :$TLSALPN01_PORT; dns-01 goes through its exec provider (EXEC_PATH, set by
# the target file, = lego-exec.sh) to the mock DNS. Trust: LEGO_CA_CERTIFICATES.
# Set by the target file:
#   LEGO_BIN          the lego program (default: lego on PATH, Debian 12's 4.9.1;
#                     lego-4.35.json names the one ci/setup unpacked from sid)
#   LEGO_RENEW_FLAGS  the flags of `lego renew` that decide whether it renews.
#                     Unset: --days 36500 (more days than any validity: always
#                     renews), for lego 4.9.1, which has no ARI: its own rule
#                     (30 days left) would never renew the fresh certificate of a
#                     scenario whose window says "renew now". Set (even empty):
#                     these flags instead; a lego with ARI gets ones that leave
#                     the decision to it (lego-4.35.json).
# ${PROFILE}, when the scenario sets it, goes to `lego run` / `lego renew` as
# --profile when this lego has that flag (lego 4.9.1 has none: unchanged).
set -eu
action=${1:-}
lego=${LEGO_BIN:-lego}
case "${CHALLENGE:-http-01}" in
  http-01) set -- --http --http.port "127.0.0.1:$HTTP01_PORT" ;;
  tls-alpn-01) set -- --tls --tls.port "127.0.0.1:$TLSALPN01_PORT" ;;
  dns-01) set -- --dns exec --dns.resolvers "$DNS_SERVER" --dns.disable-cp
    # The exec provider solves several names one after the other, waiting
    # EXEC_SEQUENCE_INTERVAL (default 60 s) between them: a pause for real DNS
    # providers' rate limits that the mock DNS does not need.
    export EXEC_SEQUENCE_INTERVAL="${EXEC_SEQUENCE_INTERVAL:-1}" ;;
  *) echo "lego.sh: challenge $CHALLENGE not supported" >&2; exit 127 ;;
esac
# The CA's External Account Binding (RFC 8555 §7.3.4), when the scenario gives one.
if [ -n "${EAB_KID:-}" ]; then set -- "$@" --eab --kid "$EAB_KID" --hmac "$EAB_HMAC_KEY"; fi
# Every name of ${DOMAINS} (comma-separated, $DOMAIN first) in one order; lego
# names the certificate after the first. DNS names hold no spaces, so the
# list is split unquoted.
domain_flags=$(printf %s "${DOMAINS:-$DOMAIN}" | sed 's/^/--domains /; s/,/ --domains /g')
# The scenario's profile (draft-ietf-acme-profiles), for `lego run` and `lego renew`.
profile=""
if [ -n "${PROFILE:-}" ] && "$lego" run --help 2>/dev/null | grep -q -- '--profile'; then profile=$PROFILE; fi
lego_do() {
  # shellcheck disable=SC2086
  exec "$lego" --accept-tos --server "$ACME_DIRECTORY" --email "$EMAIL" --path "$WORK_DIR/lego" \
    $domain_flags "$@"
}
# --no-random-sleep: lego otherwise sleeps up to 8 min before a renewal it
# decided on (load spreading for cron jobs); it does not change the decision.
# shellcheck disable=SC2086
case "$action" in
  issue) lego_do "$@" run ${profile:+--profile "$profile"} ;;
  renew) lego_do "$@" renew ${LEGO_RENEW_FLAGS---days 36500} --no-random-sleep ${profile:+--profile "$profile"} ;;
  revoke) lego_do revoke ;;
  *) echo "usage: lego.sh issue|renew|revoke" >&2; exit 2 ;;
esac
