#!/usr/bin/python3
"""Regenerates vectors/dtn/nodeid.json: the bp-nodeid-00 vectors of RFC 9891
(draft-ietf-acme-dtnnodeid-18 Appendix B), computed here with python3-cbor2 and
hashlib, independently of the harness's libcbor code, and checked against the
hex the draft prints before anything is written.

Run from anywhere: python3 vectors/dtn/gen.py  (writes next to itself)."""
import base64, hashlib, json, os

import cbor2

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = "RFC 9891 (draft-ietf-acme-dtnnodeid-18) Appendix B"
IANA_CODE = 255      # IANA "Bundle Administrative Record Types", BP 7, "ACME Node ID Validation" (RFC 9891)
PLACEHOLDER = 0xFFFF  # the draft's examples


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


THUMB = "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"
TOKEN_CHAL = "tPUZNY4ONIk6LxErRFEjVw"
ID_CHAL = "dDtaviYTPUWFS3NK37YWfQ"
TOKEN_BUNDLE = "p3yRYFU4KxwQaHQjJ2RdiQ"
SERVER, CLIENT = "dtn://acme-server/", "dtn://acme-client/"

# The draft's own bytes (Appendix B), as the spec digest copied them.
DRAFT = {
    "keyauth": "p3yRYFU4KxwQaHQjJ2RdiQtPUZNY4ONIk6LxErRFEjVw.LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ",
    "digest": "99520e24441989ef17a5833a30c55241488d3c7eb85119e133d9e22795c7adec",
    "challenge_bundle": "9f880718220082016e2f2f61636d652d636c69656e742f82016e2f2f61636d652d7365727665722f820100821a000f42400019ea608501010000582c8219ffffa30150743b5abe26133d45854b734adfb6167d0250a77c916055382b1c1068742327645d8904812fff",
    "response_bundle": "9f8807020082016e2f2f61636d652d7365727665722f82016e2f2f61636d652d636c69656e742f820100821a000fb770001975308501010000584e8219ffffa30150743b5abe26133d45854b734adfb6167d0250a77c916055382b1c1068742327645d8903822f582099520e24441989ef17a5833a30c55241488d3c7eb85119e133d9e22795c7adecff",
}


def eid(text):
    if text == "dtn:none":
        return [1, 0]
    if text.startswith("ipn:"):
        n, s = text[4:].split(".")
        return [2, [int(n), int(s)]]
    return [1, text[4:]]


def bundle(flags, dest, src, ts, lifetime, payload):
    primary = [7, flags, 0, eid(dest), eid(src), eid("dtn:none"), [ts, 0], lifetime]
    blocks = [primary, [1, 1, 0, 0, payload]]
    # RFC 9171 §4.1: an indefinite-length array; cbor2 writes definite ones, so frame it here.
    return b"\x9f" + b"".join(cbor2.dumps(b) for b in blocks) + b"\xff"


def record(code, content):
    return cbor2.dumps([code, content])


