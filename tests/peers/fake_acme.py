#!/usr/bin/env python3
"""A small scriptable ACME (RFC 8555) server for the harness's own tests.

It is lenient on purpose: it never validates challenges (a challenge turns
valid when the client POSTs to it), and it keeps everything in memory. It does
check what the core suite checks: JWS shape and base64url, alg and key type,
signatures (through the openssl CLI), nonces, url, jwk/kid, ownership, and it
issues real certificates with the openssl CLI.

`--faults a,b,c` names deviations, each breaking one rule (see FAULTS). Python
3 standard library only, plus /usr/bin/openssl. Listens on 127.0.0.1 only and
prints its port on the first line of stdout.

  fake_acme.py [--port 0] [--tls CA_OUT_FILE] [--faults f1,f2]
"""
import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
PROBLEM = "urn:ietf:params:acme:error:"
ALGS = ["ES256", "EdDSA", "RS256"]

FAULTS = {
    # directory
    "dir-no-newnonce": "directory without newNonce",
    "dir-no-keychange": "directory without keyChange",
    "no-newauthz": "directory does not advertise newAuthz",
    "newauthz-no-location": "newAuthz answers 201 without Location",
    "meta-tos-not-string": "meta.termsOfService is a number",
    "post-as-get-dir-405": "POST-as-GET of the directory answers 405",
    # nonces
    "head-nonce-no-replay": "HEAD newNonce without Replay-Nonce",
    "get-nonce-200": "GET newNonce answers 200",
    "nonce-cache-no-store-missing": "newNonce responses say Cache-Control: no-cache",
    "repeat-nonce": "every 100th nonce repeats the one before",
    "no-replay-nonce-on-post": "successful POST responses carry no Replay-Nonce",
    "accept-reused-nonce": "nonces are not consumed",
    "accept-unknown-nonce": "any base64url nonce is accepted",
    "accept-missing-nonce": "a JWS without nonce is accepted",
    "badnonce-no-replay-nonce": "badNonce responses carry no Replay-Nonce",
    "accept-non-b64-nonce": "a nonce that is not base64url is not checked",
    # request format, JWS
    "wrong-415": "a wrong Content-Type answers 400, not 415",
    "get-allowed": "plain GET of accounts, orders, authorizations answers 200",
    "accept-alg-none": "alg none is accepted",
    "alg-error-malformed": "unsupported algs get malformed, not badSignatureAlgorithm",
    "no-algorithms-member": "badSignatureAlgorithm problems lack algorithms",
    "reject-es256": "ES256 is refused",
    "reject-eddsa": "EdDSA is refused",
    "accept-jwk-and-kid": "a header with both jwk and kid is accepted (kid wins)",
    "newaccount-accept-kid": "newAccount signed with kid is accepted",
    "neworder-accept-jwk": "newOrder signed with jwk is accepted",
    "accept-general-serialization": "general serialization is accepted",
    "accept-unprotected-header": "an unprotected header is ignored",
    "accept-b64-false": "b64:false is ignored",
    "accept-compact": "compact serialization is accepted",
    "accept-empty-signature": "an empty signature is not verified",
    "accept-bad-signature": "signatures are not verified",
    "accept-p384-for-es256": "ES256 with a P-384 key is accepted",
    "accept-rsa1024": "RS256 with a 1024-bit key is accepted",
    "url-mismatch-malformed": "a url mismatch gets malformed, not unauthorized",
    "accept-missing-url": "a JWS without url is accepted",
    "accept-padding": "base64url '=' padding is stripped and accepted",
    "accept-unknown-kid": "a kid that names no account resolves to the account whose URL starts it",
    "accept-non-b64-payload": "a payload that is not base64url is taken as empty",
    "empty-body-crash": "an empty POST body answers 500 serverInternal",
    # accounts
    "no-ownership-check": "any account may read any order or authorization",
    "new-account-200": "newAccount answers 200 for a new account",
    "new-account-no-location": "newAccount answers 201 without Location",
    "echo-unknown-fields": "the account object echoes the request's fields",
    "orders-from-client": "a client-supplied orders URL is kept",
    "accept-tel-contact": "tel: contacts are accepted",
    "accept-mailto-hfields": "mailto contacts are not checked",
    "new-account-201-for-existing": "newAccount of a known key answers 201",
    "existing-account-updated": "newAccount of a known key applies the request's contact",
    "only-return-existing-creates": "onlyReturnExisting creates the account it says is missing",
    "account-update-ignored": "account update ignores contact",
    "account-update-orders": "account update takes the client's orders URL",
    "keychange-keeps-old-key": "the old key keeps working after keyChange",
    "keychange-accept-inner-nonce": "keyChange accepts an inner nonce",
    "keychange-accept-wrong-oldkey": "keyChange does not compare oldKey",
    "keychange-conflict-400": "keyChange to a key in use answers 400 malformed",
    "keychange-invalidates-orders": "keyChange makes the account's orders invalid",
    "deactivated-still-works": "a deactivated account keeps working",
    # orders
    "order-no-expires": "orders lack expires",
    "order-no-finalize": "orders lack finalize",
    "order-arrays-change": "authorization URLs change on every poll",
    "wildcard-keeps-star": "a wildcard authorization keeps the *. in its identifier",
    "accept-bad-alabel": "A-labels are not checked",
    "finalize-pending-ok": "a pending order can be finalized",
    "badcsr-wrong-type": "a CSR with other names gets 403 unauthorized, not badCSR",
    "badcsr-invalidates-order": "a refused CSR makes the order invalid",
    "accept-account-key-csr": "a CSR with the account key is accepted",
    "finalize-201": "finalize answers 201",
    "valid-order-no-certificate": "a valid order has no certificate URL",
    "order-stays-pending": "orders stay pending when their authorizations are valid",
    "authz-deactivate-ignored": "authorization deactivation answers the authorization unchanged",
    "finalize-after-authz-deactivation-ok": "deactivating an authorization leaves the order ready",
    "orders-list-not-array": "the orders list is not an array",
    # certificates, revocation
    "cert-content-type-json": "certificates are served as application/json",
    "cert-with-private-key-block": "the chain carries a PRIVATE KEY block",
    "alt-chain-other-leaf": "the alternate chain starts with the intermediate",
    "cert-download-404": "certificate URLs answer 404",
    "revoke-twice-ok": "revoking a revoked certificate answers 200",
    "revoke-cert-key-refused": "revocation signed by the certificate key is refused",
    "revoke-any-account": "any account may revoke any certificate",
    "accept-reason-7": "revocation reason 7 is accepted",
    # challenges
    "challenge-unknown-field-400": "challenge responses with unknown fields get 400",
    "challenge-no-validated": "valid challenges lack validated",
    "challenges-invalid": "every challenge response makes the challenge invalid",
    "invalid-http-01": "http-01 responses make the challenge invalid",
    "invalid-dns-01": "dns-01 responses make the challenge invalid",
    "invalid-tls-alpn-01": "tls-alpn-01 responses make the challenge invalid",
    "invalid-challenge-no-error": "invalid challenges carry no error",
    "token-short": "challenge tokens are 16 characters",
    "tokenless-challenge": "authorizations also offer dns-persist-01, a challenge type without a token (as Pebble 2.10)",
    # responses, errors
    "no-link-index": "no Link rel=index anywhere",
    "no-link-index-on-errors": "no Link rel=index on error responses",
    "no-link-up": "challenge responses lack Link rel=up",
    "identifier-top-level": "problem documents carry a top-level identifier",
    "subproblem-identifier-string": "problem documents carry subproblems with a string identifier",
    "unregistered-error-type": "accountDoesNotExist is reported as noSuchAccount",
    "error-not-problem-json": "errors are application/json",
    "problem-no-detail": "problem documents lack detail",
    # object schemas (one malformed field each; CORE-S-113..118, ARI-S-016)
    "dir-website-not-url": "meta.website is prose, not a URL",
    "account-status-unknown": "accounts say status \"active\", not one of valid, deactivated, revoked",
    "order-expires-not-rfc3339": "orders say expires \"tomorrow\"",
    "authz-wildcard-string": "authorizations carry wildcard \"no\" (a string)",
    "challenge-validated-not-rfc3339": "valid challenges say validated \"just now\"",
    "problem-status-string": "problem documents carry status as a string",
    # ARI (RFC 9773): renewalInfo, replaces
    "no-renewalinfo": "the directory has no renewalInfo (no ARI)",
    "renewalinfo-in-meta": "renewalInfo sits inside meta, not at the top level",
    "ari-get-405": "renewalInfo answers plain GET with 405 (wants POST-as-GET)",
    "ari-window-not-rfc3339": "suggestedWindow.start is not an RFC 3339 date-time",
    "ari-window-end-before-start": "suggestedWindow end is before start",
    "ari-no-retry-after": "renewalInfo responses carry no Retry-After",
    "ari-explanation-not-url": "explanationURL is prose, not a URL",
    "ari-serial-magnitude": "certIDs are looked up by the serial's magnitude bytes (no DER leading 00)",
    "ari-malformed-500": "malformed certIDs answer 500 serverInternal",
    "ari-unknown-serial-400": "an unknown serial answers 400 malformed, not 404",
    "ari-revoked-window-future": "a revoked certificate keeps its future window",
    "replaces-not-echoed": "orders do not echo replaces",
    "replaced-at-finalize": "a certificate counts as replaced only once its replacing order is valid",
    "already-replaced-400": "a second replacement answers 400 malformed, not 409 alreadyReplaced",
    "replaces-any-account": "replaces may name another account's certificate",
    "replaces-no-overlap-500": "replaces without a shared identifier answers 500 serverInternal",
    "replaces-invalid-still-blocks": "an invalid replacing order still blocks replacement",
    # ACME profiles (draft-ietf-acme-profiles)
    "no-profiles": "the directory has no meta.profiles",
    "profiles-not-strings": "meta.profiles maps names to numbers",
    "invalid-profile-wrong-urn": "an unknown profile answers badProfile, not invalidProfile",
    "invalid-profile-json-ctype": "invalidProfile answers are application/json",
    "profile-conflict-rejected-identifier": "an ip identifier under classic answers rejectedIdentifier, not invalidProfile",
    "profile-not-echoed": "orders do not echo the requested profile",
    "no-default-profile": "an order without profile names none",
    "profile-validity-ignored": "every profile issues 7-day certificates",
    "retired-profile-issued": "finalize of an order whose profile was retired issues anyway",
    # IP identifiers (RFC 8738)
    "ip-unsupported": "ip identifiers answer unsupportedIdentifier",
    "ip-order-echo-dns": "orders echo ip identifiers with type dns",
    "ip-dns01": "ip authorizations offer dns-01 too",
    "ip-cert-dns-san": "certificates carry ip identifiers as dNSName SANs",
    "ip-accept-noncanonical": "ip identifiers in non-canonical text are accepted as written",
    # External Account Binding (RFC 8555 §7.3.4), keys in EAB_KEYS
    "eab-not-echoed": "an account made with a binding does not carry it",
    "eab-accept-bad-mac": "the binding's MAC is not checked",
    "eab-accept-other-key": "the binding's payload is not compared with the account key",
    "eab-accept-wrong-url": "the binding's url is not compared with the request's",
    "eab-required-malformed": "meta.externalAccountRequired is true; newAccount without binding answers malformed",
}

