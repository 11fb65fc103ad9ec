#!/bin/sh
# acme.sh driver: acmesh.sh issue|renew|revoke. Runs the acme.sh script that
# ci/setup unpacks from Debian sid ($ACMESH, default
# /opt/acme-harness/acme.sh-3.1/usr/share/acme.sh/acme.sh) the way Debian's
# /usr/bin/acme.sh wrapper does (ACME_PACKAGED=1: no self-upgrade, no script
# copy). All its state (account, ca.conf, certificates, logs) lives in
# $WORK_DIR/acme.sh (--home and --config-home); HOME is $WORK_DIR as well, so
# the real home and crontab are never touched (only --install writes a
# crontab, and it is never run). Trust: --ca-bundle $ACME_CA_BUNDLE.
#   http-01:     --standalone, its own listener (socat) on 127.0.0.1:$HTTP01_PORT
#   tls-alpn-01: --alpn, its own listener (openssl s_server) on 127.0.0.1:$TLSALPN01_PORT
#   dns-01:      --dns dns_acmeh (acmesh-dns.sh, copied into its dnsapi
#                folder) publishing through the mock DNS; --dnssleep 0 skips
#                its public DNS-over-HTTPS propagation check. In a dns_update
#                scenario (suites/dnsupdate: DNS_UPDATE_* set) its own RFC 2136
#                hook instead, --dns dns_nsupdate: NSUPDATE_SERVER/_PORT/_ZONE
#                from the scenario and NSUPDATE_KEY a BIND key file written
#                here from its TSIG key; acme.sh runs BIND's nsupdate -k
#   dns-persist-01: acme.sh answers only with a record that already exists
#                (its --dns-persist): --make-dns-persist-value prints the
#                records it would use (one per directory caaIdentities entry,
#                with its account URL; it registers the account first), this
#                driver publishes the first one for each name through the
#                mocks' management API ($ACMEH_MGMT/set-txt), then --issue
#                --dns-persist. acme.sh never reads the challenge's issuer list.
# renew is `acme.sh --cron`, what its cron job runs: acme.sh itself decides
# whether each certificate is due (its ARI suggestedWindow, else 30 days
# after issuance); no --force, so a certificate not due is left alone (exit 0).
set -eu
acmesh=${ACMESH:-/opt/acme-harness/acme.sh-3.1/usr/share/acme.sh/acme.sh}
[ -x "$acmesh" ] || { echo "acmesh.sh: $acmesh missing: run ci/setup" >&2; exit 2; }
home=$WORK_DIR/acme.sh
mkdir -p "$WORK_DIR/tmp"
export HOME="$WORK_DIR" TMPDIR="$WORK_DIR/tmp" ACME_PACKAGED=1
mkdir -p "$home/dnsapi"
cp "$(dirname "$0")/acmesh-dns.sh" "$home/dnsapi/dns_acmeh.sh"
acme() { "$acmesh" --home "$home" --config-home "$home" --ca-bundle "$ACME_CA_BUNDLE" "$@"; }
case "${1:-}" in
  issue)
    case "${CHALLENGE:-http-01}" in
      http-01) set -- --standalone --httpport "$HTTP01_PORT" --local-address 127.0.0.1 ;;
      tls-alpn-01) set -- --alpn --tlsport "$TLSALPN01_PORT" --local-address 127.0.0.1 ;;
      dns-01) if [ -n "${DNS_UPDATE_KEY_NAME:-}" ]; then
          key=$WORK_DIR/tsig.key
          printf 'key "%s" {\n  algorithm %s;\n  secret "%s";\n};\n' "$DNS_UPDATE_KEY_NAME" "${DNS_UPDATE_KEY_ALGORITHM%.}" \
            "$DNS_UPDATE_KEY_SECRET" >"$key"
          export NSUPDATE_SERVER="$DNS_UPDATE_SERVER" NSUPDATE_SERVER_PORT="$DNS_UPDATE_PORT" NSUPDATE_KEY="$key" \
            NSUPDATE_ZONE="${DNS_UPDATE_ZONE%.}"
          set -- --dns dns_nsupdate --dnssleep 0
        else
          set -- --dns dns_acmeh --dnssleep 0
        fi ;;
      dns-persist-01)
        for d in $(printf %s "${DOMAINS:-$DOMAIN}" | tr , ' '); do
          out=$(ACME_NO_COLOR=1 acme --make-dns-persist-value --server "$ACME_DIRECTORY" --accountemail "$EMAIL" -d "$d" 2>&1) \
            || { printf '%s\n' "$out" >&2; exit 1; }
          name=$(printf '%s\n' "$out" | sed -n 's/.*TXT persist domain:\(.*\)$/\1/p' | head -n 1)
          value=$(printf '%s\n' "$out" | sed -n 's/.*TXT persist value :"\(.*\)"$/\1/p' | head -n 1)
          [ -n "$name" ] && [ -n "$value" ] || { printf 'acmesh.sh: no record printed:\n%s\n' "$out" >&2; exit 1; }
          curl -sf -X POST -H 'Content-Type: application/json' \
            -d "{\"host\":\"$name.\",\"value\":\"$value\"}" "$ACMEH_MGMT/set-txt" >/dev/null \
            || { echo "acmesh.sh: the management API refused $name" >&2; exit 1; }
        done
        set -- --dns-persist ;;
      *) echo "acmesh.sh: challenge $CHALLENGE not supported" >&2; exit 127 ;;
    esac
    # The configured ACME profile (draft-ietf-acme-profiles), when the scenario sets one.
    if [ -n "${PROFILE:-}" ]; then set -- "$@" --cert-profile "$PROFILE"; fi
    # Every name of ${DOMAINS} (comma-separated, $DOMAIN first) in one order;
    # the first names the certificate's folder.
    for d in $(printf %s "${DOMAINS:-$DOMAIN}" | tr , ' '); do set -- "$@" -d "$d"; done
    # The CA's External Account Binding (RFC 8555 §7.3.4): acme.sh takes it
    # only when registering the account; --issue then reuses that account.
    if [ -n "${EAB_KID:-}" ]; then
      acme --register-account --server "$ACME_DIRECTORY" --accountemail "$EMAIL" \
        --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_HMAC_KEY"
    fi
    acme --issue --server "$ACME_DIRECTORY" --accountemail "$EMAIL" "$@" ;;
  renew) acme --cron ;;
  revoke) acme --revoke -d "$DOMAIN" ;;
  *) echo "usage: acmesh.sh issue|renew|revoke" >&2; exit 2 ;;
esac