def main():
    ka = TOKEN_BUNDLE + TOKEN_CHAL + "." + THUMB
    assert ka == DRAFT["keyauth"]
    digest = hashlib.sha256(ka.encode()).digest()
    assert digest.hex() == DRAFT["digest"]
    assert THUMB == b64u(hashlib.sha256(b"hello").digest())
    swapped = hashlib.sha256((TOKEN_CHAL + TOKEN_BUNDLE + "." + THUMB).encode()).digest()
    chal = {1: unb64u(ID_CHAL), 2: unb64u(TOKEN_BUNDLE), 4: [-16]}
    resp = {1: unb64u(ID_CHAL), 2: unb64u(TOKEN_BUNDLE), 3: [-16, digest]}
    vectors = [
        {"name": "DK1 key authorization and SHA-256 digest", "source": SRC,
         "input": {"op": "dtn_keyauth", "token_bundle": TOKEN_BUNDLE, "token_chal": TOKEN_CHAL, "thumbprint": THUMB},
         "expected": {"key_authorization": ka, "digest_hex": digest.hex(), "digest_b64url": b64u(digest)},
         "note": "thumbprint = base64url(SHA-256(\"hello\")): the author's stand-in JWK"},
        {"name": "DK2 tokens in the wrong order do not give the digest", "source": "harness (RFC 9891 §3 order: token-bundle first)",
         "input": {"op": "dtn_keyauth", "token_bundle": TOKEN_CHAL, "token_chal": TOKEN_BUNDLE, "thumbprint": THUMB},
         "expected": {"key_authorization": TOKEN_CHAL + TOKEN_BUNDLE + "." + THUMB, "digest_hex": swapped.hex(), "digest_b64url": b64u(swapped)}},
    ]
    for code, tag in ((PLACEHOLDER, "draft placeholder 0xFFFF"), (IANA_CODE, "IANA code 255")):
        for kind, content, flags, dest, src, ts, life in (
            ("challenge", chal, 0x22, CLIENT, SERVER, 1000000, 60000),
            ("response", resp, 0x02, SERVER, CLIENT, 1030000, 30000),
        ):
            rec = record(code, content)
            b = bundle(flags, dest, src, ts, life, rec)
            if code == PLACEHOLDER:
                assert b.hex() == DRAFT[kind + "_bundle"], kind
            back = cbor2.loads(b)
            assert cbor2.loads(back[1][4]) == [code, content]
            vectors.append({
                "name": "DB %s bundle, %s" % (kind, tag), "source": SRC + (" (bytes as printed)" if code == PLACEHOLDER else " with the IANA code"),
                "input": {"op": "dtn_bundle", "kind": kind, "type_code": code, "flags": flags, "dest": dest, "src": src,
                          "created_ms": ts, "lifetime_ms": life, "id_chal": ID_CHAL, "token_bundle": TOKEN_BUNDLE,
                          "algs": [-16], "digest_hex": digest.hex() if kind == "response" else None},
                "expected": {"record_hex": rec.hex(), "bundle_hex": b.hex()}})
    for text in ("dtn://acme-client/", "dtn:none", "ipn:1.0", "ipn:977000.1"):
        vectors.append({"name": "DE EID " + text, "source": "RFC 9171 §4.2.5.1",
                        "input": {"op": "dtn_eid", "eid": text},
                        "expected": {"hex": cbor2.dumps(eid(text)).hex(),
                                     "admin_node_id": text != "dtn:none" and (text.endswith("/") or text.endswith(".0"))}})
    bad = [
        ("truncated challenge bundle", DRAFT["challenge_bundle"][:-20], "PEER_PROTOCOL"),
        ("4 GB declared byte string", "9f5affffffff00ff", "PEER_PROTOCOL"),
        ("4 GB declared array", "9f9affffffff00ff", "PEER_PROTOCOL"),
        ("2^64-1 declared map", "9fbbffffffffffffffff00ff", "PEER_PROTOCOL"),
        ("100 nested arrays", "81" * 100 + "00", "PEER_TOO_LARGE"),
        ("tagged bundle", "d9d9f7" + DRAFT["challenge_bundle"], "PEER_PROTOCOL"),
        ("trailing byte", DRAFT["challenge_bundle"] + "00", "PEER_PROTOCOL"),
        ("definite outer array", "82" + DRAFT["challenge_bundle"][2:-2], "PEER_PROTOCOL"),
        ("bundle version 6", DRAFT["challenge_bundle"][:4] + "06" + DRAFT["challenge_bundle"][6:], "PEER_PROTOCOL"),
        ("empty input", "", "PEER_PROTOCOL"),
    ]
    for name, hexin, err in bad:
        vectors.append({"name": "DX " + name, "source": "harness (peer bytes, RFC 9171 §4.1)",
                        "input": {"op": "dtn_bundle_bad", "hex": hexin}, "expected": {"error": err}})
    out = {"spec": "dtn",
           "description": "bp-nodeid-00 (RFC 9891): key authorization digest, Challenge and Response Bundles (BPv7, RFC 9171) with the draft's placeholder record type 0xFFFF and with IANA's 255, EID encodings, and peer bytes a decoder must refuse. Made by gen.py with python3-cbor2.",
           "vectors": vectors}
    with open(os.path.join(HERE, "nodeid.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
