#!/usr/bin/env bash
# Smoke test of the client targets (targets/<client>.json): each real
# client gets a certificate from the harness's reference server with every
# challenge its target file lists. A standalone client (lego) listens itself
# where the server validates http-01 / tls-alpn-01, so the server runs with
# --no-mocks beside pebble-challtestsrv for DNS; hook clients publish through
# the mocks of `acme-harness serve`. Prints "PASS|FAIL|SKIP client[challenge]
# seconds" per run and "N passed, M failed". A client is SKIP only when a
# program it needs is missing and its Debian package is not available here.
# Env: ACMEH_BIN, ACMEH_SOURCE_DIR (set by ctest); ACMEH_CLIENTS="lego certbot"
# to choose clients; ACMEH_CLIENT_ACTIONS="renew revoke" to also run those
# actions after a passing issue (each must exit 0).
set -uo pipefail
src=${ACMEH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${ACMEH_BIN:-$src/build/acme-harness}
targets=$src/targets
clients=${ACMEH_CLIENTS:-lego certbot uacme dehydrated node-acme-client}
tmp=$(mktemp -d /tmp/acmeh-real-clients-XXXXXX)
bg_pids=()

cleanup() {
  [ -n "${action_pid:-}" ] && kill -TERM "$action_pid" 2>/dev/null
  for f in "$tmp"/*/log/client.pgid; do [ -f "$f" ] && bg_pids+=("$(cat "$f")"); done
  for p in "${bg_pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  sleep 0.3
  for p in "${bg_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${keep_tmp:-0}" = 1 ]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs one action of a target file: expands ${NAME} in every string from the
# environment (the same names are exported to the command), runs the command
# in its own process group, kills the group after the target's timeout_ms.
cat >"$tmp/run_action.py" <<'PY'
import json, os, re, signal, subprocess, sys, time
doc = json.load(open(sys.argv[1]))
action = doc["actions"][sys.argv[2]]
expand = lambda s: re.sub(r"\$\{([A-Za-z0-9_]+)\}", lambda m: os.environ.get(m.group(1), m.group(0)), s)
argv = [expand(a) for a in action["command"]]
env = dict(os.environ)
env.update({k: expand(v) for k, v in action.get("env", {}).items()})
timeout = action.get("timeout_ms", 60000) / 1000.0
with open(os.path.join(os.environ["LOG_DIR"], "client.log"), "ab") as log:
    log.write(("$ " + " ".join(argv) + "\n").encode())
    log.flush()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    open(os.path.join(os.environ["LOG_DIR"], "client.pgid"), "w").write(str(p.pid))
    def stop(sig, frame):
        os.killpg(p.pid, signal.SIGKILL)
        sys.exit(130)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        rc = p.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        time.sleep(1)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        log.write(b"[smoke test] timed out after %.0f s\n" % timeout)
        rc = 124
sys.exit(rc)
PY

# In the background, so a signal to this script is handled at once (bash
# runs traps only between foreground commands).
action_pid=
run_action() {
  python3 "$tmp/run_action.py" "$@" &
  action_pid=$!
  wait "$action_pid"
  local rc=$?
  action_pid=
  return "$rc"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits (at most 15 s) until file $1 has a line matching $2.
wait_for_line() {
  for _ in $(seq 150); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# Applies sed script $2 to the announcement of serve (its stdout up to
# "serving ..."; the exchanges it prints after that are not parsed).
announced() { sed -n '1,/^serving/p' "$1" | sed -n "$2"; }

# Starts what the client needs; sets ACME_DIRECTORY, ACME_CA_BUNDLE,
# DNS_SERVER, ACMEH_MGMT, HTTP01_PORT, TLSALPN01_PORT. $1 = publishes mode.
start_servers() {
  local dir=$1 mode=$2 out
  out=$dir/serve.out
  if [ "$mode" = http-01-standalone ]; then
    local dns mgmt
    dns=$(free_port) mgmt=$(free_port) HTTP01_PORT=$(free_port) TLSALPN01_PORT=$(free_port)
    setsid pebble-challtestsrv -dns01 "127.0.0.1:$dns" -http01 "" -https01 "" -tlsalpn01 "" \
      -defaultIPv6 "" -management "127.0.0.1:$mgmt" >"$dir/challtestsrv.log" 2>&1 &
    bg_pids+=($!)
    setsid "$bin" serve --no-mocks --dns-port "$dns" --http01-port "$HTTP01_PORT" \
      --tlsalpn01-port "$TLSALPN01_PORT" --run-dir "$dir/serve" >"$out" 2>"$dir/serve.err" &
    bg_pids+=($!)
    DNS_SERVER=127.0.0.1:$dns ACMEH_MGMT=http://127.0.0.1:$mgmt
    wait_for_line "$out" '^serving' || return 1
    for _ in $(seq 50); do curl -s -o /dev/null "$ACMEH_MGMT/" && break; sleep 0.1; done
  else
    setsid "$bin" serve --run-dir "$dir/serve" >"$out" 2>"$dir/serve.err" &
    bg_pids+=($!)
    wait_for_line "$out" '^serving' || return 1
    DNS_SERVER=127.0.0.1:$(announced "$out" 's/.*DNS on 127\.0\.0\.1:\([0-9]*\).*/\1/p')
    HTTP01_PORT=$(announced "$out" 's/.*http-01 on :\([0-9]*\).*/\1/p')
    TLSALPN01_PORT=$(announced "$out" 's/.*tls-alpn-01 on :\([0-9]*\).*/\1/p')
    ACMEH_MGMT=http://127.0.0.1:$(announced "$out" 's/.*management API on :\([0-9]*\).*/\1/p')
  fi
  ACME_DIRECTORY=$(announced "$out" 's/^directory: //p')
  ACME_CA_BUNDLE=$(announced "$out" 's/^trust (TLS CA file): //p')
  [ -n "$ACME_DIRECTORY" ] && [ -f "$ACME_CA_BUNDLE" ]
}

stop_servers() {
  for p in "${bg_pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
  bg_pids=()
}

# Debian package holding a required program (for the SKIP decision).
package_of() {
  case $1 in node) echo nodejs ;; unshare) echo util-linux ;; *) echo "$1" ;; esac
}

