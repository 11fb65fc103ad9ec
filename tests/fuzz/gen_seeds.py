#!/usr/bin/env python3
"""Writes the seeds of the DNS and management API fuzz targets
(seeds/dns_query, dns_update, dns_response, mgmt_api) from the names, keys and
vectors the targets set up (vectors/dnsupdate/tsig.json, whose TSIG code,
vectors/dnsupdate/tsig_mac.py, signs the new UPDATEs). Plain struct packing:
no DNS library needed. Run from anywhere; rewrites the four folders."""
import base64
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "vectors", "dnsupdate"))
import tsig_mac  # noqa: E402

T = 1700000000  # the targets' fixed clock (fuzz_dns_update.c)
KEY256 = ("acme-update-key.", "hmac-sha256.", base64.b64decode("jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o="))
KEY512 = ("txt-only.", "hmac-sha512.", base64.b64decode(
    "zKRqT1/FY371Fh3DCGj963Vg4+0MpDqMA0dbEVltvdFhwUcgwhgHfm5SOjEd5dUc7YshgL4ip43fcK9+fttzbA=="))
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "OPT": 41, "CAA": 257, "ANY": 255}


def name(n):
    return tsig_mac.name_wire(n) if n not in (".", "") else b"\0"


def header(id_, flags, qd=0, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def rr(owner, type_, rdata, cls=1, ttl=60):
    return name(owner) + struct.pack(">HHIH", TYPES.get(type_, type_) if isinstance(type_, str) else type_,
                                     cls, ttl, len(rdata)) + rdata


def txt(*strings):
    return b"".join(bytes([len(s)]) + s for s in strings)


def opt(size=4096):
    return b"\0" + struct.pack(">HHIH", 41, size, 0, 0)


def query(qname, qtype, id_=0x4242, flags=0, edns=None, extra=b"", ar=0):
    q = header(id_, flags, 1, 0, 0, ar + (1 if edns else 0)) + name(qname) + struct.pack(">HH", TYPES[qtype], 1)
    return q + extra + (opt(edns) if edns else b"")


def write(target, files):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for fname, data in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def signed(msg, key, t=T):
    return tsig_mac.sign(msg, key[2], key[0], key[1], t)[0]


def dns_query():
    s = {}
    for qn, qt in [("example.com", "A"), ("example.com", "AAAA"), ("_acme-challenge.example.com", "TXT"),
                   ("example.com", "CAA"), ("www.example.com", "CNAME"), ("www.example.com", "A"),
                   ("loop.example.com", "A"), ("fail.example.com", "TXT"), ("EXAMPLE.com", "ANY"),
                   ("example.com", "MX"), ("nothing.example", "AAAA"), (".", "A")]:
        s["%s-%s" % (qn.strip(".") or "root", qt)] = query(qn, qt, flags=0x0100)
    s["edns-txt"] = query("_acme-challenge.example.com", "TXT", edns=1232)
    s["edns-small"] = query("_acme-challenge.example.com", "TXT", edns=512)
    s["opcode-update"] = query("example.com", "SOA", flags=0x2800)
    compressed = header(7, 0, 1) + b"\x03www\xc0\x10" + b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
    s["compressed"] = compressed
    s["two-questions"] = header(8, 0, 2) + (name("example.com") + struct.pack(">HH", 1, 1)) * 2
    return s


def update(zone, prereqs=(), updates=(), id_=0x5000):
    z = name(zone) + struct.pack(">HH", 6, 1)
    return header(id_, 0x2800, 1, len(prereqs), len(updates)) + z + b"".join(prereqs) + b"".join(updates)


def dns_update():
    s = {}
    vec = json.load(open(os.path.join(ROOT, "vectors", "dnsupdate", "tsig.json")))
    for i, v in enumerate(vec["vectors"]):
        if v["input"]["kind"] == "request":
            s["vector-%d" % i] = bytes.fromhex(v["expected"]["signed_hex"])
    ch = "_acme-challenge.example.com"
    add = rr(ch, "TXT", txt(b"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"))
    s["add-txt"] = signed(update("example.com", updates=[add]), KEY256)
    s["add-a-aaaa-cname"] = signed(update("example.com", updates=[
        rr("h.example.com", "A", bytes([192, 0, 2, 7])), rr("h.example.com", "AAAA", bytes(15) + b"\1"),
        rr("c.example.com", "CNAME", name("h.example.com"))]),
        KEY256, T + 1)
    s["delete-rr"] = signed(update("example.com", updates=[rr(ch, "TXT", txt(b"existing"), cls=254, ttl=0)]), KEY256, T + 2)
    s["delete-rrset"] = signed(update("example.com", updates=[rr(ch, "TXT", b"", cls=255, ttl=0)]), KEY256, T + 3)
    s["delete-name"] = signed(update("example.com", updates=[rr("www.example.com", 255, b"", cls=255, ttl=0)]), KEY256, T + 4)
    s["prereqs"] = signed(update("example.com", prereqs=[
        rr("www.example.com", 255, b"", cls=255, ttl=0), rr("new.example.com", 255, b"", cls=254, ttl=0),
        rr(ch, "TXT", b"", cls=255, ttl=0), rr(ch, "TXT", txt(b"existing"), cls=1, ttl=0)], updates=[add]), KEY256, T + 5)
    s["policy-txt"] = signed(update("example.com", updates=[add]), KEY512, T + 6)
    s["policy-a-refused"] = signed(update("example.com", updates=[rr("h.example.com", "A", bytes([192, 0, 2, 8]))]),
                                   KEY512, T + 7)
    s["unsigned"] = update("example.com", updates=[add])
    s["notauth"] = signed(update("other.test", updates=[rr("a.other.test", "A", bytes(4))]), KEY256, T + 8)
    s["notzone"] = signed(update("example.com", updates=[rr("a.other.test", "A", bytes(4))]), KEY256, T + 9)
    s["badtime"] = signed(update("example.com", updates=[add]), KEY256, T + 4000)
    s["badkey"] = signed(update("example.com", updates=[add]), ("unknown.", "hmac-sha256.", b"k" * 32))
    bad = bytearray(signed(update("example.com", updates=[add]), KEY256, T + 10))
    bad[-20] ^= 1
    s["badsig"] = bytes(bad)
    s["signed-soa-query"] = signed(query("example.com", "SOA"), KEY256, T + 11)
    s["signed-txt-query"] = signed(query(ch, "TXT", edns=1232), KEY256, T + 12)
    s["soa-query"] = query("example.com", "SOA")
    return s


def dns_response():
    s = {}
    vec = json.load(open(os.path.join(ROOT, "vectors", "dnsupdate", "tsig.json")))
    for i, v in enumerate(vec["vectors"]):
        if v["input"]["kind"] == "response":
            s["vector-%d" % i] = bytes.fromhex(v["expected"]["signed_hex"])
    want = base64.urlsafe_b64encode(hashlib.sha256(b"tok.thumb").digest()).rstrip(b"=")
    ch = "_acme-challenge.example.com"
    qd = name(ch) + struct.pack(">HH", 16, 1)
    s["txt-match"] = header(1, 0x8400, 1, 1) + qd + rr(ch, "TXT", txt(want))
    s["txt-split"] = header(1, 0x8400, 1, 2) + qd + rr(ch, "TXT", txt(want[:20], want[20:])) + rr(ch, "TXT", txt(b"x"))
    s["txt-cname"] = (header(1, 0x8400, 1, 2) + qd + rr(ch, "CNAME", name("v.example.net")) +
                      rr("v.example.net", "TXT", txt(b"other")))
    s["txt-compressed"] = header(1, 0x8400, 1, 1) + qd + b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 0, len(want) + 1) + txt(want)
    s["a"] = (header(2, 0x8400, 1, 1) + name("example.com") + struct.pack(">HH", 1, 1) +
              rr("example.com", "A", bytes([127, 0, 0, 1])))
    s["nxdomain"] = header(3, 0x8403, 1) + qd
    s["servfail"] = header(4, 0x8402, 1) + qd
    s["truncated"] = header(5, 0x8600, 1) + qd
    return s


