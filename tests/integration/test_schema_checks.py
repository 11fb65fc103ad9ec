#!/usr/bin/env python3
"""Object schemas (issue 12 item 3): the scriptable fake server
(tests/peers/fake_acme.py) sends one malformed field of one object kind, the
whole suite runs, and exactly that kind's schema check fails (CORE-S-113..118,
ARI-S-016), naming the field once with the first exchange that showed it,
(and for a client, CORE-C-048 over the payloads of every scenario)
plus at most the checks whose own rule the field breaks; every other check
passes, skips or is blocked. Before the schema checks these faults failed
no check at all (or only the own-rule ones); the "before" count printed is
the failures outside the schema checks.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR (set by ctest)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_server import fake_acme  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
SCHEMA = {"CORE-S-113", "CORE-S-114", "CORE-S-115", "CORE-S-116", "CORE-S-117", "CORE-S-118", "ARI-S-016"}
# The fake answers every challenge without looking, so these fail without any fault.
NATURAL_FAILS = {"CORE-S-059", "CORE-S-062", "CORE-S-065", "CORE-S-101", "CORE-S-104", "CORE-S-105"}
# fault -> (suite, the schema check, checks whose own rule the field breaks, message text)
CASES = {
    "dir-website-not-url": ("core", "CORE-S-113", set(),
                            "directory.meta.website: not a URI (got \"the fake's home page\") (first in CORE-S-"),
    "account-status-unknown": ("core", "CORE-S-114", {"CORE-S-029", "CORE-S-045"},
                               "account.status: not one of valid,deactivated,revoked (got \"active\") (first in CORE-S-"),
    "order-expires-not-rfc3339": ("core", "CORE-S-115", set(),
                                  "order.expires: not an RFC 3339 timestamp (got \"tomorrow\") (first in CORE-S-"),
    "authz-wildcard-string": ("core", "CORE-S-116", set(),
                              "authorization.wildcard: not a boolean (got \"no\") (first in CORE-S-"),
    "challenge-validated-not-rfc3339": ("core", "CORE-S-117", set(),
                                        "challenge.validated: not an RFC 3339 timestamp (got \"just now\") (first in CORE-S-"),
    "problem-status-string": ("core", "CORE-S-118", set(),
                              "problem.status: not an integer (got \"400\") (first in CORE-S-"),
    "ari-window-not-rfc3339": ("ari", "ARI-S-016", {"ARI-S-003", "ARI-S-004", "ARI-S-007", "ARI-S-015"},
                               "renewalInfo.suggestedWindow.start: not an RFC 3339 timestamp (got \"tomorrow\") (first in ARI-S-"),
}


def out_of_time(r):
    """CORE-S-009 sends 1000 HEAD newNonce to the Python fake: on a loaded
    machine it can run out of its time budget, which says nothing of schemas."""
    return r["id"] == "CORE-S-009" and "time budget ran out" in (r["message"] or "")


def run(fault, suite, wd):
    with fake_acme(fault, wd) as (url, ca):
        out = os.path.join(wd, "r.json")
        subprocess.run([BIN, "run", "--server-url", url, "--ca", ca, "--suite", suite,
                        "--json", out, "--jobs", "4", "--timeout", "20"], capture_output=True, timeout=600)
        return {r["id"]: r for r in json.load(open(out))["results"]}


def main():
    problems = []
    for fault, (suite, check, own, text) in CASES.items():
        with tempfile.TemporaryDirectory(prefix="acmeh-schema-") as wd:
            res = run(fault, suite, wd)
        failed = {i for i, r in res.items() if r["verdict"] in ("fail", "error") and not out_of_time(r)} - NATURAL_FAILS
        print("%-32s before %d failed (%s), after %d failed (%s)" % (
            fault, len(failed - SCHEMA), " ".join(sorted(failed - SCHEMA)), len(failed), " ".join(sorted(failed))))
        r = res.get(check, {})
        m = r.get("message") or ""
        if r.get("verdict") != "fail" or text not in m:
            problems.append("%s: %s %s: %s" % (fault, check, r.get("verdict"), m[:400]))
        if m.count(text.split(" (first in")[0]) != 1:
            problems.append("%s: %s names the field %d times, want once: %s" % (fault, check, m.count(text.split(" (first in")[0]), m[:400]))
        if failed - own - {check}:
            problems.append("%s: other checks failed: %s" % (fault, "; ".join(
                "%s %s" % (i, (res[i]["message"] or "")[:200]) for i in sorted(failed - own - {check}))))
        for other in SCHEMA & set(res) - {check}:
            if res[other]["verdict"] != "pass":
                problems.append("%s: %s is %s, want pass: %s" % (fault, other, res[other]["verdict"], (res[other]["message"] or "")[:200]))
    problems += alone()
    problems += client_requests()
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


def alone():
    """A schema check run alone receives its own objects; run where the kind
    never arrives (no renewalInfo), it skips saying so."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="acmeh-schema-") as wd, fake_acme("order-expires-not-rfc3339,no-renewalinfo", wd) as (url, ca):
        out = os.path.join(wd, "r.json")
        subprocess.run([BIN, "run", "--server-url", url, "--ca", ca, "--check", "CORE-S-115,CORE-S-118,ARI-S-016", "--json", out],
                       capture_output=True, timeout=300)
        res = {r["id"]: r for r in json.load(open(out))["results"]}
    want = {"CORE-S-115": ("fail", "(first in CORE-S-115: POST "), "CORE-S-118": ("pass", "problem object"),
            "ARI-S-016": ("skip", "renewalInfo")}
    for cid, (verdict, text) in want.items():
        r = res.get(cid, {})
        if r.get("verdict") != verdict or text not in (r.get("message") or ""):
            problems.append("alone: %s %s: %s" % (cid, r.get("verdict"), (r.get("message") or "")[:300]))
    print("alone: %s" % ("ok" if not problems else problems))
    return problems


