"""``prepare`` on bad input: for each way an IDX file can be wrong, under the seed's raw naming or the mirrors'
gzip naming, one ``error:`` line naming the file and the fault, a non-zero exit, and the arrays of the previous
good run left exactly as they were (same bytes, same files: not rewritten)."""
from __future__ import annotations

import dataclasses
import gzip
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, tiny_params, write_project
from tests.support import idxfiles
from digits.config import schema
from digits.data import arrays, idx, prepare
from digits.config import catalog

DATASET = Path("dataset") / "mnist"  # as params.yaml names it, so as the errors name its files


def run_prepare(cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "stages.prepare"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, mnist_dir) -> Path:
    """A project dir whose dataset/ holds the seed's raw naming (decompressed), as a user would place it, after one
    good prepare; each bad-input case works on a copy instead of preparing again."""
    root = tmp_path_factory.mktemp("prepared")
    write_project(root, tiny_params(mnist_dir))
    (root / DATASET).mkdir(parents=True)
    for spec in catalog.MNIST.files:
        (root / DATASET / spec.raw_name).write_bytes(gzip.decompress((mnist_dir / spec.gz_name).read_bytes()))
    done = run_prepare(root)
    assert done.returncode == 0, done.stderr
    return root


def project_copy(src: Path, dst: Path, replace: dict[str, bytes | None]) -> Path:
    """``src``'s params and arrays (mtimes kept) and links to its dataset files, except that each name in
    ``replace`` (a raw or gzip name) gets the bytes given in place of its spec's file, or no file for None."""
    shutil.copy2(src / "params.yaml", dst / "params.yaml")
    shutil.copy2(src / "dvc.yaml", dst / "dvc.yaml")
    shutil.copytree(src / "artifacts", dst / "artifacts")
    (dst / DATASET).mkdir(parents=True)
    for spec in catalog.MNIST.files:
        name = next((n for n in (spec.raw_name, spec.gz_name) if n in replace), None)
        if name is None:
            (dst / DATASET / spec.raw_name).symlink_to(src / DATASET / spec.raw_name)
        elif replace[name] is not None:
            (dst / DATASET / name).write_bytes(replace[name])
    return dst


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Each file's bytes, inode and mtime: equal bytes alone would not show a rewrite (the .npz are deterministic)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()} | {"train/": (b"", (folder / "train").stat().st_ino, 0)}


def _one_label(value: int, at: int):
    def make(raw: bytes, gz: bytes) -> bytes:
        labels = bytearray(raw)
        labels[8 + at] = value  # after the 8-byte header
        return bytes(labels)
    return make


def _png(raw: bytes, gz: bytes) -> bytes:
    """The first test digit as a real PNG file (what a user might export and rename)."""
    out = io.BytesIO()
    Image.fromarray(idx.parse_images(raw)[0]).save(out, "PNG")
    return out.getvalue()


def _bad_crc(raw: bytes, gz: bytes) -> bytes:
    crc = bytearray(gz[-8:-4])
    crc[0] ^= 0xFF
    return gz[:-8] + bytes(crc) + gz[-4:]


