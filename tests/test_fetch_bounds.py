"""Hostile input for ``fetch`` and ``prepare``, each bounded in memory, disk and time: gzip bombs (placed or
served), a huge raw file, a mirror that streams forever or trickles, a body gzipped again by the server, SIGTERM
mid-download, leftovers of killed runs, and ``prepare.copies`` that would not fit on the disk.

Peak memory is the stage run as a command, its own high-water mark (VmHWM) written at exit. Run with
``-s`` to see the figures docs/development.md quotes."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import tiny_params, write_project
from digits.data import download, fetch, idx, prepare
from digits.config import catalog
from digits.runtime import storage
from conftest import ROOT
from tests.support.mirror import (IMAGES, LABELS, PROJECT, cfg, gzip_bomb, hidden_files, project_with_mirrors,  # noqa: F401
                                  server, sleeps)

TRAIN_IMAGES = catalog.MNIST.files[0]
BOMB_BYTES = 400 << 20  # inflated; 0.4 MB as gzip: the old code held all of it (and more) in memory
PEAK_LIMIT_MB = 160  # python + numpy + one file's honest size (47 MB) with room; far under BOMB_BYTES


# The stage's own high-water mark (VmHWM, reset by exec), written at exit. getrusage's ru_maxrss of a child
# would not do: Linux carries the forking parent's peak (pytest's, the bombs it made) over into the child's.
PEAK = ("import atexit, runpy, sys; out, sys.argv = sys.argv[1], sys.argv[1:]; "
        "atexit.register(lambda: open(out, 'w').write(next(l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('VmHWM:')))); runpy.run_module(sys.argv[1], run_name='__main__', alter_sys=True)")


def run_measured(module: str, cwd: Path, code: str = PEAK, timeout: float = 120) -> tuple[int, str, float]:
    """``python -m module`` in ``cwd``: (exit status, stderr, peak resident memory of that process in MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peak"
        done = subprocess.run([sys.executable, "-c", code, str(out), module], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return done.returncode, done.stderr, int(out.read_text()) / 1024 if out.exists() else float("nan")


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(BOMB_BYTES)


def _project(root: Path, mnist_dir: Path, **prepare_params) -> Path:
    write_project(root, tiny_params(mnist_dir, **prepare_params))
    (root / "dataset" / "mnist").mkdir(parents=True, exist_ok=True)
    return root / "dataset" / "mnist"


# 1. a placed gzip bomb: refused once past the file's size, in bounded memory, by both stages
@pytest.mark.parametrize("stage", ["fetch", "prepare"])
def test_placed_gzip_bomb_refused_in_bounded_memory(mnist_dir, tmp_path, bomb, stage):
    folder = _project(tmp_path, mnist_dir)
    (folder / TRAIN_IMAGES.gz_name).write_bytes(bomb)
    start = time.monotonic()
    status, stderr, peak = run_measured(f"stages.{stage}", tmp_path)
    print(f"\n{stage}: {BOMB_BYTES >> 20} MB bomb refused in {time.monotonic() - start:.1f} s, peak {peak:.0f} MB")
    assert status == 1
    assert one_line(stderr) == (f"error: dataset/mnist/{TRAIN_IMAGES.gz_name}: inflates past 47511440 bytes, "
                                "expected 47040016; not this dataset's file")
    assert peak < PEAK_LIMIT_MB
    assert [p.name for p in folder.iterdir()] == [TRAIN_IMAGES.gz_name]  # untouched, nothing beside it


def test_placed_raw_file_too_large_refused_before_reading(mnist_dir, tmp_path):
    folder = _project(tmp_path, mnist_dir)
    with (folder / LABELS.raw_name).open("wb") as f:
        f.truncate(10**10)  # 10 GB, sparse: no disk used, and reading it would take minutes
    with pytest.raises(ValueError) as info:
        fetch.verify(folder / LABELS.raw_name, LABELS)
    assert str(info.value) == (f"{folder / LABELS.raw_name}: 10000000000 bytes, more than the 11132 allowed, "
                               "expected 10008; not this dataset's file")


def test_read_capped_is_the_honest_file(mnist_dir):
    data = idx.read_capped(mnist_dir / IMAGES.gz_name, IMAGES.size)
    assert len(data) == IMAGES.size == 7_840_016
    assert idx.parse_images(data, gunzip=False).shape == (10000, 28, 28)
    with pytest.raises(ValueError, match="magic number 0x1f8b"):  # no second gzip layer inflated
        idx.parse_images(bytes(gzip_bomb(1 << 20)), gunzip=False)


def test_expected_sizes_pinned(mnist_dir):
    assert [s.size for s in catalog.MNIST.files] == [47_040_016, 60_008, 7_840_016, 10_008]
    assert [s.size for s in catalog.FASHION_MNIST.files] == [s.size for s in catalog.MNIST.files]
    for spec in catalog.MNIST.files:
        assert sum(map(len, idx.stream(mnist_dir / spec.gz_name, spec.size))) == spec.size


# 2. downloads: bytes, time and encodings bounded
def test_endless_mirror_stopped_at_the_cap_then_next(server, mnist_dir, tmp_path, capsys, sleeps):
    path = fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("endless"), server.url("good"), retries=3))
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    assert server.requests == [f"/endless/{LABELS.gz_name}", f"/good/{LABELS.gz_name}"]  # not asked again
    assert f"{server.url('endless')}: {LABELS.gz_name}: more than 11132 bytes sent, expected at most 10008" \
        in capsys.readouterr().out
    assert hidden_files(tmp_path) == []


