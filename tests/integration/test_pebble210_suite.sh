#!/usr/bin/env bash
# Every server suite against Pebble 2.10 (Debian sid's, unpacked by ci/setup
# into /opt/acme-harness/pebble-2.10), which offers ARI, ACME profiles and
# dns-account-01: their checks give real verdicts (pass, or an expected failure
# from pebble-2.10.expect.json), never a skip for the feature being absent, and
# each run exits 0. The EAB checks CORE-S-108..112 pass against pebble-2.10-eab.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x /opt/acme-harness/pebble-2.10/usr/bin/pebble ] || fail "pebble 2.10 is not unpacked (run ci/setup)"

# run and verdicts
. "$(dirname "$0")/server_runs.sh"

run pebble-2.10 core --suite core
run pebble-2.10 ari --suite ari
# Honest skips: Pebble sends no explanationURL and its serials are 63-bit.
verdicts "$out/ari.json" 'r["verdict"] in ("pass", "xfail") or r["id"] in ("ARI-S-006", "ARI-S-007")' \
  "pebble 2.10: an ARI check gave neither pass nor an expected failure"
run pebble-2.10 profiles --suite profiles
# Honest skips: no profile refuses ip identifiers (Pebble has no such option),
# no operator interface to retire a profile, operator practice.
verdicts "$out/profiles.json" 'r["verdict"] in ("pass", "xfail") or r["id"] in ("PROF-S-003", "PROF-S-006", "PROF-S-007")' \
  "pebble 2.10: a profiles check gave neither pass nor an expected failure"
verdicts "$out/profiles.json" 'r["id"] != "PROF-S-008" or r["verdict"] == "pass"' \
  "pebble 2.10: PROF-S-008 (each profile's certificate validity) did not pass"
run pebble-2.10 dnsaccount --suite dnsaccount
verdicts "$out/dnsaccount.json" 'r["verdict"] in ("pass", "xfail")' \
  "pebble 2.10: a dns-account-01 check gave neither pass nor an expected failure"
# dns-persist-01: Pebble 2.10.0 implements the -00 wire format (challenge
# "issuer-domain-names", no "accounturi": github:letsencrypt/pebble v2.10.0
# acme/common.go; v2.10.1 added accounturi, #544); every check of that
# revision runs and passes.
run pebble-2.10 dnspersist --suite dnspersist --draft dnspersist=dns-persist-00
verdicts "$out/dnspersist.json" 'r["verdict"] in ("pass", "xfail")' \
  "pebble 2.10: a dns-persist-01 check gave neither pass nor an expected failure"
python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["results"]) < 12)' "$out/dnspersist.json" \
  || fail "pebble 2.10: fewer than 12 dns-persist-01 checks ran"
run pebble-2.10-eab eab --check 'CORE-S-10[89],CORE-S-11[012]'
verdicts "$out/eab.json" 'r["verdict"] == "pass"' "pebble 2.10 with EAB: an EAB check did not pass"
sleep 0.2
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of these runs outlived them"; fi
echo "PASS: core, ari, profiles, dnsaccount, dnspersist (-00) against pebble 2.10; EAB checks against pebble-2.10-eab"
