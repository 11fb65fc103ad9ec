#!/usr/bin/env python3
"""acme-harness serve judges each exchange live with the per-exchange CORE-C
client checks: the scriptable fake client, with faults that break a rule
(no Accept-Language, a reused nonce), is driven against a running `serve`;
the exchange print must carry "CORE-C-002 FAIL ..." and "CORE-C-009 FAIL
... reuses the nonce of request #" lines (and pass lines for the rest), and
Ctrl-C must print the per-check summary. With --no-verdicts no verdict line
appears.

Env: ACMEH_BIN (acmeh-fake-client is built beside it under tests/), ACMEH_SOURCE_DIR."""
import base64
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

BIN = os.environ["ACMEH_BIN"]
FAKE = os.path.join(os.path.dirname(BIN), "tests", "acmeh-fake-client")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def start_serve(tmp, extra):
    p = subprocess.Popen([BIN, "serve", "--run-dir", os.path.join(tmp, "srv")] + extra, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=dict(os.environ, NO_COLOR="1"))
    lines, info = [], {}
    timer = threading.Timer(20, p.kill)  # never wait for an announcement forever
    timer.start()
    for line in p.stdout:
        lines.append(line)
        m = re.match(r"directory: (\S+)", line)
        if m:
            info["dir"] = m.group(1)
        m = re.match(r"trust \(TLS CA file\): (\S+)", line)
        if m:
            info["ca"] = m.group(1)
        m = re.search(r"management API on :(\d+)", line)
        if m:
            info["mgmt"] = "http://127.0.0.1:" + m.group(1)
        if line.startswith("serving until"):
            break
    timer.cancel()
    return p, info, lines


def drive(tmp, info, faults):
    work = tempfile.mkdtemp(dir=tmp)
    env = dict(os.environ, ACME_DIRECTORY=info["dir"], ACME_CA_BUNDLE=info["ca"], ACMEH_MGMT=info["mgmt"],
               DOMAIN="live.acmeh.example.com", WORK_DIR=work, CHALLENGE="http-01", FAKE_CLIENT_FAULTS=faults)
    return subprocess.run([FAKE, "issue"], env=env, capture_output=True, text=True, timeout=60).returncode


def stop(p, lines):
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        check(False, "serve stops on SIGINT")
    return "".join(lines) + out


def raw(info, request):
    """Sends one raw request over TLS to serve and returns the status line."""
    host, port = re.match(r"https://([^:/]+):(\d+)", info["dir"]).groups()
    ctx = ssl.create_default_context(cafile=info["ca"])
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname=host) as t:
                t.sendall(request)
                return t.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError as e:  # the server may answer 431 and close before the whole request is sent
        return str(e)


def b64(d):
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def hostile(tmp):
    """A request refused before parsing (431) gets no verdict; a 2,000-character kid
    does not make a verdict line longer than one screen line's worth."""
    p, info, lines = start_serve(tmp, [])
    if len(info) == 3:
        raw(info, b"GET /dir HTTP/1.1\r\nHost: x\r\nUser-Agent: big\r\nX-Pad: " + b"p" * 200000 + b"\r\n\r\n")
        body = json.dumps({"protected": b64({"alg": "ES256", "kid": "k" * 2000, "nonce": "n", "url": "u"}),
                           "payload": "", "signature": "AAAA"}).encode()
        raw(info, b"POST /order/x HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nContent-Type: application/jose+json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)
    out = stop(p, lines)
    verdicts = [l for l in out.splitlines() if re.match(r"^  CORE-C-\d{3} \[[A-Z ]+\] (pass|FAIL) ", l)]
    check(len(info) == 3, "serve started for the hostile requests")
    check(not re.search(r"^#\d+ .*\(unparsed request\)[^\n]*\n(  [^#\n]*\n)*  CORE-C-", out, re.M),
          "no verdict under a request refused before parsing")
    check(verdicts and max(len(l) for l in verdicts) <= 350, "verdict lines at most 350 characters (longest %d)"
          % max([len(l) for l in verdicts] or [0]))


def main():
    if not os.access(FAKE, os.X_OK):
        print("SKIP: %s not built" % FAKE)
        return 0
    with tempfile.TemporaryDirectory(prefix="acmeh-serve-verdicts-") as tmp:
        p, info, lines = start_serve(tmp, [])
        check({"dir", "ca", "mgmt"} <= set(info), "serve announced directory, CA and management API: %s" % info)
        rc = drive(tmp, info, "no-accept-language,reuse-nonce") if len(info) == 3 else -1
        out = stop(p, lines)
        print(out[-6000:])
        check(rc in (0, 1), "the fake client ran (exit %d)" % rc)
        check(re.search(r"^  CORE-C-002 \[SHOULD\] FAIL an Accept-Language header \(SHOULD\); got request #\d+", out, re.M),
              "a CORE-C-002 FAIL line under an exchange")
        check(re.search(r"^  CORE-C-009 \[MUST\] FAIL no nonce used twice; got request #\d+ reuses the nonce of request #\d+", out, re.M),
              "a CORE-C-009 FAIL line under an exchange")
        check(re.search(r"^  CORE-C-001 \[MUST\] pass ", out, re.M), "CORE-C-001 pass lines")
        check(not re.search(r"^  CORE-C-001 \[MUST\] FAIL", out, re.M), "no CORE-C-001 failure (User-Agent is sent)")
        check(re.search(r"^client checks over \d+ exchange\(s\): [1-9]\d* failure\(s\)", out, re.M), "summary at Ctrl-C")
        check(re.search(r"^  CORE-C-002 \[SHOULD\] FAIL \d+ pass, [1-9]\d* fail \(first at #\d+ ", out, re.M),
              "summary line of CORE-C-002, with its level and first failing exchange")
        # The live log of someone debugging: validations, what the mocks saw, hook calls.
        check(re.search(r"^validation http-01 of live\.acmeh\.example\.com: valid ", out, re.M), "a validation line")
        check(re.search(r"^  mock http +GET http://live\.acmeh\.example\.com[^ ]*/\.well-known/acme-challenge/", out, re.M),
              "the mock's http-01 fetch")
        check(re.search(r"^  mock hook +/add-http01 \{", out, re.M), "the management API call that published the response")
        check(re.search(r"^validations: [1-9]\d* valid, 0 invalid", out, re.M), "validations in the summary")

        p, info, lines = start_serve(tmp, ["--only-failures"])
        rc = drive(tmp, info, "no-accept-language") if len(info) == 3 else -1
        out = stop(p, lines)
        fails = re.findall(r"^FAIL (CORE-C-\d{3}) \[(\w+)\] at #\d+ ", out, re.M)
        check(fails == [("CORE-C-002", "SHOULD")], "--only-failures: CORE-C-002 once with its level (got %s)" % fails)
        check(not re.search(r"^(#\d+ |  mock )", out, re.M), "--only-failures prints no exchange nor mock line")

        p, info, lines = start_serve(tmp, ["--no-verdicts"])
        rc = drive(tmp, info, "no-accept-language") if len(info) == 3 else -1
        out = stop(p, lines)
        check(rc == 0, "the fake client got a certificate (exit %d)" % rc)
        check("#1 " in out or "#0 " in out, "exchanges still printed with --no-verdicts")
        check("CORE-C-" not in out, "no verdict line with --no-verdicts")
        hostile(tmp)
    print("%d problem(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
