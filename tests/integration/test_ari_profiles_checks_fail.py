#!/usr/bin/env python3
"""Checks must be able to fail: every ARI (RFC 9773) and ACME profiles server
check runs against tests/peers/fake_acme.py with a fault that breaks exactly
its rule and must give the expected verdict and message. A baseline runs both
suites against the fault-free fake, which must pass every check but one that
no request can observe (PROF-S-007: an honest skip).

The fake is started by the harness from a target file written here (so the
checks see the target's claims, e.g. the per-profile validity PROF-S-008
compares with).

Environment: ACMEH_BIN (the acme-harness binary), ACMEH_SOURCE_DIR (the repo).
Prints one line per row and "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_rows import run_rows  # noqa: E402

SRC = os.environ.get("ACMEH_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ACMEH_BIN") or os.path.join(SRC, "build", "acme-harness")
FAKE = os.path.join(SRC, "tests", "peers", "fake_acme.py")
JOBS = 6
CHECK_TIMEOUT = 30
PROC_TIMEOUT = 300
NO_ARI = "server does not advertise renewalInfo"
NO_PROF = "server does not advertise meta.profiles"

# What the fake's target file claims: ARI, profiles, and each profile's
# certificate lifetime in seconds (tests/peers/fake_acme.py PROFILES), and
# where its operator retires profiles.
CLAIMS = {"ari": True, "profiles": True, "profile_validity": {"classic": 7 * 86400, "shortlived": 86400},
          "profile_admin": "/acmeh/profiles"}

# (check ID, faults, expected verdict, expected message substring[, claims])
ROWS = [
    ("ARI-S-001", "renewalinfo-in-meta", "fail", "expected renewalInfo as a top-level directory member (§3); got renewalInfo only inside meta"),
    ("ARI-S-001", "no-renewalinfo", "fail", "got none, though the target claims ARI"),
    ("ARI-S-001", "no-renewalinfo", "skip", NO_ARI, {}),
    ("ARI-S-002", "ari-get-405", "fail", "for a plain GET (no JWS); got GET renewalInfo/"),
    ("ARI-S-002", "no-renewalinfo", "skip", NO_ARI),
    ("ARI-S-003", "ari-window-not-rfc3339", "fail", 'got suggestedWindow.start "tomorrow" is not an RFC 3339 date-time'),
    ("ARI-S-004", "ari-window-end-before-start", "fail", "expected suggestedWindow end strictly after start (§4.2); got start 20"),
    ("ARI-S-005", "ari-no-retry-after", "fail", "expected a Retry-After header on the RenewalInfo response (§4.3); got none"),
    ("ARI-S-006", "ari-explanation-not-url", "fail", "expected explanationURL an absolute URL string (§4.2); got explanationURL is see the docs"),
    ("ARI-S-007", "ari-serial-magnitude", "fail", "for the RFC certID (serial with its leading 00); got GET renewalInfo/"),
    ("ARI-S-008", "ari-malformed-500", "fail", '(no "." separator) answered 500'),
    ("ARI-S-009", "ari-unknown-serial-400", "fail", "expected 404 for a serial this CA never issued; got GET renewalInfo/"),
    ("ARI-S-010", "replaces-not-echoed", "fail", 'got the newOrder response has no "replaces"'),
    ("ARI-S-010", "no-renewalinfo", "skip", NO_ARI),
    ("ARI-S-011", "replaced-at-finalize", "fail", "Interpretation difference: this server marks a certificate replaced only once its replacing order is finalized"),
    ("ARI-S-011", "already-replaced-400", "fail", "with the first replacing order valid (finalized), the second answered 400"),
    ("ARI-S-012", "replaces-any-account", "fail", "expected refusal (4xx); got newOrder by another account replacing this account's certificate answered 201"),
    ("ARI-S-013", "replaces-no-overlap-500", "fail", "expected refusal (4xx); got newOrder for an unrelated name replacing the certificate answered 500"),
    ("ARI-S-014", "replaces-invalid-still-blocks", "fail", "got newOrder replacing a certificate whose replacing order is invalid answered 409"),
    ("ARI-S-015", "ari-revoked-window-future", "fail", "expected a window already past for a revoked certificate (renew now); got window ends"),
    ("ARI-S-016", "ari-window-not-rfc3339", "fail", 'renewalInfo.suggestedWindow.start: not an RFC 3339 timestamp (got "tomorrow") (first in ARI-S-016: GET '),
    ("PROF-S-001", "profiles-not-strings", "fail", "expected meta.profiles an object of name -> description strings (§3); got"),
    ("PROF-S-001", "no-profiles", "fail", "got none, though the target claims profiles"),
    ("PROF-S-001", "no-profiles", "skip", NO_PROF, {}),
    ("PROF-S-002", "invalid-profile-wrong-urn", "fail", "invalidProfile; got newOrder with an unadvertised profile answered 400 urn:ietf:params:acme:error:badProfile"),
    ("PROF-S-002", "no-profiles", "skip", NO_PROF, {}),
    ("PROF-S-003", "profile-conflict-rejected-identifier", "fail", 'got profile "shortlived" takes an ip identifier, but newOrder for 127.0.0.1 under "classic" answered 400 urn:ietf:params:acme:error:rejectedIdentifier'),
    ("PROF-S-004", "profile-not-echoed", "fail", 'got the newOrder response has no "profile"'),
    ("PROF-S-005", "no-default-profile", "fail", 'expected the order names the profile the server chose; got the order has no string "profile"'),
    ("PROF-S-006", "retired-profile-issued", "fail", "invalidProfile; got finalize of an order whose profile was retired answered 200"),
    ("PROF-S-006", "", "skip", 'the target names no way to do it (claims "profile_admin")', {"profiles": True}),
    ("PROF-S-007", "", "skip", "operator practice (when to retire a profile) that no request can observe"),
    ("PROF-S-008", "profile-validity-ignored", "fail", 'got profile "shortlived": 604800 s (documented 86400 s)'),
    ("PROF-S-008", "", "skip", 'the target documents no per-profile validity (claims "profile_validity")', {"profiles": True}),
    ("PROF-S-009", "invalid-profile-json-ctype", "fail", 'expected the invalidProfile problem as application/problem+json (RFC 8555 §6.7); got newOrder with an unadvertised profile answered Content-Type "application/json"'),
]

# Operator practice no request can observe: skipped everywhere.
OPERATOR_SKIPS = {"PROF-S-007"}


def catalog_ids():
    ids = []
    for spec in ("ari", "profiles"):
        with open(os.path.join(SRC, "suites", spec, "catalog.json")) as f:
            ids += [c["id"] for c in json.load(f)["checks"] if c["role"] == "server"]
    return ids


def target_file(workdir, faults, claims):
    """A server target that starts the fake on a harness-chosen port with these faults."""
    cmd = [sys.executable, FAKE, "--port", "${PORT_acme}", "--tls", "${RUN_DIR}/fake-ca.pem"]
    if faults:
        cmd += ["--faults", faults]
    doc = {"name": "fake-acme", "role": "server", "description": "tests/peers/fake_acme.py", "ports": ["acme"],
           "command": cmd, "directory": "https://127.0.0.1:${PORT_acme}/dir", "ca_file": "${RUN_DIR}/fake-ca.pem",
           "ready": {"timeout_ms": 30000}, "claims": claims}
    path = os.path.join(workdir, "fake-acme.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def run_harness(workdir, faults, claims, checks=None, suites=None, jobs=1):
    out = os.path.join(workdir, "results.json")
    cmd = [BIN, "run", "--server", target_file(workdir, faults, claims), "--json", out, "--timeout",
           str(CHECK_TIMEOUT), "--jobs", str(jobs), "--run-dir", os.path.join(workdir, "run")]
    for c in checks or []:
        cmd += ["--check", c]
    for s in suites or []:
        cmd += ["--suite", s]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=PROC_TIMEOUT)
    if not os.path.exists(out):
        raise RuntimeError("no JSON report; exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-800:]))
    with open(out) as f:
        return json.load(f)["results"]


def run_row(row):
    check, faults, verdict, substring = row[:4]
    claims = row[4] if len(row) > 4 else CLAIMS
    with tempfile.TemporaryDirectory(prefix="acmeh-arifail-") as wd:
        results = run_harness(wd, faults, claims, checks=[check])
    got = results[0] if results else {}
    problems = []
    if len(results) != 1 or got.get("id") != check:
        problems.append("expected one result for %s, got %s" % (check, [r.get("id") for r in results]))
    if got.get("verdict") != verdict:
        problems.append("verdict %s, expected %s" % (got.get("verdict"), verdict))
    if substring not in (got.get("message") or ""):
        problems.append("message lacks %r" % substring)
    return problems, got.get("message") or ""


def run_baseline(suite):
    with tempfile.TemporaryDirectory(prefix="acmeh-aribase-") as wd:
        results = run_harness(wd, "", CLAIMS, suites=[suite], jobs=2)
    problems = []
    for r in results:
        want = "skip" if r["id"] in OPERATOR_SKIPS else "pass"
        if r["verdict"] != want:
            problems.append("%s %s (expected %s): %s" % (r["id"], r["verdict"], want, (r.get("message") or "")[:300]))
    if not results:
        problems.append("no results")
    return problems, "%d %s checks as expected against the fault-free fake" % (len(results), suite)


def main():
    tested = set(r[0] for r in ROWS if r[2] == "fail") | OPERATOR_SKIPS
    label = lambda r: "%s [%s] -> %s" % (r[0], r[1] or "no faults", r[2])
    tasks = [("baseline " + s, run_baseline, s) for s in ("ari", "profiles")] + [(label(r), run_row, r) for r in ROWS]
    return run_rows(BIN, [i for i in catalog_ids() if i not in tested], tasks, JOBS)


if __name__ == "__main__":
    sys.exit(main())
