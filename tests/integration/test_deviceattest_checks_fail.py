#!/usr/bin/env python3
"""device-attest-01 (draft-ietf-acme-device-attest) checks must be able to fail.

1. Vectors: `acme-harness vectors --spec deviceattest` agrees with what is
   computed here independently (hashlib; the DER of the identifier vectors
   by a small DER writer of this test, not the harness's ASN.1 templates).
2. Server side: every DA-S check fails, with its message, against the
   reference server started with the deviation that breaks its rule
   (`acme-harness serve --device-attest MODE`, through a target file); all
   pass against the plain reference server for each revision
   (--draft deviceattest=device-attest-01 / -09); with --device-attest off
   and device-attest-01 not in the target's claims every check is skipped
   with "does not support".

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import functools
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

# (server mode, checks that must fail, substring of each failure message)
SERVER_ROWS = [
    ("no-abnf", {"DA-S-001": "newOrder for permanent-identifier \"A/B/1.2\" refused as malformed",
                 "DA-S-002": "newOrder for hardware-module \"ABCD\" refused as malformed"}),
    ("short-token", {"DA-S-003": "a token of >= 22 base64url characters"}),
    ("any-format", {"DA-S-004": "badAttestationStatement when attObj is truncated CBOR; got challenge \"valid\""}),
    ("any-nonce", {"DA-S-005": "badAttestationStatement when the attestation signs another key authorization; got challenge \"valid\""}),
    ("any-identifier", {"DA-S-006": "badAttestationStatement when the attestation names another device; got challenge \"valid\""}),
    ("strict-fields", {"DA-S-007": "unknown fields ignored"}),
    ("any-csr", {"DA-S-008": "finalize with a CSR naming another permanent-identifier refused",
                 "DA-S-010": "finalize with a CSR for another key than the attested one refused"}),
    ("need-san", {"DA-S-009": "(privacy mode) accepted"}),
]


def der_len(n):
    return bytes([n]) if n < 128 else bytes([0x81, n])


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def oid(text):
    arcs = [int(a) for a in text.split(".")]
    out = bytes([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.insert(0, 0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(enc)
    return tlv(0x06, out)


def devid_der(typ, value):
    if typ == "permanent-identifier":
        ident, _, assigner = value.partition("/")
        return tlv(0x30, tlv(0x0C, ident.encode()) + (oid(assigner) if assigner else b"")).hex()
    serial, _, hwtype = value.partition("/")
    return tlv(0x30, oid(hwtype) + tlv(0x04, serial.encode())).hex()


def check_vectors():
    p = subprocess.run([BIN, "vectors", "--spec", "deviceattest"], capture_output=True, text=True, timeout=30)
    if p.returncode:
        return ["vectors --spec deviceattest exit %d: %s" % (p.returncode, p.stderr[-300:])]
    problems, seen = [], 0
    for doc in json.loads(p.stdout).values():
        for v in doc["vectors"]:
            i, e = v["input"], v["expected"]
            if i["op"] == "devid_der" and e["der"] is not None and devid_der(i["type"], i["value"]) != e["der"]:
                problems.append("vector %s: %s, computed %s" % (v["name"], e["der"], devid_der(i["type"], i["value"])))
            if i["op"] == "tpm_statement" and e["valid"] and (
                    e["name"] != "000b" + hashlib.sha256(bytes.fromhex(i["pub_area"])).hexdigest()
                    or e["extra_data"] != hashlib.sha256(i["key_authorization"].encode()).hexdigest()
                    or e["extra_data"] not in i["cert_info"] or e["name"] not in i["cert_info"]):
                problems.append("vector %s: certInfo does not hold the name and extraData computed here" % v["name"])
            if i["op"] == "sha256" and hashlib.sha256(i["text"].encode()).hexdigest() != e["sha256"]:
                problems.append("vector %s: sha256 differs" % v["name"])
            seen += 1
    if seen < 15:
        problems.append("only %d vectors" % seen)
    return problems


def results(cmd):
    return suite_rows.results(cmd, None, "acmeh-da-")


def server_run(mode, checks, draft=None):
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    if mode == "off":  # a server that claims no device-attest-01: its refusals are skips
        t["claims"]["challenges"].remove("device-attest-01")
    t["name"] = "reference-da-" + mode
    t["command"] += ["--device-attest", mode]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(t, f)
    try:
        sel = ["--check", ",".join(checks)] if checks else ["--suite", "deviceattest"]
        sel += ["--draft", "deviceattest=" + draft] if draft else []
        return results([BIN, "run", "--server", f.name, "--jobs", "2"] + sel)
    finally:
        os.unlink(f.name)


judge = suite_rows.judge


def server_row(row):
    mode, want = row
    return judge(server_run(mode, list(want)), want, "fail", "server --device-attest " + mode)


def baselines():
    problems = []
    for draft, count in (("device-attest-09", 10), ("device-attest-01", 6)):
        got = server_run("on", None, draft)
        if len(got) != count:
            problems.append("reference server %s: %d checks %s" % (draft, len(got), sorted(got)))
        problems += ["reference %s %s: %s %s" % (draft, i, v, m[:300]) for i, (v, m) in got.items() if v != "pass"]
    off = server_run("off", None)
    problems += ["--device-attest off %s: %s %r" % (i, v, m[:200]) for i, (v, m) in off.items()
                 if v != "skip" or "does not support" not in m]
    return problems


def main():
    return suite_rows.finish(check_vectors(), [baselines] + [functools.partial(server_row, r) for r in SERVER_ROWS])


if __name__ == "__main__":
    sys.exit(main())
