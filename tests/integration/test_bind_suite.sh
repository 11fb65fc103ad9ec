#!/usr/bin/env bash
# DNSUP-S against a real BIND 9 the harness starts itself (harness/targets/bind.json):
# every check passes or is one of BIND's recorded deviations (bind.expect.json,
# xfail), the run exits 0, the reports are well-formed, and named is gone after.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! command -v named >/dev/null; then echo "SKIP: named (bind9) is not installed; run ci/setup"; exit 0; fi

set +e
"$bin" run --nameserver bind --suite dnsupdate --jobs 4 --junit "$out/junit.xml" --json "$out/results.json" \
  --transcripts "$out/tr" --run-dir "$out/run" >"$out/stdout" 2>"$out/stderr"
status=$?
set -e
cat "$out/stdout"
[ "$status" -eq 0 ] || { cat "$out/stderr" "$out/run/target.log" 2>/dev/null | tail -40; fail "run against bind exited $status"; }
grep -q "^dnsupdate nameserver: .* 0 failed, .* 0 errors, .* 0 xpass" "$out/stdout" || fail "summary line shows failures"
xmllint --noout --schema "$ACMEH_SOURCE_DIR/tests/data/junit.xsd" "$out/junit.xml" || fail "junit.xml does not validate"
python3 - "$out/results.json" "$ACMEH_SOURCE_DIR/harness/targets/bind.expect.json" <<'PY' || fail "verdicts differ from bind.expect.json"
import json, sys
res = {r["id"]: r["verdict"] for r in json.load(open(sys.argv[1]))["results"]}
exp = json.load(open(sys.argv[2]))
assert len(res) == 22, len(res)
bad = [(i, v) for i, v in res.items() if v != ("xfail" if i in exp else "pass")]
assert not bad, bad
PY
sleep 0.2
# Only this run's named: other runs may be going on at the same time.
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of this run outlived it"; fi
echo "PASS: dnsupdate suite against BIND"
