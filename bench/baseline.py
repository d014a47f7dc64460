"""A recipe trained on plain in-memory arrays in one process, on whatever Keras backend is set.

``--recipe seed`` (the baseline of ``bench.speed``): Keras defaults as the seed describes them: batch 32, Adam at
1e-3, no learning-rate schedule, no label smoothing, no augmentation, float32, one step per call.
``--recipe pipeline``: ``train.<model>``'s own recipe from params.yaml. Both models, the same architectures and
the same train/test arrays as the pipeline (``artifacts/data``). Needs Keras but not TensorFlow, so it also
measures a GPU machine that has only JAX or PyTorch (``KERAS_BACKEND=jax``). Prints one JSON line: per model, test
accuracy, training seconds and images/second, evaluation images/second; the process' wall time (the backend's
start-up included, as for the seed's ``python main.py``), peak memory, the backend and the accelerators it sees.
Command: ``python -m bench.baseline [--recipe seed|pipeline] [--epochs N] [--data artifacts/data]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import resource
import time

START = time.perf_counter()

import keras  # noqa: E402  (timed: the backend's start-up is part of the baseline's wall time)

from bench import arrays as in_memory  # noqa: E402
from digits.config import schema  # noqa: E402
from digits.data import arrays  # noqa: E402
from digits.train import models  # noqa: E402

BATCH_SIZE, LEARNING_RATE, EPOCHS = 32, 1e-3, 10


def seed_recipe(cfg: models.ModelConfig, epochs: int) -> models.ModelConfig:
    """``cfg``'s architecture with the seed's training recipe."""
    return dataclasses.replace(cfg, epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                               schedule="constant", label_smoothing=0.0, dtype_policy="float32",
                               steps_per_execution=1, augment=dataclasses.replace(cfg.augment, enabled=False))


def accelerators() -> list[str]:
    """The GPUs the Keras backend trains on; empty on a CPU-only machine."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax
        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    if backend == "torch":
        import torch
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    import tensorflow as tf
    return [d.name for d in tf.config.list_physical_devices("GPU")]


def train_and_score(name: str, cfg: models.ModelConfig, train: arrays.Arrays, test: arrays.Arrays,
                    num_classes: int) -> dict:
    steps = math.ceil(len(train[1]) / cfg.batch_size)
    model = models.compiled(name, cfg, train[0].shape[1:], num_classes, steps)
    x, y = arrays.preprocess(train[0]), keras.utils.to_categorical(train[1], num_classes)
    start = time.perf_counter()
    model.fit(x, y, batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=2)
    seconds = time.perf_counter() - start
    x_test, y_test = arrays.preprocess(test[0]), keras.utils.to_categorical(test[1], num_classes)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)  # also compiles predict's graph
    start = time.perf_counter()
    model.predict(x_test, batch_size=1000, verbose=0)
    eval_seconds = time.perf_counter() - start
    return {"accuracy": round(float(accuracy), 4), "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "train_seconds": round(seconds, 2), "train_images_per_second": round(len(y) * cfg.epochs / seconds, 1),
            "eval_images_per_second": round(len(y_test) / eval_seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=("seed", "pipeline"), default="seed")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs per model (default: {EPOCHS} for seed, the seed names no number; "
                        "params' for pipeline)")
    parser.add_argument("--data", default=None, help="folder of train/ and test.npz (default: paths.data)")
    args = parser.parse_args()
    params = schema.load_params()
    folder = args.data or schema.PATHS.data
    keras.utils.set_random_seed(params.seed)
    train, test = in_memory.load_train(folder), arrays.load_split(arrays.split_path(folder, "test"))
    num_classes = len(arrays.load_class_names(arrays.split_path(folder, "test")))
    result = {}
    for name in ("dense", "cnn"):
        cfg = getattr(params.train, name)
        if args.recipe == "seed":
            cfg = seed_recipe(cfg, args.epochs or EPOCHS)
        elif args.epochs:
            cfg = dataclasses.replace(cfg, epochs=args.epochs)
        result[name] = train_and_score(name, cfg, train, test, num_classes)
    result.update(recipe=args.recipe, backend=keras.config.backend(), accelerators=accelerators(),
                  wall_seconds=round(time.perf_counter() - START, 2),
                  peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
