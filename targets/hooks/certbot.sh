#!/bin/sh
# certbot driver for an unpacked certbot: certbot.sh issue|renew|revoke.
# Runs ${CERTBOT_PREFIX}/usr/bin/certbot (a prefix ci/setup unpacked Debian
# packages into; certbot-5.5.json: /opt/acme-harness/certbot-5.5) with
# Debian 12's /usr/bin/python3 and PYTHONPATH naming the prefix's
# dist-packages, which then come before the system's (certbot 2.1.0 and its
# older cryptography stay installed and unused). -s: no user site-packages.
# PYTHONDONTWRITEBYTECODE: the prefix is read-only here (ci/setup compiled it).
# --manual with certbot-hook.sh publishing through the mocks (no tls-alpn-01 in
# manual mode); config, work and log folders under $WORK_DIR. Trust:
# REQUESTS_CA_BUNDLE (set by the target file).
# ${PROFILE}, when the scenario sets one, goes to --preferred-profile: certbot
# requests it when the directory lists it, and otherwise orders without one
# (--required-profile would send it regardless).
# renew runs `certbot renew` without --force-renewal: certbot decides from the
# server's RenewalInfo (RFC 9773) and else its own rule (renew_before_expiry,
# by default a third of the lifetime left).
set -eu
action=${1:-}
set --
prefix=${CERTBOT_PREFIX:?certbot.sh: CERTBOT_PREFIX not set}
export PYTHONPATH="$prefix/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1
hook=$(dirname "$0")/certbot-hook.sh
certbot_do() {
  exec /usr/bin/python3 -s "$prefix/usr/bin/certbot" "$@" --non-interactive \
    --config-dir "$WORK_DIR/config" --work-dir "$WORK_DIR/work" --logs-dir "$WORK_DIR/logs"
}
case "${CHALLENGE:-http-01}" in
  http-01|dns-01) ;;
  *) echo "certbot.sh: challenge $CHALLENGE not supported in manual mode" >&2; exit 127 ;;
esac
case "$action" in
  issue)
    # The CA's External Account Binding (RFC 8555 §7.3.4), when the scenario gives one.
    if [ -n "${EAB_KID:-}" ]; then set -- --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_HMAC_KEY"; fi
    if [ -n "${PROFILE:-}" ]; then set -- "$@" --preferred-profile "$PROFILE"; fi
    # The hook commands go unquoted: certbot looks their first word up as
    # written (targets/README.md, known limits).
    certbot_do certonly --agree-tos -m "$EMAIL" --server "$ACME_DIRECTORY" \
      --manual --preferred-challenges "${CHALLENGE:-http-01}" \
      --manual-auth-hook "$hook add" --manual-cleanup-hook "$hook del" \
      --cert-name "$DOMAIN" -d "${DOMAINS:-$DOMAIN}" "$@" ;;
  renew) certbot_do renew --no-random-sleep-on-renew --cert-name "$DOMAIN" ;;
  revoke)
    certbot_do revoke --no-delete-after-revoke --server "$ACME_DIRECTORY" \
      --cert-path "$WORK_DIR/config/live/$DOMAIN/cert.pem" ;;
  *) echo "usage: certbot.sh issue|renew|revoke" >&2; exit 2 ;;
esac
