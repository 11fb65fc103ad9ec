#!/usr/bin/env python3
"""dns-persist-01 bad input gets a verdict, never a crash or a hang.

The fake client (tests/peers/fake_client.c) publishes, at
_validation-persist.<name>, a record padded to 64000 octets, a record with
thousands of unknown parameters, a record whose issuer is the non-ASCII
"authörity.example", or a record that is replaced and removed while the
reference server validates it. Each run must end within its time-out with a
report whose PERSIST-C verdicts are pass, fail or skip (never error), and the
verdicts the rules call for: the padded and the many-parameter records
validate (unknown parameters are ignored, strings are joined), the non-ASCII
issuer is not one of the server's (PERSIST-C-002 fails), the flapping record
gets whichever verdict the lookup saw.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
CLIENT = os.path.join(SRC, "tests", "peers", "fake-client.json")

# (fault, draft, checks that must have exactly this verdict)
ROWS = [
    ("persist-huge-record", "dns-persist-02", {"PERSIST-C-001": "pass", "PERSIST-C-002": "pass", "PERSIST-C-004": "pass"}),
    ("persist-huge-record", "sheurich-dns-persist-00", {"PERSIST-C-004": "pass"}),
    ("persist-many-params", "dns-persist-02", {"PERSIST-C-002": "pass", "PERSIST-C-004": "pass", "PERSIST-C-006": "pass"}),
    ("persist-many-params", "dns-persist-01", {"PERSIST-C-004": "pass"}),
    ("persist-non-ascii-issuer", "dns-persist-02", {"PERSIST-C-002": "fail"}),
    ("persist-flapping", "dns-persist-02", {}),
]


def run(fault, draft):
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, FAKE_CLIENT_FAULTS=fault)
    with tempfile.TemporaryDirectory(prefix="acmeh-persist-bad-") as wd:
        out = os.path.join(wd, "r.json")
        try:
            p = subprocess.run([BIN, "run", "--client", CLIENT, "--suite", "dnspersist", "--jobs", "2", "--draft",
                                "dnspersist=" + draft, "--json", out, "--timeout", "60", "--run-dir", os.path.join(wd, "run")],
                               capture_output=True, text=True, timeout=240, env=env)
        except subprocess.TimeoutExpired:
            return None, "hung (no end within 240 s)"
        if p.returncode not in (0, 1) or not os.path.exists(out):
            return None, "exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-500:])
        with open(out) as f:
            return {r["id"]: (r["verdict"], r.get("message") or "") for r in json.load(f)["results"]}, ""


def row(fault, draft, want):
    got, why = run(fault, draft)
    label = "%s (%s)" % (fault, draft)
    if got is None:
        return ["%s: %s" % (label, why)]
    problems = []
    if len(got) < 7:
        problems.append("%s: only %s" % (label, sorted(got)))
    problems += ["%s %s: %s %r" % (label, i, v, m[:300]) for i, (v, m) in got.items() if v not in ("pass", "fail", "skip")]
    problems += ["%s %s: %s %r (wanted %s)" % (label, i, got.get(i, ("missing", ""))[0], got.get(i, ("", ""))[1][:300], v)
                 for i, v in want.items() if got.get(i, ("missing", ""))[0] != v]
    return problems


def main():
    problems = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for f in [ex.submit(row, *r) for r in ROWS]:
            problems += f.result()
    for p in problems:
        print("FAIL", p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
