"""The measurements behind the training recipe's speed settings, on full MNIST (docs/results.md).

``steps``: training images/second per ``steps_per_execution`` value, epochs alternating between the settings so
machine noise hits all alike (medians after a warm-up epoch). ``runs``: whole training runs through the stage's
own ``training.fit``, one per value of one ``train.<model>`` field (``--set dtype_policy=float32,mixed_bfloat16``,
``--set learning_rate=0.003,0.004``) and seed (``--seeds 42,43``), the other fields as ``params.yaml`` has them
or as ``--with KEY=V`` (repeatable) fixes them; each with its seconds, last validation accuracy and the saved
(float32) model's test accuracy. Run in a prepared workspace; prints one JSON line per result.
Command: ``python -m bench.levers steps|runs [--model cnn] [--values 1,16] [--rounds 4] [--set KEY=V[,V...]]
[--with KEY=V ...] [--seeds 42[,43...]]``.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import math
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import yaml

from digits.config import schema
from digits.data import arrays
from digits.train import inputs, models, training


def step_speeds(params: schema.Params, model: str, values: list[int], rounds: int) -> dict[int, float]:
    cfg, shards = getattr(params.train, model), inputs.Shards.open(arrays.train_shards(schema.PATHS.data), False)
    steps = math.ceil(len(shards) / cfg.batch_size)
    fitted = {v: models.compiled(model, dataclasses.replace(cfg, steps_per_execution=v), shards.image_shape, 10,
                                 steps) for v in values}
    speeds: dict[int, list[float]] = {v: [] for v in values}
    for epoch in range(rounds + 1):  # epoch 0 traces the graphs and is not counted
        for v, m in fitted.items():
            start = time.perf_counter()
            m.fit(shards.dataset(params.seed, epoch, cfg.batch_size, 10), verbose=0)
            if epoch:
                speeds[v].append(len(shards) / (time.perf_counter() - start))
    return {v: round(float(np.median(s)), 1) for v, s in speeds.items()}


def training_run(params: schema.Params, model: str, cfg: models.ModelConfig) -> dict:
    """One run as ``train@<model>`` makes it: seconds, last epoch's validation accuracy, test accuracy."""
    folder = schema.PATHS.data
    val, test = (arrays.load_split(arrays.split_path(folder, s)) for s in ("val", "test"))
    training.seed_everything(params.seed)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        fitted, _ = training.fit(model, cfg, inputs.Shards.open(arrays.train_shards(folder), False), val, 10,
                              Path(tmp) / "history.csv", params.seed)
        seconds = time.perf_counter() - start
        val_accuracy = float((Path(tmp) / "history.csv").read_text().splitlines()[-1].split(",")[4])
    saved = models.inference_model(fitted)
    saved.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    _, accuracy = saved.evaluate(arrays.preprocess(test[0]), keras.utils.to_categorical(test[1], 10), batch_size=1000,
                                 verbose=0)
    return {"train_seconds": round(seconds, 2), "val_accuracy": round(val_accuracy, 4),
            "test_accuracy": round(float(accuracy), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("steps", "runs"))
    parser.add_argument("--model", default="cnn", choices=("dense", "cnn"))
    parser.add_argument("--values", default="1,16", help="steps: steps_per_execution values")
    parser.add_argument("--rounds", type=int, default=4, help="steps: epochs counted per value")
    parser.add_argument("--set", default="", help="runs: one train.<model> field and its values, KEY=V1,V2")
    parser.add_argument("--with", dest="fixed", action="append", default=[], help="runs: a field fixed, KEY=V")
    parser.add_argument("--seeds", default="", help="runs: seeds, one run each (default: params.yaml's)")
    args = parser.parse_args()
    params = schema.load_params()
    if args.what == "steps":
        for v, speed in step_speeds(params, args.model, [int(v) for v in args.values.split(",")], args.rounds).items():
            print(json.dumps({"model": args.model, "steps_per_execution": v, "images_per_second": speed}), flush=True)
        return
    fixed = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.fixed)}
    base = dataclasses.replace(getattr(params.train, args.model), **fixed)
    key, values = args.set.split("=", 1) if args.set else ("epochs", str(base.epochs))
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [params.seed]
    for value in values.split(","):
        cfg = dataclasses.replace(base, **{key: yaml.safe_load(value)})
        for seed in seeds:
            print(json.dumps({"model": args.model, "seed": seed, **fixed, key: getattr(cfg, key),
                              **training_run(dataclasses.replace(params, seed=seed), args.model, cfg)}), flush=True)


if __name__ == "__main__":
    main()
