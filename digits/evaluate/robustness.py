"""The robustness suite: corrupted copies of a split (made by ``digits.corrupt.corruptions.corrupted_test_set``) stored
in one ``.npz``, and a model's accuracy on each copy. ``stages.corrupt`` writes the suite, ``stages.evaluate``
scores it and ``bench.augment_robustness`` does both on the validation split.

Neither the corruption code (so editing it reruns ``corrupt``, and ``robustness`` only when the bytes change) nor
TensorFlow is imported here: a model is anything with ``predict(x, batch_size=..., verbose=0)``.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from digits.data import arrays
from digits.evaluate import metrics
from digits.runtime.storage import atomic_path

# Beside the corruption names in the .npz; no family may take these names (checked in ``save_suite``).
RESERVED = ("labels", "class_names", "corruptions")
Suite = dict[str, np.ndarray]


def save_suite(path: str | Path, suite: Suite, labels: np.ndarray, class_names: tuple[str, ...]) -> None:
    """One array per corruption, plus the labels, class names and the corruptions' order; the same bytes for the
    same arrays (numpy's zip entries carry a fixed date), so an unchanged rerun leaves later stages up to date."""
    clash = set(suite) & set(RESERVED)
    if clash:
        raise ValueError(f"corruption names {sorted(clash)} clash with the suite's own arrays")
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(f, **suite, labels=labels, class_names=np.array(class_names, dtype=str),
                 corruptions=np.array(list(suite), dtype=str))


def load_suite(path: str | Path) -> tuple[Suite, np.ndarray, tuple[str, ...]]:
    """(corrupted images by name, in the order written; labels; class names) from ``save_suite``'s file."""
    if not Path(path).is_file():
        raise OSError(f"{path}: not found; run `dvc repro corrupt`")
    with np.load(path, allow_pickle=False) as npz:
        names = [str(n) for n in npz["corruptions"]]
        return ({n: npz[n] for n in names}, npz["labels"],
                tuple(str(c) for c in npz["class_names"]))


def accuracies(model, suite: Suite, labels: np.ndarray, batch_size: int) -> dict[str, float]:
    """The model's accuracy on each corrupted copy, by name, in the suite's order."""
    labels = labels.astype(np.int64)
    scores = {}
    for name, images in suite.items():
        probs = model.predict(arrays.preprocess(images), batch_size=batch_size, verbose=0)
        metrics.refuse_non_finite(probs, name)
        scores[name] = float((probs.argmax(axis=1) == labels).mean())
    return scores


def summary(scores: dict[str, float], images: int) -> dict:
    """The metrics file: each corruption's accuracy, their mean, and the number of images per corruption."""
    return {"corruptions": dict(scores), "mean_accuracy": float(np.mean(list(scores.values()))),
            "images": int(images)}


def worst(scores: dict[str, float]) -> str:
    """The corruption with the lowest accuracy (the first, in suite order, on a tie)."""
    return min(scores, key=lambda name: scores[name])


def accuracy_csv(scores: dict[str, float]) -> bytes:
    """``corruption,accuracy`` rows, as DVC's bar chart templates read them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["corruption", "accuracy"])
    writer.writerows((name, f"{acc:.4f}") for name, acc in scores.items())
    return buf.getvalue().encode()