BAD_FILES = [
    # (id, file written: raw or gzip name, its bytes from the good (raw, gz) ones, the fault as the error states it)
    ("truncated", "train-images.idx3-ubyte", lambda raw, gz: raw[:-1],
     "47040015 bytes, expected 47040016 for dimensions (60000, 28, 28)"),
    ("too-long", "t10k-labels.idx1-ubyte", lambda raw, gz: raw + b"\0", "10009 bytes, expected 10008"),
    ("too-long-gz", "t10k-images-idx3-ubyte.gz", lambda raw, gz: gzip.compress(raw + bytes(784), 1),
     "7840800 bytes, expected 7840016"),
    ("images-as-labels", "train-labels.idx1-ubyte", lambda raw, gz: idxfiles.encode(np.zeros((3, 28, 28), np.uint8)),
     "magic number 0x00000803, expected 0x00000801"),
    ("png-renamed", "t10k-images.idx3-ubyte", _png, "magic number 0x89504e47, expected 0x00000803"),
    ("dims-32x32", "t10k-images.idx3-ubyte", lambda raw, gz: idxfiles.encode(np.zeros((3, 32, 32), np.uint8)),
     "images are 32x32, expected 28x28"),
    ("zero-items", "train-images.idx3-ubyte", lambda raw, gz: idxfiles.encode(np.zeros((0, 28, 28), np.uint8)),
     "zero items"),
    ("zero-items-gz", "t10k-labels-idx1-ubyte.gz",
     lambda raw, gz: gzip.compress(idxfiles.encode(np.zeros(0, np.uint8))),
     "zero items"),
    ("label-10", "t10k-labels.idx1-ubyte", _one_label(10, 1234), "label 10 at index 1234, expected 0..9"),
    ("label-255-gz", "train-labels-idx1-ubyte.gz", lambda raw, gz: gzip.compress(_one_label(255, 59999)(raw, gz)),
     "label 255 at index 59999, expected 0..9"),
    ("counts-differ", "t10k-labels.idx1-ubyte", lambda raw, gz: idxfiles.encode(idx.parse_labels(raw)[:-1]),
     f"9999 labels, expected 10000 as in {DATASET / 't10k-images.idx3-ubyte'}"),
    ("gzip-truncated", "train-labels-idx1-ubyte.gz", lambda raw, gz: gz[: len(gz) // 2],
     "corrupt gzip stream (Compressed file ended before the end-of-stream marker was reached)"),
    ("gzip-bad-crc", "t10k-labels-idx1-ubyte.gz", _bad_crc, "corrupt gzip stream (CRC check failed)"),
    ("gzip-magic-then-garbage", "t10k-images.idx3-ubyte", lambda raw, gz: b"\x1f\x8bgarbage", "corrupt gzip stream"),
    ("empty", "train-labels.idx1-ubyte", lambda raw, gz: b"", "0 bytes is shorter than the 8-byte IDX header"),
]


@pytest.mark.parametrize(("name", "make", "fault"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_bad_file_fails_cleanly_and_keeps_earlier_arrays(prepared, mnist_dir, tmp_path, name, make, fault):
    spec = next(s for s in catalog.MNIST.files if name in (s.raw_name, s.gz_name))
    bad = make((prepared / DATASET / spec.raw_name).read_bytes(), (mnist_dir / spec.gz_name).read_bytes())
    project = project_copy(prepared, tmp_path, {name: bad})
    before = _snapshot(project / "artifacts" / "data")
    done = run_prepare(project)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {DATASET / name}: ") and fault in lines[0], lines[0]
    assert _snapshot(project / "artifacts" / "data") == before  # nothing written, replaced or left behind


def test_good_run_wrote_the_split(prepared):
    with np.load(prepared / "artifacts/data/test.npz") as npz:
        assert npz["images"].shape == (200, 28, 28)
    with np.load(prepared / "artifacts/data/train/00000.npz") as npz:
        assert npz["images"].shape == (540, 28, 28)


def test_missing_file_says_how_to_get_it(prepared, tmp_path):
    project = project_copy(prepared, tmp_path, {"train-labels.idx1-ubyte": None})
    done = run_prepare(project)
    assert done.returncode != 0
    assert done.stderr.strip() == (
        f"error: no train-labels file: looked for train-labels.idx1-ubyte or train-labels-idx1-ubyte.gz or "
        f"train-labels-idx1-ubyte in {DATASET}/ (holds t10k-images.idx3-ubyte, t10k-labels.idx1-ubyte, "
        f"train-images.idx3-ubyte) and {DATASET.parent}/ (holds mnist/); run `dvc repro fetch`")


def test_data_stages_do_not_import_tensorflow():
    """A prepare (or fetch) run, each bad-input case above among them, costs a numpy import, not TensorFlow's."""
    code = ("import sys, stages.prepare, stages.fetch; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'matplotlib'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr + done.stdout


def test_split_is_seeded_and_disjoint():
    images = np.arange(500, dtype=np.int32)[:, None, None] * np.ones((1, 28, 28), np.int32)  # each image its index
    labels = (np.arange(500) % 10).astype(np.uint8)
    cfg = schema.PrepareConfig(val_fraction=0.2, train_limit=None, test_limit=5, copies=1, copy_shift=2)
    a = prepare.split((images, labels), (images, labels), cfg, seed=1)
    b = prepare.split((images, labels), (images, labels), cfg, seed=1)
    c = prepare.split((images, labels), (images, labels), cfg, seed=2)
    assert all(np.array_equal(a[k][0], b[k][0]) for k in a)
    assert not np.array_equal(a["val"][0], c["val"][0])
    assert len(a["val"][1]) == 100 and len(a["train"][1]) == 400 and len(a["test"][1]) == 5
    assert not set(a["val"][0][:, 0, 0]) & set(a["train"][0][:, 0, 0])
    with pytest.raises(ValueError, match="leaves no training images"):
        prepare.split((images[:1], labels[:1]), (images, labels), dataclasses.replace(cfg, val_fraction=0.6), seed=1)


@pytest.mark.parametrize(("n", "fraction"), [(100, 0.2), (600, 0.05), (60_000, 0.0008)])
def test_split_too_small_to_calibrate_is_refused_before_training(n, fraction):
    """A temperature fitted on fewer than MIN_VAL images is noise: prepare stops, naming the keys, before any
    model is trained, so every model's probabilities stay calibrated (README)."""
    images, labels = np.zeros((n, 28, 28), np.uint8), (np.arange(n) % 10).astype(np.uint8)
    cfg = schema.PrepareConfig(val_fraction=fraction, train_limit=None, test_limit=5, copies=1, copy_shift=2)
    with pytest.raises(ValueError, match=rf"^prepare\.val_fraction={fraction} of {n} training images leaves "
                                         rf"\d+ for validation; calibration needs at least {schema.MIN_VAL} "):
        prepare.split((images, labels), (images, labels), cfg, seed=1)


def test_saved_arrays_are_byte_identical_across_runs(tmp_path, monkeypatch):
    """np.savez stamps the time; ours must not, or every prepare rerun would retrain both models."""
    images, labels = np.zeros((3, 28, 28), np.uint8), np.arange(3, dtype=np.uint8)
    arrays.save_split(tmp_path / "a.npz", images, labels, ("a", "b", "c"))
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)  # a later save, in 2001
    arrays.save_split(tmp_path / "b.npz", images, labels, ("a", "b", "c"))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = arrays.load_split(tmp_path / "b.npz")
    assert np.array_equal(loaded[0], images) and np.array_equal(loaded[1], labels)
    assert arrays.load_class_names(tmp_path / "b.npz") == ("a", "b", "c")
