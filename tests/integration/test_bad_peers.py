#!/usr/bin/env python3
"""Bad input from a peer gives failed or errored checks with clear one-line
messages, the run ends within its budget, and nothing the run started
outlives it; Ctrl-C during a Pebble run leaves no Pebble behind.

Runs acme-harness ($ACMEH_BIN) against tests/peers/bad_peer.py in each of its
modes, in parallel, and once against real Pebble interrupted with SIGINT.
Prints one line per case and "N passed, M failed"; exits 1 on any failure.
Arguments, if any, name the modes to run (then without the Pebble case).
"""

import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("ACMEH_BIN", "build/acme-harness")
SRC = os.environ.get("ACMEH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PEER = os.path.join(SRC, "tests", "peers", "bad_peer.py")
PYTHON = sys.executable or "/usr/bin/python3"

CHECKS = ["CORE-S-001", "CORE-S-006", "CORE-S-029"]
TIMEOUT_S = 5
JOBS = 2
# The run must end within every check's budget back to back plus this slack.
SLACK_S = 15
PEER_START_S = 10
CONNS_CLOSED_WAIT_S = 5
SIGINT_EXIT_S = 5
PEBBLE_READY_S = 60

# What each mode's messages must mention (any of the words, case-insensitive),
# and for modes whose directory works, which checks may pass. Optional: "checks"
# run instead of CHECKS, "scheme" of the URL (https: the peer must speak TLS),
# "verdicts" allowed (default fail or error; a peer's fault must be "fail"),
# besides "blocked" for a check other than CORE-S-001 whose message names the
# judging check.
EXPECT = {
    "invalid-json": {"words": ["not a JSON object"]},
    "huge-body": {"words": ["cap of 4194304"]},
    "no-replay-nonce": {"words": ["Replay-Nonce"], "may_pass": {"CORE-S-001"}},
    "reset": {"words": ["connection", "reset", "Recv failure", "Empty reply"]},
    "silent": {"words": ["no complete response within"]},
    "slow-headers": {"words": ["no complete response within"]},
    "wrong-status": {"words": ["500"]},
    "garbage-status-line": {"words": ["not a valid HTTP response"]},
    "many-headers": {"words": ["header fields, over the cap of 128"], "verdicts": ("fail",)},
    "long-status": {"words": ["not a valid HTTP response"], "verdicts": ("fail",)},
    "file-location": {"words": ["scheme is not http(s)"], "verdicts": ("fail",), "checks": ["CORE-S-012", "CORE-S-014"]},
    "huge-header": {"words": ["cap of 102400 bytes"], "verdicts": ("fail",)},
    "plain-http": {"words": ["did not speak TLS"], "verdicts": ("fail",), "scheme": "https"},
}


class Peer:
    """bad_peer.py in one mode, with its stdout read on a thread."""

    def __init__(self, mode):
        self.proc = subprocess.Popen([PYTHON, PEER, "--mode", mode, "--max-seconds", "300"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append(line.strip())
                self.cv.notify_all()

    def wait_line(self, pattern, timeout):
        """The first line matching pattern (a regex) within timeout seconds, else None."""
        until = time.monotonic() + timeout
        with self.cv:
            while True:
                for line in self.lines:
                    m = re.match(pattern, line)
                    if m:
                        return m
                left = until - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def open_conns(self):
        """Connections still open by the last count, or None before any."""
        with self.cv:
            counts = [int(m.group(1)) for m in map(lambda l: re.match(r"conns open=(\d+)", l), self.lines) if m]
        return counts[-1] if counts else None

    def wait_closed(self, timeout):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if self.open_conns() in (0, None):
                return True
            time.sleep(0.05)
        return self.open_conns() in (0, None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def session_leftovers(sid):
    """Pids still in session sid (the harness ran as its leader)."""
    r = subprocess.run(["pgrep", "-s", str(sid)], capture_output=True, text=True, timeout=10)
    return [int(p) for p in r.stdout.split()]


def kill_session(sid):
    try:
        os.killpg(sid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_harness(args, budget, cwd):
    """Runs the harness as a session leader; returns (returncode, seconds, stdout, stderr, sid)."""
    t0 = time.monotonic()
    p = subprocess.Popen([BIN] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        kill_session(p.pid)
        out, err = p.communicate(timeout=10)
        return None, time.monotonic() - t0, out, err, p.pid
    return p.returncode, time.monotonic() - t0, out, err, p.pid


def judge_results(mode, results, problems):
    """Appends to problems what is wrong with the verdicts and messages of one run."""
    exp = EXPECT[mode]
    checks = exp.get("checks", CHECKS)
    verdicts = exp.get("verdicts", ("fail", "error"))
    ids = sorted(r.get("id") for r in results)
    if ids != sorted(checks):
        problems.append("report holds %s, not %s" % (ids, checks))
    for r in results:
        rid, verdict, msg = r.get("id"), r.get("verdict"), r.get("message") or ""
        if verdict == "pass" and rid in exp.get("may_pass", ()):
            continue
        # A check that needed the broken step but does not judge it is blocked,
        # naming the check that does (one fault, one failure); the message
        # still carries the peer's fault.
        if verdict == "blocked" and rid != "CORE-S-001" and "(see CORE-S-" in msg:
            pass
        elif verdict not in verdicts:
            problems.append("%s: verdict %s, not %s" % (rid, verdict, "/".join(verdicts)))
        if not msg or "\n" in msg or "\r" in msg or len(msg) > 600:
            problems.append("%s: message is not one clear line: %r" % (rid, msg))
        if not any(w.lower() in msg.lower() for w in exp["words"]):
            problems.append("%s: message %r mentions none of %s" % (rid, msg, exp["words"]))


def case_mode(mode, workdir):
    """One bad-peer mode. Returns (ok, summary line, details)."""
    peer = Peer(mode)
    problems, messages = [], []
    elapsed = 0.0
    try:
        m = peer.wait_line(r"port (\d+)$", PEER_START_S)
        if not m:
            return False, "%s: bad_peer did not start" % mode, []
        url = "%s://127.0.0.1:%s/dir" % (EXPECT[mode].get("scheme", "http"), m.group(1))
        report = os.path.join(workdir, "%s.json" % mode)
        checks = EXPECT[mode].get("checks", CHECKS)
        budget = TIMEOUT_S * len(checks) + SLACK_S
        args = ["run", "--server-url", url, "--check", ",".join(checks), "--timeout", str(TIMEOUT_S),
                "--jobs", str(JOBS), "--json", report]
        rc, elapsed, out, err, sid = run_harness(args, budget, workdir)
        if rc is None:
            problems.append("harness still running after %d s (killed)" % budget)
        elif rc < 0:
            problems.append("harness died of signal %d" % -rc)
        elif rc != 1:
            problems.append("exit status %d, not 1" % rc)
        left = session_leftovers(sid)
        if left:
            problems.append("processes of the run remain: %s" % left)
            kill_session(sid)
        if not peer.wait_line(r"conns open=\d+ accepted=[1-9]", 0):
            problems.append("the run never connected to bad_peer")
        if not peer.wait_closed(CONNS_CLOSED_WAIT_S):
            problems.append("bad_peer still has %s connection(s) open" % peer.open_conns())
        try:
            with open(report) as f:
                results = json.load(f).get("results", [])
        except (OSError, ValueError) as e:
            problems.append("no JSON report: %s; stderr: %s" % (e, err.strip()[-300:]))
            results = []
        judge_results(mode, results, problems)
        messages = ["%s %s: %s" % (r.get("id"), r.get("verdict"), r.get("message")) for r in results]
    finally:
        peer.stop()
    line = "%s %s (%.1f s)%s" % ("PASS" if not problems else "FAIL", mode, elapsed,
                                 "" if not problems else ": " + "; ".join(problems))
    return not problems, line, messages


def pebble_pids_for(run_dir_prefix):
    """Pids of pebble processes whose command line names a harness run folder."""
    r = subprocess.run(["pgrep", "-a", "pebble"], capture_output=True, text=True, timeout=10)
    pids = []
    for row in r.stdout.splitlines():
        pid, _, cmd = row.partition(" ")
        if run_dir_prefix in cmd:
            pids.append(int(pid))
    return pids


def case_sigint(workdir):
    """Ctrl-C while the harness runs Pebble: it winds down quickly, writes its
    reports, exits 130, and Pebble goes with it."""
    problems = []
    report = os.path.join(workdir, "sigint.json")
    p = subprocess.Popen([BIN, "run", "--server", "pebble", "--jobs", "2", "--json", report], cwd=SRC,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    seen = threading.Event()
    tail = []
    found = {}

    def read_stdout():
        for line in p.stdout:
            tail.append(line.rstrip())
            # "target pebble: directory URL (its log /tmp/acme-harness-XXXXXX/target.log is kept ...)"
            m = re.search(r"target pebble: .*log (/tmp/acme-harness-[^/\s]+)/", line)
            if m:
                found["run_dir"] = m.group(1)
                seen.set()

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    elapsed = 0.0
    try:
        if not seen.wait(PEBBLE_READY_S):
            problems.append("no \"target pebble\" on stdout within %d s: %s" % (PEBBLE_READY_S, tail[-3:]))
        run_dir = found.get("run_dir", "/tmp/acme-harness-")
        if not pebble_pids_for(run_dir) and not problems:
            problems.append("no pebble process names %s (cannot test its cleanup)" % run_dir)
        time.sleep(0.1)  # checks start at once and the whole suite takes about 1 s
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            p.wait(SIGINT_EXIT_S)
        except subprocess.TimeoutExpired:
            problems.append("harness still running %d s after SIGINT" % SIGINT_EXIT_S)
        elapsed = time.monotonic() - t0
        until = time.monotonic() + 1.0  # SIGKILLed children vanish once reaped by init
        while pebble_pids_for(run_dir) and time.monotonic() < until:
            time.sleep(0.05)
        left = pebble_pids_for(run_dir)
        if left:
            problems.append("pebble still running after the harness exited: %s" % left)
        if p.returncode not in (130, 0):  # 0 only if the suite finished before the signal landed
            problems.append("exit status %s, not 130" % p.returncode)
        if not os.path.exists(report):
            problems.append("no JSON report written after Ctrl-C")
        shutil.rmtree(run_dir, ignore_errors=True) if run_dir.startswith("/tmp/acme-harness-") else None
    finally:
        kill_session(p.pid)
        for pid in pebble_pids_for(found.get("run_dir", "/tmp/acme-harness-never")):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if p.poll() is None:
            p.wait(10)
        reader.join(5)
    line = "%s sigint-pebble (exited %.1f s after SIGINT, status %s)%s" % (
        "PASS" if not problems else "FAIL", elapsed, p.returncode, "" if not problems else ": " + "; ".join(problems))
    return not problems, line, []


def main():
    if not os.access(BIN, os.X_OK):
        print("ACMEH_BIN=%s is not an executable" % BIN)
        return 1
    t0 = time.monotonic()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="acmeh-bad-peers-") as workdir:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            # Modes named on the command line run alone (no Pebble case): for a quick look at a few.
            modes = sys.argv[1:] or list(EXPECT)
            futures = [pool.submit(case_mode, mode, workdir) for mode in modes]
            if not sys.argv[1:]:
                futures.append(pool.submit(case_sigint, workdir))
            for fut in futures:
                try:
                    ok, line, messages = fut.result(timeout=300)
                except Exception as e:  # a broken case must not hide the others
                    ok, line, messages = False, "FAIL (case raised %r)" % e, []
                print(line)
                for m in messages:
                    print("    " + m)
                sys.stdout.flush()
                passed += ok
                failed += not ok
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
