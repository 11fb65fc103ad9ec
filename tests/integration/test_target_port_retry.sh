#!/usr/bin/env bash
# A server target that dies because one of the ports the harness picked for
# it was taken meanwhile ("address already in use") is started again with
# fresh ports: the run goes on. One that dies of anything else is not retried.
# The targets are the reference server behind a wrapper that fails first.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

target() { # $1 = file, $2 = the message of the first, failing start
  python3 - "$1" "$2" "$out/started" <<'PY'
import json, sys
path, message, mark = sys.argv[1:]
serve = ["${ACMEH_BIN}", "serve", "--no-mocks", "--port", "${PORT_acme}", "--dns-port", "${DNS_PORT}",
         "--http01-port", "${HTTP01_PORT}", "--tlsalpn01-port", "${TLSALPN01_PORT}", "--run-dir", "${RUN_DIR}/srv",
         "--tls-cert", "${SERVER_CERT}", "--tls-key", "${SERVER_KEY}", "--tls-ca", "${CA_CERT}", "--quiet"]
script = 'echo start >> %s; if [ "$(wc -l < %s)" = 1 ]; then echo "%s" >&2; exit 1; fi; exec "$@"' % (mark, mark, message)
doc = {"name": "flaky-ports", "role": "server", "ports": ["acme"], "make_server_cert": True,
       "command": ["sh", "-c", script, "sh"] + serve,
       "directory": "https://127.0.0.1:${PORT_acme}/dir", "ca_file": "${CA_CERT}", "ready": {"timeout_ms": 15000},
       "claims": {"challenges": ["http-01"]}}
json.dump(doc, open(path, "w"))
PY
}

target "$out/taken.json" "listen tcp 127.0.0.1:1: bind: address already in use"
rc=0; "$bin" run --server "$out/taken.json" --check CORE-S-001 >"$out/log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$out/log"; fail "a port taken at the first start should be retried (status $rc)"; }
[ "$(wc -l <"$out/started")" = 2 ] || fail "expected 2 starts, got $(wc -l <"$out/started")"

rm -f "$out/started"
target "$out/broken.json" "some other startup error"
rc=0; "$bin" run --server "$out/broken.json" --check CORE-S-001 --run-dir "$out/run" >"$out/log" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$out/log"; fail "another startup error must end the run (status $rc, want 2)"; }
grep -q "some other startup error" "$out/log" || fail "the error does not quote the target's log: $(cat "$out/log")"
[ "$(wc -l <"$out/started")" = 1 ] || fail "another startup error was retried"
echo "ok: a target that lost a port is started again; other start failures are not"
