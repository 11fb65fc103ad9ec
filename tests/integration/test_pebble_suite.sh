#!/usr/bin/env bash
# The main job end to end: the core suite against a real Pebble the harness
# starts itself; reports written and well-formed; no child left behind.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

set +e
"$bin" run --server pebble --jobs 4 --junit "$out/junit.xml" --json "$out/results.json" \
  --transcripts "$out/tr" --run-dir "$out/run" >"$out/stdout" 2>"$out/stderr"
status=$?
set -e
cat "$out/stdout"
[ "$status" -eq 0 ] || { cat "$out/stderr"; fail "run against pebble exited $status"; }
grep -q "^core server: .* 0 failed, .* 0 errors, .* 0 xpass" "$out/stdout" || fail "summary line shows failures"
[ -s "$out/junit.xml" ] || fail "no junit.xml"
xmllint --noout --schema "$ACMEH_SOURCE_DIR/tests/data/junit.xsd" "$out/junit.xml" || fail "junit.xml does not validate"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["results"]) >= 45, len(d["results"])' "$out/results.json" \
  || fail "results.json has fewer than 45 results"
# The peer's version (its target's "version" command: the Debian package's) is in both reports,
# and an all-pass run's JUnit stays small (transcripts only of failures by default).
want=$(dpkg-query -W -f '${Version}' pebble)
grep -q "<property name=\"peer_version\" value=\"$want\"/>" "$out/junit.xml" || fail "junit.xml lacks peer_version $want"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["peer_version"] == sys.argv[2], d["peer_version"]' \
  "$out/results.json" "$want" || fail "results.json lacks peer_version $want"
size=$(stat -c %s "$out/junit.xml")
[ "$size" -lt 102400 ] || fail "junit.xml of a run without failures is $size bytes (want < 100 KB)"
sleep 0.2
# Only this run's Pebble: other runs may be going on at the same time.
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of this run outlived it"; fi
echo "PASS: core suite against pebble"
