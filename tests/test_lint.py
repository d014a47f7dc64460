"""The code stays as it was written: ``ruff check`` (pyproject.toml's ``[tool.ruff]``: pyflakes, pycodestyle, lines up
to 120 columns) passes over the project's code folders (``CODE``), not a user's own scripts beside them. No cache is
written into the checkout."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


CODE = ("digits", "stages", "bench", "harness", "tests")


def test_ruff_passes():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *CODE], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "All checks passed" in done.stdout
