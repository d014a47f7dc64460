"""How unlike a digit a 28×28 field is, from a trained model's own layers: scores where higher means less like
the training digits, for telling "not a digit" apart (bench/nondigits.py measures them). None adds a layer or a
trained weight to the models: each reads the penultimate layer's features and the logits the model already has,
or the pixels, with statistics of the training split (class means, a covariance, principal components) that are
plain arrays.

- ``max_probability``: minus the largest calibrated probability (Hendrycks & Gimpel 2017);
- ``energy``: minus the logsumexp of the logits (Liu et al. 2020);
- ``mahalanobis``: the squared distance to the nearest class mean of the features, under the classes' shared
  covariance (Lee et al. 2018); ``relative``: that less the distance to the training features' overall mean
  under their overall covariance (Ren et al. 2021);
- ``knn``: one less the cosine to the k-th nearest training feature vector (Sun et al. 2022);
- ``pixels``: the part of the field's ink the training fields' leading principal components leave out.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

RIDGE = 1e-6  # of the covariance's mean variance added to its diagonal: ReLU units dead on MNIST have none


class Stats(NamedTuple):
    """What the scores need from the training split."""
    means: np.ndarray  # classes × d, each class's mean features
    precision: np.ndarray  # d × d, inverse of the classes' shared covariance
    centre: np.ndarray  # d, the features' overall mean
    overall: np.ndarray  # d × d, inverse of the features' overall covariance
    bank: np.ndarray  # n × d, unit-length training features for knn (a sample)
    components: np.ndarray  # k × 784, the training fields' leading principal components
    pixel_mean: np.ndarray  # 784


def inverse(cov: np.ndarray) -> np.ndarray:
    return np.linalg.inv(cov + RIDGE * np.trace(cov) / len(cov) * np.eye(len(cov)))


def unit(h: np.ndarray) -> np.ndarray:
    return h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)


def fit(features: np.ndarray, labels: np.ndarray, fields: np.ndarray, bank: int = 10000, components: int = 40,
        seed: int = 0) -> Stats:
    """``Stats`` from the training split: its features (n × d float64), labels and 28×28 fields (0..1)."""
    h, y = np.asarray(features, np.float64), np.asarray(labels)
    classes = np.unique(y)
    means = np.stack([h[y == c].mean(0) for c in classes])
    within = h - means[np.searchsorted(classes, y)]
    pix = np.asarray(fields, np.float64).reshape(len(fields), -1)
    pixel_mean = pix.mean(0)
    _, _, vt = np.linalg.svd(pix[:: max(1, len(pix) // 20000)] - pixel_mean, full_matrices=False)
    sample = np.random.default_rng(seed).choice(len(h), min(bank, len(h)), replace=False)
    return Stats(means, inverse(within.T @ within / len(h)), h.mean(0), inverse(np.cov(h, rowvar=False)),
                 unit(h[np.sort(sample)]), vt[:components], pixel_mean)


def quadratic(d: np.ndarray, precision: np.ndarray) -> np.ndarray:
    return np.einsum("...i,ij,...j->...", d, precision, d)


def max_probability(logits: np.ndarray) -> np.ndarray:
    """Minus the largest softmax probability: 1 / sum(exp(z - max z)), in float64 (``calibration.softmax``'s
    way, without importing Keras with it)."""
    z = np.asarray(logits, np.float64)
    return -1.0 / np.exp(z - z.max(1, keepdims=True)).sum(1)


def energy(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    top = z.max(1)
    return -(top + np.log(np.exp(z - top[:, None]).sum(1)))


def mahalanobis(h: np.ndarray, stats: Stats) -> np.ndarray:
    return np.min([quadratic(h - m, stats.precision) for m in stats.means], axis=0)


def relative(h: np.ndarray, stats: Stats) -> np.ndarray:
    return mahalanobis(h, stats) - quadratic(h - stats.centre, stats.overall)


def knn(h: np.ndarray, stats: Stats, k: int = 10, chunk: int = 512) -> np.ndarray:
    q = unit(np.asarray(h, np.float64))
    out = [1 - np.sort(q[i:i + chunk] @ stats.bank.T, axis=1)[:, -k] for i in range(0, len(q), chunk)]
    return np.concatenate(out) if out else np.zeros(0)


def pixels(fields: np.ndarray, stats: Stats) -> np.ndarray:
    """The share of the field's ink (squared, from the training mean) outside the principal components."""
    x = np.asarray(fields, np.float64).reshape(len(fields), -1) - stats.pixel_mean
    kept = x @ stats.components.T
    return 1 - (kept ** 2).sum(1) / np.maximum((x ** 2).sum(1), 1e-12)


SCORES = ("max_probability", "energy", "mahalanobis", "relative", "knn", "pixels")


def scores(h: np.ndarray, logits: np.ndarray, fields: np.ndarray, stats: Stats) -> dict[str, np.ndarray]:
    """Every score of ``SCORES`` for N fields: their features, logits and pixels (N×28×28, 0..1)."""
    return {"max_probability": max_probability(logits), "energy": energy(logits), "mahalanobis": mahalanobis(h, stats),
            "relative": relative(h, stats), "knn": knn(h, stats), "pixels": pixels(fields, stats)}


def features(model, x: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The penultimate layer's output and the logits (``calibration.logits``' way: the last layer's weights in
    float64, the temperature already in them) for fields ``x`` (``arrays.preprocess``'d). ``model`` is a loaded
    Keras model; Keras is imported by whoever loaded it."""
    import keras  # only here: the scores above are plain numpy

    inner = keras.Model(model.inputs, model.layers[-2].output)
    h = np.asarray(inner.predict(x, batch_size=batch_size, verbose=0), np.float64) if len(x) else \
        np.zeros((0, model.layers[-2].output.shape[-1]))
    kernel, bias = (np.asarray(w, np.float64) for w in model.layers[-1].get_weights())
    return h, h @ kernel + bias
