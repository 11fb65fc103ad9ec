# Sourced by the real-peer suite tests (test_pebble26_suite.sh,
# test_pebble210_suite.sh, test_lego435_suite.sh, test_certbot55_suite.sh,
# test_new_clients_suite.sh);
# needs $bin, $out and fail() from the caller.

# run TARGET NAME ARGS...: one `run --server TARGET ARGS...`, leaving
# $out/NAME.json, .stdout and .stderr; the run must exit 0 within
# ACMEH_RUN_TIMEOUT seconds (default 120).
run() { run_as --server "$@"; }

# run_client TARGET NAME ARGS...: the same for `run --client TARGET ARGS...`.
run_client() { run_as --client "$@"; }

run_as() {
  local role=$1 target=$2 name=$3 status=0
  shift 3
  timeout "${ACMEH_RUN_TIMEOUT:-120}" "$bin" run "$role" "$target" "$@" --jobs 4 --json "$out/$name.json" --run-dir "$out/run-$name" \
    >"$out/$name.stdout" 2>"$out/$name.stderr" || status=$?
  cat "$out/$name.stdout"
  [ "$status" -eq 0 ] || { cat "$out/$name.stderr"; fail "run $role $target $* exited $status"; }
}

# verdicts FILE PYTHON-CONDITION MESSAGE: every result r must satisfy the condition.
verdicts() {
  python3 - "$1" "$2" <<'PY' || fail "$3"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
bad = [r for r in res if not eval(sys.argv[2], {"r": r})]
for r in bad:
    print("  %s %s: %s" % (r["id"], r["verdict"], r.get("message")), file=sys.stderr)
sys.exit(1 if bad or not res else 0)
PY
}

# run_client_bg TARGET NAME ARGS...: run_client in the background (for a slow
# suite beside the others; timeout passes a kill on to the harness, which stops
# its clients, should the script end first). wait_client_bg NAME waits for it
# and wants exit 0. One at a time.
run_client_bg() {
  local target=$1 name=$2
  shift 2
  timeout 120 "$bin" run --client "$target" "$@" --jobs 4 --json "$out/$name.json" --run-dir "$out/run-$name" \
    >"$out/$name.stdout" 2>"$out/$name.stderr" &
  bg_pid=$! bg_what="run --client $target $*"
  trap 'kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; rm -rf "$out"' EXIT
}

wait_client_bg() {
  local name=$1 status=0
  wait "$bg_pid" || status=$?
  cat "$out/$name.stdout"
  [ "$status" -eq 0 ] || { cat "$out/$name.stderr"; fail "$bg_what exited $status"; }
}
