"""The training split as one pair of arrays, for the benchmarks that feed ``model.fit`` directly (the seed's way);
the pipeline itself reads the shards through ``digits.train.inputs``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from digits.data import arrays


def load_train(folder: str | Path) -> arrays.Arrays:
    """All training shards, concatenated in order."""
    parts = [arrays.load_split(path) for path in arrays.train_shards(folder)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
