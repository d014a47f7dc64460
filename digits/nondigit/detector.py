"""The "not a digit" detector: a small model beside the two classifiers that reads the same 28×28 field and answers
one logit, above 0 for "not a digit". Chosen by measurement among five methods (``python -m bench.nondigits``,
docs/using.md): the classifiers' own scores (top probability, energy, feature distances) refused too few
non-digits. The classifiers stay the seed's, layer for layer; this model is a separate file, ``nondigit.keras``.

Conv16 → pool → Conv32 → pool → Dense32 → Dense1 (55,041 parameters), trained on digits (0) against synthetic
non-digits (1) (``digits.nondigit.detector_data``); digits and non-digits weigh half the loss each, each group of digits
an equal share of the digits' half. Its threshold, a percentile of the validation digits' logits, is subtracted from
the last layer's bias (``with_threshold``), as train bakes a temperature into a classifier: every copy of the file
refuses exactly what the stage measured.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from digits.data import arrays
from digits.export import formats

if TYPE_CHECKING:
    import keras

NAME = "nondigit"  # artifacts/models/nondigit.keras


def path(root: Path = Path()) -> Path:
    return formats.keras_path(NAME, root)


def build() -> keras.Sequential:
    import keras

    # Every layer's dtype named: layers sharing Keras' global policy object make config.json record its id(), a
    # memory address, so two saves of the same weights would differ.
    f32 = {"dtype": "float32"}
    return keras.Sequential([
        keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1), **f32),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same", **f32), keras.layers.MaxPooling2D(2, **f32),
        keras.layers.Conv2D(32, 3, activation="relu", padding="same", **f32), keras.layers.MaxPooling2D(2, **f32),
        keras.layers.Flatten(**f32), keras.layers.Dense(32, activation="relu", **f32), keras.layers.Dense(1, **f32),
    ], name="nondigit_detector")


def weights(digit_groups: list[int], n_negative: int) -> np.ndarray:
    """Per-example loss weights: digits and non-digits half each, the digits' half shared equally by groups."""
    half = (sum(digit_groups) + n_negative) / 2
    return np.concatenate([np.full(n, half / len(digit_groups) / n) for n in digit_groups]
                          + [np.full(n_negative, half / n_negative)]).astype(np.float32)


def train(digits: list[np.ndarray], negative: np.ndarray, seed: int, epochs: int = 4, batch_size: int = 256,
          learning_rate: float = 2e-3, verbose: int | str = 0) -> keras.Sequential:
    """The detector fitted on uint8 fields: groups of digits (0) against non-digits (1)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build()
    model.compile(keras.optimizers.Adam(learning_rate), keras.losses.BinaryCrossentropy(from_logits=True))
    x = arrays.preprocess(np.concatenate([*digits, negative]))
    y = np.concatenate([np.zeros(sum(map(len, digits))), np.ones(len(negative))]).astype(np.float32)
    model.fit(x, y, sample_weight=weights([len(d) for d in digits], len(negative)), batch_size=batch_size,
              epochs=epochs, shuffle=True, verbose=verbose)
    return model


def score(model: keras.Model | Callable[[np.ndarray], np.ndarray], fields: np.ndarray) -> np.ndarray:
    """The logit per uint8 field (N×28×28): higher, less like a digit; above 0 refused once ``with_threshold``
    has set the threshold. ``model``: a Keras model or a predictor function of preprocessed fields."""
    if not len(fields):
        return np.zeros(0)
    x = arrays.preprocess(fields)
    out = model.predict(x, batch_size=2000, verbose=0) if hasattr(model, "predict") else model(x)
    return np.asarray(out, np.float64).reshape(len(fields), -1)[:, 0]


def threshold(val_logits: np.ndarray, quantile: float) -> float:
    """The logit that ``quantile`` percent of the validation digits stay under, as float32 arithmetic sees it."""
    return float(np.float32(np.percentile(val_logits, quantile)))


def with_threshold(model: keras.Sequential, cut: float) -> keras.Sequential:
    """``model`` with ``cut`` subtracted from its last bias: its logit is above 0 exactly where it was above
    ``cut``, up to float32 rounding of one addition."""
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([kernel, (bias - np.float32(cut)).astype(np.float32)])
    return model
