"""Stage ``evaluate@<model>``: score a trained model on the test set.

Inputs: ``artifacts/models/<model>.keras``, ``artifacts/data/test.npz``.
Outputs: ``artifacts/metrics/<model>.json`` (accuracy, loss, per-class precision/recall/F1, macro F1,
parameter count, test images: quality only, so ``dvc metrics diff`` shows no timing noise) and
``artifacts/predictions/<model>.csv`` (actual, predicted class names: the confusion matrix's data). The inference
images/second go to ``artifacts/timings/evaluate_<model>.json``, neither a DVC output nor in git.
Command: ``python -m stages.evaluate dense|cnn``.
"""
from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

from stages import config, data
from stages.common import run_stage, write_bytes, write_json
from stages.models import BUILDERS


def classification_metrics(labels: np.ndarray, probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """Accuracy, cross-entropy and per-class precision/recall/F1 (keyed by class name) of ``probs``
    (N×classes) against ``labels``."""
    labels = labels.astype(np.int64)
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((len(class_names), len(class_names)), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    true_pos = np.diag(confusion).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(true_pos / confusion.sum(axis=0))
        recall = np.nan_to_num(true_pos / confusion.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    picked = probs[np.arange(len(labels)), labels]
    return {
        "accuracy": float(true_pos.sum() / len(labels)),
        "loss": float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()),
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c])}
            for c, name in enumerate(class_names)
        },
        "test_images": int(len(labels)),
    }


def timed_predict(model: keras.Model, x: np.ndarray, batch_size: int) -> tuple[np.ndarray, float]:
    """Return (probabilities, images per second); one warm-up batch keeps graph tracing out of the timing."""
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return probs, len(x) / (time.perf_counter() - start)


def refuse_non_finite(probs: np.ndarray, model_path: Path) -> None:
    """A model with NaN or infinite weights predicts NaN; its metrics would hold NaN, which is not JSON."""
    if not np.isfinite(probs).all():
        raise ValueError(f"{model_path}: the model predicts NaN or infinite probabilities; retrain it "
                         f"(dvc repro --force train@{model_path.stem})")


def refuse_nan_json(metrics: dict, path: Path) -> None:
    """Metrics are written as strict JSON (``allow_nan=False``): no NaN or Infinity ever reaches the file."""
    try:
        json.dumps(metrics, allow_nan=False)
    except ValueError:
        raise ValueError(f"{path}: a metric is NaN or infinite, not written; retrain the model") from None


def predictions_csv(labels: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> bytes:
    """``actual,predicted`` rows of class names, as DVC's confusion template reads them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["actual", "predicted"])
    writer.writerows((class_names[a], class_names[p]) for a, p in zip(labels.tolist(), predicted.tolist()))
    return buf.getvalue().encode()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in BUILDERS:
        raise ValueError(f"usage: python -m stages.evaluate {'|'.join(BUILDERS)} (got {' '.join(args)!r})")
    name, params = args[0], config.load_params()
    model = keras.models.load_model(Path(params.paths.models) / f"{name}.keras")
    test_path = data.split_path(params.paths.data, "test")
    (images, labels), class_names = data.load_split(test_path), data.load_class_names(test_path)
    probs, images_per_second = timed_predict(model, data.preprocess(images), params.evaluate.batch_size)
    refuse_non_finite(probs, Path(params.paths.models) / f"{name}.keras")
    metrics = classification_metrics(labels, probs, class_names)
    metrics.update(params=int(model.count_params()))
    refuse_nan_json(metrics, Path(params.paths.metrics) / f"{name}.json")
    write_json(Path(params.paths.metrics) / f"{name}.json", metrics)
    write_json(Path(params.paths.timings) / f"evaluate_{name}.json",
               {"inference_images_per_second": round(images_per_second, 1)})
    write_bytes(Path(params.paths.predictions) / f"{name}.csv", predictions_csv(labels, probs.argmax(axis=1), class_names))
    print(f"evaluate: {name}: test accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.4f} "
          f"-> {Path(params.paths.metrics) / f'{name}.json'}")


if __name__ == "__main__":
    run_stage(main)
