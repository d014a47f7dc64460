"""Training-time augmentation against the robustness suite, measured on the VALIDATION split (never used to choose
on the test set): per option, one training run through the stage's own ``training.fit``, its seconds (wall, and
this process's CPU seconds, which other load on a shared machine disturbs less), the saved (inference) model's
clean validation accuracy, and its accuracy on every corruption of the validation split
(``digits.evaluate.robustness``, generated as ``stages.corrupt`` does from ``seed``) with their mean.

``--check-test`` adds the clean test accuracy, only to check the pipeline's floor (CNN >= 99.4%) for the option
already chosen on validation. Run in a prepared workspace (``artifacts/data``); prints one JSON line per option.
Command: ``python -m bench.augment_robustness [--model cnn] [--options off,on,shift,rotate,strong] [--epochs 5]
[--seed N] [--wild-seed N] [--check-test]``; ``wild_val`` is the accuracy on a validation draw of the wild sets.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.wild import read
from digits.config import fixed, schema
from digits.corrupt import corruptions
from digits.data import arrays
from digits.evaluate import robustness
from digits.synthetic import photos
from digits.train import inputs, models, training

# augment settings per option (sizes not named are 0: that layer left out); "on" is the geometric trio at
# params.yaml's former sizes, "photo" the photometric trio
GEOMETRIC = dict(shift=0.05, rotation=5, zoom=0.05)
PHOTOMETRIC = dict(brightness=0.5, contrast=0.5, noise=0.1)
OPTIONS = {
    "off": dict(enabled=False),
    "on": dict(enabled=True, **GEOMETRIC),
    "shift": dict(enabled=True, shift=0.05),
    "rotate": dict(enabled=True, rotation=10),
    "strong": dict(enabled=True, shift=0.1, rotation=10, zoom=0.1),
    "bright": dict(enabled=True, brightness=0.5),
    "photo": dict(enabled=True, **PHOTOMETRIC),
    "photo_shift": dict(enabled=True, shift=0.1, **PHOTOMETRIC),
    "photo_on": dict(enabled=True, **GEOMETRIC, **PHOTOMETRIC),
    "photo_strong": dict(enabled=True, shift=0.1, rotation=10, zoom=0.1, **PHOTOMETRIC),
    "photo_on_blur": dict(enabled=True, **GEOMETRIC, **PHOTOMETRIC, blur=1.5),
    "soft_on_blur": dict(enabled=True, **GEOMETRIC, brightness=0.3, contrast=0.5, noise=0.1, blur=1.5),
    "soft_on": dict(enabled=True, **GEOMETRIC, brightness=0.3, contrast=0.5, noise=0.1),
    "soft_shift_blur": dict(enabled=True, shift=0.05, brightness=0.3, contrast=0.5, noise=0.1, blur=1.5),
    "soft_photo": dict(enabled=True, brightness=0.3, contrast=0.5, noise=0.1),
    "soft_photo_blur": dict(enabled=True, brightness=0.3, contrast=0.5, noise=0.1, blur=1.5),
    "mild_shift_blur": dict(enabled=True, shift=0.05, brightness=0.3, contrast=0.3, blur=1.0),
    "mild_on_blur": dict(enabled=True, **GEOMETRIC, brightness=0.3, contrast=0.3, blur=1.0),
    "mild_photo": dict(enabled=True, brightness=0.3, contrast=0.3),
    "faint": dict(enabled=True, brightness=0.2),
    "mild_shift": dict(enabled=True, shift=0.05, brightness=0.3, contrast=0.3),
    "bright_blur": dict(enabled=True, brightness=0.3, blur=1.0),
    "shift_blur": dict(enabled=True, shift=0.05, blur=1.0),
    "soft_on_blur1": dict(enabled=True, **GEOMETRIC, brightness=0.3, contrast=0.5, noise=0.1, blur=1.0),
}


def augment_config(option: str) -> schema.AugmentConfig:
    sizes = {field.name: 0.0 for field in dataclasses.fields(schema.AugmentConfig) if field.name != "enabled"}
    return schema.AugmentConfig(**{**sizes, **OPTIONS[option]})


def wild_validation(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``digits.synthetic.photos``'s drawn and fonts sets under the ``photo`` condition, drawn with ``seed`` (bench.wild
    reports seed 0, so another seed is a validation draw), read as ``predict`` reads a file: name -> (images,
    labels)."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in photos.SETS:
            files = photos.photos(name, "photo", 30, seed)
            out[name] = read(files, Path(tmp)), np.array([f[0] for f in files])
    return out


def run(params: schema.Params, model: str, option: str, epochs: int, suite: robustness.Suite,
        check_test: bool, wild_sets: dict) -> dict:
    cfg = getattr(params.train, model)
    cfg = dataclasses.replace(cfg, epochs=epochs, augment=augment_config(option))
    folder = schema.PATHS.data
    val = arrays.load_split(arrays.split_path(folder, "val"))
    training.seed_everything(params.seed)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        start, cpu = time.perf_counter(), time.process_time()
        fitted, _ = training.fit(model, cfg, inputs.Shards.open(arrays.train_shards(folder), False), val, 10,
                                 Path(tmp) / "history.csv", params.seed)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    saved = models.inference_model(fitted)
    clean = robustness.accuracies(saved, {"clean": val[0]}, val[1], 1000)["clean"]
    scores = robustness.accuracies(saved, suite, val[1], 1000)
    result = {"model": model, "option": option, **dataclasses.asdict(augment_config(option)), "epochs": epochs,
              "train_seconds": round(seconds, 1),
              "train_cpu_seconds": round(cpu, 1), "val_accuracy": round(clean, 4),
              "robust_val_mean": round(float(np.mean(list(scores.values()))), 4),
              "worst": robustness.worst(scores), "per_corruption": {k: round(v, 4) for k, v in scores.items()}}
    result["wild_val"] = {name: round(robustness.accuracies(saved, {"w": x}, y, 1000)["w"], 4)
                          for name, (x, y) in wild_sets.items()}
    if check_test:
        test = arrays.load_split(arrays.split_path(folder, "test"))
        result["test_accuracy"] = round(robustness.accuracies(saved, {"t": test[0]}, test[1], 1000)["t"], 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn", choices=fixed.MODEL_NAMES)
    parser.add_argument("--options", default="off,on,shift,strong")
    parser.add_argument("--epochs", type=int, default=None, help="default: params.yaml's")
    parser.add_argument("--check-test", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="training seed (default: params.yaml's); the "
                        "suite keeps params.yaml's, so runs with different seeds are scored on the same images")
    parser.add_argument("--wild-seed", type=int, default=1, help="seed of the wild validation draw (bench.wild "
                        "reports seed 0)")
    args = parser.parse_args()
    params = schema.load_params()
    train_params = params if args.seed is None else dataclasses.replace(params, seed=args.seed)
    epochs = args.epochs or getattr(params.train, args.model).epochs
    val_images, _ = arrays.load_split(arrays.split_path(schema.PATHS.data, "val"))
    # The families and seed the corrupt stage uses, on the validation split instead of the test set.
    suite = corruptions.corrupted_test_set(val_images, params.seed, params.robustness.corruptions)
    wild_sets = wild_validation(args.wild_seed)
    for option in args.options.split(","):
        result = run(train_params, args.model, option, epochs, suite, args.check_test, wild_sets)
        print(json.dumps({"seed": train_params.seed, **result}), flush=True)


if __name__ == "__main__":
    main()
