#!/usr/bin/env python3
"""RFC 9799 (.onion) checks must be able to fail.

1. Vectors: `acme-harness vectors --spec onion` agrees with v3 addresses and
   checksums computed here independently (hashlib.sha3_256, base64.b32decode).
2. Server side: every ONION-S check fails, with its message, against the
   reference server started with the deviation that breaks its rule
   (`acme-harness serve --onion MODE`, through a target file); all pass
   against the plain reference server (with each directory meta flag name);
   with --onion off and no "onion" claim every check but ONION-S-011 is
   skipped with "server does not implement RFC 9799", and with the claim
   ONION-S-001 fails.
3. Client side: every ONION-C check fails against tests/peers/fake_client.c
   (as tests/peers/fake-client-onion.json) with the fault that breaks it
   (FAKE_CLIENT_FAULTS), and all pass without; the plain fake-client.json,
   which claims no "onion", is skipped with "client does not implement
   onion-csr-01" without being run.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import base64
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
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
CLIENT = os.path.join(SRC, "tests", "peers", "fake-client-onion.json")
PLAIN_CLIENT = os.path.join(SRC, "tests", "peers", "fake-client.json")

# (fake client faults, checks that must fail, substring of each failure message)
CLIENT_ROWS = [
    ("onion-uppercase", {"ONION-C-001": "lower-case v3 address (RFC 9799 §2); got {\"type\": \"dns\", \"value\": \""}),
    ("onion-csr-other-key", {"ONION-C-002": "= the onion address's key, signature valid (RFC 9799 §3.2); got another Ed25519 key"}),
    ("onion-nonce-text", {"ONION-C-003": "the challenge nonce's decoded bytes (RFC 9799 §3.2); got other bytes"}),
    ("onion-short-app-nonce", {"ONION-C-004": "of >= 8 random bytes (RFC 9799 §3.2); got fewer than 8 bytes"}),
    ("onion-finalize-onion-key", {"ONION-C-005": "a finalize CSR on a key other than the onion identity key (RFC 9799 §3.2); got the onion key"}),
    ("onion-extra-payload", {"ONION-C-006": "exactly {\"csr\": base64url without padding} (RFC 9799 §3.2); got {"}),
    ("onion-caa-prefix", {"ONION-C-008": "got a signature that does not verify",
                          "ONION-C-014": "got a signature over \"onion-csr|...\""}),
    ("onion-no-caa", {"ONION-C-009": "an onionCAA entry for the onion address in finalize (RFC 9799 §6.4); got onionCAA absent"}),
    ("onion-use-dns01", {"ONION-C-013": "no dns-01 response for a .onion name"}),
    ("onion-caa-empty-string", {"ONION-C-014": "\"caa\": null for a service without CAA records (RFC 9799 §6.4); got \"caa\": \"\""}),
]

# (server args, checks that must fail, substring of each failure message)
SERVER_ROWS = [
    (["--onion", "off"], {"ONION-S-001": "a v3 onion name accepted as a dns identifier"}),
    (["--onion", "v2-ok"], {"ONION-S-002": "newOrder refused for a v2 onion address"}),
    (["--onion", "no-checksum"], {"ONION-S-003": "newOrder refused for a v3 label whose checksum does not match"}),
    (["--onion", "dns01-too"], {"ONION-S-004": "no dns-01 challenge for a .onion identifier (RFC 9799 §3.1.1); got dns-01 offered"}),
    (["--onion", "no-wildcard"], {"ONION-S-005": "an onion-csr-01 challenge for a .onion identifier (RFC 9799 §3.2); got the authorization for *."}),
    (["--onion", "base64url-nonce"], {"ONION-S-006": "padded standard base64 (RFC 4648 §4)"}),
    (["--onion", "short-nonce"], {"ONION-S-006": "decoding to >= 8 bytes"}),
    (["--onion", "nonce-unchecked"], {"ONION-S-007": "one byte of caSigningNonce differs from the nonce; got challenge ended \"valid\""}),
    (["--onion", "short-applicant-nonce"], {"ONION-S-007": "applicantSigningNonce has 4 bytes (32 bits); got challenge ended \"valid\""}),
    (["--onion", "any-key"], {"ONION-S-008": "signed by an Ed25519 key other than the onion address's; got challenge ended \"valid\""}),
    (["--onion", "subject-checked"], {"ONION-S-010": "the CSR's subject is junk (servers MUST NOT validate it); got challenge ended \"invalid\""}),
    (["--onion", "everywhere"], {"ONION-S-011": "no onion-csr-01 challenge for a non-.onion identifier"}),
    (["--onion", "caa-wrong-error"], {"ONION-S-018": "onionCAARequired"}),
    (["--onion", "caa-unchecked"], {"ONION-S-019": "no issuance when the onionCAA signature does not verify"}),
    (["--onion", "authkey-reused"], {"ONION-S-013": "a different authKey for a different onion service (RFC 9799 §4: MUST NOT reuse); got "}),
    (["--onion", "caa-32bit"], {"ONION-S-020": "a 64-bit integer, RFC 9799 §6.4); got refused with 403"}),
]


def onion_address(pub):
    ver = b"\x03"
    chk = hashlib.sha3_256(b".onion checksum" + pub + ver).digest()[:2]
    return base64.b32encode(pub + chk + ver).decode().lower() + ".onion"


def check_vectors():
    problems = []
    p = subprocess.run([BIN, "vectors", "--spec", "onion"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return ["vectors --spec onion exit %d: %s" % (p.returncode, p.stderr[-300:])]
    seen = 0
    for v in json.loads(p.stdout)["onion.json"]["vectors"]:
        i, e = v["input"], v["expected"]
        if i["op"] == "onion_address" and e["valid"]:
            label = i["name"].split(".")[-2]
            raw = base64.b32decode(label.upper())
            if raw[:32].hex() != e["pubkey"] or onion_address(raw[:32]) != label + ".onion":
                problems.append("vector %s: address/pubkey disagree with an independent SHA3-256" % v["name"])
            seen += 1
        elif i["op"] == "onion_tor_keys":
            pub = bytes.fromhex(i["hs_ed25519_public_key"])[32:]
            if onion_address(pub) != i["hostname"]:
                problems.append("vector %s: Tor's hostname is not the address of its public key" % v["name"])
            seen += 1
        elif i["op"] == "onion_nonce" and e["hex"]:
            if base64.b64decode(i["nonce"], validate=True).hex() != e["hex"]:
                problems.append("vector %s: nonce bytes" % v["name"])
            seen += 1
    if seen < 6:
        problems.append("only %d vectors checked" % seen)
    return problems


def results(cmd, env=None):
    return suite_rows.results(cmd, env, "acmeh-onion-")


def server_run(args, checks, claims=True):
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    t["name"] = "reference-onion-" + "-".join(a.strip("-") for a in args)
    t["command"] += args
    if not claims:
        t["claims"].pop("onion", None)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(t, f)
    try:
        sel = ["--check", ",".join(checks)] if checks else ["--suite", "onion"]
        return results([BIN, "run", "--server", f.name, "--jobs", "2"] + sel)
    finally:
        os.unlink(f.name)


judge = suite_rows.judge


def server_row(row):
    args, want = row
    return judge(server_run(args, list(want)), want, "fail", "server " + " ".join(args))


def client_run(faults, checks, client=CLIENT):
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, FAKE_CLIENT_FAULTS=faults)
    return results([BIN, "run", "--client", client, "--check", ",".join(checks), "--jobs", "2"], env)


def client_row(row):
    faults, want = row
    return judge(client_run(faults, list(want)), want, "fail", "fake client " + faults)


def client_baselines():
    problems = []
    cl = client_run("", ["ONION-C-*"])
    if len(cl) < 10:
        problems.append("fake client: only %s" % sorted(cl))
    problems += ["fake client %s: %s %s" % (i, v, m[:300]) for i, (v, m) in cl.items() if v != "pass"]
    plain = client_run("", ["ONION-C-*"], PLAIN_CLIENT)
    problems += ["fake-client.json %s: %s %r" % (i, v, m[:200]) for i, (v, m) in plain.items()
                 if v != "skip" or "client does not implement onion-csr-01" not in m]
    return problems


def baselines():
    problems = []
    for flag in ["both", "inBandOnionCAARequired", "onionCAARequired"]:
        got = server_run(["--onion-caa-flag", flag], None if flag == "both" else ["ONION-S-018"])
        ids = sorted(i for i in got if i.startswith("ONION-S-"))
        if flag == "both" and len(ids) < 14:
            problems.append("reference server: only %s" % ids)
        problems += ["reference (%s) %s: %s %s" % (flag, i, v, m[:300]) for i, (v, m) in got.items() if v != "pass"]
    none = server_run(["--onion-caa-flag", "none"], ["ONION-S-018"])
    problems += judge(none, {"ONION-S-018": "server does not advertise in-band CAA as required"}, "skip", "flag none")
    off = server_run(["--onion", "off"], None, claims=False)
    problems += ["--onion off, no claim %s: %s %r" % (i, v, m[:200]) for i, (v, m) in off.items()
                 if i != "ONION-S-011" and (v != "skip" or "server does not implement RFC 9799" not in m)]
    return problems


def main():
    return suite_rows.finish(check_vectors(), [baselines, client_baselines] + [functools.partial(server_row, r) for r in SERVER_ROWS] +
                             [functools.partial(client_row, r) for r in CLIENT_ROWS])


if __name__ == "__main__":
    sys.exit(main())
