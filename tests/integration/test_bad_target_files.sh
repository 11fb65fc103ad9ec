#!/usr/bin/env bash
# A malformed target file is an environment error (exit 2) naming the file
# and the field, not a run where every check skips ("(null) has no issue
# action") and the harness exits 0.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

refused() { # $1 = option, $2 = check, $3 = file content, $4 = what stderr must name
  printf '%s\n' "$3" >"$out/bad.json"
  rc=0; timeout 60 "$bin" run "$1" "$out/bad.json" --check "$2" --run-dir "$out/run" >"$out/stdout" 2>"$out/stderr" || rc=$?
  rm -rf "$out/run"
  [ "$rc" = 2 ] || fail "$1 $3: exit $rc, want 2; stdout: $(tail -3 "$out/stdout") stderr: $(cat "$out/stderr")"
  grep -qF "$out/bad.json" "$out/stderr" || fail "$1 $3: the file is not named: $(cat "$out/stderr")"
  grep -qF "$4" "$out/stderr" || fail "$1 $3: '$4' is not named: $(cat "$out/stderr")"
}

C='"name": "bad", "role": "client", "publishes": "hook", "cert_path": "${WORK_DIR}/cert.pem"'
refused --client CORE-C-001 '[]' "must be a JSON object"
refused --client CORE-C-001 '{}' "name: is required"
refused --client CORE-C-001 '{"name": "bad", "role": "client"}' "actions: is required"
refused --client CORE-C-001 "{$C, \"actions\": []}" "actions: must be an object"
refused --client CORE-C-001 "{$C, \"actions\": {}}" "actions: has no action"
refused --client CORE-C-001 "{$C, \"actions\": {\"issue\": \"true\"}}" "actions.issue: must be an object"
refused --client CORE-C-001 "{$C, \"actions\": {\"issue\": {\"command\": \"true\"}}}" "actions.issue.command: must be"
refused --client CORE-C-001 "{$C, \"actions\": {\"issue\": {\"command\": [\"true\", 1]}}}" "actions.issue.command: must be"
refused --client CORE-C-001 "{$C, \"actions\": {\"issue\": {\"command\": [\"true\"], \"timeout_ms\": \"60\"}}}" "actions.issue.timeout_ms"
refused --client CORE-C-001 "{$C, \"actions\": {\"issue\": {\"command\": [\"true\"], \"env\": {\"A\": 1}}}}" "actions.issue.env"
refused --client CORE-C-001 "{$C, \"requires\": \"lego\", \"actions\": {\"issue\": {\"command\": [\"true\"]}}}" "requires: must be"
refused --client CORE-C-001 '{"name": 7, "role": "client"}' "name: must be"
refused --server CORE-S-001 '{"name": "bad", "role": "server", "command": "pebble", "directory": "https://x/dir"}' "command: must be"
refused --server CORE-S-001 '{"name": "bad", "role": "server", "command": ["pebble"]}' "directory: is required"
refused --server CORE-S-001 '{"name": "bad", "role": "server", "command": ["p"], "directory": "d", "version": "p --version"}' "version: must be"
refused --server CORE-S-001 '{"name": "bad", "role": "server", "command": ["p"], "directory": "d", "ready": {"timeout_ms": -1}}' "ready.timeout_ms"
refused --nameserver DNSUP-S-001 '{"name": "bad", "role": "nameserver", "command": ["named"]}' "nameserver: is required"
refused --nameserver DNSUP-S-001 '{"name": "bad", "role": "nameserver", "mock_dns": {}, "secrets": {"a": "32"}}' "secrets: must be"
refused --client CORE-C-001 "{$C, \"challenges\": [\"bogus-01\"], \"actions\": {\"issue\": {\"command\": [\"true\"]}}}" "challenges[0]"
refused --client CORE-C-001 "{$C, \"challenges\": [], \"actions\": {\"issue\": {\"command\": [\"true\"]}}}" "challenges: names no"
refused --server CORE-S-001 '{"name": "bad", "role": "server", "command": ["p"], "directory": "d", "files": {"../escaped.txt": "x"}}' "plain file name"
# A target's expectations file that is a path, missing, or not an object: exit 2, not "nothing expected".
for e in '../../etc/passwd' 'no-such.expect.json' 'README.md'; do
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["expectations"]=sys.argv[2]; json.dump(d, open(sys.argv[3],"w"))' \
    "${ACMEH_SOURCE_DIR:?}/targets/reference.json" "$e" "$out/ref.json"
  rc=0; timeout 60 "$bin" run --server "$out/ref.json" --check CORE-S-001 --run-dir "$out/run" >"$out/stdout" 2>"$out/stderr" || rc=$?
  rm -rf "$out/run"
  [ "$rc" = 2 ] && grep -q "expectations" "$out/stderr" || fail "expectations '$e': exit $rc: $(cat "$out/stderr")"
done
# Malformed entries of an --expect file: exit 2 naming the file and the entry.
for e in '{"CORE-S-001": 5}' '{"CORE-S-001": ""}' '{"CORE-S-001": {"revisions": ["x"]}}' \
         '{"CORE-S-001": {"reason": "r", "revisions": []}}' '{"CORE-S-001": {"reason": "r", "revisions": "rfc8555"}}' \
         '{"CORE-S-001": {"reason": "r", "mesage": "x*"}}'; do
  printf '%s\n' "$e" >"$out/bad.expect.json"
  rc=0; timeout 60 "$bin" run --server reference --check CORE-S-001 --expect "$out/bad.expect.json" --run-dir "$out/run" \
    >"$out/stdout" 2>"$out/stderr" || rc=$?
  rm -rf "$out/run"
  [ "$rc" = 2 ] && grep -qF "$out/bad.expect.json: CORE-S-001" "$out/stderr" || fail "--expect '$e': exit $rc: $(cat "$out/stderr")"
done
echo "ok: malformed client, server and nameserver target files and expectation entries are refused with exit 2, naming the field"
