#!/usr/bin/env python3
"""acme-harness matrix against the reference server and Pebble, in two runs
to stay under a minute: --kinds issue (the scriptable fake client, a copy of
it that answers challenges wrongly and lacks tls-alpn-01, and lego when it
is installed) and --kinds renew,revoke,ari,profiles (the fake client, a copy
whose ARI renewal drops "replaces", and a copy with only an issue action
claiming neither ARI nor profiles). Checks the three reports exist and agree: the Markdown table
has one row per client and one "server / kind" column per server x
challenge (issue) or server x kind, the HTML parses (xmllint --html when
installed, else Python's parser) and colours each verdict, the JSON has a
verdict per cell; the broken copy's cells FAIL with the client's last words
and its tls-alpn-01 cells skip with the reason; the fake client passes
renew, revoke, ari and profiles on the reference server (renew and revoke on
Pebble, whose ari and profiles skip: the server does not advertise them);
the no-replaces copy FAILs the ari cell and passes the rest; the issue-only
copy skips each kind saying why; every cell links an existing transcript.
A third run shows the per-request client checks judged in every reference
cell (a copy that fetches with "{}" has CORE-C-008 failed).

Env: ACMEH_BIN (acmeh-fake-client is built beside it under tests/), ACMEH_SOURCE_DIR."""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
TARGET = os.path.join(SRC, "tests", "peers", "fake-client.json")
SERVERS = ["reference", "pebble"] if shutil.which("pebble") else ["reference"]
# The challenge table's types some chosen client answers: the fake client also answers dns-account-01 and dns-persist-01.
CHALLENGES = ["http-01", "dns-01", "tls-alpn-01", "dns-account-01", "dns-persist-01"]
KINDS = ["renew", "revoke", "ari", "profiles"]
NCOLS = len(CHALLENGES) + len(KINDS)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def variant(tmp, name, faults=None, issue_faults=None, challenges=None, claims=None, issue_only=False):
    """A copy of the fake client's target: FAKE_CLIENT_FAULTS for every action
    (faults) or for issue only (issue_faults), fewer challenges, other claims,
    no renew / revoke action."""
    doc = json.load(open(TARGET))
    doc["name"] = name
    if issue_only:
        doc["actions"] = {"issue": doc["actions"]["issue"]}
    for action_name, action in doc["actions"].items():
        f = faults or (issue_faults if action_name == "issue" else None)
        if f:
            action["env"] = {"FAKE_CLIENT_FAULTS": f}
    if challenges:
        doc["challenges"] = challenges
    if claims is not None:
        doc["claims"] = claims
    path = os.path.join(tmp, name + ".json")
    json.dump(doc, open(path, "w"))
    return path


def run_matrix(tmp, label, clients, kinds):
    out = os.path.join(tmp, label)
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, NO_COLOR="1")
    t0 = time.monotonic()
    p = subprocess.run([BIN, "matrix", "--clients", ",".join(clients), "--servers", ",".join(SERVERS), "--out", out,
                        "--kinds", kinds, "--timeout", "60", "--jobs", "2"], env=env, capture_output=True, text=True, timeout=300)
    print(p.stdout, p.stderr, sep="\n")
    print("matrix %s took %.1f s" % (label, time.monotonic() - t0))
    check(p.returncode == 1, "%s: exit status 1 (a cell failed), got %d" % (label, p.returncode))
    # A failed cell keeps the cells' folders, so the whole logs the transcripts name can be read.
    kept = re.search(r"whole logs are kept in (\S+)", p.stdout)
    check(kept and os.path.isdir(kept.group(1)), "%s: the run folder is kept and named after a failed cell" % label)
    if kept:
        t = open(os.path.join(out, "transcripts", os.listdir(os.path.join(out, "transcripts"))[0])).read()
        logs = re.findall(r"\((/tmp/acme-harness-matrix-[^)]+\.log)\)", t)
        check(all(os.path.exists(l) for l in logs), "%s: the logs a transcript names exist: %s" % (label, logs))
        shutil.rmtree(kept.group(1), ignore_errors=True)
    return out


def markdown_rows(out, names, columns):
    lines = open(os.path.join(out, "matrix.md")).read().splitlines()
    rows = [l for l in lines if l.startswith("| ")]
    # Labels carry the targets' versions ("pebble (2.4.0+ds1-2+b4) / http-01",
    # "lego (4.9.1-1)"); the fake client has no version command.
    unversioned = lambda label: re.sub(r" \([^()]*\)( /|$)", r"\1", label)
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    want_cols = ["client"] + ["%s / %s" % (s, c) for s in SERVERS for c in columns]
    check([unversioned(h) for h in header] == want_cols, "md header %s == %s" % (header, want_cols))
    check(all(re.match(r"(reference \(acme-harness \S+\)|pebble \(\d\S*\)) / ", h) for h in header[1:]),
          "every server column names its version: %s" % header[1:])
    body = rows[1:]
    check([unversioned(r.split("|")[1].strip()) for r in body] == names, "md rows are the clients in order: %s" % body)
    check(all(re.match(r"lego \(\d", r.split("|")[1].strip()) for r in body if r.startswith("| lego")),
          "lego's row names its version")
    for r in body:
        check(r.count(" | ") + 1 >= len(want_cols), "md row has a cell per column: %s" % r[:100])
    return body


