#!/bin/sh
# dehydrated HOOK: deploy_challenge|clean_challenge DOMAIN TOKEN_FILENAME TOKEN_VALUE
# (HOOK_CHAIN=no). TOKEN_VALUE is the keyAuthorization for http-01 and the TXT
# value for dns-01. Every other event dehydrated reports is ignored.
set -eu
case "$1" in
  deploy_challenge) action=add ;;
  clean_challenge) action=del ;;
  *) exit 0 ;;
esac
case "${CHALLENGE:-http-01}" in
  http-01) exec "$ACMEH_BIN" hook http-01 "$action" "$3" "$4" ;;
  dns-01) exec "$ACMEH_BIN" hook dns-01 "$action" "$2" "$4" ;;
  *) echo "dehydrated-hook.sh: challenge $CHALLENGE not supported" >&2; exit 1 ;;
esac
