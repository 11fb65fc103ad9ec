#!/usr/bin/python3
"""A scriptable DNS UPDATE publisher for the DNSUP-C failure tests: lego's exec
provider interface (faulty_updater.py present|cleanup FQDN VALUE), TSIG with
the scenario's DNS_UPDATE_* key (RFC 8945, vectors/dnsupdate/tsig_mac.py),
correct unless FAULTY_UPDATER_FAULTS (comma separated) names faults:
  wrong-value   publish a TXT value that is not the challenge's
  z-bit         set the header's Z bits (RFC 2136 §2.2 wants 0)
  ttl-0 / ttl-3600  ADD with TTL 0 / one hour
  unsigned      send the UPDATEs without TSIG
  extra-name    also try to add a TXT record at other.<zone>
  ignore-errors exit 0 whatever the reply (so lego answers the challenge anyway)
  no-cleanup    never delete the record
  delete-rrset  clean up with a delete of the whole TXT RRset (CLASS ANY)
  adjust-clock  after BADTIME, re-sign with the server's time from Other Data
  fixed-id      message ID 4242 for every UPDATE"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "vectors", "dnsupdate"))
import tsig_mac  # noqa: E402

FAULTS = set(f for f in os.environ.get("FAULTY_UPDATER_FAULTS", "").split(",") if f)
ENV = os.environ


def log(msg):
    print("faulty_updater: " + msg, file=sys.stderr)


def rr(owner, rtype, rclass, ttl, rdata):
    return tsig_mac.name_wire(owner) + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def txt(value):
    return bytes([len(value)]) + value.encode()


def message(updates):
    msg_id = 4242 if "fixed-id" in FAULTS else random.randrange(65536)
    flags = 0x2800 | (0x0070 if "z-bit" in FAULTS else 0)
    head = struct.pack(">HHHHHH", msg_id, flags, 1, 0, len(updates), 0)
    return head + tsig_mac.name_wire(ENV["DNS_UPDATE_ZONE"]) + struct.pack(">HH", 6, 1) + b"".join(updates)


def exchange(msg, at):
    if "unsigned" not in FAULTS:
        import base64
        secret = base64.b64decode(ENV["DNS_UPDATE_KEY_SECRET"])
        alg = ENV["DNS_UPDATE_KEY_ALGORITHM"].rstrip(".") + "."
        msg, _ = tsig_mac.sign(msg, secret, ENV["DNS_UPDATE_KEY_NAME"], alg, at, 300)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(msg, (ENV["DNS_UPDATE_SERVER"], int(ENV["DNS_UPDATE_PORT"])))
    reply = s.recv(4096)
    rcode = reply[3] & 0x0f
    tsig = None
    if struct.unpack(">H", reply[10:12])[0]:
        _, tsig = tsig_mac.find_tsig(reply)
    return rcode, tsig


def send(updates):
    msg = message(updates)
    rcode, tsig = exchange(msg, int(time.time()))
    if tsig and tsig["error"] == 18:
        server_time = int.from_bytes(tsig["other"], "big")
        log("BADTIME: the server's time is %d, ours %d" % (server_time, int(time.time())))
        if "adjust-clock" in FAULTS:
            rcode, tsig = exchange(message(updates), server_time)
    log("rcode %d" % rcode)
    return rcode


def main():
    action, fqdn, value = sys.argv[1], sys.argv[2], sys.argv[3]
    ttl = 0 if "ttl-0" in FAULTS else 3600 if "ttl-3600" in FAULTS else 60
    if "wrong-value" in FAULTS:
        value = value[:-1] + ("A" if value[-1] != "A" else "B")
    if action == "present":
        rcode = send([rr(fqdn, 16, 1, ttl, txt(value))])
        if "extra-name" in FAULTS:
            send([rr("other." + ENV["DNS_UPDATE_ZONE"], 16, 1, ttl, txt("x"))])
    elif action == "cleanup" and "no-cleanup" not in FAULTS:
        if "delete-rrset" in FAULTS:
            rcode = send([rr(fqdn, 16, 255, 0, b"")])
        else:
            rcode = send([rr(fqdn, 16, 254, 0, txt(value))])
    else:
        rcode = 0
    return 0 if rcode == 0 or "ignore-errors" in FAULTS else 1


if __name__ == "__main__":
    sys.exit(main())
