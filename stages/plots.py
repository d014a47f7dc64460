"""Stage ``plots``: matplotlib PNGs of training curves, confusion matrices and test-image grids (``digits.figures``);
the last stage, so it ends ``dvc repro`` with the summary of the run (``digits.summary``).

Inputs: ``artifacts/train/<model>/history.csv``, ``artifacts/predictions/<model>.csv`` and
``<model>_reliability.csv``, ``artifacts/data/test.npz``; for the printed summary only (so not DVC dependencies;
missing ones are said, never an error), ``metrics/<model>.json`` and the timings in ``artifacts/timings/stages/``.
Outputs: ``artifacts/plots/`` — ``curves.png`` and ``reliability.png`` (both models), and per model
``confusion_<model>.png``, ``samples_<model>.png`` and ``misclassified_<model>.png``. Command: ``python -m stages.plots``.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from digits import config, data, figures, runner, summary


def main(params: config.Params) -> None:
    matplotlib.use("Agg")  # files only; no display on CI or servers
    paths, cfg = config.PATHS, params.plots
    out = Path(paths.plots)
    test_path = data.split_path(paths.data, "test")
    (images, labels), class_names = data.load_split(test_path), data.load_class_names(test_path)
    histories = {m: figures.read_csv(Path(paths.train_logs) / m / "history.csv") for m in params.models}
    figures.save(figures.curves_figure(histories), out / "curves.png", cfg.dpi)
    reliability = {m: figures.read_csv(Path(paths.predictions) / f"{m}_reliability.csv") for m in params.models}
    figures.save(figures.reliability_figure(reliability), out / "reliability.png", cfg.dpi)
    n = cfg.grid_rows * cfg.grid_cols
    for m in params.models:
        source = Path(paths.predictions) / f"{m}.csv"
        actual, predicted = figures.read_predictions(source, class_names)
        if len(actual) != len(labels) or not np.array_equal(actual, labels):
            raise ValueError(f"{source}: does not match the test set; rerun `dvc repro evaluate@{m}`")
        wrong = np.flatnonzero(actual != predicted)
        shown = wrong[:n]
        figures.save(figures.confusion_figure(m, actual, predicted, class_names), out / f"confusion_{m}.png", cfg.dpi)
        figures.save(figures.grid_figure(f"{m}: test images, true → predicted", images[:n], actual, predicted,
                                         class_names, cfg), out / f"samples_{m}.png", cfg.dpi)
        figures.save(figures.grid_figure(f"{m}: {len(wrong)} misclassified", images[shown], actual[shown],
                                         predicted[shown], class_names, cfg), out / f"misclassified_{m}.png", cfg.dpi)
        print(f"plots: {m}: wrote confusion, samples and misclassified grids")
    print("\n".join(summary.lines(tuple(params.models), runner.process_age())), flush=True)


if __name__ == "__main__":
    runner.run_stage(main)
