#!/usr/bin/env python3
"""Writes tsig.json: TSIG MACs over fixed DNS UPDATE messages with fixed keys
and times, from the RFC 8945 §4.3.3 digest components (tsig_mac.py, Python
hmac). The first vector is the worked example of the dns-update digest §6 and
must reproduce its MAC. Run: python3 vectors/dnsupdate/gen.py"""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsig_mac  # noqa: E402

SEED = b"acme-harness tsig test key"
SECRETS = {"hmac-sha256.": hashlib.sha256(SEED).digest(), "hmac-sha512.": hashlib.sha512(SEED).digest()}
ZONE = "076578616d706c6503636f6d0000060001"
OWNER = "0f5f61636d652d6368616c6c656e676503777777c00c"
TXT = "2b5a54527831436b6c312d744d30356f357a61697a545441307955793541476572654d67534e5743364c6c38"
MSGS = {
    "add": "123428000001000000010000" + ZONE + OWNER + "001000010000003c002c" + TXT,
    "delete-rr": "123528000001000000010000" + ZONE + OWNER + "001000fe00000000002c" + TXT,
    "delete-rrset": "123628000001000000010000" + ZONE + OWNER + "001000ff000000000000",
    "prereq-absent-add": "123728000001000100010000" + ZONE + OWNER + "001000fe000000000000" +
                         "c01d001000010000003c002c" + TXT,
}
T = 1700000000


def vector(name, msg, alg):
    secret = SECRETS[alg]
    wire = bytes.fromhex(MSGS[msg])
    signed, mac = tsig_mac.sign(wire, secret, "acme-update-key.", alg, T, 300)
    return {"name": name, "source": "RFC 8945 §4.3.3 digest components, Python hmac (vectors/dnsupdate/gen.py)",
            "input": {"kind": "request", "message": msg, "key_name": "acme-update-key.", "algorithm": alg,
                      "secret": base64.b64encode(secret).decode(), "time_signed": T, "fudge": 300,
                      "unsigned_hex": wire.hex()},
            "expected": {"mac_hex": mac.hex(), "signed_hex": signed.hex(),
                         "accept_until": T + 300, "badtime_from": T + 301}}


def response_vector(alg, error, other):
    """The mock's reply to the "add" request: header QR+UPDATE, zone echoed."""
    secret = SECRETS[alg]
    req = bytes.fromhex(MSGS["add"])
    _, req_mac = tsig_mac.sign(req, secret, "acme-update-key.", alg, T, 300)
    rcode = 9 if error else 0
    resp = bytes.fromhex("1234a8%02x000100000000 0000".replace(" ", "") % rcode) + bytes.fromhex(ZONE)
    signed, mac = tsig_mac.sign(resp, secret, "acme-update-key.", alg, T, 300, error, other, req_mac)
    return {"name": "%s response, TSIG error %d" % (alg.rstrip("."), error),
            "source": "RFC 8945 §4.3.1 (response MAC: request MAC size + request MAC + response + variables), §5.2.3",
            "input": {"kind": "response", "key_name": "acme-update-key.", "algorithm": alg,
                      "secret": base64.b64encode(secret).decode(), "time_signed": T, "fudge": 300,
                      "error": error, "other_hex": other.hex(), "request_mac_hex": req_mac.hex(),
                      "unsigned_hex": resp.hex()},
            "expected": {"mac_hex": mac.hex(), "signed_hex": signed.hex()}}


def main():
    vs = [vector("digest §6 worked example (add, hmac-sha256)", "add", "hmac-sha256."),
          vector("add, hmac-sha512", "add", "hmac-sha512."),
          vector("delete one RR (CLASS NONE), hmac-sha256", "delete-rr", "hmac-sha256."),
          vector("delete RRset (CLASS ANY), hmac-sha512", "delete-rrset", "hmac-sha512."),
          vector("prerequisite RRset absent + add, hmac-sha256", "prereq-absent-add", "hmac-sha256."),
          response_vector("hmac-sha256.", 0, b""),
          response_vector("hmac-sha512.", 18, (T + 3600).to_bytes(6, "big"))]
    assert vs[0]["expected"]["mac_hex"] == "35837337ab3463d832230aa63924764a594514a42917aa16227e2e3b9caff239"
    assert vs[0]["input"]["secret"] == "jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o="
    out = {"spec": "dnsupdate", "vectors": vs}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tsig.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
