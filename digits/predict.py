"""Classify photos or drawings of digits with a trained model (a command, not a DVC stage).

``python -m digits.predict IMAGE... [--model dense|cnn] [--format keras|h5|savedmodel|tflite] [--json]
[--project DIR] [--trust-model]``

Each image (PNG, JPEG, ... of any size within ``digits.read.imagefile``'s caps; dark ink on light paper, light on dark,
or any colour on transparent paper; ``-`` reads one image from standard input) is brought to MNIST's form by
``digits.read.images`` and preprocessed as in training (``arrays.preprocess``). The model comes from ``train``
(``keras``, the default) or ``export`` (the other formats); class names from ``artifacts/data/test.npz``. These and
``params.yaml`` are the project's: ``--project DIR``, by default the current folder if it holds ``params.yaml`` and
``dvc.yaml``, else the folder this package lives in; IMAGE paths stay relative to the current folder. A SavedModel
runs its own graph, so from any other project it needs ``--trust-model`` (docs/using.md, "Whose model files are
safe").
Images are decoded on two threads a chunk ahead and the model is called once per chunk of 64 (``digits.read.reading``),
so 10,000 files cost 157 model calls, with memory bounded by the chunk. Prints ``IMAGE: class (probability 0.997)``
per image, in the order given, as its chunk is answered, or with ``--json`` one JSON list of
objects with keys ``class``, ``file``, ``label`` (the class index), ``probability`` and ``digits`` (its box).
Ink the project's "not a digit" detector (stage ``nondigit``) refuses is dropped; an image of nothing else prints
``IMAGE: not a digit (...)``, its class ``not a digit`` with ``not_a_digit`` (score, the model's guess). A
written number ("2026") is read digit by digit, left to right (``digits.read.segment``; ``answer_image`` and
docs/using.md give its line and keys; ``digits.read.answers`` its ``Answer``). An image that cannot be read
gets one ``error: IMAGE: ...`` line on stderr, the others are still answered, and the exit status is 1. Ctrl-C
prints the answers so far (the JSON list too) and exits 130.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from digits import project
from digits.config import schema
from digits.read import images, reading, streaming
from digits.read.answers import Answer, line
from digits.runtime import quiet, runner

INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C (128 + SIGINT)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m digits.predict", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="PNG, JPEG, ... files, a digit or a number each; - for stdin")
    project.add_options(parser, "one of params.yaml's models")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    return parser.parse_args(argv)


def classify(names: list[str], answers: list[Answer], folder: Path, args: argparse.Namespace) -> bool:
    """Answer each image as it is read, appending to ``answers`` (printed at once unless ``--json``), so an
    interruption loses nothing already answered. Returns whether every image was answered."""
    labels = project.class_names(folder)
    with quiet.sigint_to_main_thread():  # the runtimes start their threads loading and on their first call
        model = project.load_model(schema.load_params(folder / schema.PARAMS_FILE), folder, args.model, args.format,
                                   args.trust_model)
        predict = reading.with_detector(model, project.load_detector(folder))
        predict(np.zeros((1, images.SIZE, images.SIZE), np.float32))
    ok = True
    for reply in streaming.answers(names, predict, labels):
        if isinstance(reply, Exception):
            print(f"error: {reply}", file=sys.stderr, flush=True)
            ok = False
            continue
        answers.append(reply)
        if not args.json:
            print(line(reply), flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    """Answer every readable image, in the order given; return 1 if any could not be read, 130 on Ctrl-C, else 0."""
    args = parse_args(argv)
    quiet.install()  # before the model loads TensorFlow: its start-up lines would bury the answers
    answers: list[Answer] = []
    try:
        ok = classify(args.images, answers, project.folder(args.project), args)
    except KeyboardInterrupt:
        ok = None
    if args.json:
        print(json.dumps([a.as_json() for a in answers], indent=2, sort_keys=True), flush=True)
    if ok is None:
        print(f"error: interrupted after {len(answers)} of {len(args.images)} images", file=sys.stderr)
        return INTERRUPTED
    return 0 if ok else 1


if __name__ == "__main__":
    runner.exit_on_error(main)
