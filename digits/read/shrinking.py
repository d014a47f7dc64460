"""Shrinking a decoded image for ``digits.read.imagefile``: in Pillow, in 8 bits (or 32-bit float for 16- and 32-bit
grey), a strip of whole blocks at a time, so that nothing beside the decoded image itself ever has its full size."""
from __future__ import annotations

from PIL import Image

# Pixels of the decoded image shrunk at a time: Pillow's reduce of an RGBA or LA image makes a premultiplied copy of
# all of it, and the modes it cannot reduce are converted first; a whole 40 MP RGBA PNG then peaked at twice its
# 160 MB, a strip costs 4 MB.
STRIP = 2**20
REDUCIBLE = ("L", "LA", "RGB", "RGBA", "I", "F")  # the modes Image.reduce takes
FLOAT_MODES = ("I", "F", "I;16", "I;16L", "I;16B", "I;16N")  # 16- and 32-bit grey: scaled by range, not clipped


def shrink(img: Image.Image, work: int) -> Image.Image:
    """The image at most ``work`` pixels on its long side, in a mode numpy can take: L, LA (alpha kept) or F; shrunk
    a strip of whole blocks at a time, so that no full-size copy is ever made beside the decoded image."""
    factor = -(-max(img.size) // work)
    if factor == 1:
        return _shrunk(img, 1)
    rows = factor * max(1, STRIP // (img.width * factor))
    parts = [_shrunk(img.crop((0, top, img.width, min(top + rows, img.height))), factor)
             for top in range(0, img.height, rows)]
    out = Image.new(parts[0].mode, (parts[0].width, sum(part.height for part in parts)))
    for i, part in enumerate(parts):
        out.paste(part, (0, i * rows // factor))
    return out


def _shrunk(img: Image.Image, factor: int) -> Image.Image:
    """One strip (or a whole small image) reduced ``factor`` times and converted; every step is per pixel or per
    block of ``factor`` rows, so strips of whole blocks give the same pixels as the whole image at once."""
    if factor > 1 and img.mode in REDUCIBLE:  # shrink first, so no converted copy of the strip is made
        img, factor = img.reduce(factor), 1  # box averages of whole blocks: anti-aliased, same mode
    if img.mode in FLOAT_MODES:
        img = img.convert("F")
    elif img.mode != "LA" and ("A" in img.getbands() or "transparency" in img.info):
        img = img.convert("RGBA").convert("LA")  # through RGBA: the conversion that honours "transparency"
    elif img.mode != "LA":
        img = img.convert("L")
    return img.reduce(factor) if factor > 1 else img
