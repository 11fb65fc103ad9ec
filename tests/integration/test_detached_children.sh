#!/usr/bin/env bash
# A client action that leaves a detached process behind (`setsid sleep &`:
# out of its process group, re-parented when the shell exits) must not
# outlive the harness: not when the action ends by itself, not when the
# harness is stopped with SIGTERM or Ctrl-C mid-action.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
marker="120.$$4242" # a unique sleep argument, to find our sleeps with pgrep -f
cleanup() { pkill -KILL -f "sleep $marker" 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

client() { # $1 = file, $2 = shell script of the issue action
  python3 - "$1" "$2" <<'PY'
import json, sys
path, script = sys.argv[1:]
json.dump({"name": "detacher", "role": "client", "description": "leaves a detached sleep behind",
           "requires": [], "publishes": "hook", "challenges": ["http-01"],
           "actions": {"issue": {"command": ["sh", "-c", script], "timeout_ms": 60000}},
           "cert_path": "${WORK_DIR}/cert.pem", "claims": {}}, open(path, "w"))
PY
}

# The action's shell: the sleep detaches (its own session), and the action
# goes on ($1) only once it has, so the group kill cannot catch it first.
detach="setsid sleep $marker </dev/null >/dev/null 2>&1 & p=\$!
for i in \$(seq 100); do [ \"\$(cut -d' ' -f6 /proc/\$p/stat 2>/dev/null)\" = \"\$p\" ] && break; sleep 0.05; done"

left() { pgrep -f "sleep $marker" || true; }

# Gone within 3 s (the harness's sweep is synchronous; this only absorbs scheduling).
assert_gone() { # $1 = what happened
  for _ in $(seq 30); do [ -z "$(left)" ] && return 0; sleep 0.1; done
  fail "$1: detached 'sleep $marker' still running: $(left | tr '\n' ' ')"
}

# 1. The action detaches a sleep and exits.
client "$out/exits.json" "$detach
exit 1"
"$bin" run --client "$out/exits.json" --check CORE-C-001 --run-dir "$out/run1" >"$out/log1" 2>&1 || true
grep -q "detacher\|CORE-C-001" "$out/log1" || { cat "$out/log1"; fail "the run did not reach the client"; }
assert_gone "after the action ended"

# 2./3. The action is still running (it waits) when the harness is stopped.
client "$out/waits.json" "$detach
sleep 30"
for sig in TERM INT; do
  "$bin" run --client "$out/waits.json" --check CORE-C-001 --run-dir "$out/run-$sig" >"$out/log-$sig" 2>&1 &
  h=$!
  for _ in $(seq 200); do [ -n "$(left)" ] && break; sleep 0.1; done
  [ -n "$(left)" ] || { kill -KILL $h; cat "$out/log-$sig"; fail "SIG$sig: the action never started its sleep"; }
  kill -$sig $h
  [ $sig = INT ] && { sleep 0.5; kill -INT $h 2>/dev/null || true; } # Ctrl-C twice: stop at once
  for _ in $(seq 100); do kill -0 $h 2>/dev/null || break; sleep 0.1; done
  kill -0 $h 2>/dev/null && { kill -KILL $h; fail "SIG$sig: the harness did not end within 10 s"; }
  wait $h || true
  assert_gone "after SIG$sig"
done
echo "ok: detached descendants of a client action end with the action and with the harness"
