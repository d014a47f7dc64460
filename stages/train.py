"""Stage ``train@<model>``: fit the dense model or the CNN on the prepared arrays.

Inputs: ``artifacts/data/{train,val}.npz``, params ``seed`` and ``train.<model>``.
Outputs: ``artifacts/models/<model>.keras`` (without the training-only augmentation layers);
``artifacts/train/<model>/history.csv`` (per-epoch loss, accuracy, val_loss, val_accuracy, learning_rate) and
``summary.json`` (training seconds, of this process). While it runs, ``artifacts/checkpoints/<model>/`` holds
the last completed epoch, from which a rerun after a kill resumes (``stages/checkpoint.py``).
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
import numpy as np
import tensorflow as tf

from stages import checkpoint, config, data, models
from stages.common import atomic_path, run_stage, write_bytes, write_json

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


def make_optimizer(cfg: config.Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr: float | keras.optimizers.schedules.LearningRateSchedule = cfg.learning_rate
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps_per_epoch * cfg.epochs)
    return keras.optimizers.Adam(learning_rate=lr)


def compiled(name: str, cfg: models.ModelConfig, input_shape: tuple[int, ...], num_classes: int,
             steps_per_epoch: int) -> keras.Model:
    model = models.build(name, cfg, input_shape, num_classes)
    model.compile(
        optimizer=make_optimizer(cfg, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def fit(name: str, cfg: models.ModelConfig, train: data.Arrays, val: data.Arrays, num_classes: int,
        history: Path, seed: int = 0, resume: tuple[Path, str] | None = None) -> keras.Model:
    """Build, compile and fit model ``name``, one ``fit`` per epoch; per-epoch metrics go to ``history``.

    Each epoch's order is drawn from (``seed``, epoch) rather than from a running generator, and every
    completed epoch is checkpointed to ``resume`` = (folder, fingerprint), so a run killed mid-epoch and
    resumed takes the same steps as one never interrupted.
    """
    x, y = data.preprocess(train[0]), keras.utils.to_categorical(train[1], num_classes)
    val_data = (data.preprocess(val[0]), keras.utils.to_categorical(val[1], num_classes)) if len(val[1]) else None
    restored = checkpoint.load(*resume) if resume else None
    model, rows = restored or (compiled(name, cfg, x.shape[1:], num_classes, math.ceil(len(x) / cfg.batch_size)), [])
    if restored:
        print(f"train: {name}: resuming after epoch {len(rows)} of {cfg.epochs} from {resume[0]}", flush=True)
    progress = EpochsOf(cfg.epochs)
    for epoch in range(len(rows), cfg.epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(x))
        logs = model.fit(x[order], y[order], batch_size=cfg.batch_size, initial_epoch=epoch, epochs=epoch + 1,
                         shuffle=False, validation_data=val_data, callbacks=[progress],
                         verbose=1 if sys.stdout.isatty() else 2).history
        rows.append(history_row(epoch, logs, model))
        write_bytes(history, history_csv(rows))  # whole and atomic each epoch: a killed run leaves a valid file
        if resume:
            checkpoint.save(*resume, model, rows)
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
    train_path, val_path = data.split_path(params.paths.data, "train"), data.split_path(params.paths.data, "val")
    train, val = data.load_split(train_path), data.load_split(val_path)
    num_classes = len(data.load_class_names(train_path))
    cfg, saved = getattr(params.train, name), Path(params.paths.checkpoints) / name
    key = checkpoint.fingerprint(name, cfg, params.seed, (train_path, val_path))
    start = time.perf_counter()
    model = fit(name, cfg, train, val, num_classes, logs / "history.csv", params.seed, (saved, key))
    seconds = time.perf_counter() - start
    with atomic_path(Path(params.paths.models) / f"{name}.keras") as tmp:
        models.inference_model(model).save(tmp)
    checkpoint.clear(saved)
    write_json(logs / "summary.json", {"train_seconds": round(seconds, 2), "train_images": int(len(train[1]))})


if __name__ == "__main__":
    run_stage(main)
