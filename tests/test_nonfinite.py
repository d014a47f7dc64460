"""Training that goes NaN stops non-zero with one line naming model and epoch; no NaN reaches a metrics file."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.support.committed import default_params
from conftest import shards_in_memory, write_project
from digits.config import schema
from digits.data import arrays
from digits.evaluate import metrics
from digits.train import models, training
from stages import evaluate
from tests.support.training import dense_cfg, tiny_data


def test_diverging_training_stops_naming_model_and_epoch(tmp_path):
    training.seed_everything(0)
    history = tmp_path / "history.csv"
    with pytest.raises(ValueError) as info:
        training.fit("dense", dense_cfg(1e30), shards_in_memory(tiny_data(0, 256)), tiny_data(1, 64), 10,
                  history, 0, resume=(tmp_path / "checkpoint", "fp"))
    message = str(info.value)
    assert message.startswith("train@dense: loss became NaN in epoch 1; lower train.dense.learning_rate"), message
    assert "\n" not in message
    assert not history.exists() and not (tmp_path / "checkpoint").exists()  # nothing of the NaN epoch is kept


def test_stop_names_later_epoch_and_infinite_values():
    stop = training.StopOnNonFinite("cnn")
    stop.on_epoch_begin(2)
    stop.on_train_batch_end(0, {"loss": 0.5, "accuracy": 0.9})  # finite: passes
    with pytest.raises(ValueError, match=r"^train@cnn: val_loss became infinite in epoch 3; lower train\.cnn\."):
        stop.on_epoch_end(2, {"loss": 0.5, "val_loss": math.inf})


def test_sane_training_is_not_stopped(tmp_path):
    training.seed_everything(0)
    model, _ = training.fit("dense", dense_cfg(1e-3), shards_in_memory(tiny_data(0, 128)), tiny_data(1, 32),
                         10, tmp_path / "history.csv", 0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_evaluate_refuses_a_nan_model(tmp_path, monkeypatch):
    """A model whose weights are NaN (trained before the stop, or edited by hand): one line naming the model
    file, and no metrics file at all."""
    write_project(tmp_path, default_params())
    params = schema.load_params(tmp_path / "params.yaml")
    model = models.build("dense", params.train.dense, (28, 28), 10)
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    monkeypatch.chdir(tmp_path)
    path = tmp_path / schema.PATHS.models / "dense.keras"
    path.parent.mkdir(parents=True)
    model.save(path)
    images, labels = tiny_data(2, 50)
    arrays.save_split(arrays.split_path(schema.PATHS.data, "test"), images, labels, tuple("0123456789"))
    with pytest.raises(ValueError) as info:
        evaluate.main(schema.load_params(), "dense")
    assert str(info.value) == (f"{schema.PATHS.models}/dense.keras: the model predicts NaN or infinite "
                               "probabilities; retrain it (dvc repro --force train@dense)")
    assert not (tmp_path / schema.PATHS.metrics).exists()


def test_metrics_json_is_strict(tmp_path):
    metrics.refuse_nan_json({"accuracy": 0.9, "per_class": {"0": {"f1": 1.0}}}, tmp_path / "m.json")
    with pytest.raises(ValueError, match=r"m\.json: a metric is NaN or infinite, not written"):
        metrics.refuse_nan_json({"accuracy": 0.9, "per_class": {"0": {"f1": float("nan")}}}, tmp_path / "m.json")
