#!/usr/bin/env bash
# `acme-harness load`, the load generator behind ci/bench:
# 1. against a real `serve`: every order completes, the JSON carries the
#    server's and the client's CPU per order (--server-pid) and --progress
#    prints whole lines at the right counts;
# 2. bad input ends in one valid JSON object and exit status 1, never a hang
#    or an empty line: a server that refuses connections, a URL that is not
#    UTF-8, and a thread limit that lets only some flows start;
# 3. a taken mock DNS port ends in status 1 with the reason, a thread id
#    given as --server-pid in status 2.
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print("null" if v is None else v)' "$1" "$2"; }

dns=$(port)
mkdir "$out/srv"
"$bin" serve --no-mocks --port 0 --dns-port "$dns" --http01-port "$(port)" --tlsalpn01-port "$(port)" --run-dir "$out/srv" \
  --quiet >"$out/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -qs "^directory:" "$out/serve.log" && break; sleep 0.05; done
dir=$(sed -n 's/^directory: //p' "$out/serve.log"); ca=$(sed -n 's/^trust (TLS CA file): //p' "$out/serve.log")
[ -n "$dir" ] || { cat "$out/serve.log"; fail "serve printed no directory"; }

json=$(timeout 120 "$bin" load --server-url "$dir" --ca "$ca" --dns-port "$dns" --flows 4 --orders 40 --nonces 200 \
  --progress 10 --server-pid "$pid" 2>"$out/progress") || fail "load against serve exited non-zero: $json"
[ "$(field "$json" orders)" = 40 ] || fail "orders done: $json"
[ "$(field "$json" orders_failed)" = 0 ] || fail "orders failed: $json"
for k in server_cpu_ms_per_order client_cpu_ms_per_order; do
  python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; sys.exit(0 if isinstance(v, float) and v > 0 else 1)' \
    "$json" "$k" || fail "$k is not a positive number: $json"
done
[ "$(cat "$out/progress")" = "$(printf 'progress: %d orders\n' 10 20 30 40)" ] || fail "progress lines: $(cat "$out/progress")"

check_bad() { # $1 = what, then the load arguments; expects exit 1 and one JSON object
  local what=$1 rc=0; shift
  json=$(timeout 60 "$bin" load "$@" 2>"$out/err") || rc=$?
  [ "$rc" = 1 ] || fail "$what: exit status $rc (want 1); stdout: $json"
  python3 -c 'import json,sys; json.loads(sys.argv[1])' "$json" || fail "$what: not one JSON object: '$json'"
}
check_bad "refused connections" --server-url https://127.0.0.1:1/dir --orders 2 --nonces 2 --flows 8
[ "$(field "$json" orders_not_run)" = 2 ] || fail "refused connections: orders_not_run should be 2: $json"
check_bad "non-UTF-8 URL" --server-url $'https://127.0.0.1:1/\xff\xfe' --orders 1 --nonces 1
[ "$(field "$json" server)" = "https://127.0.0.1:1/??" ] || fail "non-UTF-8 URL reported as $(field "$json" server)"
# 400 MB of address space: glibc cannot map 64 thread stacks, so some flows never start.
(ulimit -v 400000; check_bad "thread limit" --server-url https://127.0.0.1:1/dir --orders 20 --nonces 10 --flows 64 --max-seconds 5) \
  || exit 1
grep -q "flows could start" "$out/err" || fail "thread limit: no word of the flows that did not start: $(cat "$out/err")"

# The mock DNS port is taken: the run cannot start, status 1 and the reason.
python3 -c 'import socket,sys,time; u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",0)); t=socket.socket(); t.bind(("127.0.0.1",u.getsockname()[1])); t.listen(); print(u.getsockname()[1],flush=True); time.sleep(30)' >"$out/taken" &
holder=$!
for _ in $(seq 100); do [ -s "$out/taken" ] && break; sleep 0.05; done
rc=0; json=$(timeout 30 "$bin" load --server-url "$dir" --ca "$ca" --dns-port "$(cat "$out/taken")" --orders 1 2>"$out/err") || rc=$?
kill "$holder" 2>/dev/null || true
[ "$rc" = 1 ] && grep -q "mock DNS" "$out/err" || fail "DNS port taken: status $rc, stderr: $(cat "$out/err")"
case "$(field "$json" first_error)" in "mock DNS: "*) ;; *) fail "DNS port taken: the JSON does not say why: $json" ;; esac
# --server-pid must name a process: a thread's /proc entry counts that thread's CPU alone.
tid=$(ls "/proc/$pid/task" | grep -vx "$pid" | head -1)
if [ -n "$tid" ]; then
  rc=0; "$bin" load --server-url "$dir" --server-pid "$tid" >/dev/null 2>"$out/err" || rc=$?
  [ "$rc" = 2 ] && grep -q "is a thread of process $pid" "$out/err" || fail "thread id as --server-pid: status $rc, $(cat "$out/err")"
fi
# A stray argument (say "--orders 10 400") is a usage error, not ignored.
rc=0; "$bin" load --server-url "$dir" --orders 1 400 >/dev/null 2>"$out/err" || rc=$?
[ "$rc" = 2 ] && grep -q "unexpected argument '400'" "$out/err" || fail "stray argument: status $rc, $(cat "$out/err")"
echo "ok: load against serve, progress, CPU figures; refused, non-UTF-8 and thread-limited runs end in JSON and status 1; taken DNS port, thread id"
