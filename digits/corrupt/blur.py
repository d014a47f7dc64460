"""Corruptions built on smoothing and gradients: glass blur and Canny edges (scipy.ndimage, whole batch at once:
a sigma of 0 on the batch axis keeps the images apart)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from digits.corrupt.pixels import as_uint8, as_unit, batch_index

GLASS_SIGMA = 0.7      # blur before and after the shuffle: frosted glass, not a noise pattern
GLASS_DELTA = 1        # each pixel swaps with one at most 1 px away
GLASS_ROUNDS = 1       # one sweep: a sweep already carries some pixels several steps along
CANNY_SIGMA = 1.0      # smoothing before the gradient: finer gives ragged double edges on MNIST's soft strokes
CANNY_LOW, CANNY_HIGH = 0.2, 0.4  # hysteresis thresholds, as fractions of each image's strongest gradient


def gaussian(unit: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(unit, sigma=(0.0, sigma, sigma), mode="constant")


def sobel(unit: np.ndarray, axis: int) -> np.ndarray:
    """The Sobel derivative along image axis 1 or 2. Not ``ndimage.sobel``: that smooths along every other
    axis, the batch axis too, which blends each image's gradient with its neighbours'."""
    derivative = ndimage.correlate1d(unit, [-1.0, 0.0, 1.0], axis=axis)
    return ndimage.correlate1d(derivative, [1.0, 2.0, 1.0], axis=3 - axis)


def glass_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur, then swap every pixel with a random neighbour within GLASS_DELTA, in a raster sweep (so a pixel can
    travel on in later swaps, as light does through ribbed glass), then blur again."""
    unit = gaussian(as_unit(images), GLASS_SIGMA)
    n, h, w = unit.shape
    d, b = GLASS_DELTA, np.arange(n)
    steps = rng.integers(-d, d + 1, size=(GLASS_ROUNDS, h, w, 2, n))
    for r in range(GLASS_ROUNDS):
        for y in range(h - d - 1, d - 1, -1):
            for x in range(w - d - 1, d - 1, -1):
                ty, tx = y + steps[r, y, x, 0], x + steps[r, y, x, 1]
                here, there = unit[:, y, x].copy(), unit[b, ty, tx]
                unit[:, y, x] = there
                unit[b, ty, tx] = here
    return as_uint8(gaussian(unit, GLASS_SIGMA))


def thin(magnitude: np.ndarray, gy: np.ndarray, gx: np.ndarray) -> np.ndarray:
    """Non-maximum suppression: keep a pixel only where its gradient magnitude is at least both neighbours'
    along the gradient direction (rounded to one of 4 directions), so an edge is one pixel wide."""
    n, h, w = magnitude.shape
    direction = (np.rint(np.arctan2(gy, gx) / (np.pi / 4)).astype(int)) % 4  # 0: x, 1: diagonal, 2: y, 3: anti
    dy = np.array([0, 1, 1, 1])[direction]
    dx = np.array([1, 1, 0, -1])[direction]
    padded = np.pad(magnitude, ((0, 0), (1, 1), (1, 1)))
    yy, xx = np.meshgrid(np.arange(h) + 1, np.arange(w) + 1, indexing="ij")
    b = batch_index(n)
    ahead, behind = padded[b, yy + dy, xx + dx], padded[b, yy - dy, xx - dx]
    return (magnitude >= ahead) & (magnitude >= behind) & (magnitude > 0)


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Weak edge pixels survive only if 8-connected (within their own image) to a strong one."""
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True  # connect within an image, never across the batch axis
    labels, count = ndimage.label(weak, structure=structure)
    keep = np.zeros(count + 1, bool)
    keep[labels[strong]] = True
    keep[0] = False
    return keep[labels]


def canny_edges(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit replaced by its Canny edge map: white one-pixel outlines where the strokes' edges were.
    Deterministic; ``rng`` is unused (kept for the common signature)."""
    smooth = gaussian(as_unit(images), CANNY_SIGMA)
    gy, gx = sobel(smooth, 1), sobel(smooth, 2)
    magnitude = np.hypot(gy, gx)
    peak = magnitude.max(axis=(1, 2), keepdims=True) if magnitude.size else magnitude
    edges = thin(magnitude, gy, gx)
    weak = edges & (magnitude >= CANNY_LOW * peak) & (peak > 0)
    strong = weak & (magnitude >= CANNY_HIGH * peak)
    return np.where(hysteresis(weak, strong), np.uint8(255), np.uint8(0))