# External Account Binding keys the fake knows (kid -> base64url HMAC key);
# test targets hand the same pairs to the checks through claims "eab".
EAB_KEYS = {"fake-kid-1": "9Qm3PWcMW3nkNXLD2C45JyeyGrm6K33JHpdDuOj0rDk",
            "fake-kid-2": "oLk5q5ON0NnWP4V7mVi8F0mkxo6EcF9yDiP27cxdYCM"}

# Profiles of the fake: description and certificate lifetime in days; only
# shortlived takes ip identifiers.
PROFILES = {"classic": ("7-day certificates, DNS names only", 7),
            "shortlived": ("1-day certificates, DNS names and IP addresses", 1)}
DEFAULT_PROFILE = "classic"


def is_ip(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


B64U_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64u_decode(s, allow_padding=False):
    """Strict base64url without padding; raises ValueError."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    if allow_padding:
        s = s.rstrip("=")
    if not B64U_RE.match(s) or len(s) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def now_str(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


# --- DER, keys -----------------------------------------------------------

def der_len(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, b)


EC_P256_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
EC_P384_PREFIX = bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200")
ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")
RSA_ALGID = bytes.fromhex("300d06092a864886f70d0101010500")


def jwk_spki(jwk):
    """SPKI DER of a public JWK; raises Problem badPublicKey."""
    try:
        kty = jwk.get("kty")
        if kty == "EC":
            x, y = b64u_decode(jwk["x"]), b64u_decode(jwk["y"])
            if jwk.get("crv") == "P-256" and len(x) == 32 and len(y) == 32:
                return EC_P256_PREFIX + b"\x04" + x + y
            if jwk.get("crv") == "P-384" and len(x) == 48 and len(y) == 48:
                return EC_P384_PREFIX + b"\x04" + x + y
        elif kty == "OKP" and jwk.get("crv") == "Ed25519":
            x = b64u_decode(jwk["x"])
            if len(x) == 32:
                return ED25519_PREFIX + x
        elif kty == "RSA":
            n = int.from_bytes(b64u_decode(jwk["n"]), "big")
            e = int.from_bytes(b64u_decode(jwk["e"]), "big")
            rsakey = der(0x30, der_int(n) + der_int(e))
            return der(0x30, RSA_ALGID + der(0x03, b"\x00" + rsakey))
    except (KeyError, ValueError, TypeError, AttributeError):
        pass
    raise Problem(400, "badPublicKey", "unusable jwk")


def rsa_bits(jwk):
    try:
        return int.from_bytes(b64u_decode(jwk["n"]), "big").bit_length()
    except (KeyError, ValueError, TypeError):
        return 0


def thumbprint(jwk):
    kty = jwk.get("kty")
    members = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}.get(kty)
    if not members or any(not isinstance(jwk.get(m), str) for m in members):
        raise Problem(400, "badPublicKey", "unusable jwk")
    canon = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


def pem(label, data):
    b = base64.b64encode(data).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)


def pem_blocks(text, label):
    out = []
    for m in re.finditer(r"-----BEGIN %s-----(.*?)-----END %s-----" % (label, label), text, re.S):
        out.append(base64.b64decode("".join(m.group(1).split())))
    return out


class Openssl:
    """The openssl CLI in a private temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fake-acme-")
        self.lock = threading.Lock()
        self.n = 0

    def path(self, name):
        return os.path.join(self.dir, name)

    def tmp(self, suffix, data):
        with self.lock:
            self.n += 1
            p = self.path("t%d%s" % (self.n, suffix))
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def run(self, *args, stdin=None):
        return subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True, timeout=20)

    def verify(self, alg, jwk, signing_input, sig):
        spki = jwk_spki(jwk)
        files = [self.tmp(".pub", pem("PUBLIC KEY", spki)), self.tmp(".in", signing_input)]
        try:
            if alg == "ES256":
                if len(sig) != 64:
                    return False
                r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
                files.append(self.tmp(".sig", der(0x30, der_int(r) + der_int(s))))
                p = self.run("dgst", "-sha256", "-verify", files[0], "-signature", files[2], files[1])
            elif alg == "RS256":
                files.append(self.tmp(".sig", sig))
                p = self.run("dgst", "-sha256", "-verify", files[0], "-signature", files[2], files[1])
            elif alg == "EdDSA":
                files.append(self.tmp(".sig", sig))
                p = self.run("pkeyutl", "-verify", "-pubin", "-inkey", files[0], "-rawin", "-in", files[1],
                             "-sigfile", files[2])
            else:
                return False
            return p.returncode == 0
        finally:
            for f in files:
                os.unlink(f)

    def check(self, *args):
        p = self.run(*args)
        if p.returncode:
            raise RuntimeError("openssl %s: %s" % (args[0], p.stderr.decode(errors="replace")))
        return p.stdout

    def ca(self, name, subject, issuer=None, ext="basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
           "subjectKeyIdentifier=hash\n"):
        key, csr, crt, extf = (self.path(name + s) for s in (".key", ".csr", ".pem", ".ext"))
        self.check("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        self.check("req", "-new", "-key", key, "-subj", subject, "-out", csr)
        with open(extf, "w") as f:
            f.write(ext)
        signer = ["-signkey", key] if issuer is None else ["-CA", self.path(issuer + ".pem"), "-CAkey",
                                                           self.path(issuer + ".key")]
        self.check("x509", "-req", "-in", csr, *signer, "-days", "30", "-set_serial",
                   str(secrets.randbits(63)), "-extfile", extf, "-out", crt)
        return crt

    def ski(self, name):
        """The subjectKeyIdentifier octets of CA certificate `name`."""
        text = self.check("x509", "-in", self.path(name + ".pem"), "-noout", "-ext", "subjectKeyIdentifier").decode()
        return bytes.fromhex(re.sub(r"[^0-9A-Fa-f]", "", text.split("\n", 1)[1]))

    def csr_info(self, csr_der):
        """(names, spki DER) of a CSR whose self-signature verifies; raises ValueError."""
        f = self.tmp(".csr", pem("CERTIFICATE REQUEST", csr_der))
        try:
            p = self.run("req", "-in", f, "-noout", "-text", "-pubkey", "-verify")
        finally:
            os.unlink(f)
        if p.returncode:
            raise ValueError("CSR does not parse or its signature does not verify")
        text = p.stdout.decode(errors="replace")
        names = set(n.lower() for n in re.findall(r"DNS:([^,\s]+)", text))
        names |= set(str(ipaddress.ip_address(n)) for n in re.findall(r"IP Address:([0-9A-Fa-f:.]+)", text))
        m = re.search(r"Subject:.*?CN ?= ?([^,\n/]+)", text)
        if m:
            names.add(m.group(1).strip().lower())
        keys = pem_blocks(text, "PUBLIC KEY")
        if not keys:
            raise ValueError("CSR has no public key")
        return names, keys[0]

    def issue(self, csr_der, names, days=7, serial=None, ip_as_dns=False):
        csr = self.tmp(".csr", pem("CERTIFICATE REQUEST", csr_der))
        ext = self.tmp(".ext", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n"
                       "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n"
                       % ",".join(("IP:" if is_ip(n) and not ip_as_dns else "DNS:") + n for n in names))
        try:
            out = self.check("x509", "-req", "-in", csr, "-CA", self.path("int.pem"), "-CAkey",
                             self.path("int.key"), "-days", str(days), "-set_serial",
                             str(serial or secrets.randbits(63)), "-extfile", ext)
        finally:
            os.unlink(csr)
            os.unlink(ext)
        return out.decode()


# --- the server state -------------------------------------------------------

class Problem(Exception):
    def __init__(self, status, ptype, detail, headers=None, extra=None):
        super().__init__(detail)
        self.status, self.ptype, self.detail = status, ptype, detail
        self.headers, self.extra = headers or {}, extra or {}


class State:
    def __init__(self, faults, ossl):
        self.f = faults
        self.ossl = ossl
        self.lock = threading.RLock()
        self.nonces = set()
        self.nonce_count = 0
        self.last_nonce = None
        self.accounts = {}   # id -> account
        self.by_thumb = {}   # thumbprint -> account id
        self.orders, self.authzs, self.challs, self.certs = {}, {}, {}, {}
        self.certs_by_der = {}
        self.retired = set()
        self.seq = 0
        self.base = None

    def new_id(self):
        self.seq += 1
        return "%d%s" % (self.seq, secrets.token_hex(4))

    def nonce(self):
        with self.lock:
            self.nonce_count += 1
            if "repeat-nonce" in self.f and self.nonce_count % 100 == 0 and self.last_nonce:
                n = self.last_nonce
            else:
                n = secrets.token_urlsafe(16)
            self.nonces.add(n)
            self.last_nonce = n
            return n

    def url(self, path):
        return self.base + path


def fault(state, name):
    return name in state.f


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-acme/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    @property
    def st(self):
        return self.server.state

    # -- responses ---------------------------------------------------------
    def reply(self, status, body=b"", ctype=None, headers=None, nonce=False, index=True):
        st = self.st
        if isinstance(body, (dict, list)):
            body = json.dumps(body, indent=1).encode()
            ctype = ctype or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if nonce:
            self.send_header("Replay-Nonce", st.nonce())
        if index and not fault(st, "no-link-index"):
            self.send_header("Link", '<%s>;rel="index"' % st.url("/dir"))
        for k, v in (headers or {}).items():
            for one in v if isinstance(v, list) else [v]:
                self.send_header(k, one)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def problem(self, p, post):
        st = self.st
        ptype = p.ptype
        if ptype == "accountDoesNotExist" and fault(st, "unregistered-error-type"):
            ptype = "noSuchAccount"
        doc = {"type": PROBLEM + ptype, "status": str(p.status) if fault(st, "problem-status-string") else p.status}
        if not fault(st, "problem-no-detail"):
            doc["detail"] = p.detail
        doc.update(p.extra)
        if fault(st, "identifier-top-level"):
            doc["identifier"] = {"type": "dns", "value": "example.com"}
        if fault(st, "subproblem-identifier-string"):
            doc["subproblems"] = [{"type": PROBLEM + "malformed", "detail": "x", "identifier": "example.com"}]
        plain = fault(st, "error-not-problem-json") or (ptype == "invalidProfile" and fault(st, "invalid-profile-json-ctype"))
        ctype = "application/json" if plain else "application/problem+json"
        nonce = post and not (ptype == "badNonce" and fault(st, "badnonce-no-replay-nonce"))
        self.reply(p.status, json.dumps(doc).encode(), ctype, p.headers, nonce=nonce,
                   index=not fault(st, "no-link-index-on-errors"))

    # -- HTTP methods ------------------------------------------------------
    def path_only(self):
        return self.path.split("?", 1)[0]

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        st = self.st
        path = self.path_only()
        try:
            if path == "/dir":
                return self.reply(200, directory(st), index=False)
            if path == "/new-nonce":
                return self.new_nonce()
            if path.startswith("/renewal-info/"):
                if fault(st, "ari-get-405"):
                    raise Problem(405, "malformed", "use POST-as-GET", {"Allow": "POST"})
                with st.lock:
                    body, hdrs = renewal_info(st, path[len("/renewal-info/"):])
                return self.reply(200, body, headers=hdrs)
            if path == "/terms":
                return self.reply(200, "terms of service of the fake ACME server\n", "text/plain")
            if fault(st, "get-allowed") and re.match(r"^/(acct|order|authz)/", path):
                with st.lock:
                    obj = lookup_resource(st, path)
                if obj is not None:
                    return self.reply(200, obj)
            raise Problem(405, "malformed", "use POST-as-GET", {"Allow": "POST"})
        except Problem as p:
            self.problem(p, post=False)

    def new_nonce(self):
        st = self.st
        h = {"Cache-Control": "no-cache" if fault(st, "nonce-cache-no-store-missing") else "no-store"}
        no_nonce = self.command == "HEAD" and fault(st, "head-nonce-no-replay")
        status = 200 if self.command in ("HEAD", "POST") or fault(st, "get-nonce-200") else 204
        self.reply(status, b"", None, h, nonce=not no_nonce)

    def profile_admin(self, body):
        """Plain JSON {"retire"|"restore": name}: the operator retiring a profile
        (as the reference server's /acmeh/profiles)."""
        st = self.st
        try:
            req = json.loads(body)
        except ValueError:
            req = {}
        with st.lock:
            if req.get("retire") in PROFILES:
                st.retired.add(req["retire"])
            elif req.get("restore") in PROFILES:
                st.retired.discard(req["restore"])
            else:
                return self.reply(400, {"error": "give {\"retire\"|\"restore\": name}"})
            return self.reply(200, {"retired": sorted(st.retired)})

    def do_PUT(self):
        self.problem(Problem(405, "malformed", "method not allowed", {"Allow": "POST"}), post=False)

    do_DELETE = do_PATCH = do_PUT

    def do_POST(self):
        st = self.st
        try:
            length = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            return self.problem(Problem(413 if length > MAX_BODY else 411, "malformed",
                                        "body missing or larger than 1 MiB"), post=True)
        body = self.rfile.read(length)
        if self.path_only() == "/acmeh/profiles":
            return self.profile_admin(body)
        try:
            path = self.path_only()
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/jose+json":
                raise Problem(400 if fault(st, "wrong-415") else 415, "malformed",
                              "Content-Type must be application/jose+json")
            if not body and fault(st, "empty-body-crash"):
                raise RuntimeError("empty body")
            with st.lock:
                return handle_post(self, st, path, body)
        except Problem as p:
            self.problem(p, post=True)
        except Exception as e:  # a bug here: say so, keep serving
            print("fake_acme: %s %s: %r" % (self.command, self.path, e), file=sys.stderr)
            self.problem(Problem(500, "serverInternal", "internal error: %r" % e), post=True)


# --- directory and resources ------------------------------------------------

def directory(st):
    d = {"newNonce": st.url("/new-nonce"), "newAccount": st.url("/new-acct"), "newOrder": st.url("/new-order"),
         "revokeCert": st.url("/revoke-cert"), "keyChange": st.url("/key-change"),
         "meta": {"termsOfService": st.url("/terms"), "website": "https://fake-acme.example/",
                  "caaIdentities": ["fake-acme.example"],
                  "externalAccountRequired": fault(st, "eab-required-malformed")}}
    if not fault(st, "no-newauthz"):
        d["newAuthz"] = st.url("/new-authz")
    if fault(st, "dir-no-newnonce"):
        del d["newNonce"]
    if fault(st, "dir-no-keychange"):
        del d["keyChange"]
    if fault(st, "dir-website-not-url"):
        d["meta"]["website"] = "the fake's home page"
    if fault(st, "meta-tos-not-string"):
        d["meta"]["termsOfService"] = 42
    if fault(st, "renewalinfo-in-meta"):
        d["meta"]["renewalInfo"] = st.url("/renewal-info")
    elif not fault(st, "no-renewalinfo"):
        d["renewalInfo"] = st.url("/renewal-info")
    if not fault(st, "no-profiles"):
        d["meta"]["profiles"] = {k: (1 if fault(st, "profiles-not-strings") else v[0]) for k, v in PROFILES.items()}
    return d


def lookup_resource(st, path):
    m = re.match(r"^/(acct|order|authz)/([^/]+)$", path)
    if not m:
        return None
    kind, rid = m.groups()
    if kind == "acct" and rid in st.accounts:
        return account_obj(st, st.accounts[rid])
    if kind == "order" and rid in st.orders:
        return order_obj(st, st.orders[rid])
    if kind == "authz" and rid in st.authzs:
        return authz_obj(st, st.authzs[rid])
    return None


def account_obj(st, a):
    o = {"status": a["status"], "orders": a["orders_url"], "createdAt": a["created"]}
    if a["contact"]:
        o["contact"] = a["contact"]
    o.update(a.get("echo", {}))
    if fault(st, "account-status-unknown"):
        o["status"] = "active"
    return o


def order_obj(st, o):
    refresh_order(st, o)
    o["polls"] = o.get("polls", 0)
    authz_urls = [st.url("/authz/" + a) for a in o["authzs"]]
    if fault(st, "order-arrays-change") and o["polls"]:
        authz_urls = [u + "?poll=%d" % o["polls"] for u in authz_urls]
    idents = o["identifiers"]
    if fault(st, "ip-order-echo-dns"):
        idents = [dict(i, type="dns") for i in idents]
    out = {"status": o["status"], "identifiers": idents, "authorizations": authz_urls}
    if not fault(st, "order-no-finalize"):
        out["finalize"] = st.url("/order/%s/finalize" % o["id"])
    if not fault(st, "order-no-expires"):
        out["expires"] = "tomorrow" if fault(st, "order-expires-not-rfc3339") else o["expires"]
    if o.get("cert") and not fault(st, "valid-order-no-certificate"):
        out["certificate"] = st.url("/cert/" + o["cert"])
    if o.get("error"):
        out["error"] = o["error"]
    if o.get("replaces") and not fault(st, "replaces-not-echoed"):
        out["replaces"] = o["replaces"]
    if o.get("profile") and not fault(st, "profile-not-echoed"):
        out["profile"] = o["profile"]
    return out


def authz_obj(st, a):
    ident = dict(a["identifier"])
    if a["wildcard"] and fault(st, "wildcard-keeps-star"):
        ident["value"] = "*." + ident["value"]
    out = {"identifier": ident, "status": a["status"], "expires": a["expires"],
           "challenges": [chall_obj(st, st.challs[c]) for c in a["challs"]]}
    if a["wildcard"]:
        out["wildcard"] = True
    elif fault(st, "authz-wildcard-string"):
        out["wildcard"] = "no"
    return out


def chall_obj(st, c):
    out = {"type": c["type"], "url": st.url("/chall/" + c["id"]), "status": c["status"], "token": c["token"]}
    if c["type"] == "dns-persist-01":  # draft-ietf-acme-dns-persist: no token, the TXT names the CA
        del out["token"]
    if c.get("validated") and not fault(st, "challenge-no-validated"):
        out["validated"] = "just now" if fault(st, "challenge-validated-not-rfc3339") else c["validated"]
    if c.get("error"):
        out["error"] = c["error"]
    return out


def refresh_order(st, o):
    if o["status"] in ("valid", "invalid", "processing"):
        return
    states = [st.authzs[a]["status"] for a in o["authzs"]]
    if any(s in ("invalid", "deactivated", "revoked", "expired") for s in states):
        if fault(st, "finalize-after-authz-deactivation-ok") and "invalid" not in states:
            return
        o["status"] = "invalid"
    elif all(s == "valid" for s in states) and not fault(st, "order-stays-pending"):
        o["status"] = "ready"


def new_authz(st, acct_id, ident):
    aid = st.new_id()
    wildcard = ident["value"].startswith("*.")
    value = ident["value"][2:] if wildcard else ident["value"]
    types = ["dns-01"] if wildcard else ["http-01", "dns-01", "tls-alpn-01"]
    if ident["type"] == "ip" and not fault(st, "ip-dns01"):
        types = ["http-01", "tls-alpn-01"]  # RFC 8738 §7: no dns-01 for addresses
    if fault(st, "tokenless-challenge"):
        types = types + ["dns-persist-01"]
    challs = []
    for t in types:
        cid = st.new_id()
        tok = secrets.token_urlsafe(12)[:16] if fault(st, "token-short") else secrets.token_urlsafe(32)
        st.challs[cid] = {"id": cid, "type": t, "status": "pending", "token": tok, "authz": aid}
        challs.append(cid)
    st.authzs[aid] = {"id": aid, "account": acct_id, "identifier": {"type": ident["type"], "value": value},
                      "wildcard": wildcard, "status": "pending", "expires": now_str(7 * 86400),
                      "challs": challs, "orders": []}
    return aid


LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def check_identifier(st, ident, allow_wildcard=True):
    if not isinstance(ident, dict) or not isinstance(ident.get("value"), str):
        raise Problem(400, "malformed", "identifier must be an object with a string value")
    if ident.get("type") != "dns":
        raise Problem(400, "unsupportedIdentifier", "only dns identifiers are supported")
    v = ident["value"]
    if v.startswith("*.") and allow_wildcard:
        v = v[2:]
    labels = v.split(".")
    if len(v) > 253 or len(labels) < 2:
        raise Problem(400, "rejectedIdentifier", "%s is not a usable domain name" % ident["value"])
    for label in labels:
        if not LABEL_RE.match(label):
            raise Problem(400, "rejectedIdentifier", "%s: bad label %r" % (ident["value"], label))
        if label.startswith("xn--") and not fault(st, "accept-bad-alabel"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, IndexError):
                raise Problem(400, "rejectedIdentifier", "%s: invalid A-label %s" % (ident["value"], label))
        elif len(label) > 3 and label[2:4] == "--" and not label.startswith("xn--"):
            raise Problem(400, "rejectedIdentifier", "%s: reserved label %s" % (ident["value"], label))


# --- JWS ----------------------------------------------------------------------

def parse_jws(st, body):
    """-> (protected header dict, protected_b64, payload bytes, payload_b64, sig bytes)."""
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        obj = None
        text = body.decode(errors="replace").strip()
        if fault(st, "accept-compact") and text.count(".") == 2:
            p, pl, s = text.split(".")
            obj = {"protected": p, "payload": pl, "signature": s}
        if obj is None:
            raise Problem(400, "malformed", "body is not a flattened JWS JSON object")
    if not isinstance(obj, dict):
        raise Problem(400, "malformed", "body is not a JSON object")
    if "signatures" in obj:
        sigs = obj.get("signatures")
        if not fault(st, "accept-general-serialization") or not isinstance(sigs, list) or len(sigs) != 1:
            raise Problem(400, "malformed", "general serialization is not allowed; use flattened")
        obj = {"protected": sigs[0].get("protected"), "payload": obj.get("payload"),
               "signature": sigs[0].get("signature")}
    if "header" in obj and not fault(st, "accept-unprotected-header"):
        raise Problem(400, "malformed", "unprotected header is not allowed")
    for k in ("protected", "payload", "signature"):
        if not isinstance(obj.get(k), str):
            raise Problem(400, "malformed", "JWS lacks a string %s" % k)
    pad = fault(st, "accept-padding")
    try:
        prot_b = b64u_decode(obj["protected"], pad)
        sig = b64u_decode(obj["signature"], pad)
        hdr = json.loads(prot_b)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "malformed", "protected header or signature is not strict base64url JSON")
    if not isinstance(hdr, dict):
        raise Problem(400, "malformed", "protected header is not an object")
    if "b64" in hdr or "crit" in hdr:
        if not fault(st, "accept-b64-false"):
            raise Problem(400, "malformed", "b64/crit are not allowed in ACME")
        payload_b64 = obj["payload"]
        payload = payload_b64.encode()
    else:
        try:
            payload = b64u_decode(obj["payload"], pad)
        except ValueError:
            if not fault(st, "accept-non-b64-payload"):
                raise Problem(400, "malformed", "payload is not strict base64url")
            payload = b""
        payload_b64 = obj["payload"].rstrip("=") if pad else obj["payload"]
    prot_b64 = obj["protected"].rstrip("=") if pad else obj["protected"]
    return hdr, prot_b64, payload, payload_b64, sig


