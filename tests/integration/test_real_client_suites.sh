#!/usr/bin/env bash
# The core client suite against every real client (lego, certbot, uacme,
# dehydrated, node acme-client): each run must end with no unexpected
# result (its target's expectations file lists the known deviations).
set -uo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0; fail=0
run_one() {
  local c=$1 t0 t1 status
  t0=$(date +%s.%N)
  "$bin" run --client "$c" --jobs 4 --json "$out/$c.json" --run-dir "$out/run-$c" >"$out/$c.out" 2>&1
  status=$?
  t1=$(date +%s.%N)
  printf '%s %s %.1f s: %s\n' "$([ $status -eq 0 ] && echo PASS || echo FAIL)" "$c" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" \
    "$(grep '^core client' "$out/$c.out")" >"$out/$c.line"
  [ $status -eq 0 ] || { grep -E "^(FAIL|XPASS|ERROR)" "$out/$c.out" >>"$out/$c.line"; tail -3 "$out/$c.out" >>"$out/$c.line"; }
  return $status
}
clients=(lego certbot uacme dehydrated node-acme-client)
# One client at a time: dehydrated in particular slows down a lot on a loaded 2-core machine.
for c in "${clients[@]}"; do run_one "$c"; done
for c in "${clients[@]}"; do
  cat "$out/$c.line"
  if head -1 "$out/$c.line" | grep -q '^PASS'; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
