#!/usr/bin/env bash
# vectors/tkauth/der.json checked by a second implementation: every DER
# vector parses with the openssl CLI (asn1parse) and its base64url is the
# vector's identifier value (vectors/tkauth/verify.sh); and `acme-harness
# vectors --spec tkauth` prints the file.
set -euo pipefail
BIN=${ACMEH_BIN:?} SRC=${ACMEH_SOURCE_DIR:?}
out=$("$SRC/vectors/tkauth/verify.sh") || { echo "$out"; echo "FAIL verify.sh"; exit 1; }
n=$(grep -c '^ok ' <<<"$out")
[ "$n" -ge 15 ] || { echo "FAIL only $n vectors checked"; exit 1; }
"$BIN" vectors --spec tkauth | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["der.json"]["vectors"]) >= 18' \
  || { echo "FAIL acme-harness vectors --spec tkauth"; exit 1; }
echo "tkauth vectors: $n DER vectors agree with openssl asn1parse"
