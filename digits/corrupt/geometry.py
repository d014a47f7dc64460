"""Geometric corruptions: affine warps (shear, scale, rotate, translate) and motion blur.

All of them resample each image at per-image source coordinates with bilinear interpolation and black outside the
field, so the whole batch warps in a few numpy gathers rather than one library call per image.
"""
from __future__ import annotations

import numpy as np

from digits.corrupt.pixels import as_uint8, as_unit, batch_index

SHEAR = 0.5          # x += 0.5 * y: about 27 degrees of slant, like a strongly italic hand
SCALES = (0.6, 1.4)  # shrink to 60% or grow to 140%: the digit stays whole or loses only its outer edge
ROTATE_DEG = 40.0    # short of the turn where 6 and 9 or 2 and 7 trade places
SHIFT_PX = 5.0       # MNIST digits sit in a 20x20 box with 4 px margins: a 5 px shift crops at most a pixel
MOTION_PX = 5.0      # length of the blur line: a clear streak, while the strokes still separate
MOTION_TAPS = 6      # samples along the line: one per pixel, so the trail looks smooth, not doubled


def sample(unit: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples of each image in ``unit`` (N, H, W) at source coordinates ``ys``, ``xs`` (N, H, W);
    black outside. A one-pixel black border is padded on and coordinates clipped into it, so no pixel reads
    past the array and off-field samples blend towards black exactly as they would on an infinite canvas."""
    n, h, w = unit.shape
    padded = np.pad(unit, ((0, 0), (1, 1), (1, 1)))
    ys = np.clip(ys + 1.0, 0.0, h + 1.0)
    xs = np.clip(xs + 1.0, 0.0, w + 1.0)
    y0 = np.minimum(np.floor(ys).astype(np.intp), h)
    x0 = np.minimum(np.floor(xs).astype(np.intp), w)
    fy, fx = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
    b = batch_index(n)
    top = padded[b, y0, x0] * (1 - fx) + padded[b, y0, x0 + 1] * fx
    bottom = padded[b, y0 + 1, x0] * (1 - fx) + padded[b, y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def warp(images: np.ndarray, inverse: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray:
    """Each image under its own affine map about the field's centre: ``inverse`` (N, 2, 2) takes an output
    (y, x) offset from the centre to the source offset, ``shift`` (N, 2) moves the result (pixels)."""
    n, h, w = images.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    oy, ox = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    if shift is not None:
        oy, ox = oy[None] - shift[:, 0, None, None], ox[None] - shift[:, 1, None, None]
    ys = inverse[:, 0, 0, None, None] * oy + inverse[:, 0, 1, None, None] * ox + cy
    xs = inverse[:, 1, 0, None, None] * oy + inverse[:, 1, 1, None, None] * ox + cx
    return as_uint8(sample(as_unit(images), ys, xs))


def signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def shear(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Horizontal shear of fixed strength, leaning left or right at random."""
    s = SHEAR * signs(rng, len(images))
    inverse = np.zeros((len(images), 2, 2))
    inverse[:, 0, 0] = inverse[:, 1, 1] = 1.0
    inverse[:, 1, 0] = -s  # source x = x - s*y undoes x' = x + s*y
    return warp(images, inverse)


def scale(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Isotropic zoom about the centre, shrinking or growing at random (both happen to handwriting)."""
    factor = rng.choice(np.array(SCALES), size=len(images))
    return warp(images, np.eye(2)[None] / factor[:, None, None])


def rotation(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def rotate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotation by a fixed angle, clockwise or anticlockwise at random."""
    return warp(images, rotation(np.deg2rad(ROTATE_DEG) * signs(rng, len(images))))


def translate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A whole-pixel shift of fixed length in a random direction (whole pixels: a shift alone must not blur)."""
    angle = rng.uniform(0.0, 2 * np.pi, size=len(images))
    shift = np.rint(SHIFT_PX * np.stack([np.sin(angle), np.cos(angle)], -1))
    return warp(images, np.broadcast_to(np.eye(2), (len(images), 2, 2)), shift)


def motion_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The mean of the image along a line of fixed length through each pixel, at a random angle per image:
    the streak a moving camera leaves. Centred on the pixel, so the digit does not move as a whole."""
    angle = rng.uniform(0.0, np.pi, size=len(images))[:, None, None]
    n, h, w = images.shape
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    unit, total = as_unit(images), np.zeros(images.shape, np.float32)
    for t in np.linspace(-MOTION_PX / 2, MOTION_PX / 2, MOTION_TAPS):
        total += sample(unit, yy + t * np.sin(angle), xx + t * np.cos(angle))
    return as_uint8(total / MOTION_TAPS)
