"""Property tests of the image path (hypothesis), as ``test_idx_properties.py`` for the IDX parser: whatever bytes
are given as an image, ``digits.read.images`` returns a 28×28 uint8 digit or raises ValueError/OSError with a one-line
message naming the file; never another exception, never a hang (5 s).

Four sources: any bytes; valid headers (PNG, JPEG, GIF, TIFF, BMP) with random dimensions and bodies; valid small
images of random modes and formats; and such images with a few bytes edited. The default run tries 50 of each
(a few seconds); ``tests/fuzz_images.py`` runs the same property on ``--examples`` inputs.
"""
from __future__ import annotations

import collections
import io
import struct
import zlib
from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digits.read import images
from tests.support.fuzzing import no_hang

HANG_SECONDS = 5
NAME = "fuzzed.img"
FAST = settings(max_examples=50, deadline=timedelta(seconds=5), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(data: bytes, tmp_file) -> str:
    """Read ``data`` as an image file; assert the outcome is one of the two allowed, and return which."""
    tmp_file.write_bytes(data)
    try:
        with no_hang(HANG_SECONDS):
            digit = images.to_mnist(images.decode(tmp_file))
    except (ValueError, OSError) as err:
        message = str(err)
        assert message.startswith(f"{tmp_file}: ") or message.startswith("blank image"), message
        assert "\n" not in message, repr(message)
        return "refused"
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    return "read"


DIM = st.sampled_from([0, 1, 2, 28, 1000, 40_000, 2**16 - 1]) | st.integers(0, 2**31 - 1)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@st.composite
def headers(draw) -> bytes:
    """A valid header of a random format with random dimensions, then a random (often compressed) body."""
    w, h, body = draw(DIM), draw(DIM), draw(st.binary(max_size=2000))
    fmt = draw(st.sampled_from(["png", "gif", "bmp", "tiff", "jpeg"]))
    if fmt == "png":
        ihdr = struct.pack(">IIBBBBB", w, h, draw(st.sampled_from([1, 8, 16])), draw(st.sampled_from([0, 2, 3, 4, 6])),
                           0, 0, draw(st.integers(0, 1)))
        idat = zlib.compress(body) if draw(st.booleans()) else body
        return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    if fmt == "gif":
        return b"GIF89a" + struct.pack("<HH", w % 2**16, h % 2**16) + b"\x00\x00\x00," + struct.pack(
            "<HHHH", 0, 0, w % 2**16, h % 2**16) + b"\x00\x08" + body
    if fmt == "bmp":
        return b"BM" + struct.pack("<IHHIIiiHHIIiiII", 54 + len(body), 0, 0, 54, 40, w, h, 1,
                                   draw(st.sampled_from([1, 8, 24, 32])), 0, len(body), 0, 0, 0, 0) + body
    if fmt == "tiff":
        tags = [(256, 4, w), (257, 4, h), (258, 3, draw(st.sampled_from([1, 8, 16, 32]))), (259, 3, 1),
                (262, 3, 1), (273, 4, 8 + 2 + 12 * 8 + 4), (278, 4, h), (279, 4, len(body)),
                (339, 3, draw(st.sampled_from([1, 2, 3])))]
        ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", t, k, 1, v) for t, k, v in tags)
        return b"II*\x00" + struct.pack("<I", 8) + ifd[:2 + 12 * 8] + struct.pack("<I", 0) + body
    sof = struct.pack(">BHHB", 8, h % 2**16, w % 2**16, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + body


MODES = st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "I", "F", "I;16", "CMYK"])
FORMATS = {"1": "PNG GIF BMP TIFF", "L": "PNG JPEG GIF BMP TIFF", "LA": "PNG TIFF", "P": "PNG GIF BMP TIFF",
           "RGB": "PNG JPEG GIF BMP TIFF", "RGBA": "PNG TIFF", "I": "TIFF", "F": "TIFF", "I;16": "PNG TIFF",
           "CMYK": "JPEG TIFF"}


@st.composite
def valid_images(draw) -> bytes:
    """A small image of a random mode and size with random pixels, saved in a format that takes the mode."""
    mode = draw(MODES)  # for F, any bytes make floats: NaN and infinities included
    w, h = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    img = Image.frombytes(mode, (w, h), draw(st.binary(min_size=len(Image.new(mode, (w, h)).tobytes()),
                                                      max_size=len(Image.new(mode, (w, h)).tobytes()))))
    buffer = io.BytesIO()
    img.save(buffer, draw(st.sampled_from(FORMATS[mode].split())))
    return buffer.getvalue()


@st.composite
def edited_images(draw) -> bytes:
    """A valid image with a few bytes set, cut, inserted or deleted."""
    data = bytearray(draw(valid_images()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["set", "cut", "insert", "delete"]))
        if edit == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:at + draw(st.integers(1, 8))]
    return bytes(data)


SOURCES = {"any_bytes": st.binary(max_size=4000), "headers": headers(), "valid": valid_images(),
           "edited": edited_images()}


def run(source: str, folder, counts: collections.Counter, chosen: settings = FAST) -> None:
    """The property over ``source``'s inputs, each written to a file in ``folder``; outcomes counted."""
    @chosen
    @given(SOURCES[source])
    def one(data):
        counts[source, check(data, folder / NAME)] += 1

    one()


def test_any_bytes(tmp_path):
    run("any_bytes", tmp_path, collections.Counter())


def test_valid_headers_with_random_dimensions(tmp_path):
    run("headers", tmp_path, collections.Counter())


def test_valid_images_of_every_mode(tmp_path):
    counts = collections.Counter()
    run("valid", tmp_path, counts)
    assert counts["valid", "read"] > 0  # the source does make readable images


def test_edited_valid_images(tmp_path):
    run("edited", tmp_path, collections.Counter())
