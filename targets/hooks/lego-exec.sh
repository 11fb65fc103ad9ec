#!/bin/sh
# lego exec provider (EXEC_PATH): lego-exec.sh present|cleanup FQDN VALUE,
# FQDN = _acme-challenge.NAME. ; publishes VALUE through acme-harness hook.
set -eu
name=${2#_acme-challenge.}
case "$1" in
  present) exec "$ACMEH_BIN" hook dns-01 add "$name" "$3" ;;
  cleanup) exec "$ACMEH_BIN" hook dns-01 del "$name" ;;
  *) exit 0 ;;
esac
