#!/usr/bin/env bash
# A client that leaves a FIFO at its cert_path must not hang the engine that
# reads the certificate back: the matrix cell ends (fail: no certificate)
# well within the cell's time limit, and so does run --client.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$out/fifo.json" <<'JSON'
{"name": "fifo", "role": "client", "publishes": "hook", "challenges": ["http-01"], "cert_path": "${WORK_DIR}/cert.pem",
 "actions": {"issue": {"command": ["sh", "-c", "mkfifo \"$WORK_DIR/cert.pem\"; exit 0"]}}}
JSON
rc=0
timeout 60 "$bin" matrix --clients "$out/fifo.json" --servers reference --kinds issue --timeout 20 --out "$out/m" >"$out/stdout" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out/stdout"; fail "matrix exited $rc (124: it hung on the FIFO)"; }
grep -q "http-01: fail .*wrote no certificate" "$out/stdout" || { cat "$out/stdout"; fail "the cell does not say the client wrote no certificate"; }
# The failed cell keeps its run folder: remove this run's (named on the last line), nothing else.
kept=$(sed -n 's/.*whole logs are kept in \(\/tmp\/acme-harness-matrix-[A-Za-z0-9]*\)$/\1/p' "$out/stdout")
[ -n "$kept" ] && rm -rf "$kept"
echo "PASS: a FIFO at cert_path is not read"