class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.classes = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td":
            self.classes.append(a.get("class"))
        if tag == "a":
            self.links.append(a.get("href"))


def check_html(out, ncells):
    path = os.path.join(out, "matrix.html")
    if shutil.which("xmllint"):
        p = subprocess.run(["xmllint", "--html", "--noout", path], capture_output=True, text=True)
        check(p.returncode == 0 and not p.stderr.strip(), "xmllint --html accepts matrix.html: %s" % p.stderr[:300])
    text = open(path).read()
    check("<script" not in text, "no script in matrix.html")
    cells = Cells()
    cells.feed(text)
    check(len(cells.classes) == ncells, "a <td> per cell (%d, want %d)" % (len(cells.classes), ncells))
    check({"pass", "fail", "skip"} <= set(cells.classes), "pass, fail and skip cells coloured: %s" % set(cells.classes))
    for href in cells.links:
        check(os.path.isfile(os.path.join(out, href)), "transcript %s exists" % href)


def load_json(out, names, ncols):
    """The JSON report's cells by (client, server, challenge for issue / kind), after the shared checks."""
    doc = json.load(open(os.path.join(out, "matrix.json")))
    cells = doc["cells"]
    check(doc["clients"] == names, "json clients %s" % doc["clients"])
    check(len(doc["columns"]) == len(SERVERS) * ncols, "json has every column")
    check(len(cells) == len(names) * len(SERVERS) * ncols, "json has every cell")
    for c in cells:
        check(c["transcript"] and os.path.isfile(os.path.join(out, c["transcript"])), "json cell links a transcript: %s" % c)
    by = {(c["client"], c["server"], c["challenge"] if c["kind"] == "issue" else c["kind"]): c for c in cells}
    return doc, by


def expect(by, key, verdict, reason_part=""):
    c = by[key]
    ok = c["verdict"] == verdict and reason_part in (c["reason"] or "")
    check(ok, "%s: %s%s (got %s: %s)" % (" x ".join(key), verdict, " " + reason_part if reason_part else "", c["verdict"], c["reason"]))


def check_issue_run(out, names):
    body = markdown_rows(out, names, CHALLENGES)
    broken = next((r for r in body if r.startswith("| fake-broken ")), "")
    check("**FAIL**" in broken and "did not become valid" in broken, "fake-broken row shows FAIL with the reason")
    check("[skip](transcripts/fake-broken--reference--tls-alpn-01.txt): fake-broken lacks tls-alpn-01" in broken, "fake-broken tls-alpn-01 is a skip with its reason")
    check_html(out, len(names) * len(SERVERS) * len(CHALLENGES))
    doc, by = load_json(out, names, len(CHALLENGES))
    for s in SERVERS:
        for ch in CHALLENGES:
            if ch in ("dns-account-01", "dns-persist-01"):  # only the reference server offers them (Pebble 2.4 claims the three RFC types)
                expect(by, ("fake-client", s, ch), "pass" if s == "reference" else "skip", "" if s == "reference" else "does not offer")
                expect(by, ("fake-broken", s, ch), "skip", "lacks " + ch)
                if "lego" in names:
                    expect(by, ("lego", s, ch), "skip", "lacks " + ch)
                continue
            expect(by, ("fake-client", s, ch), "pass")
            expect(by, ("fake-broken", s, ch), "skip" if ch == "tls-alpn-01" else "fail", "" if ch == "tls-alpn-01" else "did not become valid")
            if "lego" in names:
                expect(by, ("lego", s, ch), "pass")
    # The reference server runs inside the harness: the transcript shows its
    # recorded exchanges (the failed challenge's validation included); a
    # server target's transcript shows the tail of its log instead.
    t = open(os.path.join(out, "transcripts", "fake-broken--reference--http-01.txt")).read()
    check("verdict: fail" in t and "client stdout and stderr" in t and "the reference server's exchanges" in t
          and "(challenge) -> 200" in t and "# validation of " in t, "a failing cell's transcript")
    if "pebble" in SERVERS:
        t = open(os.path.join(out, "transcripts", "fake-broken--pebble--http-01.txt")).read()
        check("verdict: fail" in t and "server log" in t, "a failing Pebble cell's transcript has the server's log")
    check(doc["summary"]["fail"] == 2 * len(SERVERS), "summary counts the failures: %s" % doc["summary"])


