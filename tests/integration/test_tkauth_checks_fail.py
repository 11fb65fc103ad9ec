#!/usr/bin/env python3
"""Checks must be able to fail: every tkauth (ATC-S-*) and jwtclaimcon
(JCC-S-*) check runs against the reference server started by `acme-harness
serve --mock-token-authority` with one deliberate deviation
(--tkauth-deviations, server.h) that breaks exactly its rule, and must fail
with the expected message. A baseline runs both suites against the
deviation-free server (all pass). Then bad token authorities: one that never
answers (the mock's "stall" fault) and one that is not there end in a verdict
("error") within the check's budget, never a hang.

This is also how an STI-CA implementer points the harness at a server: the
`run --server-url ... --token-authority ... --ta-mgmt ...` command below.

Environment: ACMEH_BIN, ACMEH_SOURCE_DIR. Exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("ACMEH_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ACMEH_BIN") or os.path.join(SRC, "build", "acme-harness")

ALL = ["ATC-S-%03d" % i for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15)] + ["JCC-S-%03d" % i for i in range(1, 6)]

# (serve options, check ID, verdict, message substring)
ROWS = [
    (["--tkauth-deviations", "no-tkauth-type"], "ATC-S-001", "fail", 'with "tkauth-type": "atc"'),
    (["--token-authority", "ftp://authority.example"], "ATC-S-002", "fail", "token-authority ftp://authority.example"),
    (["--tkauth-deviations", "accept-any"], "ATC-S-003", "fail", 'for a response without "tkauth"'),
    (["--tkauth-deviations", "no-signature"], "ATC-S-004", "fail", "mock fault bad-signature"),
    (["--tkauth-deviations", "no-chain"], "ATC-S-004", "fail", "mock fault unknown-x5u"),
    (["--tkauth-deviations", "no-tktype"], "ATC-S-005", "fail", "mock fault other-type"),
    (["--tkauth-deviations", "no-tktype"], "JCC-S-001", "fail", "tktype TNAuthList (mock fault other-type)"),
    (["--tkauth-deviations", "no-tkvalue"], "ATC-S-006", "fail", "mock fault wrong-tkvalue"),
    (["--tkauth-deviations", "no-tkvalue,no-tktype"], "JCC-S-002", "fail", "answered with the TNAuthList's token"),
    (["--tkauth-deviations", "no-fingerprint"], "ATC-S-007", "fail", "mock fault wrong-fingerprint"),
    (["--tkauth-deviations", "no-exp"], "ATC-S-008", "fail", "an expired token (mock fault expired)"),
    (["--tkauth-jti-reuse"], "ATC-S-009", "fail", "jti was used before (mock fault reused-jti)"),
    (["--tkauth-deviations", "no-csr-check"], "ATC-S-010", "fail", "TNAuthList is SPC 1235 (authorized: 1234) answered 20"),
    (["--tkauth-deviations", "no-csr-check"], "JCC-S-004", "fail", "mustInclude [rcd]"),
    (["--tkauth-deviations", "no-csr-check"], "JCC-S-005", "fail", "both JWTClaimConstraints and EnhancedJWTClaimConstraints answered 20"),
    (["--tkauth-deviations", "no-ca-check"], "ATC-S-011", "fail", "CA CSR (cA TRUE) under a token with ca false answered 20"),
    (["--tkauth-deviations", "lenient-der"], "ATC-S-012", "fail", "IMPLICIT [0] SPC"),
    (["--tkauth-deviations", "lenient-der"], "ATC-S-014", "fail", "TelephoneNumberRange with count 1"),
    (["--tkauth-deviations", "lenient-der"], "JCC-S-003", "fail", "empty JWTClaimConstraints (30 00)"),
    (["--tkauth-deviations", "no-exp-cap"], "ATC-S-015", "fail", "notAfter no later than the Authority Token's exp"),
]


class Serve:
    """`acme-harness serve --mock-token-authority` with extra options, until stop()."""

    def __init__(self, work, opts):
        self.dir = tempfile.mkdtemp(dir=work)
        self.out = open(os.path.join(self.dir, "serve.out"), "w+")
        self.p = subprocess.Popen([BIN, "serve", "--run-dir", os.path.join(self.dir, "srv"), "--mock-token-authority",
                                   "--quiet"] + opts, stdout=self.out, stderr=subprocess.DEVNULL)
        self.info = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "serving" not in self.info:
            self.out.seek(0)
            for line in self.out.read().splitlines():
                k, _, v = line.partition(": ")
                self.info[k] = v
            if self.p.poll() is not None:
                raise RuntimeError("serve %s exited %s" % (opts, self.p.returncode))
            time.sleep(0.1)
        self.ta = self.info["token authority"].split(" ")[0]
        self.mgmt = self.info["token authority management API"].split(" ")[0]

    def run_args(self):
        srv = os.path.join(self.dir, "srv")
        return ["--server-url", self.info["directory"], "--ca", os.path.join(srv, "ca.pem"),
                "--token-authority", self.ta, "--ta-account", "stir", "--ta-secret", "stir-secret",
                "--ta-ca", os.path.join(srv, "ta", "ca.pem"), "--ta-mgmt", self.mgmt]

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=20)
        self.out.close()


def run(serve, checks, timeout=30, extra=None):
    out = os.path.join(serve.dir, "out-%d.json" % time.monotonic_ns())
    args = [BIN, "run"] + (extra or serve.run_args()) + ["--suite", "tkauth,jwtclaimcon", "--check", ",".join(checks),
                                                         "--timeout", str(timeout), "--json", out]
    t0 = time.monotonic()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    took = time.monotonic() - t0
    return {r["id"]: r for r in json.load(open(out))["results"]}, took


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        s = Serve(work, [])
        try:
            res, _ = run(s, ALL)
            bad = [(i, r["verdict"], r.get("message", "")[:200]) for i, r in res.items() if r["verdict"] != "pass"]
            missing = [i for i in ALL if i not in res]
            ok = not bad and not missing
            print("%s baseline: %d checks pass%s" % ("ok  " if ok else "FAIL", len(res), "" if ok else " %s %s" % (bad, missing)))
            failures += not ok
            # a token authority that never answers, and one that is not there: a verdict within the budget
            urllib.request.urlopen(urllib.request.Request(s.mgmt + "/set-fault", data=b'{"fault":"stall"}'), timeout=5)
            res, took = run(s, ["ATC-S-010"], timeout=8)
            r = res["ATC-S-010"]
            ok = r["verdict"] == "error" and "no answer within" in r.get("message", "") and took < 20
            print("%s stalled token authority: %s in %.1f s (%s)" % ("ok  " if ok else "FAIL", r["verdict"], took, r.get("message", "")[:120]))
            failures += not ok
            urllib.request.urlopen(urllib.request.Request(s.mgmt + "/set-fault", data=b'{"fault":""}'), timeout=5)
            args = s.run_args()
            args[args.index("--token-authority") + 1] = "https://127.0.0.1:1"
            res, took = run(s, ["ATC-S-008"], timeout=8, extra=args)
            r = res["ATC-S-008"]
            ok = r["verdict"] == "error" and took < 20
            print("%s unreachable token authority: %s in %.1f s" % ("ok  " if ok else "FAIL", r["verdict"], took))
            failures += not ok
        finally:
            s.stop()
        by_opts = {}
        for row in ROWS:
            by_opts.setdefault(tuple(row[0]), []).append(row)
        for opts, rows in by_opts.items():
            s = Serve(work, list(opts))
            try:
                res, _ = run(s, sorted({r[1] for r in rows}))
            finally:
                s.stop()
            for _, cid, verdict, msg in rows:
                r = res.get(cid, {})
                ok = r.get("verdict") == verdict and msg in r.get("message", "")
                print("%s %s with serve %s: %s" % ("ok  " if ok else "FAIL", cid, " ".join(opts),
                                                  r.get("verdict") if ok else "%s: %s" % (r.get("verdict"), r.get("message"))))
                failures += not ok
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
