"""Stage ``plots``: matplotlib PNGs of test images captioned actual → predicted (``digits.evaluate.figures``); the last
stage, so it ends ``dvc repro`` with the summary of the run (``digits.evaluate.summary``).

The curves, confusion matrices, reliability and robustness are drawn by ``dvc plots show`` from the CSVs
themselves (dvc.yaml's ``plots:``), so they are not drawn here a second time.

Inputs: ``artifacts/predictions/<model>.csv``, ``artifacts/data/test.npz``; for the printed summary only (so not DVC
dependencies; missing ones are said, never an error), ``metrics/<model>.json`` and the timings in
``artifacts/timings/stages/``. Outputs: ``artifacts/plots/`` — per model ``samples_<model>.png`` (the first test
images) and ``misclassified_<model>.png`` (the first wrong ones). Command: ``python -m stages.plots``.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.evaluate import figures, summary
from digits.runtime import runner


def main(params: schema.Params) -> None:
    matplotlib.use("Agg")  # files only; no display on CI or servers
    paths, cfg = schema.PATHS, params.plots
    out = Path(paths.plots)
    test_path = arrays.split_path(paths.data, "test")
    (images, labels), class_names = arrays.load_split(test_path), arrays.load_class_names(test_path)
    n = cfg.grid_rows * cfg.grid_cols
    for m in params.models:
        source = Path(paths.predictions) / f"{m}.csv"
        actual, predicted = figures.read_predictions(source, class_names)
        if len(actual) != len(labels) or not np.array_equal(actual, labels):
            raise ValueError(f"{source}: does not match the test set; rerun `dvc repro evaluate@{m}`")
        wrong = np.flatnonzero(actual != predicted)
        shown = wrong[:n]
        figures.save(figures.grid_figure(f"{m}: the first test images, actual → predicted", images[:n], actual,
                                         predicted, class_names, cfg), out / f"samples_{m}.png", cfg.dpi)
        figures.save(figures.grid_figure(f"{m}: {len(wrong)} misclassified, actual → predicted", images[shown],
                                         actual[shown], predicted[shown], class_names, cfg),
                     out / f"misclassified_{m}.png", cfg.dpi)
        print(f"plots: {m}: wrote the samples and misclassified grids")
    print("\n".join(summary.lines(tuple(params.models), runner.process_age())), flush=True)


if __name__ == "__main__":
    runner.run_stage(main)