def test_served_gzip_bomb_refused_then_next(server, mnist_dir, tmp_path, capsys):
    path = fetch.fetch_file(tmp_path, IMAGES, *cfg(server.url("bomb"), server.url("good")))
    assert path.read_bytes() == (mnist_dir / IMAGES.gz_name).read_bytes()
    assert "inflates past 7919440 bytes, expected 7840016" in capsys.readouterr().out
    assert hidden_files(tmp_path) == []


def test_trickling_mirror_stopped_at_the_deadline(server, tmp_path, capsys, sleeps):
    timeout = 0.3  # never silent that long: only the deadline (0.6 s + 10008 bytes at 50 kB/s = 0.8 s) stops it
    with pytest.raises(OSError) as info:  # the trickle never ends: stopping at all is the deadline's doing
        fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("trickle"), retries=3, timeout=timeout))
    assert "not complete after 1 s (2 × fetch.timeout + 10008 bytes at 50 kB/s); too slow" in str(info.value)
    assert server.requests == [f"/trickle/{LABELS.gz_name}"]
    assert list(tmp_path.iterdir()) == []


def test_deadline_rule():
    assert download.deadline(TRAIN_IMAGES, 30) == pytest.approx(60 + 47_040_016 / 50_000)  # 16.7 min


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_content_encoding_undone(server, mnist_dir, tmp_path, encoding):
    path = fetch.fetch_file(tmp_path, IMAGES, *cfg(server.url(f"{encoding}-encoded")))
    assert path.read_bytes() == (mnist_dir / IMAGES.gz_name).read_bytes()


def test_sigterm_mid_download_leaves_nothing(server, tmp_path):
    folder = project_with_mirrors(tmp_path, [server.url("stall")])
    proc = subprocess.Popen([sys.executable, "-m", "stages.fetch"], cwd=tmp_path / PROJECT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in storage.leftover_temps(folder / TRAIN_IMAGES.gz_name)):
            assert proc.poll() is None and time.monotonic() < deadline, "fetch never started writing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 1 and stderr.strip() == "error: interrupted", stderr
    assert list(folder.iterdir()) == []  # the temp file went with the interrupted download


# 3. prepare.copies that would not fit
def _splits(n_train: int) -> dict:
    pair = lambda n: (np.zeros((n, 28, 28), np.uint8), np.zeros(n, np.uint8))  # noqa: E731
    return {"train": pair(n_train), "val": pair(6000), "test": pair(10000)}


def test_copies_that_do_not_fit_refused(tmp_path, monkeypatch):
    free = 2 << 30
    monkeypatch.setattr(prepare.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(free * 2, free, free))
    prepare.check_space(tmp_path / "artifacts/data", _splits(54000), copies=10)  # 0.44 GB: fits
    with pytest.raises(ValueError) as info:
        prepare.check_space(tmp_path / "artifacts/data", _splits(54000), copies=100)
    assert str(info.value) == (f"prepare.copies: 100 copies of 54,000 training images need about 4.25 GB in "
                               f"{tmp_path / 'artifacts/data'}, but its file system has 2.15 GB free (and 256 MB is "
                               "kept free); lower prepare.copies or free some space")


SMALL_DISK = ("import shutil; free = 300 << 20; "  # the file system of artifacts/ said to have 300 MB free
              "shutil.disk_usage = lambda p: shutil._ntuple_diskusage(10 * free, 9 * free, free); " + PEAK)


def test_command_refuses_copies_past_free_space_before_writing(mnist_dir, tmp_path):
    folder = _project(tmp_path, mnist_dir, train_limit=6000, copies=100)
    for spec in catalog.MNIST.files:
        (folder / spec.gz_name).symlink_to(mnist_dir / spec.gz_name)
    status, stderr, _ = run_measured("stages.prepare", tmp_path, SMALL_DISK)
    assert status == 1
    line = one_line(stderr)
    assert line.startswith("error: prepare.copies: 100 copies of 5,400 training images need about 0.42 GB in "
                           "artifacts/data, but its file system has 0.31 GB free"), line
    assert not (tmp_path / "artifacts").exists()  # refused before writing anything


# 4. leftovers of a killed prepare (or any atomic write) go on the next run, however it is started
def test_prepare_removes_leftovers_of_killed_runs(mnist_dir, tmp_path):
    folder = _project(tmp_path, mnist_dir)
    for spec in catalog.MNIST.files:
        (folder / spec.gz_name).symlink_to(mnist_dir / spec.gz_name)
    data = tmp_path / "artifacts/data"
    (data / ".train.0123abcd.tmp").mkdir(parents=True)
    (data / ".train.0123abcd.tmp/00000.npz").write_bytes(bytes(1 << 20))
    (data / ".train.89abcdef.old").mkdir()
    (data / ".val.npz.k3j4h5.tmp.npz").write_bytes(b"half")
    (data / ".trainer.0123abcd.tmp").mkdir()  # another target's: not ours to remove
    status, stderr, _ = run_measured("stages.prepare", tmp_path)
    assert status == 0, stderr
    assert sorted(p.name for p in data.iterdir()) == [".trainer.0123abcd.tmp", "test.npz", "train", "val.npz"]


def test_orphaned_old_folder_is_put_back(tmp_path):
    """Killed between moving the previous folder aside and the new one in: the previous one comes back."""
    (tmp_path / ".export.0123abcd.old").mkdir()
    (tmp_path / ".export.0123abcd.old/model.tflite").write_text("previous")
    (tmp_path / ".export.456789ab.tmp").mkdir()
    storage.remove_leftovers(tmp_path / "export")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    assert (tmp_path / "export/model.tflite").read_text() == "previous"


def test_atomic_path_removes_its_targets_leftovers(tmp_path):
    (tmp_path / ".m.json.abc123.tmp.json").write_text("killed")
    (tmp_path / ".other.json.abc123.tmp.json").write_text("not ours")
    storage.write_json(tmp_path / "m.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.abc123.tmp.json", "m.json"]
