"""MNIST-C style corruptions (Mu & Gilmer, 2019), written from the paper's descriptions: one function per family,
each taking a uint8 N x 28 x 28 batch (white ink on black) and a numpy Generator and returning a new uint8 batch,
at one fixed, moderate severity (the digit stays readable to a person).

The noise families and brightness live here; geometric ones in ``digits.corrupt.geometry``, glass blur and Canny edges
in ``digits.corrupt.blur``, drawn-over ones in ``digits.corrupt.overlays``. ``corrupt`` seeds each family from (seed,
its name), so the same call gives the same bytes, and adding or reordering families changes no other family's output.
"""
from __future__ import annotations

import zlib
from typing import Callable

import numpy as np

from digits.corrupt import blur, geometry, overlays
from digits.corrupt.pixels import as_uint8, as_unit

Corruption = Callable[[np.ndarray, np.random.Generator], np.ndarray]

SHOT_PHOTONS = 30.0    # expected photon count at full ink: ink pixels scatter by about +-18%
IMPULSE_FRACTION = 0.1 # share of pixels forced to black or white (half each)
BRIGHTNESS = 0.4       # added to every pixel (of full scale): the background turns mid-dark grey


def shot_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson (photon counting) noise: each pixel becomes a Poisson count with mean proportional to its
    intensity, rescaled; black stays black, as no photons arrive from it."""
    return as_uint8(rng.poisson(as_unit(images) * SHOT_PHOTONS) / SHOT_PHOTONS)


def impulse_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper: a random IMPULSE_FRACTION of pixels set to white or black, independent of the image."""
    u = rng.random(images.shape)
    out = images.copy()
    out[u < IMPULSE_FRACTION / 2] = 0
    out[u > 1.0 - IMPULSE_FRACTION / 2] = 255
    return out


def brightness(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every intensity raised by BRIGHTNESS, clipped: less contrast, saturated ink. Deterministic (``rng``
    unused); on greyscale this is what raising HSV's value channel does."""
    return as_uint8(as_unit(images) + BRIGHTNESS)


# Each family by its function's name, in the suite's order: the names params.yaml may list
# (digits.config.fixed.CorruptionName declares the same ones for the params loader; a test checks they agree).
CORRUPTIONS: dict[str, Corruption] = {family.__name__: family for family in (
    shot_noise, impulse_noise, blur.glass_blur, geometry.motion_blur, geometry.shear, geometry.scale, geometry.rotate,
    brightness, geometry.translate, overlays.stripe, overlays.fog, overlays.spatter, overlays.dotted_line,
    overlays.zigzag, blur.canny_edges)}

DETERMINISTIC = frozenset({"brightness", "canny_edges"})  # these ignore the generator: same for every seed


def generator(seed: int, name: str) -> np.random.Generator:
    """The family's own stream: keyed by a checksum of its name, not its place in CORRUPTIONS, so adding a
    family never shifts another's random numbers."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def corrupt(images: np.ndarray, name: str, seed: int) -> np.ndarray:
    """``images`` (uint8, N x H x W) under corruption ``name``; the same (images, name, seed) gives the same bytes."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; known: {', '.join(CORRUPTIONS)}")
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected a uint8 N x H x W batch, got {images.dtype} with shape {images.shape}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return CORRUPTIONS[name](images, generator(seed, name))


def corrupted_test_set(images: np.ndarray, seed: int, names=None) -> dict[str, np.ndarray]:
    """Every family's corrupted copy of ``images`` (or those in ``names``), by name, in CORRUPTIONS' order
    when ``names`` is None."""
    return {name: corrupt(images, name, seed) for name in (CORRUPTIONS if names is None else names)}
