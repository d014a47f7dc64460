"""A written number ("2026", a postcode) → its digits, left to right, each with its box. Pure numpy.

Works on ``images.sheet_ink`` (the whole sheet's ink, paper and ruling removed). The ink's connected pieces
(``paper.components``) are the start; specks are dropped, and so are marks on the image's edge unlike the digits
(a sheet's or table's edge); pieces sharing most of their columns are one digit (a broken 5, a 4 written in two
strokes); and a piece much wider than a digit is several touching digits, cut at the columns with least ink into
as many as its width suggests. A cut through a column with much ink is a guess, so the digits beside it are
flagged ``merged``: touching digits are never silently read as one.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from digits import paper

CELLS = 400  # long side of the grid pieces are found on: bounds the work, finer than any gap between digits
SPECK = 0.05  # a piece with less than this fraction of the biggest piece's ink is a speck
OVERLAP = 0.5  # pieces sharing this fraction of the narrower one's columns are one digit
WIDE = 1.2  # a piece wider than this × its height is several digits (a digit's is at most about 1)
LONE = 1.5  # ... and a lone piece wider than this (fewer single digits are)
NARROW = 0.6  # a digit other than 1 is at least this × the height wide
DIGIT = 0.75  # a digit's usual width / height, to count the digits in a wide piece when no lone one shows it
CLEAR = 0.35  # a cut column with less than this fraction of the piece's mean column ink is a confident cut


class Digit(NamedTuple):
    box: tuple[int, int, int, int]  # x, y, width, height in the image's pixels
    ink: np.ndarray  # the digit's ink alone, cropped to ``box``
    merged: bool  # cut out of touching digits at a column with much ink: the cut is a guess


def pieces(ink: np.ndarray) -> np.ndarray:
    """H×W labels of the ink's 8-connected pieces (0: paper), found on a grid of at most ``CELLS`` a side."""
    size = max(1, -(-max(ink.shape) // CELLS))
    labels = paper.components(paper.blocks(ink, size, np.sum) > 0)
    full = np.repeat(np.repeat(labels, size, 0), size, 1)[:ink.shape[0], :ink.shape[1]]
    return np.where(ink > 0, full, 0)


def boxes(labels: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each label's box (n×4: x0, y0, x1, y1, ends exclusive) and ink mass; label k is row k - 1."""
    n = labels.max()
    ys, xs = np.nonzero(labels)
    k = labels[ys, xs] - 1
    out = np.zeros((n, 4), int)
    out[:, :2] = np.iinfo(int).max
    for col, coords, op in ((0, xs, np.minimum), (1, ys, np.minimum), (2, xs + 1, np.maximum), (3, ys + 1, np.maximum)):
        op.at(out[:, col], k, coords)
    return out, np.bincount(k, ink[ys, xs], minlength=n)


def kept(box: np.ndarray, mass: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which pieces may be digits: not specks, and not marks on the image's edge taller than the digits' band or
    off it (a sheet's or table's edge), when pieces away from the edge hold ink enough to be the digits."""
    big = mass >= SPECK * mass.max()
    edge = (box[:, 0] == 0) | (box[:, 1] == 0) | (box[:, 2] == shape[1]) | (box[:, 3] == shape[0])
    inner = big & ~edge
    if not inner.any() or mass[inner].max() < 0.25 * mass.max():
        return big  # a tight crop: the digits themselves touch the edge
    top, bottom = box[inner, 1].min(), box[inner, 3].max()
    height = box[:, 3] - box[:, 1]
    shared = np.minimum(box[:, 3], bottom) - np.maximum(box[:, 1], top)
    return big & (~edge | ((height <= 1.5 * (bottom - top)) & (shared >= 0.5 * height)))


def groups(box: np.ndarray) -> list[list[int]]:
    """Pieces (rows of ``box``) gathered into digits by shared columns, left to right."""
    out: list[list[int]] = []
    span: list[list[int]] = []  # each group's x0, x1
    for i in np.argsort(box[:, 0], kind="stable"):
        x0, x1 = box[i, 0], box[i, 2]
        for g, (g0, g1) in enumerate(span):
            if min(x1, g1) - max(x0, g0) >= OVERLAP * min(x1 - x0, g1 - g0):
                out[g].append(int(i))
                span[g] = [min(x0, g0), max(x1, g1)]
                break
        else:
            out.append([int(i)])
            span.append([x0, x1])
    order = np.argsort([s[0] for s in span], kind="stable")
    return [out[g] for g in order]


def cuts(profile: np.ndarray, n: int) -> tuple[list[int], float]:
    """Columns cutting a piece's column ink ``profile`` into ``n`` digits, each the least-inked column near where
    equal widths would cut; and the most ink one cuts through, over the mean column's (clear below ``CLEAR``)."""
    w = len(profile)
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")  # one thin column is no gap
    out, worst = [], 0.0
    for k in range(1, n):
        ideal, reach = k * w / n, 0.35 * w / n
        lo, hi = int(max(1, ideal - reach)), int(min(w - 1, ideal + reach + 1))
        col = lo + int(np.argmin(smooth[lo:hi]))
        out.append(col)
        worst = max(worst, float(smooth[col] / profile[profile > 0].mean()))
    return out, worst


def profile(ink: np.ndarray) -> np.ndarray:
    """Each column's ink weighted by how much of the height it spans: where digits touch, a short blob of ink;
    through a 0 or an 8, two strokes far apart, which a plain column sum would take for the lighter place."""
    inked = ink > 0
    rows = np.arange(ink.shape[0])[:, None]
    top = np.where(inked, rows, ink.shape[0]).min(0)
    bottom = np.where(inked, rows, -1).max(0)
    return ink.sum(axis=0) * np.clip(bottom - top + 1, 0, None) / ink.shape[0]


def split(ink: np.ndarray, x0: int, y0: int, n: int) -> list[Digit]:
    """One group's ink (cropped, at x0, y0 in the image) → ``n`` digits, cut at its columns of least ink."""
    if n == 1 or ink.shape[1] < 3 * n:  # too narrow to hold n digits (a speck's column cannot be cut)
        return [Digit((x0, y0, ink.shape[1], ink.shape[0]), ink, False)]
    at, worst = cuts(profile(ink), n)
    clear = worst <= CLEAR
    out = []
    for a, b in zip([0, *at], [*at, ink.shape[1]]):
        part = ink[:, a:b]
        rows, cols = np.flatnonzero(part.any(1)), np.flatnonzero(part.any(0))
        if len(rows):
            box = (x0 + a + int(cols[0]), y0 + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
            out.append(Digit(box, part[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], not clear))
    return out


def counts(extent: np.ndarray) -> list[int]:
    """How many digits each group (n×2: width, height) holds. Widths are measured against the number's digit
    height (the groups' median: a wide 5 or 2 is also short), and a lone group must be wider still (about 3 in
    1000 of MNIST's digits are 1.5 times wider than tall, 3 in 100 1.2 times). A wide group holds its width over a
    lone digit's (the median of the narrow groups, at least ``NARROW`` of the height: 1s are no measure), at
    least two."""
    tall = np.maximum(extent[:, 1], np.median(extent[:, 1]))
    wide = extent[:, 0] > (WIDE if len(extent) > 1 else LONE) * tall
    unit = np.maximum(np.median(extent[~wide, 0]) if (~wide).any() else DIGIT * tall, NARROW * tall)
    return [max(2, round(w / u)) if is_wide else 1 for w, u, is_wide in zip(extent[:, 0], unit, wide)]


def digits(ink: np.ndarray) -> list[Digit]:
    """The sheet's ink (``images.sheet_ink``) → its digits, left to right; empty if there is no ink."""
    labels = pieces(ink)
    if not labels.any():
        return []
    box, mass = boxes(labels, ink)
    keep = np.flatnonzero(kept(box, mass, ink.shape))
    found = [keep[g] for g in groups(box[keep])]
    spans = np.array([[box[g, 0].min(), box[g, 1].min(), box[g, 2].max(), box[g, 3].max()] for g in found])
    n = counts(np.stack([spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]], axis=1))
    out = []
    for g, (x0, y0, x1, y1), k in zip(found, spans, n):
        own = np.isin(labels[y0:y1, x0:x1], g + 1)  # only this group's pieces, not a neighbour's reaching in
        out += split(np.where(own, ink[y0:y1, x0:x1], 0.0), int(x0), int(y0), k)
    return out
