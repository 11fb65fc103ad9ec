#!/usr/bin/env python3
"""dns-persist-01 (draft-ietf-acme-dns-persist) checks must be able to fail,
under every wire format they apply to.

1. Server side: every PERSIST-S check fails, with its message, against the
   reference server started with the deviation that breaks its rule
   (`acme-harness serve --dns-persist MODE`, through a target file), under
   each wire format: -00 (sheurich-dns-persist-00), -01 and -02.
2. Client side: every PERSIST-C check fails against tests/peers/fake_client.c
   with the fault that breaks it (FAKE_CLIENT_FAULTS), under each wire format.
3. Baselines: the reference server passes every check of every revision; the
   fake client (which tells the revision from the challenge itself) passes
   every client check of every revision; with --dns-persist off every server
   check is skipped with "server does not offer dns-persist-01".
4. Vectors: vectors/dnspersist/gen.py --check recomputes persist.json with
   hashlib (and the draft's own -02 §10.2 digests), and `acme-harness vectors
   --spec dnspersist` prints exactly those vectors.
5. Cross-revision: a server on revision B checked as revision A fails
   PERSIST-S-001 naming the issuer-list member that differs and PERSIST-S-004
   naming the account value the server wanted.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite_rows  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
CLIENT = os.path.join(SRC, "tests", "peers", "fake-client.json")

R0, I1, I2 = "sheurich-dns-persist-00", "dns-persist-01", "dns-persist-02"
ALL = [R0, I1, I2]
REVISIONS = ["sheurich-dns-persist-00", "sheurich-dns-persist-01", "dns-persist-00", "dns-persist-01", "dns-persist-02"]

# (server mode, wire formats, checks that must fail, substring of each failure message)
SERVER_ROWS = [
    ("no-issuers", ALL, {"PERSIST-S-001": "an array of 1..10 issuer domain names"}),
    ("upper-issuer", ALL, {"PERSIST-S-001": "normalized issuer names: lower-case A-labels"}),
    ("no-accounturi-field", [I1], {"PERSIST-S-002": "no accounturi member"}),
    ("no-meta", [I2], {"PERSIST-S-003": "directory meta.accountHashPrefix"}),
    ("any-issuer", ALL, {"PERSIST-S-005": "names an issuer not in the challenge's list"}),
    ("any-account", ALL, {"PERSIST-S-006": "names another account"}),
    ("missing-accounturi-ok", ALL, {"PERSIST-S-007": "the record has no accounturi"}),
    ("ignore-persist-until", ALL, {"PERSIST-S-008": "persistUntil is a day in the past"}),
    ("lax-persist-until", [I1, I2], {"PERSIST-S-009": "not a base-10 integer"}),
    ("ignore-policy", ALL, {"PERSIST-S-010": "has no policy=wildcard"}),
    ("unknown-param-fatal", ALL, {"PERSIST-S-011": "unknown parameter foo=bar"}),
    ("case-sensitive-tags", ALL, {"PERSIST-S-012": "PERSISTUNTIL=<yesterday>"}),
    ("first-record-only", ALL, {"PERSIST-S-013": "three records"}),
    ("duplicate-ok", ALL, {"PERSIST-S-014": "accounturi twice"}),
    ("case-insensitive-account", [I1, I2], {"PERSIST-S-015": "in letter case only"}),
    ("first-string-only", ALL, {"PERSIST-S-016": "over 255 octets"}),
]

# (fake client faults, wire formats, checks that must fail, substring)
CLIENT_ROWS = [
    ("persist-wrong-name", ALL, {"PERSIST-C-001": "a TXT record at _validation-persist.<name>; got"}),
    ("persist-wrong-issuer", ALL, {"PERSIST-C-002": "a record naming an issuer of the challenge's list"}),
    ("persist-ignore-issuers", ALL, {"PERSIST-C-003": "whose issuer list is empty"}),
    ("persist-account-url", [I1, I2], {"PERSIST-C-004": "does not name account"}),
    ("persist-no-policy", ALL, {"PERSIST-C-005": "policy=wildcard in the record"}),
    ("persist-trailing-semicolon", ALL, {"PERSIST-C-006": "empty parameter or trailing"}),
    ("challenge-wrong-payload", ALL, {"PERSIST-C-007": "the payload {} in the challenge response"}),
]


def results(cmd, env=None):
    return suite_rows.results(cmd, env, "acmeh-persist-")


def server_run(mode, draft, checks, server_draft=None):
    """The reference server with --dns-persist mode, checked as revision `draft`;
    server_draft pins the server to another revision (cross-revision runs)."""
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    t["name"] = "reference-persist-" + mode
    t["command"] += ["--dns-persist", mode]
    if server_draft:
        t["command"] = [a if a != "${DRAFT}" else "dnspersist=" + server_draft for a in t["command"]]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(t, f)
    try:
        sel = ["--check", ",".join(checks)] if checks else ["--suite", "dnspersist"]
        return results([BIN, "run", "--server", f.name, "--jobs", "2", "--draft", "dnspersist=" + draft] + sel)
    finally:
        os.unlink(f.name)


judge = suite_rows.judge


def server_row(mode, draft, want):
    return judge(server_run(mode, draft, list(want)), want, "fail", "server --dns-persist %s (%s)" % (mode, draft))


def client_run(faults, draft, checks):
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, FAKE_CLIENT_FAULTS=faults)
    return results([BIN, "run", "--client", CLIENT, "--check", ",".join(checks), "--jobs", "2",
                    "--draft", "dnspersist=" + draft], env)


def client_row(faults, draft, want):
    return judge(client_run(faults, draft, list(want)), want, "fail", "fake client %s (%s)" % (faults, draft))


def baseline(draft):
    problems = []
    got = server_run("on", draft, None)
    if len(got) < 12:
        problems.append("reference server (%s): only %s" % (draft, sorted(got)))
    problems += ["reference (%s) %s: %s %s" % (draft, i, v, m[:300]) for i, (v, m) in got.items() if v != "pass"]
    cl = client_run("", draft, ["PERSIST-C-*"])
    if len(cl) < 7:
        problems.append("fake client (%s): only %s" % (draft, sorted(cl)))
    problems += ["fake client (%s) %s: %s %s" % (draft, i, v, m[:300]) for i, (v, m) in cl.items() if v != "pass"]
    return problems


def off():
    got = server_run("off", I2, None)
    return ["--dns-persist off %s: %s %r" % (i, v, m[:200]) for i, (v, m) in got.items()
            if v != "skip" or "server does not offer dns-persist-01" not in m]


# A server on revision B checked as revision A: what must fail, and the words naming the difference.
CROSS = [
    (I1, I2, {"PERSIST-S-001": "no such member (the challenge has -02's \"issuerDomainNames\")",
              "PERSIST-S-004": "\"issuer-domain-names\" is not an array"}),
    (R0, I2, {"PERSIST-S-004": "\"issuer-domain-names\" is not an array"}),
    (I2, R0, {"PERSIST-S-001": "no such member (the challenge has -00/-01's \"issuer-domain-names\")",
              "PERSIST-S-003": "directory meta.accountHashPrefix",
              "PERSIST-S-004": "\"issuerDomainNames\" is not an array"}),
    (I2, I1, {"PERSIST-S-003": "directory meta.accountHashPrefix"}),
    (I1, R0, {"PERSIST-S-002": "no accounturi member",
              "PERSIST-S-004": "has no \"accounturi\" (-01 §3.1)"}),
]
# ... and the record checks that need the missing -02 meta are blocked on PERSIST-S-003, not failed.
CROSS_BLOCKED = (I2, R0, {"PERSIST-S-005": "no meta.accountHashPrefix in the directory (see PERSIST-S-003)",
                          "PERSIST-S-011": "see PERSIST-S-003"})


def cross(client_rev, server_rev, want, verdict="fail"):
    return judge(server_run("on", client_rev, list(want) + (["PERSIST-S-003"] if verdict == "blocked" else []),
                            server_draft=server_rev), want, verdict,
                 "checks at %s vs server at %s" % (client_rev, server_rev))


def check_vectors():
    problems = []
    p = subprocess.run([sys.executable, os.path.join(SRC, "vectors", "dnspersist", "gen.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode:
        problems.append("gen.py --check: %s" % (p.stdout + p.stderr)[-300:])
    p = subprocess.run([BIN, "vectors", "--spec", "dnspersist"], capture_output=True, text=True, timeout=30)
    with open(os.path.join(SRC, "vectors", "dnspersist", "persist.json")) as f:
        want = json.load(f)["vectors"]
    got = [v for doc in json.loads(p.stdout or "{}").values() for v in doc.get("vectors", [])]
    if p.returncode or got != want:
        problems.append("vectors --spec dnspersist (exit %d) differs from persist.json" % p.returncode)
    return problems


def main():
    problems = check_vectors()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = [ex.submit(baseline, d) for d in REVISIONS] + [ex.submit(off)]
        futs += [ex.submit(server_row, m, d, w) for m, ds, w in SERVER_ROWS for d in ds]
        futs += [ex.submit(client_row, f, d, w) for f, ds, w in CLIENT_ROWS for d in ds]
        futs += [ex.submit(cross, a, b, w) for a, b, w in CROSS]
        futs.append(ex.submit(cross, *CROSS_BLOCKED, verdict="blocked"))
        for f in futs:
            problems += f.result()
    for p in problems:
        print("FAIL", p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