def check_alg_key(st, alg, jwk):
    """Raises badSignatureAlgorithm / badPublicKey unless alg and jwk fit."""
    if alg not in ALGS or (alg == "ES256" and fault(st, "reject-es256")) or \
            (alg == "EdDSA" and fault(st, "reject-eddsa")):
        if alg == "none" and fault(st, "accept-alg-none"):
            return
        extra = {} if fault(st, "no-algorithms-member") else {
            "algorithms": [a for a in ALGS if not (a == "ES256" and fault(st, "reject-es256")) and
                           not (a == "EdDSA" and fault(st, "reject-eddsa"))]}
        ptype = "malformed" if fault(st, "alg-error-malformed") else "badSignatureAlgorithm"
        raise Problem(400, ptype, "alg %r is not supported" % alg, extra=extra)
    if jwk is None:
        return
    kty, crv = jwk.get("kty"), jwk.get("crv")
    ok = (alg == "ES256" and kty == "EC" and crv == "P-256") or \
         (alg == "EdDSA" and kty == "OKP" and crv == "Ed25519") or \
         (alg == "RS256" and kty == "RSA" and rsa_bits(jwk) >= 2048)
    if alg == "ES256" and kty == "EC" and crv == "P-384" and fault(st, "accept-p384-for-es256"):
        ok = True
    if alg == "RS256" and kty == "RSA" and fault(st, "accept-rsa1024"):
        ok = True
    if not ok:
        raise Problem(400, "badPublicKey", "key %s/%s is not acceptable for %s" % (kty, crv, alg))
    jwk_spki(jwk)


