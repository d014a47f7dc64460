"""Corruptions that add something over the digit: a stripe of inverted ink, fog, spatter, a dotted line and a
zigzag. Lines are drawn as dense samples along a parametric path, rounded to pixels, for the whole batch at once."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from digits.corrupt.pixels import as_uint8, as_unit, batch_index

STRIPE_PX = 4          # width of the inverted band: about a stroke and a half
FOG_STRENGTH = 1.2     # fog added at up to this times full ink, then the whole range squeezed back into 0..1
FOG_OCTAVES = 5        # coarsest grid 3x3, finest 33x33: a cloud, not grain
SPATTER_SIGMA = 1.2    # smoothing of the random field the drops are cut from: drops of about 2-4 px
SPATTER_LEVEL = 1.6    # drops where the standardised field exceeds this: about 5% of the field, a dozen drops
DOT_PERIOD, DOT_LENGTH = 4.0, 1.5  # a dot 1.5 px long every 4 px along the line
ZIGZAG_PERIOD, ZIGZAG_AMPLITUDE = 8.0, 2.5  # one tooth per 8 px, 2.5 px either side of the axis


def stripe(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Invert (255 - value) a vertical or horizontal band of fixed width crossing the digit's box."""
    n, h, w = images.shape
    start = rng.integers(4, max(5, min(h, w) - 4 - STRIPE_PX + 1), size=n)[:, None, None]
    vertical = rng.random(n)[:, None, None] < 0.5
    rows, cols = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    along = np.where(vertical, cols, rows)
    band = (along >= start) & (along < start + STRIPE_PX)
    return np.where(band, 255 - images, images).astype(np.uint8)


def interpolation(size: int, grid: int) -> np.ndarray:
    """The (size, grid) matrix that linearly interpolates ``grid`` evenly spaced values onto ``size`` pixels."""
    pos = np.linspace(0.0, grid - 1.0, size)
    lower = np.minimum(np.floor(pos).astype(int), grid - 2)
    frac = pos - lower
    matrix = np.zeros((size, grid))
    matrix[np.arange(size), lower] = 1 - frac
    matrix[np.arange(size), lower + 1] = frac
    return matrix


def fractal_field(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """Smooth 1/f noise in 0..1: random grids from coarse to fine, each interpolated up and halved in weight."""
    field = np.zeros((n, h, w))
    for octave in range(1, FOG_OCTAVES + 1):
        grid = 2 ** octave + 1
        coarse = rng.random((n, grid, grid))
        # matmul: einsum is 20x slower
        field += interpolation(h, grid) @ coarse @ interpolation(w, grid).T / 2 ** octave
    low, high = field.min(axis=(1, 2), keepdims=True), field.max(axis=(1, 2), keepdims=True)
    return (field - low) / np.maximum(high - low, 1e-9)


def fog(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add a cloudy fractal field and rescale, so contrast drops and the background turns uneven grey."""
    unit = as_unit(images)
    fogged = unit + FOG_STRENGTH * fractal_field(rng, *images.shape)
    return as_uint8(fogged / (1.0 + FOG_STRENGTH))


def spatter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Drops of grey: a smoothed random field, standardised per image, cut at a high level into blobs with soft
    rims, painted over the image at a random grey per image (ink-bright drops would be new strokes)."""
    n = len(images)
    field = ndimage.gaussian_filter(rng.standard_normal(images.shape), sigma=(0, SPATTER_SIGMA, SPATTER_SIGMA))
    field = (field - field.mean(axis=(1, 2), keepdims=True)) / np.maximum(field.std(axis=(1, 2), keepdims=True), 1e-9)
    drops = np.clip((field - SPATTER_LEVEL) / 0.25, 0.0, 1.0)  # a rim 0.25 sd wide: round drops, soft edge
    shade = rng.uniform(0.55, 0.85, size=n)[:, None, None]
    return as_uint8(np.maximum(as_unit(images), drops * shade))


def draw(images: np.ndarray, ys: np.ndarray, xs: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """White ink at the pixels under the kept samples (N, S) of a path; samples off the field are dropped."""
    n, h, w = images.shape
    out = images.copy()
    py, px = np.rint(ys).astype(np.intp), np.rint(xs).astype(np.intp)
    keep = keep & (py >= 0) & (py < h) & (px >= 0) & (px < w)
    b = np.broadcast_to(batch_index(n)[:, :, 0], py.shape)
    out[b[keep], py[keep], px[keep]] = 255
    return out


def random_line(rng: np.random.Generator, n: int, h: int, w: int, length: float, steps: int = 240):
    """Sample points (t, y, x, unit normal) along a line of ``length`` at a random angle through a random point
    in the field's middle half, so the line crosses the digit rather than skirting the border."""
    cy, cx = rng.uniform(h / 4, 3 * h / 4, size=n), rng.uniform(w / 4, 3 * w / 4, size=n)
    angle = rng.uniform(0.0, np.pi, size=n)
    t = np.linspace(-length / 2, length / 2, steps)[None, :]
    sin, cos = np.sin(angle)[:, None], np.cos(angle)[:, None]
    return t, cy[:, None] + t * sin, cx[:, None] + t * cos, (cos, -sin)


def dotted_line(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A straight dotted line right across the field at a random angle and offset."""
    n, h, w = images.shape
    t, ys, xs, _ = random_line(rng, n, h, w, length=2.0 * max(h, w))
    phase = rng.uniform(0.0, DOT_PERIOD, size=(n, 1))
    return draw(images, ys, xs, (t + phase) % DOT_PERIOD < DOT_LENGTH)


def zigzag(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A solid zigzag (a triangle wave about a random straight axis) across most of the field."""
    n, h, w = images.shape
    t, ys, xs, (ny, nx) = random_line(rng, n, h, w, length=0.9 * max(h, w))
    phase = rng.uniform(0.0, 1.0, size=(n, 1))
    wave = ZIGZAG_AMPLITUDE * (4.0 * np.abs((t / ZIGZAG_PERIOD + phase) % 1.0 - 0.5) - 1.0)
    return draw(images, ys + wave * ny, xs + wave * nx, np.ones(t.shape, bool))
