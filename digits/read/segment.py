"""A written number ("2026", a postcode, or one digit) → its candidate digits, for the model to choose among
(``choice.choose``). Pure numpy.

Works on ``images.sheet_ink`` (the whole sheet's ink, paper and ruling removed). The ink's connected pieces are
found; specks are dropped, and so are marks on the image's edge unlike the digits (a sheet's or table's edge). A
piece wider than ``CUTTABLE`` × the ink's height may be touching digits: it is sliced at the columns of least ink
(candidate cuts). The pieces and slices, left to right, are the *parts*; every run of up to ``RUN`` consecutive
parts no wider than ``WIDEST`` × the height is a candidate digit, with what a prior needs to weigh it: its width,
the widest gap between its parts, the ink of the cut on its right. Whether a 5 in two strokes is one digit or two
is not decided here: the model reads every candidate and ``choice.choose`` picks the best partition.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from digits.read import sheet

CELLS = 400  # long side of the grid pieces are found on: bounds the work, finer than any gap between digits
SPECK = 0.05  # a piece with less than this fraction of the biggest piece's ink is a speck
CUTTABLE = 1.0  # a piece wider than this × the height may hold touching digits
EDGE = 0.12  # no cut nearer than this × the height to a piece's end (a 1 is about this wide)
SPACING = 0.15  # cuts at least this × the height apart
RUN = 4  # parts in a candidate at most (a digit in up to four strokes or slices)
WIDEST = 1.6  # a candidate wider than this × the height is no digit (MNIST's widest: about 1.5)
CLEAR = 0.35  # a cut through less than this fraction of the piece's mean column ink is a clean cut


class Part(NamedTuple):
    label: int  # the piece's label in ``pieces``
    x0: int  # its columns in the image, end exclusive: the whole piece's, or a slice's
    x1: int
    cut: float  # ink of the cut at its right end over the piece's mean column ink; 0 at the piece's own end
    cut_left: float  # the same at its left end


class Candidate(NamedTuple):
    start: int  # parts[start:stop]
    stop: int
    box: tuple[int, int, int, int]  # x, y, width, height in the image's pixels
    ink: np.ndarray  # its ink alone, cropped to ``box``
    width: float  # box width over the ink's height
    tall: float  # box height over the ink's height
    gap: float  # widest run of empty columns between its parts, over the height
    cut: float  # ``Part.cut`` of its last part: what ending here cuts through
    merged: bool  # it is bounded by a cut through much ink (> CLEAR): where it ends is a guess


class Reading(NamedTuple):
    """An image's candidate digits brought to MNIST's form, before any model sees them."""
    name: str
    parts: int  # pieces and slices of ink, left to right (``candidates``)
    candidates: list[Candidate]
    fields: np.ndarray  # N×28×28, one per candidate
    size: list[int]  # width, height of the grey levels read


def pieces(ink: np.ndarray) -> np.ndarray:
    """H×W labels of the ink's 8-connected pieces (0: paper), found on a grid of at most ``CELLS`` a side."""
    size = max(1, -(-max(ink.shape) // CELLS))
    labels = sheet.components(sheet.blocks(ink, size, np.sum) > 0)
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


def profile(ink: np.ndarray) -> np.ndarray:
    """Each column's ink weighted by how much of the height it spans: where digits touch, a short blob of ink;
    through a 0 or an 8, two strokes far apart, which a plain column sum would take for the lighter place."""
    inked = ink > 0
    rows = np.arange(ink.shape[0])[:, None]
    top = np.where(inked, rows, ink.shape[0]).min(0)
    bottom = np.where(inked, rows, -1).max(0)
    return ink.sum(axis=0) * np.clip(bottom - top + 1, 0, None) / ink.shape[0]


def cuts(column_ink: np.ndarray, height: int) -> list[tuple[int, float]]:
    """Candidate cuts through one piece (its ``profile``): the local minima of the smoothed column ink, at least
    ``EDGE`` × height from either end and ``SPACING`` × height apart, the least inked first kept; each with its
    ink over the mean inked column."""
    w = len(column_ink)
    if w <= CUTTABLE * height:
        return []
    reach = max(1, round(0.02 * height))  # one thin column is no gap
    smooth = np.convolve(column_ink, np.ones(2 * reach + 1) / (2 * reach + 1), mode="same")
    edge, spacing = max(2, round(EDGE * height)), max(2, round(SPACING * height))
    inner = np.arange(edge, w - edge)
    if not len(inner):
        return []
    left, right = smooth[inner - 1], smooth[np.minimum(inner + 1, w - 1)]
    minima = inner[(smooth[inner] <= left) & (smooth[inner] <= right)]
    chosen: list[int] = []
    for col in minima[np.argsort(smooth[minima], kind="stable")]:
        if all(abs(col - c) >= spacing for c in chosen):
            chosen.append(int(col))
    mean = column_ink[column_ink > 0].mean()
    return [(c, float(smooth[c] / mean)) for c in sorted(chosen)]


def parts(labels: np.ndarray, ink: np.ndarray, box: np.ndarray, keep: np.ndarray, height: int) -> list[Part]:
    """The kept pieces, each sliced at its candidate cuts, ordered left to right (by left edge, then right)."""
    out = []
    for k in keep:
        x0, y0, x1, y1 = box[k]
        own = np.where(labels[y0:y1, x0:x1] == k + 1, ink[y0:y1, x0:x1], 0.0)
        at = cuts(profile(own), height)
        ends = [x0 + c for c, _ in at] + [x1]
        inks = [v for _, v in at]
        out += [Part(int(k + 1), int(a), int(b), right, left)
                for a, b, right, left in zip([x0, *ends[:-1]], ends, [*inks, 0.0], [0.0, *inks])]
    return sorted(out, key=lambda p: (p.x0, p.x1))


def candidate(labels: np.ndarray, ink: np.ndarray, run: list[Part], start: int, height: int, whole: int
              ) -> Candidate | None:
    """The candidate digit made of ``run`` (consecutive parts from ``start``), or None if several parts are too
    wide for one digit. A part alone is a candidate (so every partition exists), and so is all the ink (``whole``
    parts: one wide digit)."""
    x0, x1 = min(p.x0 for p in run), max(p.x1 for p in run)
    if 1 < len(run) < whole and x1 - x0 > WIDEST * height:  # a part alone, and all the ink, are always one
        return None
    cols = np.arange(x0, x1)
    own = np.zeros(labels[:, x0:x1].shape, bool)
    for p in run:
        own |= (labels[:, x0:x1] == p.label) & ((cols >= p.x0) & (cols < p.x1))[None, :]
    rows = np.flatnonzero(own.any(1))
    covered = np.concatenate([[True], own.any(0), [True]])
    gap = np.diff(np.flatnonzero(covered)).max() - 1  # the widest run of empty columns inside
    top, tall = int(rows[0]), int(rows[-1] - rows[0] + 1)
    return Candidate(start, start + len(run), (int(x0), top, int(x1 - x0), tall),
                     np.where(own, ink[:, x0:x1], 0.0)[top:top + tall], (x1 - x0) / height, tall / height,
                     float(gap / height), run[-1].cut, False)


def candidates(ink: np.ndarray) -> tuple[int, list[Candidate]]:
    """The sheet's ink (``images.sheet_ink``) → (how many parts, every candidate digit); no parts if no ink."""
    labels = pieces(ink)
    if not labels.any():
        return 0, []
    box, mass = boxes(labels, ink)
    keep = np.flatnonzero(kept(box, mass, ink.shape))
    height = max(1, int(box[keep, 3].max() - box[keep, 1].min()))
    found = parts(labels, ink, box, keep, height)
    out = []
    runs = [(i, j) for i in range(len(found)) for j in range(i + 1, min(i + RUN, len(found)) + 1)]
    if len(found) > RUN:
        runs.append((0, len(found)))
    for i, j in runs:
        c = candidate(labels, ink, found[i:j], i, height, len(found))
        if c is not None:
            out.append(c._replace(merged=max(found[i].cut_left, c.cut) > CLEAR))
    return len(found), out