def check_kinds_run(out, names):
    body = markdown_rows(out, names, KINDS)
    noreplaces = next((r for r in body if r.startswith("| fake-noreplaces ")), "")
    check("[**FAIL**](transcripts/fake-noreplaces--reference--ari.txt)" in noreplaces and "carried no replaces" in noreplaces,
          "fake-noreplaces row shows the ari FAIL with the reason")
    check_html(out, len(names) * len(SERVERS) * len(KINDS))
    doc, by = load_json(out, names, len(KINDS))
    for s in SERVERS:
        ref = s == "reference"
        for k in ["renew", "revoke"]:
            expect(by, ("fake-client", s, k), "pass")
            expect(by, ("fake-noreplaces", s, k), "pass")
            expect(by, ("fake-plain", s, k), "skip", 'fake-plain has no "%s" action' % k)
        expect(by, ("fake-client", s, "ari"), "pass" if ref else "skip", "replaced" if ref else "server does not advertise renewalInfo")
        expect(by, ("fake-client", s, "profiles"), "pass" if ref else "skip",
               "profile shortlived" if ref else "server does not advertise meta.profiles")
        expect(by, ("fake-noreplaces", s, "ari"), "fail" if ref else "skip", "carried no replaces" if ref else "renewalInfo")
        expect(by, ("fake-noreplaces", s, "profiles"), "pass" if ref else "skip")
        expect(by, ("fake-plain", s, "ari"), "skip", "client does not implement ARI")
        expect(by, ("fake-plain", s, "profiles"), "skip", "client does not implement profiles")
    t = open(os.path.join(out, "transcripts", "fake-noreplaces--reference--ari.txt")).read()
    check("client actions: issue, renew" in t and "(renewalInfo) -> 200" in t, "the ari transcript shows the steps and the server's exchanges")
    if "pebble" in SERVERS:
        t = open(os.path.join(out, "transcripts", "fake-client--pebble--revoke.txt")).read()
        check("harness probe: GET https://" in t and "Status Revoked" in t, "Pebble's revocation looked up on its management port")
    check(doc["summary"]["fail"] == 1, "summary counts the one failure: %s" % doc["summary"])


def check_request_checks(tmp):
    """Every observed cell also runs the per-request client checks (the suites'
    live judges, as `serve` runs them) over its exchanges: a client that
    fetches with "{}" instead of the empty payload has CORE-C-008 listed as
    failed in every reference cell; the correct one none; server targets are
    not judged (their exchanges are not seen)."""
    braces = variant(tmp, "fake-braces", faults="fetch-with-braces", challenges=["http-01"])
    out = run_matrix(tmp, "requests", [TARGET, braces], "issue")
    cells = json.load(open(os.path.join(out, "matrix.json")))["cells"]
    for c in cells:
        rq = c.get("request_checks")
        where = "%s x %s %s" % (c["client"], c["server"], c["challenge"])
        if c["server"] != "reference" or c["verdict"] == "skip":
            check(rq is None, "%s: no request checks (not observed or not run): %s" % (where, rq))
        elif c["client"] == "fake-braces":
            check(rq and rq["judged"] >= 5 and rq["failed"] == ["CORE-C-008"], "%s: CORE-C-008 failed: %s" % (where, rq))
        else:
            check(rq and rq["judged"] >= 5 and rq["failed"] == [], "%s: every request check passed: %s" % (where, rq))
    md = open(os.path.join(out, "matrix.md")).read()
    check("request checks failed: CORE-C-008" in md, "matrix.md names the failed request check")
    t = open(os.path.join(out, "transcripts", "fake-braces--reference--http-01.txt")).read()
    check("CORE-C-008: FAIL on 1 of" in t and "got request #" in t, "the transcript gives the failed request check and its request")


def main():
    if not os.access(FAKE, os.X_OK):
        print("SKIP: %s not built" % FAKE)
        return 0
    lego = ["lego"] if shutil.which("lego") else []
    with tempfile.TemporaryDirectory(prefix="acmeh-matrix-") as tmp:
        broken = variant(tmp, "fake-broken", issue_faults="wrong-keyauth", challenges=["http-01", "dns-01"])
        out = run_matrix(tmp, "issue", [TARGET, broken] + lego, "issue")
        check_issue_run(out, ["fake-client", "fake-broken"] + lego)
        plain = variant(tmp, "fake-plain", claims={"ari": False, "profiles": False}, issue_only=True)
        clients = [TARGET, variant(tmp, "fake-noreplaces", faults="no-replaces"), plain]
        out = run_matrix(tmp, "kinds", clients, ",".join(KINDS))
        check_kinds_run(out, ["fake-client", "fake-noreplaces", "fake-plain"])
        check_request_checks(tmp)
    print("%d problem(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
