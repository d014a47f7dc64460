"""Dataset arrays on disk (``.npz``) and the one preprocessing step shared by train, evaluate and predict."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stages.common import atomic_path

SPLITS = ("train", "val", "test")
Arrays = tuple[np.ndarray, np.ndarray]


def split_path(folder: str | Path, split: str) -> Path:
    return Path(folder) / f"{split}.npz"


def save_split(path: str | Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Write an ``.npz``; byte for byte the same for the same arrays (a test holds numpy to that), so a rerun of
    ``prepare`` that changes nothing leaves the training stages up to date."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(f, images=images, labels=labels)


def load_split(path: str | Path) -> Arrays:
    """Return (images uint8 N×H×W, labels uint8 N) from a ``.npz`` written by ``prepare``."""
    try:
        with np.load(path) as npz:
            return npz["images"], npz["labels"]
    except KeyError as err:
        raise ValueError(f"{path}: missing array {err}, expected 'images' and 'labels'") from None


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 → float32 0..1; models add their own channel axis (the seed's Reshape layer)."""
    return images.astype(np.float32) / np.float32(255.0)
