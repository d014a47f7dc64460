"""Classify photos or drawings of digits with a trained model (a command, not a DVC stage).

``python -m stages.predict IMAGE... [--model dense|cnn] [--format keras|h5|savedmodel|tflite] [--json]``

Each image (PNG, JPEG, ... of any size; dark ink on light paper or light on dark) is brought to MNIST's form
by ``stages.images`` and preprocessed as in training (``data.preprocess``). The model comes from ``train``
(``keras``, the default) or ``export`` (the other formats); class names from ``artifacts/data/test.npz``.
Prints ``IMAGE: class (probability 0.997)`` per image, or with ``--json`` one JSON list of objects with keys
``class``, ``file``, ``label`` (the class index) and ``probability``. An image that cannot be read gets one
``error: IMAGE: ...`` line on stderr, the others are still answered, and the exit status is 1.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from stages import config, data, images, predictor
from stages.common import run_stage


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stages.predict", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, ... files, one digit each")
    parser.add_argument("--model", default="cnn", help="one of params.yaml's models (default: cnn)")
    parser.add_argument("--format", default="keras", choices=predictor.FORMATS,
                        help="keras: the trained model; the others: export's files (default: keras)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    return parser.parse_args(argv)


def read_digit(path: str) -> np.ndarray:
    """One image file → its digit as a 28×28 uint8 MNIST image; ValueError or OSError naming the file."""
    gray = images.decode(path)  # its errors name the file already
    try:
        return images.to_mnist(gray)
    except ValueError as err:  # a blank image
        raise ValueError(f"{path}: {err}") from None


def results(paths: list[str], probs: np.ndarray, class_names: tuple[str, ...]) -> list[dict]:
    """One ``{file, class, label, probability}`` per image, for the most probable class."""
    labels = probs.argmax(axis=1)
    return [
        {"file": path, "class": class_names[label], "label": int(label), "probability": round(float(p[label]), 6)}
        for path, label, p in zip(paths, labels, probs)
    ]


def load_model(params: config.Params, model: str, fmt: str) -> predictor.Predictor:
    if model not in params.models:
        raise ValueError(f"--model {model}: not one of params.yaml's models ({', '.join(params.models)})")
    path = predictor.model_path(params.paths, model, fmt)
    if not path.exists():
        how = (f"run `dvc repro train@{model}`" if fmt == "keras"
               else f"list {fmt} under export.formats in params.yaml and run `dvc repro export@{model}`")
        raise OSError(f"{path}: not found; {how}")
    return predictor.load(path, fmt)


def main(argv: list[str] | None = None) -> int:
    """Answer every readable image, in the order given; return 1 if any could not be read, else 0."""
    args = parse_args(argv)
    params = config.load_params()
    class_names = data.load_class_names(data.split_path(params.paths.data, "test"))
    predict = load_model(params, args.model, args.format)
    digits, errors = {}, {}  # by position in args.images, so a file named twice is answered twice
    for i, path in enumerate(args.images):
        try:
            digits[i] = read_digit(path)
        except (ValueError, OSError) as err:
            errors[i] = f"error: {err}"
    answers = {}
    if digits:
        probs = predict(data.preprocess(np.stack(list(digits.values()))))
        if probs.shape[1] != len(class_names):
            raise ValueError(f"the model has {probs.shape[1]} outputs but the data {len(class_names)} classes; "
                             "rerun `dvc repro`")
        answers = dict(zip(digits, results([args.images[i] for i in digits], probs, class_names)))
    for i in range(len(args.images)):  # flushed one by one, so errors and answers interleave in order
        if i in errors:
            print(errors[i], file=sys.stderr, flush=True)
        elif not args.json:
            answer = answers[i]
            print(f"{answer['file']}: {answer['class']} (probability {answer['probability']:.3f})", flush=True)
    if args.json:
        print(json.dumps(list(answers.values()), indent=2, sort_keys=True))
    return 1 if errors else 0


if __name__ == "__main__":
    run_stage(lambda: sys.exit(main()))
