"""Marks on paper that are not digits, as ink coverage 0..1 of an H×W sheet, for ``digits.nondigit.nondigits``: letters
drawn with a pen, lines and shapes (the strokes ``strokes.place`` bends, slants and places as it does a digit's),
words typed in a handwriting font, noise and paper texture. Pure functions of their arguments and ``rng``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from digits.synthetic import fonts, strokes

Strokes = list[list[tuple[float, float]]]  # polylines in a unit box, x right, y down, 1 tall (as strokes.shapes)

# Capitals a person draws with a pen; none is read as a digit by people (O, I, S, Z and B would be: left out here,
# typed in ``letters`` instead, where they are reported apart).
DRAWN: dict[str, Strokes] = {
    "A": [[(.1, 1), (.5, 0), (.9, 1)], [(.27, .62), (.73, .62)]],
    "C": [strokes.arc(.55, .5, .38, .5, -40, -320)],
    "E": [[(.8, 0), (.2, 0), (.2, 1), (.8, 1)], [(.2, .5), (.65, .5)]],
    "F": [[(.8, 0), (.2, 0), (.2, 1)], [(.2, .48), (.65, .48)]],
    "H": [[(.2, 0), (.2, 1)], [(.8, 0), (.8, 1)], [(.2, .5), (.8, .5)]],
    "K": [[(.2, 0), (.2, 1)], [(.8, 0), (.22, .55), (.85, 1)]],
    "L": [[(.25, 0), (.25, 1), (.8, 1)]],
    "M": [[(.05, 1), (.12, 0), (.5, .62), (.88, 0), (.95, 1)]],
    "N": [[(.2, 1), (.2, 0), (.8, 1), (.8, 0)]],
    "T": [[(.08, 0), (.92, 0)], [(.5, 0), (.5, 1)]],
    "U": [[(.2, 0), (.2, .62)] + strokes.arc(.5, .64, .3, .36, 180, 0) + [(.8, 0)]],
    "V": [[(.1, 0), (.5, 1), (.9, 0)]],
    "W": [[(.02, 0), (.26, 1), (.5, .3), (.74, 1), (.98, 0)]],
    "X": [[(.12, 0), (.88, 1)], [(.88, 0), (.12, 1)]],
    "Y": [[(.1, 0), (.5, .48), (.9, 0)], [(.5, .48), (.5, 1)]],
}
LINES: dict[str, Strokes] = {
    "horizontal": [[(0, .5), (1, .5)]],
    "long": [[(-1.2, .5), (2.2, .5)]],  # across most of the sheet, as a rule under a line of text
    "vertical": [[(.5, 0), (.5, 1)]],  # a 1 to anyone: reported apart, as the look-alike letters are
    "diagonal": [[(-.2, 1), (1.2, 0)]],
    "double": [[(0, .35), (1, .35)], [(0, .65), (1, .65)]],
    "wavy": [[(x, .5 + .15 * np.sin(x * 4 * np.pi)) for x in np.linspace(-.3, 1.3, 40)]],
}
_STAR = [(.5 + .5 * r * np.sin(a), .5 - .5 * r * np.cos(a))
         for a, r in zip(np.linspace(0, 2 * np.pi, 11), [1, .4] * 5 + [1])]
_SPIRAL = [(.5 + .5 * t / 19 * np.cos(t), .5 + .5 * t / 19 * np.sin(t)) for t in np.linspace(.5, 19, 90)]
SHAPES: dict[str, Strokes] = {
    "square": [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]],
    "triangle": [[(.5, 0), (1, 1), (0, 1), (.5, 0)]],
    "star": [_STAR],
    "cross": [[(.5, 0), (.5, 1)], [(0, .5), (1, .5)]],
    "spiral": [_SPIRAL],
    "scribble": [],  # drawn from the item's own random stream: ``scribble``
}
NOISE = ("speckle", "blotches", "dots", "smudge", "grain", "hatching")


def scribble(rng: np.random.Generator) -> Strokes:
    """A pen scribbled to and fro: 10-20 random points joined, smoothed into curves."""
    pts = rng.uniform(0, 1, (int(rng.integers(10, 21)), 2))
    t = np.linspace(0, len(pts) - 1, 12 * len(pts))
    return [list(zip(np.interp(t, np.arange(len(pts)), pts[:, 0]), np.interp(t, np.arange(len(pts)), pts[:, 1])))]


def pen(shape: Strokes, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """``shape`` drawn as ``strokes.pen_mask`` draws a digit; the pen 3-12% of the mark's larger side (a bar's
    height is no measure of the pen)."""
    placed = strokes.place(shape, rng, size)
    every = np.concatenate(placed)
    pen_width = max(1.5, max(np.ptp(every[:, 0]), np.ptp(every[:, 1]), 1.0) * rng.uniform(0.03, 0.12))
    return strokes.ink(placed, pen_width, size)


def text(words: str, size: tuple[int, int], rng: np.random.Generator, font: Path) -> np.ndarray:
    """``words`` typed in ``font`` at most 85% of the sheet's width and 15-45% of its height, turned a little."""
    h, w = size
    img = fonts.glyph(words, font, 120)
    scale = min(0.85 * w / img.width, rng.uniform(0.15, 0.45) * h / img.height)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS)
    img = img.rotate(rng.uniform(-6, 6), Image.Resampling.BILINEAR, expand=True)
    gh, gw = min(img.height, h), min(img.width, w)
    top, left = int(rng.integers(0, h - gh + 1)), int(rng.integers(0, w - gw + 1))
    out = np.zeros(size)
    out[top:top + gh, left:left + gw] = np.asarray(img, np.float64)[:gh, :gw] / 255.0
    return out


