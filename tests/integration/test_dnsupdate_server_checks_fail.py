#!/usr/bin/python3
"""Checks must be able to fail: every DNSUP-S check (suites/dnsupdate/catalog.json,
role nameserver) runs against tests/peers/fake_nameserver.py with a fault that
breaks exactly its rule and must say "fail" with the expected message. A baseline
run of the whole suite against the fault-free fake must pass every check.

The fake is started by the harness itself as a nameserver target (a target file
written here, with fresh TSIG secrets per run), the same way bind.json starts BIND.

Environment: ACMEH_BIN (the acme-harness binary), ACMEH_SOURCE_DIR (the repo).
Prints one line per row and "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_rows import run_rows  # noqa: E402

BIN = os.environ.get("ACMEH_BIN", "build/acme-harness")
SRC = os.environ.get("ACMEH_SOURCE_DIR", os.getcwd())
FAKE = os.path.join(SRC, "tests", "peers", "fake_nameserver.py")
JOBS = 2
PROC_TIMEOUT = 180

ROWS = [
    ("DNSUP-S-001", "no-apply", "is not served after an ADD answered NOERROR"),
    ("DNSUP-S-002", "del-rr-deletes-rrset", "is not served after a CLASS NONE delete of another value"),
    ("DNSUP-S-003", "del-rrset-ignored", "is still served after a CLASS ANY delete of the TXT RRset"),
    ("DNSUP-S-004", "accept-unknown-key",
     "expected NOTAUTH with TSIG error BADKEY; got ADD signed under an unknown key name answered NOERROR"),
    ("DNSUP-S-005", "accept-unknown-alg",
     "expected NOTAUTH with TSIG error BADKEY; got ADD whose TSIG names an unknown algorithm answered NOERROR"),
    ("DNSUP-S-006", "accept-bad-mac",
     "expected NOTAUTH with TSIG error BADSIG; got ADD with one bit of its MAC flipped answered NOERROR"),
    ("DNSUP-S-007", "no-badtime",
     "expected NOTAUTH with TSIG error BADTIME; got ADD signed 3600 s in the past with fudge 300 answered NOERROR"),
    ("DNSUP-S-008", "badtime-unsigned", "expected a BADTIME answer signed with the request's key; got its TSIG is unsigned"),
    ("DNSUP-S-009", "unsigned-answers",
     "expected an answer TSIG with the request's key whose MAC verifies; got ADD signed with acme-key. (hmac-sha256.): "
     "the answer has no TSIG"),
    ("DNSUP-S-010", "no-sha512",
     "expected NOERROR; got ADD signed with acme-key-512. (hmac-sha512.) answered NOTAUTH (TSIG error BADKEY"),
    ("DNSUP-S-011", "accept-unsigned", "expected REFUSED; got unsigned ADD answered NOERROR"),
    ("DNSUP-S-012", "no-policy-name",
     "expected REFUSED; got ADD by the _acme-challenge key outside _acme-challenge answered NOERROR"),
    ("DNSUP-S-013", "no-policy-type", "expected REFUSED; got ADD of an A record at an _acme-challenge name answered NOERROR"),
    ("DNSUP-S-014", "no-time-order",
     "expected NOTAUTH with TSIG error BADTIME; got ADD signed 100 s before an accepted one (inside the fudge) "
     "answered NOERROR"),
    ("DNSUP-S-015", "accept-replay", "is not served after a replay of an earlier signed DELETE"),
    ("DNSUP-S-016", "prereq-ignored",
     'expected NXDOMAIN; got UPDATE with prerequisite "name is in use" on an absent name answered NOERROR'),
    ("DNSUP-S-017", "prereq-ignored",
     'expected YXDOMAIN; got UPDATE with prerequisite "name is not in use" on an existing name answered NOERROR'),
    ("DNSUP-S-018", "prereq-ignored",
     'expected NXRRSET; got UPDATE with prerequisite "TXT RRset exists" on an absent RRset answered NOERROR'),
    ("DNSUP-S-019", "prereq-ignored",
     'expected YXRRSET; got UPDATE with prerequisite "TXT RRset does not exist" on a present RRset answered NOERROR'),
    ("DNSUP-S-020", "prereq-ignored",
     "expected NXRRSET; got UPDATE with value-dependent prerequisite naming a value not in the RRset answered NOERROR"),
    ("DNSUP-S-021", "accept-notzone",
     "expected NOTZONE; got UPDATE with a prerequisite on a name outside the zone answered NOERROR"),
    ("DNSUP-S-022", "tsig-not-last-ok",
     "expected FORMERR; got ADD whose TSIG is followed by an A RR in the additional section answered NOERROR"),
]


def target_file(workdir, faults, extra=()):
    """A nameserver target that starts the fake with these faults (and extra arguments)."""
    keys = [("acme-key.", "hmac-sha256", "acme", "_acme-challenge.acmeh.test."),
            ("acme-key-512.", "hmac-sha512", "acme512", "_acme-challenge.acmeh.test."),
            ("other-key.", "hmac-sha256", "other", "other.acmeh.test.")]
    cmd = ["/usr/bin/python3", FAKE, "--port", "${PORT_dns}", "--zone", "acmeh.test.", "--faults", faults] + list(extra)
    for name, alg, var, scope in keys:
        cmd += ["--key", "%s:%s:${SECRET_%s}:%s" % (name, alg, var, scope)]
    key = {n: {"name": k[0], "algorithm": k[1], "secret": "${SECRET_%s}" % k[2]}
           for n, k in zip(["key", "key512", "other"], keys)}
    key["other"]["scope"] = "other.acmeh.test."
    doc = {"name": "fake-nameserver", "role": "nameserver", "ports": ["dns"],
           "secrets": {"acme": 32, "acme512": 64, "other": 32}, "command": cmd,
           "nameserver": dict({"address": "127.0.0.1", "port": "${PORT_dns:int}", "zone": "acmeh.test."}, **key),
           "ready": {"timeout_ms": 10000}}
    path = os.path.join(workdir, "fake-nameserver.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def run_harness(workdir, faults, check=None, extra=()):
    out = os.path.join(workdir, "results.json")
    cmd = [BIN, "run", "--nameserver", target_file(workdir, faults, extra), "--json", out, "--timeout", "20", "--jobs", "4",
           "--run-dir", os.path.join(workdir, "run")]
    cmd += ["--check", check] if check else ["--suite", "dnsupdate"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=PROC_TIMEOUT)
    if not os.path.exists(out):
        raise RuntimeError("no JSON report; exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-800:]))
    with open(out) as f:
        return json.load(f)["results"]


def run_row(row):
    check, faults, substring = row
    with tempfile.TemporaryDirectory(prefix="acmeh-dnsup-") as wd:
        results = run_harness(wd, faults, check)
    got = results[0] if results else {}
    problems = []
    if len(results) != 1 or got.get("id") != check:
        problems.append("expected one result for %s, got %s" % (check, [r.get("id") for r in results]))
    if got.get("verdict") != "fail":
        problems.append("verdict %s, expected fail" % got.get("verdict"))
    if substring not in (got.get("message") or ""):
        problems.append("message lacks %r" % substring)
    return problems, got.get("message") or ""


def run_baseline(extra):
    """The whole suite passes against the fault-free fake (extra: over TCP only)."""
    with tempfile.TemporaryDirectory(prefix="acmeh-dnsup-base-") as wd:
        results = run_harness(wd, "", extra=extra)
    bad = ["%s %s: %s" % (r["id"], r["verdict"], (r.get("message") or "")[:300]) for r in results if r["verdict"] != "pass"]
    return bad, "%d checks pass against the fault-free fake" % sum(r["verdict"] == "pass" for r in results)


def catalog_ids():
    with open(os.path.join(SRC, "suites", "dnsupdate", "catalog.json")) as f:
        return [c["id"] for c in json.load(f)["checks"] if c["role"] == "nameserver"]


def main():
    rowed = set(r[0] for r in ROWS)
    tasks = [("baseline (no faults, whole suite)", run_baseline, ()),
             ("baseline over TCP (every UDP answer truncated)", run_baseline, ("--truncate-udp",))] + \
        [("%s [%s]" % (r[0], r[1]), run_row, r) for r in ROWS]
    return run_rows(BIN, [i for i in catalog_ids() if i not in rowed], tasks, JOBS, message_cap=400)


if __name__ == "__main__":
    sys.exit(main())
