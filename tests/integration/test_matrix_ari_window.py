#!/usr/bin/env python3
"""issue 13: the matrix's renew and ari kinds on Pebble 2.10 (claim
"set_renewal_info"): between the client's issue and renew steps the harness
moves the first certificate's renewal window into the past through Pebble's
management API (POST /set-renewal-info/), then judges from Pebble's log. Four
copies of the fake client (tests/peers/fake_client.c), each claiming
renew_when_due:
  fresh     renew forgets its schedule and asks again, renews: ari PASS, renew PASS;
  nofetch   renew forgets its schedule, asks, sees the due window and does not
            renew (fault ignore-due-window): ari FAIL;
  blind     renew issues again without asking for RenewalInfo: ari SKIP
            ("not shown to be ARI's decision");
  patient   the correct fake client, which keeps the 6 h Retry-After of its
            first fetch: ari and renew SKIP ("did not ask for RenewalInfo again").
Skipped (exit 77) when Pebble 2.10 is not unpacked.

Env: ACMEH_BIN (acmeh-fake-client is built beside it under tests/), ACMEH_SOURCE_DIR."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
if not os.access("/opt/acme-harness/pebble-2.10/usr/bin/pebble", os.X_OK):
    print("SKIP: Pebble 2.10 is not unpacked into /opt/acme-harness/pebble-2.10 (run ci/setup)")
    sys.exit(77)

FORGET = "rm -f \"$WORK_DIR/ari.json\"; exec \"$ACMEH_FAKE_CLIENT\" "


def variant(tmp, name, renew_cmd=None, renew_env=None):
    doc = json.load(open(os.path.join(SRC, "tests", "peers", "fake-client.json")))
    doc["name"] = name
    doc["challenges"] = ["http-01"]
    doc["claims"]["renew_when_due"] = True
    if renew_cmd:
        doc["actions"]["renew"]["command"] = ["sh", "-c", renew_cmd]
    if renew_env:
        doc["actions"]["renew"]["env"] = renew_env
    path = os.path.join(tmp, name + ".json")
    json.dump(doc, open(path, "w"))
    return path


failures = []


def expect(cells, client, kind, verdict, words):
    c = cells.get((client, kind))
    ok = c and c["verdict"] == verdict and words in c["reason"]
    print("%s %s x pebble-2.10 %s: %s (%s)" % ("ok  " if ok else "FAIL", client, kind, c and c["verdict"], c and c["reason"]))
    if not ok:
        failures.append("%s %s: want %s with %r" % (client, kind, verdict, words))


with tempfile.TemporaryDirectory() as tmp:
    clients = [variant(tmp, "fresh", FORGET + "renew"),
               variant(tmp, "nofetch", FORGET + "renew", {"FAKE_CLIENT_FAULTS": "ignore-due-window"}),
               variant(tmp, "blind", "exec \"$ACMEH_FAKE_CLIENT\" issue", {"FAKE_CLIENT_FAULTS": "no-fetch-after-issue"}),
               variant(tmp, "patient")]
    out = os.path.join(tmp, "out")
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, NO_COLOR="1")
    p = subprocess.run([BIN, "matrix", "--clients", ",".join(clients), "--servers", "pebble-2.10", "--kinds", "renew,ari",
                        "--out", out, "--timeout", "60", "--jobs", "2"], env=env, capture_output=True, text=True, timeout=400)
    print(p.stdout, p.stderr, sep="\n")
    kept = re.search(r"whole logs are kept in (\S+)", p.stdout)  # a failed cell keeps them; nothing outside tmp stays
    if kept:
        shutil.rmtree(kept.group(1), ignore_errors=True)
    if p.returncode != 1:
        failures.append("exit status %d, want 1 (nofetch's ari cell fails)" % p.returncode)
    m = json.load(open(os.path.join(out, "matrix.json")))
    cells = {}
    for c in m["cells"]:
        cells[(c["client"], c["kind"] if "kind" in c else c["column"].split(" / ")[-1])] = c
    expect(cells, "fresh", "ari", "pass", "asked for RenewalInfo, then renewed")
    expect(cells, "fresh", "renew", "pass", "second certificate")
    expect(cells, "nofetch", "ari", "fail", "asked for RenewalInfo after its window was moved into the past (RFC 9773 §4.2: renew), yet the client exited 0 but its certificate is still the first one")
    expect(cells, "blind", "ari", "skip", "not shown to be ARI's decision")
    expect(cells, "patient", "ari", "skip", "did not ask for RenewalInfo again")
    expect(cells, "patient", "renew", "skip", "did not ask for RenewalInfo again")
    t = open(os.path.join(out, "transcripts", "fresh--pebble-2.10--ari.txt")).read()
    if "set-renewal-info/ with window" not in t or "-> 200" not in t:
        failures.append("the fresh ari transcript does not show the set-renewal-info probe")

print("\n".join("FAIL: " + f for f in failures) or "PASS: the ari and renew kinds judge ARI renewals on Pebble 2.10")
sys.exit(1 if failures else 0)
