#!/bin/sh
# lego driver for its rfc2136 DNS provider: lego-rfc2136.sh issue|renew.
# Maps the harness's DNS_UPDATE_* variables (a dns_update scenario) to lego's
# RFC2136_* ones; finds the zone by SOA through the mock DNS (--dns.resolvers)
# and skips the authoritative-NS propagation wait (--dns.disable-cp).
set -eu
ACTION=${1:-}
[ -n "${DNS_UPDATE_KEY_NAME:-}" ] || { echo "lego-rfc2136.sh: needs a dns_update scenario (DNS_UPDATE_*)" >&2; exit 127; }
export RFC2136_NAMESERVER="$DNS_UPDATE_SERVER:$DNS_UPDATE_PORT"
export RFC2136_TSIG_KEY="$DNS_UPDATE_KEY_NAME"
export RFC2136_TSIG_SECRET="$DNS_UPDATE_KEY_SECRET"
export RFC2136_TSIG_ALGORITHM="${DNS_UPDATE_KEY_ALGORITHM%.}."  # miekg/dns spells algorithms as FQDNs
export RFC2136_PROPAGATION_TIMEOUT=20 RFC2136_POLLING_INTERVAL=1 RFC2136_DNS_TIMEOUT=5
set -- --accept-tos --server "$ACME_DIRECTORY" --email "$EMAIL" --path "$WORK_DIR/lego" --domains "$DOMAIN" \
  --dns rfc2136 --dns.resolvers "$DNS_SERVER" --dns.disable-cp
case "$ACTION" in
  issue) exec lego "$@" run ;;
  renew) exec lego "$@" renew --days 400 --no-random-sleep ;;
  *) echo "usage: lego-rfc2136.sh issue|renew" >&2; exit 2 ;;
esac
