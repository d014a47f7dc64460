"""The session's ``digits.serve`` for the API and browser tests (``harness.server`` starts it), and a server
with a fake model for the tests of its limits: ``python -m tests.serving`` takes ``digits.serve``'s options, and
``--limit NAME=VALUE`` for any other of ``guards.Limits``' figures (the tests shorten them), and serves the real
app, guards and protocol, with a predictor that needs no trained model."""
from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
import time
import urllib.parse

import pytest

from harness.server import Server, multipart, request, start  # noqa: F401  (the tests import them from here)

LABELS = tuple(str(i) for i in range(10))


@pytest.fixture(scope="session")
def served(trained_project, tmp_path_factory):
    """One server over the trained test project for all the API and browser tests, in an empty folder with an
    empty TMPDIR (the tests check both stay empty: no request data reaches the disk)."""
    server = start(trained_project, tmp_path_factory.mktemp("serve-cwd"), tmp_path_factory.mktemp("serve-tmp"))
    yield server
    server.stop()


def start_fake(tmp_path, *args: str) -> Server:
    """The fake-model server (below) in ``tmp_path``, with ``digits.serve``'s options ``args``."""
    return start(tmp_path, tmp_path, tmp_path, *args, module="tests.serving")


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


def uniform(x):
    """The fake model: the same probabilities for every image, class 7 most probable."""
    import numpy as np

    row = np.full(10, 0.05, np.float32)
    row[7] = 0.55
    return np.tile(row, (len(x), 1))


def main(argv: list[str]) -> None:
    from digits.runtime import quiet

    quiet.install()  # as python -m digits.serve does, before its modules import TensorFlow
    from digits.serve import batching, cli, webapp

    extra = argparse.ArgumentParser()
    extra.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE")
    own, rest = extra.parse_known_args(argv)
    args = cli.parse_args(rest)  # (--project, which start passes, is accepted and not used)
    bounds = cli.limits(args)
    for name, value in (item.split("=", 1) for item in own.limit):
        bounds = dataclasses.replace(bounds, **{name: type(getattr(bounds, name))(value)})
    cli.run(webapp.Models({"cnn": batching.Batcher(uniform)}, "keras", LABELS), args, bounds)


if __name__ == "__main__":
    main(sys.argv[1:])
