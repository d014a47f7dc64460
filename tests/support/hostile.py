"""Hostile image files made cheaply, for the image tests and the memory figures in docs/development.md.

``python tests/support/hostile.py peak FILE`` prints the peak memory (MB) of reading FILE with
``digits.read.images.decode`` in this process and its one-line outcome; the tests run it in a child process under a
memory limit.
"""
from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of_zeros(width: int, height: int, band: float = 0.0) -> bytes:
    """A valid 8-bit grey PNG of ``width``×``height`` black pixels (with a white band across the middle ``band``
    of its height), written by hand: its body is a zlib stream of (1 + width) × height bytes compressed a few
    megabytes at a time, so 87 million pixels cost about 100 KB and a fraction of a second, and nothing of the
    image's size is ever held here."""
    white = round(height * band)
    deflate, body = zlib.compressobj(9), []
    for rows, level in ((height - white) // 2, 0), (white, 255), (height - white - (height - white) // 2, 0):
        line = b"\0" + bytes([level]) * width  # each row starts with its filter byte (0: none)
        per_block = max(1, 2**22 // len(line))
        for start in range(0, rows, per_block):
            body.append(deflate.compress(line * min(per_block, rows - start)))
    body.append(deflate.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8 bits, grey, deflate, no filter, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(body)) + chunk(b"IEND", b"")


def peak(path: str) -> None:
    """Read ``path`` as ``digits.predict`` does; print the outcome and this process's peak memory in MB."""
    from digits.read import images
    from digits.runtime import runner

    try:
        outcome = f"28x28 image, ink {images.to_mnist(images.decode(path)).sum()}"
    except (ValueError, OSError, MemoryError) as err:
        outcome = f"{type(err).__name__}: {err}"
    print(outcome)
    print(f"peak {runner.peak_rss_mb():.0f} MB")  # VmHWM: ru_maxrss would carry pytest's own peak over


if __name__ == "__main__":
    if sys.argv[1:2] == ["png"]:  # python tests/support/hostile.py png WIDTH HEIGHT BAND OUT
        Path(sys.argv[5]).write_bytes(png_of_zeros(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
    else:
        peak(sys.argv[2])
