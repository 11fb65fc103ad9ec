#!/usr/bin/env python3
"""dns-account-01 (draft-ietf-acme-dns-account-label) checks must be able to fail.

1. Vectors: `acme-harness vectors --spec dnsaccount` agrees with labels,
   names and TXT values computed here independently (hashlib, base64.b32encode),
   the draft's example, wildcards and long URLs included.
2. Server side: every DNSACCT-S check fails, with its message, against the
   reference server started with the deviation that breaks its rule
   (`acme-harness serve --dns-account MODE`, through a target file); all pass
   against the plain reference server; with --dns-account off every check is
   skipped with "server does not offer dns-account-01".
3. Client side: every DNSACCT-C check fails against tests/peers/fake_client.c
   with the fault that breaks it (FAKE_CLIENT_FAULTS), and passes without.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import base64
import concurrent.futures
import hashlib
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

# (server mode, checks that must fail, substring of each failure message)
SERVER_ROWS = [
    ("short-token", {"DNSACCT-S-001": "a token of >= 22 base64url characters"}),
    ("dns01-name", {"DNSACCT-S-002": "valid with the TXT at the account-scoped name",
                    "DNSACCT-S-003": "only at the dns-01 name _acme-challenge.<name>; got challenge ended \"valid\""}),
    ("label-20-bytes", {"DNSACCT-S-002": "valid with the TXT at the account-scoped name"}),
    ("any-account-label", {"DNSACCT-S-004": "the TXT is under another account's label"}),
    ("any-txt", {"DNSACCT-S-005": "the account-scoped TXT holds another digest"}),
    ("wildcard-star", {"DNSACCT-S-006": "a wildcard authorization valid with the TXT at <label>._acme-challenge.<base name>"}),
    ("bare-error", {"DNSACCT-S-007": "the account URL used for the validation name in the problem document",
                    "DNSACCT-S-009": "of type dns, incorrectResponse or unauthorized"}),
    ("no-cname", {"DNSACCT-S-008": "the challenge valid through a CNAME"}),
]

# (fake client faults, checks that must fail, substring)
CLIENT_ROWS = [
    ("dnsacct-dns01-name", {"DNSACCT-C-001": "a TXT record at the name derived from the client's account URL; got no TXT at _"}),
    ("dnsacct-account-id", {"DNSACCT-C-001": "a TXT record at the name derived from the client's account URL"}),
    ("wrong-keyauth", {"DNSACCT-C-002": "a TXT value base64url(SHA-256(keyAuthorization)); got none of the 1 TXT records"}),
    ("challenge-wrong-payload", {"DNSACCT-C-003": "the payload {} in the challenge response; got request #"}),
    ("dnsacct-keep-txt", {"DNSACCT-C-004": "still at _"}),
    ("dnsacct-wildcard-star", {"DNSACCT-C-005": "a TXT record at the name derived from the client's account URL"}),
]


def label(url):
    return "_" + base64.b32encode(hashlib.sha256(url.encode()).digest()[:10]).decode().lower()


def txt(keyauth):
    return base64.urlsafe_b64encode(hashlib.sha256(keyauth.encode()).digest()).decode().rstrip("=")


def check_vectors():
    p = subprocess.run([BIN, "vectors", "--spec", "dnsaccount"], capture_output=True, text=True, timeout=30)
    if p.returncode:
        return ["vectors --spec dnsaccount exit %d: %s" % (p.returncode, p.stderr[-300:])]
    problems, seen = [], 0
    for doc in json.loads(p.stdout).values():
        for v in doc["vectors"]:
            i, e = v["input"], v["expected"]
            if i["op"] == "dnsaccount_name":
                wild = i["identifier"].startswith("*.")
                base = i["identifier"][2:] if wild else i["identifier"]
                # "scheme": "scoped" is draft-ietf-acme-scoped-dns-challenges-00's scope label
                under = "_acme-challenge" if i.get("scheme") != "scoped" else "_acme-wildcard-challenge" if wild else "_acme-host-challenge"
                name = label(i["account_url"]) + "." + under + "." + base.rstrip(".")
                want = name if len(name) <= 253 else None
                if e["label"] != label(i["account_url"]) or e["name"] != want:
                    problems.append("vector %s: expected %s / %s, computed %s / %s" % (v["name"], e["label"], e["name"], label(i["account_url"]), want))
            elif i["op"] == "dnsaccount_txt":
                ka = i["token"] + "." + i["thumbprint"]
                if e["key_authorization"] != ka or e["txt"] != txt(ka):
                    problems.append("vector %s: TXT %s, computed %s" % (v["name"], e["txt"], txt(ka)))
            elif i["op"] == "base32":
                b = base64.b32encode(bytes.fromhex(i["hex"])).decode()
                if e["upper"] != b or e["lower"] != b.lower():
                    problems.append("vector %s: base32 %s, computed %s" % (v["name"], e["upper"], b))
            seen += 1
    # The draft's example must be among them, exactly.
    if label("https://example.com/acme/acct/ExampleAccount") != "_ujmmovf2vn55tgye":
        problems.append("independent label of the draft's example is wrong")
    if seen < 10:
        problems.append("only %d vectors" % seen)
    return problems


def results(cmd, env=None):
    return suite_rows.results(cmd, env, "acmeh-dnsacct-")


def server_run(mode, checks):
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    t["name"] = "reference-dnsacct-" + mode
    t["command"] += ["--dns-account", mode]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(t, f)
    try:
        sel = ["--check", ",".join(checks)] if checks else ["--suite", "dnsaccount"]
        return results([BIN, "run", "--server", f.name, "--jobs", "2"] + sel)
    finally:
        os.unlink(f.name)


judge = suite_rows.judge


def server_row(row):
    mode, want = row
    return judge(server_run(mode, list(want)), want, "fail", "server --dns-account " + mode)


def client_run(faults, checks):
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, FAKE_CLIENT_FAULTS=faults)
    return results([BIN, "run", "--client", CLIENT, "--check", ",".join(checks), "--jobs", "2"], env)


def client_row(row):
    faults, want = row
    return judge(client_run(faults, list(want)), want, "fail", "fake client " + faults)


def baselines():
    problems = []
    got = server_run("on", None)
    ids = sorted(i for i in got if i.startswith("DNSACCT-S-"))
    if len(ids) < 9:
        problems.append("reference server: only %s" % ids)
    problems += ["reference %s: %s %s" % (i, v, m[:300]) for i, (v, m) in got.items() if v != "pass"]
    off = server_run("off", None)
    problems += ["--dns-account off %s: %s %r" % (i, v, m[:200]) for i, (v, m) in off.items()
                 if v != "skip" or "server does not offer dns-account-01" not in m]
    cl = client_run("", ["DNSACCT-C-*"])
    if len(cl) < 5:
        problems.append("fake client: only %s" % sorted(cl))
    problems += ["fake client %s: %s %s" % (i, v, m[:300]) for i, (v, m) in cl.items() if v != "pass"]
    return problems


def main():
    problems = check_vectors()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = [ex.submit(baselines)] + [ex.submit(server_row, r) for r in SERVER_ROWS] + \
               [ex.submit(client_row, r) for r in CLIENT_ROWS]
        for f in futs:
            problems += f.result()
    for p in problems:
        print("FAIL", p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
