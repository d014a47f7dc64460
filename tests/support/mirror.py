"""A real HTTP server on 127.0.0.1 serving the offline MNIST copy, for the tests of stage ``fetch``
(tests/test_fetch.py, tests/test_fetch_bounds.py).

The server's first path segment picks a behaviour, so one server acts as several mirrors:
``/good/`` serves the files, ``/corrupt/`` serves wrong bytes for t10k-labels, ``/drop/`` announces the full
Content-Length then closes half-way, ``/flaky/`` drops only the first request per file, ``/missing/`` is 404,
``/error500/`` is always 500, ``/stall/`` sends half the body then goes silent until the test ends, and
``/slow/`` sends the body in pieces with pauses shorter than the client's timeout. Hostile ones
(``tests/test_fetch_bounds.py``): ``/endless/`` answers 200 and streams zeros until the client hangs up,
``/trickle/`` sends one byte every ``TRICKLE_PAUSE`` seconds, ``/bomb/`` serves ``server.bomb`` (a small gzip
that inflates far past any file) under every name, and ``/gzip-encoded/`` and ``/deflate-encoded/`` send
the file compressed once more with ``Content-Encoding: gzip`` or ``deflate``, though asked for ``identity``.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
import time
import types
import zlib
from pathlib import Path

import pytest

from conftest import write_project
from digits.config import catalog
from digits.config.schema import FetchConfig
from digits.data import fetch, idx
from tests.support import idxfiles
from tests.support.committed import default_params

SPECS = {spec.gz_name: spec for spec in catalog.MNIST.files}
LABELS = SPECS["t10k-labels-idx1-ubyte.gz"]  # the smallest file: unit cases use it to stay fast
IMAGES = SPECS["t10k-images-idx3-ubyte.gz"]


def digest(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).hexdigest()


def wrong_labels_gz(mnist_dir: Path) -> bytes:
    """A well-formed gzip IDX label file whose content differs from MNIST's by one label."""
    labels = idx.parse_labels((mnist_dir / LABELS.gz_name).read_bytes()).copy()
    labels[0] = (labels[0] + 1) % 10
    return gzip.compress(idxfiles.encode(labels))


def gzip_bomb(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes, about 1000 times smaller, made without holding ``size`` bytes."""
    packer, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 20)
    parts = [packer.compress(zeros[: min(len(zeros), size - done)]) for done in range(0, size, len(zeros))]
    return b"".join(parts) + packer.flush()


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mirror(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        server = self.server
        mode, _, name = self.path.lstrip("/").partition("/")
        with server.lock:
            server.requests.append(self.path)
            seen = server.requests.count(self.path)
        path = server.root / name
        if mode == "missing" or not path.is_file() or "/" in name:
            self.send_error(404)
            return
        if mode == "error500":
            self.send_error(500)
            return
        if mode in ("endless", "trickle"):
            self._forever(mode)
            return
        body = server.bomb if mode == "bomb" else path.read_bytes()
        if mode == "corrupt" and name == LABELS.gz_name:
            body = server.wrong
        encoding = mode.removesuffix("-encoded") if mode.endswith("-encoded") else None
        if encoding:
            body = gzip.compress(body, mtime=0) if encoding == "gzip" else zlib.compress(body)
        cut = mode == "drop" or (mode == "flaky" and seen == 1)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.end_headers()
            if mode in ("stall", "slow"):
                self._trickle(body, mode)
            else:
                self.wfile.write(body[: len(body) // 2] if cut else body)
            self.wfile.flush()
        except ConnectionError:
            pass
        self.close_connection = True

    def _forever(self, mode: str) -> None:
        """200 with no Content-Length, then zeros until the client hangs up (or the test ends)."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            piece = bytes(1 if mode == "trickle" else 1 << 16)
            while not self.server.stop.is_set():
                self.wfile.write(piece)
                self.wfile.flush()
                if mode == "trickle":
                    self.server.stop.wait(TRICKLE_PAUSE)
        except ConnectionError:
            pass
        self.close_connection = True

    def _trickle(self, body: bytes, mode: str) -> None:
        pieces = 2 if mode == "stall" else 6
        for i in range(pieces):
            self.wfile.write(body[i * len(body) // pieces: (i + 1) * len(body) // pieces])
            self.wfile.flush()
            if mode == "stall":  # silent until the test ends (the client should have given up long before)
                self.server.stop.wait(60)
                return
            time.sleep(SLOW_PAUSE)


TRICKLE_PAUSE = 0.05  # /trickle/: never silent for long, never done
SLOW_PAUSE = 0.1  # /slow/'s pause between its 6 pieces: 0.5 s in all, each pause under the slow test's timeout


@pytest.fixture
def server(mnist_dir):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    httpd.root = mnist_dir
    httpd.wrong = wrong_labels_gz(mnist_dir)
    httpd.bomb = gzip_bomb(100 << 20)
    httpd.requests = []
    httpd.lock = threading.Lock()
    httpd.stop = threading.Event()
    httpd.url = lambda mode: f"http://127.0.0.1:{httpd.server_address[1]}/{mode}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def sleeps(monkeypatch):
    """Record fetch's back-off sleeps instead of sleeping, so retry cases stay fast."""
    calls = []
    monkeypatch.setattr(fetch, "time", types.SimpleNamespace(sleep=calls.append, monotonic=time.monotonic))
    return calls


def cfg(*mirrors, retries: int = 1, timeout: float = 5) -> tuple[tuple[str, ...], FetchConfig]:
    """``fetch_file``'s last two arguments: the mirrors to try, and the fetch section holding them."""
    urls = tuple(str(m) for m in mirrors)
    return urls, FetchConfig(mirrors={"mnist": urls}, retries=retries, timeout=timeout)


def hidden_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


PROJECT = "my project"  # a space in the path, as in many users' home folders


def project_with_mirrors(tmp_path: Path, mirrors: list[str]) -> Path:
    """A project in ``tmp_path/my project`` fetching from ``mirrors``; returns its dataset folder."""
    params = default_params()
    params["fetch"].update(mirrors={"mnist": mirrors}, retries=1, timeout=5)
    write_project(tmp_path / PROJECT, params)
    return tmp_path / PROJECT / "dataset" / "mnist"
