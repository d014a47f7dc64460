"""Any photo or drawing of a digit → a 28×28 MNIST-style image, for ``digits.predict``.

MNIST's own recipe (LeCun et al.): the digit's bounding box scaled, aspect ratio kept, into a 20×20 box with
anti-aliasing, then placed in a 28×28 field so that its centre of mass is the field's centre; white ink on
black. Pillow only decodes files (``decode``, via ``digits.read.imagefile``, which bounds bytes, pixels and
memory); every other step is a pure numpy function, array in, array out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from digits.read import imagefile, sheet

SIZE = 28  # MNIST's field
BOX = 20  # the box the digit's longer side is scaled into
MIN_CONTRAST = 32  # grey levels between paper and darkest ink below which an image counts as blank
NOISE = 0.2  # ink fainter than this fraction of the image's contrast is paper texture, JPEG ringing or shadow


def decode(path: str | Path) -> np.ndarray:
    """Read a PNG/JPEG/... file (``-``: standard input) as 8-bit grey levels (H×W uint8, at most
    ``imagefile.WORK`` pixels on the long side); ValueError or OSError names the file."""
    return to_grey(imagefile.load(str(path)))


def decode_bytes(name: str, data: bytes) -> np.ndarray:
    """``decode`` for an image already in memory (a request body), through the same caps and checks;
    ``imagefile.NotAnImage`` when it is no image at all."""
    return to_grey(imagefile.load_bytes(name, data))


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """``imagefile.load``'s array (grey, grey and alpha, or float) → H×W uint8 grey levels."""
    if pixels.dtype != np.uint8:
        return stretch(pixels)
    if pixels.ndim == 3:
        return flatten_alpha(pixels[..., 0], pixels[..., 1])
    return pixels


def stretch(levels: np.ndarray) -> np.ndarray:
    """16- or 32-bit levels (0..1, 0..255, 0..65535, negative, ...) → 0..255 by their actual range, so that a float
    image in 0..1 is not clipped to black nor a 16-bit one to white. NaN and infinities count as the lowest."""
    finite = np.isfinite(levels)
    if not finite.any():
        return np.zeros(levels.shape, np.uint8)
    levels = np.where(finite, levels, levels[finite].min()).astype(np.float64)
    low, span = levels.min(), levels.max() - levels.min()
    return np.zeros(levels.shape, np.uint8) if span == 0 else np.rint((levels - low) * (255.0 / span)).astype(np.uint8)


def flatten_alpha(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Grey and alpha (uint8) → grey levels with the transparency resolved.

    Drawing apps leave the paper transparent, and the ink may be any colour, white and yellow included; the colour
    of transparent pixels is arbitrary (usually black). So when most of the image is transparent, the opacity
    itself is the ink: dark where opaque, on white paper. Otherwise (an opaque sheet with some transparency) the
    image is laid on white, as a viewer shows it.
    """
    if np.count_nonzero(alpha < 128) * 2 > alpha.size:
        return 255 - alpha
    a = alpha.astype(np.float64) / 255.0
    return np.rint(grey * a + 255.0 * (1.0 - a)).astype(np.uint8)


def border(gray: np.ndarray) -> np.ndarray:
    """The pixels of the outer frame, 1/50 of the shorter side thick (at least 1 pixel)."""
    t = max(1, min(gray.shape) // 50)
    return np.concatenate([gray[:t].ravel(), gray[-t:].ravel(), gray[:, :t].ravel(), gray[:, -t:].ravel()])


def ink(gray: np.ndarray) -> np.ndarray:
    """Grey levels (H×W uint8) → the digit's ink intensity 0..1 (float64), whichever the polarity: ``sheet_ink``
    with only the digit kept (``sheet.digit``), not specks or marks elsewhere. Raises ValueError for a blank image."""
    return sheet.digit(sheet_ink(gray))


def sheet_ink(gray: np.ndarray) -> np.ndarray:
    """Grey levels (H×W uint8) → all the sheet's ink 0..1 (float64), every digit of a number included.

    The paper is whatever most of the border is (the median, so a stroke touching the edge does not count):
    light paper means dark ink, so the image is inverted to MNIST's light-on-dark. The paper's own level is then
    estimated everywhere (``sheet.background``) and divided out, so a gradient or a dark corner of a photo is
    paper, not ink; ruled lines fainter than the ink are taken away; levels are stretched so the paper is 0 and
    the strongest ink 1, as MNIST's saturated strokes are; faint noise is cleared. Raises ValueError for a blank
    image.
    """
    levels = gray.astype(np.float64)
    if np.median(border(levels)) > 127.5:
        levels = 255.0 - levels
    paper_level = np.minimum(sheet.background(levels), 254.0)
    contrast = (levels - paper_level).max()
    if contrast < MIN_CONTRAST:
        raise ValueError(f"blank image: no digit found (ink and paper differ by {contrast:.0f} grey levels)")
    # Light multiplies: on light paper (levels inverted) this is 1 - pixel / paper, the ink's own darkness.
    flat = np.clip((levels - paper_level) / (255.0 - paper_level), 0.0, None)
    flat = np.clip(flat - sheet.ruling(flat), 0.0, None)
    out = flat / flat.max()
    out[out < NOISE] = 0.0
    return out


def crop(img: np.ndarray, level: float = 0.0) -> np.ndarray:
    """The bounding box of the pixels above ``level`` (ink is never negative)."""
    inked = img > level
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    if not len(rows):
        raise ValueError("blank image: no digit found")
    return img[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out × n_in) weights resizing one axis with a triangle filter, widened when shrinking so every
    input pixel contributes (anti-aliasing), as Pillow's bilinear ``resize`` does."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale  # of the output pixels, in input coordinates
    dist = np.abs((np.arange(n_in) + 0.5)[None, :] - centres[:, None]) / support
    weights = np.clip(1.0 - dist, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def fit_box(img: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale so the longer side is ``box`` pixels, keeping the aspect ratio (the shorter at least 1)."""
    h, w = img.shape
    scale = box / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    return resample_matrix(h, out_h) @ img @ resample_matrix(w, out_w).T


def centre_by_mass(img: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Place ``img`` in a ``size``×``size`` field so its centre of mass lands on the field's centre pixel
    (14, 14 for MNIST, where its test set's mean is), by whole pixels, never pushing ink off the edge."""
    h, w = img.shape
    ys, xs = np.indices(img.shape)
    mass = img.sum()
    top = int(np.clip(round(size / 2 - (ys * img).sum() / mass), 0, size - h))
    left = int(np.clip(round(size / 2 - (xs * img).sum() / mass), 0, size - w))
    out = np.zeros((size, size), dtype=img.dtype)
    out[top:top + h, left:left + w] = img
    return out


def to_mnist(gray: np.ndarray) -> np.ndarray:
    """Grey levels of any size and polarity (H×W uint8) → a 28×28 uint8 image as MNIST's are."""
    return to_field(ink(gray))


def to_field(digit_ink: np.ndarray) -> np.ndarray:
    """One digit's ink (H×W, 0..1, zero off the digit) → the 28×28 uint8 MNIST image: cropped, fitted, centred."""
    digit = centre_by_mass(fit_box(crop(digit_ink)))
    return np.clip(np.rint(digit * 255.0), 0, 255).astype(np.uint8)
