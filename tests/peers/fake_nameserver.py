#!/usr/bin/python3
"""A small faulty authoritative nameserver for the DNSUP-S checks: DNS UPDATE
(RFC 2136) with TSIG (RFC 8945) and per-key name scopes, on 127.0.0.1 over UDP
and TCP. Without faults it follows the RFCs, including the SHOULDs BIND skips
(BADTIME for a Time Signed older than the key's latest) and rejects exact
replays. Each fault breaks one rule:

  no-apply              answers NOERROR to an UPDATE but changes nothing
  del-rr-deletes-rrset  a CLASS NONE delete removes the whole RRset
  del-rrset-ignored     a CLASS ANY delete is ignored
  accept-unknown-key    an unknown key name is accepted (with the first key's scope)
  accept-unknown-alg    an algorithm name other than the key's is accepted
  accept-bad-mac        a wrong MAC is accepted
  no-badtime            Time Signed outside the fudge is accepted
  badtime-unsigned      BADTIME answers carry an unsigned TSIG
  unsigned-answers      successful answers carry no TSIG
  no-sha512             hmac-sha512 keys are refused with BADKEY
  accept-unsigned       unsigned UPDATEs are applied
  no-policy-name        a key may update any name in the zone
  no-policy-type        a key may update any type
  no-time-order         no check of Time Signed against the key's latest
  accept-replay         exact replays are applied (and no time order check)
  prereq-ignored        prerequisites are not evaluated
  accept-notzone        prerequisite and update RRs outside the zone are ignored
  tsig-not-last-ok      RRs after the TSIG are ignored instead of FORMERR

--truncate-udp answers every UDP message with an empty TC answer (nothing
processed), so everything goes over TCP: not a fault, a transport test.

Usage: fake_nameserver.py --port P --zone Z --key name:alg:secret:scope ... [--faults a,b] [--truncate-udp]
"""
import argparse
import base64
import hashlib
import hmac
import socket
import socketserver
import struct
import sys
import threading
import time

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TSIG, ANY, NONE, IN, SOA_T = 250, 255, 254, 1, 6
NOERROR, FORMERR, NXDOMAIN, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE = 0, 1, 3, 5, 6, 7, 8, 9, 10
BADSIG, BADKEY, BADTIME = 16, 17, 18
HASHES = {"hmac-sha256.": hashlib.sha256, "hmac-sha512.": hashlib.sha512}


class Refuse(Exception):
    def __init__(self, rcode, error=0, signed=False):
        super().__init__(rcode)
        self.rcode, self.error, self.signed = rcode, error, signed


def skip_name(w, p):
    while True:
        n = w[p]
        if n & 0xC0 == 0xC0:
            return p + 2
        if n == 0:
            return p + 1
        p += 1 + n


def canon(name):
    return dns.name.from_text(name).canonicalize().to_wire()


