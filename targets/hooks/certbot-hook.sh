#!/bin/sh
# certbot --manual-auth-hook / --manual-cleanup-hook: certbot-hook.sh add|del.
# certbot sets CERTBOT_DOMAIN, CERTBOT_VALIDATION and, for http-01 only,
# CERTBOT_TOKEN (CERTBOT_VALIDATION is the keyAuthorization for http-01 and
# the TXT value for dns-01).
set -eu
if [ -n "${CERTBOT_TOKEN:-}" ]; then
  exec "$ACMEH_BIN" hook http-01 "$1" "$CERTBOT_TOKEN" "$CERTBOT_VALIDATION"
fi
exec "$ACMEH_BIN" hook dns-01 "$1" "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION"
