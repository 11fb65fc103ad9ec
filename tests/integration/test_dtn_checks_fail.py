#!/usr/bin/env python3
"""bp-nodeid-00 (RFC 9891) checks must be able to fail.

1. Vectors: `acme-harness vectors --spec dtn` agrees with the key
   authorization digest and the bundles rebuilt here independently (hashlib,
   python3-cbor2), the draft's Appendix B bytes included.
2. Server side: every DTN-S check that has a rule the harness exercises fails,
   with its message, against the reference server started with the deviation
   that breaks it (`acme-harness serve --dtn-deviation NAME`, through a target
   file); against the plain reference server those pass and the rest skip with
   their stated reason; a server target whose claims lack bp-nodeid-00 gets
   "server does not implement bp-nodeid-00" for every check.
3. Client side: a client target that lists no bp-nodeid-00 gets "client does
   not implement bp-nodeid-00" for every DTN-C check.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite_rows  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
CLIENT = os.path.join(SRC, "tests", "peers", "fake-client.json")

# (server deviation, checks that must fail, substring of each failure message)
SERVER_ROWS = [
    ("lenient-eid", {"DTN-S-002": "refused with malformed", "DTN-S-003": "refused with malformed",
                     "DTN-S-005": "after the response POST"}),
    ("any-scheme", {"DTN-S-004": "refused with rejectedIdentifier"}),
    ("any-eid-node", {"DTN-S-006": "no bp-nodeid-00 challenge for an EID that is not a Node ID"}),
    ("short-id-chal", {"DTN-S-007": "of at least 128 bits each"}),
    ("token-chal-in-bundle", {"DTN-S-008": "token-chal never on the BP channel"}),
    ("no-ack-flag", {"DTN-S-009": "flags 0x02 and 0x20"}),
    ("no-sha256", {"DTN-S-010": "without -16 (SHA-256)"}),
    ("fixed-token-bundle", {"DTN-S-011": "own random token-bundle"}),
    ("any-source", {"DTN-S-015": "source is not the Node ID", "DTN-S-022": "from another source",
                    "DTN-S-023": "from another source"}),
    ("any-token", {"DTN-S-017": "matches no Challenge Bundle"}),
    ("any-alg", {"DTN-S-018": "was not offered"}),
    ("any-digest", {"DTN-S-019": "wrong order"}),
    ("accept-silence", {"DTN-S-021": "no Response Bundle arrives"}),
    ("ignore-rtt", {"DTN-S-014": "about 2 x rtt = 6 s"}),
    ("late-ok", {"DTN-S-016": "after the Challenge Bundle's lifetime"}),
]
# Checks the harness does not exercise yet: skip, with these words, even on the reference server.
SKIPS = {"DTN-S-012": "BPSec", "DTN-S-020": "BPSec", "DTN-S-013": "not exercised", "DTN-S-024": "not exercised", "DTN-S-026": "not exercised", "DTN-S-028": "not exercised"}


def check_vectors():
    p = subprocess.run([BIN, "vectors", "--spec", "dtn"], capture_output=True, text=True, timeout=30)
    if p.returncode:
        return ["vectors --spec dtn exit %d: %s" % (p.returncode, p.stderr[-300:])]
    problems, seen = [], 0
    for doc in json.loads(p.stdout).values():
        for v in doc["vectors"]:
            i, e = v["input"], v["expected"]
            if i["op"] == "dtn_keyauth":
                ka = i["token_bundle"] + i["token_chal"] + "." + i["thumbprint"]
                if e["key_authorization"] != ka or e["digest_hex"] != hashlib.sha256(ka.encode()).hexdigest():
                    problems.append("vector %s: key authorization or digest differs" % v["name"])
            elif i["op"] == "dtn_bundle":
                b = cbor2.loads(bytes.fromhex(e["bundle_hex"]))
                rec = cbor2.loads(b[-1][4])
                if b[0][1] != i["flags"] or rec[0] != i["type_code"] or rec[1][1] != unb64(i["id_chal"]) or rec[1][2] != unb64(i["token_bundle"]):
                    problems.append("vector %s: bundle fields differ" % v["name"])
                if e["record_hex"] != b[-1][4].hex():
                    problems.append("vector %s: record bytes differ from the payload" % v["name"])
            seen += 1
    if seen < 10:
        problems.append("only %d vectors" % seen)
    return problems


def unb64(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def results(cmd):
    return suite_rows.results(cmd, None, "acmeh-dtn-")


def server_run(deviation, checks, claims=None):
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    t["name"] = "reference-dtn-" + (deviation or "plain")
    if deviation:
        t["command"] += ["--dtn-deviation", deviation]
    if claims is not None:
        t["claims"] = claims
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(t, f)
    try:
        sel = ["--check", ",".join(checks)] if checks else ["--suite", "dtn"]
        return results([BIN, "run", "--server", f.name, "--jobs", "2"] + sel)
    finally:
        os.unlink(f.name)


judge = suite_rows.judge


def server_row(row):
    dev, want = row
    return judge(server_run(dev, list(want)), want, "fail", "server --dtn-deviation " + dev)


def baselines():
    problems = []
    got = server_run(None, None)
    ids = sorted(i for i in got if i.startswith("DTN-S-"))
    if len(ids) != 28:
        problems.append("reference server: %d DTN-S checks" % len(ids))
    for i, (v, m) in got.items():
        want = ("skip", SKIPS[i]) if i in SKIPS else ("pass", "")
        if v != want[0] or want[1] not in m:
            problems.append("reference %s: %s %s" % (i, v, m[:300]))
    none = server_run(None, None, claims={"challenges": ["http-01"]})
    problems += ["claims without bp-nodeid-00 %s: %s %r" % (i, v, m[:200]) for i, (v, m) in none.items()
                 if v != "skip" or "server does not implement bp-nodeid-00" not in m]
    cl = results([BIN, "run", "--client", CLIENT, "--suite", "dtn"])
    if len(cl) != 13:
        problems.append("fake client: %d DTN-C checks" % len(cl))
    problems += ["fake client %s: %s %r" % (i, v, m[:200]) for i, (v, m) in cl.items()
                 if v != "skip" or "client does not implement bp-nodeid-00" not in m]
    return problems


def main():
    return suite_rows.finish(check_vectors(), [baselines] + [functools.partial(server_row, r) for r in SERVER_ROWS])


if __name__ == "__main__":
    sys.exit(main())
