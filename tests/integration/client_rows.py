"""Shared by the client-checks-fail tests: runs a client target on some checks
with fault variables in its environment and judges one table row
(check ID, faults, expected verdict, text the message must contain)."""
import json
import os
import subprocess
import tempfile


class ClientRows:
    def __init__(self, bin_path, target, jobs, env_for):
        """env_for(faults) -> the variables that give the client those faults."""
        self.bin, self.target, self.jobs, self.env_for = bin_path, target, jobs, env_for

    def run(self, checks, faults, workdir):
        """Results by check ID (empty when the run wrote none) and the process."""
        out = os.path.join(workdir, "r.json")
        env = dict(os.environ, **self.env_for(faults))
        p = subprocess.run([self.bin, "run", "--client", self.target, "--check", checks, "--jobs", str(self.jobs),
                            "--timeout", "60", "--json", out, "--run-dir", os.path.join(workdir, "run")],
                           env=env, capture_output=True, text=True, timeout=240)
        try:
            with open(out) as f:
                return {r["id"]: r for r in json.load(f)["results"]}, p
        except (OSError, ValueError):
            return {}, p

    def row(self, r):
        """check may be "A+B+C": the run selects them all and the row judges A
        (a per-request check then judges B's and C's scenarios too)."""
        check, faults, verdict, text = r
        selected, check = check.replace("+", ","), check.split("+")[0]
        with tempfile.TemporaryDirectory() as d:
            results, p = self.run(selected, faults, d)
            got = results.get(check)
            if not got:
                return False, "FAIL %s [%s]: no result (exit %d): %s" % (check, faults, p.returncode, p.stderr[-400:])
            ok = got["verdict"] == verdict and text in (got.get("message") or "")
            return ok, "%s %s [%s] -> %s: %s" % ("ok  " if ok else "FAIL", check, faults, got["verdict"], got.get("message"))

    def baseline(self, ids):
        with tempfile.TemporaryDirectory() as d:
            results, p = self.run(",".join(ids), "", d)
            bad = [(i, results.get(i, {}).get("verdict"), results.get(i, {}).get("message")) for i in ids
                   if results.get(i, {}).get("verdict") != "pass"]
            return not bad, "%s baseline (no faults): %s" % ("ok  " if not bad else "FAIL", bad or "all %d pass" % len(ids))
