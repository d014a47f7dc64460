"""Tiny training inputs the training tests share: random images and labels, and a small dense model's config
built past the params loader (so a test may give it values the loader refuses)."""
from __future__ import annotations

import numpy as np

from digits.config import schema

NO_AUGMENT = schema.AugmentConfig(enabled=False, shift=0.0, rotation=0.0, zoom=0.0, brightness=0.0, contrast=0.0,
                                  noise=0.0, blur=0.0)


def tiny_data(seed: int, n: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def dense_cfg(learning_rate: float) -> schema.DenseConfig:
    # Built directly, past the loader (which refuses .inf): a finite but absurd rate still diverges.
    return schema.DenseConfig(hidden_units=(16,), epochs=3, batch_size=32, learning_rate=learning_rate,
                              schedule="constant", label_smoothing=0.0, augment=NO_AUGMENT, input="memory",
                              distribute="none", dtype_policy="float32", threads=0, steps_per_execution=1)
