"""``digits.read.imagefile`` shrinks a large image a strip at a time (``digits.read.shrinking``): the same pixels as
shrinking it whole, in every mode it meets, and a 40-megapixel RGBA PNG decodes in little more than its own 160 MB
(twice that when Pillow's reduce made a premultiplied copy of all of it); ``cost`` counts a decoder's copies from the
header."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.hostile_bodies import stroke_png
from digits.read import imagefile, shrinking
from digits.serve import guards


def image(mode: str, width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(width * height)
    rgba = Image.fromarray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8))
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    if mode == "F":
        return Image.fromarray(rng.random((height, width), dtype=np.float32))
    img = rgba.convert("RGB").convert("P") if mode == "P" else rgba.convert(mode)
    if mode in ("P", "RGB"):
        img.info["transparency"] = 5 if mode == "P" else (1, 2, 3)
    return img


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "I;16", "F", "1", "CMYK"])
@pytest.mark.parametrize("size", [(2501, 1333), (1001, 17), (7, 2100)])
def test_shrinking_in_strips_gives_the_pixels_of_shrinking_whole(monkeypatch, mode, size):
    monkeypatch.setattr(shrinking, "STRIP", 5000)  # strips of a few rows: many of them, the last one partial
    img = image(mode, *size)
    whole = shrinking._shrunk(img, -(-max(size) // imagefile.WORK))
    strips = shrinking.shrink(img, imagefile.WORK)
    assert (strips.mode, strips.size) == (whole.mode, whole.size)
    assert np.array_equal(np.asarray(strips), np.asarray(whole))


def peak_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 1024


@pytest.mark.slow  # decodes 40 MP: about a second
def test_a_40_megapixel_rgba_png_decodes_in_little_more_than_its_own_size():
    png = stroke_png()
    guards.return_large_frees()  # (as the server: freed blocks go back, so the peak is this decode's own)
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here
    except OSError:
        pytest.skip("no /proc/self/clear_refs to reset the peak")
    before = peak_mb()
    assert imagefile.load_bytes("stroke.png", png).shape == (903, 903, 2)
    assert peak_mb() - before < 1.25 * 6320 * 6320 * 4 / 2**20  # the decoded image (152 MB) and a quarter


def test_cost_counts_a_decoders_copies_and_a_jpegs_reduced_scale():
    def saved(fmt: str, size: tuple[int, int], **options) -> bytes:
        out = io.BytesIO()
        Image.new("L", size, 255).save(out, fmt, **options)
        return out.getvalue()

    assert imagefile.cost("x.png", saved("PNG", (3000, 2000))) == (6_000_000, 6_000_000)
    assert imagefile.cost("x.webp", saved("WEBP", (3000, 2000), lossless=True)) == (6_000_000, 24_000_000)
    pixels, cost = imagefile.cost("x.jpg", saved("JPEG", (3000, 2000)))
    assert pixels == 6_000_000 and cost <= pixels / 4  # decoded at half the scale or less
    with pytest.raises(imagefile.NotAnImage):
        imagefile.cost("x", b"not an image")
    with pytest.raises(ValueError, match="aspect ratio"):
        imagefile.cost("x.png", saved("PNG", (5100, 100)))
