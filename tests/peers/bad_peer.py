#!/usr/bin/env python3
"""A misbehaving ACME server for the harness's robustness tests.

Listens on 127.0.0.1 (port 0 unless --port), prints "port N" on stdout, then
one "conns open=K accepted=N" line each time a connection opens or closes, so
a test can see that the harness closed every connection it opened. Exits on
SIGTERM or SIGINT.

Modes (--mode):
  invalid-json         the directory body is `{not json`
  huge-body            every answer is a 50 MB body, streamed, Content-Length set
  no-replay-nonce      a working directory, but no response carries Replay-Nonce
  reset                reads the request, then closes with RST (SO_LINGER 0)
  silent               accepts and never answers
  slow-headers         trickles its header section one byte per second
  wrong-status         every answer is 500 with an HTML body
  garbage-status-line  answers with a line that is not an HTTP status line
  many-headers         a working directory and nonces, but every answer carries
                       200 padding headers (about 6 KB) before its Replay-Nonce
  long-status          every answer's status code has 20 digits
  file-location        directory and nonces work; newAccount answers 201 with
                       Location: file:///etc/passwd
  huge-header          every answer carries one 1 MB header line
  plain-http           speaks plain HTTP where the client expects TLS: answers
                       whatever arrives first with an HTTP 400 and closes

Python 3 standard library only; raw sockets so that every mode can break the
protocol exactly where it means to. Every loop is bounded in time or count.
"""

import argparse
import json
import select
import signal
import socket
import struct
import sys
import threading
import time

MODES = (
    "invalid-json",
    "huge-body",
    "no-replay-nonce",
    "reset",
    "silent",
    "slow-headers",
    "wrong-status",
    "garbage-status-line",
    "many-headers",
    "long-status",
    "file-location",
    "huge-header",
    "plain-http",
)

HUGE_BODY = 50 * 1024 * 1024
HUGE_HEADER = 1024 * 1024
PAD_HEADERS = 200
CHUNK = 64 * 1024
MAX_REQUEST_HEAD = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024
MAX_REQUESTS_PER_CONN = 200
# The longest any one connection is kept: the harness's budgets are seconds.
CONN_LIFETIME_S = 120.0
IO_TIMEOUT_S = 10.0


