"""Reading one image file safely, for ``digits.read.images``: bounded bytes, bounded pixels, bounded time, no blocking.

Whatever the file (a FIFO, ``/dev/zero``, a 84 KB PNG declaring 3×29,000,000 pixels, garbage), ``load`` returns
a small numpy array or raises one ValueError/OSError naming the file. The caps are checked before any pixel is
decoded, and the decoded image is shrunk in Pillow, in 8 bits, to at most ``WORK`` pixels on its long side before
numpy sees it, so no per-pixel float array ever has the file's own dimensions.
"""
from __future__ import annotations

import io
import os
import re
import stat
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image

from digits.read.shrinking import shrink

MAX_BYTES = 50 * 2**20  # a 40 MP JPEG is 10-20 MB; anything longer is not a photo of one digit
# 40 MP: above the 12-24 MP that phones and scanners save by default, yet the decoded image (at most 4 bytes a
# pixel, RGBA or float) stays at 160 MB, so reading any file peaks well under 1 GB.
MAX_PIXELS = 40_000_000
# 50:1 is ten times a "1"'s own shape; and shrunk to WORK pixels on its long side, the short side still spans at
# least WORK / MAX_ASPECT = 20 pixels, MNIST's box for the digit.
MAX_ASPECT = 50
WORK = 1000  # long side of the working image: far more detail than the 20×20 box needs, 1 MB in 8 bits
# Decoders that hold copies of the whole image beside Pillow's own, as multiples of a PNG's cost (4.3 bytes a pixel,
# measured at 9-16 MP with the strips below; WebP 16, JPEG 2000 14, AVIF 9, QOI, DDS and TGA 5.4-8): what
# ``cost`` counts their pixels as. Other formats cost at most a PNG's (BMP, TIFF, GIF ...; JPEG less, by ``draft``).
COPIES = {"WEBP": 4, "JPEG2000": 4, "AVIF": 2, "QOI": 2, "DDS": 2, "TGA": 2, "SGI": 2}
# EXIF orientation tag → the transpose that undoes it (as ImageOps.exif_transpose, applied to the small image).
ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}

# Pillow's own decompression-bomb check (a warning above the limit, an error above twice it) tightened to ours;
# ``load`` turns the warning into an error too, so Pillow refuses what our own check would.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def read_bytes(name: str) -> bytes:
    """The bytes of file ``name`` (``-``: standard input), at most ``MAX_BYTES``; OSError or ValueError naming it.

    Only regular files are read: a FIFO, a device or a socket could block or never end. The file is opened
    non-blocking in case it was swapped for a FIFO after the check, and read only up to the cap."""
    if name == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise OSError("-: standard input is a terminal; pipe an image into it")
        return _capped(name, sys.stdin.buffer.read(MAX_BYTES + 1))
    try:
        kind = os.stat(name).st_mode
        if not stat.S_ISREG(kind):
            raise OSError(f"{name}: {_what(kind)}, not a regular file")
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise OSError(f"{name}: {err.strerror.lower()}" if err.strerror else str(err)) from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{name}: {_what(os.fstat(fd).st_mode)}, not a regular file")
        return _capped(name, f.read(MAX_BYTES + 1))


def _what(mode: int) -> str:
    return ("is a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket")


def _capped(name: str, data: bytes) -> bytes:
    if len(data) > MAX_BYTES:
        raise ValueError(f"{name}: larger than {MAX_BYTES // 2**20} MB, too large for an image of one digit")
    return data


def check_size(name: str, width: int, height: int) -> None:
    """Refuse dimensions beyond the caps, from the header alone (ValueError naming the file)."""
    if width * height > MAX_PIXELS:
        raise ValueError(f"{name}: {width * height:,} pixels ({width}×{height}), "
                         f"more than the {MAX_PIXELS // 10**6} megapixels allowed")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ValueError(f"{name}: {width}×{height} pixels, an aspect ratio beyond {MAX_ASPECT}:1")


def decoded(name: str, data: bytes) -> Image.Image:
    """``data`` decoded and shrunk (``shrink``), upright as its EXIF orientation says."""
    with Image.open(io.BytesIO(data)) as img:  # reads the header only
        check_size(name, *img.size)
        orientation = img.getexif().get(0x0112)  # phone photos store "rotate me" as a tag, not as pixels
        _draft(img)
        img.load()  # (a JPEG decodes straight to a smaller scale when ``draft`` allows)
        check_size(name, *img.size)  # a format whose loading changes the size (ICO, ...) is checked again
        small = shrink(img, WORK)
    return small.transpose(ORIENTATION[orientation]) if orientation in ORIENTATION else small


def _draft(img: Image.Image) -> None:
    img.draft(None, (max(1, img.width * WORK // max(img.size)), max(1, img.height * WORK // max(img.size))))


def cost(name: str, data: bytes) -> tuple[int, int]:
    """(pixels, cost) of an image in memory from its header alone, before any pixel is decoded: its pixels, and
    what decoding it holds in memory, in a PNG's pixels (``COPIES``; a JPEG at the scale ``draft`` decodes it to).
    The same refusals as ``load_bytes`` for what fails the caps or is no image."""
    _capped(name, data)
    with _refusals(name), Image.open(io.BytesIO(data)) as img:
        check_size(name, *img.size)
        pixels = img.width * img.height
        _draft(img)
        return pixels, img.width * img.height * COPIES.get(img.format, 1)


class NotAnImage(ValueError):
    """Bytes that no Pillow plugin recognises (a server answers 415 rather than 400)."""


def load(name: str) -> np.ndarray:
    """File ``name`` (``-``: standard input) as a small array: H×W uint8 grey, H×W×2 uint8 grey and alpha, or H×W
    float32 (16/32-bit images), at most ``WORK`` on the long side. ValueError or OSError names the file."""
    return load_bytes(name, read_bytes(name))


def load_bytes(name: str, data: bytes) -> np.ndarray:
    """An image already in memory (a server's request body), named ``name`` in errors, as ``load``'s array: the
    same byte, pixel and aspect caps (checked before decoding), so nothing is ever written to disk."""
    _capped(name, data)
    with _refusals(name):
        return np.asarray(decoded(name, data)).copy()


@contextmanager
def _refusals(name: str) -> Iterator[None]:
    """Pillow's failures on bytes in memory as one ``NotAnImage`` or ValueError naming ``name``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's multi-line notes on odd files (EXIF, ICC, ...)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except Image.UnidentifiedImageError:
        raise NotAnImage(f"{name}: not an image Pillow can read (PNG, JPEG, ...)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:  # Pillow's check, in open
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        size = f"{int(pixels[1]):,} pixels, " if pixels else ""
        raise ValueError(f"{name}: {size}more than the {MAX_PIXELS // 10**6} megapixels allowed") from None
    # Any other failure while decoding bytes already in memory is the file's: a cut-off or corrupt file fails in
    # many ways depending on the format and the plugin (OSError, SyntaxError, EOFError, struct.error, ...).
    except Exception as err:
        if isinstance(err, ValueError) and str(err).startswith(f"{name}: "):  # our own refusal (check_size)
            raise
        raise ValueError(f"{name}: cannot decode image ({_one_line(err)})") from None


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
