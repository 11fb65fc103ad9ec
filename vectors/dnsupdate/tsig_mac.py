"""TSIG MACs (RFC 8945 §4.3) computed from the digest components with
Python's hmac, independently of the C code and of ldns. Used by gen.py (which
writes tsig.json) and by tests/integration/test_dns_update_nsupdate.sh."""
import hashlib
import hmac
import struct

ALGS = {"hmac-sha1.": hashlib.sha1, "hmac-sha224.": hashlib.sha224, "hmac-sha256.": hashlib.sha256,
        "hmac-sha384.": hashlib.sha384, "hmac-sha512.": hashlib.sha512}


def name_wire(name):
    """Canonical wire form (§4.3.3): lower case, uncompressed."""
    labels = [l for l in name.lower().rstrip(".").split(".") if l]
    return b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"


def variables(key, alg, time_signed, fudge, error=0, other=b""):
    return (name_wire(key) + struct.pack(">HI", 255, 0) + name_wire(alg) +
            struct.pack(">HIH", time_signed >> 32, time_signed & 0xffffffff, fudge) +
            struct.pack(">HH", error, len(other)) + other)


def mac(secret, msg, key, alg, time_signed, fudge, orig_id, error=0, other=b"", request_mac=None):
    """msg: the message without its TSIG RR, ARCOUNT not counting it; its ID is
    replaced by orig_id. request_mac: set when msg is a response (§4.3.1)."""
    data = b"" if request_mac is None else struct.pack(">H", len(request_mac)) + request_mac
    data += struct.pack(">H", orig_id) + msg[2:] + variables(key, alg, time_signed, fudge, error, other)
    return hmac.new(secret, data, ALGS[alg.lower()]).digest()


def tsig_rr(key, alg, time_signed, fudge, mac_bytes, orig_id, error=0, other=b""):
    rdata = (name_wire(alg) + struct.pack(">HIH", time_signed >> 32, time_signed & 0xffffffff, fudge) +
             struct.pack(">H", len(mac_bytes)) + mac_bytes + struct.pack(">HHH", orig_id, error, len(other)) + other)
    return name_wire(key) + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata


def sign(msg, secret, key, alg, time_signed, fudge=300, error=0, other=b"", request_mac=None):
    """Returns (signed message, MAC): msg plus its TSIG RR, ARCOUNT + 1."""
    orig_id = struct.unpack(">H", msg[:2])[0]
    m = mac(secret, msg, key, alg, time_signed, fudge, orig_id, error, other, request_mac)
    arcount = struct.unpack(">H", msg[10:12])[0] + 1
    out = msg[:10] + struct.pack(">H", arcount) + msg[12:] + tsig_rr(key, alg, time_signed, fudge, m, orig_id, error, other)
    return out, m


def find_tsig(wire):
    """(offset of the last RR, its TSIG fields) for a message whose last RR is a TSIG."""
    def skip_name(o):
        while True:
            b = wire[o]
            if b & 0xc0 == 0xc0:
                return o + 2
            o += 1 + b
            if b == 0:
                return o

    def read_name(o):
        labels = []
        while True:
            b = wire[o]
            if b & 0xc0 == 0xc0:
                o = ((b & 0x3f) << 8) | wire[o + 1]
                continue
            if b == 0:
                return ".".join(labels) + "."
            labels.append(wire[o + 1:o + 1 + b].decode())
            o += 1 + b

    qd, an, ns, ar = struct.unpack(">HHHH", wire[4:12])
    o = 12
    for _ in range(qd):
        o = skip_name(o) + 4
    last = None
    for _ in range(an + ns + ar):
        last = o
        o = skip_name(o)
        rdlen = struct.unpack(">H", wire[o + 8:o + 10])[0]
        o += 10 + rdlen
    key = read_name(last)
    r = skip_name(last) + 10
    alg = read_name(r)
    r = skip_name(r)
    hi, lo, fudge, maclen = struct.unpack(">HIHH", wire[r:r + 10])
    m = wire[r + 10:r + 10 + maclen]
    orig_id, error, olen = struct.unpack(">HHH", wire[r + 10 + maclen:r + 16 + maclen])
    other = wire[r + 16 + maclen:r + 16 + maclen + olen]
    return last, {"key": key, "alg": alg, "time": (hi << 32) | lo, "fudge": fudge, "mac": m, "orig_id": orig_id,
                  "error": error, "other": other}


def verify(wire, secret):
    """Recomputes the request MAC of a signed message; returns (ok, fields)."""
    off, t = find_tsig(wire)
    msg = wire[:10] + struct.pack(">H", struct.unpack(">H", wire[10:12])[0] - 1) + wire[12:off]
    m = mac(secret, msg, t["key"], t["alg"], t["time"], t["fudge"], t["orig_id"], t["error"], t["other"])
    return hmac.compare_digest(m[:len(t["mac"])], t["mac"]), t
