#!/usr/bin/env bash
# Catalogs and scenario files are refused when malformed, and load in linear
# time: in a copy of the data folder (ACMEH_DATA_DIR), a 50,000-check catalog
# lists within 5 s (it took 14 s when every ID was compared with every earlier
# one); a level or role outside the known values, an empty or repeated
# revision, are refused naming the check; so are scenario definitions of the
# wrong shape (they let checks pass on a scenario that never ran as written);
# a missing scenarios.json leaves the
# client checks that need it an error, not undefined behaviour.
set -euo pipefail
BIN=${ACMEH_BIN:?} SRC=${ACMEH_SOURCE_DIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL $*"; exit 1; }
fresh() { rm -rf "$work/data"; mkdir -p "$work/data"; cp -r "$SRC/suites" "$SRC/vectors" "$SRC/targets" "$work/data/"; }
edit() { python3 - "$work/data/suites/core/catalog.json" "$1" <<'PY'
import json, sys
p, how = sys.argv[1], sys.argv[2]
d = json.load(open(p))
if how == "big":
    base = d["checks"][0]
    d["checks"] += [dict(base, id="CORE-S-%03d" % (i % 1000), title="t%d" % i) for i in range(0)]
    prefixes = ["X" + "".join(chr(65 + (k // 26 ** j) % 26) for j in range(4)) for k in range(60)]
    d["checks"] += [dict(base, id="%s-S-%03d" % (prefixes[i // 1000], i % 1000)) for i in range(50000)]
elif how == "level": d["checks"][0]["level"] = "banana"
elif how == "role": d["checks"][0]["role"] = "nobody"
elif how == "emptyrev": d["revisions"] = [""]
elif how == "duprev": d["revisions"] = ["rfc8555", "rfc8555"]
json.dump(d, open(p, "w"))
PY
}
export ACMEH_DATA_DIR=$work/data
expect2() { # what, then the text the message must hold
  set +e; out=$("$BIN" list 2>&1); rc=$?; set -e
  [ "$rc" = 2 ] && grep -q -- "$2" <<<"$out" || fail "$1: exit $rc: $out"
}
fresh; edit level; expect2 "level banana" 'level "banana" is none of'
fresh; edit role; expect2 "role nobody" 'role "nobody" is none of'
fresh; edit emptyrev; expect2 "revision \"\"" 'distinct non-empty strings'
fresh; edit duprev; expect2 "repeated revision" 'distinct non-empty strings'
fresh; edit big
t0=$(date +%s%N)
timeout 60 "$BIN" list --check 'XAAAA-S-00*' >"$work/big.txt" || fail "the 50,000-check catalog did not list"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(wc -l <"$work/big.txt")" = 10 ] || fail "the 50,000-check catalog listed $(wc -l <"$work/big.txt") of XAAAA-S-00*"
[ "$ms" -lt 5000 ] || fail "the 50,000-check catalog took $ms ms to list"
# Malformed scenario definitions are refused before any client runs.
scen() { # $1 = python expression applied to the scenarios document d, $2 = text the message holds
  fresh
  python3 - "$work/data/suites/core/scenarios.json" "$1" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); exec(sys.argv[2]); json.dump(d, open(p, "w"))
PY
  set +e; out=$("$BIN" run --client "$SRC/tests/peers/fake-client.json" --check CORE-C-001 2>&1); rc=$?; set -e
  [ "$rc" = 2 ] && grep -q -- "$2" <<<"$out" || fail "scenario $1: exit $rc: $out"
}
scen 'd["plain-http01"] = 5' "scenario plain-http01: must be an object"
scen 'd["plain-http01"]["challenge"] = 7' "challenge: is no challenge type"
scen 'd["plain-http01"]["actions"] = []' "actions: must be 1 to 8 strings"
scen 'd["plain-http01"]["faults"] = [{"nonsense": 1}]' "faults:"
# Vectors: a file that does not parse is an error, not left out; a FIFO is passed over.
fresh; echo '{broken' >"$work/data/vectors/core/jose.json"
set +e; out=$("$BIN" vectors --spec core 2>&1); rc=$?; set -e
[ "$rc" = 2 ] && grep -q "jose.json:1:" <<<"$out" || fail "vectors with a broken file: exit $rc: $out"
fresh; mkfifo "$work/data/vectors/core/fifo.json"
timeout 20 "$BIN" vectors --spec core >/dev/null || fail "vectors hung on a FIFO named *.json"
fresh; rm "$work/data/suites/core/scenarios.json"
set +e
"$BIN" run --client "$SRC/tests/peers/fake-client.json" --check CORE-C-001 --json "$work/r.json" >"$work/run.log" 2>&1
set -e
python3 - "$work/r.json" <<'PY' || { cat "$work/run.log"; fail "CORE-C-001 without its scenario"; }
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
assert r["verdict"] == "error" and "no scenario named plain-http01" in r["message"], r
PY
echo "catalog load: malformed catalogs refused, 50,000 checks listed in $ms ms, a missing scenario is an error"
