#!/bin/sh
# uacme -h hook: uacme-hook.sh begin|done|failed TYPE IDENT TOKEN AUTH.
# Accepts only the run's $CHALLENGE (a non-zero exit declines a challenge).
# AUTH is the keyAuthorization for http-01 and already the TXT digest for
# dns-01; tls-alpn-01 is declined: uacme hands over only the digest, and the
# mocks build the validation certificate from the keyAuthorization.
set -eu
method=$1 type=$2 ident=$3 token=$4 auth=$5
[ "$type" = "${CHALLENGE:-http-01}" ] || exit 1
case "$method:$type" in
  begin:http-01) exec "$ACMEH_BIN" hook http-01 add "$token" "$auth" ;;
  begin:dns-01) exec "$ACMEH_BIN" hook dns-01 add "$ident" "$auth" ;;
  done:http-01 | failed:http-01) exec "$ACMEH_BIN" hook http-01 del "$token" ;;
  done:dns-01 | failed:dns-01) exec "$ACMEH_BIN" hook dns-01 del "$ident" ;;
  *) exit 1 ;;
esac
