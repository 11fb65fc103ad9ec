"""What the per-suite fail tests (test_dnsaccount_checks_fail.py and the
suites after it) share: one run's verdicts, and a row's judgement."""
import concurrent.futures
import json
import os
import subprocess
import tempfile


def results(cmd, env=None, prefix="acmeh-rows-"):
    """Runs `cmd` (an acme-harness run command line) with a JSON report and a
    --run-dir inside its own temporary folder (a failing run keeps its
    folder, and it must go with the test's), 40 s per check. Returns
    {check id: (verdict, message)}; raises when no report was written."""
    with tempfile.TemporaryDirectory(prefix=prefix) as wd:
        out = os.path.join(wd, "r.json")
        p = subprocess.run(cmd + ["--json", out, "--timeout", "40", "--run-dir", os.path.join(wd, "run")],
                           capture_output=True, text=True, timeout=300, env=env)
        if not os.path.exists(out):
            raise RuntimeError("no report; exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-600:]))
        with open(out) as f:
            return {r["id"]: (r["verdict"], r.get("message") or r.get("reason") or "") for r in json.load(f)["results"]}


def judge(got, want, verdict, label):
    """The problems of one row: every check of `want` ({id: text its message
    must hold}) must have `verdict` in `got` (results())."""
    problems = []
    for cid, sub in want.items():
        v, m = got.get(cid, ("missing", ""))
        if v != verdict or sub not in m:
            problems.append("%s %s: %s %r (wanted %s with %r)" % (label, cid, v, m[:400], verdict, sub))
    return problems


def finish(problems, tasks):
    """Runs `tasks` (zero-argument callables, each returning a list of
    problems) two at a time, adds their problems to `problems`, prints each as
    "FAIL ..." and the count, and returns the exit status (0 = none)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for f in [ex.submit(t) for t in tasks]:
            problems += f.result()
    for p in problems:
        print("FAIL", p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0
