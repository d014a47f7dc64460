"""Stage ``evaluate@<model>``: score a trained model on the test set.

Inputs: ``artifacts/models/<model>.keras``, ``artifacts/data/test.npz``, ``artifacts/train/<model>/summary.json``.
Outputs: ``artifacts/metrics/<model>.json`` (accuracy, loss, per-class precision/recall/F1, macro F1,
parameter count, training seconds, inference images/second) and ``artifacts/predictions/<model>.csv``
(actual, predicted: the confusion matrix's data). Command: ``python -m stages.evaluate dense|cnn``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

from stages import config, data
from stages.common import run_stage, write_bytes, write_json
from stages.idx import NUM_CLASSES
from stages.models import BUILDERS


def classification_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, cross-entropy and per-class precision/recall/F1 of ``probs`` (N×classes) against ``labels``."""
    labels = labels.astype(np.int64)
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
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
            str(c): {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c])}
            for c in range(NUM_CLASSES)
        },
        "test_images": int(len(labels)),
    }


def timed_predict(model: keras.Model, x: np.ndarray, batch_size: int) -> tuple[np.ndarray, float]:
    """Return (probabilities, images per second); one warm-up batch keeps graph tracing out of the timing."""
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return probs, len(x) / (time.perf_counter() - start)


def predictions_csv(labels: np.ndarray, predicted: np.ndarray) -> bytes:
    rows = "".join(f"{a},{p}\n" for a, p in zip(labels.tolist(), predicted.tolist()))
    return ("actual,predicted\n" + rows).encode()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in BUILDERS:
        raise ValueError(f"usage: python -m stages.evaluate {'|'.join(BUILDERS)} (got {' '.join(args)!r})")
    name, params = args[0], config.load_params()
    model = keras.models.load_model(Path(params.paths.models) / f"{name}.keras")
    images, labels = data.load_split(data.split_path(params.paths.data, "test"))
    probs, images_per_second = timed_predict(model, data.preprocess(images), params.evaluate.batch_size)
    summary = json.loads((Path(params.paths.train_logs) / name / "summary.json").read_text())
    metrics = classification_metrics(labels, probs)
    metrics.update(
        params=int(model.count_params()),
        train_seconds=summary["train_seconds"],
        inference_images_per_second=round(images_per_second, 1),
    )
    write_json(Path(params.paths.metrics) / f"{name}.json", metrics)
    write_bytes(Path(params.paths.predictions) / f"{name}.csv", predictions_csv(labels, probs.argmax(axis=1)))
    print(f"evaluate: {name}: test accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.4f}")


if __name__ == "__main__":
    run_stage(main)
