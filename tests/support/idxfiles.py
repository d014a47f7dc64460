"""Writing IDX files, for the tests' fixtures: the inverse of ``digits.data.idx``'s parsers, which the product never
needs (it only reads MNIST)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def encode(array: np.ndarray) -> bytes:
    """Serialise a uint8 array as IDX: magic (unsigned bytes, ``ndim`` dimensions), big-endian sizes, data."""
    magic = 0x00000800 | array.ndim
    dims = np.asarray(array.shape, ">u4").tobytes()
    return magic.to_bytes(4, "big") + dims + np.ascontiguousarray(array, np.uint8).tobytes()


def mnist_sums() -> dict[str, str]:
    """The SHA-256 of each MNIST file's decompressed bytes, by name (``t10k-images-idx3-ubyte``), from the tests'
    own ``mnist.sha256`` (the shared copy's SHA256SUMS): checked against wherever the tests found MNIST, a user's
    dataset/ among them, and independent of fetch's pins (digits/config/catalog.py)."""
    lines = (Path(__file__).parent / "mnist.sha256").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}