class Server:
    def __init__(self, zone, keys, faults):
        self.zone = dns.name.from_text(zone)
        self.keys = keys  # name(lower, dot) -> (alg, secret bytes, scope Name)
        self.faults = faults
        self.lock = threading.Lock()
        self.latest = {}  # key -> latest Time Signed accepted
        self.seen = set()  # MACs of accepted requests (replay cache)
        z = self.zone
        self.data = {}  # (Name, rdtype) -> set of rdata
        self.put(dns.rrset.from_text(z, 60, "IN", "SOA", "ns.%s hostmaster.%s 1 3600 600 86400 60" % (z, z)))
        self.put(dns.rrset.from_text(z, 60, "IN", "NS", "ns.%s" % z))
        self.put(dns.rrset.from_text(dns.name.from_text("ns", z), 60, "IN", "A", "127.0.0.1"))

    def put(self, rrset):
        self.data.setdefault((rrset.name, rrset.rdtype), set()).update(rrset)

    def fault(self, name):
        return name in self.faults

    # --- TSIG ---------------------------------------------------------------
    def split_tsig(self, w):
        """(offset of the TSIG, its fields) or (None, None); FORMERR if not last."""
        qd, an, ns, ar = struct.unpack("!4H", w[4:12])
        p = 12
        for _ in range(qd):
            p = skip_name(w, p) + 4
        found = None
        for i in range(an + ns + ar):
            start = p
            p = skip_name(w, p)
            rtype, _, _, rdlen = struct.unpack("!HHIH", w[p:p + 10])
            if rtype == TSIG and i >= an + ns:
                if i != an + ns + ar - 1 and not self.fault("tsig-not-last-ok"):
                    raise Refuse(FORMERR)
                found = (start, p + 10, rdlen, i - an - ns)
                break
            p += 10 + rdlen
        if not found:
            return None, None
        start, rd, rdlen, index = found
        keyname = dns.name.from_wire(w, start)[0].to_text().lower()
        alg, q = dns.name.from_wire(w, rd)
        t_hi, t_lo, fudge, maclen = struct.unpack("!HIHH", w[rd + q:rd + q + 10])
        q += 10
        mac = w[rd + q:rd + q + maclen]
        orig_id, error, olen = struct.unpack("!HHH", w[rd + q + maclen:rd + q + maclen + 6])
        f = dict(key=keyname, alg=alg.to_text().lower(), time=(t_hi << 32) | t_lo, fudge=fudge, mac=mac,
                 orig_id=orig_id, index=index)
        return start, f

    def mac(self, alg, secret, data):
        return hmac.new(secret, data, HASHES[alg]).digest()

    def variables(self, key, alg, t, fudge, error, other):
        return (canon(key) + struct.pack("!HI", ANY, 0) + canon(alg) + struct.pack("!HIH", t >> 32, t & 0xFFFFFFFF, fudge)
                + struct.pack("!HH", error, len(other)) + other)

    def check_tsig(self, w, at, f):
        """Validates per RFC 8945 §5.2 in order: key, MAC, time. Returns the key entry."""
        entry = self.keys.get(f["key"])
        if entry is None:
            if not self.fault("accept-unknown-key"):
                raise Refuse(NOTAUTH, BADKEY)
            return next(iter(self.keys.values()))
        alg, secret, scope = entry
        if (f["alg"] != alg and not self.fault("accept-unknown-alg")) or (alg == "hmac-sha512." and self.fault("no-sha512")):
            raise Refuse(NOTAUTH, BADKEY)
        body = bytearray(w[:at])
        body[0:2] = struct.pack("!H", f["orig_id"])
        body[10:12] = struct.pack("!H", f["index"])  # ARCOUNT before the TSIG
        want = self.mac(alg, secret, bytes(body) + self.variables(f["key"], f["alg"], f["time"], f["fudge"], 0, b""))
        if not hmac.compare_digest(want, f["mac"]) and not self.fault("accept-bad-mac"):
            raise Refuse(NOTAUTH, BADSIG)
        now = int(time.time())
        if abs(now - f["time"]) > f["fudge"] and not self.fault("no-badtime"):
            raise Refuse(NOTAUTH, BADTIME, signed=True)
        ordered = not (self.fault("no-time-order") or self.fault("accept-replay"))
        if ordered and f["time"] < self.latest.get(f["key"], 0):
            raise Refuse(NOTAUTH, BADTIME, signed=True)
        if f["mac"] in self.seen and not self.fault("accept-replay"):
            raise Refuse(REFUSED)
        return entry

    # --- UPDATE -------------------------------------------------------------
    def rrset_of(self, name, rdtype):
        return self.data.get((name, rdtype), set())

    def name_used(self, name):
        return any(n == name and v for (n, _), v in self.data.items())

    def prereqs(self, msg):
        temp = {}
        for rr in msg.prerequisite:
            cls = rr.deleting if rr.deleting is not None else rr.rdclass
            if not rr.name.is_subdomain(self.zone):
                if self.fault("accept-notzone"):
                    continue
                raise Refuse(NOTZONE)
            if cls == ANY:
                if rr.rdtype == ANY and not self.name_used(rr.name):
                    raise Refuse(NXDOMAIN)
                if rr.rdtype != ANY and not self.rrset_of(rr.name, rr.rdtype):
                    raise Refuse(NXRRSET)
            elif cls == NONE:
                if rr.rdtype == ANY and self.name_used(rr.name):
                    raise Refuse(YXDOMAIN)
                if rr.rdtype != ANY and self.rrset_of(rr.name, rr.rdtype):
                    raise Refuse(YXRRSET)
            else:
                temp.setdefault((rr.name, rr.rdtype), set()).update(rr)
        for (name, rdtype), want in temp.items():
            if self.rrset_of(name, rdtype) != want:
                raise Refuse(NXRRSET)

    def permitted(self, msg, scope):
        for rr in msg.update:
            if not rr.name.is_subdomain(self.zone):
                if self.fault("accept-notzone"):
                    continue
                raise Refuse(NOTZONE)
            if scope is None:
                continue
            if not rr.name.is_subdomain(scope) and not self.fault("no-policy-name"):
                raise Refuse(REFUSED)
            if rr.rdtype != dns.rdatatype.TXT and not self.fault("no-policy-type"):
                raise Refuse(REFUSED)

    def apply(self, msg):
        if self.fault("no-apply"):
            return
        for rr in msg.update:
            if not rr.name.is_subdomain(self.zone):
                continue
            key = (rr.name, rr.rdtype)
            if rr.deleting is None:
                self.data.setdefault(key, set()).update(rr)
            elif rr.deleting == ANY and not self.fault("del-rrset-ignored"):
                for k in [k for k in self.data if k[0] == rr.name and (rr.rdtype == ANY or k[1] == rr.rdtype)]:
                    self.data.pop(k)
            elif rr.deleting == NONE:
                if self.fault("del-rr-deletes-rrset"):
                    self.data.pop(key, None)
                else:
                    self.data.get(key, set()).difference_update(rr)

    def update(self, w):
        """Returns (rcode, TSIG error, sign the answer?, TSIG fields, key entry)."""
        f = entry = None
        validated = False
        try:
            at, f = self.split_tsig(w)
            if f is None:
                if not self.fault("accept-unsigned"):
                    raise Refuse(REFUSED)
                body, scope = w, None
            else:
                entry = self.keys.get(f["key"])  # known even when a check below refuses
                entry = self.check_tsig(w, at, f)
                validated = True
                body = bytearray(w[:at])
                body[10:12] = struct.pack("!H", f["index"])
                body, scope = bytes(body), entry[2]
            msg = dns.message.from_wire(body)
            if len(msg.zone) != 1 or msg.zone[0].name != self.zone or msg.zone[0].rdtype != SOA_T:
                raise Refuse(NOTAUTH)
            if not self.fault("prereq-ignored"):
                self.prereqs(msg)
            self.permitted(msg, scope)
            self.apply(msg)
            if f is not None:
                self.latest[f["key"]] = max(self.latest.get(f["key"], 0), f["time"])
                self.seen.add(f["mac"])
            return NOERROR, 0, validated, f, entry
        except Refuse as r:
            return r.rcode, r.error, validated or r.signed, f, entry
        except Exception:  # noqa: BLE001 - a message we cannot parse
            return FORMERR, 0, False, None, None

    def answer_update(self, w):
        with self.lock:
            rcode, error, signed, f, entry = self.update(w)
        head = struct.pack("!HHHHHH", struct.unpack("!H", w[0:2])[0], 0x8000 | (5 << 11) | rcode, 0, 0, 0, 0)
        if f is None or (error == 0 and (not signed or self.fault("unsigned-answers"))):
            return head  # unsigned request, or an answer left unsigned
        now = int(time.time())
        if error == BADTIME:
            t, fudge, other = f["time"], f["fudge"], struct.pack("!HI", now >> 32, now & 0xFFFFFFFF)
        else:
            t, fudge, other = now, 300, b""
        unsigned = error in (BADKEY, BADSIG) or entry is None or (error == BADTIME and self.fault("badtime-unsigned"))
        alg = f["alg"] if entry is None else entry[0]
        mac = b""
        if not unsigned:
            data = struct.pack("!H", len(f["mac"])) + f["mac"] + head + self.variables(f["key"], alg, t, fudge, error, other)
            mac = self.mac(entry[0], entry[1], data)
        rdata = canon(alg) + struct.pack("!HIHH", t >> 32, t & 0xFFFFFFFF, fudge, len(mac)) + mac + \
            struct.pack("!HHH", f["orig_id"], error, len(other)) + other
        rr = canon(f["key"]) + struct.pack("!HHIH", TSIG, ANY, 0, len(rdata)) + rdata
        return head[:10] + struct.pack("!H", 1) + rr

    def answer_query(self, w):
        q = dns.message.from_wire(w)
        r = dns.message.make_response(q)
        r.flags |= 0x0400  # AA
        with self.lock:
            for question in q.question:
                rd = self.rrset_of(question.name, question.rdtype)
                if rd:
                    rrset = r.find_rrset(r.answer, question.name, IN, question.rdtype, create=True)
                    for x in rd:
                        rrset.add(x, 60)
        return r.to_wire()

    def handle(self, w):
        try:
            opcode = (w[2] >> 3) & 0xF
            return self.answer_update(w) if opcode == 5 else self.answer_query(w)
        except Exception:  # noqa: BLE001
            return w[0:2] + struct.pack("!HHHHH", 0x8000 | FORMERR, 0, 0, 0, 0) if len(w) >= 2 else b""


