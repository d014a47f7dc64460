"""Scoring predictions: the confusion counts (shared by the metrics and the plots), accuracy, cross-entropy,
per-class precision/recall/F1, calibration (ECE, Brier score, reliability bins), inference speed, and the guards
that keep NaN out of results files."""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the plots stage shares these functions and must not pay for importing TensorFlow
    import keras

CALIBRATION_BINS = 15  # Guo et al. 2017's equal-width bins for the expected calibration error
HEADLINE_DECIMALS = 4  # the headline file's rounding: DVC's tables stay narrow; the detail file keeps every digit


def confusion_counts(actual: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``counts[a, p]``: how many images of class ``a`` were predicted as ``p``."""
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (np.asarray(actual, np.int64), np.asarray(predicted, np.int64)), 1)
    return counts


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (cross-entropy, nats) of ``labels`` under ``probs``, in float64, each probability
    clipped at 1e-7 as Keras clips its loss: one confident mistake cannot make it infinite."""
    picked = np.asarray(probs, np.float64)[np.arange(len(labels)), np.asarray(labels, np.int64)]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())


def classification_metrics(labels: np.ndarray, probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """Accuracy, cross-entropy and per-class precision/recall/F1 (keyed by class name) of ``probs``
    (N×classes) against ``labels``."""
    labels = labels.astype(np.int64)
    confusion = confusion_counts(labels, probs.argmax(axis=1), len(class_names))
    true_pos = np.diag(confusion).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(true_pos / confusion.sum(axis=0))
        recall = np.nan_to_num(true_pos / confusion.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {
        "accuracy": float(true_pos.sum() / len(labels)),
        "loss": nll(probs, labels),
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c])}
            for c, name in enumerate(class_names)
        },
        "test_images": int(len(labels)),
    }


def headline(scores: dict, robustness_mean: float, dataset: str) -> dict:
    """A model's headline figures, the handful that ``dvc metrics show``, ``dvc metrics diff`` and ``dvc exp show``
    list (``PATHS.headline``): test accuracy, loss, macro F1 and ECE from ``scores`` (the detail file's content,
    ``calibration`` included), the robustness suite's mean accuracy, and the dataset they are on. The dataset's
    name also keeps ``dvc exp show`` right: DVC 3.67 names a param's column by its key alone unless a metrics file
    has the key too, so the ``dataset`` param and the ``dataset/`` folder (a dependency) got one column between
    them, which shifted every dependency column after it by one (and made ``--drop dataset`` fail)."""
    figures = {"accuracy": scores["accuracy"], "loss": scores["loss"], "macro_f1": scores["macro_f1"],
               "ece": scores["calibration"]["ece"], "robustness": robustness_mean}
    return {"dataset": dataset, **{key: round(float(value), HEADLINE_DECIMALS) for key, value in figures.items()}}


def timed_predict(model: keras.Model, x: np.ndarray, batch_size: int) -> tuple[np.ndarray, float]:
    """Return (probabilities, images per second); one warm-up batch keeps graph tracing out of the timing."""
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return probs, len(x) / (time.perf_counter() - start)


def refuse_non_finite(probs: np.ndarray, where: str, hint: str = "retrain it") -> None:
    """A model with NaN or infinite weights predicts NaN; its metrics would hold NaN, which is not JSON. The error
    names ``where`` (the model file, a corruption) and says what to do."""
    if not np.isfinite(probs).all():
        raise ValueError(f"{where}: the model predicts NaN or infinite probabilities; {hint}")


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


def reliability_bins(probs: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width bin of the top probability, (lo, hi] as in Guo et al. 2017: mean confidence, accuracy
    and image count. An empty bin has count 0 and NaN confidence and accuracy."""
    confidence = np.asarray(probs, np.float64).max(axis=1)
    correct = (np.asarray(probs).argmax(axis=1) == np.asarray(labels, np.int64)).astype(np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):
        return (np.bincount(index, confidence, bins) / count, np.bincount(index, correct, bins) / count, count)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Σ over bins of (images in bin / images) · |accuracy − mean confidence|: how far, on average over images,
    the stated confidence is from how often the model is right."""
    confidence, accuracy, count = reliability_bins(probs, labels, bins)
    full = count > 0
    return float((count[full] * np.abs(accuracy[full] - confidence[full])).sum() / count.sum())


def brier_score(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean over images of Σ over classes (p − one-hot)²: 0 is perfect, 2 the worst (Brier 1950, all classes)."""
    probs = np.asarray(probs, np.float64)
    onehot = np.eye(probs.shape[1])[np.asarray(labels, np.int64)]
    return float(((probs - onehot) ** 2).sum(axis=1).mean())


def calibration_metrics(labels: np.ndarray, probs: np.ndarray, before: np.ndarray, temperature: float) -> dict:
    """ECE and Brier score of ``probs`` (calibrated) and of ``before`` (the same model before scaling), and the
    NLL before: the calibrated NLL is ``classification_metrics``' ``loss``, kept once."""
    scores = {"temperature": temperature, "nll_uncalibrated": nll(before, labels)}
    for suffix, p in (("", probs), ("_uncalibrated", before)):
        scores.update({"ece" + suffix: expected_calibration_error(p, labels), "brier" + suffix: brier_score(p, labels)})
    return scores


def reliability_csv(probs: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> bytes:
    """``bin,confidence,accuracy,count`` rows, one per bin, for DVC's reliability plot. An empty bin is written
    on the diagonal (both at the bin's middle, count 0): it weighs nothing in the ECE, and a blank would break
    the line that DVC draws (vega reads an empty cell as 0)."""
    confidence, accuracy, count = reliability_bins(probs, labels, bins)
    middle = (np.arange(bins) + 0.5) / bins
    confidence, accuracy = np.where(count > 0, confidence, middle), np.where(count > 0, accuracy, middle)
    lines = ["bin,confidence,accuracy,count"] + [f"{b + 1},{c:.6f},{a:.6f},{n}" for b, (c, a, n)
                                                 in enumerate(zip(confidence, accuracy, count.tolist()))]
    return ("\n".join(lines) + "\n").encode()
