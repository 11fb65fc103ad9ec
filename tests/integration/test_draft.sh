#!/usr/bin/env bash
# --draft selects by revision: in a copy of the data folder (ACMEH_DATA_DIR)
# one dnsaccount check is limited to dns-account-label-00. It is listed and run
# under --draft dnsaccount=dns-account-label-00, left out under -02 (the
# default), and the JSON and JUnit reports name the revision tested.
# --draft also changes the wire: under scoped-dns-challenges-00 the reference
# client publishes dns-account-01 at "_<label>._acme-host-challenge" (and
# "_acme-wildcard-challenge") and the reference server looks there; Pebble 2.6,
# which implements that revision, then passes what it fails under the label
# drafts; and a client that publishes the label drafts' name fails DNSACCT-C-001
# against the scoped reference server, naming the scoped name.
set -euo pipefail
BIN=${ACMEH_BIN:?} SRC=${ACMEH_SOURCE_DIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL $*"; exit 1; }
data=$work/data
mkdir -p "$data"
cp -r "$SRC/suites" "$SRC/vectors" "$data/"
cp -r "$SRC/targets" "$data/targets"
python3 - "$data/suites/dnsaccount/catalog.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
for c in d["checks"]:
    if c["id"] == "DNSACCT-S-001": c["revisions"] = ["dns-account-label-00"]
json.dump(d, open(p, "w"), indent=1)
PY
export ACMEH_DATA_DIR=$data
"$BIN" list --draft dnsaccount=dns-account-label-00 --suite dnsaccount | grep -q '^DNSACCT-S-001 .*\[revisions: dns-account-label-00\]' ||
  fail "list --draft ...-00 does not show DNSACCT-S-001 with its revision tag"
if "$BIN" list --suite dnsaccount --draft dnsaccount=dns-account-label-02 | grep -q '^DNSACCT-S-001 '; then
  fail "DNSACCT-S-001 listed under --draft dnsaccount=dns-account-label-02"
fi
"$BIN" list --suite dnsaccount | grep -q '^DNSACCT-S-001 .*\[revisions:' || fail "plain list (every revision) does not tag DNSACCT-S-001"
"$BIN" list --suite dnsaccount --revisions | grep -q '^dnsaccount .*dns-account-label-02 (default)' || fail "list --revisions"
set +e
out=$("$BIN" list --draft dnsaccount=nope 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && grep -q "has no revision 'nope'" <<<"$out" || fail "unknown revision: exit $rc: $out"

# Malformed --draft values: empty items, a suite twice, a value longer than any revision.
long="dns-account-label-00$(printf 'x%.0s' $(seq 200))"
for bad in "," "dnsaccount=dns-account-label-00," "dnsaccount=dns-account-label-00,dnsaccount=dns-account-label-02" \
           "dnsaccount=$long"; do
  set +e
  out=$("$BIN" list --draft "$bad" 2>&1); rc=$?
  set -e
  [ "$rc" = 2 ] || fail "--draft '${bad:0:60}' exited $rc: $out"
done

# Run it against the reference server under -00: it runs, and the reports say so.
"$BIN" run --server reference --check DNSACCT-S-001,DNSACCT-S-002 --draft dnsaccount=dns-account-label-00 \
  --json "$work/r00.json" --junit "$work/r00.xml" >"$work/r00.log" 2>&1 || { cat "$work/r00.log"; fail "run under -00"; }
python3 - "$work/r00.json" <<'PY' || fail "JSON report under -00"
import json, sys
d = json.load(open(sys.argv[1]))
ids = {r["id"]: r for r in d["results"]}
assert set(ids) == {"DNSACCT-S-001", "DNSACCT-S-002"}, ids.keys()
assert all(r["revision"] == "dns-account-label-00" for r in ids.values()), [r["revision"] for r in ids.values()]
assert d["revisions"] == {"dnsaccount": "dns-account-label-00"}, d["revisions"]
PY
grep -q '<property name="revision" value="dns-account-label-00"' "$work/r00.xml" || fail "JUnit has no revision property"
# Under -02 the limited check is not run; the other is, and says -02.
"$BIN" run --server reference --check DNSACCT-S-001,DNSACCT-S-002 --draft dnsaccount=dns-account-label-02 \
  --json "$work/r02.json" >"$work/r02.log" 2>&1 || { cat "$work/r02.log"; fail "run under -02"; }
python3 - "$work/r02.json" <<'PY' || fail "JSON report under -02"
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["id"] for r in d["results"]] == ["DNSACCT-S-002"], [r["id"] for r in d["results"]]
assert d["results"][0]["revision"] == "dns-account-label-02"
PY
# Only the limited check, under the other revision: nothing to run, exit 2 saying why.
set +e
out=$("$BIN" run --server reference --check DNSACCT-S-001 --draft dnsaccount=dns-account-label-02 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && grep -q "apply to other revisions" <<<"$out" || fail "only an other-revision check: exit $rc: $out"
unset ACMEH_DATA_DIR

# Both reference sides follow the scoped revision.
"$BIN" run --server reference --check DNSACCT-S-002,DNSACCT-S-006 --draft dnsaccount=scoped-dns-challenges-00 \
  --transcripts "$work/scoped-tx" >"$work/scoped.log" 2>&1 || { cat "$work/scoped.log"; fail "reference under the scoped revision"; }
grep -q "publishing at _[a-z2-7]\{16\}\._acme-host-challenge\." "$work/scoped-tx/DNSACCT-S-002.txt" || fail "S-002 did not publish at the host scope"
grep -q "publishing at _[a-z2-7]\{16\}\._acme-wildcard-challenge\." "$work/scoped-tx/DNSACCT-S-006.txt" || fail "S-006 did not publish at the wildcard scope"
"$BIN" run --server reference --check DNSACCT-S-002 --transcripts "$work/label-tx" >"$work/label.log" 2>&1 || fail "reference, default revision"
grep -q "publishing at _[a-z2-7]\{16\}\._acme-challenge\." "$work/label-tx/DNSACCT-S-002.txt" || fail "S-002 under the default revision"

# A real server of the older revision: Pebble 2.6 (ci/setup unpacks it).
p26=/opt/acme-harness/pebble-2.6/usr/bin
if [ -x "$p26/pebble" ]; then
  for rev in scoped-dns-challenges-00 dns-account-label-02; do
    PATH=$p26:$PATH "$BIN" run --server pebble-2.6 --check DNSACCT-S-002,DNSACCT-S-006 --draft dnsaccount=$rev \
      --json "$work/p26-$rev.json" >"$work/p26.log" 2>&1 || { cat "$work/p26.log"; fail "pebble-2.6 under $rev"; }
  done
  python3 - "$work" <<'PY' || fail "pebble-2.6 verdicts per revision"
import json, sys
v = lambda rev: {r["id"]: r["verdict"] for r in json.load(open("%s/p26-%s.json" % (sys.argv[1], rev)))["results"]}
assert v("scoped-dns-challenges-00") == {"DNSACCT-S-002": "pass", "DNSACCT-S-006": "pass"}, v("scoped-dns-challenges-00")
assert v("dns-account-label-02") == {"DNSACCT-S-002": "xfail", "DNSACCT-S-006": "xfail"}, v("dns-account-label-02")
PY
else
  echo "pebble 2.6 not unpacked (ci/setup): its half of the wire test is left out"
fi

# Client role: the fake client implements the label drafts.
fake=$(dirname "$BIN")/tests/acmeh-fake-client
for rev in scoped-dns-challenges-00 dns-account-label-02; do
  ACMEH_FAKE_CLIENT=$fake "$BIN" run --client "$SRC/tests/peers/fake-client.json" --check DNSACCT-C-001 --draft dnsaccount=$rev \
    --json "$work/c-$rev.json" >"$work/c.log" 2>&1 || true
done
python3 - "$work" <<'PY' || fail "client verdicts per revision"
import json, sys
r = lambda rev: json.load(open("%s/c-%s.json" % (sys.argv[1], rev)))["results"][0]
s, l = r("scoped-dns-challenges-00"), r("dns-account-label-02")
assert s["verdict"] == "fail" and "_acme-host-challenge." in s["message"], s
assert l["verdict"] == "pass", l
PY
echo "draft: a check limited to one revision runs under it, not under another; reports name the revision;"
echo "       the reference client and server follow the revision on the wire (scoped-dns-challenges-00 vs dns-account-label)"
