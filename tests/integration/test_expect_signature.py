#!/usr/bin/env python3
"""Expectation signatures (issue 12): an expectations entry may carry the
failure's "message" pattern. Against the fake server that answers newAccount
without Location, CORE-S-029 fails; an entry whose pattern matches that
failure makes it xfail (exit 0), an entry whose pattern describes another
failure leaves it a plain fail saying "differs from the expected failure"
(exit 1), and an entry without a pattern still matches on the ID alone;
--no-expect ignores the file.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR (set by ctest)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_server import fake_acme  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
CASES = [  # (entry, --no-expect, want verdict, want exit, message part)
    ({"reason": "no Location", "message": "newAccount answered 201 * without Location*"}, False, "xfail", 0, ""),
    ({"reason": "no Location", "message": "newAccount answered 500*"}, False, "fail", 1,
     'differs from the expected failure ("newAccount answered 500*"): newAccount answered 201'),
    ("no Location (ID only)", False, "xfail", 0, ""),
    ({"reason": "no Location", "message": "newAccount answered 201 * without Location*"}, True, "fail", 1, "without Location"),
]


def main():
    problems = []
    with tempfile.TemporaryDirectory(prefix="acmeh-sig-") as wd, fake_acme("new-account-no-location", wd) as (url, ca):
        for i, (entry, no_expect, verdict, code, part) in enumerate(CASES):
            exp, out = os.path.join(wd, "e%d.json" % i), os.path.join(wd, "r%d.json" % i)
            json.dump({"CORE-S-029": entry}, open(exp, "w"))
            cmd = [BIN, "run", "--server-url", url, "--ca", ca, "--check", "CORE-S-029", "--json", out]
            cmd += ["--no-expect"] if no_expect else ["--expect", exp]
            rc = subprocess.run(cmd, capture_output=True, text=True, timeout=120).returncode
            r = json.load(open(out))["results"][0]
            ok = r["verdict"] == verdict and rc == code and part in (r["message"] or "")
            print("%s case %d: %s exit %d: %s" % ("ok  " if ok else "FAIL", i, r["verdict"], rc, (r["message"] or "")[:160]))
            if not ok:
                problems.append(i)
        both = subprocess.run([BIN, "run", "--server-url", url, "--ca", ca, "--check", "CORE-S-029", "--expect", exp,
                               "--no-expect"], capture_output=True, text=True, timeout=60)
        if both.returncode != 2:
            problems.append("--expect with --no-expect exited %d" % both.returncode)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
