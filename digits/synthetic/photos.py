"""Deterministic test sets of digits "in the wild": photo-like RGB images of digits not from MNIST, with labels.

Two sources (``SETS``): ``drawn``, pen strokes of varied width written by ``strokes.pen_mask``, and ``fonts``,
digits typed in Debian's handwriting fonts by ``fonts.font_mask``. Each digit is photographed under each of
``CONDITIONS`` with the same digit and the same random scene, so the effect of each can be told apart:

- ``clean``: evenly lit white paper, black ink, no noise, PNG (the control);
- ``lighting``: a gradient across the sheet and one corner much darker, as a phone photo under a lamp;
- ``paper``: lined or squared paper (thin light-blue lines);
- ``ink``: blue ballpoint ink instead of black;
- ``noise``: lens blur, sensor noise and JPEG compression;
- ``photo``: all of these at once (blue or black ink).

Images are 96-200 pixels a side; every set is balanced (``per_class`` of each digit) and a function of its seed.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from digits.synthetic import fonts, strokes

SETS = ("drawn", "fonts")
CONDITIONS = ("clean", "lighting", "paper", "ink", "noise", "photo")
USES = {"clean": (), "lighting": ("lighting",), "paper": ("paper",), "ink": ("ink",), "noise": ("noise",),
        "photo": ("lighting", "paper", "ink", "noise")}
PAPER, BLACK, BLUE, LINE = (245, 244, 238), (30, 30, 35), (25, 55, 160), (150, 185, 230)


def digits(name: str, per_class: int = 30, seed: int = 0, faces: list[Path] | None = None
           ) -> list[tuple[int, np.ndarray]]:
    """Set ``name``'s digits as (label, ink coverage 0..1 of an H×W sheet), classes in turn 0, 1, ..., 9, 0, ...;
    typed in ``faces`` (default: the installed handwriting fonts, ``fonts.available``)."""
    faces = (fonts.available() if faces is None else faces) if name == "fonts" else []
    if name == "fonts" and not faces:
        raise OSError(f"no handwriting fonts installed: apt-get install {' '.join(fonts.FONTS)}")
    return [digit(name, i, seed, faces) for i in range(10 * per_class)]


def digit(name: str, i: int, seed: int, faces: list[Path]) -> tuple[int, np.ndarray]:
    """The ``i``-th of ``digits``' list, a function of its own arguments alone (so it can be drawn anywhere)."""
    rng = np.random.default_rng([seed, SETS.index(name), i])
    label, size = i % 10, tuple(int(n) for n in rng.integers(96, 201, 2))
    mask = (strokes.pen_mask(label, size, rng) if name == "drawn"
            else fonts.font_mask(label, size, rng, faces[(i // 10) % len(faces)]))
    return label, mask


def scene(rng: np.random.Generator) -> dict:
    """Every random choice of a photo, drawn whatever the condition, so each condition shares the others'."""
    return {"angle": rng.uniform(0, 2 * np.pi), "gradient": rng.uniform(0.15, 0.35), "corner": rng.integers(4),
            "dark": rng.uniform(0.35, 0.6), "reach": rng.uniform(0.4, 0.9), "squared": bool(rng.integers(2)),
            "spacing": rng.uniform(10, 20), "offset": rng.uniform(0, 10), "blue": bool(rng.integers(2)),
            "blur": rng.uniform(0.4, 1.2), "noise": rng.uniform(3, 9), "quality": int(rng.integers(35, 76)),
            "seed": int(rng.integers(2**31))}


def illumination(shape: tuple[int, int], s: dict) -> np.ndarray:
    """Light falling on the sheet (H×W, 1 = full): a linear gradient, and one corner darker."""
    v, u = np.mgrid[0:1:shape[0] * 1j, 0:1:shape[1] * 1j]
    along = u * np.cos(s["angle"]) + v * np.sin(s["angle"])
    along = (along - along.min()) / max(np.ptp(along), 1e-9)
    cu, cv = s["corner"] % 2, s["corner"] // 2
    near = np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / s["reach"] ** 2)
    return (1 - s["gradient"] * along) * (1 - s["dark"] * near)


def ruling(shape: tuple[int, int], s: dict) -> np.ndarray:
    """Coverage 0..1 of the paper's printed lines: horizontal, and vertical too on squared paper, ~1 px wide."""
    def lines(n: int) -> np.ndarray:
        phase = (np.arange(n) - s["offset"]) % s["spacing"]
        return np.clip(1.2 - np.minimum(phase, s["spacing"] - phase), 0, 1)
    rows = lines(shape[0])[:, None] * np.ones(shape)
    return np.maximum(rows, lines(shape[1])[None, :]) if s["squared"] else rows


def photograph(mask: np.ndarray, condition: str, s: dict) -> tuple[bytes, str]:
    """The sheet with ``mask``'s ink under ``condition`` as an encoded file: (its bytes, ``png`` or ``jpg``)."""
    uses = USES[condition]
    ink = np.array(BLUE if "ink" in uses and (condition == "ink" or s["blue"]) else BLACK, float)
    refl = np.broadcast_to(np.array(PAPER, float), mask.shape + (3,))
    if "paper" in uses:
        line = ruling(mask.shape, s)[..., None]
        refl = refl * (1 - line) + np.array(LINE) * line
    refl = refl * (1 - mask[..., None]) + ink * mask[..., None]
    if "lighting" in uses:
        refl = refl * illumination(mask.shape, s)[..., None]
    img = Image.fromarray(np.clip(np.rint(refl), 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    if "noise" not in uses:
        img.save(buffer, "PNG")
        return buffer.getvalue(), "png"
    img = np.asarray(img.filter(ImageFilter.GaussianBlur(s["blur"])), float)
    img += np.random.default_rng(s["seed"]).normal(0, s["noise"], img.shape)
    Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB").save(buffer, "JPEG", quality=s["quality"])
    return buffer.getvalue(), "jpg"


def photos(name: str, condition: str, per_class: int = 30, seed: int = 0) -> list[tuple[int, bytes, str]]:
    """Set ``name`` under ``condition``: (label, encoded image, file suffix) per digit, deterministic."""
    out = []
    for i, (label, mask) in enumerate(digits(name, per_class, seed)):
        s = scene(np.random.default_rng([seed, SETS.index(name), i, 1]))
        out.append((label, *photograph(mask, condition, s)))
    return out
