#!/usr/bin/env bash
# A genuine TPM 2.0 attestation of a fresh ECC P-256 key from a software TPM
# (swtpm, started here on a UNIX socket in DIR and stopped on every exit),
# driven by tpm2-tools: an EK, an attestation key (AK, ECDSA P-256) under it,
# a signing key created under an owner primary with creation data, and
# TPM2_CertifyCreation by the AK with qualifying data QUAL_HEX (the SHA-256 of
# the key authorization). tpm2-tools 5.4 (Debian 12) has no qualifying data
# for tpm2_certify, so the statement is a TPM_ST_ATTEST_CREATION.
# Writes into DIR: ak.pem and ak2.pem (a second AK, for the "other AK"
# fault), key.pub (TPM2B_PUBLIC of the attested key), attest.bin (TPMS_ATTEST),
# sig.bin (DER ECDSA by the AK). Usage: swtpm-attest.sh DIR QUAL_HEX
set -euo pipefail
dir=$1 qual=$2
command -v swtpm >/dev/null && command -v tpm2_certifycreation >/dev/null || { echo "swtpm or tpm2-tools missing" >&2; exit 3; }
mkdir -p "$dir/state"
cd "$dir"
swtpm socket --tpmstate dir="$dir/state" --tpm2 --server type=unixio,path="$dir/tpm.sock" \
  --ctrl type=unixio,path="$dir/tpm.sock.ctrl" --flags startup-clear,not-need-init --daemon --pid file="$dir/swtpm.pid"
stop() { [ -s "$dir/swtpm.pid" ] && kill "$(cat "$dir/swtpm.pid")" 2>/dev/null || true; rm -rf "$dir/state" "$dir"/*.ctx; }
trap stop EXIT
export TPM2TOOLS_TCTI="swtpm:path=$dir/tpm.sock"
t() { timeout 20 "$@" >/dev/null; }
t tpm2_createek -c ek.ctx -G ecc -u ek.pub
t tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pem -f pem -n ak.name
t tpm2_flushcontext -t
t tpm2_createak -C ek.ctx -c ak2.ctx -G ecc -g sha256 -s ecdsa -u ak2.pem -f pem -n ak2.name
t tpm2_flushcontext -t
t tpm2_createprimary -C o -g sha256 -G ecc -c prim.ctx
t tpm2_create -C prim.ctx -G ecc256:ecdsa -u key.pub -r key.priv --creation-data cdata.bin --creation-ticket ticket.bin --creation-hash chash.bin
t tpm2_flushcontext -t
t tpm2_load -C prim.ctx -u key.pub -r key.priv -c key.ctx
t tpm2_flushcontext -t
t tpm2_certifycreation -C ak.ctx -c key.ctx -d chash.bin -t ticket.bin -g sha256 -q "$qual" -o sig.bin --attestation attest.bin -f plain
