#!/bin/sh
# dehydrated driver: dehydrated.sh issue|renew|revoke. Writes its config into
# $WORK_DIR (nothing under /etc/dehydrated is read or written), registers an
# account, then runs --cron for $DOMAIN with dehydrated-hook.sh publishing
# through the mocks. Trust: CURL_CA_BUNDLE (dehydrated runs the curl tool).
set -eu
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
case "${1:-}" in
  issue)
    dehydrated -f "$cfg" --register --accept-terms
    exec dehydrated -f "$cfg" --cron --domain "$DOMAIN" ;;
  renew) exec dehydrated -f "$cfg" --cron --force --domain "$DOMAIN" ;;
  revoke) exec dehydrated -f "$cfg" --revoke "$WORK_DIR/certs/$DOMAIN/cert.pem" ;;
  *) echo "usage: dehydrated.sh issue|renew|revoke" >&2; exit 2 ;;
esac
