"""Temperature scaling measured on trained models that were saved without it (as ``main`` trained them): T fitted
on the validation split as ``train`` fits it, then the test split scored before and after, as ``evaluate`` scores
it (ECE over 15 bins, NLL, Brier score), with what a user sees: the mean top probability and how many right
answers read 0.99 or more. "After" is the rescaled model's own ``predict``, the path every export inherits.

Prints one JSON object per model.
Command: ``python -m bench.calibration [--models artifacts/models] [--data artifacts/data]``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from digits.data import arrays
from digits.evaluate import metrics
from digits.export import loaders
from digits.train import calibration

MODELS = ("dense", "cnn")


def scores(probs: np.ndarray, labels: np.ndarray) -> dict:
    top, right = probs.max(axis=1), probs.argmax(axis=1) == labels
    return {"accuracy": round(float(right.mean()), 4),
            "ece": round(metrics.expected_calibration_error(probs, labels), 4),
            "nll": round(metrics.nll(probs, labels), 4),
            "brier": round(metrics.brier_score(probs, labels), 4),
            "mean_top_probability": round(float(top.mean()), 4),
            "mean_top_probability_right": round(float(top[right].mean()), 4),
            "mean_top_probability_wrong": round(float(top[~right].mean()), 4),
            "right_answers_at_0.99_or_more": round(float((top[right] >= 0.99).mean()), 4)}


def measure(model_path: Path, data_dir: Path) -> dict:
    model = loaders.load_keras_model(model_path, "train")
    (val_x, val_y), (test_x, test_y) = (arrays.load_split(arrays.split_path(data_dir, s)) for s in ("val", "test"))
    val_x, test_x = arrays.preprocess(val_x), arrays.preprocess(test_x)
    z_test = calibration.logits(model, test_x)
    report = calibration.calibrate(model, val_x, val_y)  # fits T on val and rescales the last layer
    after = model.predict(test_x, batch_size=1000, verbose=0)
    temperature = report["temperature"]
    return {"model": model_path.stem, "val": report,
            "test_before": scores(calibration.softmax(z_test), test_y.astype(np.int64)),
            "test_after": scores(np.asarray(after, np.float64), test_y.astype(np.int64)),
            "argmax_unchanged": bool((after.argmax(axis=1) == z_test.argmax(axis=1)).all()),
            "max_abs_diff_predict_vs_softmax_z_over_T":
                float(np.abs(after - calibration.softmax(z_test / temperature)).max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("artifacts/models"))
    parser.add_argument("--data", type=Path, default=Path("artifacts/data"))
    args = parser.parse_args()
    for name in MODELS:
        print(json.dumps(measure(args.models / f"{name}.keras", args.data)), flush=True)


if __name__ == "__main__":
    main()
