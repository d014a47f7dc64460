"""Stage ``train@<model>``: fit the dense model or the CNN on the prepared arrays.

Inputs: ``artifacts/data/{train,val}.npz``, params ``seed`` and ``train.<model>``.
Outputs: ``artifacts/models/<model>.keras`` (without the training-only augmentation layers);
``artifacts/train/<model>/history.csv`` (per-epoch loss, accuracy, val_loss, val_accuracy, learning_rate) and
``summary.json`` (training seconds).
Command: ``python -m stages.train dense|cnn``.
"""
from __future__ import annotations

import csv
import io
import math
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf

from stages import config, data, models
from stages.common import atomic_path, run_stage, write_bytes, write_json

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")


class HistoryCSV(keras.callbacks.Callback):
    """Rewrite the whole per-epoch log atomically after every epoch, so a killed run leaves a valid file."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.rows = path, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {}, epoch=epoch + 1)
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.rows.append({k: logs.get(k, "") for k in HISTORY_FIELDS})
        buf = io.StringIO()
        writer = csv.DictWriter(buf, HISTORY_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_bytes(self.path, buf.getvalue().encode())


def make_optimizer(cfg: config.Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr: float | keras.optimizers.schedules.LearningRateSchedule = cfg.learning_rate
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps_per_epoch * cfg.epochs)
    return keras.optimizers.Adam(learning_rate=lr)


def fit(name: str, cfg: models.ModelConfig, train: data.Arrays, val: data.Arrays, num_classes: int,
        history: Path) -> keras.Model:
    """Build, compile and fit model ``name``; per-epoch metrics go to ``history``."""
    x, y = data.preprocess(train[0]), keras.utils.to_categorical(train[1], num_classes)
    model = models.build(name, cfg, x.shape[1:], num_classes)
    model.compile(
        optimizer=make_optimizer(cfg, math.ceil(len(x) / cfg.batch_size)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    val_data = (data.preprocess(val[0]), keras.utils.to_categorical(val[1], num_classes)) if len(val[1]) else None
    model.fit(
        x, y, batch_size=cfg.batch_size, epochs=cfg.epochs, validation_data=val_data,
        callbacks=[HistoryCSV(history)], verbose=1 if sys.stdout.isatty() else 2,
    )
    return model


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and make TF ops deterministic, so same params give same weights."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in models.BUILDERS:
        raise ValueError(f"usage: python -m stages.train {'|'.join(models.BUILDERS)} (got {' '.join(args)!r})")
    name, params = args[0], config.load_params()
    seed_everything(params.seed)
    logs = Path(params.paths.train_logs) / name
    train_path = data.split_path(params.paths.data, "train")
    train, val = data.load_split(train_path), data.load_split(data.split_path(params.paths.data, "val"))
    num_classes = len(data.load_class_names(train_path))
    start = time.perf_counter()
    model = fit(name, getattr(params.train, name), train, val, num_classes, logs / "history.csv")
    seconds = time.perf_counter() - start
    with atomic_path(Path(params.paths.models) / f"{name}.keras") as tmp:
        models.inference_model(model).save(tmp)
    write_json(logs / "summary.json", {"train_seconds": round(seconds, 2), "train_images": int(len(train[1]))})


if __name__ == "__main__":
    run_stage(main)
