"""``prepare`` on bad input: a one-line error naming the file, a non-zero exit, earlier arrays untouched."""
from __future__ import annotations

import dataclasses
import gzip
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from conftest import ROOT, tiny_params
from stages import config, data, datasets, idx, prepare


def run_prepare(cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "stages.prepare"], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture
def placed(tmp_path, mnist_dir):
    """A project dir whose dataset/ holds the seed's raw naming (decompressed), as a user would place it."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params(mnist_dir)))
    (tmp_path / "dataset" / "mnist").mkdir(parents=True)
    for spec in datasets.MNIST_FILES:
        (tmp_path / "dataset" / "mnist" / spec.raw_name).write_bytes(gzip.decompress((mnist_dir / spec.gz_name).read_bytes()))
    return tmp_path


def test_raw_naming_is_parsed(placed):
    done = run_prepare(placed)
    assert done.returncode == 0, done.stderr
    with np.load(placed / "artifacts/data/test.npz") as npz:
        assert npz["images"].shape == (200, 28, 28)


@pytest.mark.parametrize(("name", "corrupt", "message"), [
    ("train-images.idx3-ubyte", lambda b: b[:-1], "bytes, expected"),
    ("t10k-images.idx3-ubyte", lambda b: idx.encode(np.zeros((3, 32, 32), np.uint8)), "32x32, expected 28x28"),
    ("t10k-labels.idx1-ubyte", lambda b: idx.encode(np.full(10_000, 10, np.uint8)), "label 10"),
    ("t10k-labels.idx1-ubyte", lambda b: idx.encode(np.zeros(9_999, np.uint8)), "9999 labels, expected 10000"),
    ("train-labels.idx1-ubyte", lambda b: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "magic number"),
    ("t10k-images.idx3-ubyte", lambda b: b"\x1f\x8b" + b"garbage", "corrupt gzip"),
])
def test_bad_file_fails_cleanly_and_keeps_earlier_arrays(placed, name, corrupt, message):
    assert run_prepare(placed).returncode == 0
    before = {p.name: p.read_bytes() for p in (placed / "artifacts/data").iterdir()}
    path = placed / "dataset" / "mnist" / name
    path.write_bytes(corrupt(path.read_bytes()))
    done = run_prepare(placed)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert "dataset/" in lines[0]
    assert {p.name: p.read_bytes() for p in (placed / "artifacts/data").iterdir()} == before


def test_missing_file_says_how_to_get_it(placed):
    (placed / "dataset" / "mnist" / "train-labels.idx1-ubyte").unlink()
    done = run_prepare(placed)
    assert done.returncode != 0 and "train-labels.idx1-ubyte: not found" in done.stderr
    assert "dvc repro fetch" in done.stderr


def test_split_is_seeded_and_disjoint():
    images = np.arange(100, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    labels = (np.arange(100) % 10).astype(np.uint8)
    cfg = config.PrepareConfig(val_fraction=0.2, train_limit=None, test_limit=5)
    a = prepare.split((images, labels), (images, labels), cfg, seed=1)
    b = prepare.split((images, labels), (images, labels), cfg, seed=1)
    c = prepare.split((images, labels), (images, labels), cfg, seed=2)
    assert all(np.array_equal(a[k][0], b[k][0]) for k in a)
    assert not np.array_equal(a["val"][0], c["val"][0])
    assert len(a["val"][1]) == 20 and len(a["train"][1]) == 80 and len(a["test"][1]) == 5
    assert not set(a["val"][0][:, 0, 0]) & set(a["train"][0][:, 0, 0])
    with pytest.raises(ValueError, match="leaves no training images"):
        prepare.split((images[:1], labels[:1]), (images, labels), dataclasses.replace(cfg, val_fraction=0.6), seed=1)


def test_saved_arrays_are_byte_identical_across_runs(tmp_path, monkeypatch):
    """np.savez stamps the time; ours must not, or every prepare rerun would retrain both models."""
    images, labels = np.zeros((3, 28, 28), np.uint8), np.arange(3, dtype=np.uint8)
    data.save_split(tmp_path / "a.npz", images, labels, ("a", "b", "c"))
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)  # a later save, in 2001
    data.save_split(tmp_path / "b.npz", images, labels, ("a", "b", "c"))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = data.load_split(tmp_path / "b.npz")
    assert np.array_equal(loaded[0], images) and np.array_equal(loaded[1], labels)
    assert data.load_class_names(tmp_path / "b.npz") == ("a", "b", "c")
