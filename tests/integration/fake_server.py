"""The scriptable fake ACME server (tests/peers/fake_acme.py) for tests that
need one with some faults: `with fake_acme("fault-a,fault-b", workdir) as (url, ca):`
gives its directory URL and the CA file that verifies it, and always stops it."""
import contextlib
import os
import subprocess
import sys

FAKE = os.path.join(os.environ["ACMEH_SOURCE_DIR"], "tests", "peers", "fake_acme.py")


@contextlib.contextmanager
def fake_acme(faults, workdir):
    ca = os.path.join(workdir, "fake-ca.pem")
    p = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--tls", ca] + (["--faults", faults] if faults else []),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = p.stdout.readline().strip()  # printed once it listens
        if not port.isdigit():
            raise RuntimeError("fake_acme did not start: %r" % port)
        yield "https://127.0.0.1:%s/dir" % port, ca
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
        p.stdout.close()
