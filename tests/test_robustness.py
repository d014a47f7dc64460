"""The robustness suite's file and scoring (``digits.evaluate.robustness``), and the params' corruption names."""
from __future__ import annotations

import typing

import numpy as np
import pytest

from digits.config import fixed
from digits.corrupt import corruptions
from digits.evaluate import robustness


class Fixed:
    """A stand-in model: predicts class 0 for images whose first pixel is dark, else class 1."""

    def predict(self, x, batch_size, verbose):
        assert verbose == 0 and x.dtype == np.float32
        probs = np.zeros((len(x), 10), np.float32)
        probs[np.arange(len(x)), (x[:, 0, 0] > 0.5).astype(int)] = 1
        return probs


def test_params_names_are_the_libraries():
    assert typing.get_args(fixed.CorruptionName) == tuple(corruptions.CORRUPTIONS)


def test_suite_round_trips_in_order_with_the_same_bytes(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), np.arange(6, dtype=np.uint8)
    suite = corruptions.corrupted_test_set(images, 3, ("zigzag", "fog", "brightness"))
    robustness.save_suite(tmp_path / "a.npz", suite, labels, tuple("0123456789"))
    robustness.save_suite(tmp_path / "b.npz", suite, labels, tuple("0123456789"))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded, loaded_labels, names = robustness.load_suite(tmp_path / "a.npz")
    assert list(loaded) == ["zigzag", "fog", "brightness"] and names == tuple("0123456789")
    for name in suite:
        np.testing.assert_array_equal(loaded[name], suite[name])
    np.testing.assert_array_equal(loaded_labels, labels)


def test_reserved_names_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="clash"):
        robustness.save_suite(tmp_path / "x.npz", {"labels": np.zeros((1, 2, 2), np.uint8)}, np.zeros(1), ("a",))
    with pytest.raises(OSError, match="dvc repro corrupt"):
        robustness.load_suite(tmp_path / "missing.npz")


def test_accuracies_summary_worst_and_csv():
    dark, light = np.zeros((4, 28, 28), np.uint8), np.full((4, 28, 28), 255, np.uint8)
    labels = np.array([0, 0, 0, 1], np.uint8)
    scores = robustness.accuracies(Fixed(), {"dark": dark, "light": light}, labels, 2)
    assert scores == {"dark": 0.75, "light": 0.25}
    assert robustness.summary(scores, 4) == {"corruptions": scores, "mean_accuracy": 0.5, "images": 4}
    assert robustness.worst(scores) == "light"
    assert robustness.accuracy_csv(scores) == b"corruption,accuracy\ndark,0.7500\nlight,0.2500\n"


def test_non_finite_predictions_refused():
    class Broken:
        def predict(self, x, batch_size, verbose):
            return np.full((len(x), 10), np.nan, np.float32)

    with pytest.raises(ValueError, match="fog: the model predicts NaN"):
        robustness.accuracies(Broken(), {"fog": np.zeros((2, 28, 28), np.uint8)}, np.zeros(2, np.uint8), 2)
