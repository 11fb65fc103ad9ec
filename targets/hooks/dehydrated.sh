#!/bin/sh
# dehydrated driver: dehydrated.sh issue|renew|revoke. Writes its config into
# $WORK_DIR (nothing under /etc/dehydrated is read or written), registers an
# account, then runs --cron for every name of $DOMAINS (else $DOMAIN) with
# dehydrated-hook.sh publishing through the mocks. Trust: CURL_CA_BUNDLE (dehydrated runs the curl tool).
# $DEHYDRATED names the script to run (default: dehydrated on PATH, Debian
# 12's 0.7.0); dehydrated-0.7.2.json points it at the copy ci/setup unpacks.
set -eu
dehydrated=${DEHYDRATED:-dehydrated}
cfg=$WORK_DIR/dehydrated.conf
mkdir -p "$WORK_DIR/wellknown"
cat >"$cfg" <<CONF
CA="$ACME_DIRECTORY"
CHALLENGETYPE="${CHALLENGE:-http-01}"
BASEDIR="$WORK_DIR"
WELLKNOWN="$WORK_DIR/wellknown"
HOOK="$(dirname "$0")/dehydrated-hook.sh"
HOOK_CHAIN="no"
CONTACT_EMAIL="$EMAIL"
CONF
# The CA's External Account Binding (RFC 8555 §7.3.4), when the scenario gives
# one; dehydrated sends it only to a CA with meta.externalAccountRequired.
if [ -n "${EAB_KID:-}" ]; then printf 'EAB_KID="%s"\nEAB_HMAC_KEY="%s"\n' "$EAB_KID" "$EAB_HMAC_KEY" >>"$cfg"; fi
# The configured ACME profile (draft-ietf-acme-profiles), when the scenario
# sets one: dehydrated 0.7.2 reads ACME_PROFILE (0.7.0 ignores the variable).
if [ -n "${PROFILE:-}" ]; then printf 'ACME_PROFILE="%s"\n' "$PROFILE" >>"$cfg"; fi
case "${1:-}" in
  issue)
    "$dehydrated" -f "$cfg" --register --accept-terms
    # Every name of ${DOMAINS} (comma-separated, $DOMAIN first) in one
    # certificate: each --domain adds one; the first names its folder.
    set --
    for d in $(printf %s "${DOMAINS:-$DOMAIN}" | tr , ' '); do set -- "$@" --domain "$d"; done
    exec "$dehydrated" -f "$cfg" --cron "$@" ;;
  renew) exec "$dehydrated" -f "$cfg" --cron --force --domain "$DOMAIN" ;;
  revoke) exec "$dehydrated" -f "$cfg" --revoke "$WORK_DIR/certs/$DOMAIN/cert.pem" ;;
  *) echo "usage: dehydrated.sh issue|renew|revoke" >&2; exit 2 ;;
esac
