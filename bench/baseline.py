"""The seed's recipe, for comparison: both architectures trained with Keras defaults in one process.

Keras defaults as the seed describes them: batch 32, Adam at 1e-3, no learning-rate schedule, no label
smoothing, no augmentation; the same train/test arrays as the pipeline (``artifacts/data``). Prints one JSON
line: per model, test accuracy, training seconds and training images/second; the process' wall time (TensorFlow's
start-up included, as for the seed's ``python main.py``) and peak memory.
Command: ``python -m bench.baseline [--epochs N] [--data artifacts/data]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import time

START = time.perf_counter()

import keras  # noqa: E402  (timed: TensorFlow's start-up is part of the baseline's wall time)

from stages import config, data, models  # noqa: E402

BATCH_SIZE, LEARNING_RATE = 32, 1e-3


def seed_recipe(cfg: models.ModelConfig, epochs: int) -> models.ModelConfig:
    """``cfg``'s architecture with the seed's training recipe."""
    return dataclasses.replace(cfg, epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                               schedule="constant", label_smoothing=0.0,
                               augment=dataclasses.replace(cfg.augment, enabled=False))


def train_and_score(name: str, cfg: models.ModelConfig, train: data.Arrays, test: data.Arrays,
                    num_classes: int) -> dict:
    model = models.build(name, cfg, train[0].shape[1:], num_classes)
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(data.preprocess(train[0]), train[1], batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=2)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(data.preprocess(test[0]), test[1], batch_size=1000, verbose=0)
    return {"accuracy": round(float(accuracy), 4), "epochs": cfg.epochs, "train_seconds": round(seconds, 2),
            "train_images_per_second": round(len(train[1]) * cfg.epochs / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per model (the seed gives no number)")
    parser.add_argument("--data", default=None, help="folder of train.npz/test.npz (default: paths.data)")
    args = parser.parse_args()
    params = config.load_params()
    folder = args.data or params.paths.data
    keras.utils.set_random_seed(params.seed)
    train, test = data.load_train(folder), data.load_split(data.split_path(folder, "test"))
    num_classes = len(data.load_class_names(data.split_path(folder, "test")))
    result = {name: train_and_score(name, seed_recipe(getattr(params.train, name), args.epochs), train, test,
                                    num_classes) for name in ("dense", "cnn")}
    result["wall_seconds"] = round(time.perf_counter() - START, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
