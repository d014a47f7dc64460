"""The session's ``digits.serve`` for the API and browser tests (``bench.server_process`` starts it), and a server
with a fake model for the tests of its limits: ``python -m tests.serving`` takes ``digits.serve``'s options and
serves the real app, guards and protocol, with a predictor that needs no trained model."""
from __future__ import annotations

import os
import sys
import time

import pytest

from bench.server_process import Server, multipart, request, start  # noqa: F401  (the tests import them from here)

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
    from digits import batching, serve, webapp

    args = serve.parse_args(argv)  # (--project, which start passes, is accepted and not used)
    serve.run(webapp.Models({"cnn": batching.Batcher(uniform)}, "keras", LABELS), args)


if __name__ == "__main__":
    main(sys.argv[1:])
