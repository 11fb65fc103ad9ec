#!/usr/bin/env bash
# The ARI and profiles suites against both real Pebbles:
# - pebble (Debian 12, 2.4) offers neither: every check skips with the reason
#   "server does not advertise renewalInfo" / "... meta.profiles"; none passes.
# - pebble-2.6 (Debian 13's, unpacked by ci/setup into /opt/acme-harness) offers
#   ARI but no profiles: the ARI checks give real verdicts (its deviations are in
#   pebble-2.6.expect.json, so the run exits 0 with xfails), profiles skip.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x /opt/acme-harness/pebble-2.6/usr/bin/pebble ] || fail "pebble 2.6 is not unpacked (run ci/setup)"

# run and verdicts
. "$(dirname "$0")/server_runs.sh"

run pebble pebble-ari --suite ari
verdicts "$out/pebble-ari.json" 'r["verdict"] == "skip" and "server does not advertise renewalInfo" in r["message"]' \
  "pebble 2.4: an ARI check did not skip for the missing renewalInfo"
run pebble pebble-profiles --suite profiles
verdicts "$out/pebble-profiles.json" 'r["verdict"] == "skip" and "server does not advertise meta.profiles" in r["message"]' \
  "pebble 2.4: a profiles check did not skip for the missing meta.profiles"
run pebble-2.6 pebble-2.6-ari --suite ari
# Honest skips: Pebble sends no explanationURL, and its serials are 63-bit
# (never a top bit set, so no certID with DER's leading 00 to try).
verdicts "$out/pebble-2.6-ari.json" 'r["verdict"] in ("pass", "xfail") or (r["verdict"], r["id"]) in (("skip", "ARI-S-006"), ("skip", "ARI-S-007"))' \
  "pebble 2.6: an ARI check gave neither pass nor an expected failure"
grep -q "^ari server: .* 0 failed, .* 0 errors, .* 0 xpass" "$out/pebble-2.6-ari.stdout" || fail "pebble 2.6 ari summary shows failures"
run pebble-2.6 pebble-2.6-profiles --suite profiles
verdicts "$out/pebble-2.6-profiles.json" 'r["verdict"] == "skip" and "server does not advertise meta.profiles" in r["message"]' \
  "pebble 2.6: a profiles check did not skip (Pebble 2.6 has no profiles)"
sleep 0.2
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of these runs outlived them"; fi
echo "PASS: ARI and profiles suites against pebble 2.4 (skips) and pebble 2.6"
