"""The training split as one pair of arrays, for the benchmarks that feed ``model.fit`` directly (the seed's way);
the pipeline itself reads the shards through ``digits.inputs``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from digits import data


def load_train(folder: str | Path) -> data.Arrays:
    """All training shards, concatenated in order."""
    parts = [data.load_split(path) for path in data.train_shards(folder)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
