"""The session's ``digits.serve`` for the API and browser tests (``harness.server`` starts it), and raw-socket
helpers for the tests of its limits, which talk to the fake-model server (``harness.fake_server``)."""
from __future__ import annotations

import os
import socket
import time
import urllib.parse

import pytest

from harness.fake_server import start_fake  # noqa: F401  (the tests import them from here)
from harness.server import Server, multipart, request, start  # noqa: F401


@pytest.fixture(scope="session")
def served(trained_project, tmp_path_factory):
    """One server over the trained test project for all the API and browser tests, in an empty folder with an
    empty TMPDIR (the tests check both stay empty: no request data reaches the disk)."""
    server = start(trained_project, tmp_path_factory.mktemp("serve-cwd"), tmp_path_factory.mktemp("serve-tmp"))
    yield server
    server.stop()


def connect(server: Server, head: bytes = b"") -> socket.socket:
    """A raw connection to ``server`` that has sent ``head`` (a hostile client stops where it likes)."""
    sock = socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(server.url).port), timeout=30)
    sock.sendall(head)
    return sock


def answer_of(sock: socket.socket) -> tuple[bytes, float]:
    """What the server sends until it closes, and when it closed (monotonic)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data, time.monotonic()


def post_head(length: int, extra: str = "") -> bytes:
    return (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


def new_log(server: Server, settle: float = 0.0) -> str:
    """What the server wrote on stderr since the last call, after ``settle`` seconds (the pipe is read without
    blocking; ``Server.stop`` still gets the rest)."""
    time.sleep(settle)
    fd = server.proc.stderr.fileno()
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")
