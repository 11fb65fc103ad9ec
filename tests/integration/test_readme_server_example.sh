#!/usr/bin/env bash
# README.md's "Testing your own server" example, run exactly as written (the
# sh block after the marker comment naming this test), from the source tree
# with this build's binary: it must exit 0 against Pebble, leave junit.xml and
# results.json in the temporary folder it prints, and stop its Pebble.
set -euo pipefail
src=${ACMEH_SOURCE_DIR:?} bin=${ACMEH_BIN:?}
command -v pebble >/dev/null || { echo "SKIP: pebble not installed (run ci/setup)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# The block uses fixed ports, as a user's CI would: wait (at most 60 s) until
# no other process holds them, so that the block's own Pebble can bind them.
ports_free() {
  python3 - <<'PY'
import socket, sys
for p in (14000, 15000, 5001, 5002, 8053):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
}
for _ in $(seq 60); do ports_free && break; sleep 1; done
ports_free || fail "ports 14000, 15000, 5001, 5002 or 8053 stay in use by another process"
# The block, verbatim.
awk '/test_readme_server_example.sh runs this block/ {f=1; next} f && /^```sh$/ {g=1; next} g && /^```$/ {exit} g' \
  "$src/README.md" >"$tmp/block.sh"
[ -s "$tmp/block.sh" ] || fail "no example block found in README.md"
# The block uses build/acme-harness under the current folder: a tree whose
# build/ is this build, with the source's targets.
mkdir -p "$tmp/tree/build"
ln -s "$bin" "$tmp/tree/build/acme-harness"
ln -s "$src/targets" "$tmp/tree/targets"
out=$(cd "$tmp/tree" && bash "$tmp/block.sh" 2>&1) || fail "the block failed: $out"
echo "$out" | tail -5
work=$(sed -n 's/^exit status \([0-9]*\); reports in \(.*\)$/\2/p' <<<"$out")
status=$(sed -n 's/^exit status \([0-9]*\); reports in .*$/\1/p' <<<"$out")
[ "$status" = 0 ] || fail "the harness exited $status"
[ -n "$work" ] && [ -s "$work/junit.xml" ] && [ -s "$work/results.json" ] || fail "no reports in '$work'"
rm -rf "$work"
sleep 0.2
if pgrep -f "pebble -config pebble.json -dnsserver 127.0.0.1:8053" >/dev/null; then fail "the example's Pebble outlived it"; fi
echo "PASS: README's own-server example"
