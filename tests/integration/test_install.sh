#!/usr/bin/env bash
# cmake --install puts the binary and its data under a prefix; the installed
# binary, run from outside the source tree, reads the installed data (a title
# changed in the installed catalog shows in `list`) and runs the server suites
# against a real Pebble.
set -euo pipefail
BIN=${ACMEH_BIN:?}
build=$(dirname "$BIN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL $*"; exit 1; }
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
x=$work/prefix/bin/acme-harness
[ -x "$x" ] || fail "no $x"
data=$work/prefix/share/acme-harness
for f in suites/core/catalog.json suites/core/scenarios.json vectors/core/jose.json targets/pebble.json targets/hooks; do
  [ -e "$data/$f" ] || fail "not installed: $f"
done
python3 - "$data/suites/core/catalog.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
d["checks"][0]["title"] = "INSTALLED-COPY " + d["checks"][0]["title"]
json.dump(d, open(p, "w"))
PY
cd "$work"
unset ACMEH_DATA_DIR
"$x" list --check CORE-S-001 >"$work/list.txt"; grep -q "INSTALLED-COPY" "$work/list.txt" || fail "the installed binary did not read the installed catalog"
"$x" vectors --spec dnsaccount >"$work/v.json"; grep -q "\"label.json\"" "$work/v.json" || fail "vectors from the installed data"
"$x" run --server pebble --jobs 4 --json "$work/r.json" >"$work/run.log" 2>&1 || { tail -20 "$work/run.log"; fail "run --server pebble from the installed binary"; }
python3 - "$work/r.json" <<'PY' || fail "report of the installed run"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["total"] > 100, d["summary"]
assert d["summary"]["error"] == 0, [r["id"] + ": " + str(r["message"]) for r in d["results"] if r["verdict"] == "error"]
PY
echo "install: the installed binary runs from $work with its own data"
