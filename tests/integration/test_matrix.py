#!/usr/bin/env python3
"""acme-harness matrix: a small matrix (the scriptable fake client, a copy of
it that answers challenges wrongly and lacks tls-alpn-01, and lego when it is
installed) against the reference server and Pebble. Checks the three reports
exist and agree: the Markdown table has one row per client and one column per
server x challenge, the HTML parses (xmllint --html when installed, else
Python's parser) and colours each verdict, the JSON has a verdict per cell;
the broken copy's cells FAIL with the client's last words, its tls-alpn-01
cells are skips with the reason, and every cell links an existing transcript.

Env: ACMEH_BIN (acmeh-fake-client is built beside it under tests/), ACMEH_SOURCE_DIR."""
import html.parser
import json
import os
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
CHALLENGES = ["http-01", "dns-01", "tls-alpn-01"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def broken_target(tmp):
    """The fake client answering with a wrong key authorization: the server
    refuses every challenge, so the client exits 1 without a certificate."""
    doc = json.load(open(TARGET))
    doc["name"] = "fake-broken"
    doc["challenges"] = ["http-01", "dns-01"]
    doc["actions"]["issue"]["env"] = {"FAKE_CLIENT_FAULTS": "wrong-keyauth"}
    path = os.path.join(tmp, "fake-broken.json")
    json.dump(doc, open(path, "w"))
    return path


def run_matrix(tmp, clients):
    out = os.path.join(tmp, "out")
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, NO_COLOR="1")
    t0 = time.monotonic()
    p = subprocess.run([BIN, "matrix", "--clients", ",".join(clients), "--servers", ",".join(SERVERS), "--out", out,
                        "--timeout", "60", "--jobs", "2"], env=env, capture_output=True, text=True, timeout=300)
    print(p.stdout, p.stderr, sep="\n")
    print("matrix took %.1f s" % (time.monotonic() - t0))
    check(p.returncode == 1, "exit status 1 (a cell failed), got %d" % p.returncode)
    return out


def check_markdown(out, names):
    lines = open(os.path.join(out, "matrix.md")).read().splitlines()
    rows = [l for l in lines if l.startswith("| ")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    want_cols = ["client"] + ["%s %s" % (s, c) for s in SERVERS for c in CHALLENGES]
    check(header == want_cols, "md header %s == %s" % (header, want_cols))
    body = rows[1:]
    check([r.split("|")[1].strip() for r in body] == names, "md rows are the clients in order: %s" % body)
    for r in body:
        check(r.count(" | ") + 1 >= len(want_cols), "md row has a cell per column: %s" % r[:100])
    broken = next((r for r in body if r.startswith("| fake-broken ")), "")
    check("**FAIL**" in broken and "did not become valid" in broken, "fake-broken row shows FAIL with the reason")
    check("[skip](transcripts/fake-broken--reference--tls-alpn-01.txt): fake-broken lacks tls-alpn-01" in broken, "fake-broken tls-alpn-01 is a skip with its reason")


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


def check_json(out, names):
    doc = json.load(open(os.path.join(out, "matrix.json")))
    cells = doc["cells"]
    check(doc["clients"] == names, "json clients %s" % doc["clients"])
    check(len(cells) == len(names) * len(SERVERS) * 3, "json has every cell")
    by = {(c["client"], c["server"], c["challenge"]): c for c in cells}
    for s in SERVERS:
        for ch in CHALLENGES:
            v = by[("fake-client", s, ch)]["verdict"]
            check(v == "pass", "fake-client x %s %s passes (got %s: %s)" % (s, ch, v, by[("fake-client", s, ch)]["reason"]))
            b = by[("fake-broken", s, ch)]
            check(b["verdict"] == ("skip" if ch == "tls-alpn-01" else "fail"), "fake-broken x %s %s: %s" % (s, ch, b))
            if "lego" in names:
                v = by[("lego", s, ch)]
                check(v["verdict"] == "pass", "lego x %s %s passes (got %s: %s)" % (s, ch, v["verdict"], v["reason"]))
    for c in cells:
        check(c["transcript"] and os.path.isfile(os.path.join(out, c["transcript"])), "json cell links a transcript: %s" % c)
    t = open(os.path.join(out, "transcripts", "fake-broken--reference--http-01.txt")).read()
    check("verdict: fail" in t and "client stdout and stderr" in t and "server log" in t, "a failing cell's transcript")
    check(doc["summary"]["fail"] == 2 * len(SERVERS), "summary counts the failures: %s" % doc["summary"])


def main():
    if not os.access(FAKE, os.X_OK):
        print("SKIP: %s not built" % FAKE)
        return 0
    with tempfile.TemporaryDirectory(prefix="acmeh-matrix-") as tmp:
        clients = [TARGET, broken_target(tmp)] + (["lego"] if shutil.which("lego") else [])
        names = ["fake-client", "fake-broken"] + (["lego"] if shutil.which("lego") else [])
        out = run_matrix(tmp, clients)
        check_markdown(out, names)
        check_html(out, len(names) * len(SERVERS) * 3)
        check_json(out, names)
    print("%d problem(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