# Empty when the client can run; otherwise "SKIP reason" or "FAIL reason".
missing_reason() {
  local client=$1 prog pkg
  for prog in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["requires"]))' "$targets/$client.json"); do
    command -v "$prog" >/dev/null && continue
    pkg=$(package_of "$prog")
    if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      echo "FAIL $prog missing but package $pkg is available: run ci/setup"
    else
      echo "SKIP $prog missing and no package $pkg here"
    fi
    return
  done
  if [ "$client" = node-acme-client ] && [ ! -d "$targets/node-acme-client/node_modules/acme-client" ]; then
    echo "FAIL node_modules missing: run ci/setup (npm ci in targets/node-acme-client)"
  elif [ "$client" = uacme ] && ! unshare --mount --map-root-user true 2>/dev/null; then
    echo "SKIP this machine forbids mount namespaces (uacme's CA trust needs one)"
  fi
}

passed=0 failed=0 skipped=0
for client in $clients; do
  target=$targets/$client.json
  reason=$(missing_reason "$client")
  if [ -n "$reason" ]; then
    verdict=${reason%% *}
    echo "$verdict $client 0.0 (${reason#* })"
    if [ "$verdict" = SKIP ]; then skipped=$((skipped + 1)); else failed=$((failed + 1)); fi
    continue
  fi
  mode=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publishes"])' "$target")
  for challenge in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["challenges"]))' "$target"); do
    dir=$tmp/$client-$challenge
    mkdir -p "$dir/work" "$dir/log"
    export WORK_DIR=$dir/work LOG_DIR=$dir/log CHALLENGE=$challenge ACMEH_BIN=$bin TARGET_DIR=$targets
    export DOMAIN=$client-${challenge%-01}.acmeh.example EMAIL=smoke@acmeh.example
    if ! start_servers "$dir" "$mode"; then
      echo "FAIL ${client}[$challenge] 0.0 (reference server did not start: $(tail -n 3 "$dir/serve.err" | tr '\n' ' '))"
      failed=$((failed + 1)) keep_tmp=1
      stop_servers
      continue
    fi
    export ACME_DIRECTORY ACME_CA_BUNDLE DNS_SERVER ACMEH_MGMT HTTP01_PORT TLSALPN01_PORT
    t0=$(date +%s.%N)
    run_action "$target" issue
    rc=$?
    secs=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)")
    cert=$(python3 -c 'import json,os,re,sys; print(re.sub(r"\$\{([A-Za-z0-9_]+)\}", lambda m: os.environ.get(m.group(1), ""), json.load(open(sys.argv[1]))["cert_path"]))' "$target")
    san=$(openssl x509 -noout -ext subjectAltName -in "$cert" 2>/dev/null)
    if [ "$rc" = 0 ] && grep -Eq "DNS:${DOMAIN//./\\.}(,|$)" <<<"$san"; then
      echo "PASS ${client}[$challenge] $secs"
      passed=$((passed + 1))
      for action in ${ACMEH_CLIENT_ACTIONS:-}; do
        t0=$(date +%s.%N)
        run_action "$target" "$action"
        rc=$?
        secs=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)")
        if [ "$rc" = 0 ]; then
          echo "PASS ${client}[$challenge]:$action $secs"
          passed=$((passed + 1))
        else
          echo "FAIL ${client}[$challenge]:$action $secs (exit $rc)"
          tail -n 15 "$dir/log/client.log" | sed 's/^/    /'
          failed=$((failed + 1)) keep_tmp=1
        fi
      done
    else
      echo "FAIL ${client}[$challenge] $secs (exit $rc; certificate at $cert: ${san:-none})"
      tail -n 15 "$dir/log/client.log" | sed 's/^/    /'
      failed=$((failed + 1)) keep_tmp=1
    fi
    stop_servers
  done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
