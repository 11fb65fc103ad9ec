#!/usr/bin/env python3
"""pk-01 (draft-geng-acme-public-key -01) checks must be able to fail.

1. Vectors: `acme-harness vectors --spec pk` verified independently with the
   openssl CLI (identifier DER parses as its type, signatures verify, the
   proof's JWS signature verifies under the SubjectPublicKeyInfo).
2. Server side: every PK-S check fails, with its message, against the
   reference server started with the deviation that breaks its rule
   (`acme-harness serve --pk MODE`, through a target file); all pass against
   the plain reference server; a server whose claims list no pk-01 skips each
   with "server does not implement pk-01".
   Bad answers (a certificate download that is no PEM chain, an
   authorization without challenges) end in a failure with a message, never
   a crash or hang.
3. Client side: every PK-C check fails against tests/peers/fake_client.c with
   the fault that breaks it (FAKE_CLIENT_FAULTS; a proof that is no JWS too),
   and passes without; a client whose target lists no pk-01
   (fake-client.json) skips.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR."""
import base64
import functools
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
PK_CLIENT = os.path.join(SRC, "tests", "peers", "fake-pk-client.json")
PLAIN_CLIENT = os.path.join(SRC, "tests", "peers", "fake-client.json")
NOT_SERVER = "server does not implement pk-01"

# (server mode, checks that must fail, substring of each failure message)
SERVER_ROWS = [
    ("no-challenge", {"PK-S-010": "an authorization for the key identifier whose challenges include pk-01"}),
    ("other-key", {"PK-S-010": "the certificate carries exactly the SubjectPublicKeyInfo of the key identifier"}),
    ("csr-any-key", {"PK-S-011": "finalize with a CSR for another key than the pk-01-proven one refused"}),
    ("any-proof", {"PK-S-012": "pk-01 \"invalid\" for a proof signed by another key than the identifier's; got challenge ended \"valid\"",
                   "PK-S-013": "pk-01 \"invalid\" for a proof signed by the account key; got challenge ended \"valid\""}),
]

# Bad answers from a server under test end in a verdict: (fault rules for the
# reference server, checks that must fail, substring)
SERVER_FAULT_ROWS = [
    ([{"name": "garbage-chain", "match": {"resource": "certificate"}, "action": {"append_body": "garbage\n-----BEGIN"}}],
     {"PK-S-010": "a PEM certificate chain"}),
    ([{"name": "no-challenges", "match": {"resource": "authz"}, "action": {"remove_field": "challenges"}}],
     {"PK-S-010": "whose challenges include pk-01"}),
]

# (fake client faults, checks that must fail, substring)
CLIENT_ROWS = [
    ("pk-account-key-proof", {"PK-C-010": "the proof's signature does not verify under the identifier's public key"}),
    ("pk-garbage-proof", {"PK-C-010": "the proof is not a compact JWS of three base64url parts"}),
    ("pk-accept-other-key", {"PK-C-011": "a certificate for another key than its key identifier's; got exit 0 with a certificate for SHA-256(SPKI)"}),
]


def b64any(s):
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4))


def openssl(args, data=None):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True, timeout=30)


def openssl_reads(type_, der, wd):
    """(accepted, SPKI PEM) as the openssl CLI sees an identifier value:
    parsed as its type, self-signature verified for selfsign-cert and csr."""
    if type_ == "pk":
        r = openssl(["pkey", "-pubin", "-inform", "DER", "-outform", "PEM"], der)
        return r.returncode == 0, r.stdout.decode()
    if type_ == "csr":  # OpenSSL 3.0 exits 0 on a failed -verify: read its verdict
        r = openssl(["req", "-inform", "DER", "-verify", "-pubkey", "-noout"], der)
        return r.returncode == 0 and b"verify OK" in r.stderr, r.stdout.decode()
    c = os.path.join(wd, "c.pem")
    r = openssl(["x509", "-inform", "DER", "-out", c], der)
    if r.returncode:
        return False, ""
    v = openssl(["verify", "-CAfile", c, "-check_ss_sig", c])
    return v.returncode == 0, openssl(["x509", "-in", c, "-pubkey", "-noout"]).stdout.decode()


