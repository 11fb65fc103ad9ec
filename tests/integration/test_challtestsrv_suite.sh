#!/usr/bin/env bash
# issue 13: the core server suite against Debian 12's Pebble, once with the
# harness's own mocks and once with Pebble 2.10's pebble-challtestsrv in their
# place (`run --mocks challtestsrv`): Pebble resolves through challtestsrv's
# DNS and validates against its http-01 and tls-alpn-01 ports, the reference
# client publishes through its management API. Both runs exit 0 and give the
# same verdict for every check but the two explained differences:
#   CORE-S-062 skips: challtestsrv's request history records no HTTP method,
#              so "a GET of the challenge path" cannot be told from any request;
#   CORE-S-105 skips: challtestsrv cannot answer tls-alpn-01 for an ip
#              identifier (its certificate names the SNI, the reverse name, as
#              a dNSName; RFC 8738 §6 wants the address as an iPAddress).
# The same with Debian 12's pebble-challtestsrv 2.4 (challtestsrv-deb.json).
# dnsaccount against Pebble 2.10 gives the same verdicts both ways.
# Skipped (exit 77) when challtestsrv is not unpacked (ci/setup).
set -euo pipefail
bin=${ACMEH_BIN:?}
cts=/opt/acme-harness/pebble-2.10/usr/bin/pebble-challtestsrv
if [ ! -x "$cts" ]; then echo "SKIP: $cts is not unpacked (run ci/setup)"; exit 77; fi
command -v pebble >/dev/null || { echo "SKIP: Debian's pebble is not installed (run ci/setup)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/server_runs.sh"

run pebble own --suite core
# compare NAME: $out/NAME.json against $out/own.json, same verdicts but the two explained.
compare() {
  python3 - "$out/own.json" "$out/$1.json" <<'PY' || fail "$1: the verdicts differ beyond the two explained differences"
import json, sys
own = {r["id"]: r for r in json.load(open(sys.argv[1]))["results"]}
cts = {r["id"]: r for r in json.load(open(sys.argv[2]))["results"]}
explained = {"CORE-S-062": "record no HTTP method", "CORE-S-105": "cannot answer tls-alpn-01 for ip identifier"}
bad = []
if set(own) != set(cts):
    bad.append("different checks ran: %s" % sorted(set(own) ^ set(cts)))
for i in sorted(own):
    a, b = own[i]["verdict"], cts.get(i, {}).get("verdict")
    if i in explained:
        if a != "pass" or b != "skip" or explained[i] not in (cts[i].get("message") or ""):
            bad.append("%s: own mocks %s, challtestsrv %s (%s); expected pass / skip naming %r"
                       % (i, a, b, cts[i].get("message"), explained[i]))
    elif a != b:
        bad.append("%s: own mocks %s, challtestsrv %s: %s" % (i, a, b, cts[i].get("message")))
for b in bad:
    print("  " + b, file=sys.stderr)
print("%d checks, same verdicts but the %d explained" % (len(own), len(explained)))
sys.exit(1 if bad else 0)
PY
}
run pebble cts --suite core --mocks challtestsrv
grep -q '^mocks challtestsrv 2\.10' "$out/cts.stdout" || fail "the run did not say it used pebble-challtestsrv 2.10"
compare cts
# Debian 12's own pebble-challtestsrv (2.4), which serves a TXT record only
# when it was set under the FQDN with its final dot (the publisher adds it).
if command -v pebble-challtestsrv >/dev/null; then
  run pebble cts-deb --suite core --mocks challtestsrv-deb
  compare cts-deb
fi

# dns-account-01 (its wrong-place and CNAME checks publish through the run's
# publisher too) against Pebble 2.10: the same verdicts both ways.
run pebble-2.10 da-own --suite dnsaccount
run pebble-2.10 da-cts --suite dnsaccount --mocks challtestsrv
python3 - "$out/da-own.json" "$out/da-cts.json" <<'PY' || fail "dnsaccount verdicts differ between the mocks and challtestsrv"
import json, sys
own = {r["id"]: r["verdict"] for r in json.load(open(sys.argv[1]))["results"]}
cts = {r["id"]: (r["verdict"], r.get("message")) for r in json.load(open(sys.argv[2]))["results"]}
bad = ["%s: own mocks %s, challtestsrv %s (%s)" % (i, own[i], *cts.get(i, (None, None))) for i in sorted(own) if own[i] != cts.get(i, (None,))[0]]
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad or not own else 0)
PY
sleep 0.2
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of these runs outlived them"; fi
echo "PASS: core against pebble, dnsaccount against pebble 2.10, with the harness's mocks and with pebble-challtestsrv"
