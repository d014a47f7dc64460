"""Stage ``plots``: matplotlib PNGs of training curves, confusion matrices and test-image grids.

Inputs: ``artifacts/train/<model>/history.csv``, ``artifacts/predictions/<model>.csv``, ``artifacts/data/test.npz``.
Outputs: ``artifacts/plots/`` — ``curves.png`` (both models), and per model ``confusion_<model>.png``,
``samples_<model>.png`` and ``misclassified_<model>.png``. Command: ``python -m stages.plots``.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from stages import config, data
from stages.common import atomic_path, run_stage
from stages.idx import NUM_CLASSES


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Read a numeric CSV with a header into {column: array}."""
    table = np.genfromtxt(path, delimiter=",", names=True, ndmin=1)
    if table.dtype.names is None or table.size == 0:
        raise ValueError(f"{path}: expected a CSV with a header and at least one row")
    return {name: np.atleast_1d(table[name]) for name in table.dtype.names}


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


def confusion_figure(name: str, actual: np.ndarray, predicted: np.ndarray) -> Figure:
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(counts, (actual.astype(int), predicted.astype(int)), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    im = ax.imshow(counts, cmap="Blues", norm=matplotlib.colors.LogNorm(vmin=1, vmax=max(counts.max(), 2)))
    for (i, j), n in np.ndenumerate(counts):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7,
                    color="white" if n > counts.max() ** 0.5 else "black")
    ax.set(xticks=range(NUM_CLASSES), yticks=range(NUM_CLASSES), xlabel="predicted", ylabel="actual",
           title=f"{name}: confusion matrix (test set)")
    fig.colorbar(im, ax=ax)
    return fig


def grid_figure(title: str, images: np.ndarray, actual: np.ndarray, predicted: np.ndarray,
                cfg: config.PlotsConfig) -> Figure:
    """Images with 'true → predicted' captions, wrong ones in red; empty cells stay blank."""
    fig, axes = plt.subplots(cfg.grid_rows, cfg.grid_cols, figsize=(1.4 * cfg.grid_cols, 1.6 * cfg.grid_rows),
                             squeeze=False, layout="constrained")
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray_r")
            wrong = actual[k] != predicted[k]
            ax.set_title(f"{int(actual[k])} → {int(predicted[k])}", fontsize=9, color="red" if wrong else "black")
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
    images, labels = data.load_split(data.split_path(params.paths.data, "test"))
    histories = {m: read_csv(Path(params.paths.train_logs) / m / "history.csv") for m in params.models}
    save(curves_figure(histories), out / "curves.png", cfg.dpi)
    n = cfg.grid_rows * cfg.grid_cols
    for m in params.models:
        pred = read_csv(Path(params.paths.predictions) / f"{m}.csv")
        actual, predicted = pred["actual"].astype(int), pred["predicted"].astype(int)
        if len(actual) != len(labels) or not np.array_equal(actual, labels):
            raise ValueError(f"{params.paths.predictions}/{m}.csv: does not match the test set; rerun evaluate")
        wrong = np.flatnonzero(actual != predicted)
        shown = wrong[:n]
        save(confusion_figure(m, actual, predicted), out / f"confusion_{m}.png", cfg.dpi)
        save(grid_figure(f"{m}: test images, true → predicted", images[:n], actual, predicted, cfg),
             out / f"samples_{m}.png", cfg.dpi)
        save(grid_figure(f"{m}: {len(wrong)} misclassified", images[shown], actual[shown], predicted[shown], cfg),
             out / f"misclassified_{m}.png", cfg.dpi)
        print(f"plots: {m}: wrote confusion, samples and misclassified grids")


if __name__ == "__main__":
    run_stage(main)
