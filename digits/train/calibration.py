"""Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one number T, fitted on
the validation split, divides the logits, so softmax(z / T) states how often the model is right. Label smoothing
trains the models to answer about 0.91 however sure they are; T < 1 undoes that on the probabilities alone.
Dividing by T keeps the argmax, so accuracy is untouched.

T is baked into the last Dense layer (kernel and bias divided by T: softmax((Wx + b) / T) = softmax((W/T)x + b/T)),
so the saved model keeps the seed's architecture and every export, ``predict`` and server inherits it.
"""
from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
from scipy import optimize

from digits.config import schema
from digits.evaluate import metrics

# T is searched in [1/20, 20]: wider than any network needs (Guo et al. report 1.1 to 3), narrow enough that a
# degenerate split (all right, or one image) gives a finite T instead of running off to 0 or infinity.
LOG_T_RANGE = (float(np.log(1 / 20)), float(np.log(20)))
LOG_T_TOLERANCE = 1e-10  # far below the 6 digits T is kept to: 14 NLL evaluations on MNIST's validation split


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp never overflows
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(np.asarray(logits, np.float64)))


def nll(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of ``labels`` under softmax(``logits``), in float64 (no clipping needed)."""
    logp = log_softmax(np.asarray(logits, np.float64))
    return float(-logp[np.arange(len(labels)), np.asarray(labels, np.int64)].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 minimising the NLL of softmax(``logits`` / T) on ``labels``: SciPy's bounded scalar minimiser
    (Brent's method) in log T over ``LOG_T_RANGE``.

    The NLL is convex in 1/T, so it has one minimum along log T, found without a starting guess or gradients.
    Plain float64 numpy, deterministic: the same inputs give the same T on every run. Rounded to 6 significant
    digits, so the file recording it reads cleanly. No images: T = 1."""
    if len(labels) == 0:
        return 1.0
    z, y = np.asarray(logits, np.float64), np.asarray(labels, np.int64)
    best = optimize.minimize_scalar(lambda log_t: nll(z / np.exp(log_t), y), bounds=LOG_T_RANGE, method="bounded",
                                    options={"xatol": LOG_T_TOLERANCE})
    return float(f"{np.exp(best.x):.6g}")


def uncalibrated(probs: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities before scaling, from the calibrated ones: softmax(T · log p) = softmax(z), since log p
    is z / T less a constant per image. A probability that underflowed to 0 stays (as good as) 0."""
    logp = np.log(np.maximum(np.asarray(probs, np.float64), np.finfo(np.float64).tiny))
    return softmax(temperature * logp)


def logits(model: keras.Sequential, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """The last Dense layer's input times its weights, in float64: the logits exactly, which softmax outputs
    lose for sure answers (1 - p rounds to 0 in float32). ``model`` is float32, as ``inference_model`` makes it."""
    features = keras.Model(model.inputs, model.layers[-2].output)
    h = np.asarray(features.predict(x, batch_size=batch_size, verbose=0), np.float64)
    kernel, bias = (np.asarray(w, np.float64) for w in model.layers[-1].get_weights())
    return h @ kernel + bias


def rescale_last_layer(model: keras.Sequential, temperature: float) -> None:
    """Divide the last Dense layer's kernel and bias by ``temperature``, in place: the model then outputs
    softmax(logits / T), with the same layers, shapes and parameter count."""
    last = model.layers[-1]
    last.set_weights([(np.asarray(w, np.float64) / temperature).astype(w.dtype) for w in last.get_weights()])


def calibrate(model: keras.Sequential, x: np.ndarray, labels: np.ndarray) -> dict:
    """Fit T on (``x``, ``labels``), bake it into ``model`` and return what ``calibration.json`` records: T and
    the split's NLL and ECE before and after. Too few images to fit T (``prepare`` refuses such a split first: a
    validation file replaced by hand) is a ValueError: a model must never pass as calibrated when it is not."""
    if len(labels) < schema.MIN_VAL:
        raise ValueError(f"{len(labels)} validation images, too few to calibrate on (at least {schema.MIN_VAL}); "
                         "rerun `dvc repro prepare`")
    report: dict = {"temperature": 1.0, "images": int(len(labels))}
    z = logits(model, x)
    report["temperature"] = temperature = fit_temperature(z, labels)
    rescale_last_layer(model, temperature)
    for suffix, scaled in (("_uncalibrated", z), ("", z / temperature)):
        report["val_nll" + suffix] = round(nll(scaled, labels), 6)
        report["val_ece" + suffix] = round(metrics.expected_calibration_error(softmax(scaled), labels), 6)
    return report


def report_path(name: str) -> Path:
    return Path(schema.PATHS.train_logs) / name / "calibration.json"


def load_temperature(name: str) -> float:
    """The T that ``train@<name>`` baked into its model, from its ``calibration.json``."""
    path = report_path(name)
    try:
        temperature = json.loads(path.read_text())["temperature"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"{path}: missing or without a temperature; rerun `dvc repro train@{name}`") from None
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"{path}: temperature {temperature!r} is not a number > 0; rerun `dvc repro train@{name}`")
    return float(temperature)
