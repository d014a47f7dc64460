"""``python -m digits.serve`` in a child process on a free loopback port, and a plain HTTP client for it
(urllib: what a script would use), for ``bench.serve_load`` and the API and browser tests."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout, put on the server's PYTHONPATH
START_TIMEOUT = 180  # seconds: TensorFlow and the models load first; slow on a busy 2-core machine


@dataclass
class Server:
    proc: subprocess.Popen
    url: str  # http://127.0.0.1:PORT/
    cwd: Path
    tmpdir: Path

    def rss_mb(self) -> float:
        """The server's resident memory now (VmRSS)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024

    def stop(self) -> str:
        """Stop it as Ctrl-C would; return what it wrote on stderr."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def start(project: Path, cwd: Path, tmpdir: Path, *args: str, module: str = "digits.serve") -> Server:
    """The server for ``project``, started in ``cwd`` with TMPDIR ``tmpdir``, once it prints where it listens
    (``module``: another entry point taking ``digits.serve``'s options, as the tests' fake-model server)."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", module, "--project", str(project), "--port", "0", *args],
                            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 1.0)[0]:
            line = proc.stdout.readline()
            if line.startswith("serve: http://"):
                return Server(proc, line.split()[1], cwd, tmpdir)
    proc.kill()
    out, err = proc.communicate()
    raise RuntimeError(f"digits.serve did not start (exit {proc.returncode}): {out[-2000:]} {err[-2000:]}")


def request(url: str, data: bytes | None = None, headers: dict | None = None,
            method: str | None = None) -> tuple[int, dict]:
    """(status, JSON body) of one request; an error status is an answer too, not an exception."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, dict]:
    """A multipart/form-data body with one file field, as a browser's FormData sends it."""
    boundary = "----digits-serve-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