def skip_verify(st, hdr, sig):
    alg, jwk = hdr.get("alg"), hdr.get("jwk") or {}
    return (fault(st, "accept-bad-signature") or (alg == "none" and fault(st, "accept-alg-none")) or
            (not sig and fault(st, "accept-empty-signature")) or
            (jwk.get("crv") == "P-384" and fault(st, "accept-p384-for-es256")) or
            (jwk.get("kty") == "RSA" and fault(st, "accept-rsa1024")))


def verify(st, hdr, prot_b64, payload_b64, sig, keys):
    if skip_verify(st, hdr, sig):
        return
    si = (prot_b64 + "." + payload_b64).encode()
    for k in keys:
        if sig and st.ossl.verify(hdr.get("alg"), k, si, sig):
            return
    raise Problem(400, "malformed", "JWS signature does not verify")


def handle_post(h, st, path, body):
    hdr, prot_b64, payload, payload_b64, sig = parse_jws(st, body)
    alg = hdr.get("alg")
    jwk, kid = hdr.get("jwk"), hdr.get("kid")
    if jwk is not None and not isinstance(jwk, dict):
        raise Problem(400, "malformed", "jwk is not an object")
    check_alg_key(st, alg, jwk)
    # nonce
    nonce = hdr.get("nonce")
    if nonce is None:
        if not fault(st, "accept-missing-nonce"):
            raise Problem(400, "badNonce", "JWS has no nonce")
    elif not isinstance(nonce, str) or not B64U_RE.match(nonce) or not nonce:
        if not fault(st, "accept-non-b64-nonce"):
            raise Problem(400, "badNonce", "nonce is not base64url")
    elif nonce in st.nonces:
        if not fault(st, "accept-reused-nonce"):
            st.nonces.discard(nonce)
    elif not fault(st, "accept-unknown-nonce"):
        raise Problem(400, "badNonce", "unknown or used nonce")
    # url
    url = hdr.get("url")
    if url is None:
        if not fault(st, "accept-missing-url"):
            raise Problem(400, "malformed", "JWS has no url")
    elif url != st.url(h.path):
        raise Problem(400 if fault(st, "url-mismatch-malformed") else 401,
                      "malformed" if fault(st, "url-mismatch-malformed") else "unauthorized",
                      "url %s is not the request URL %s" % (url, st.url(h.path)))
    # jwk / kid
    if jwk is not None and kid is not None and not fault(st, "accept-jwk-and-kid"):
        raise Problem(400, "malformed", "jwk and kid are mutually exclusive")
    if jwk is None and kid is None:
        raise Problem(400, "malformed", "JWS has neither jwk nor kid")
    if kid is not None and fault(st, "accept-jwk-and-kid"):
        jwk = None
    acct = None
    if path == "/new-acct":
        if jwk is None:
            if not fault(st, "newaccount-accept-kid"):
                raise Problem(400, "malformed", "newAccount must be signed with jwk")
            acct = account_by_kid(st, kid, allow_deactivated=True)
            jwk = acct["keys"][-1]
    elif path == "/revoke-cert":
        pass
    elif jwk is not None:
        if not fault(st, "neworder-accept-jwk"):
            raise Problem(400, "malformed", "this request must be signed with kid")
        aid = st.by_thumb.get(thumbprint(jwk))
        if aid is None:
            raise Problem(400, "accountDoesNotExist", "no account for this key")
        acct = st.accounts[aid]
    if kid is not None and acct is None:
        acct = account_by_kid(st, kid)
    keys = [jwk] if jwk is not None else acct["keys"]
    if jwk is None:
        check_alg_key(st, alg, keys[-1])
    verify(st, hdr, prot_b64, payload_b64, sig, keys)
    if payload:
        try:
            req = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise Problem(400, "malformed", "payload is not JSON")
        if not isinstance(req, dict) and path != "/key-change":
            raise Problem(400, "malformed", "payload is not a JSON object")
    else:
        req = None
    ctx = {"jwk": jwk if acct is None else None, "acct": acct, "hdr": hdr, "url": url}
    return route(h, st, path, req, ctx)


