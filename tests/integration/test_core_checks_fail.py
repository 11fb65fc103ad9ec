#!/usr/bin/env python3
"""Checks must be able to fail: every core server check (suites/core/catalog.json)
runs against tests/peers/fake_acme.py with a fault that breaks exactly its rule,
and must say "fail" with the expected message. A baseline run of the whole suite
against the fault-free fake must pass the checks listed in BASELINE_PASS.

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
JOBS = 4
CHECK_TIMEOUT = 20          # --timeout given to the harness
PROC_TIMEOUT = 300          # ceiling for any one subprocess (a hang, not slowness: a loaded 2-core machine needed 173 s)

# (check ID, faults, expected verdict, expected message substring[, options])
# options: {"tls": False} runs the fake over plain HTTP; {"claims": {...}} runs it as a
# target file with those claims (the EAB checks read their keys from claims "eab").
EAB_CLAIMS = {"eab": [{"kid": "fake-kid-1", "key": "9Qm3PWcMW3nkNXLD2C45JyeyGrm6K33JHpdDuOj0rDk"},
                      {"kid": "fake-kid-2", "key": "oLk5q5ON0NnWP4V7mVi8F0mkxo6EcF9yDiP27cxdYCM"}]}
ROWS = [
    ("CORE-S-001", "dir-no-newnonce", "fail", "no newNonce member"),
    ("CORE-S-002", "dir-no-keychange", "fail", 'every core resource URL in the directory; got no "keyChange" member'),
    ("CORE-S-002", "", "fail", 'absolute https URLs (§6.1: HTTPS is REQUIRED); got "newNonce": "http://', {"tls": False}),
    ("CORE-S-003", "newauthz-no-location", "fail", "expected 201 with Location; got no Location header"),
    ("CORE-S-003", "no-newauthz", "skip", "server does not advertise newAuthz"),
    ("CORE-S-004", "meta-tos-not-string", "fail", "expected meta.termsOfService a string; got meta.termsOfService is of another JSON type"),
    ("CORE-S-005", "post-as-get-dir-405", "fail", "expected 200 with the directory object; got POST-as-GET directory answered 405"),
    ("CORE-S-006", "head-nonce-no-replay", "fail", "expected HEAD newNonce with a Replay-Nonce header; got status 200 without Replay-Nonce"),
    ("CORE-S-007", "get-nonce-200", "fail", "expected GET newNonce: 204, empty body, Replay-Nonce; got status 200"),
    ("CORE-S-008", "nonce-cache-no-store-missing", "fail", "expected Cache-Control: no-store on newNonce responses; got HEAD newNonce Cache-Control: no-cache"),
    ("CORE-S-009", "repeat-nonce", "fail", "expected every nonce unique; got nonce"),
    ("CORE-S-010", "no-replay-nonce-on-post", "fail", "expected Replay-Nonce on every successful POST response; got POST-as-GET"),
    ("CORE-S-011", "accept-reused-nonce", "fail", "expected 400 urn:ietf:params:acme:error:badNonce; got request replaying a used nonce answered 200"),
    ("CORE-S-012", "accept-unknown-nonce", "fail", "badNonce; got request with a made-up nonce answered 200"),
    ("CORE-S-012", "accept-missing-nonce", "fail", "badNonce; got request without a nonce answered 200"),
    ("CORE-S-013", "badnonce-no-replay-nonce", "fail", "expected a valid Replay-Nonce on the badNonce response; got none"),
    ("CORE-S-014", "accept-non-b64-nonce", "fail", 'expected refusal (4xx) with type badNonce or malformed; got request with nonce "a+b/c=" answered 200'),
    ("CORE-S-015", "wrong-415", "fail", "expected 415; got POST with Content-Type application/json answered 400"),
    ("CORE-S-016", "get-allowed", "fail", "malformed; got plain GET of the account URL answered 200"),
    ("CORE-S-017", "accept-alg-none", "fail", 'badSignatureAlgorithm; got request with alg "none" answered 200'),
    ("CORE-S-017", "alg-error-malformed", "fail", 'badSignatureAlgorithm; got request with alg "none" answered 400 urn:ietf:params:acme:error:malformed'),
    ("CORE-S-018", "no-algorithms-member", "fail", "in the badSignatureAlgorithm problem; got no algorithms member"),
    ("CORE-S-019", "reject-es256", "fail", "ES256-signed newAccount: newAccount answered 400 urn:ietf:params:acme:error:badSignatureAlgorithm"),
    ("CORE-S-020", "reject-eddsa", "fail", "EdDSA-signed newAccount: newAccount answered 400 urn:ietf:params:acme:error:badSignatureAlgorithm"),
    ("CORE-S-021", "accept-jwk-and-kid", "fail", "expected refusal (4xx); got request carrying both jwk and kid answered 200"),
    ("CORE-S-022", "newaccount-accept-kid", "fail", "got newAccount signed with kid instead of jwk answered 200"),
    ("CORE-S-022", "neworder-accept-jwk", "fail", "got newOrder signed with jwk instead of kid answered 201"),
    ("CORE-S-023", "accept-general-serialization", "fail", 'got JWS in general serialization ("signatures" array) answered 200'),
    ("CORE-S-023", "accept-unprotected-header", "fail", 'got JWS with an unprotected "header" answered 200'),
    ("CORE-S-023", "accept-b64-false", "fail", 'got JWS with "b64": false answered 200'),
    ("CORE-S-023", "accept-compact", "fail", "got JWS in compact serialization answered 200"),
    ("CORE-S-023", "accept-empty-signature", "fail", "got JWS with an empty signature answered 200"),
    ("CORE-S-024", "accept-bad-signature", "fail", "got request whose signature has one bit flipped answered 200"),
    ("CORE-S-025", "accept-p384-for-es256", "fail", "badPublicKey; got newAccount with alg ES256 and a P-384 jwk answered 201"),
    ("CORE-S-025", "accept-rsa1024", "fail", "badPublicKey; got newAccount with RS256 and a 1024-bit RSA jwk answered 201"),
    ("CORE-S-026", "url-mismatch-malformed", "fail", "with type unauthorized; got request whose url has a trailing slash added answered 400 urn:ietf:params:acme:error:malformed"),
    ("CORE-S-026", "accept-missing-url", "fail", "got request without a url header member answered 200"),
    ("CORE-S-027", "accept-padding", "fail", "got JWS whose protected part ends in '=' answered 200"),
    ("CORE-S-028", "no-ownership-check", "fail", "expected 401, 403 or 404; got POST-as-GET of another account's order answered 200"),
    ("CORE-S-029", "new-account-200", "fail", "expected 201; got newAccount with a fresh key answered 200"),
    ("CORE-S-030", "echo-unknown-fields", "fail", '; got "onlyReturnExisting" echoed'),
    ("CORE-S-031", "orders-from-client", "fail", 'expected the server\'s own orders URL; got the client-supplied "https://orders.acmeh.invalid/x"'),
    ("CORE-S-033", "accept-tel-contact", "fail", 'unsupportedContact; got newAccount with contact ["tel:+15555550100"] answered 201'),
    ("CORE-S-034", "new-account-201-for-existing", "fail", "expected 200; got newAccount with an already registered key answered 201"),
    ("CORE-S-034", "existing-account-updated", "fail", "expected the account unchanged (request fields ignored); got the new contact was applied"),
    ("CORE-S-035", "only-return-existing-creates", "fail", "accountDoesNotExist; got a second onlyReturnExisting lookup (no account may have been created) answered 200"),
    ("CORE-S-036", "account-update-ignored", "fail", "expected the updated contact in the returned account; got contact absent"),
    ("CORE-S-036", "account-update-orders", "fail", "expected the orders URL unchanged (client changes ignored); got orders changed"),
    ("CORE-S-041", "keychange-keeps-old-key", "fail", "expected refusal (4xx); got POST-as-GET signed with the replaced key answered 200"),
    ("CORE-S-042", "keychange-accept-inner-nonce", "fail", "got keyChange whose inner JWS has a nonce answered 200"),
    ("CORE-S-042", "keychange-accept-wrong-oldkey", "fail", "got keyChange whose oldKey is not the account key answered 200"),
    ("CORE-S-043", "keychange-conflict-400", "fail", "expected 409; got keyChange to a key another account uses answered 400"),
    ("CORE-S-044", "keychange-invalidates-orders", "fail", 'expected the pending order still pending after rollover; got status invalid'),
    ("CORE-S-045", "deactivated-still-works", "fail", "unauthorized; got POST-as-GET by a deactivated account answered 200"),
    ("CORE-S-046", "order-no-expires", "fail", 'expected status, expires, identifiers, authorizations, finalize; got no "expires"'),
    ("CORE-S-047", "order-arrays-change", "fail", 'expected identifiers and authorizations never change; got "authorizations" changed between newOrder and the first poll'),
    ("CORE-S-048", "wildcard-keeps-star", "fail", 'expected authorization identifier = the base name without "*."; got value *.'),
    ("CORE-S-049", "accept-bad-alabel", "fail", "got newOrder for an invalid A-label (xn--zz) answered 201"),
    ("CORE-S-050", "finalize-pending-ok", "fail", "orderNotReady; got finalize of a pending order answered 200"),
    ("CORE-S-051", "badcsr-wrong-type", "fail", "badCSR; got finalize with a CSR naming an extra identifier answered 403 urn:ietf:params:acme:error:unauthorized"),
    ("CORE-S-051", "badcsr-invalidates-order", "fail", 'expected order status "ready"; got "invalid" after a refused CSR'),
    ("CORE-S-052", "accept-account-key-csr", "fail", "got finalize with a CSR whose key is the account key answered 200"),
    ("CORE-S-053", "finalize-201", "fail", "expected 200; got finalize of a ready order answered 201"),
    ("CORE-S-053", "valid-order-no-certificate", "fail", "expected a certificate URL in the valid order; got order valid without certificate"),
    ("CORE-S-055", "cert-content-type-json", "fail", 'expected Content-Type application/pem-certificate-chain; got "application/json"'),
    ("CORE-S-055", "cert-with-private-key-block", "fail", "expected only CERTIFICATE PEM blocks (RFC 7468 strict); got"),
    ("CORE-S-056", "alt-chain-other-leaf", "fail", "expected every alternate chain starts with the same end-entity certificate; got"),
    ("CORE-S-057", "challenge-unknown-field-400", "fail", "expected 200; got challenge response with an unknown extra field answered 400"),
    ("CORE-S-058", "challenge-no-validated", "fail", 'expected "validated" in the valid challenge; got none'),
    # The fake never validates: a challenge POST makes it valid, so these fail as they should.
    ("CORE-S-059", "", "fail", 'expected the challenge "invalid" when nothing is served; got challenge valid'),
    ("CORE-S-059", "challenges-invalid,invalid-challenge-no-error", "fail", 'expected an "error" problem document on the invalid challenge; got no error member'),
    ("CORE-S-061", "token-short", "fail", "expected tokens of >= 22 base64url characters (128 bits), no '='; got http-01 token"),
    # A challenge type that defines no token (dns-persist-01) is not held to §8.3/§8.4's token rule.
    ("CORE-S-061", "tokenless-challenge", "pass", ""),
    ("CORE-S-061", "tokenless-challenge,token-short", "fail", "got http-01 token"),
    ("CORE-S-062", "", "fail", "got 0 validation requests with Host"),
    ("CORE-S-063", "challenges-invalid", "fail", 'expected challenge "valid" for a body with trailing CRLF; got challenge ended "invalid"'),
    ("CORE-S-065", "", "fail", 'expected challenge "invalid" for a body that is not the keyAuthorization; got challenge ended "valid"'),
    ("CORE-S-066", "invalid-dns-01", "fail", 'ended "invalid" (challenge error: {"type":"urn:ietf:params:acme:error:incorrectResponse"'),
    ("CORE-S-067", "order-stays-pending", "fail", 'expected order status "ready" once all its authorizations are valid; got "pending"'),
    ("CORE-S-068", "authz-deactivate-ignored", "fail", 'expected authorization status "deactivated"; got "valid"'),
    ("CORE-S-068", "finalize-after-authz-deactivation-ok", "fail", "got finalize of an order whose authorization was deactivated answered 200"),
    ("CORE-S-069", "revoke-twice-ok", "fail", "alreadyRevoked; got a second revokeCert of the same certificate answered 200"),
    ("CORE-S-070", "revoke-cert-key-refused", "fail", "expected 200; got revokeCert signed by the certificate key (jwk) answered 403"),
    ("CORE-S-071", "revoke-any-account", "fail", "with type unauthorized; got revokeCert by an unrelated account answered 200"),
    ("CORE-S-072", "accept-reason-7", "fail", "badRevocationReason; got revokeCert with reason 7 answered 200"),
    ("CORE-S-073", "no-link-index", "fail", 'expected Link: <directory>;rel="index" on every non-directory response; got HEAD newNonce: no rel="index" link'),
    ("CORE-S-073", "no-link-index-on-errors", "fail", 'got request with a made-up nonce: no rel="index" link'),
    ("CORE-S-074", "no-link-up", "fail", 'expected Link: <authorization URL>;rel="up" on the challenge; got no rel="up" link'),
    ("CORE-S-076", "identifier-top-level", "fail", 'expected no top-level "identifier" in problem documents; got request with a made-up nonce'),
    ("CORE-S-076", "subproblem-identifier-string", "fail", "expected subproblem identifiers of the form {type, value}; got request with a made-up nonce"),
    ("CORE-S-077", "unregistered-error-type", "fail", 'expected only registered urn:ietf:params:acme:error: types; got onlyReturnExisting with an unknown key: "urn:ietf:params:acme:error:noSuchAccount"'),
    ("CORE-S-078", "error-not-problem-json", "fail", 'expected Content-Type application/problem+json; got request with a made-up nonce: "application/json"'),
    ("CORE-S-078", "problem-no-detail", "fail", 'expected a problem document with string "type" and "detail"; got request with a made-up nonce'),
    ("CORE-S-079", "orders-list-not-array", "fail", 'expected an object with an "orders" array; got no orders array'),
    ("CORE-S-081", "invalid-http-01", "fail", 'ended "invalid" (challenge error:'),
    ("CORE-S-081", "cert-download-404", "fail", "certificate download answered 404"),
    ("CORE-S-082", "invalid-dns-01", "fail", 'ended "invalid" (challenge error:'),
    ("CORE-S-083", "invalid-tls-alpn-01", "fail", 'ended "invalid" (challenge error:'),
    ("CORE-S-084", "accept-mailto-hfields", "fail", 'invalidContact; got newAccount with contact ["mailto:a@example.com?subject=x"] answered 201'),
    ("CORE-S-085", "accept-unknown-kid", "fail", "got request whose kid names no account answered 200"),
    ("CORE-S-086", "accept-non-b64-payload", "fail", "with type malformed; got JWS whose payload is not base64url answered 200"),
    ("CORE-S-087", "empty-body-crash", "fail", "with type malformed; got POST with an empty body answered 500"),
    # Object schemas: one malformed field each (harness/acme/schema.h)
    ("CORE-S-113", "dir-website-not-url", "fail", 'directory.meta.website: not a URI (got "the fake\'s home page") (first in CORE-S-113: GET '),
    ("CORE-S-114", "account-status-unknown", "fail", 'account.status: not one of valid,deactivated,revoked (got "active") (first in CORE-S-114: POST '),
    ("CORE-S-115", "order-expires-not-rfc3339", "fail", 'order.expires: not an RFC 3339 timestamp (got "tomorrow") (first in CORE-S-115: POST '),
    ("CORE-S-115", "order-no-finalize", "fail", "order.finalize: required, missing (first in CORE-S-115: POST "),
    ("CORE-S-116", "authz-wildcard-string", "fail", 'authorization.wildcard: not a boolean (got "no") (first in CORE-S-116: POST '),
    ("CORE-S-117", "challenge-validated-not-rfc3339", "fail", 'challenge.validated: not an RFC 3339 timestamp (got "just now") (first in CORE-S-117: '),
    ("CORE-S-118", "problem-status-string", "fail", 'problem.status: not an integer (got "400") (first in CORE-S-118: POST '),
    # The fake never contacts the harness's mocks, so no handshake is recorded.
    ("CORE-S-101", "", "fail", "expected a TLS handshake with SNI = the identifier; got none recorded for"),
    # IP identifiers (RFC 8738)
    ("CORE-S-102", "ip-order-echo-dns", "fail", 'expected identifiers [{"type":"ip","value":"127.0.0.1"}] in the order; got [{"type":"dns","value":"127.0.0.1"}]'),
    ("CORE-S-102", "ip-unsupported", "skip", "server does not support ip identifiers"),
    ("CORE-S-103", "ip-dns01", "fail", "expected no DNS-based challenge for an ip identifier; got the authorization for 127.0.0.1 offers dns-01"),
    ("CORE-S-104", "", "fail", "no request for /.well-known/acme-challenge/"),
    ("CORE-S-105", "", "fail", "expected a TLS handshake with SNI 1.0.0.127.in-addr.arpa; got none recorded"),
    ("CORE-S-106", "ip-cert-dns-san", "fail", "(and not as a dNSName); got it is a dNSName SAN"),
    ("CORE-S-107", "ip-accept-noncanonical", "fail", 'got newOrder for the non-canonical ip identifier "0:0:0:0:0:0:0:1" answered 201'),
    # External Account Binding (RFC 8555 §7.3.4): keys through claims
    ("CORE-S-108", "", "skip", 'the target claims no External Account Binding key (claims "eab"'),
    ("CORE-S-108", "", "pass", "", {"claims": EAB_CLAIMS}),
    ("CORE-S-108", "eab-not-echoed", "fail", "identical to the request's; got no externalAccountBinding in the account", {"claims": EAB_CLAIMS}),
    ("CORE-S-109", "eab-accept-bad-mac", "fail", "got newAccount whose externalAccountBinding MAC uses a wrong key answered 201", {"claims": EAB_CLAIMS}),
    ("CORE-S-110", "eab-accept-other-key", "fail", "got newAccount whose externalAccountBinding binds another public key answered 201", {"claims": EAB_CLAIMS}),
    ("CORE-S-111", "eab-accept-wrong-url", "fail", "got newAccount whose externalAccountBinding url is not the newAccount URL answered 201", {"claims": EAB_CLAIMS}),
    ("CORE-S-112", "", "skip", "server does not require external account binding"),
    ("CORE-S-112", "eab-required-malformed", "fail", "externalAccountRequired; got newAccount without externalAccountBinding answered 400 urn:ietf:params:acme:error:malformed"),
]

# Checks the fault-free fake (over TLS) must pass: all but NATURAL_FAILS, which
# need real validation (the fake marks a challenge valid when the client
# responds to it and never connects to the harness's mocks).
NATURAL_FAILS = {"CORE-S-059", "CORE-S-062", "CORE-S-065", "CORE-S-101", "CORE-S-104", "CORE-S-105"}


BASELINE_PASS = [
    "CORE-S-001", "CORE-S-002", "CORE-S-003", "CORE-S-004", "CORE-S-005", "CORE-S-006", "CORE-S-007",
    "CORE-S-008", "CORE-S-009", "CORE-S-010", "CORE-S-011", "CORE-S-012", "CORE-S-013", "CORE-S-014",
    "CORE-S-015", "CORE-S-016", "CORE-S-017", "CORE-S-018", "CORE-S-019", "CORE-S-020", "CORE-S-021",
    "CORE-S-022", "CORE-S-023", "CORE-S-024", "CORE-S-025", "CORE-S-026", "CORE-S-027", "CORE-S-028",
    "CORE-S-029", "CORE-S-030", "CORE-S-031", "CORE-S-033", "CORE-S-034", "CORE-S-035", "CORE-S-036",
    "CORE-S-041", "CORE-S-042", "CORE-S-043", "CORE-S-044", "CORE-S-045", "CORE-S-046", "CORE-S-047",
    "CORE-S-048", "CORE-S-049", "CORE-S-050", "CORE-S-051", "CORE-S-052", "CORE-S-053", "CORE-S-055",
    "CORE-S-056", "CORE-S-057", "CORE-S-058", "CORE-S-061", "CORE-S-063", "CORE-S-066", "CORE-S-067",
    "CORE-S-068", "CORE-S-069", "CORE-S-070", "CORE-S-071", "CORE-S-072", "CORE-S-073", "CORE-S-074",
    "CORE-S-076", "CORE-S-077", "CORE-S-078", "CORE-S-079", "CORE-S-081", "CORE-S-082", "CORE-S-083",
    "CORE-S-084", "CORE-S-085", "CORE-S-086", "CORE-S-087", "CORE-S-102", "CORE-S-103", "CORE-S-106",
    "CORE-S-107", "CORE-S-113", "CORE-S-114", "CORE-S-115", "CORE-S-116", "CORE-S-117", "CORE-S-118",
]


def catalog_ids():
    with open(os.path.join(SRC, "suites", "core", "catalog.json")) as f:
        return [c["id"] for c in json.load(f)["checks"] if c["role"] == "server"]


class Fake:
    """fake_acme.py with the given faults, on an ephemeral port; always killed."""

    def __init__(self, faults, tls, workdir):
        self.ca = os.path.join(workdir, "fake-ca.pem") if tls else None
        args = [sys.executable, FAKE, "--port", "0"] + (["--faults", faults] if faults else []) + \
            (["--tls", self.ca] if tls else [])
        self.stderr = open(os.path.join(workdir, "fake.stderr"), "w+")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline().strip()  # the fake prints its port once it listens
        if not line.isdigit():
            self.stop()
            self.stderr.seek(0)
            raise RuntimeError("fake_acme did not start: %r %s" % (line, self.stderr.read()[-500:]))
        self.url = "%s://127.0.0.1:%s/dir" % ("https" if tls else "http", line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.stderr.close()


def run_harness(fake, workdir, check=None, jobs=1, suite=None):
    out = os.path.join(workdir, "results.json")
    cmd = [BIN, "run", "--server-url", fake.url, "--json", out, "--timeout", str(CHECK_TIMEOUT),
           "--jobs", str(jobs)]
    if check:
        cmd += ["--check", check]
    if suite:
        cmd += ["--suite", suite]
    if fake.ca:
        cmd += ["--ca", fake.ca]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=PROC_TIMEOUT)
    if not os.path.exists(out):
        raise RuntimeError("no JSON report; exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-800:]))
    with open(out) as f:
        return json.load(f)["results"]


def run_with_claims(workdir, faults, claims, check):
    """The fake as a server target file (the harness starts it), so checks see `claims`."""
    cmd = [sys.executable, FAKE, "--port", "${PORT_acme}", "--tls", "${RUN_DIR}/fake-ca.pem"] + \
        (["--faults", faults] if faults else [])
    doc = {"name": "fake-acme", "role": "server", "description": "tests/peers/fake_acme.py", "ports": ["acme"],
           "command": cmd, "directory": "https://127.0.0.1:${PORT_acme}/dir", "ca_file": "${RUN_DIR}/fake-ca.pem",
           "ready": {"timeout_ms": 30000}, "claims": claims}
    target, out = os.path.join(workdir, "fake-acme.json"), os.path.join(workdir, "results.json")
    with open(target, "w") as f:
        json.dump(doc, f)
    p = subprocess.run([BIN, "run", "--server", target, "--json", out, "--timeout", str(CHECK_TIMEOUT), "--check", check,
                        "--run-dir", os.path.join(workdir, "run")], capture_output=True, text=True, timeout=PROC_TIMEOUT)
    if not os.path.exists(out):
        raise RuntimeError("no JSON report; exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-800:]))
    with open(out) as f:
        return json.load(f)["results"]


def run_row(row):
    check, faults, verdict, substring = row[:4]
    opts = row[4] if len(row) > 4 else {}
    with tempfile.TemporaryDirectory(prefix="acmeh-fail-") as wd:
        if "claims" in opts:
            results = run_with_claims(wd, faults, opts["claims"], check)
        else:
            fake = Fake(faults, opts.get("tls", True), wd)
            try:
                results = run_harness(fake, wd, check)
            finally:
                fake.stop()
    got = results[0] if results else {}
    problems = []
    if len(results) != 1 or got.get("id") != check:
        problems.append("expected one result for %s, got %s" % (check, [r.get("id") for r in results]))
    if got.get("verdict") != verdict:
        problems.append("verdict %s, expected %s" % (got.get("verdict"), verdict))
    if substring not in (got.get("message") or ""):
        problems.append("message lacks %r" % substring)
    return problems, got.get("message") or ""


def run_baseline(_row):
    with tempfile.TemporaryDirectory(prefix="acmeh-base-") as wd:
        fake = Fake("", True, wd)
        try:
            results = run_harness(fake, wd, jobs=2, suite="core")  # other suites have their own tests
        finally:
            fake.stop()
    verdicts = {r["id"]: (r["verdict"], r.get("message") or "") for r in results}
    problems = ["%s %s: %s" % (i, verdicts.get(i, ("missing", ""))[0], verdicts.get(i, ("", ""))[1][:300])
                for i in BASELINE_PASS if verdicts.get(i, ("missing",))[0] != "pass"]
    problems += ["%s %s, expected fail (the fake does not validate)" % (i, verdicts.get(i, ("missing",))[0])
                 for i in sorted(NATURAL_FAILS) if verdicts.get(i, ("missing",))[0] != "fail"]
    return problems, "%d checks pass against the fault-free fake" % sum(v[0] == "pass" for v in verdicts.values())


def main():
    failed_rows = set(r[0] for r in ROWS if r[2] == "fail")
    label = lambda r: "%s [%s] -> %s" % (r[0], r[1] or "no faults", r[2])
    tasks = [("baseline (no faults, whole suite)", run_baseline, None)] + [(label(r), run_row, r) for r in ROWS]
    return run_rows(BIN, [i for i in catalog_ids() if i not in failed_rows], tasks, JOBS)


if __name__ == "__main__":
    sys.exit(main())
