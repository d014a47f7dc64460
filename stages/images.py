"""Any photo or drawing of a digit → a 28×28 MNIST-style image, for ``stages.predict``.

MNIST's own recipe (LeCun et al.): the digit's bounding box scaled, aspect ratio kept, into a 20×20 box with
anti-aliasing, then placed in a 28×28 field so that its centre of mass is the field's centre; white ink on
black. Pillow only decodes files (``decode``); every other step is a pure numpy function, array in, array out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SIZE = 28  # MNIST's field
BOX = 20  # the box the digit's longer side is scaled into
MIN_CONTRAST = 32  # grey levels between paper and darkest ink below which an image counts as blank
NOISE = 0.2  # ink fainter than this fraction of the image's contrast is paper texture, JPEG ringing or shadow


def decode(path: str | Path) -> np.ndarray:
    """Read a PNG/JPEG/... file as 8-bit grey levels (H×W uint8); ValueError or OSError names the file."""
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)  # phone photos store "rotate me" as a tag, not as pixels
            if "A" in img.getbands() or "transparency" in img.info:
                # Drawing apps leave the paper transparent: lay the strokes on white, not on the black that
                # the transparent pixels' colour usually is.
                rgba = img.convert("RGBA")
                img = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    except Image.UnidentifiedImageError:
        raise ValueError(f"{path}: not an image Pillow can read (PNG, JPEG, ...)") from None
    # A cut-off or corrupt file fails while decoding, in several ways depending on the format.
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        if isinstance(err, OSError) and err.strerror:  # the file system's: missing, unreadable, a folder
            raise OSError(f"{path}: {err.strerror.lower()}") from None
        raise ValueError(f"{path}: cannot decode image ({err})") from None


def border(gray: np.ndarray) -> np.ndarray:
    """The pixels of the outer frame, 1/50 of the shorter side thick (at least 1 pixel)."""
    t = max(1, min(gray.shape) // 50)
    return np.concatenate([gray[:t].ravel(), gray[-t:].ravel(), gray[:, :t].ravel(), gray[:, -t:].ravel()])


def ink(gray: np.ndarray) -> np.ndarray:
    """Grey levels (H×W uint8) → ink intensity 0..1 (float64), whichever the polarity.

    The paper is whatever most of the border is (the median, so a stroke touching the edge does not
    count): light paper means dark ink, so the image is inverted to MNIST's light-on-dark. Levels are then
    stretched so the paper is 0 and the strongest ink 1, as MNIST's saturated strokes are, and faint noise is
    cleared. Raises ValueError for a blank image.
    """
    levels = gray.astype(np.float64)
    paper = float(np.median(border(levels)))
    if paper > 127.5:
        levels, paper = 255.0 - levels, 255.0 - paper
    contrast = levels.max() - paper
    if contrast < MIN_CONTRAST:
        raise ValueError(f"blank image: no digit found (ink and paper differ by {contrast:.0f} grey levels)")
    out = np.clip((levels - paper) / contrast, 0.0, 1.0)
    out[out < NOISE] = 0.0
    return out


def crop(img: np.ndarray) -> np.ndarray:
    """The bounding box of the non-zero pixels."""
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
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
    digit = centre_by_mass(fit_box(crop(ink(gray))))
    return np.clip(np.rint(digit * 255.0), 0, 255).astype(np.uint8)
