#!/usr/bin/env bash
# RFC 9799 over the mock Tor: `acme-harness serve --mock-tor` validates
# http-01 and tls-alpn-01 for a .onion name through its SOCKS5 proxy
# (mocks/socks5), and onion-csr-01 from the CSR, for the fake client
# (tests/peers/fake_client.c) answering with an OpenSSL Ed25519 onion key and
# in-band CAA; each issuance must name the onion address. Then a Tor key file
# (hs_ed25519_secret_key, vectors/onion) is refused as ONION_KEY, saying why.
# Env: ACMEH_BIN, ACMEH_SOURCE_DIR.
set -u
bin=${ACMEH_BIN:?} fake=$(dirname "$ACMEH_BIN")/tests/acmeh-fake-client
work=$(mktemp -d /tmp/acmeh-onion-tor-XXXXXX)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work" && mkdir run
"$bin" serve --mock-tor --run-dir "$work/run" --quiet >serve.out 2>serve.err &
srv=$!
for _ in $(seq 100); do grep -q "management API" serve.out 2>/dev/null && break; sleep 0.1; done
dir=$(sed -n 's/^directory: //p' serve.out)
mgmt=$(sed -n 's/.*management API on :\([0-9]*\).*/\1/p' serve.out)
[ -n "$dir" ] && [ -n "$mgmt" ] || { echo "FAIL serve did not start: $(cat serve.err)"; exit 1; }
openssl genpkey -algorithm ED25519 -out onion-key.pem 2>/dev/null
name=$(openssl pkey -in onion-key.pem -pubout -outform DER | tail -c 32 | python3 -c '
import sys, hashlib, base64
p = sys.stdin.buffer.read()
c = hashlib.sha3_256(b".onion checksum" + p + b"\x03").digest()[:2]
print(base64.b32encode(p + c + b"\x03").decode().lower() + ".onion")')
fails=0
issue() { # $1 challenge type, $2 key file; prints the client's exit status
  mkdir -p "w-$1-$3"
  ACME_DIRECTORY=$dir ACME_CA_BUNDLE=$work/run/ca.pem DOMAIN=$name CHALLENGE=$1 ONION_KEY=$2 \
    ACMEH_MGMT=http://127.0.0.1:$mgmt WORK_DIR=$work/w-$1-$3 timeout 60 "$fake" issue >"w-$1-$3.log" 2>&1
  echo $?
}
for t in http-01 tls-alpn-01 onion-csr-01; do
  rc=$(issue "$t" "$work/onion-key.pem" pem)
  san=$(openssl x509 -in "w-$t-pem/cert.pem" -noout -ext subjectAltName 2>/dev/null | tail -1 | tr -d ' ')
  if [ "$rc" != 0 ] || [ "$san" != "DNS:$name" ]; then
    echo "FAIL $t over the mock Tor: exit $rc, SAN '$san'"; tail -3 "w-$t-pem.log"; fails=$((fails + 1))
  else
    echo "ok   $t for $name"
  fi
done
python3 - "$ACMEH_SOURCE_DIR/vectors/onion/onion.json" <<'PY'
import json, sys
v = [x for x in json.load(open(sys.argv[1]))["vectors"] if x["input"]["op"] == "onion_tor_keys"][0]["input"]
open("hs_ed25519_secret_key", "wb").write(bytes.fromhex(v["hs_ed25519_secret_key"]))
PY
rc=$(issue onion-csr-01 "$work/hs_ed25519_secret_key" tor)
if [ "$rc" = 0 ] || ! grep -q "expanded" "w-onion-csr-01-tor.log"; then
  echo "FAIL Tor's expanded secret key file: exit $rc, wanted a refusal naming the expanded key"; fails=$((fails + 1))
else
  echo "ok   Tor's hs_ed25519_secret_key refused: $(grep -o 'expanded[^;]*' w-onion-csr-01-tor.log | head -1)"
fi
exit $((fails > 0))
