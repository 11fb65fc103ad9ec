#!/usr/bin/env python3
"""ARI (RFC 9773) and profiles client checks must be able to fail: every
ARI-C / PROF-C check fails against the scriptable client
tests/peers/fake_client.c when it breaks exactly that check's rule
(FAKE_CLIENT_FAULTS), with the expected message; and the same client without
faults passes them all.

The fake client re-fetches RenewalInfo with a 1 s clamp floor
(FAKE_CLIENT_ARI_MIN_RETRY=1 instead of the RFC's 60 s) and follows a renewal
schedule for at most 12 s per run, so every scenario takes seconds.

Env: ACMEH_BIN (acmeh-fake-client is built beside it under tests/), ACMEH_SOURCE_DIR."""
import concurrent.futures
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_rows import ClientRows  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
TARGET = os.path.join(SRC, "tests", "peers", "fake-client.json")

# (check, faults, expected verdict, substring of the message)
ROWS = [
    ("ARI-C-001", "certid-extra-00", "fail", "base64url(serial DER content octets) of an issued certificate; got request #"),
    ("ARI-C-002", "certid-padding", "fail", "without '=' padding; got request #"),
    ("ARI-C-002", "double-slash", "fail", "renewalInfo + \"/\" + certID"),
    ("ARI-C-003", "post-renewalinfo", "fail", "a plain GET of renewalInfo (no JWS, no POST); got request #"),
    ("ARI-C-004", "no-fetch-after-issue", "fail", "never fetched its RenewalInfo"),
    ("ARI-C-005", "renew-outside-window", "fail", "before the window"),
    ("ARI-C-006", "renew-at-start", "fail", "came in the window's first tenth"),
    ("ARI-C-007", "trust-bad-window", "fail", "followed the invalid RenewalInfo"),
    ("ARI-C-008", "ignore-ari-retry-after", "fail", "no RenewalInfo re-fetch before its Retry-After (2 s)"),
    ("ARI-C-009", "no-clamp", "fail", "Retry-After: 0 clamped to a sane floor"),
    ("ARI-C-010", "no-backoff", "fail", "exponential back-off between RenewalInfo retries"),
    ("ARI-C-011", "short-long-term", "fail", "no sooner than the long-term delay"),
    ("ARI-C-012", "fetch-after-replaced", "fail", "whose successor was downloaded before"),
    ("ARI-C-013", "no-replaces", "fail", "has replaces (none)"),
    ("ARI-C-014", "replaces-without-ari", "fail", "no replaces when the directory has no renewalInfo"),
    ("ARI-C-015", "hide-explanation", "fail", "never mentions \"acme-harness-ari-7f3a\""),
    ("ARI-C-016", "loop-already-replaced", "fail", "repeats replaces"),
    ("ARI-C-017", "no-http-date", "fail", "a past HTTP-date gave no re-fetch in the run"),
    ("PROF-C-001", "hide-profiles", "fail", "shown to the operator (SHOULD); got the client's output names neither"),
    ("PROF-C-002", "send-unlisted-profile", "fail", "asks for profile \"c\""),
    ("PROF-C-003", "profile-not-string", "fail", "has profile of another JSON type"),
    ("PROF-C-004", "profile-without-meta", "fail", "no profile when the directory lists none"),
    ("PROF-C-005", "retry-invalid-profile", "fail", "more newOrders with the same profile"),
    ("PROF-C-005", "hide-detail", "fail", "never mentions invalidProfile"),
    ("PROF-C-006", "ignore-missing-profile", "fail", "never says the profile was missing"),
    ("PROF-C-007", "refinalize-invalid-profile", "fail", "not the same finalize again"),
]


ROWS_RUNNER = ClientRows(BIN, TARGET, 6,
                         lambda faults: {"ACMEH_FAKE_CLIENT": FAKE, "FAKE_CLIENT_FAULTS": faults,
                                         "FAKE_CLIENT_ARI_MIN_RETRY": "1", "FAKE_CLIENT_RENEW_BUDGET": "12"})


def client_ids(spec):
    with open(os.path.join(SRC, "suites", spec, "catalog.json")) as f:
        return [c["id"] for c in json.load(f)["checks"] if c["role"] == "client"]


def main():
    t0 = time.monotonic()
    ids = client_ids("ari") + client_ids("profiles")
    missing = sorted(set(ids) - {r[0] for r in ROWS if r[2] == "fail"})
    results = [(not missing, "%s every client check has a fail row%s" % ("ok  " if not missing else "FAIL", missing or ""))]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(ROWS_RUNNER.baseline, ids)] + [pool.submit(ROWS_RUNNER.row, r) for r in ROWS]
        results += [f.result() for f in futures]
    for _, line in results:
        print(line)
    failed = sum(1 for ok, _ in results if not ok)
    print("rows took %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
