#!/usr/bin/env python3
"""Checks must be able to fail, client side: every CORE-C check fails against
the scriptable client tests/peers/fake_client.c when it breaks exactly that
check's rule (FAKE_CLIENT_FAULTS), with the expected message; and the same
client without faults passes them all.

Env: ACMEH_BIN (the acme-harness binary; acmeh-fake-client is built in its
build tree under tests/), ACMEH_SOURCE_DIR."""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_rows import ClientRows  # noqa: E402

BIN = os.environ["ACMEH_BIN"]
SRC = os.environ["ACMEH_SOURCE_DIR"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
TARGET = os.path.join(SRC, "tests", "peers", "fake-client.json")

# (check, faults, expected verdict, substring of the message)
ROWS = [
    ("CORE-C-001", "no-user-agent", "fail", "a User-Agent header on every request"),
    ("CORE-C-002", "no-accept-language", "fail", "Accept-Language"),
    ("CORE-C-003", "wrong-content-type", "fail", "Content-Type: application/jose+json on every POST; got scenario plain-http01: request #"),
    ("CORE-C-004", "jwk-and-kid", "fail", "exactly one of jwk and kid; got scenario plain-http01: request #"),
    ("CORE-C-005", "kid-altered", "fail", "kid byte-identical to the newAccount Location"),
    ("CORE-C-006", "url-altered", "fail", "the url header byte-identical to the request URL"),
    ("CORE-C-007", "padding", "fail", "base64url without '=' padding"),
    ("CORE-C-008", "fetch-with-braces", "fail", "POST-as-GET with the empty payload"),
    ("CORE-C-009", "reuse-nonce", "fail", "reuses the nonce of request #"),
    ("CORE-C-010", "retry-with-fresh-nonce", "fail", "signed with the badNonce response's Replay-Nonce"),
    ("CORE-C-010", "ignore-bad-nonce", "skip", "did not retry the refused newOrder"),
    ("CORE-C-035", "ignore-bad-nonce", "fail", "the client sent no request after the badNonce error"),
    ("CORE-C-011", "use-malformed-nonce", "fail", "uses the nonce \"abc def\""),
    ("CORE-C-012", "nonce-header", "fail", "no Replay-Nonce request header"),
    ("CORE-C-013", "get-nonce", "fail", "is GET newNonce"),
    ("CORE-C-023", "csr-extra-name", "fail", "a CSR naming exactly the ordered identifiers"),
    ("CORE-C-024", "poll-fast", "fail", "no poll before Retry-After"),
    ("CORE-C-025", "challenge-empty-payload", "fail", "the client sent no {} to any challenge"),
    ("CORE-C-025", "challenge-wrong-payload", "fail", "the challenge response {} POSTed to the challenge URL; got request #"),
    ("CORE-C-029", "wrong-keyauth", "fail", "got past validation"),
    ("CORE-C-022", "repost-valid-challenge", "fail", "answers /chal/"),
    ("CORE-C-039", "forget-account", "fail", "2 account keys at newAccount"),
    ("CORE-C-026", "keep-http01", "fail", "after the client finished"),
    ("CORE-C-017", "eab-raw-key", "fail", "it verifies with the key's base64url text taken as the key bytes"),
    ("CORE-C-017", "eab-nonce", "fail", "no nonce in the binding's protected header; got request #"),
    ("CORE-C-017", "eab-wrong-url", "fail", "the binding's url equal to the outer JWS url; got request #"),
    ("CORE-C-027", "early-challenge", "fail",
     "the keyAuthorization served at /.well-known/acme-challenge/<token> when the challenge POST arrives (SHOULD NOT POST before); got request #"),
    ("CORE-C-027", "challenge-empty-payload", "skip", "no challenge POST of the client started a validation"),
    ("CORE-C-020", "first-authz-first-name", "fail",
     "each authorization's challenge answered for that authorization's own identifier, whatever the order of the order's arrays; got the dns-01 validation of "),
    ("CORE-C-032", "accept-key-in-chain", "fail",
     "a certificate chain holding a PRIVATE KEY block rejected, not installed; got the client (exit 0) installed it"),
    ("CORE-C-030", "accept-bad-token", "fail",
     "an http-01 token that is not base64url refused: no response served or published for it; got the client served the key "
     "authorization at /.well-known/acme-challenge/acmeh-c030.not+base64url"),
    ("CORE-C-034", "revoke-pem", "fail", "certificate = base64url of the DER certificate"),
    ("CORE-C-034", "revoke-reason-string", "fail", "reason as an integer CRLReason code"),
    ("CORE-C-048", "order-notafter-not-rfc3339", "fail",
     'newOrder.notAfter: not an RFC 3339 timestamp (got "next week") (first in scenario plain-http01: request #'),
    ("CORE-C-015", "bad-contact", "fail", "mailto contacts with one address and no hfields"),
    ("CORE-C-028", "keep-http01", "fail", "after the client finished"),
    ("CORE-C-040", "keep-dns01", "fail", "the mock DNS still answers TXT"),
    ("CORE-C-038", "ignore-retry-after", "fail", "no retry of a 503 answer before its Retry-After"),
    ("CORE-C-019", "csr-account-key", "fail", "asks a certificate for the account key"),
    ("CORE-C-031", "wrong-keyauth", "fail", "the TXT record base64url(SHA-256(keyAuthorization))"),
    ("CORE-C-101", "wrong-keyauth", "fail", "a validation certificate with one SAN and the critical acmeIdentifier"),
    ("CORE-C-033", "hide-detail", "fail", "never mentions \"acme-harness-refusal-7f3a\""),
    ("CORE-C-036", "ignore-retry-after", "fail", "no retry of a rateLimited request before its Retry-After"),
    ("CORE-C-037", "hide-detail", "fail", "never mentions \"acme-harness-terms-7f3a\""),
    # A client that gives up before the point a check judges breaks no rule of
    # that check: blocked, naming the scenario and how the client ended.
    ("CORE-C-019", "wrong-keyauth", "blocked", "blocked: scenario plain-http01 failed: the client never finalized: the client exited 1 first"),
    ("CORE-C-023", "wrong-keyauth", "blocked", "blocked: scenario plain-http01 failed: the client never finalized"),
    # A client that gives up at the refusal never resends: nothing about waiting was exercised.
    # Serving anything at the token's path is serving a response for it, whatever the body.
    ("CORE-C-030", "accept-bad-token,wrong-keyauth", "fail", "the client served a response at the token's path"),
    ("CORE-C-036", "give-up-after-refusal", "skip", "the client did not send the refused newOrder again"),
    ("CORE-C-038", "give-up-after-refusal", "skip", "the client did not send the refused newOrder again"),
    ("CORE-C-036", "bad-contact", "blocked", "blocked: scenario rate-limited-once failed: the client sent no POST to newOrder: the client exited 1 first"),
    # Scenarios that separate real behaviour (issue 12 item 5).
    ("CORE-C-024", "poll-every-2s", "pass", ""),  # a fixed 2 s poller meets Retry-After: 1 ...
    ("CORE-C-041", "poll-every-2s", "fail", "got 2 polls came early: #"),  # ... but not Retry-After: 4, each early poll listed
    ("CORE-C-041", "poll-fast", "fail", "ms early), #"),
    ("CORE-C-042", "retry-with-fresh-nonce", "fail", "retry 1 (request #"),
    ("CORE-C-042", "ignore-bad-nonce", "skip", "did not retry the refused newOrder"),
    ("CORE-C-043", "refinalize-blind", "fail", "finalizes again with no read of the order since the refusal"),
    ("CORE-C-044", "hide-subproblems", "fail", "never mentions \"acme-harness-sub-a-7f3a\" (it shows the top-level detail only)"),
    ("CORE-C-045", "ip-as-typed", "fail", "orders {\"type\": \"ip\", \"value\": \"0:0:0:0:0:0:0:1\"}"),
    ("CORE-C-046", "ignore-retry-after", "fail", "sent newOrder again"),
    ("CORE-C-046", "give-up-after-refusal", "pass", ""),  # stopping is right
    ("CORE-C-047", "ignore-retry-after", "fail", "no newOrder sent again before the rateLimited Retry-After (3600 s)"),
    # Per-request checks judge every scenario the run made: a nonce reused only
    # when resending after 503/429 is caught, naming the scenario (issue 12 item 4).
    ("CORE-C-009+CORE-C-036+CORE-C-038", "resend-same-nonce", "fail", "got scenario rate-limited-once: request #"),
    ("CORE-C-009", "resend-same-nonce", "pass", ""),  # alone, it judges plain-http01, where nothing is resent
    ("CORE-C-049", "csr-lowercase", "fail", "the CSR's names byte-identical to the newOrder identifiers; got request #"),
]


ROWS_RUNNER = ClientRows(BIN, TARGET, 4,
                         lambda faults: {"ACMEH_FAKE_CLIENT": FAKE, "FAKE_CLIENT_FAULTS": faults})


def relative_run_dir():
    """A relative --run-dir: the paths a client is given (CA bundle, hooks)
    must still work from the client's own folder."""
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, ACMEH_FAKE_CLIENT=FAKE, FAKE_CLIENT_FAULTS="")
        p = subprocess.run([BIN, "run", "--client", TARGET, "--check", "CORE-C-029", "--json", "r.json", "--run-dir", "rel"],
                           cwd=d, env=env, capture_output=True, text=True, timeout=240)
        try:
            with open(os.path.join(d, "r.json")) as f:
                got = json.load(f)["results"][0]
        except (OSError, ValueError, IndexError):
            got = {"verdict": "none", "message": p.stderr[-400:]}
        ok = got["verdict"] == "pass"
        return ok, "%s relative --run-dir -> %s: %s" % ("ok  " if ok else "FAIL", got["verdict"], got.get("message"))


def main():
    t0 = time.monotonic()
    with open(os.path.join(SRC, "suites", "core", "catalog.json")) as f:
        ids = [c["id"] for c in json.load(f)["checks"] if c["role"] == "client"]
    missing = sorted(set(ids) - {r[0] for r in ROWS if r[2] == "fail"})
    results = [(not missing, "%s every client check has a fail row%s" % ("ok  " if not missing else "FAIL", missing or ""))]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(ROWS_RUNNER.row, r) for r in ROWS] + [pool.submit(ROWS_RUNNER.baseline, ids),
                                                                     pool.submit(relative_run_dir)]
        results += [f.result() for f in futures]
    for _, line in results:
        print(line)
    failed = sum(1 for ok, _ in results if not ok)
    print("rows took %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