def client_requests():
    """The fake client (tests/peers/fake_client.c) sends onlyReturnExisting as
    a string in every newAccount, which the reference server ignores: over the
    whole core client suite only CORE-C-048 fails, naming the field once with
    the first scenario and request and the other scenarios that sent it."""
    fake = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
    target = os.path.join(os.environ["ACMEH_SOURCE_DIR"], "tests", "peers", "fake-client.json")
    problems = []
    with tempfile.TemporaryDirectory(prefix="acmeh-schema-") as wd:
        out = os.path.join(wd, "r.json")
        env = dict(os.environ, ACMEH_FAKE_CLIENT=fake, FAKE_CLIENT_FAULTS="only-return-existing-string")
        subprocess.run([BIN, "run", "--client", target, "--suite", "core", "--jobs", "2", "--json", out,
                        "--run-dir", os.path.join(wd, "run")], env=env, capture_output=True, timeout=900)
        res = {r["id"]: r for r in json.load(open(out))["results"]}
    failed = {i for i, r in res.items() if r["verdict"] in ("fail", "error")}
    m = res.get("CORE-C-048", {}).get("message") or ""
    text = 'newAccount.onlyReturnExisting: not a boolean (got "no") (first in scenario '
    print("client only-return-existing-string: before %d failed (%s), after %d failed (%s)" % (
        len(failed - {"CORE-C-048"}), " ".join(sorted(failed - {"CORE-C-048"})), len(failed), " ".join(sorted(failed))))
    if failed != {"CORE-C-048"}:
        problems.append("client: failed %s, want only CORE-C-048" % sorted(failed))
    if text not in m or m.count(text) != 1 or ": request #" not in m or " more: scenario " not in m:
        problems.append("client: CORE-C-048 message: %s" % m[:500])
    return problems


if __name__ == "__main__":
    sys.exit(main())
