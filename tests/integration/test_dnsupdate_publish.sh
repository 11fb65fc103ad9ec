#!/usr/bin/env bash
# The reference client's DNS-UPDATE mode end to end: a real BIND is primary for
# acmeh.test (a key may update TXT anywhere in it), the reference server
# (`acme-harness serve --no-mocks`) validates dns-01 against that BIND, and
# `acme-harness run --dns-update-server/--dns-update-zone/--tsig-key` runs the
# dns-01 issuance check (CORE-S-082), publishing and removing its
# _acme-challenge TXT record by TSIG-signed UPDATE. Afterwards the record is gone.
# The same for dns-account-01 (DNSACCT-S-002): its record at
# _<label>._acme-challenge.<name> goes through the same publisher (it went to
# the mocks, which the server does not read here, before publishers existed).
# And dns-persist-01 (PERSIST-S-004): its record at _validation-persist.<name>.
set -euo pipefail
bin=${ACMEH_BIN:?}
if ! command -v named >/dev/null; then echo "SKIP: named (bind9) is not installed; run ci/setup"; exit 0; fi
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$dir"/*.log "$dir"/*.err 2>/dev/null >&2 || true; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port=$(free_port)
secret=$(openssl rand -base64 32)
cat >"$dir/named.conf" <<CONF
options { directory "$dir"; listen-on port $port { 127.0.0.1; }; listen-on-v6 { none; };
  pid-file none; session-keyfile none; recursion no; notify no; dnssec-validation no; };
controls { };
key "client-key." { algorithm hmac-sha256; secret "$secret"; };
zone "acmeh.test" { type primary; file "acmeh.test.zone";
  update-policy { grant client-key. subdomain acmeh.test. TXT; }; };
CONF
printf '%s\n' '$TTL 60' '@ IN SOA ns.acmeh.test. hostmaster.acmeh.test. 1 3600 600 86400 60' \
  '@ IN NS ns.acmeh.test.' 'ns IN A 127.0.0.1' >"$dir/acmeh.test.zone"
setsid named -g -c "$dir/named.conf" >"$dir/named.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 acmeh.test SOA 2>/dev/null | grep -q hostmaster && break; sleep 0.1; done
dig +short -p "$port" @127.0.0.1 acmeh.test SOA | grep -q hostmaster || fail "named did not start"

setsid "$bin" serve --no-mocks --dns-port "$port" --http01-port 1 --tlsalpn01-port 1 --run-dir "$dir/serve" \
  >"$dir/serve.log" 2>"$dir/serve.err" &
pids+=($!)
for _ in $(seq 150); do grep -q '^serving' "$dir/serve.log" 2>/dev/null && break; sleep 0.1; done
directory=$(sed -n 's/^directory: //p' "$dir/serve.log" | head -1)
ca=$(sed -n 's/^trust (TLS CA file): //p' "$dir/serve.log" | head -1)
[ -n "$directory" ] && [ -f "$ca" ] || fail "reference server did not start"

# passes_by_update CHECK: run CHECK against the reference server, publishing by
# signed UPDATE to BIND; it must run and pass.
passes_by_update() {
  local status=0
  "$bin" run --server-url "$directory" --ca "$ca" --check "$1" --json "$dir/$1.json" \
    --dns-update-server "127.0.0.1:$port" --dns-update-zone acmeh.test --tsig-key "client-key.:hmac-sha256:$secret" \
    >"$dir/$1.log" 2>&1 || status=$?
  cat "$dir/$1.log"
  [ "$status" -eq 0 ] || fail "run $1 exited $status"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; assert [x["verdict"] for x in r]==["pass"], r' \
    "$dir/$1.json" || fail "$1 did not pass through DNS UPDATE"
}

passes_by_update CORE-S-082
grep -q "updating zone 'acmeh.test/IN': adding an RR at '_acme-challenge\." "$dir/named.log" || fail "named logged no UPDATE adding the TXT"
grep -q "updating zone 'acmeh.test/IN': deleting an RR at _acme-challenge\." "$dir/named.log" || fail "named logged no UPDATE deleting it"
passes_by_update DNSACCT-S-002
grep -qE "adding an RR at '_[a-z2-7]{16}\._acme-challenge\." "$dir/named.log" || fail "named logged no UPDATE adding the dns-account-01 TXT"
grep -qE "deleting an RR at _[a-z2-7]{16}\._acme-challenge\." "$dir/named.log" || fail "named logged no UPDATE deleting it"
# dns-persist-01 (PERSIST-S-004, -02 wire format): a record of ~110 octets
# with spaces and ";" at _validation-persist.<name> (the publisher once cut
# TXT values at 78 octets).
passes_by_update PERSIST-S-004
grep -q "adding an RR at '_validation-persist\." "$dir/named.log" || fail "named logged no UPDATE adding the dns-persist-01 TXT"
grep -q "deleting an RR at _validation-persist\." "$dir/named.log" || fail "named logged no UPDATE deleting it"
echo "PASS: dns-01, dns-account-01 and dns-persist-01 published and removed by TSIG-signed UPDATE"