class Stats:
    """Connections accepted and still open, reported on stdout on each change."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = 0
        self.open = 0

    def change(self, opened):
        with self.lock:
            if opened:
                self.accepted += 1
                self.open += 1
            else:
                self.open -= 1
            # Printed under the lock so that the last line is the current count.
            emit("conns open=%d accepted=%d" % (self.open, self.accepted))


OUT_LOCK = threading.Lock()


def emit(line):
    with OUT_LOCK:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass


def peer_closed(sock, wait_s):
    """True when the client closed or reset the connection within wait_s seconds."""
    try:
        readable, _, _ = select.select([sock], [], [], wait_s)
        if not readable:
            return False
        return sock.recv(4096, socket.MSG_PEEK) == b""
    except OSError:
        return True


def read_request(sock):
    """One request as (method, path, body), or None when the client went away."""
    sock.settimeout(IO_TIMEOUT_S)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            if len(data) > MAX_REQUEST_HEAD:
                return None
            part = sock.recv(4096)
            if not part:
                return None
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return None
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = min(int(value.strip() or "0"), MAX_REQUEST_BODY)
        while len(body) < length:
            part = sock.recv(min(65536, length - len(body)))
            if not part:
                return None
            body += part
        return parts[0], parts[1], body
    except (OSError, ValueError):
        return None


def response(status, reason, headers, body, keep_alive=True):
    """A complete HTTP/1.1 response as bytes."""
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    lines += ["%s: %s" % kv for kv in headers]
    lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: %s" % ("keep-alive" if keep_alive else "close"))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Peer:
    def __init__(self, mode, stats):
        self.mode = mode
        self.stats = stats
        self.base = ""
        self.stop = threading.Event()

    def directory(self):
        names = ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange")
        d = {n: "%s/acme/%s" % (self.base, n) for n in names}
        d["meta"] = {"termsOfService": self.base + "/terms"}
        return json.dumps(d).encode()

    # --- one function per mode; each owns the connection until it returns ---

    def serve_invalid_json(self, sock):
        self.serve_requests(sock, lambda m, p: response(
            200, "OK", [("Content-Type", "application/json")], b"{not json", False))

    def serve_wrong_status(self, sock):
        html = b"<html><body><h1>500 Internal Server Error</h1></body></html>\n"
        self.serve_requests(sock, lambda m, p: response(
            500, "Internal Server Error", [("Content-Type", "text/html")], html, False))

    def serve_garbage_status_line(self, sock):
        self.serve_requests(sock, lambda m, p: b"SMTP 220 ready when you are\r\nX: y\r\n\r\n{}")

    def serve_no_replay_nonce(self, sock):
        def answer(method, path):
            if path.endswith("/acme/newNonce"):
                status = 200 if method == "HEAD" else 204
                return response(status, "OK", [("Cache-Control", "no-store")], b"")
            if method == "GET" and path in ("/dir", "/directory", "/"):
                return response(200, "OK", [("Content-Type", "application/json")], self.directory())
            problem = json.dumps({"type": "urn:ietf:params:acme:error:malformed",
                                  "detail": "this server never hands out nonces"}).encode()
            return response(400, "Bad Request", [("Content-Type", "application/problem+json")], problem)

        self.serve_requests(sock, answer)

    def acme_answer(self, method, path, extra):
        """A minimal working ACME answer (nothing is verified), every one with
        a Replay-Nonce and the headers in extra before it."""
        # A fixed length (31 characters) that decodes as base64url: a length of 4k+1
        # would not, and the time in µs grows a digit now and then.
        nonce = [("Replay-Nonce", "bad-peer-nonce-%016d" % (int(time.monotonic() * 1e6) % 10**16))]
        if path.endswith("/acme/newNonce"):
            return response(200 if method == "HEAD" else 204, "OK", extra + nonce + [("Cache-Control", "no-store")], b"")
        if method == "GET" and path in ("/dir", "/directory", "/"):
            return response(200, "OK", extra + [("Content-Type", "application/json")], self.directory())
        if path.endswith("/acme/newAccount"):
            body = json.dumps({"status": "valid", "orders": self.base + "/acme/orders"}).encode()
            return response(201, "Created", extra + nonce + [("Content-Type", "application/json"),
                            ("Location", "file:///etc/passwd")], body)
        problem = json.dumps({"type": "urn:ietf:params:acme:error:malformed", "detail": "not here"}).encode()
        return response(400, "Bad Request", extra + nonce + [("Content-Type", "application/problem+json")], problem)

    def serve_many_headers(self, sock):
        pad = [("X-Pad-%03d" % i, "p" * 16) for i in range(PAD_HEADERS)]
        self.serve_requests(sock, lambda m, p: self.acme_answer(m, p, pad))

    def serve_file_location(self, sock):
        self.serve_requests(sock, lambda m, p: self.acme_answer(m, p, []))

    def serve_long_status(self, sock):
        self.serve_requests(sock, lambda m, p: b"HTTP/1.1 20000000000000000000 OK\r\nContent-Length: 2\r\n"
                            b"Connection: close\r\n\r\n{}")

    def serve_huge_header(self, sock):
        self.serve_requests(sock, lambda m, p: response(
            200, "OK", [("X-Huge", "h" * HUGE_HEADER), ("Content-Type", "application/json")], b"{}", False))

    def serve_plain_http(self, sock):
        sock.settimeout(IO_TIMEOUT_S)
        if sock.recv(4096):  # a TLS ClientHello, read as a (bad) request
            sock.sendall(response(400, "Bad Request", [("Content-Type", "text/plain")], b"not TLS here\n", False))

    def serve_requests(self, sock, answer):
        """Answers requests on one connection until the client closes it or asks to."""
        for _ in range(MAX_REQUESTS_PER_CONN):
            req = read_request(sock)
            if req is None or self.stop.is_set():
                return
            method, path, _ = req
            out = answer(method, path)
            if method == "HEAD" and b"\r\n\r\n" in out:  # HEAD: headers only
                out = out.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            sock.sendall(out)
            if b"Connection: close" in out or not out.startswith(b"HTTP/1.1"):
                return

    def serve_huge_body(self, sock):
        if read_request(sock) is None:
            return
        head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % HUGE_BODY)
        sock.sendall(head.encode())
        chunk = b" " * CHUNK
        sent = 0
        deadline = time.monotonic() + CONN_LIFETIME_S
        while sent < HUGE_BODY and time.monotonic() < deadline and not self.stop.is_set():
            sock.sendall(chunk[: min(CHUNK, HUGE_BODY - sent)])  # raises once the client hangs up
            sent += CHUNK

    def serve_reset(self, sock):
        read_request(sock)
        # Linger on with a zero timeout: close() sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def serve_silent(self, sock):
        read_request(sock)
        deadline = time.monotonic() + CONN_LIFETIME_S
        while time.monotonic() < deadline and not self.stop.is_set():
            if peer_closed(sock, 0.2):
                return

    def serve_slow_headers(self, sock):
        if read_request(sock) is None:
            return
        head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "X-Slow: " + "s" * 200 + "\r\nContent-Length: 2\r\n\r\n{}").encode()
        for i in range(len(head)):
            if self.stop.is_set():
                return
            sock.sendall(head[i:i + 1])
            if peer_closed(sock, 1.0):  # doubles as the one-second pause
                return

    def handle(self, sock):
        self.stats.change(True)
        try:
            getattr(self, "serve_" + self.mode.replace("-", "_"))(sock)
        except OSError:
            pass  # the client hung up or reset: that is its right
        finally:
            try:
                sock.close()
            except OSError:
                pass
            self.stats.change(False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=600.0,
                    help="exit after this long even if nobody sends SIGTERM")
    args = ap.parse_args()

    peer = Peer(args.mode, Stats())
    signal.signal(signal.SIGTERM, lambda *_: peer.stop.set())
    signal.signal(signal.SIGINT, lambda *_: peer.stop.set())

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(64)
    ls.settimeout(0.2)
    port = ls.getsockname()[1]
    peer.base = "http://127.0.0.1:%d" % port
    emit("port %d" % port)

    give_up = time.monotonic() + args.max_seconds
    while not peer.stop.is_set() and time.monotonic() < give_up:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        conn.settimeout(None)
        threading.Thread(target=peer.handle, args=(conn,), daemon=True).start()
    ls.close()
    emit("bye open=%d accepted=%d" % (peer.stats.open, peer.stats.accepted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
