"""From the verified IDX files to the arrays the models train on: parsed (capped at each file's size), shuffled with
the seed into train/validation, the test split kept in order, shifted copies of the training split for scale tests,
and a refusal up front when the result would not fit on the disk."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.config import catalog
from digits.config.catalog import find_local
from digits.data.idx import parse_images, parse_labels, read_capped
from digits.runtime.storage import atomic_dir

NPZ_OVERHEAD = 4096  # bytes an .npz adds to its arrays: zip entries, .npy headers, the class names
FREE_MARGIN = 256 << 20  # left free on the disk after the estimate: other writers, the file system's own needs


def read_pair(folders: tuple[Path, ...], dataset: catalog.Dataset, part: str) -> arrays.Arrays:
    """Parse the ``part`` ("train" or "test") images/labels pair, naming the offending file in any error."""
    parsed, paths = [], []
    specs = dataset.files[:2] if part == "train" else dataset.files[2:]
    parsers = (lambda b: parse_images(b, dataset.image_shape, gunzip=False),
               lambda b: parse_labels(b, len(dataset.class_names), gunzip=False))
    for spec, parse in zip(specs, parsers):
        path = find_local(folders, spec)
        if path is None:
            raise ValueError(f"{catalog.not_found(folders, spec)}; run `dvc repro fetch`")
        try:
            parsed.append(parse(read_capped(path, spec.size)))  # a bomb stops at the file's own size
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        paths.append(path)
    if len(parsed[0]) != len(parsed[1]):
        raise ValueError(f"{paths[1]}: {len(parsed[1])} labels, expected {len(parsed[0])} as in {paths[0]}")
    return parsed[0], parsed[1]


def split(train: arrays.Arrays, test: arrays.Arrays, cfg: schema.PrepareConfig, seed: int) -> dict[str, arrays.Arrays]:
    """Shuffle train with ``seed``, cap sizes by the limits, and carve off ``val_fraction`` for validation."""
    order = np.random.default_rng(seed).permutation(len(train[0]))[: cfg.train_limit]
    n_val = int(round(cfg.val_fraction * len(order)))
    if len(order) - n_val < 1:
        raise ValueError(f"prepare.val_fraction={cfg.val_fraction} leaves no training images")
    if n_val < schema.MIN_VAL:
        raise ValueError(f"prepare.val_fraction={cfg.val_fraction} of {len(order)} training images leaves {n_val} "
                         f"for validation; calibration needs at least {schema.MIN_VAL} "
                         "(raise it or prepare.train_limit)")
    val_idx, train_idx = order[:n_val], order[n_val:]
    return {
        "train": (train[0][train_idx], train[1][train_idx]),
        "val": (train[0][val_idx], train[1][val_idx]),
        "test": (test[0][: cfg.test_limit], test[1][: cfg.test_limit]),
    }


def shifted(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by a random whole number of pixels in [-max_shift, max_shift] along each axis; what
    moves in is background (0)."""
    s, (n, height, width) = max_shift, images.shape
    padded = np.pad(images, ((0, 0), (s, s), (s, s)))
    dy, dx = rng.integers(-s, s + 1, size=(2, n))
    out = np.empty_like(images)
    for a in range(-s, s + 1):  # one slice per offset pair: vectorised, (2s+1)² steps
        for b in range(-s, s + 1):
            picked = np.flatnonzero((dy == a) & (dx == b))
            out[picked] = padded[picked, s - a: s - a + height, s - b: s - b + width]
    return out


def output_bytes(splits: dict[str, arrays.Arrays], copies: int) -> int:
    """What ``prepare`` will write: ``copies`` shards of the training split, plus val and test (uncompressed)."""
    size = {name: images.nbytes + labels.nbytes + NPZ_OVERHEAD for name, (images, labels) in splits.items()}
    return copies * size["train"] + size["val"] + size["test"]


def check_space(folder: Path, splits: dict[str, arrays.Arrays], copies: int) -> None:
    """Refuse, before writing anything, ``prepare.copies`` whose output would not fit on ``folder``'s file system
    (the previous arrays stay until the new ones are complete, so they do not count as free)."""
    need = output_bytes(splits, copies)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    if need + FREE_MARGIN > free:
        raise ValueError(f"prepare.copies: {copies} copies of {len(splits['train'][1]):,} training images need "
                         f"about {need / 1e9:.2f} GB in {folder}, but its file system has {free / 1e9:.2f} GB free "
                         f"(and {FREE_MARGIN >> 20} MB is kept free); lower prepare.copies or free some space")


def write_shards(folder: Path, train: arrays.Arrays, cfg: schema.PrepareConfig, seed: int,
                 class_names: tuple[str, ...]) -> None:
    """Shard 0 is ``train``; each further copy is shifted with its own (seed, copy) stream, one copy in memory
    at a time. The folder is replaced whole, so fewer copies than last time leave no stale shards."""
    copies, shift = cfg.copies, cfg.copy_shift
    with atomic_dir(folder) as tmp:
        for copy in range(copies):
            images = train[0] if copy == 0 else shifted(train[0], shift, np.random.default_rng([seed, copy]))
            arrays.save_split(tmp / arrays.shard_path("", copy).name, images, train[1], class_names)
