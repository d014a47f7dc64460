"""In-process measurements that ``dvc repro`` cannot give: the CNN's test accuracy after every epoch, and the
throughput of a bare ``model.fit`` on in-memory arrays (the pipeline's input must not be slower).

Run in a prepared workspace (``artifacts/data``); prints one JSON line. Command: ``python -m bench.probe``.
"""
from __future__ import annotations

import contextlib
import io
import math
import tempfile
import time
from pathlib import Path

import keras

from bench import arrays as in_memory
from digits.config import schema
from digits.data import arrays
from digits.train import inputs, models, training

TARGETS = (0.99, 0.993)


class TestAccuracy(keras.callbacks.Callback):
    """Test accuracy after each epoch, and the training seconds (tests excluded) up to it."""

    def __init__(self, test: arrays.Arrays):
        super().__init__()
        self.x, self.labels = arrays.preprocess(test[0]), test[1]
        self.epochs: list[dict] = []
        self._seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._seconds += time.perf_counter() - self._start  # before the test pass, which is not training
        accuracy = float((self.model.predict(self.x, batch_size=1000, verbose=0).argmax(1) == self.labels).mean())
        self.epochs.append({"epoch": epoch + 1, "test_accuracy": accuracy, "seconds": round(self._seconds, 2)})


def first_reaching(epochs: list[dict], target: float) -> dict | None:
    return next(({"epoch": e["epoch"], "seconds": e["seconds"]} for e in epochs if e["test_accuracy"] >= target), None)


def accuracy_curve(params: schema.Params) -> dict:
    """Train the CNN exactly as ``train@cnn`` does, scoring the test set after each epoch."""
    folder = schema.PATHS.data
    val, test = (arrays.load_split(arrays.split_path(folder, s)) for s in ("val", "test"))
    probe = TestAccuracy(test)
    training.seed_everything(params.seed)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        training.fit("cnn", params.train.cnn, inputs.Shards.open(arrays.train_shards(folder), stream=False), val,
                  len(arrays.load_class_names(arrays.split_path(folder, "test"))), Path(tmp) / "history.csv",
                  params.seed, callbacks=(probe,))
    return {"epochs": probe.epochs, **{f"first_{t:.3f}": first_reaching(probe.epochs, t) for t in TARGETS}}


def input_speeds(params: schema.Params, rounds: int = 6) -> dict:
    """CNN training images/second, the pipeline's input against a bare ``model.fit`` on float arrays (same model
    and batch size): epochs alternate between the two, so a noisy machine slows both alike. Medians of the
    rounds after the first (which traces the graphs)."""
    cfg, folder = params.train.cnn, schema.PATHS.data
    shards = inputs.Shards.open(arrays.train_shards(folder), stream=False)
    images, labels = in_memory.load_train(folder)
    x, y = arrays.preprocess(images), keras.utils.to_categorical(labels, 10)
    training.seed_everything(params.seed)
    bare, piped = (models.compiled("cnn", cfg, x.shape[1:], 10, math.ceil(len(x) / cfg.batch_size)) for _ in "ab")
    speeds: dict[str, list[float]] = {"bare_fit": [], "pipeline": []}
    for epoch in range(rounds):
        for kind, fit in (("bare_fit", lambda: bare.fit(x, y, batch_size=cfg.batch_size, epochs=1, verbose=0)),
                          ("pipeline", lambda: piped.fit(shards.dataset(params.seed, epoch, cfg.batch_size, 10),
                                                         epochs=1, shuffle=False, verbose=0))):
            start = time.perf_counter()
            fit()
            speeds[kind].append(len(x) / (time.perf_counter() - start))
    medians = {kind: round(training.steady_speed(v), 1) for kind, v in speeds.items()}
    return {**medians, "pipeline_over_bare_fit": round(medians["pipeline"] / medians["bare_fit"], 3),
            "epochs_each": rounds, "batch_size": cfg.batch_size}


def main() -> None:
    import json

    params = schema.load_params()
    result = {"cnn_input_images_per_second": input_speeds(params),
              "cnn_test_accuracy_by_epoch": accuracy_curve(params)}
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
