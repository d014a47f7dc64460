"""Pixel conversions shared by the corruption modules: uint8 MNIST batches in, float work, uint8 out."""
from __future__ import annotations

import numpy as np


def as_unit(images: np.ndarray) -> np.ndarray:
    """uint8 0..255 as float32 0..1, where the corruptions do their arithmetic."""
    return images.astype(np.float32) / np.float32(255.0)


def as_uint8(unit: np.ndarray) -> np.ndarray:
    """Float 0..1 back to uint8, clipped and rounded (not truncated: truncation would darken every image)."""
    return np.rint(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)


def batch_index(n: int) -> np.ndarray:
    """An (N, 1, 1) index that broadcasts against per-image (N, H, W) coordinates in fancy indexing."""
    return np.arange(n)[:, None, None]
