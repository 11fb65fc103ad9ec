#!/usr/bin/env python3
"""Writes persist.json beside this script: dns-persist-01 vectors
(draft-ietf-acme-dns-persist) computed here with hashlib/base64 only, not with
the harness. `gen.py --check` recomputes every vector of persist.json and
exits 1 on a difference (the independent verification).

Digest inputs: the RFC 7638 §3.1 example key's thumbprint, the draft's example
account URL and accountHashPrefix (-02 §10.2, §10.3)."""
import base64
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
THUMB = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"  # RFC 7638 §3.1
ACCT = "https://ca.example/acct/123"
PREFIX = "https://ca.example/account-hash/"


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def digest(domain, thumb, url, construction="draft-02"):
    """-02 §4.1: SHA-256(len(domain) octet || domain || thumbprint text || URL);
    the wrong constructions implementations were seen to consider."""
    d = domain.encode()
    if construction == "raw-thumbprint":
        key = base64.urlsafe_b64decode(thumb + "=")
        return b64u(hashlib.sha256(bytes([len(d)]) + d + key + url.encode()).digest())
    if construction == "no-length-octet":
        return b64u(hashlib.sha256(d + thumb.encode() + url.encode()).digest())
    return b64u(hashlib.sha256(bytes([len(d)]) + d + thumb.encode() + url.encode()).digest())


def record(issuer, account, wildcard=False, until=None):
    r = "%s; accounturi=%s" % (issuer, account)
    if wildcard:
        r += "; policy=wildcard"
    if until is not None:
        r += "; persistUntil=%d" % until
    return r


def account_for(rev, domain, challenge_accounturi=None):
    if rev == "-02":
        return PREFIX + "sha-256/" + digest(domain, THUMB, ACCT)
    if rev == "-01":
        return challenge_accounturi
    return ACCT


def strings(value):
    """The character-strings a >255-octet value goes out as (RFC 1035 §3.3.14)."""
    return [value[i:i + 255] for i in range(0, len(value), 255)] or [""]


def vectors():
    out = []
    hashes = [("PERSIST-V1", "example.com", "draft-02", "-02 §10.2 (matches the draft)"),
              ("PERSIST-V2", "*", "draft-02", "-02 §10.2 wildcard form (matches the draft)"),
              ("PERSIST-V3", "www.example.com", "draft-02", "subdomain: not valid at _validation-persist.example.com"),
              ("PERSIST-V4", "example.com.", "draft-02", "trailing dot: a wrong domain input, must be rejected"),
              ("PERSIST-V5", "example.com", "raw-thumbprint", "wrong: 32 raw thumbprint octets (-02 change log rules it out)"),
              ("PERSIST-V6", "example.com", "no-length-octet", "wrong: no length octet")]
    for name, dom, cons, note in hashes:
        out.append({"name": name, "source": "draft-ietf-acme-dns-persist-02 §4.1, §10.2; computed by gen.py",
                    "input": {"op": "persist_hash", "domain": dom, "thumbprint": THUMB, "account_url": ACCT,
                              "construction": cons},
                    "expected": {"digest": digest(dom, THUMB, ACCT, cons),
                                 "uri": PREFIX + "sha-256/" + digest(dom, THUMB, ACCT, cons)},
                    "note": note})
    recs = [("R1", "-00", "example.com", "authority.example", False, None, None),
            ("R2", "-00", "example.com", "authority.example", True, 1721952000, None),
            ("R3", "-01", "example.com", "authority.example", False, None, "https://ca.example/alt/9"),
            ("R4", "-01", "example.com", "ca.example.net", True, 1767225600, "https://ca.example/acct/123"),
            ("R5", "-02", "example.com", "authority.example", False, None, None),
            ("R6", "-02", "example.com", "authority.example", True, 4102444800, None)]
    for name, rev, dom, issuer, wild, until, ch_uri in recs:
        value = record(issuer, account_for(rev, dom, ch_uri), wild, until)
        out.append({"name": "PERSIST-%s %s record" % (name, rev),
                    "source": "draft-ietf-acme-dns-persist %s §4 / §4.1 grammar; computed by gen.py" % rev,
                    "input": {"op": "persist_record", "revision": rev, "identifier": ("*." if wild else "") + dom,
                              "issuer": issuer, "account_url": ACCT, "thumbprint": THUMB,
                              "account_hash_prefix": PREFIX if rev == "-02" else None,
                              "challenge_accounturi": ch_uri, "persist_until": until},
                    "expected": {"name": "_validation-persist." + dom, "value": value, "strings": strings(value)}})
    long_value = record("authority.example", ACCT) + "; x-pad=" + "a" * 300
    out.append({"name": "PERSIST-R7 value over 255 octets", "source": "-02 §9.1; computed by gen.py",
                "input": {"op": "persist_strings", "value": long_value},
                "expected": {"strings": strings(long_value), "length": len(long_value)}})
    parses = [("P1", "authority.example; accounturi=https://ca.example/acct/123; policy=WILDCARD; persistUntil=1721952000; foo=bar",
               {"issuer": "authority.example", "accounturi": ACCT, "wildcard": True, "persist_until": 1721952000}),
              ("P2", " authority.example ;accounturi = https://ca.example/acct/123 ; policy=subdomains",
               {"issuer": "authority.example", "accounturi": ACCT, "wildcard": False, "persist_until": None}),
              ("P3", "authority.example; accounturi=https://ca.example/acct/123;", {"malformed": "trailing"}),
              ("P4", "authority.example; accounturi=a; ACCOUNTURI=b", {"malformed": "twice"}),
              ("P5", "authority.example; accounturi=a; persistUntil=not-a-unix-timestamp", {"malformed": "base-10"}),
              ("P6", "authority.example; accounturi=a; =x", {"malformed": "empty tag"}),
              ("P7", "; accounturi=a", {"malformed": "empty issuer"}),
              ("P8", "authority.example; policy=wildcard", {"issuer": "authority.example", "accounturi": None,
                                                           "wildcard": True, "persist_until": None}),
              ("P9", "authority.example; accounturi=a; PERSISTUNTIL=-1",
               {"issuer": "authority.example", "accounturi": "a", "wildcard": False, "persist_until": -1})]
    for name, text, exp in parses:
        out.append({"name": "PERSIST-%s parse" % name, "source": "RFC 8659 §4.2 grammar; draft §4 rules",
                    "input": {"op": "persist_parse", "text": text}, "expected": exp})
    return out


def doc():
    return {"spec": "dnspersist",
            "description": "dns-persist-01 (draft-ietf-acme-dns-persist): -02 account digests (PERSIST-V1..V6 of the digest), "
                           "records per revision (-00 account URL, -01 the challenge's accounturi, -02 hashed URI), "
                           "character-string splitting and record parsing. Made and verified by gen.py (hashlib).",
            "vectors": vectors()}


def main():
    path = os.path.join(HERE, "persist.json")
    if "--check" in sys.argv:
        with open(path) as f:
            have = json.load(f)
        ok = have == doc()
        print("persist.json %s gen.py" % ("agrees with" if ok else "DIFFERS from"))
        # the draft's own -02 §10.2 values, stated independently of this script's function
        for v in have["vectors"]:
            if v["name"] == "PERSIST-V1" and v["expected"]["digest"] != "5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw":
                ok = False
            if v["name"] == "PERSIST-V2" and v["expected"]["digest"] != "NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug":
                ok = False
        return 0 if ok else 1
    with open(path, "w") as f:
        json.dump(doc(), f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
