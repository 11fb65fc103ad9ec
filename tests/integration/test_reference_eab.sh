#!/usr/bin/env bash
# External Account Binding (RFC 8555 §7.3.4) in the reference server:
# 1. target reference-eab (two keys, binding optional): CORE-S-108..111 pass
#    (a valid binding is accepted and echoed; wrong MAC key, other account key
#    and wrong url are refused), CORE-S-112 skips (not required);
# 2. `serve --eab-kid --eab-key --eab-required`: CORE-S-112 passes
#    (the directory says externalAccountRequired, newAccount without a binding
#    gets that problem type).
set -euo pipefail
bin=${ACMEH_BIN:?}
out=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
verdict() { python3 -c 'import json,sys
r={x["id"]:x for x in json.load(open(sys.argv[1]))["results"]}[sys.argv[2]]
print(r["verdict"], r.get("message") or "")' "$1" "$2"; }

checks=(--check CORE-S-108 --check CORE-S-109 --check CORE-S-110 --check CORE-S-111 --check CORE-S-112)
"$bin" run --server reference-eab "${checks[@]}" --json "$out/a.json" --run-dir "$out/run-a" >"$out/a.out" 2>&1 \
  || { cat "$out/a.out"; fail "run --server reference-eab exited non-zero"; }
for id in CORE-S-108 CORE-S-109 CORE-S-110 CORE-S-111; do
  v=$(verdict "$out/a.json" $id)
  [ "${v%% *}" = pass ] || fail "$id against reference-eab: $v"
done
v=$(verdict "$out/a.json" CORE-S-112)
[ "$v" = "skip server does not require external account binding" ] || fail "CORE-S-112 against reference-eab: $v"

mkdir "$out/srv"
"$bin" serve --run-dir "$out/srv" --quiet --eab-kid only-kid --eab-key RgePpfmDDicsI-EK3UDY37WWIeOFJzpFiY0KiWvE2_o \
  --eab-required >"$out/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^directory:' "$out/serve.out" && break; sleep 0.1; done
url=$(awk '/^directory:/ {print $2}' "$out/serve.out")
[ -n "$url" ] || { cat "$out/serve.out"; fail "serve did not start"; }
"$bin" run --server-url "$url" --ca "$out/srv/ca.pem" --check CORE-S-112 --json "$out/b.json" >"$out/b.out" 2>&1 \
  || { cat "$out/b.out"; fail "run against serve --eab-required exited non-zero"; }
v=$(verdict "$out/b.json" CORE-S-112)
[ "${v%% *}" = pass ] || fail "CORE-S-112 against serve --eab-required: $v"
echo "PASS: External Account Binding in the reference server"