def account_by_kid(st, kid, allow_deactivated=False):
    prefix = st.url("/acct/")
    if fault(st, "accept-unknown-kid") and isinstance(kid, str) and kid[len(prefix):] not in st.accounts:
        for aid in st.accounts:
            if kid.startswith(prefix + aid):
                kid = prefix + aid
    if not isinstance(kid, str) or not kid.startswith(prefix) or kid[len(prefix):] not in st.accounts:
        raise Problem(400, "accountDoesNotExist", "kid %s names no account" % kid)
    a = st.accounts[kid[len(prefix):]]
    if a["status"] != "valid" and not allow_deactivated and not fault(st, "deactivated-still-works"):
        raise Problem(401, "unauthorized", "account is %s" % a["status"])
    return a


def ok(h, st, status, obj, headers=None, ctype=None):
    nonce = not (fault(st, "no-replay-nonce-on-post") and 200 <= status < 300)
    h.reply(status, obj, ctype, headers, nonce=nonce)


def route(h, st, path, req, ctx):
    acct = ctx["acct"]
    if path == "/dir":
        if fault(st, "post-as-get-dir-405"):
            raise Problem(405, "malformed", "use GET for the directory")
        return ok(h, st, 200, directory(st))
    if path == "/new-nonce":
        return h.new_nonce()
    if path == "/new-acct":
        return new_account(h, st, req or {}, ctx)
    if path == "/revoke-cert":
        return revoke(h, st, req or {}, ctx)
    if path == "/key-change":
        return key_change(h, st, req, ctx)
    if path == "/new-order":
        return new_order(h, st, req or {}, acct)
    if path == "/new-authz":
        ident = (req or {}).get("identifier")
        check_identifier(st, ident, allow_wildcard=False)
        aid = new_authz(st, acct["id"], {"type": "dns", "value": ident["value"]})
        hdrs = {} if fault(st, "newauthz-no-location") else {"Location": st.url("/authz/" + aid)}
        return ok(h, st, 201, authz_obj(st, st.authzs[aid]), hdrs)
    m = re.match(r"^/acct/([^/]+)(/orders)?$", path)
    if m:
        if m.group(1) != acct["id"]:
            raise Problem(403, "unauthorized", "not your account")
        if m.group(2):
            lst = [st.url("/order/" + o) for o in acct["orders"]]
            return ok(h, st, 200, {"orders": "see-elsewhere" if fault(st, "orders-list-not-array") else lst})
        return update_account(h, st, acct, req)
    m = re.match(r"^/order/([^/]+)(/finalize)?$", path)
    if m:
        o = owned(st, st.orders, m.group(1), acct)
        if m.group(2):
            return finalize(h, st, o, req or {}, acct)
        o["polls"] = o.get("polls", 0) + 1
        return ok(h, st, 200, order_obj(st, o))
    m = re.match(r"^/authz/([^/]+)$", path)
    if m:
        a = owned(st, st.authzs, m.group(1), acct)
        if req and req.get("status") == "deactivated":
            if a["status"] not in ("pending", "valid"):
                raise Problem(400, "malformed", "authorization is %s" % a["status"])
            if not fault(st, "authz-deactivate-ignored"):
                a["status"] = "deactivated"
        return ok(h, st, 200, authz_obj(st, a))
    m = re.match(r"^/chall/([^/]+)$", path)
    if m:
        c = st.challs.get(m.group(1))
        if c is None:
            raise Problem(404, "malformed", "no such challenge")
        a = owned(st, st.authzs, c["authz"], acct)
        if req is not None:
            if req and fault(st, "challenge-unknown-field-400"):
                raise Problem(400, "malformed", "unexpected fields in the challenge response")
            respond_challenge(st, a, c)
        up = '<%s>;rel="up"' % st.url("/authz/" + a["id"])
        hdrs = {} if fault(st, "no-link-up") else {"Link": up}
        return ok(h, st, 200, chall_obj(st, c), hdrs)
    m = re.match(r"^/cert/([^/]+?)(/alt)?$", path)
    if m:
        cert = st.certs.get(m.group(1))
        if cert is None or fault(st, "cert-download-404"):
            raise Problem(404, "malformed", "no such certificate")
        if cert["account"] != acct["id"]:
            raise Problem(403, "unauthorized", "not your certificate")
        ctype = "application/json" if fault(st, "cert-content-type-json") else "application/pem-certificate-chain"
        if m.group(2):
            body = (cert["int"] + cert["root"]) if fault(st, "alt-chain-other-leaf") else \
                cert["leaf"] + cert["int"] + cert["root"]
            return ok(h, st, 200, body, None, ctype)
        body = cert["leaf"] + cert["int"]
        if fault(st, "cert-with-private-key-block"):
            body += pem("PRIVATE KEY", b"\x30\x03\x02\x01\x00")
        alt = '<%s>;rel="alternate"' % st.url("/cert/%s/alt" % cert["id"])
        return ok(h, st, 200, body, {"Link": alt}, ctype)
    raise Problem(404, "malformed", "no such resource %s" % path)


