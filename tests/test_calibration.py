"""Temperature scaling (``digits.train.calibration``): the fitted T lowers ECE and NLL on data it was not fitted on,
keeps every answer, is the same on every run, and baked into the last layer makes the model output exactly
softmax(logits / T); and on a real CNN trained with label smoothing, the saved model is calibrated."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from tests.support.committed import default_params
from digits.config import schema
from digits.data import arrays
from digits.evaluate import metrics
from digits.export import loaders
from digits.train import calibration, models


def synthetic(scale: float, n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z), logits reported as ``scale`` · z: over-confident above 1, under below."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2.5, (n, 10)) + 4 * np.eye(10)[rng.integers(0, 10, n)]
    p = calibration.softmax(z)
    labels = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return scale * z, np.minimum(labels, 9)


@pytest.mark.parametrize("scale", [0.4, 2.5])  # under- and over-confident
def test_temperature_fitted_on_one_half_lowers_ece_and_nll_on_the_other(scale):
    z, y = synthetic(scale)
    fit, held = slice(0, 10_000), slice(10_000, None)
    t = calibration.fit_temperature(z[fit], y[fit])
    assert t == pytest.approx(scale, rel=0.05)  # the scale that was put in
    before, after = calibration.softmax(z[held]), calibration.softmax(z[held] / t)
    ece_before = metrics.expected_calibration_error(before, y[held])
    assert metrics.expected_calibration_error(after, y[held]) < 0.5 * ece_before
    assert calibration.nll(z[held] / t, y[held]) < calibration.nll(z[held], y[held]) - 0.02
    assert (after.argmax(axis=1) == before.argmax(axis=1)).all()


def test_temperature_is_deterministic_and_the_nll_minimum():
    z, y = synthetic(1.7, n=3000, seed=1)
    t = calibration.fit_temperature(z, y)
    assert t == calibration.fit_temperature(z.copy(), y.copy())
    best = calibration.nll(z / t, y)
    assert best <= min(calibration.nll(z / (t * f), y) for f in (0.98, 1.02))
    assert calibration.fit_temperature(z[:0], y[:0]) == 1.0


EPS32 = float(np.finfo(np.float32).eps)  # 2**-23: float32 rounds with a relative error of at most EPS32 / 2


def test_uncalibrated_recovers_the_probabilities_before_scaling():
    z, _ = synthetic(1.0, n=500)
    after = calibration.softmax(z / 0.45).astype(np.float32)  # what the rescaled model outputs
    # float32 rounding moves log p by <= EPS32/2, T·log p by 0.45·EPS32/2, so p by a factor e^(±0.45·EPS32): 2x room
    np.testing.assert_allclose(calibration.uncalibrated(after, 0.45), calibration.softmax(z), atol=2 * 0.45 * EPS32)


def seed_model(name: str) -> keras.Sequential:
    """An untrained seed architecture as train saves it: the CNN trains in mixed_bfloat16, saved in float32."""
    keras.utils.set_random_seed(3)
    params = schema.parse_params(default_params())  # the project's own architectures, not the user's edits
    return models.inference_model(models.build(name, getattr(params.train, name), (28, 28), 10))


def float32_softmax_error(model: keras.Sequential, x: np.ndarray) -> float:
    """The most the model's float32 last layer and softmax can be off softmax of the exact logits h·W + b, on any
    CPU (the features h before it are the same float32 numbers in both: same layers, one batch of the same shape).
    Each logit sums K = len(h) + 1 rounded float32 terms: off by at most γ_K·Σ|terms|, γ_K = K·u/(1 - K·u), u =
    EPS32/2, in any summation order, FMA or not (Higham, Accuracy and Stability of Numerical Algorithms, §3.1).
    Logits off by d move each p by a factor within e^(±2d); float32 softmax itself (exp, a sum of 10 terms, a
    division) adds at most about 16·u."""
    h = np.asarray(keras.Model(model.inputs, model.layers[-2].output).predict(x, batch_size=len(x), verbose=0),
                   np.float64)
    kernel, bias = (np.abs(np.asarray(w, np.float64)) for w in model.layers[-1].get_weights())
    k, u = h.shape[1] + 1, EPS32 / 2
    d = k * u / (1 - k * u) * float((np.abs(h) @ kernel + bias).max())
    return float(np.expm1(2 * d)) + 16 * u


@pytest.mark.parametrize("name", ["dense", "cnn"])
def test_rescaled_model_outputs_softmax_of_logits_over_t(name):
    model = seed_model(name)
    x = np.random.default_rng(0).random((64, 28, 28), dtype=np.float32)
    z = calibration.logits(model, x) * 8  # sharper than an untrained model's, so T matters
    model.layers[-1].set_weights([w * 8 for w in model.layers[-1].get_weights()])
    probs = model.predict(x, batch_size=len(x), verbose=0)  # one batch, as calibration.logits's features are made
    np.testing.assert_allclose(probs, calibration.softmax(z), atol=float32_softmax_error(model, x))  # float32's bound
    layout = [(type(layer).__name__, layer.get_config()) for layer in model.layers]
    count = model.count_params()
    calibration.rescale_last_layer(model, 2.5)
    after = model.predict(x, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(after, calibration.softmax(z / 2.5), atol=float32_softmax_error(model, x))  # as above
    assert float32_softmax_error(model, x) < 0.01  # far below how far a wrong T moves p (tested: it can fail)
    assert (after.argmax(axis=1) == z.argmax(axis=1)).all()
    assert [(type(layer).__name__, layer.get_config()) for layer in model.layers] == layout  # same architecture
    assert model.count_params() == count


@pytest.mark.parametrize("n", [0, 49])
def test_calibrate_refuses_too_few_validation_images_and_leaves_the_model(n):
    model = seed_model("dense")
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=rf"^{n} validation images, too few to calibrate on \(at least 50\)"):
        calibration.calibrate(model, np.zeros((n, 28, 28), np.float32), np.zeros(n, np.uint8))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


@pytest.mark.slow  # trains a CNN (trained_project)
def test_trained_cnn_is_calibrated_on_the_test_split(trained_project):
    """Label smoothing 0.1 makes the trained CNN under-confident; the T train fitted on 400 validation images
    sharpens it (T < 1) and lowers ECE and NLL on 500 test images it never saw, the answers unchanged."""
    root = trained_project
    report = json.loads((root / "artifacts/train/cnn/calibration.json").read_text())
    assert set(report) == {"temperature", "images", "val_nll", "val_ece", "val_nll_uncalibrated",
                           "val_ece_uncalibrated"}
    t = report["temperature"]
    assert 0.05 < t < 1 and report["images"] == 400 and report["val_ece"] < report["val_ece_uncalibrated"]
    model = loaders.load_keras_model(root / "artifacts/models/cnn.keras", "train@cnn")
    images, labels = arrays.load_split(root / "artifacts/data/test.npz")
    probs = model.predict(arrays.preprocess(images), verbose=0)
    before = calibration.uncalibrated(probs, t)
    assert (before.argmax(axis=1) == probs.argmax(axis=1)).all()
    scores = metrics.calibration_metrics(labels, probs, before, t)
    assert scores["ece"] < 0.6 * scores["ece_uncalibrated"], scores
    assert metrics.nll(probs, labels) < scores["nll_uncalibrated"], scores
    assert scores["brier"] < scores["brier_uncalibrated"], scores
