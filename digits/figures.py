"""The pipeline's figures with matplotlib: training curves, reliability diagrams, confusion matrices, grids of test
images with their true and predicted classes; and reading the CSVs they are drawn from."""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from digits import config, metrics
from digits.storage import atomic_path


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Read a numeric CSV with a header into {column: array}."""
    table = np.genfromtxt(path, delimiter=",", names=True, ndmin=1)
    if table.dtype.names is None or table.size == 0:
        raise ValueError(f"{path}: expected a CSV with a header and at least one row")
    return {name: np.atleast_1d(table[name]) for name in table.dtype.names}


def read_predictions(path: Path, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) class indices from ``evaluate``'s CSV of class names."""
    index = {name: i for i, name in enumerate(class_names)}
    with path.open(newline="") as f:
        try:
            rows = [(index[r["actual"]], index[r["predicted"]]) for r in csv.DictReader(f)]
        except KeyError as err:
            raise ValueError(f"{path}: unknown class or column {err}; rerun evaluate") from None
    return np.array([a for a, _ in rows], int), np.array([p for _, p in rows], int)


def curves_figure(histories: dict[str, dict[str, np.ndarray]]) -> Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for name, hist in histories.items():
            line, = ax.plot(hist["epoch"], hist[metric], "--", label=f"{name} train")
            if "val_" + metric in hist and not np.isnan(hist["val_" + metric]).all():
                ax.plot(hist["epoch"], hist["val_" + metric], color=line.get_color(), label=f"{name} val")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def reliability_figure(tables: dict[str, dict[str, np.ndarray]]) -> Figure:
    """Accuracy against mean confidence per bin of the top probability (``evaluate``'s reliability CSVs); empty
    bins are left out. On the diagonal, a model is right as often as it says."""
    fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    ax.plot([0, 1], [0, 1], ":", color="gray", label="right as often as it says")
    for name, table in tables.items():
        full = table["count"] > 0
        images = int(table["count"].sum())
        ax.plot(table["confidence"][full], table["accuracy"][full], "o-", label=f"{name} ({images} images)")
    ax.set(xlabel="confidence (top probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.02),
           title="reliability (test set, calibrated)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def confusion_figure(name: str, actual: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> Figure:
    n = len(class_names)
    counts = metrics.confusion_counts(actual, predicted, n)
    fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    im = ax.imshow(counts, cmap="Blues", norm=matplotlib.colors.LogNorm(vmin=1, vmax=max(counts.max(), 2)))
    for (i, j), count in np.ndenumerate(counts):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                    color="white" if count > counts.max() ** 0.5 else "black")
    ax.set_xticks(range(n), labels=class_names, rotation=90 if max(map(len, class_names)) > 2 else 0)
    ax.set_yticks(range(n), labels=class_names)
    ax.set(xlabel="predicted", ylabel="actual", title=f"{name}: confusion matrix (test set)")
    fig.colorbar(im, ax=ax)
    return fig


def grid_figure(title: str, images: np.ndarray, actual: np.ndarray, predicted: np.ndarray,
                class_names: tuple[str, ...], cfg: config.PlotsConfig) -> Figure:
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
