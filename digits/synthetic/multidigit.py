"""Numbers written from single digits, with the true box of each: what ``tests/test_numbers.py`` and
``bench/numbers.py`` read back. Pure numpy (``photos.photograph`` encodes the photo-like ones).

``row`` lays digits' ink side by side with given gaps (negative: they overlap, so they touch); ``mnist_number``
does it for MNIST's 28×28 digits, enlarged and dark on light; ``wild_number`` for ``photos.digits``' pen masks,
photographed under one of ``photos.CONDITIONS``.
"""
from __future__ import annotations

import numpy as np

from digits.read import images
from digits.synthetic import photos


def resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Anti-aliased resize (``images.resample_matrix`` on both axes)."""
    return images.resample_matrix(img.shape[0], shape[0]) @ img @ images.resample_matrix(img.shape[1], shape[1]).T


def row(inks: list[np.ndarray], gaps: list[int], margin: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Digits' ink (each cropped, any height) side by side, vertically centred, ``gaps[i]`` pixels between digit
    i and i + 1 (negative: overlapping, strokes combined by the stronger), ``margin`` of paper around. Returns
    the sheet's ink 0..1 and each digit's box (x, y, width, height)."""
    tall = max(d.shape[0] for d in inks)
    lefts = np.concatenate([[margin], margin + np.cumsum([d.shape[1] + g for d, g in zip(inks, gaps)], dtype=int)])
    width = max(int(x) + d.shape[1] for x, d in zip(lefts, inks)) + margin
    sheet = np.zeros((tall + 2 * margin, width))
    out = []
    for x, d in zip(lefts, inks):
        y = margin + (tall - d.shape[0]) // 2
        sheet[y:y + d.shape[0], x:x + d.shape[1]] = np.maximum(sheet[y:y + d.shape[0], x:x + d.shape[1]], d)
        out.append((int(x), y, d.shape[1], d.shape[0]))
    return sheet, out


def mnist_number(digits: np.ndarray, gaps: list[int], scale: int = 4) -> tuple[np.ndarray, list[tuple]]:
    """MNIST digits (N×28×28 uint8) written as one number, ``gaps`` in MNIST pixels, enlarged ``scale`` times,
    dark ink on white: (H×W uint8 grey levels, each digit's box in those pixels)."""
    inks = [images.crop(d.astype(np.float64) / 255.0) for d in digits]
    sheet, boxes = row(inks, gaps, margin=6)
    big = resize(sheet, (sheet.shape[0] * scale, sheet.shape[1] * scale))
    grey = np.clip(np.rint(255.0 * (1.0 - big)), 0, 255).astype(np.uint8)
    return grey, [tuple(v * scale for v in b) for b in boxes]


def wild_number(masks: list[np.ndarray], gaps: list[int], condition: str, seed: int,
                height: int = 80) -> tuple[bytes, str, list[tuple]]:
    """``photos.digits``' pen masks written as one number ``height`` pixels tall, photographed under ``condition``:
    (encoded image, its suffix, each digit's box)."""
    inks = []
    for mask in masks:
        ink = images.crop(mask, 0.05)
        inks.append(resize(ink, (height, max(1, round(ink.shape[1] * height / ink.shape[0])))))
    sheet, boxes = row(inks, gaps, margin=height // 2)
    scene = photos.scene(np.random.default_rng([seed, 7]))
    payload, suffix = photos.photograph(np.clip(sheet, 0, 1), condition, scene)
    return payload, suffix, boxes