def owned(st, table, rid, acct):
    obj = table.get(rid)
    if obj is None:
        raise Problem(404, "malformed", "no such resource")
    if obj["account"] != acct["id"] and not fault(st, "no-ownership-check"):
        raise Problem(403, "unauthorized", "this resource belongs to another account")
    return obj


def check_contacts(st, contact):
    if contact is None:
        return []
    if not isinstance(contact, list) or not all(isinstance(c, str) for c in contact):
        raise Problem(400, "invalidContact", "contact must be an array of strings")
    for c in contact:
        if not c.startswith("mailto:"):
            if c.startswith("tel:") and fault(st, "accept-tel-contact"):
                continue
            raise Problem(400, "unsupportedContact", "only mailto: contacts are supported, not %s" % c)
        addr = c[len("mailto:"):]
        if fault(st, "accept-mailto-hfields"):
            continue
        if "?" in addr or "," in addr or not re.match(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", addr):
            raise Problem(400, "invalidContact", "%s is not a single plain mailto address" % c)
    return contact


def new_account(h, st, req, ctx):
    jwk = ctx["jwk"] if ctx["jwk"] is not None else ctx["hdr"].get("jwk")
    if ctx["acct"] is not None:  # newaccount-accept-kid
        a = ctx["acct"]
        return ok(h, st, 200, account_obj(st, a), {"Location": st.url("/acct/" + a["id"])})
    tp = thumbprint(jwk)
    aid = st.by_thumb.get(tp)
    if aid is not None:
        a = st.accounts[aid]
        if fault(st, "existing-account-updated") and "contact" in req:
            a["contact"] = check_contacts(st, req["contact"])
        status = 201 if fault(st, "new-account-201-for-existing") else 200
        return ok(h, st, status, account_obj(st, a), {"Location": st.url("/acct/" + aid)})
    if req.get("onlyReturnExisting") is True:
        if fault(st, "only-return-existing-creates"):
            create_account(st, jwk, {})
        raise Problem(400, "accountDoesNotExist", "no account for this key")
    eab = check_eab(st, req, jwk, ctx["hdr"].get("url"))
    a = create_account(st, jwk, req)
    if eab is not None and not fault(st, "eab-not-echoed"):
        a["echo"] = dict(a.get("echo", {}), externalAccountBinding=eab)
    status = 200 if fault(st, "new-account-200") else 201
    hdrs = {} if fault(st, "new-account-no-location") else {"Location": st.url("/acct/" + a["id"])}
    return ok(h, st, status, account_obj(st, a), hdrs)


def check_eab(st, req, jwk, outer_url):
    """The verified externalAccountBinding of a newAccount (§7.3.4), or None; raises the refusal."""
    eab = req.get("externalAccountBinding")
    if eab is None:
        if fault(st, "eab-required-malformed"):
            raise Problem(400, "malformed", "an external account binding is required")
        return None
    try:
        hdr = json.loads(b64u_decode(eab["protected"]))
        payload = json.loads(b64u_decode(eab["payload"]))
        sig = b64u_decode(eab["signature"])
    except (TypeError, KeyError, ValueError):
        raise Problem(400, "malformed", "externalAccountBinding is not a flattened JWS")
    if not isinstance(hdr, dict) or not isinstance(payload, dict):
        raise Problem(400, "malformed", "externalAccountBinding header and payload must be JSON objects")
    if hdr.get("alg") != "HS256" or "nonce" in hdr:
        raise Problem(400, "malformed", "externalAccountBinding: alg must be HS256, no nonce")
    if hdr.get("url") != outer_url and not fault(st, "eab-accept-wrong-url"):
        raise Problem(400, "malformed", "externalAccountBinding url differs from the request's")
    key = EAB_KEYS.get(hdr.get("kid"))
    if key is None:
        raise Problem(403, "unauthorized", "unknown externalAccountBinding kid")
    mac = hmac.new(b64u_decode(key), (eab["protected"] + "." + eab["payload"]).encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, sig) and not fault(st, "eab-accept-bad-mac"):
        raise Problem(403, "unauthorized", "externalAccountBinding MAC does not verify")
    if thumbprint(payload) != thumbprint(jwk) and not fault(st, "eab-accept-other-key"):
        raise Problem(400, "malformed", "externalAccountBinding payload is not the account key")
    return eab


def create_account(st, jwk, req):
    contact = check_contacts(st, req.get("contact"))
    aid = st.new_id()
    a = {"id": aid, "keys": [jwk], "status": "valid", "contact": contact, "orders": [],
         "orders_url": st.url("/acct/%s/orders" % aid), "created": now_str()}
    if fault(st, "orders-from-client") and isinstance(req.get("orders"), str):
        a["orders_url"] = req["orders"]
    if fault(st, "echo-unknown-fields"):
        a["echo"] = {k: v for k, v in req.items() if k not in ("contact", "orders", "status")}
    st.accounts[aid] = a
    st.by_thumb[thumbprint(jwk)] = aid
    return a


def update_account(h, st, a, req):
    if req:
        if "contact" in req and not fault(st, "account-update-ignored"):
            a["contact"] = check_contacts(st, req["contact"])
        if fault(st, "account-update-orders") and isinstance(req.get("orders"), str):
            a["orders_url"] = req["orders"]
        if req.get("status") == "deactivated":
            a["status"] = "deactivated"
            for k in a["keys"]:
                st.by_thumb.pop(thumbprint(k), None)
    return ok(h, st, 200, account_obj(st, a), {"Location": st.url("/acct/" + a["id"])})


def key_change(h, st, inner, ctx):
    acct = ctx["acct"]
    if acct is None:
        raise Problem(400, "malformed", "keyChange must be signed with kid")
    if not isinstance(inner, dict):
        raise Problem(400, "malformed", "keyChange payload must be a JWS")
    ihdr, iprot, ipayload, ipayload_b64, isig = parse_jws(st, json.dumps(inner).encode())
    ijwk = ihdr.get("jwk")
    if not isinstance(ijwk, dict) or "kid" in ihdr:
        raise Problem(400, "malformed", "inner JWS must carry jwk and no kid")
    if "nonce" in ihdr and not fault(st, "keychange-accept-inner-nonce"):
        raise Problem(400, "malformed", "inner JWS must not carry a nonce")
    if ihdr.get("url") != ctx["url"]:
        raise Problem(400, "malformed", "inner url differs from the outer url")
    check_alg_key(st, ihdr.get("alg"), ijwk)
    verify(st, ihdr, iprot, ipayload_b64, isig, [ijwk])
    try:
        ip = json.loads(ipayload)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "malformed", "inner payload is not JSON")
    if not isinstance(ip, dict) or ip.get("account") != st.url("/acct/" + acct["id"]):
        raise Problem(400, "malformed", "inner payload names another account")
    old = ip.get("oldKey")
    if not fault(st, "keychange-accept-wrong-oldkey"):
        if not isinstance(old, dict) or thumbprint(old) != thumbprint(acct["keys"][-1]):
            raise Problem(400, "malformed", "oldKey is not the account's key")
    ntp = thumbprint(ijwk)
    other = st.by_thumb.get(ntp)
    if other is not None and other != acct["id"]:
        if fault(st, "keychange-conflict-400"):
            raise Problem(400, "malformed", "that key is in use")
        raise Problem(409, "malformed", "that key is in use by another account",
                      {"Location": st.url("/acct/" + other)})
    if fault(st, "keychange-keeps-old-key"):
        acct["keys"].append(ijwk)
    else:
        for k in acct["keys"]:
            st.by_thumb.pop(thumbprint(k), None)
        acct["keys"] = [ijwk]
    st.by_thumb[ntp] = acct["id"]
    if fault(st, "keychange-invalidates-orders"):
        for oid in acct["orders"]:
            st.orders[oid]["status"] = "invalid"
    return ok(h, st, 200, account_obj(st, acct), {"Location": st.url("/acct/" + acct["id"])})


