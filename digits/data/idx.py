"""Pure IDX parsing (the MNIST file format): bytes in, numpy arrays out, ``ValueError`` on anything malformed.

Reading a file is apart (``stream``, ``read_capped``): every file's size is known, so a gzip bomb or a huge
file is refused once it passes that size, never inflated whole into memory.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Callable, Iterator

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


CHUNK = 1 << 20


def cap(expected: int) -> int:
    """The most bytes a file of ``expected`` bytes may hold: 1% over, so a file a little too long still gets the
    parser's exact message ("7840800 bytes, expected 7840016"), while a bomb stops at once past that."""
    return expected + expected // 100 + 1024


def _too_big(expected: int) -> ValueError:
    return ValueError(f"inflates past {cap(expected)} bytes, expected {expected}; not this dataset's file")


def _gunzipping(f) -> Callable[[int], bytes]:
    """``read(n)`` of the gzip stream in ``f``, at most ``n`` bytes inflated at a time; ValueError if corrupt."""
    stream = gzip.GzipFile(fileobj=f)

    def read(n: int) -> bytes:
        try:
            return stream.read(n)
        except (OSError, EOFError, zlib.error) as err:
            reason = str(err).split(" 0x")[0]  # GzipFile appends the two CRCs; gzip.decompress's words alone
            raise ValueError(f"corrupt gzip stream ({reason})") from None
    return read


def stream(path: str | Path, expected: int) -> Iterator[bytes]:
    """The decompressed bytes of the raw or gzip file at ``path``, a chunk at a time; ValueError as soon as they
    pass ``cap(expected)`` (a raw file: before reading, by its size)."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == GZIP_MAGIC
        f.seek(0)
        size = os.fstat(f.fileno()).st_size
        if not gzipped and size > cap(expected):
            raise ValueError(f"{size} bytes, more than the {cap(expected)} allowed, expected {expected}; "
                             "not this dataset's file")
        read = _gunzipping(f) if gzipped else f.read
        total = 0
        while chunk := read(min(CHUNK, cap(expected) + 1 - total)):
            total += len(chunk)
            if total > cap(expected):
                raise _too_big(expected)
            yield chunk


def read_capped(path: str | Path, expected: int) -> bytearray:
    """All of ``stream(path, expected)`` in one buffer sized once (no doubling, no joined copy); for the parsers
    with ``gunzip=False``."""
    buf, n = bytearray(cap(expected)), 0
    for chunk in stream(path, expected):
        buf[n: n + len(chunk)] = chunk
        n += len(chunk)
    del buf[n:]  # shrinks in place
    return buf


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


def parse_images(data: bytes, shape: tuple[int, int] = (28, 28), *, gunzip: bool = True) -> np.ndarray:
    """Parse an IDX3 image file (raw or gzip) into a uint8 array of shape (N, *shape). ``gunzip=False``: ``data``
    is decompressed already (``read_capped``), so gzip magic in it is a wrong magic number, not a second layer."""
    images = _parse(decompress(data) if gunzip else data, IMAGES_MAGIC, 3)
    if images.shape[1:] != shape:
        raise ValueError(f"images are {images.shape[1]}x{images.shape[2]}, expected {shape[0]}x{shape[1]}")
    return images


def parse_labels(data: bytes, num_classes: int = NUM_CLASSES, *, gunzip: bool = True) -> np.ndarray:
    """Parse an IDX1 label file (raw or gzip) into a uint8 array of shape (N,) with values 0..num_classes-1."""
    labels = _parse(decompress(data) if gunzip else data, LABELS_MAGIC, 1)
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise ValueError(f"label {labels[bad[0]]} at index {bad[0]}, expected 0..{num_classes - 1}")
    return labels