def truncated(w):
    """An empty answer with TC set: the client must ask again over TCP (RFC 1035 §4.2.1)."""
    return w[0:2] + bytes([0x80 | (w[2] & 0x78) | 0x02, 0]) + bytes(8) if len(w) >= 12 else b""


def serve(srv, port, truncate_udp):
    class U(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            sock.sendto(truncated(data) if truncate_udp else srv.handle(data), self.client_address)

    class T(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            head = self.request.recv(2)
            if len(head) < 2:
                return
            n, buf = struct.unpack("!H", head)[0], b""
            while len(buf) < n:
                chunk = self.request.recv(n - len(buf))
                if not chunk:
                    return
                buf += chunk
            out = srv.handle(buf)
            self.request.sendall(struct.pack("!H", len(out)) + out)

    socketserver.ThreadingUDPServer.allow_reuse_address = True
    u = socketserver.ThreadingUDPServer(("127.0.0.1", port), U)
    t = socketserver.ThreadingTCPServer(("127.0.0.1", port), T)
    u.daemon_threads = t.daemon_threads = True
    threading.Thread(target=t.serve_forever, daemon=True).start()
    u.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--key", action="append", default=[], help="name:alg:base64secret:scope")
    ap.add_argument("--faults", default="")
    ap.add_argument("--truncate-udp", action="store_true", help="answer every UDP message with TC, unprocessed")
    a = ap.parse_args()
    keys = {}
    for spec in a.key:
        name, alg, secret, scope = spec.split(":")
        name = dns.name.from_text(name).to_text().lower()
        keys[name] = (dns.name.from_text(alg).to_text().lower(), base64.b64decode(secret), dns.name.from_text(scope))
    faults = set(x for x in a.faults.split(",") if x)
    srv = Server(a.zone, keys, faults)
    sys.stdout.write("fake_nameserver on 127.0.0.1:%d faults=%s\n" % (a.port, ",".join(sorted(faults)) or "none"))
    sys.stdout.flush()
    serve(srv, a.port, a.truncate_udp)


if __name__ == "__main__":
    main()
