"""Dataset arrays on disk (``.npz``) and the one preprocessing step shared by train, evaluate and predict."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stages.common import atomic_path

SPLITS = ("train", "val", "test")
Arrays = tuple[np.ndarray, np.ndarray]


def split_path(folder: str | Path, split: str) -> Path:
    return Path(folder) / f"{split}.npz"


def save_split(path: str | Path, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]) -> None:
    """Write an ``.npz``; byte for byte the same for the same arrays (a test holds numpy to that), so a rerun of
    ``prepare`` that changes nothing leaves the training stages up to date. The class names travel with the
    data, so later stages need no ``dataset`` param of their own."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(f, images=images, labels=labels, class_names=np.array(class_names, dtype=str))


def load_split(path: str | Path) -> Arrays:
    """Return (images uint8 N×H×W, labels uint8 N) from a ``.npz`` written by ``prepare``."""
    try:
        with np.load(path) as npz:
            return npz["images"], npz["labels"]
    except KeyError as err:
        raise ValueError(f"{path}: missing array {err}, expected 'images' and 'labels'") from None


def load_class_names(path: str | Path) -> tuple[str, ...]:
    """The class names ``prepare`` stored in a split; label ``i`` means ``class_names[i]``."""
    try:
        with np.load(path) as npz:
            return tuple(str(name) for name in npz["class_names"])
    except KeyError:
        raise ValueError(f"{path}: no 'class_names' array; rerun `dvc repro prepare`") from None


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 → float32 0..1; models add their own channel axis (the seed's Reshape layer)."""
    return images.astype(np.float32) / np.float32(255.0)
