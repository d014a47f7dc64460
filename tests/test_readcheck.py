"""The test set read as predict reads files (``digits.read.as_files``, stage ``read``, scored by ``evaluate``): what it
reports is what ``python -m digits.predict`` answers for the same images written as PNG files."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from digits.data import arrays, idx
from digits.read import as_files, streaming

PICKED = [0, 1, 2, 597, 694, 1131, 3, 4, 5, 6, 7, 8]  # three whose strokes are broken in two among clear ones
CLASSES = tuple("0123456789")


@pytest.fixture(scope="module")
def test_images(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    x = idx.parse_images((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    y = idx.parse_labels((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    return x[PICKED], y[PICKED]


def fixed_model(x: np.ndarray) -> np.ndarray:
    """A stand-in model: softmax of a fixed random projection of each field, so every field has its own answer."""
    logits = x.reshape(len(x), -1) @ np.random.default_rng(0).normal(size=(784, 10)) * 0.5
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_the_score_is_what_predict_answers_for_the_files(test_images, tmp_path):
    x, y = test_images
    paths = []
    for i, pixels in enumerate(x):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(pixels).save(paths[-1])
    replies = list(streaming.answers(paths, fixed_model, CLASSES))
    readings = as_files.unpack(as_files.pack(as_files.read_all(x, workers=2)))
    probs = fixed_model(arrays.preprocess(np.concatenate([r.fields for r in readings])))
    got = as_files.score(readings, probs, y, CLASSES)
    single = [len(r.digits) == 1 for r in replies]
    right = [s and r.text == CLASSES[t] for s, r, t in zip(single, replies, y)]
    assert got["images"] == len(x)
    assert got["right"] == round(np.mean(right), 4) and got["as_number"] == round(1 - np.mean(single), 4)
    assert [n["read"] for n in got["read_as_numbers"]] == [r.text for r in replies if r.is_number]


def test_pack_round_trips_and_one_worker_reads_the_same(test_images):
    x, _ = test_images
    found = as_files.read_all(x[:4], workers=1)
    back = as_files.unpack(as_files.pack(found))
    for a, b in zip(found, back):
        assert (a.parts, a.size) == (b.parts, b.size) and np.array_equal(a.fields, b.fields)
        assert [c._replace(ink=None) for c in a.candidates] == b.candidates


def test_a_missing_or_damaged_file_is_one_line_naming_the_stage(tmp_path):
    with pytest.raises(OSError, match="not found; run `dvc repro read`"):
        as_files.load(tmp_path / "test.npz")
    (tmp_path / "test.npz").write_bytes(b"PK\x03\x04 cut off")
    with pytest.raises(ValueError, match=r"test.npz: cannot read it .*rerun `dvc repro read`"):
        as_files.load(tmp_path / "test.npz")
