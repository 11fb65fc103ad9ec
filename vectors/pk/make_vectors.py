#!/usr/bin/env python3
"""Makes pk.json, the test vectors of the pk suite (draft-geng-acme-public-key
-01 identifiers and the pk-01 proof as harness/acme/pk.h defines it), with the
openssl CLI only (no harness code): run it from this folder and commit the
output. The keys are test keys made for these vectors. ECDSA signatures are
randomised, so each run gives other (equally valid) signatures."""
import base64
import json
import os
import subprocess
import tempfile

TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"  # RFC 8555 §8.3's example token


def ossl(args, data=None):
    p = subprocess.run(["openssl"] + args, input=data, capture_output=True, check=True)
    return p.stdout


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def der_sig_to_rs(der):
    # ECDSA-Sig-Value SEQUENCE { r INTEGER, s INTEGER } -> 32-byte r || s (RFC 7518 §3.4)
    assert der[0] == 0x30
    i = 2
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += v.rjust(32, b"\0")
        i += 2 + n
    return out


def proof(key_pem_path, token):
    h = b64u(json.dumps({"alg": "ES256"}, separators=(",", ":")).encode())
    p = b64u(token.encode())
    sig = ossl(["dgst", "-sha256", "-sign", key_pem_path], (h + "." + p).encode())
    return h + "." + p + "." + b64u(der_sig_to_rs(sig))


def main():
    with tempfile.TemporaryDirectory() as wd:
        k, o = os.path.join(wd, "k.pem"), os.path.join(wd, "o.pem")
        ossl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k])
        ossl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", o])
        spki_pem = ossl(["pkey", "-in", k, "-pubout"]).decode()
        spki_der = ossl(["pkey", "-in", k, "-pubout", "-outform", "DER"])
        cert_der = ossl(["req", "-x509", "-key", k, "-subj", "/CN=pk-01 device", "-days", "3650", "-outform", "DER"])
        csr_der = ossl(["req", "-new", "-key", k, "-subj", "/CN=pk-01 device", "-outform", "DER"])
        b64 = lambda d: base64.b64encode(d).decode()
        bad_cert = bytearray(cert_der)
        bad_cert[-5] ^= 0x01  # inside the signature: parses, does not verify
        bad_csr = bytearray(csr_der)
        bad_csr[-5] ^= 0x01
        good = proof(k, TOKEN)
        vectors = [
            {"name": "PK1 pk identifier (base64 SubjectPublicKeyInfo DER), proof by its key",
             "input": {"op": "pk_identifier", "type": "pk", "value": b64(spki_der), "token": TOKEN, "proof": good},
             "expected": {"accepted": True, "proof_valid": True}},
            {"name": "PK2 the same key in base64url without padding",
             "input": {"op": "pk_identifier", "type": "pk", "value": b64u(spki_der)}, "expected": {"accepted": True}},
            {"name": "PK3 selfsign-cert identifier",
             "input": {"op": "pk_identifier", "type": "selfsign-cert", "value": b64(cert_der)}, "expected": {"accepted": True}},
            {"name": "PK4 csr identifier",
             "input": {"op": "pk_identifier", "type": "csr", "value": b64(csr_der)}, "expected": {"accepted": True}},
            {"name": "PK5 selfsign-cert with a damaged signature",
             "input": {"op": "pk_identifier", "type": "selfsign-cert", "value": b64(bytes(bad_cert))}, "expected": {"accepted": False}},
            {"name": "PK6 csr with a damaged signature",
             "input": {"op": "pk_identifier", "type": "csr", "value": b64(bytes(bad_csr))}, "expected": {"accepted": False}},
            {"name": "PK7 pk identifier truncated by one byte",
             "input": {"op": "pk_identifier", "type": "pk", "value": b64(spki_der[:-1])}, "expected": {"accepted": False}},
            {"name": "PK8 proof signed by another key (the replacement): does not verify",
             "input": {"op": "pk_identifier", "type": "pk", "value": b64(spki_der), "token": TOKEN, "proof": proof(o, TOKEN)},
             "expected": {"accepted": True, "proof_valid": False}},
            {"name": "PK9 proof by the right key over another token",
             "input": {"op": "pk_identifier", "type": "pk", "value": b64(spki_der), "token": TOKEN, "proof": proof(k, TOKEN + "x")},
             "expected": {"accepted": True, "proof_valid": False}},
        ]
        for v in vectors:
            v["source"] = "harness (openssl CLI, vectors/pk/make_vectors.py); draft-geng-acme-public-key-01 identifier types"
            v["input"]["spki_pem"] = spki_pem
        doc = {"spec": "pk",
               "description": "draft-geng-acme-public-key -01: key identifier values (pk, selfsign-cert, csr as base64 DER) "
                              "and the pk-01 proof, a compact JWS {\"alg\":\"ES256\"} over the challenge token signed with "
                              "the identifier's key (harness/acme/pk.h: the draft text defines no signature input, so the "
                              "harness does). accepted: the value reads as its type with a valid self-signature; "
                              "proof_valid: the proof verifies for token under spki_pem. Made with the openssl CLI.",
               "private_key_pem": open(k).read(),
               "vectors": vectors}
    with open("pk.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
