#!/bin/bash
# BIND's nsupdate against the mock DNS (acme-harness serve): a TSIG-signed
# (hmac-sha256 and hmac-sha512) add and delete are accepted and change what the
# mock serves; nsupdate accepting the replies means BIND verified the mock's
# response TSIG. The request MAC in the journal's raw wire is recomputed with
# vectors/dnsupdate/tsig_mac.py (Python hmac, the code that made the vectors)
# and must equal the MAC on the wire. A wrong secret gets BADSIG in the journal.
set -euo pipefail
BIN=${ACMEH_BIN:?} SRC=${ACMEH_SOURCE_DIR:?}
PY=/usr/bin/python3
command -v nsupdate >/dev/null || { echo "SKIP: nsupdate (bind9-dnsutils) not installed"; exit 0; }
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$BIN" serve --quiet --run-dir "$work/run" >"$work/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "management API" "$work/serve.out" && break; sleep 0.1; done
dns=$(sed -n 's/.*DNS on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.out")
mgmt=$(sed -n 's/.*management API on :\([0-9]*\).*/\1/p' "$work/serve.out")
[ -n "$dns" ] && [ -n "$mgmt" ] || { cat "$work/serve.out"; echo "FAIL: serve did not start"; exit 1; }
api() { curl -sf -X POST "http://127.0.0.1:$mgmt/$1" -d "$2"; }
S256=jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o=
S512=$($PY -c 'import hashlib,base64;print(base64.b64encode(hashlib.sha512(b"acme-harness tsig test key").digest()).decode())')
api add-dns-zone '{"zone":"example.com"}'
api add-tsig-key "{\"name\":\"acme-update-key\",\"algorithm\":\"hmac-sha256\",\"secret\":\"$S256\",\"policy\":[{\"name\":\"_acme-challenge.*\",\"types\":[\"TXT\"]}]}"
api add-tsig-key "{\"name\":\"acme-512\",\"algorithm\":\"hmac-sha512\",\"secret\":\"$S512\"}"
V=ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8
upd() { # upd ALG:NAME:SECRET COMMAND...
  local key=$1; shift
  { echo "server 127.0.0.1 $dns"; echo "zone example.com"; for c in "$@"; do echo "$c"; done; echo send; } |
    timeout 20 nsupdate -t 5 -y "$key"
}
fail() { echo "FAIL: $*"; exit 1; }
upd "hmac-sha256:acme-update-key:$S256" "update add _acme-challenge.www.example.com 60 TXT $V" || fail "nsupdate add (sha256)"
upd "hmac-sha512:acme-512:$S512" "update add _acme-challenge.api.example.com 120 TXT second" || fail "nsupdate add (sha512)"
dig +short -p "$dns" @127.0.0.1 TXT _acme-challenge.www.example.com | grep -q "$V" || fail "mock does not serve the added TXT"
upd "hmac-sha256:acme-update-key:$S256" "update delete _acme-challenge.www.example.com TXT $V" || fail "nsupdate delete"
[ -z "$(dig +short -p "$dns" @127.0.0.1 TXT _acme-challenge.www.example.com)" ] || fail "TXT still served after delete"
if upd "hmac-sha256:acme-update-key:$S512" "update add _acme-challenge.www.example.com 60 TXT x" 2>/dev/null; then
  fail "nsupdate with a wrong secret succeeded"
fi
if upd "hmac-sha256:acme-update-key:$S256" "update add www.example.com 60 A 192.0.2.1" 2>/dev/null; then
  fail "an A record outside the key's policy was accepted"
fi
api dns-update-journal '{"zone":"example.com"}' >"$work/journal.json"
SECRETS="$S256 $S512" $PY - "$work/journal.json" "$SRC/vectors/dnsupdate" <<'PYEOF'
import base64, json, os, sys
sys.path.insert(0, sys.argv[2])
import tsig_mac
j = json.load(open(sys.argv[1]))
secrets = {"acme-update-key.": base64.b64decode(os.environ["SECRETS"].split()[0]),
           "acme-512.": base64.b64decode(os.environ["SECRETS"].split()[1])}
verdicts = [e["verdict"] for e in j]
assert verdicts == ["accepted", "accepted", "accepted", "badsig", "refused"], verdicts
for e in j[:3]:
    wire = bytes.fromhex(e["wire"])
    ok, t = tsig_mac.verify(wire, secrets[e["key"]])
    assert ok, "journal wire MAC does not recompute: %s" % e["wire"]
    assert t["mac"].hex() == e["mac"], (t["mac"].hex(), e["mac"])
    assert t["alg"] == e["algorithm"] and t["time"] == e["time_signed"]
ok, _ = tsig_mac.verify(bytes.fromhex(j[3]["wire"]), secrets["acme-update-key."])
assert not ok, "the wrong-secret request verified"
assert j[0]["updates"][0] == {"op": "add", "name": "_acme-challenge.www.example.com", "type": "TXT", "class": "IN",
                              "ttl": 60, "value": "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8"}, j[0]["updates"]
assert j[2]["updates"][0]["op"] == "delete-rr"
assert j[1]["algorithm"] == "hmac-sha512."
print("journal: %d entries, %s; MACs recomputed by tsig_mac.py match the wire" % (len(j), verdicts))
PYEOF
# The rest of the management API: unsigned updates allowed by policy, a deleted
# key answered BADKEY, the journal cleared.
api clear-dns-update-journal '{}'
[ "$(api dns-update-journal '{}')" = "[]" ] || fail "journal not cleared"
{ echo "server 127.0.0.1 $dns"; echo "zone example.com"; echo "update add u.example.com 60 TXT u"; echo send; } |
  timeout 20 nsupdate -t 5 2>/dev/null && fail "an unsigned update was accepted by default"
api set-dns-update-policy '{"allowUnsigned":true}'
{ echo "server 127.0.0.1 $dns"; echo "zone example.com"; echo "update add u.example.com 60 TXT u"; echo send; } |
  timeout 20 nsupdate -t 5 || fail "unsigned update refused although allowed"
api del-tsig-key '{"name":"acme-512"}'
upd "hmac-sha512:acme-512:$S512" "update add _acme-challenge.api.example.com 120 TXT again" 2>/dev/null &&
  fail "a deleted key was accepted"
api dns-update-journal '{}' | $PY -c '
import json, sys
v = [e["verdict"] for e in json.load(sys.stdin)]
assert v == ["refused", "accepted", "badkey"], v
print("policy and key endpoints:", v)'
echo PASS
