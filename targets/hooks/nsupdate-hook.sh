#!/bin/sh
# lego exec provider (EXEC_PATH) that publishes by DNS UPDATE with BIND's
# nsupdate: nsupdate-hook.sh present|cleanup FQDN VALUE. Server, zone and TSIG
# key come from the DNS_UPDATE_* variables of a dns_update scenario; without
# them there is nowhere to send an UPDATE, so it answers 127 (unsupported).
set -eu
[ -n "${DNS_UPDATE_KEY_NAME:-}" ] || { echo "nsupdate-hook: no DNS_UPDATE_* variables" >&2; exit 127; }
case "$1" in
  present) op="add $2 60 TXT \"$3\"" ;;
  cleanup) op="delete $2 TXT \"$3\"" ;;  # the exact RR (CLASS NONE): other values stay
  *) exit 0 ;;
esac
printf 'server %s %s\nzone %s\nupdate %s\nsend\n' "$DNS_UPDATE_SERVER" "$DNS_UPDATE_PORT" "$DNS_UPDATE_ZONE" "$op" |
  nsupdate -t 10 -y "$DNS_UPDATE_KEY_ALGORITHM:$DNS_UPDATE_KEY_NAME:$DNS_UPDATE_KEY_SECRET"