def field(size: tuple[int, int], rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Smooth random field, 0..1 (white noise blurred with ``sigma`` pixels, stretched to its range)."""
    f = ndimage.gaussian_filter(rng.normal(size=size), sigma)
    return (f - f.min()) / max(np.ptp(f), 1e-9)


def texture(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Paper's own grain and fibres: a faint mottle, 2-8% coverage at its darkest."""
    return rng.uniform(0.02, 0.08) * (0.6 * field(size, rng, rng.uniform(1, 4)) + 0.4 * rng.random(size))


def noise(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """One of ``NOISE``: specks of dust, ink blotches, dots, a thumb's smudge, sensor-like grain, hatching."""
    h, w = size
    if kind == "speckle":
        return (rng.random(size) < rng.uniform(0.005, 0.03)) * rng.uniform(0.3, 1.0, size)
    if kind == "blotches":
        f = field(size, rng, rng.uniform(3, 8))
        return np.clip((f - np.quantile(f, 1 - rng.uniform(0.04, 0.15))) * 12, 0, 1)
    if kind == "dots":
        ys, xs = np.indices(size)
        out = np.zeros(size)
        for _ in range(int(rng.integers(3, 13))):
            r, cy, cx = rng.uniform(0.015, 0.05) * min(size), rng.uniform(0, h), rng.uniform(0, w)
            out = np.maximum(out, np.clip(r + 0.5 - np.hypot(ys - cy, xs - cx), 0, 1))
        return out
    if kind == "smudge":
        ys, xs = np.indices(size)
        cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, rng.uniform(0.1, 0.3) * min(size)
        return rng.uniform(0.3, 0.7) * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r)) * field(size, rng, 2)
    if kind == "grain":
        return rng.uniform(0.1, 0.35) * rng.random(size) * field(size, rng, rng.uniform(5, 15))
    n, angle = int(rng.integers(5, 15)), rng.uniform(0.3, 1.2)  # hatching: short parallel strokes
    shape = [[(x, 0.0), (x + angle * 0.4, 1.0)] for x in np.linspace(0, 1, n)]
    return pen(shape, size, rng)