def mgmt_api():
    paths = ["/add-dns-zone", "/del-dns-zone", "/add-tsig-key", "/del-tsig-key", "/set-dns-update-policy",
             "/dns-update-journal", "/clear-dns-update-journal", "/set-default-ipv4", "/set-default-ipv6",
             "/set-txt", "/add-txt", "/clear-txt", "/add-a", "/clear-a", "/add-aaaa", "/clear-aaaa", "/add-caa",
             "/clear-caa", "/set-cname", "/clear-cname", "/set-servfail", "/clear-servfail", "/add-http01",
             "/del-http01", "/add-tlsalpn01", "/del-tlsalpn01", "/clear-tlsalpn01", "/http-request-history",
             "/dns-request-history", "/tlsalpn01-request-history", "/clear-request-history"]
    key = {"name": "k.", "algorithm": "hmac-sha256", "secret": "jNjbePo1/UZI9nDxSzeunGGQCXefnZTbcFO1TzJ1p5o=",
           "policy": [{"name": "_acme-challenge.*", "types": ["TXT"]}], "skew_s": 30}
    bodies = {
        "/add-dns-zone": {"zone": "example.com"}, "/del-dns-zone": {"zone": "example.com"},
        "/add-tsig-key": key, "/del-tsig-key": {"name": "k."}, "/set-dns-update-policy": {"allowUnsigned": True},
        "/dns-update-journal": {"zone": "example.com"}, "/clear-dns-update-journal": {},
        "/set-default-ipv4": {"ip": "127.0.0.2"}, "/set-default-ipv6": {"ip": "::1"},
        "/set-txt": {"host": "_acme-challenge.example.com.", "value": "v"}, "/add-txt": {"Host": "a.example", "Value": ""},
        "/clear-txt": {"host": "a.example"}, "/add-a": {"host": "a.example", "addresses": ["127.0.0.1", "10.0.0.1"]},
        "/clear-a": {"host": "a.example"}, "/add-aaaa": {"host": "a.example", "addresses": ["::1"]},
        "/clear-aaaa": {"host": "a.example"},
        "/add-caa": {"host": "a.example", "policies": [{"tag": "issue", "value": "ca.example", "flags": 128}]},
        "/clear-caa": {"host": "a.example"}, "/set-cname": {"host": "w.example", "target": "a.example"},
        "/clear-cname": {"host": "w.example"}, "/set-servfail": {"host": "a.example"},
        "/clear-servfail": {"host": "a.example"}, "/add-http01": {"token": "tok", "content": "tok.thumb"},
        "/del-http01": {"token": "tok"}, "/add-tlsalpn01": {"host": "a.example", "content": "tok.thumb"},
        "/del-tlsalpn01": {"host": "a.example"}, "/clear-tlsalpn01": {"host": "a.example"},
        "/http-request-history": {"host": "a.example"}, "/dns-request-history": {"host": "a.example"},
        "/tlsalpn01-request-history": {"host": "a.example"},
        "/clear-request-history": {"host": "a.example", "type": "dns"},
    }
    req = {p: bytes([i]) + json.dumps(bodies[p]).encode() for i, p in enumerate(paths)}
    s = {p.strip("/"): r for p, r in req.items()}
    s["seq-update"] = b"\0".join(req[p] for p in ["/add-dns-zone", "/add-tsig-key", "/set-dns-update-policy",
                                                  "/dns-update-journal", "/del-tsig-key", "/del-dns-zone"])
    s["seq-records"] = b"\0".join(req[p] for p in ["/add-a", "/set-txt", "/add-caa", "/set-cname", "/clear-a",
                                                   "/clear-caa", "/set-servfail", "/dns-request-history"])
    s["get"] = bytes([0x80 | 9]) + b"{}"
    s["not-object"] = bytes([9]) + b"[1,2]"
    return s


if __name__ == "__main__":
    write("dns_query", dns_query())
    write("dns_update", dns_update())
    write("dns_response", dns_response())
    write("mgmt_api", mgmt_api())
