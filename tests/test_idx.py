"""The pure IDX parser: round trips, the real MNIST test files, and a ValueError for every malformed input."""
from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from tests.support import idxfiles
from digits.data import idx


def _images(n: int = 3, h: int = 28, w: int = 28) -> np.ndarray:
    return (np.arange(n * h * w) % 256).astype(np.uint8).reshape(n, h, w)


def _labels(n: int = 12) -> np.ndarray:
    return (np.arange(n) % 10).astype(np.uint8)


GOOD_IMAGES = idxfiles.encode(_images())
GOOD_LABELS = idxfiles.encode(_labels())


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_round_trip(compress):
    images, labels = _images(5), _labels(7)
    wrap = gzip.compress if compress else (lambda b: b)
    got_images = idx.parse_images(wrap(idxfiles.encode(images)))
    got_labels = idx.parse_labels(wrap(idxfiles.encode(labels)))
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    assert got_labels.dtype == np.uint8 and got_labels.shape == (7,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_encode_header_layout():
    data = idxfiles.encode(_images(2))
    assert data[:4] == b"\x00\x00\x08\x03"
    assert data[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    assert len(data) == 16 + 2 * 28 * 28
    assert idxfiles.encode(_labels(3))[:8] == b"\x00\x00\x08\x01" + (3).to_bytes(4, "big")


def test_custom_shape():
    images = _images(2, 32, 32)
    assert idx.parse_images(idxfiles.encode(images), shape=(32, 32)).shape == (2, 32, 32)


def test_real_mnist_t10k(mnist_dir):
    sums = idxfiles.mnist_sums()
    raw_images = gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert hashlib.sha256(raw_images).hexdigest() == sums["t10k-images-idx3-ubyte"]

    images = idx.parse_images((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    labels = idx.parse_labels((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    # Raw (decompressed) bytes parse to the same arrays, and encode() reproduces the file exactly.
    np.testing.assert_array_equal(idx.parse_images(raw_images), images)
    assert idxfiles.encode(images) == raw_images


def _with_label(value: int) -> bytes:
    labels = _labels(5)
    labels[3] = value
    return idxfiles.encode(labels)


PNG = (  # a complete 1x1 PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)

MALFORMED = [
    # (id, parser, data, words the message must contain)
    ("truncated-images", idx.parse_images, GOOD_IMAGES[:-1], ["bytes, expected", "(3, 28, 28)"]),
    ("truncated-labels", idx.parse_labels, GOOD_LABELS[:-5], ["bytes, expected", "(12,)"]),
    ("extra-bytes", idx.parse_images, GOOD_IMAGES + b"\x00", ["bytes, expected"]),
    ("extra-bytes-labels", idx.parse_labels, GOOD_LABELS + b"\x00\x00", ["bytes, expected"]),
    ("labels-as-images", idx.parse_images, GOOD_LABELS, ["magic", "0x00000803"]),
    ("images-as-labels", idx.parse_labels, GOOD_IMAGES, ["magic", "0x00000801"]),
    ("wrong-dims-32x32", idx.parse_images, idxfiles.encode(_images(2, 32, 32)), ["32x32", "28x28"]),
    ("zero-images", idx.parse_images, idxfiles.encode(np.zeros((0, 28, 28), np.uint8)), ["zero items"]),
    ("zero-labels", idx.parse_labels, idxfiles.encode(np.zeros((0,), np.uint8)), ["zero items"]),
    ("label-10", idx.parse_labels, _with_label(10), ["label 10", "index 3", "0..9"]),
    ("label-255", idx.parse_labels, _with_label(255), ["label 255", "index 3", "0..9"]),
    ("short-header-images", idx.parse_images, GOOD_IMAGES[:10], ["10 bytes", "16-byte"]),
    ("short-header-labels", idx.parse_labels, GOOD_LABELS[:6], ["6 bytes", "8-byte"]),
    ("empty", idx.parse_labels, b"", ["0 bytes", "header"]),
    ("gzip-magic-then-garbage", idx.parse_images, b"\x1f\x8b" + b"garbage" * 20, ["corrupt gzip"]),
    ("truncated-gzip", idx.parse_images, gzip.compress(GOOD_IMAGES)[:-20], ["corrupt gzip"]),
    ("gzip-bad-crc", idx.parse_labels, gzip.compress(GOOD_LABELS)[:-8] + b"\0" * 8, ["corrupt gzip"]),
    ("gzip-of-truncated", idx.parse_images, gzip.compress(GOOD_IMAGES[:-1]), ["bytes, expected"]),
    ("png-images", idx.parse_images, PNG, ["magic", "0x89504e47"]),
    ("png-labels", idx.parse_labels, PNG, ["magic"]),
]


@pytest.mark.parametrize(("parse", "data", "words"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raises_value_error(parse, data, words):
    with pytest.raises(ValueError) as info:
        parse(data)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_decompress_passes_raw_through():
    assert idx.decompress(GOOD_LABELS) == GOOD_LABELS
    assert idx.decompress(gzip.compress(GOOD_LABELS)) == GOOD_LABELS