def order_profile(st, req, idents):
    """The profile of a newOrder (draft-ietf-acme-profiles §4); raises invalidProfile."""
    prof = req.get("profile")
    if fault(st, "no-profiles"):
        prof = None
    elif prof is None:  # the default, or the profile that takes the order's ip identifiers
        prof = "shortlived" if any(i.get("type") == "ip" for i in idents) else DEFAULT_PROFILE
    elif prof not in PROFILES or prof in st.retired:
        raise Problem(400, "badProfile" if fault(st, "invalid-profile-wrong-urn") else "invalidProfile",
                      "profile %r is not offered" % (prof,))
    if any(i.get("type") == "ip" for i in idents) and prof != "shortlived":
        if fault(st, "profile-conflict-rejected-identifier"):
            raise Problem(400, "rejectedIdentifier", "ip identifiers need the shortlived profile")
        raise Problem(400, "invalidProfile", "profile %s takes no ip identifiers" % prof)
    return prof


def check_ip_identifier(st, ident):
    if fault(st, "ip-unsupported"):
        raise Problem(400, "unsupportedIdentifier", "only dns identifiers are supported")
    try:
        canonical = str(ipaddress.ip_address(ident.get("value")))
    except (ValueError, TypeError):
        raise Problem(400, "malformed", "%r is not an IP address" % (ident.get("value"),))
    if canonical != ident["value"] and not fault(st, "ip-accept-noncanonical"):
        raise Problem(400, "malformed", "%r is not canonical (RFC 8738 §3): %s" % (ident["value"], canonical))


def check_replaces(st, req, acct, idents):
    """The certificate a newOrder replaces (RFC 9773 §5), or None; raises the refusal."""
    rid = req.get("replaces")
    if rid is None or fault(st, "no-renewalinfo"):
        return None
    cert = cert_by_id(st, rid) if isinstance(rid, str) else None
    if cert is None:
        raise Problem(400, "malformed", "replaces names no certificate of this CA")
    if cert["account"] != acct["id"] and not fault(st, "replaces-any-account"):
        raise Problem(403, "unauthorized", "the replaced certificate belongs to another account")
    if not cert["names"] & set(i["value"] for i in idents):
        if fault(st, "replaces-no-overlap-500"):
            raise RuntimeError("no identifier in common with the replaced certificate")
        raise Problem(400, "malformed", "the order shares no identifier with the replaced certificate")
    for o in st.orders.values():
        if o.get("replaces") != rid:
            continue
        refresh_order(st, o)
        blocking = o["status"] == "valid" if fault(st, "replaced-at-finalize") else \
            (o["status"] != "invalid" or fault(st, "replaces-invalid-still-blocks"))
        if blocking:
            if fault(st, "already-replaced-400"):
                raise Problem(400, "malformed", "certificate already replaced")
            raise Problem(409, "alreadyReplaced", "certificate already replaced by order %s" % o["id"])
    return rid


def new_order(h, st, req, acct):
    idents = req.get("identifiers")
    if not isinstance(idents, list) or not idents:
        raise Problem(400, "malformed", "identifiers must be a non-empty array")
    for i in idents:
        if isinstance(i, dict) and i.get("type") == "ip" and not fault(st, "no-profiles"):
            check_ip_identifier(st, i)
        else:
            check_identifier(st, i)
    prof = order_profile(st, req, idents)
    oid = st.new_id()
    idents = [{"type": i["type"], "value": i["value"] if i["type"] == "ip" else i["value"].lower()} for i in idents]
    replaces = check_replaces(st, req, acct, idents)
    o = {"id": oid, "account": acct["id"], "status": "pending", "expires": now_str(7 * 86400),
         "identifiers": idents, "authzs": [new_authz(st, acct["id"], i) for i in idents],
         "replaces": replaces, "profile": None if fault(st, "no-default-profile") and "profile" not in req else prof}
    st.orders[oid] = o
    acct["orders"].append(oid)
    return ok(h, st, 201, order_obj(st, o), {"Location": st.url("/order/" + oid)})


