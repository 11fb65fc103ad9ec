#!/usr/bin/env python3
"""--claims FILE for a server given by URL (issue 12 item 8): the fake server
without renewalInfo makes ARI-S-001 skip ("server does not advertise
renewalInfo") when nothing says it should offer ARI, and fail when --claims
says {"ari": true} (also given as a target file's {"claims": ...}); a --claims
file that is not a JSON object, or gives a known claim the wrong type, is exit 2.

Env: ACMEH_BIN, ACMEH_SOURCE_DIR (set by ctest)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_server import fake_acme  # noqa: E402

BIN = os.environ["ACMEH_BIN"]


def main():
    problems = []
    with tempfile.TemporaryDirectory(prefix="acmeh-claims-") as wd, fake_acme("no-renewalinfo", wd) as (url, ca):
        base = [BIN, "run", "--server-url", url, "--ca", ca, "--check", "ARI-S-001"]
        # A target file's shape ({"claims": {...}}) is taken as its claims.
        for claims, want in ((None, "skip"), ({"ari": True}, "fail"), ({"claims": {"ari": True}}, "fail")):
            out, cf = os.path.join(wd, "r.json"), os.path.join(wd, "claims.json")
            extra = []
            if claims is not None:
                json.dump(claims, open(cf, "w"))
                extra = ["--claims", cf]
            subprocess.run(base + extra + ["--json", out], capture_output=True, timeout=120)
            r = json.load(open(out))["results"][0]
            print("claims %s: %s: %s" % (claims, r["verdict"], (r["message"] or "")[:150]))
            if r["verdict"] != want:
                problems.append("claims %s: %s, want %s" % (claims, r["verdict"], want))
        for bad in ("[1]", '{"ari": "yes"}', '{"eab": 5}'):
            open(cf, "w").write(bad)
            rc = subprocess.run(base + ["--claims", cf], capture_output=True, timeout=60).returncode
            if rc != 2:
                problems.append("--claims %s exited %d, want 2" % (bad, rc))
    for x in problems:
        print("FAIL:", x)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
