#!/usr/bin/env python3
"""dns-persist-01 cross-revision interop report: for every pair of revisions
(client on A, server on B) the reference client, following A, answers the
reference server, following B (`serve --draft dnspersist=B`), through
PERSIST-S-001 (the issuer list's member), PERSIST-S-003 (-02's directory meta)
and PERSIST-S-004 (a record written by A's rules validates at B). Prints the
matrix: "ok" when A's record validates at B, else what breaks, and fails
unless the table is the one the texts predict: the three pre-01 revisions
share one wire format; -01 servers accept a pre-01 record (their accounturi
is the account URL), but a -01 client finds no accounturi in a pre-01
challenge; -02 interoperates with nothing older (issuerDomainNames, hashed
accounturi, meta).

With --markdown, prints the table as Markdown only (for the README).
Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
REVS = ["sheurich-dns-persist-00", "sheurich-dns-persist-01", "dns-persist-00", "dns-persist-01", "dns-persist-02"]
FORMAT = {"sheurich-dns-persist-00": "-00", "sheurich-dns-persist-01": "-00", "dns-persist-00": "-00",
          "dns-persist-01": "-01", "dns-persist-02": "-02"}
CHECKS = ["PERSIST-S-001", "PERSIST-S-003", "PERSIST-S-004"]


def cell(client_rev, server_rev):
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    t["name"] = "reference-persist-" + server_rev
    t["command"] = [a if a != "${DRAFT}" else "dnspersist=" + server_rev for a in t["command"]]
    with tempfile.TemporaryDirectory(prefix="acmeh-persist-x-") as wd:
        tf, out = os.path.join(wd, "t.json"), os.path.join(wd, "r.json")
        with open(tf, "w") as f:
            json.dump(t, f)
        subprocess.run([BIN, "run", "--server", tf, "--check", ",".join(CHECKS), "--draft", "dnspersist=" + client_rev,
                        "--no-expect", "--json", out, "--timeout", "40", "--run-dir", os.path.join(wd, "run")],
                       capture_output=True, text=True, timeout=300)
        if not os.path.exists(out):
            return "error", "no report"
        res = {r["id"]: r for r in json.load(open(out))["results"]}
    s004 = res.get("PERSIST-S-004", {})
    if s004.get("verdict") == "pass":
        return "ok", ""
    broken = []
    for cid in CHECKS:
        r = res.get(cid)
        if r and r["verdict"] in ("fail", "blocked"):
            m = r.get("message") or ""
            broken.append("%s %s: %s" % (cid, r["verdict"], m.split("; got ", 1)[-1][:160]))
    return "breaks", " | ".join(broken)


def expected_ok(a, b):
    fa, fb = FORMAT[a], FORMAT[b]
    return fa == fb or (fa, fb) == ("-00", "-01")


def main():
    pairs = [(a, b) for a in REVS for b in REVS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        got = dict(zip(pairs, ex.map(lambda p: cell(*p), pairs)))
    md = "--markdown" in sys.argv
    print("| client \\ server | " + " | ".join(REVS) + " |")
    print("|---" * (len(REVS) + 1) + "|")
    for a in REVS:
        print("| %s | %s |" % (a, " | ".join(got[(a, b)][0] for b in REVS)))
    problems = []
    for (a, b), (v, why) in sorted(got.items()):
        if v != "ok" and not md:
            print("%s -> %s: %s" % (a, b, why))
        if (v == "ok") != expected_ok(a, b):
            problems.append("client %s vs server %s: %s %s (expected %s)" % (a, b, v, why, "ok" if expected_ok(a, b) else "breaks"))
        if v == "breaks" and not any(w in why for w in ("issuerDomainNames", "issuer-domain-names", "accountHashPrefix", "does not name account", "accounturi")):
            problems.append("client %s vs server %s: the failure names no differing field or record syntax: %s" % (a, b, why))
    for p in problems:
        print("FAIL", p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
