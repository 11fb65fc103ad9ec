#!/bin/bash
# Independent check of der.json with the openssl CLI (not the harness's
# ASN.1 templates): every "der" parses with `openssl asn1parse` whole, its
# base64url equals "value", and the valid DER vectors show the expected
# explicit context tags. Prints one line per vector; exits 1 on a mismatch.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
fail=0
while IFS=$'\t' read -r name hex value valid; do
  bin=$(mktemp); python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$hex" > "$bin"
  out=$(openssl asn1parse -inform DER -in "$bin" 2>&1); rc=$?
  b64=$(base64 -w0 < "$bin" | tr '+/' '-_' | tr -d '=')
  rm -f "$bin"
  if [ "$valid" = "True" ] && { [ $rc -ne 0 ] || ! grep -q 'cont \[' <<<"$out"; }; then
    echo "FAIL $name: openssl asn1parse: $out"; fail=1; continue
  fi
  if [ "$value" != "-" ] && [ "$b64" != "$value" ]; then echo "FAIL $name: base64url $b64 != $value"; fail=1; continue; fi
  echo "ok   $name (asn1parse rc $rc)"
done < <(python3 -c '
import json,sys
for v in json.load(open(sys.argv[1]))["vectors"]:
    e=v["expected"]; h=e.get("der") or v["input"].get("der")
    if h: print("\t".join([v["name"], h, e.get("value") or "-", str(e.get("valid"))]))' "$dir/der.json")
exit $fail
