#!/usr/bin/env bash
# The whole core server suite against the harness's own reference server
# (`run --server reference` starts `acme-harness serve --no-mocks` as a child):
# exit 0, no failure, no error, no xfail/xpass (no expectations file is
# needed), valid JUnit, and no serve process left behind. Skips are allowed
# only for features the server honestly lacks; they are listed.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

set +e
"$bin" run --server reference --jobs 4 --junit "$out/junit.xml" --json "$out/results.json" \
  --transcripts "$out/tr" --run-dir "$out/run" >"$out/stdout" 2>"$out/stderr"
status=$?
set -e
cat "$out/stdout"
[ "$status" -eq 0 ] || { cat "$out/stderr"; fail "run against the reference server exited $status"; }
grep -q "^core server: .* 0 failed, .* 0 errors, 0 xfail, 0 xpass" "$out/stdout" \
  || fail "summary line shows failures, errors or expected failures"
# The ARI, profiles, dns-persist-01 and pk suites too (the reference offers
# them): every check passes but the honest skips (no explanationURL sent,
# operator practice).
for suite in ari profiles dnspersist pk; do
  grep -q "^$suite server: .* 0 failed, .* 0 errors, 0 xfail, 0 xpass" "$out/stdout" \
    || fail "$suite summary line missing or shows failures, errors or expected failures"
done
grep -q " 0 skipped" "$out/stdout" || grep -i "skip" "$out/stdout" >&2 || true
[ -s "$out/junit.xml" ] || fail "no junit.xml"
xmllint --noout --schema "$ACMEH_SOURCE_DIR/tests/data/junit.xsd" "$out/junit.xml" || fail "junit.xml does not validate"
sleep 0.2
# Only this run's serve (its --run-dir): other tests start serve processes at the same time.
if pgrep -f "serve --no-mocks.*--run-dir $out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a serve process outlived the run"; fi
# --suite takes a comma-separated list; an unknown name is a usage error that names it.
set +e
"$bin" run --server reference --suite ari,nosuch >"$out/unknown.out" 2>&1
status=$?
set -e
[ "$status" -eq 2 ] || fail "--suite ari,nosuch exited $status, not 2"
grep -q "no suite 'nosuch'" "$out/unknown.out" || fail "--suite ari,nosuch: message does not name the unknown suite"
echo "PASS: core suite against the reference server"