def respond_challenge(st, a, c):
    if c["status"] != "pending" or a["status"] != "pending":
        return
    if fault(st, "challenges-invalid") or fault(st, "invalid-" + c["type"]):
        c["status"] = "invalid"
        if not fault(st, "invalid-challenge-no-error"):
            c["error"] = {"type": PROBLEM + "incorrectResponse", "detail": "the fake server says no", "status": 403}
        a["status"] = "invalid"
    else:
        c["status"] = "valid"
        c["validated"] = now_str()
        a["status"] = "valid"


def finalize(h, st, o, req, acct):
    refresh_order(st, o)
    if o["status"] != "ready" and not (o["status"] == "pending" and fault(st, "finalize-pending-ok")):
        raise Problem(403, "orderNotReady", "order is %s, not ready" % o["status"])
    if o.get("profile") in st.retired and not fault(st, "retired-profile-issued"):
        raise Problem(400, "invalidProfile", "profile %s is retired" % o["profile"])
    csr = req.get("csr")
    try:
        csr_der = b64u_decode(csr)
        names, spki = st.ossl.csr_info(csr_der)
    except ValueError as e:
        raise Problem(400, "badCSR", "CSR: %s" % e)
    want = set(i["value"] for i in o["identifiers"])
    if names != want:
        if fault(st, "badcsr-invalidates-order"):
            o["status"] = "invalid"
        if fault(st, "badcsr-wrong-type"):
            raise Problem(403, "unauthorized", "CSR names %s, the order %s" % (sorted(names), sorted(want)))
        raise Problem(400, "badCSR", "CSR names %s, the order %s" % (sorted(names), sorted(want)))
    if not fault(st, "accept-account-key-csr"):
        for k in acct["keys"]:
            if jwk_spki(k) == spki:
                raise Problem(400, "badCSR", "the CSR's key is the account key")
    days = PROFILES.get(o.get("profile") or DEFAULT_PROFILE, (None, 7))[1]
    serial = secrets.randbits(64) | (1 << 63)  # top bit set: the certID keeps DER's leading 00
    leaf = st.ossl.issue(csr_der, sorted(want), 7 if fault(st, "profile-validity-ignored") else days, serial,
                         fault(st, "ip-cert-dns-san"))
    cid = st.new_id()
    leaf_der = pem_blocks(leaf, "CERTIFICATE")[0]
    st.certs[cid] = {"id": cid, "account": acct["id"], "leaf": leaf, "int": st.int_pem, "root": st.root_pem,
                     "spki": spki, "revoked": False, "names": want, "serial": serial,
                     "issued": time.time(), "days": days}
    st.certs_by_der[leaf_der] = cid
    o["status"] = "valid"
    o["cert"] = cid
    return ok(h, st, 201 if fault(st, "finalize-201") else 200, order_obj(st, o),
              {"Location": st.url("/order/" + o["id"])})


def revoke(h, st, req, ctx):
    try:
        der_bytes = b64u_decode(req.get("certificate"))
    except ValueError:
        raise Problem(400, "malformed", "certificate is not base64url")
    reason = req.get("reason", 0)
    if not isinstance(reason, int) or isinstance(reason, bool) or not 0 <= reason <= 10 or \
            (reason == 7 and not fault(st, "accept-reason-7")):
        raise Problem(400, "badRevocationReason", "reason %r is not allowed" % (reason,))
    cid = st.certs_by_der.get(der_bytes)
    if cid is None:
        raise Problem(404, "malformed", "unknown certificate")
    cert = st.certs[cid]
    if ctx["acct"] is not None:
        allowed = cert["account"] == ctx["acct"]["id"] or fault(st, "revoke-any-account")
    else:
        allowed = jwk_spki(ctx["hdr"]["jwk"]) == cert["spki"] and not fault(st, "revoke-cert-key-refused")
    if not allowed:
        raise Problem(403, "unauthorized", "not allowed to revoke this certificate")
    if cert["revoked"] and not fault(st, "revoke-twice-ok"):
        raise Problem(400, "alreadyRevoked", "certificate is already revoked")
    cert["revoked"] = True
    return ok(h, st, 200, b"")


# --- ARI (RFC 9773) -----------------------------------------------------------

def serial_key(st, serial):
    """How the fake indexes a serial: DER INTEGER content octets (RFC 9773 §4.1)."""
    if fault(st, "ari-serial-magnitude"):
        return serial.to_bytes((serial.bit_length() + 7) // 8, "big")
    return der_int(serial)[2:]


def cert_by_id(st, cert_id):
    """The certificate a certID names; None when unknown. Raises malformed for bad syntax."""
    parts = cert_id.split(".")
    try:
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise ValueError("a certID is two base64url parts joined by '.'")
        aki, serial = b64u_decode(parts[0]), b64u_decode(parts[1])
    except ValueError as e:
        if fault(st, "ari-malformed-500"):
            raise RuntimeError("certID %r: %s" % (cert_id, e))
        raise Problem(400, "malformed", "certID %r: %s" % (cert_id, e))
    if aki != st.int_ski:
        if fault(st, "ari-malformed-500"):
            raise RuntimeError("unknown AKI")
        raise Problem(404, "malformed", "no issuer of this CA has that key identifier")
    for c in st.certs.values():
        if serial_key(st, c["serial"]) == serial:
            return c
    return None


def renewal_info(st, cert_id):
    try:
        cert = cert_by_id(st, cert_id)
    except RuntimeError as e:
        raise Problem(500, "serverInternal", "internal error: %s" % e)
    if cert is None:
        if fault(st, "ari-unknown-serial-400"):
            raise Problem(400, "malformed", "unknown serial")
        raise Problem(404, "malformed", "no certificate with that serial")
    life = cert["days"] * 86400
    start, end = cert["issued"] + life * 2 / 3, cert["issued"] + life * 5 / 6
    if cert["revoked"] and not fault(st, "ari-revoked-window-future"):
        start, end = time.time() - 2 * 86400, time.time() - 86400
    if fault(st, "ari-window-end-before-start"):
        start, end = end, start
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    body = {"suggestedWindow": {"start": "tomorrow" if fault(st, "ari-window-not-rfc3339") else fmt(start),
                                "end": fmt(end)},
            "explanationURL": "see the docs" if fault(st, "ari-explanation-not-url") else st.url("/docs/ari")}
    return body, {} if fault(st, "ari-no-retry-after") else {"Retry-After": "21600"}


# --- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", metavar="CA_OUT", help="serve HTTPS; write the CA certificate to this file")
    ap.add_argument("--faults", default="", help="comma-separated deviations: " + ", ".join(sorted(FAULTS)))
    ap.add_argument("--list-faults", action="store_true")
    args = ap.parse_args()
    if args.list_faults:
        for k in sorted(FAULTS):
            print("%-38s %s" % (k, FAULTS[k]))
        return 0
    faults = set(f.strip() for f in args.faults.split(",") if f.strip())
    unknown = faults - set(FAULTS)
    if unknown:
        print("fake_acme: unknown fault(s): %s" % ", ".join(sorted(unknown)), file=sys.stderr)
        return 2
    ossl = Openssl()
    try:
        state = State(faults, ossl)
        ossl.ca("root", "/CN=fake-acme root")
        ossl.ca("int", "/CN=fake-acme intermediate", issuer="root")
        state.root_pem = open(ossl.path("root.pem")).read()
        state.int_pem = open(ossl.path("int.pem")).read()
        state.int_ski = ossl.ski("int")
        server = Server(("127.0.0.1", args.port), Handler)
        server.state = state
        port = server.server_address[1]
        scheme = "http"
        if args.tls:
            import ssl
            ossl.ca("tls", "/CN=127.0.0.1", issuer="root",
                    ext="basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
                        "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            sctx.load_cert_chain(ossl.path("tls.pem"), ossl.path("tls.key"))
            # the handshake happens in the request's thread, not in accept()
            server.socket = sctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
            shutil.copyfile(ossl.path("root.pem"), args.tls)
            scheme = "https"
        state.base = "%s://127.0.0.1:%d" % (scheme, port)

        def stop(*_):
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        print(port, flush=True)
        server.serve_forever(poll_interval=0.2)
        server.server_close()
    finally:
        shutil.rmtree(ossl.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
