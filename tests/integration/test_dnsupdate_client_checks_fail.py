#!/usr/bin/env python3
"""Checks must be able to fail, DNS UPDATE client side: every DNSUP-C check
fails against tests/peers/faulty_updater.py (lego's exec provider publishing
by TSIG-signed DNS UPDATE to the mock DNS) when it breaks exactly that check's
rule (FAULTY_UPDATER_FAULTS), with the expected message; and the same updater
without faults passes them all.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR. Needs lego (skips without it)."""
import concurrent.futures
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_rows import ClientRows  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
TARGET = os.path.join(SRC, "tests", "peers", "faulty-updater.json")

# (check, faults, expected verdict, substring of the message)
ROWS = [
    ("DNSUP-C-001", "wrong-value", "fail", "TXT value base64url(SHA-256(keyAuthorization)) of a dns-01 challenge"),
    ("DNSUP-C-002", "z-bit", "fail", "only QR used in the header, Z = 0; got message #0 has header flags 2870"),
    ("DNSUP-C-003", "ttl-0", "fail", "ADD with class IN and a non-zero TTL; got message #0 adds _acme-challenge."),
    ("DNSUP-C-004", "unsigned", "fail", "every UPDATE signed with TSIG (the key given); got message #0 is unsigned"),
    ("DNSUP-C-005", "extra-name", "fail", "changes only to _acme-challenge.<identifier> TXT; got message #1: add other."),
    ("DNSUP-C-006", "ignore-errors", "fail", "scenario dnsup-badtime: request #"),
    ("DNSUP-C-007", "no-cleanup", "fail", "was never removed"),
    ("DNSUP-C-008", "delete-rrset", "fail", "sends delete-rrset _acme-challenge."),
    ("DNSUP-C-009", "adjust-clock", "fail", "no clock adjustment from a BADTIME reply's Other Data; got message #1 is signed at"),
    ("DNSUP-C-010", "fixed-id", "fail", "both use ID 4242"),
    ("DNSUP-C-011", "ttl-3600", "fail", "ADD with a TTL of at most 300 s; got message #0 adds _acme-challenge."),
]


ROWS_RUNNER = ClientRows(BIN, TARGET, 2,
                         lambda faults: {"FAULTY_UPDATER_FAULTS": faults})


def main():
    if not shutil.which("lego"):
        print("SKIP: lego not installed")
        return 0
    t0 = time.monotonic()
    with open(os.path.join(SRC, "suites", "dnsupdate", "catalog.json")) as f:
        ids = [c["id"] for c in json.load(f)["checks"] if c["role"] == "client"]
    missing = sorted(set(ids) - {r[0] for r in ROWS if r[2] == "fail"})
    results = [(not missing, "%s every DNSUP-C check has a fail row%s" % ("ok  " if not missing else "FAIL", missing or ""))]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(ROWS_RUNNER.row, r) for r in ROWS] + [pool.submit(ROWS_RUNNER.baseline, ids)]
        results += [f.result() for f in futures]
    for _, line in results:
        print(line)
    failed = sum(1 for ok, _ in results if not ok)
    print("rows took %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
