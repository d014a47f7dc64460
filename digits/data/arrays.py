"""Dataset arrays on disk (``.npz``) and the one preprocessing step shared by train, evaluate and predict.

``val`` and ``test`` are one file each; ``train`` is a folder of shards (``train/00000.npz``, ...), one per copy of
the training split (``prepare.copies``), so that training can stream data that does not fit in memory.
"""
from __future__ import annotations

import contextlib
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

from digits.runtime.storage import atomic_path

SPLITS = ("train", "val", "test")
Arrays = tuple[np.ndarray, np.ndarray]


def split_path(folder: str | Path, split: str) -> Path:
    """``val.npz`` or ``test.npz``; for ``train``, the folder of shards."""
    return Path(folder) / (split if split == "train" else f"{split}.npz")


def shard_path(folder: str | Path, index: int) -> Path:
    return split_path(folder, "train") / f"{index:05d}.npz"


def train_shards(folder: str | Path) -> list[Path]:
    """The training shards ``prepare`` wrote, in order; at least one."""
    shards = sorted(split_path(folder, "train").glob("[0-9]*.npz"))
    if not shards:
        raise ValueError(f"{split_path(folder, 'train')}: no training shards (00000.npz, ...); run `dvc repro prepare`")
    return shards


def save_split(path: str | Path, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]) -> None:
    """Write an ``.npz``; byte for byte the same for the same arrays (a test holds numpy to that), so a rerun of
    ``prepare`` that changes nothing leaves the training stages up to date. The class names travel with the
    data, so later stages need no ``dataset`` param of their own."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(f, images=images, labels=labels, class_names=np.array(class_names, dtype=str))


@contextlib.contextmanager
def npz_arrays(path: str | Path, stage: str = "prepare",
               expected: str = "'images', 'labels' and 'class_names'") -> Iterator[np.lib.npyio.NpzFile]:
    """A stage's ``.npz`` (by default a split, written by ``prepare``), opened; a missing, cut-off or overwritten
    file, or a missing array, is one error naming the file and ``stage``, which makes it."""
    if not Path(path).is_file():
        raise OSError(f"{path}: not found; run `dvc repro {stage}`")
    try:
        with np.load(path, allow_pickle=False) as npz:
            yield npz
    except KeyError as err:
        raise ValueError(f"{path}: missing array {err}, expected {expected}; rerun `dvc repro {stage}`") from None
    # numpy and zipfile fail on a damaged file in several ways (BadZipFile, EOFError, a ValueError from the
    # .npy header, zlib.error): all mean the file is not what the stage wrote.
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError) as err:
        raise ValueError(f"{path}: cannot read it ({type(err).__name__}: {' '.join(str(err).split())[:120]}); "
                         f"rerun `dvc repro {stage}`") from None


def load_split(path: str | Path) -> Arrays:
    """Return (images uint8 N×H×W, labels uint8 N) from a ``.npz`` written by ``prepare``."""
    with npz_arrays(path) as npz:
        return npz["images"], npz["labels"]


def split_size(path: str | Path) -> int:
    """The number of images in a split, reading only its labels."""
    with npz_arrays(path) as npz:
        return len(npz["labels"])


def load_class_names(path: str | Path) -> tuple[str, ...]:
    """The class names ``prepare`` stored in a split; label ``i`` means ``class_names[i]``."""
    with npz_arrays(path) as npz:
        return tuple(str(name) for name in npz["class_names"])


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 → float32 0..1; models add their own channel axis (the seed's Reshape layer).
    Takes a numpy array, or a TensorFlow tensor inside a ``tf.data`` pipeline (``digits.train.inputs``), with equal
    results."""
    if isinstance(images, np.ndarray):
        return images.astype(np.float32) / np.float32(255.0)
    import tensorflow as tf  # only reached with a tensor, so TensorFlow is loaded already; prepare never imports it
    return tf.cast(images, tf.float32) / 255.0
