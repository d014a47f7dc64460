"""A separate small model that tells digits from non-digits on the 28×28 field: the one ``bench.nondigits``
method that is trained on non-digits. It is not part of either classifier (their layers and weights stay the
seed's); it reads the same field they read and answers one number, higher for less like a digit.

Conv16 → pool → Conv32 → pool → Dense32 → Dense1 (55,041 parameters), trained for a few epochs on digits
(MNIST's training split as stored; the same enlarged and read back, as a photo's digits and a number's reach the
field, softer and less saturated; synthetic digits from ``wild``'s generators) against synthetic non-digits
(``nondigits``, words and look-alikes left out). Digits and non-digits weigh half the loss each, and each group of
digits a third of the digits' half: without the enlarged ones, thin soft 1s of a number were refused as lines.
"""
from __future__ import annotations

import numpy as np

from digits import data

EPOCHS = 4
BATCH = 256


def build():
    import keras

    return keras.Sequential([
        keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu", padding="same"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1),
    ], name="nondigit_detector")


def weights(digit_groups: list[int], n_negative: int) -> np.ndarray:
    """Per-example loss weights: digits and non-digits half each, the digits' half shared equally by groups."""
    half = (sum(digit_groups) + n_negative) / 2
    return np.concatenate([np.full(n, half / len(digit_groups) / n) for n in digit_groups]
                          + [np.full(n_negative, half / n_negative)]).astype(np.float32)


def train(digits: list[np.ndarray], negative: np.ndarray, seed: int = 0):
    """The detector fitted on uint8 fields: groups of digits (0) against non-digits (1)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build()
    model.compile(keras.optimizers.Adam(2e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    x = data.preprocess(np.concatenate([*digits, negative]))
    y = np.concatenate([np.zeros(sum(map(len, digits))), np.ones(len(negative))]).astype(np.float32)
    model.fit(x, y, sample_weight=weights([len(d) for d in digits], len(negative)), batch_size=BATCH,
              epochs=EPOCHS, shuffle=True, verbose=0)
    return model


def score(model, fields: np.ndarray) -> np.ndarray:
    """The detector's logit per uint8 field: higher, less like a digit."""
    if not len(fields):
        return np.zeros(0)
    return np.asarray(model.predict(data.preprocess(fields), batch_size=2000, verbose=0)[:, 0], np.float64)
