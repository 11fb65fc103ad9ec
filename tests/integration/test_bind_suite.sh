#!/usr/bin/env bash
# DNSUP-S against a real BIND 9 the harness starts itself (targets/bind.json)
# and against the harness's own mock DNS (mock-dns.json): every check passes or
# is one of the target's recorded deviations (<target>.expect.json, xfail), the
# run exits 0, the reports are well-formed, and named is gone afterwards.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

suite() {
  local t=$1 o=$out/$1
  mkdir -p "$o"
  set +e
  "$bin" run --nameserver "$t" --suite dnsupdate --jobs 4 --junit "$o/junit.xml" --json "$o/results.json" \
    --transcripts "$o/tr" --run-dir "$o/run" >"$o/stdout" 2>"$o/stderr"
  local status=$?
  set -e
  cat "$o/stdout"
  [ "$status" -eq 0 ] || { cat "$o/stderr" "$o/run/target.log" 2>/dev/null | tail -40; fail "run against $t exited $status"; }
  grep -q "^dnsupdate nameserver: .* 0 failed, .* 0 errors, .* 0 xpass" "$o/stdout" || fail "$t: summary line shows failures"
  xmllint --noout --schema "$ACMEH_SOURCE_DIR/tests/data/junit.xsd" "$o/junit.xml" || fail "$t: junit.xml does not validate"
  python3 - "$o/results.json" "$ACMEH_SOURCE_DIR/targets/$t.expect.json" <<'PY' || fail "$t: verdicts differ from $t.expect.json"
import json, sys
res = {r["id"]: r["verdict"] for r in json.load(open(sys.argv[1]))["results"]}
exp = json.load(open(sys.argv[2]))
assert len(res) == 22, len(res)
bad = [(i, v) for i, v in res.items() if v != ("xfail" if i in exp else "pass")]
assert not bad, bad
PY
  echo "PASS: dnsupdate suite against $t"
}

suite mock-dns
if ! command -v named >/dev/null; then echo "SKIP: named (bind9) is not installed; run ci/setup"; exit 0; fi
suite bind
sleep 0.2
# Only this run's named: other runs may be going on at the same time.
if pgrep -f "$out/bind/run" >/dev/null; then pgrep -af "$out/bind/run" >&2; fail "a process of this run outlived it"; fi
