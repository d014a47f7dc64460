"""Pure IDX parsing (the MNIST file format): bytes in, numpy arrays out, ``ValueError`` on anything malformed."""
from __future__ import annotations

import gzip
import math
import zlib

import numpy as np

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
GZIP_MAGIC = b"\x1f\x8b"
NUM_CLASSES = 10


def decompress(data: bytes) -> bytes:
    """Return ``data`` gunzipped if it is a gzip stream, else unchanged (raw IDX)."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"corrupt gzip stream ({err})") from None


def _parse(data: bytes, magic: int, ndim: int) -> np.ndarray:
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{len(data)} bytes is shorter than the {header}-byte IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"magic number 0x{found:08x}, expected 0x{magic:08x}")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + math.prod(dims)
    if len(data) != expected:
        raise ValueError(f"{len(data)} bytes, expected {expected} for dimensions {dims}")
    if dims[0] == 0:
        raise ValueError("zero items")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def parse_images(data: bytes, shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Parse an IDX3 image file (raw or gzip) into a uint8 array of shape (N, *shape)."""
    images = _parse(decompress(data), IMAGES_MAGIC, 3)
    if images.shape[1:] != shape:
        raise ValueError(f"images are {images.shape[1]}x{images.shape[2]}, expected {shape[0]}x{shape[1]}")
    return images


def parse_labels(data: bytes, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Parse an IDX1 label file (raw or gzip) into a uint8 array of shape (N,) with values 0..num_classes-1."""
    labels = _parse(decompress(data), LABELS_MAGIC, 1)
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise ValueError(f"label {labels[bad[0]]} at index {bad[0]}, expected 0..{num_classes - 1}")
    return labels


def encode(array: np.ndarray) -> bytes:
    """Serialise a uint8 array as IDX (the inverse of parsing; used to write test fixtures and subsets)."""
    magic = 0x00000800 | array.ndim
    dims = np.asarray(array.shape, ">u4").tobytes()
    return magic.to_bytes(4, "big") + dims + np.ascontiguousarray(array, np.uint8).tobytes()
