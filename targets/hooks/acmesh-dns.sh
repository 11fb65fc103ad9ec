#!/usr/bin/env sh
# acme.sh DNS API "dns_acmeh" (acmesh.sh copies this file to
# $WORK_DIR/acme.sh/dnsapi/dns_acmeh.sh, where `--dns dns_acmeh` finds it).
# acme.sh sources it and calls dns_acmeh_add|dns_acmeh_rm FULLDOMAIN TXTVALUE,
# FULLDOMAIN being _acme-challenge.<name>: the record goes to the mock DNS
# through `acme-harness hook dns-01`, which takes the name without that label.
dns_acmeh_add() {
  "$ACMEH_BIN" hook dns-01 add "${1#_acme-challenge.}" "$2"
}
dns_acmeh_rm() {
  "$ACMEH_BIN" hook dns-01 del "${1#_acme-challenge.}"
}
