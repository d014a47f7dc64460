"""Training a model on the prepared arrays: one ``fit`` per epoch, each epoch's order drawn from (seed, epoch),
every completed epoch checkpointed (``digits.train.checkpoint``), per-epoch history as CSV, and a stop with one line
when the loss goes non-finite. ``stages.train`` runs it; ``bench/`` calls it directly.
"""
from __future__ import annotations

import csv
import io
import math
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digits.config import schema
from digits.data import arrays
from digits.train import checkpoint, inputs, models
from digits.runtime.storage import write_bytes

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")


def history_row(epoch: int, logs: dict, model: keras.Model) -> dict:
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    return {"epoch": epoch + 1, **{k: logs[k][-1] for k in HISTORY_FIELDS[1:-1] if k in logs}, "learning_rate": lr}


def history_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, HISTORY_FIELDS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


class EpochsOf(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, counting epochs out of the whole run although ``fit`` is called once per epoch."""

    def __init__(self, epochs: int):
        super().__init__()
        self.total = epochs

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        self.epochs = self.total

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        # With steps_per_execution k, Keras reports each call's last step as if it ran k steps, the epoch's last
        # call too ("448/422" for 422 steps and k = 64): count no further than the steps there are.
        super().on_train_batch_end(min(batch, self.target - 1) if self.target else batch, logs)


class ValidationTime(keras.callbacks.Callback):
    """Seconds spent on validation, kept out of the training throughput."""

    def __init__(self):
        super().__init__()
        self.seconds, self._start = 0.0, 0.0

    def on_test_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_test_end(self, logs=None):
        self.seconds += time.perf_counter() - self._start


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop with a one-line error (a ValueError, which run_stage prints) once a loss or metric is NaN or
    infinite: Keras' TerminateOnNaN stops silently, and the stage would then save a NaN model and exit 0.
    Checked after every batch, so a diverging run stops early; the epoch's checkpoint is never written."""

    def __init__(self, name: str):
        super().__init__()
        self.name, self.epoch = name, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs)  # val_loss, val_accuracy too

    def _check(self, logs: dict | None) -> None:
        for key, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                word = "NaN" if math.isnan(float(value)) else "infinite"
                raise ValueError(f"train@{self.name}: {key} became {word} in epoch {self.epoch + 1}; "
                                 f"lower train.{self.name}.learning_rate")


def fit(name: str, cfg: models.ModelConfig, train: inputs.Shards, val: arrays.Arrays, num_classes: int,
        history: Path, seed: int = 0, resume: tuple[Path, str] | None = None,
        callbacks: tuple[keras.callbacks.Callback, ...] = (),
        strategy: tf.distribute.Strategy | None = None) -> tuple[keras.Model, list[float]]:
    """Build, compile and fit model ``name``, one ``fit`` per epoch; per-epoch metrics go to ``history``.
    Returns the model and each epoch's training images/second (input pipeline included, validation not).

    Each epoch's order is drawn from (``seed``, epoch) rather than from a running generator, and every
    completed epoch is checkpointed to ``resume`` = (folder, fingerprint), so a run killed mid-epoch and
    resumed takes the same steps as one never interrupted.
    """
    val_data = (arrays.preprocess(val[0]), keras.utils.to_categorical(val[1], num_classes)) if len(val[1]) else None
    with (strategy or tf.distribute.get_strategy()).scope():
        restored = checkpoint.load(*resume) if resume else None
        steps = math.ceil(len(train) / cfg.batch_size)
        model, rows = restored or (models.compiled(name, cfg, train.image_shape, num_classes, steps), [])
    if restored:
        print(f"train: {name}: resuming after epoch {len(rows)} of {cfg.epochs} from {resume[0]}", flush=True)
    progress, validation, speeds = EpochsOf(cfg.epochs), ValidationTime(), []
    for epoch in range(len(rows), cfg.epochs):
        start, validation.seconds = time.perf_counter(), 0.0
        logs = model.fit(train.dataset(seed, epoch, cfg.batch_size, num_classes), initial_epoch=epoch,
                         epochs=epoch + 1, shuffle=False, validation_data=val_data,
                         callbacks=[progress, validation, StopOnNonFinite(name), *callbacks],
                         verbose=1 if sys.stdout.isatty() else 2).history
        speeds.append(len(train) / (time.perf_counter() - start - validation.seconds))
        rows.append(history_row(epoch, logs, model))
        write_bytes(history, history_csv(rows))  # whole and atomic each epoch: a killed run leaves a valid file
        if resume:
            checkpoint.save(*resume, model, rows)
    return model, speeds


def last_epoch(history: Path) -> str:
    """The last epoch's validation figures, as the stage's closing line shows them."""
    rows = list(csv.DictReader(history.read_text().splitlines()))
    last = rows[-1] if rows else {}
    if not last.get("val_accuracy"):
        return f"{len(rows)} epochs"
    return (f"val_accuracy {float(last['val_accuracy']):.4f}, val_loss {float(last['val_loss']):.4f} "
            f"after {len(rows)} epochs")


def steady_speed(speeds: list[float]) -> float:
    """The median epoch after the first (which also traces the graph), or the only one."""
    return float(np.median(speeds[1:] or speeds)) if speeds else 0.0


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and make TF ops deterministic, so same params give same weights."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def training_data(cfg: models.ModelConfig) -> tuple[inputs.Shards, list[Path], Path, bool]:
    """The training shards (in memory or streamed, as ``cfg.input`` and the free memory say), their paths, the
    validation split's path, and whether the shards are streamed."""
    folder = schema.PATHS.data
    shards, val_path = arrays.train_shards(folder), arrays.split_path(folder, "val")
    stream = cfg.input == "stream" or (cfg.input == "auto" and not inputs.fits_in_memory(shards))
    return inputs.Shards.open(shards, stream), shards, val_path, stream