def check_vectors():
    p = subprocess.run([BIN, "vectors", "--spec", "pk"], capture_output=True, text=True, timeout=30)
    if p.returncode:
        return ["vectors --spec pk exit %d: %s" % (p.returncode, p.stderr[-300:])]
    problems, seen = [], 0
    with tempfile.TemporaryDirectory(prefix="acmeh-pkvec-") as wd:
        for doc in json.loads(p.stdout).values():
            for v in doc["vectors"]:
                i, e = v["input"], v["expected"]
                seen += 1
                spki = os.path.join(wd, "spki.pem")
                with open(spki, "w") as f:
                    f.write(i["spki_pem"])
                der = b64any(i["value"])
                ok, key = openssl_reads(i["type"], der, wd)
                if ok != e["accepted"] or (ok and key.strip() != i["spki_pem"].strip()):
                    problems.append("vector %s: openssl accepts=%s (expected %s), same key=%s" % (v["name"], ok, e["accepted"], key.strip() == i["spki_pem"].strip()))
                if "proof" in i:
                    h, pl, sig = i["proof"].split(".")
                    form_ok = b64any(pl).decode() == i["token"] and json.loads(b64any(h)) == {"alg": "ES256"}
                    raw = b64any(sig)

                    def der_int(b):  # JWS ES256 R||S (RFC 7518 §3.4) -> DER INTEGERs for openssl dgst
                        b = b.lstrip(b"\0") or b"\0"
                        if b[0] & 0x80:
                            b = b"\0" + b
                        return b"\x02" + bytes([len(b)]) + b
                    body = der_int(raw[:32]) + der_int(raw[32:])
                    sf, mf = os.path.join(wd, "sig"), os.path.join(wd, "msg")
                    with open(sf, "wb") as f:
                        f.write(b"\x30" + bytes([len(body)]) + body)
                    with open(mf, "wb") as f:
                        f.write((h + "." + pl).encode())
                    r = openssl(["dgst", "-sha256", "-verify", spki, "-signature", sf, mf])
                    if (form_ok and r.returncode == 0) != e["proof_valid"]:
                        problems.append("vector %s: proof valid=%s, expected %s" % (v["name"], form_ok and r.returncode == 0, e["proof_valid"]))
    if seen < 6:
        problems.append("only %d vectors" % seen)
    return problems


def results(cmd, env=None):
    return suite_rows.results(cmd, env, "acmeh-pk-")


def server_run(mode, checks, claims=True, draft=None, faults=None):
    with open(os.path.join(SRC, "targets", "reference.json")) as f:
        t = json.load(f)
    t["name"] = "reference-pk-" + mode
    t["command"] += ["--pk", mode]
    ff = None
    if faults:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as ff:
            json.dump(faults, ff)
        t["command"] += ["--faults", ff.name]
    if not claims:
        t["claims"]["challenges"] = [c for c in t["claims"]["challenges"] if c != "pk-01"]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(t, f)
    try:
        sel = ["--check", ",".join(checks)] if checks else ["--suite", "pk"]
        return results([BIN, "run", "--server", f.name, "--jobs", "2"] + sel + (["--draft", draft] if draft else []))
    finally:
        os.unlink(f.name)
        if ff:
            os.unlink(ff.name)


judge = suite_rows.judge


def server_row(row):
    mode, want = row
    return judge(server_run(mode, list(want)), want, "fail", "server --pk " + mode)


def server_fault_row(row):
    rules, want = row
    return judge(server_run("on", list(want), faults=rules), want, "fail", "server faults " + rules[0]["name"])


def client_run(client, faults, checks):
    env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, FAKE_CLIENT_FAULTS=faults)
    return results([BIN, "run", "--client", client, "--check", ",".join(checks), "--jobs", "2"], env)


def client_row(row):
    faults, want = row
    return judge(client_run(PK_CLIENT, faults, list(want)), want, "fail", "fake client " + faults)


def baselines():
    problems = []
    got = server_run("on", None, draft="pk=geng-01")
    ids = sorted(i for i in got if i.startswith("PK-S-"))
    if len(ids) < 4:
        problems.append("reference server: only %s" % ids)
    problems += ["reference %s: %s %s" % (i, v, m[:300]) for i, (v, m) in got.items() if v != "pass"]
    # a server whose claims list no pk-01 (the reference with pk-01 off): skipped, never failed
    off = server_run("off", None, claims=False)
    problems += ["unclaimed %s: %s %r" % (i, v, m[:200]) for i, (v, m) in off.items() if v != "skip" or NOT_SERVER not in m]
    for faults_env in ("", "pk-type-selfsign-cert", "pk-type-csr"):
        env_type = faults_env.replace("pk-type-", "")
        os.environ["FAKE_CLIENT_PK_TYPE"] = env_type
        cl = client_run(PK_CLIENT, "", ["PK-C-*"])
        if len(cl) < 2:
            problems.append("fake pk client: only %s" % sorted(cl))
        problems += ["fake pk client (%s) %s: %s %s" % (env_type or "pk", i, v, m[:300]) for i, (v, m) in cl.items() if v != "pass"]
    os.environ.pop("FAKE_CLIENT_PK_TYPE", None)
    plain = client_run(PLAIN_CLIENT, "", ["PK-C-*"])
    problems += ["client without pk-01 %s: %s %r" % (i, v, m[:200]) for i, (v, m) in plain.items() if v != "skip"]
    return problems


def main():
    problems = check_vectors()
    problems += baselines()
    return suite_rows.finish(problems, [functools.partial(server_row, r) for r in SERVER_ROWS] +
                             [functools.partial(server_fault_row, r) for r in SERVER_FAULT_ROWS] +
                             [functools.partial(client_row, r) for r in CLIENT_ROWS])


if __name__ == "__main__":
    sys.exit(main())
