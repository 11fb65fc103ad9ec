#!/bin/sh
# uacme driver: uacme.sh issue|renew|revoke, state in $WORK_DIR/uacme.
# uacme 1.7 has no option or variable for a CA file: its libcurl (GnuTLS)
# trusts only the compiled-in /etc/ssl/certs. So it runs in a private mount
# namespace (unshare, needs root or unprivileged user namespaces) where a
# folder holding only $ACME_CA_BUNDLE is bind-mounted over /etc/ssl/certs;
# the machine's own /etc/ssl/certs is untouched.
set -eu
if [ "${UACME_IN_NS:-}" != 1 ]; then
  mkdir -p "$WORK_DIR/trust"
  cp "$ACME_CA_BUNDLE" "$WORK_DIR/trust/ca-certificates.crt"
  UACME_IN_NS=1 exec unshare --mount --map-root-user sh "$0" "$@"
fi
mount --bind "$WORK_DIR/trust" /etc/ssl/certs
conf=$WORK_DIR/uacme
hook=$(dirname "$0")/uacme-hook.sh
case "${1:-}" in
  issue)
    # The CA's External Account Binding (RFC 8555 §7.3.4), when the scenario gives one.
    set --
    if [ -n "${EAB_KID:-}" ]; then set -- -e "$EAB_KID:$EAB_HMAC_KEY"; fi
    [ -f "$conf/private/key.pem" ] || uacme -v -y -c "$conf" -a "$ACME_DIRECTORY" "$@" new "$EMAIL"
    # Every name of ${DOMAINS} (comma-separated, $DOMAIN first): uacme takes the
    # first as the certificate's identifier, the others as alternative names.
    exec uacme -v -c "$conf" -a "$ACME_DIRECTORY" -h "$hook" issue $(printf %s "${DOMAINS:-$DOMAIN}" | tr , ' ') ;;
  renew) exec uacme -v -f -o -c "$conf" -a "$ACME_DIRECTORY" -h "$hook" issue "$DOMAIN" ;;
  revoke) exec uacme -v -c "$conf" -a "$ACME_DIRECTORY" revoke "$conf/$DOMAIN/cert.pem" ;;
  *) echo "usage: uacme.sh issue|renew|revoke" >&2; exit 2 ;;
esac
