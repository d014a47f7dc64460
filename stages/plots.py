"""Stage ``plots``: matplotlib PNGs of training curves, confusion matrices and test-image grids.

Inputs: ``artifacts/train/<model>/history.csv``, ``artifacts/predictions/<model>.csv``, ``artifacts/data/test.npz``.
Outputs: ``artifacts/plots/`` — ``curves.png`` (both models), and per model ``confusion_<model>.png``,
``samples_<model>.png`` and ``misclassified_<model>.png``. Command: ``python -m stages.plots``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from stages import config, data
from stages.common import atomic_path, run_stage


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


def confusion_figure(name: str, actual: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> Figure:
    n = len(class_names)
    counts = np.zeros((n, n), np.int64)
    np.add.at(counts, (actual, predicted), 1)
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


def main() -> None:
    matplotlib.use("Agg")  # files only; no display on CI or servers
    params = config.load_params()
    out, cfg = Path(params.paths.plots), params.plots
    test_path = data.split_path(params.paths.data, "test")
    (images, labels), class_names = data.load_split(test_path), data.load_class_names(test_path)
    histories = {m: read_csv(Path(params.paths.train_logs) / m / "history.csv") for m in params.models}
    save(curves_figure(histories), out / "curves.png", cfg.dpi)
    n = cfg.grid_rows * cfg.grid_cols
    for m in params.models:
        actual, predicted = read_predictions(Path(params.paths.predictions) / f"{m}.csv", class_names)
        if len(actual) != len(labels) or not np.array_equal(actual, labels):
            raise ValueError(f"{params.paths.predictions}/{m}.csv: does not match the test set; rerun evaluate")
        wrong = np.flatnonzero(actual != predicted)
        shown = wrong[:n]
        save(confusion_figure(m, actual, predicted, class_names), out / f"confusion_{m}.png", cfg.dpi)
        save(grid_figure(f"{m}: test images, true → predicted", images[:n], actual, predicted, class_names, cfg),
             out / f"samples_{m}.png", cfg.dpi)
        save(grid_figure(f"{m}: {len(wrong)} misclassified", images[shown], actual[shown], predicted[shown],
                         class_names, cfg),
             out / f"misclassified_{m}.png", cfg.dpi)
        print(f"plots: {m}: wrote confusion, samples and misclassified grids")


if __name__ == "__main__":
    run_stage(main)
