"""The sheet a digit is written on, for ``digits.read.images.ink``: uneven light, ruled lines, specks (numpy, and
``scipy.ndimage`` for the ink's connected components).

A phone photo is lit unevenly (a gradient, a dark corner), so one paper shade for the whole image, read from its
border, makes a shadow "ink"; the paper may be lined or squared; and the digit need not be centred, with specks
and the sheet's edge elsewhere. ``background`` estimates the paper's own level everywhere, ``ruling`` the thin
full-width lines printed on it, and ``digit`` keeps the ink that forms the digit.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

GRID = 16  # blocks across the shorter side for the background: finer than any lighting, coarser than a stroke
REACH = 3  # blocks either side in the opening: a window of 7/16 of the short side, wider than any stroke or blob
FAINT = 0.5  # a full-width line fainter than this fraction of the ink is ruling; stronger, it is a stroke
COVER = 20  # percentile of a row's levels: a ruled line covers more than 80% of the row, a digit's bar less
CELLS = 200  # long side of the grid components are found on: bounds the work whatever the image
NEAR = 0.25  # a piece within this fraction of the digit's size from its box belongs to it (a broken stroke)
PIECE = 0.05  # ... if it has at least this fraction of the digit's ink; smaller ones are specks


def blocks(img: np.ndarray, size: int, reduce) -> np.ndarray:
    """``reduce`` (np.percentile-like, taking ``axis``) of each size×size block; edge blocks padded by repetition."""
    h, w = -(-img.shape[0] // size) * size, -(-img.shape[1] // size) * size
    padded = np.pad(img, ((0, h - img.shape[0]), (0, w - img.shape[1])), mode="edge")
    cells = padded.reshape(h // size, size, w // size, size).transpose(0, 2, 1, 3)
    return reduce(cells.reshape(h // size, w // size, -1), -1)


def spread(grid: np.ndarray, reach: int, op) -> np.ndarray:
    """``op`` (np.minimum, np.maximum) over a (2·reach+1)² window, separable, the edges repeated."""
    for axis in (0, 1):
        padded = np.pad(grid, [(reach, reach) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        n = grid.shape[axis]
        grid = op.reduce([np.take(padded, range(k, k + n), axis=axis) for k in range(2 * reach + 1)])
    return grid


def background(levels: np.ndarray) -> np.ndarray:
    """The paper's level under every pixel (ink bright, paper dark: H×W float), as a grey opening of the image:
    each block's dark (paper) level, the darkest around it so no stroke is taken for paper, then the brightest
    of those so a shadow's slope is followed, smoothed and interpolated back to full size."""
    size = max(1, min(levels.shape) // GRID)
    grid = blocks(levels, size, lambda a, axis: np.percentile(a, 25, axis=axis))
    grid = spread(spread(grid, REACH, np.minimum), REACH, np.maximum)
    grid = (spread(grid, 1, np.maximum) + spread(grid, 1, np.minimum) + 2 * grid) / 4  # soften the steps
    return upsample(grid, levels.shape, size)


def upsample(grid: np.ndarray, shape: tuple[int, int], size: int) -> np.ndarray:
    """Bilinear interpolation of block values (at the blocks' centres) to every pixel."""
    def axis(n_out: int, n_in: int) -> np.ndarray:
        pos = np.clip((np.arange(n_out) + 0.5) / size - 0.5, 0, n_in - 1)
        low = np.floor(pos).astype(int)
        high, frac = np.minimum(low + 1, n_in - 1), pos - low
        m = np.zeros((n_out, n_in))
        m[np.arange(n_out), low] += 1 - frac
        m[np.arange(n_out), high] += frac
        return m
    return axis(shape[0], grid.shape[0]) @ grid @ axis(shape[1], grid.shape[1]).T


def ruling(flat: np.ndarray) -> np.ndarray:
    """The ruled lines of ``flat`` (ink 0..1 on a flat background): a row's or column's level where it is inked
    almost all along, fainter than the ink; zero elsewhere."""
    limit = FAINT * flat.max()
    rows, cols = (np.percentile(flat, COVER, axis=a) for a in (1, 0))
    rows, cols = np.where(rows < limit, rows, 0), np.where(cols < limit, cols, 0)
    return np.maximum(rows[:, None], cols[None, :])


def components(mask: np.ndarray) -> np.ndarray:
    """8-connected components of a boolean mask: H×W int labels, 0 for background, 1.. for each component."""
    return ndimage.label(mask, structure=np.ones((3, 3), bool))[0]


def digit(ink: np.ndarray) -> np.ndarray:
    """The pixels of ``ink`` (H×W, 0 where no ink) that form the digit: the component with the most ink, away from
    the edge if any sizeable one is (a sheet's edge, a ruled line and a shadow touch it), and any sizeable piece
    beside it; specks and far marks are cleared. Components are found on a grid of at most ``CELLS`` a side."""
    size = max(1, -(-max(ink.shape) // CELLS))
    grid = blocks(ink, size, np.sum)
    labels = components(grid > 0)
    mass = np.bincount(labels.ravel(), grid.ravel())
    mass[0] = 0
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inner = mass.copy()
    inner[edge] = 0
    pool = inner if inner.max() >= 0.25 * mass.max() else mass
    main = int(pool.argmax())
    ys, xs = np.nonzero(labels == main)
    my, mx = NEAR * (np.ptp(ys) + 1), NEAR * (np.ptp(xs) + 1)
    near = np.unique(labels[max(0, int(ys.min() - my)):int(ys.max() + my) + 1,
                            max(0, int(xs.min() - mx)):int(xs.max() + mx) + 1])
    keep = [k for k in near if k and pool[k] >= PIECE * pool[main]]
    chosen = np.isin(labels, keep)
    return ink * np.repeat(np.repeat(chosen, size, 0), size, 1)[:ink.shape[0], :ink.shape[1]]
