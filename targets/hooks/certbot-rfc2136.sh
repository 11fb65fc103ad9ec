#!/bin/sh
# Certbot with its dns-rfc2136 plugin (Debian python3-certbot-dns-rfc2136):
# certbot-rfc2136.sh issue|renew. Writes the plugin's credentials file from the
# harness's DNS_UPDATE_* variables (a dns_update scenario) into ${WORK_DIR}.
set -eu
[ -n "${DNS_UPDATE_KEY_NAME:-}" ] || { echo "certbot-rfc2136.sh: needs a dns_update scenario (DNS_UPDATE_*)" >&2; exit 127; }
ini="$WORK_DIR/rfc2136.ini"
umask 077
cat >"$ini" <<INI
dns_rfc2136_server = $DNS_UPDATE_SERVER
dns_rfc2136_port = $DNS_UPDATE_PORT
dns_rfc2136_name = $DNS_UPDATE_KEY_NAME
dns_rfc2136_secret = $DNS_UPDATE_KEY_SECRET
dns_rfc2136_algorithm = $(echo "${DNS_UPDATE_KEY_ALGORITHM%.}" | tr a-z A-Z)
INI
dirs="--config-dir $WORK_DIR/config --work-dir $WORK_DIR/work --logs-dir $WORK_DIR/logs"
case "${1:-}" in
  issue) exec certbot certonly --non-interactive --agree-tos -m "$EMAIL" --server "$ACME_DIRECTORY" $dirs \
           --authenticator dns-rfc2136 --dns-rfc2136-credentials "$ini" --dns-rfc2136-propagation-seconds 1 \
           --cert-name "$DOMAIN" -d "$DOMAIN" ;;
  renew) exec certbot renew --non-interactive --force-renewal --no-random-sleep-on-renew $dirs --cert-name "$DOMAIN" ;;
  *) echo "usage: certbot-rfc2136.sh issue|renew" >&2; exit 2 ;;
esac
