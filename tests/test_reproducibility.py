"""Same params, same results: training twice with one seed gives bit-identical weights and metrics."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import shards_in_memory
from tests.support.training import NO_AUGMENT, tiny_data
from digits.config import schema
from digits.evaluate import metrics
from digits.train import distribute, training

pytestmark = pytest.mark.slow  # trains models, twice each

EVERY_AUGMENT = schema.AugmentConfig(enabled=True, shift=0.05, rotation=5.0, zoom=0.05, brightness=0.3, contrast=0.5,
                                     noise=0.1, blur=1.5)


def weights_after_training(seed: int, tmp_path, steps_per_execution: int = 1,
                           augment: schema.AugmentConfig = NO_AUGMENT):
    cfg = schema.DenseConfig(hidden_units=(16,), epochs=2, batch_size=32, learning_rate=1e-3, schedule="cosine",
                             label_smoothing=0.1, augment=augment, input="memory", distribute="none",
                             dtype_policy="float32", threads=0, steps_per_execution=steps_per_execution)
    training.seed_everything(seed)
    model, _ = training.fit("dense", cfg, shards_in_memory(tiny_data(0, 256)), tiny_data(1, 64), 10,
                         tmp_path / f"history{seed}.csv", seed)
    return model.get_weights()


def test_same_seed_same_weights(tmp_path):
    first, second = weights_after_training(7, tmp_path), weights_after_training(7, tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other = weights_after_training(8, tmp_path)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_augmented_training_is_reproducible_too(tmp_path):
    """Every random augmentation layer draws from the seed: same seed, same weights; and they do act."""
    first = weights_after_training(7, tmp_path, augment=EVERY_AUGMENT)
    assert all(np.array_equal(a, b) for a, b in zip(first, weights_after_training(7, tmp_path, augment=EVERY_AUGMENT)))
    assert not all(np.array_equal(a, b) for a, b in zip(first, weights_after_training(7, tmp_path)))


def test_classification_metrics_by_hand():
    labels = np.array([0, 0, 1, 1, 2])
    probs = np.eye(10)[[0, 1, 1, 1, 0]] * 0.9 + 0.01
    m = metrics.classification_metrics(labels, probs, tuple("0123456789"))
    assert m["accuracy"] == 0.6
    assert m["per_class"]["0"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert m["per_class"]["1"]["precision"] == 2 / 3 and m["per_class"]["1"]["recall"] == 1.0
    assert m["per_class"]["2"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert m["loss"] > 0 and m["test_images"] == 5


def test_steps_per_execution_changes_speed_not_weights(tmp_path):
    first = weights_after_training(7, tmp_path)
    looped = weights_after_training(7, tmp_path, steps_per_execution=3)  # 8 steps per epoch: 3 + 3 + 2
    assert all(np.array_equal(a, b) for a, b in zip(first, looped))


def test_multiworker_runs_one_step_per_call(capsys):
    cfg = schema.DenseConfig(hidden_units=(16,), epochs=2, batch_size=32, learning_rate=1e-3, schedule="cosine",
                             label_smoothing=0.1, augment=NO_AUGMENT, input="memory", distribute="multiworker",
                             dtype_policy="float32", threads=0, steps_per_execution=16)
    assert distribute.as_run_here("dense", cfg).steps_per_execution == 1
    assert "steps_per_execution 16 -> 1 under multiworker" in capsys.readouterr().err
    assert distribute.as_run_here("dense", dataclasses.replace(cfg, distribute="mirrored")).steps_per_execution == 16
