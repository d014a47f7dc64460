"""Storage faults: a full disk (a file-size limit stands in for one), a read-only ``artifacts/`` and a
process killed while writing. Each gives a clear one-line error naming the file, or nothing at all, and every
earlier artifact stays byte-identical."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def run(stage: str, cwd: Path, preexec=None) -> subprocess.CompletedProcess:
    """``python -m stages.<stage>`` in ``cwd``; ``preexec`` runs in the child first (limits)."""
    return subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=preexec, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    data = root / "artifacts/data"
    return {str(p.relative_to(data)): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(data.rglob("*"))}


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def small_file_limit() -> None:
    """What a full disk does to a writer: writes past 1 MB fail (EFBIG) instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_disk_full_is_one_line_and_keeps_the_arrays(prepared_copy):
    prepared = prepared_copy
    before = snapshot(prepared)
    line = one_error_line(run("prepare", prepared, small_file_limit))
    assert "artifacts/data/train: cannot write (File too large)" in line
    assert snapshot(prepared) == before  # no temp files left behind either


READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


@pytest.mark.slow  # stage processes on prepared data
def test_read_only_artifacts_is_one_line_and_keeps_the_arrays(prepared_copy):
    prepared = prepared_copy
    before = snapshot(prepared)
    data = prepared / "artifacts/data"
    stage = [sys.executable, "-m", "stages.prepare"]
    if os.geteuid() == 0:  # root writes through permissions: make the folder a read-only mount instead
        cmd = ["unshare", "--mount", "sh", "-c", READ_ONLY, "sh", str(data), *stage]
        expected = "Read-only file system"
    else:
        data.chmod(0o555)
        cmd, expected = stage, "Permission denied"
    try:
        done = subprocess.run(cmd, cwd=prepared, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        data.chmod(0o755)
    line = one_error_line(done)
    assert f"artifacts/data/train: cannot write ({expected})" in line
    assert snapshot(prepared) == before


WRITE_THEN_DIE = """
import os, signal, sys
from pathlib import Path
from digits.runtime.storage import atomic_dir, atomic_path
target = Path(sys.argv[1])
if sys.argv[2] == "file":
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"half of the new")
        os.kill(os.getpid(), signal.SIGKILL)
else:
    with atomic_dir(target) as tmp:
        (tmp / "model.tflite").write_bytes(b"half of the new")
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_killed_while_writing_leaves_the_previous_artifact(tmp_path, kind):
    target = tmp_path / ("metrics.json" if kind == "file" else "export")
    if kind == "file":
        target.write_text("old")
    else:
        target.mkdir()
        (target / "model.tflite").write_text("old")
    done = subprocess.run([sys.executable, "-c", WRITE_THEN_DIE, str(target), kind], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert (target.read_text() if kind == "file" else (target / "model.tflite").read_text()) == "old"
    # Only a hidden temp beside it can remain; the next successful write replaces the target whole.
    assert all(p.name.startswith(f".{target.name}.") for p in tmp_path.iterdir() if p != target)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_results_get_the_users_umask_permissions(tmp_path, umask, mode):
    """Not mkstemp's owner-only 0600: a teammate, or a web server serving the plots, can read what was written."""
    from digits.runtime import storage

    old = os.umask(umask)
    try:
        storage.write_json(tmp_path / "metrics.json", {"accuracy": 1.0})
        with storage.atomic_dir(tmp_path / "plots") as folder:
            storage.write_bytes(folder / "curves.png", b"png")
    finally:
        os.umask(old)
    assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "plots/curves.png").stat().st_mode & 0o777 == mode
    assert (tmp_path / "plots").stat().st_mode & 0o777 == 0o777 & ~umask
