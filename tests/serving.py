"""The session's ``digits.serve`` for the API and browser tests (``bench.server_process`` starts it)."""
from __future__ import annotations

import pytest

from bench.server_process import multipart, request, start  # noqa: F401  (the tests import them from here)


@pytest.fixture(scope="session")
def served(trained_project, tmp_path_factory):
    """One server over the trained test project for all the API and browser tests, in an empty folder with an
    empty TMPDIR (the tests check both stay empty: no request data reaches the disk)."""
    server = start(trained_project, tmp_path_factory.mktemp("serve-cwd"), tmp_path_factory.mktemp("serve-tmp"))
    yield server
    server.stop()
