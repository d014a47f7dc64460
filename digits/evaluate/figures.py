"""The pipeline's matplotlib figures: grids of test images with their true and predicted classes, and reading
``evaluate``'s CSV of predictions they are captioned from. (The curves and matrices are vega charts that
``dvc plots show`` draws from the CSVs: dvc.yaml's ``plots:``.)"""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from digits.config import schema
from digits.runtime.storage import atomic_path


def read_predictions(path: Path, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) class indices from ``evaluate``'s CSV of class names."""
    index = {name: i for i, name in enumerate(class_names)}
    with path.open(newline="") as f:
        try:
            rows = [(index[r["actual"]], index[r["predicted"]]) for r in csv.DictReader(f)]
        except KeyError as err:
            raise ValueError(f"{path}: unknown class or column {err}; rerun evaluate") from None
    return np.array([a for a, _ in rows], int), np.array([p for _, p in rows], int)


def grid_figure(title: str, images: np.ndarray, actual: np.ndarray, predicted: np.ndarray,
                class_names: tuple[str, ...], cfg: schema.PlotsConfig) -> Figure:
    """Images with 'true → predicted' captions, wrong ones in red; empty cells stay blank."""
    fig, axes = plt.subplots(cfg.grid_rows, cfg.grid_cols, figsize=(1.4 * cfg.grid_cols, 1.6 * cfg.grid_rows),
                             squeeze=False, layout="constrained")
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray_r")
            wrong = actual[k] != predicted[k]
            caption = f"{class_names[actual[k]]} → {class_names[predicted[k]]}"
            ax.set_title(caption, fontsize=9 if len(caption) < 12 else 6, color="red" if wrong else "black")
    fig.suptitle(title)
    return fig


def save(fig: Figure, path: Path, dpi: int) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
