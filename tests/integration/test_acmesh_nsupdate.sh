#!/usr/bin/env bash
# issue 13: acme.sh 3.1 publishing dns-01 through its own RFC 2136 hook,
# dns_nsupdate (BIND's nsupdate -k with a key file hooks/acmesh.sh writes from
# the scenario's TSIG key), for the dnsupdate suite's client checks: the run
# exits 0, every DNSUP-C check passes or fails as acme.sh.expect.json says
# (DNSUP-C-006: it answers the challenge after a refused UPDATE, flushing the
# pending authorization; DNSUP-C-008: its delete names the whole TXT RRset),
# and the issuance itself went through UPDATEs (DNSUP-C-001 passes).
# Skipped (exit 77) when acme.sh is not unpacked or nsupdate not installed.
set -euo pipefail
bin=${ACMEH_BIN:?}
acmesh=/opt/acme-harness/acme.sh-3.1/usr/share/acme.sh/acme.sh
[ -x "$acmesh" ] || { echo "SKIP: $acmesh is not unpacked (run ci/setup)"; exit 77; }
command -v nsupdate >/dev/null || { echo "SKIP: nsupdate (bind9-dnsutils) is not installed (run ci/setup)"; exit 77; }
command -v socat >/dev/null || { echo "SKIP: socat is not installed (run ci/setup)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/server_runs.sh"

# acme.sh is a shell script: on a loaded machine one scenario takes a minute.
ACMEH_RUN_TIMEOUT=400 run_client acme.sh dnsupdate --suite dnsupdate --timeout 300
verdicts "$out/dnsupdate.json" 'r["verdict"] in ("pass", "xfail")' "acme.sh: a dnsupdate check gave neither pass nor an expected failure"
verdicts "$out/dnsupdate.json" 'r["id"] not in ("DNSUP-C-006", "DNSUP-C-008") or r["verdict"] == "xfail"' \
  "acme.sh: DNSUP-C-006 / DNSUP-C-008 are no longer the expected failures"
verdicts "$out/dnsupdate.json" 'r["id"] != "DNSUP-C-001" or r["verdict"] == "pass"' "acme.sh: DNSUP-C-001 did not pass"
grep -q 'dns_nsupdate\|nsupdate' "$out/run-dnsupdate"/dnsup-issue/client.log || fail "acme.sh's log does not show its nsupdate hook"
echo "PASS: acme.sh's dns_nsupdate against the dnsupdate suite"
