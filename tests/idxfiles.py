"""Writing IDX files, for the tests' fixtures: the inverse of ``digits.idx``'s parsers, which the product never
needs (it only reads MNIST)."""
from __future__ import annotations

import numpy as np


def encode(array: np.ndarray) -> bytes:
    """Serialise a uint8 array as IDX: magic (unsigned bytes, ``ndim`` dimensions), big-endian sizes, data."""
    magic = 0x00000800 | array.ndim
    dims = np.asarray(array.shape, ">u4").tobytes()
    return magic.to_bytes(4, "big") + dims + np.ascontiguousarray(array, np.uint8).tobytes()
