"""Hostile and unusual image files (``digits.read.imagefile`` through ``digits.read.images.decode``): bounded memory, no
blocking on special files, caps refused with one line naming the file; transparent and float images read right."""
from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import hostile
from conftest import ROOT
from digits.read import imagefile, images

MEMORY_LIMIT = 1 << 30  # address space of the reading child: the bound every file must be read within


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def read_in_child(path: Path) -> tuple[str, float]:
    """Read ``path`` as predict does, in a child process limited to 1 GB: (its outcome line, its peak MB)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))  # one thread: little address space
    done = subprocess.run([sys.executable, str(Path(hostile.__file__)), "peak", str(path)], env=env, timeout=60,
                          capture_output=True, text=True, preexec_fn=limit_memory)
    assert done.returncode == 0, done.stderr
    outcome, peak = done.stdout.splitlines()
    return outcome, float(peak.split()[1])


@pytest.mark.parametrize(("width", "height", "why"), [
    (3, 29_000_000, "87,000,000 pixels, more than the 40 megapixels allowed"),  # before: 4.8 GB and 12 s
    (12_000, 12_000, "144,000,000 pixels, more than the 40 megapixels allowed"),  # before: 3.5 GB
    (6_400, 6_400, "40,960,000 pixels, more than the 40 megapixels allowed"),  # Pillow's warning
    (2, 20_000, "2×20000 pixels, an aspect ratio beyond 50:1"),
])
def test_huge_image_refused_before_decoding(tmp_path, width, height, why):
    path = tmp_path / "bomb.png"
    path.write_bytes(hostile.png_of_zeros(width, height, band=0.3))
    outcome, peak = read_in_child(path)
    assert outcome == f"ValueError: {path}: {why}"
    assert peak < 100


@pytest.mark.parametrize(("width", "height"), [(6_000, 6_000), (39_000, 800)])
def test_large_image_within_caps_read_in_bounded_memory(tmp_path, width, height):
    """36 and 31 megapixels: decoded in 8 bits and shrunk in Pillow, never as float arrays of that size."""
    path = tmp_path / "large.png"
    path.write_bytes(hostile.png_of_zeros(width, height, band=0.3))
    outcome, peak = read_in_child(path)
    assert outcome.startswith("28x28 image") and peak < 250, (outcome, peak)


def test_working_image_is_small_and_reads_like_the_original(tmp_path):
    sheet = Image.new("L", (3000, 4000), 255)
    sheet.paste(Image.new("L", (600, 2400), 0), (1200, 800))  # a bar: 4 times as tall as wide
    sheet.save(tmp_path / "bar.png")
    grey = images.decode(tmp_path / "bar.png")
    assert grey.shape == (1000, 750) and grey.dtype == np.uint8
    out = images.to_mnist(grey)
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    assert (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) == (20, 5)


def test_file_over_the_byte_cap_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(imagefile, "MAX_BYTES", 1000)
    path = tmp_path / "long.png"
    path.write_bytes(bytes(1001))
    with pytest.raises(ValueError, match=rf"^{path}: larger than 0 MB, too large for an image of one digit$"):
        images.decode(path)


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_special_files_refused_without_blocking(tmp_path, kind):
    path = {"fifo": tmp_path / "pipe.png", "device": Path("/dev/zero"), "directory": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes to it: opening it to read would block forever
    why = {"fifo": "a FIFO", "device": "a device", "directory": "is a directory"}[kind]
    result = []
    reader = threading.Thread(target=lambda: result.append(pytest.raises(OSError, images.decode, path)), daemon=True)
    reader.start()
    reader.join(5)
    assert result, f"reading {path} blocked"
    assert str(result[0].value) == f"{path}: {why}, not a regular file"


def test_missing_file_named():
    with pytest.raises(OSError, match=r"^nowhere\.png: no such file or directory$"):
        images.decode("nowhere.png")


def test_dash_reads_standard_input(monkeypatch, tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(hostile_digit()).save(buffer, "PNG")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(buffer.getvalue())))
    assert np.array_equal(images.decode("-"), hostile_digit())


def test_endless_standard_input_refused(monkeypatch):
    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            b[:] = bytes(len(b))
            return len(b)

    monkeypatch.setattr(imagefile, "MAX_BYTES", 10_000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    with pytest.raises(ValueError, match=r"^-: larger than 0 MB"):
        images.decode("-")


def hostile_digit() -> np.ndarray:
    """A dark "1" on light paper, 60×40 grey levels."""
    grey = np.full((60, 40), 255, np.uint8)
    grey[10:50, 18:22] = 0
    return grey


@pytest.mark.parametrize("colour", [(255, 255, 255), (255, 220, 0), (0, 0, 0), (200, 30, 30)])
@pytest.mark.parametrize("paper", [(0, 0, 0), (255, 255, 255)])
def test_transparent_drawing_in_any_ink_colour(tmp_path, colour, paper):
    """White, yellow, black or red strokes on fully transparent paper (whatever colour it hides) read as ink."""
    rgba = np.zeros((60, 40, 4), np.uint8)
    rgba[..., :3] = paper
    rgba[10:50, 18:22] = (*colour, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "one.png")
    assert np.array_equal(images.decode(tmp_path / "one.png"), hostile_digit())
    assert images.to_mnist(images.decode(tmp_path / "one.png")).max() == 255


def test_opaque_sheet_with_transparent_corner_laid_on_white(tmp_path):
    rgba = np.full((60, 40, 4), 255, np.uint8)
    rgba[10:50, 18:22, :3] = 0
    rgba[:5, :5] = (0, 0, 0, 0)  # a transparent corner, black beneath
    Image.fromarray(rgba, "RGBA").save(tmp_path / "sheet.png")
    assert np.array_equal(images.decode(tmp_path / "sheet.png"), hostile_digit())


@pytest.mark.parametrize(("mode", "scale", "suffix"), [("F", 1.0, "tiff"), ("F", 255.0, "tiff"),
                                                       ("F", -3.5, "tiff"), ("I;16", 65535, "png"),
                                                       ("I;16", 1000, "png"), ("I", 2**20, "tiff")])
def test_float_and_16_bit_images_scaled_by_their_range(tmp_path, mode, scale, suffix):
    """0..1 floats are not clipped to black nor 16-bit levels to white: the actual range maps to 0..255."""
    levels = hostile_digit() / 255.0 * scale
    img = Image.fromarray(levels.astype(np.float32), "F") if mode == "F" else Image.new(mode, (40, 60))
    if mode != "F":
        img.putdata(levels.astype(np.int64).ravel().tolist())
    img.save(tmp_path / f"digit.{suffix}")
    grey = images.decode(tmp_path / f"digit.{suffix}")
    expected = hostile_digit() if scale > 0 else 255 - hostile_digit()
    assert np.array_equal(grey, expected), np.unique(grey)


def test_float_image_with_nan_and_infinities(tmp_path):
    levels = hostile_digit().astype(np.float32) / 255
    levels[0, 0], levels[0, 1], levels[1, 0] = np.nan, np.inf, -np.inf
    Image.fromarray(levels, "F").save(tmp_path / "odd.tiff")
    assert images.to_mnist(images.decode(tmp_path / "odd.tiff")).shape == (28, 28)


def test_exif_orientation_applied(tmp_path):
    img = Image.fromarray(hostile_digit()[:, :30])  # the stroke off centre: 60 tall, 30 wide
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    img.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    assert images.decode(tmp_path / "photo.jpg").shape == (30, 60)
