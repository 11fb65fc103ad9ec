#!/usr/bin/env bash
# Validates the JUnit XML that reports/junit.c writes: against our XSD with
# xmllint, and by reading it back with junitparser (what CI tooling uses) to
# check suite/case counts and where failure/skipped/error land.
#
# The XML comes from the unit test binary test_reports (ACMEH_JUNIT_OUT makes
# it write a copy), which CMake builds into <build>/tests/ beside the
# acme-harness binary in <build>/. Inputs: ACMEH_BIN (set by ctest),
# ACMEH_SOURCE_DIR (optional; defaults to this script's repository).
set -u

fail() { echo "test_junit_schema: FAIL: $*" >&2; exit 1; }

[ -n "${ACMEH_BIN:-}" ] || fail "ACMEH_BIN is not set (path of the acme-harness binary)"
src=${ACMEH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
unit="$(dirname "$ACMEH_BIN")/tests/test_reports"
xsd="$src/tests/data/junit.xsd"
[ -x "$unit" ] || fail "unit test binary not found at $unit"
[ -r "$xsd" ] || fail "schema not found at $xsd"
command -v xmllint >/dev/null || fail "xmllint not installed (apt-get install libxml2-utils)"

# junitparser may be installed for the system python only (python3-junitparser).
py=
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import junitparser' 2>/dev/null; then
    py=$cand
    break
  fi
done
[ -n "$py" ] || fail "no python3 with junitparser (apt-get install python3-junitparser)"

work=$(mktemp -d) || fail "mktemp"
trap 'rm -rf "$work"' EXIT
xml="$work/junit.xml"

ACMEH_JUNIT_OUT="$xml" "$unit" >"$work/unit.log" 2>&1 ||
  { cat "$work/unit.log" >&2; fail "test_reports failed"; }
[ -s "$xml" ] || fail "test_reports did not write $xml"

xmllint --noout --schema "$xsd" "$xml" 2>"$work/xmllint.log" ||
  { cat "$work/xmllint.log" >&2; fail "junit.xml does not validate against $xsd"; }

# The schema must have teeth: a testcase with two outcomes must be rejected.
sed '0,/<\/failure>/s//<\/failure><skipped\/>/' "$xml" >"$work/bad.xml"
if xmllint --noout --schema "$xsd" "$work/bad.xml" 2>/dev/null; then
  fail "schema accepted a testcase with both <failure> and <skipped>"
fi

"$py" - "$xml" <<'PY' || fail "junitparser checks failed"
import sys
from junitparser import JUnitXml, TestSuite, Failure, Skipped, Error

errors = []
def check(cond, what):
    if not cond:
        errors.append(what)

xml = JUnitXml.fromfile(sys.argv[1])
suites = list(xml) if not isinstance(xml, TestSuite) else [xml]
check([s.name for s in suites] == ["core server", "ari client"],
      "suite names: %r" % [s.name for s in suites])
want_counts = {"core server": (6, 2, 1, 2), "ari client": (1, 0, 0, 0)}
want_kind = {"CORE-S-001": None, "CORE-S-002": Failure, "CORE-S-003": Skipped,
             "CORE-S-004": Error, "CORE-S-005": Skipped, "CORE-S-006": Failure,
             "ARI-C-001": None}
seen = {}
for s in suites:
    got = (s.tests, s.failures, s.errors, s.skipped)
    check(got == want_counts.get(s.name), "%s counts %r" % (s.name, got))
    props = {p.name: p.value for p in s.properties()}
    check(props.get("seed") == "42", "%s seed property %r" % (s.name, props.get("seed")))
    check("target" in props and "tool_version" in props, "%s properties %r" % (s.name, props))
    check(bool(s.timestamp) and bool(s.hostname), "%s timestamp/hostname missing" % s.name)
    for case in s:
        cid = case.name.split(" ", 1)[0]
        seen[cid] = case
        check(case.classname == s.name.split(" ")[0], "%s classname %r" % (cid, case.classname))
        kinds = [type(r) for r in case.result]
        want = want_kind.get(cid)
        check(kinds == ([want] if want else []), "%s outcome %r, want %r" % (cid, kinds, want))
check(sorted(seen) == sorted(want_kind), "cases %r" % sorted(seen))

def message(cid):
    return seen[cid].result[0].message if cid in seen and seen[cid].result else ""

check(message("CORE-S-002").startswith("bad <>&\"' ? \ufffd\ufffd"),
      "escaped message did not round-trip: %r" % message("CORE-S-002"))
check(message("CORE-S-005") == "expected failure: known bug #12: nonce reused",
      "xfail message %r" % message("CORE-S-005"))
check(message("CORE-S-006") == "expected to fail (issue 7) but passed",
      "xpass message %r" % message("CORE-S-006"))
body = seen["CORE-S-002"].result[0].text if "CORE-S-002" in seen else ""
for line in ("expected: ", "actual: ", "section: ", "transcript: "):
    check(("\n" + (body or "")).count("\n" + line) == 1, "failure text lacks %r: %r" % (line, body))
out = seen["CORE-S-002"].system_out if "CORE-S-002" in seen else ""
check(out is not None and len(out.encode()) >= 100 * 1024 and "]]>" in out and "\r\n" in out,
      "transcript in system-out did not round-trip (%d bytes)" % len((out or "").encode()))

for e in errors:
    print("junitparser check failed:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# A real run whose only failure is a SHOULD (the fake client sends no
# Accept-Language, CORE-C-002): exit 0, and a dashboard reading the JUnit
# sees no <failure> (the testcase is <skipped>, saying it was not counted);
# with --strict the same run exits 1 and the testcase is a <failure>.
fake="$(dirname "$ACMEH_BIN")/tests/acmeh-fake-client"
if [ -x "$fake" ]; then
  for mode in default strict; do
    flag=; [ $mode = strict ] && flag=--strict
    ACMEH_FAKE_CLIENT=$fake FAKE_CLIENT_FAULTS=no-accept-language "$ACMEH_BIN" run --client "$src/tests/peers/fake-client.json" \
      --check CORE-C-001,CORE-C-002 --run-dir "$work/run-$mode" --junit "$work/$mode.xml" $flag >"$work/$mode.log" 2>&1
    echo $? >"$work/$mode.status"
    xmllint --noout --schema "$xsd" "$work/$mode.xml" 2>>"$work/xmllint.log" ||
      { cat "$work/xmllint.log" >&2; fail "the $mode run's JUnit does not validate against $xsd"; }
  done
  "$py" - "$work" <<'PY' || fail "JUnit of a SHOULD-only failing run"
import sys
from junitparser import JUnitXml, Failure, Skipped
w = sys.argv[1]
def cases(mode):
    xml = JUnitXml.fromfile("%s/%s.xml" % (w, mode))
    return {c.name.split(" ", 1)[0]: [type(r) for r in c.result] for s in xml for c in s}
errors = []
status = {m: open("%s/%s.status" % (w, m)).read().strip() for m in ("default", "strict")}
d, s = cases("default"), cases("strict")
if status != {"default": "0", "strict": "1"}: errors.append("exit statuses %r, want 0 and 1 with --strict" % status)
if any(Failure in k for k in d.values()): errors.append("a <failure> in the exit-0 run: %r" % d)
if d.get("CORE-C-002") != [Skipped]: errors.append("CORE-C-002 without --strict: %r, want skipped" % d.get("CORE-C-002"))
if s.get("CORE-C-002") != [Failure]: errors.append("CORE-C-002 with --strict: %r, want failure" % s.get("CORE-C-002"))
if d.get("CORE-C-001") != [] or s.get("CORE-C-001") != []: errors.append("CORE-C-001 should pass in both: %r %r" % (d.get("CORE-C-001"), s.get("CORE-C-001")))
for e in errors: print("junitparser check failed:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
else
  echo "test_junit_schema: note: $fake not built; the SHOULD-only run is not checked"
fi

echo "test_junit_schema: ok"
