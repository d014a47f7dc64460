"""Classify photos or drawings of digits with a trained model (a command, not a DVC stage).

``python -m digits.predict IMAGE... [--model dense|cnn] [--format keras|h5|savedmodel|tflite] [--json]
[--project DIR] [--trust-model]``

Each image (PNG, JPEG, ... of any size within ``digits.read.imagefile``'s caps; dark ink on light paper, light on dark,
or any colour on transparent paper; ``-`` reads one image from standard input) is brought to MNIST's form by
``digits.read.images`` and preprocessed as in training (``arrays.preprocess``). The model comes from ``train``
(``keras``, the default) or ``export`` (the other formats); class names from ``artifacts/data/test.npz``. These and
``params.yaml`` are the project's: ``--project DIR``, by default the current folder if it holds ``params.yaml`` and
``dvc.yaml``, else the folder this package lives in; IMAGE paths stay relative to the current folder. A SavedModel
runs its own graph, so from any other project it needs ``--trust-model`` (docs/predict.md, "Whose model files are
safe").
Images are decoded on two threads a chunk ahead and the model is called once per chunk of 64 (``digits.read.reading``),
so 10,000 files cost 157 model calls, with memory bounded by the chunk. Prints ``IMAGE: class (probability 0.997)``
per image, in the order given, as its chunk is answered, or with ``--json`` one JSON list of
objects with keys ``class``, ``file``, ``label`` (the class index), ``probability`` and ``digits`` (its box).
Ink the project's "not a digit" detector (stage ``nondigit``) refuses is dropped; an image of nothing else prints
``IMAGE: not a digit (...)``, its class ``not a digit`` with ``not_a_digit`` (score, the model's guess). A
written number ("2026") is read digit by digit, left to right (``digits.read.segment``; ``answer_image`` and
docs/numbers.md give its line and keys). An image that cannot be read
gets one ``error: IMAGE: ...`` line on stderr, the others are still answered, and the exit status is 1. Ctrl-C
prints the answers so far (the JSON list too) and exits 130.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.export import formats, loaders
from digits.nondigit import detector
from digits.read import images, reading, streaming
from digits.runtime import quiet, runner
from digits.read.reading import line

INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C (128 + SIGINT)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m digits.predict", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="PNG, JPEG, ... files, a digit or a number each; - for stdin")
    parser.add_argument("--model", default="cnn", help="one of params.yaml's models (default: cnn)")
    parser.add_argument("--format", default="keras", choices=formats.FORMATS,
                        help="keras: the trained model; the others: export's files (default: keras)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    parser.add_argument("--project", type=Path, default=None,
                        help="the project folder holding params.yaml and artifacts/ (default: the current folder "
                             f"if it holds params.yaml and dvc.yaml, else {runner.PACKAGE_ROOT})")
    trust_option(parser)
    return parser.parse_args(argv)


def trust_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust-model", action="store_true", help="load --format savedmodel from another "
                        "project's folder: its graph may read and write files (default: only from your own)")


def project_folder(chosen: Path | None) -> Path:
    """``--project``, else ``runner.project_root()``: so the command works from any folder."""
    chosen = runner.project_root() if chosen is None else chosen
    if not (chosen / schema.PARAMS_FILE).is_file():
        raise OSError(f"{chosen}: no {schema.PARAMS_FILE} here; --project must name the project's folder")
    return chosen


def own_project(project: Path) -> bool:
    """Whether ``project`` is the one this command would use by itself (the current folder's, or this checkout):
    its ``artifacts/`` were made by the user's own ``dvc repro``, unlike a folder named with ``--project``."""
    return project.resolve() == runner.project_root().resolve()


def load_model(params: schema.Params, project: Path, model: str, fmt: str, trust: bool = False
               ) -> loaders.Predictor:
    """``model`` of ``project`` in ``fmt``; a SavedModel only from the user's own project or with ``trust``."""
    if model not in params.models:
        raise ValueError(f"--model {model}: not one of params.yaml's models ({', '.join(params.models)})")
    path = formats.model_path(model, fmt, project)
    how = (f"`dvc repro train@{model}`" if fmt == "keras"
           else f"`dvc repro export@{model}` (with {fmt} under export.formats in params.yaml)")
    if not path.exists():
        raise OSError(f"{path}: not found; run {how}")
    if fmt == "savedmodel" and not (trust or own_project(project)):
        raise ValueError(f"{path}: refused: {loaders.SAVEDMODEL_RISK}, and it is not this checkout's own; pass "
                         "--trust-model if you trust whoever made it, or use --format tflite or keras (safe to load)")
    try:
        return loaders.load(path, fmt)
    except loaders.CorruptModel as err:
        raise ValueError(f"{err}; rerun {how}") from None


def load_detector(project: Path) -> loaders.Predictor | None:
    """The project's "not a digit" detector (stage ``nondigit``), loaded in Keras' safe mode as any ``.keras``
    file is; None, said once on stderr, where the project has none (made before the stage existed)."""
    path = detector.path(project)
    if not path.exists():
        print(f"note: {path} not found, so any ink is read as digits; `dvc repro nondigit` makes it",
              file=sys.stderr)
        return None
    try:
        return loaders.load(path, "keras")
    except loaders.CorruptModel as err:
        raise ValueError(f"{err}; rerun `dvc repro nondigit`") from None


def classify(names: list[str], answers: list[dict], project: Path, args: argparse.Namespace) -> bool:
    """Answer each image as it is read, appending to ``answers`` (printed at once unless ``--json``), so an
    interruption loses nothing already answered. Returns whether every image was answered."""
    labels = arrays.load_class_names(arrays.split_path(project / schema.PATHS.data, "test"))
    with quiet.sigint_to_main_thread():  # the runtimes start their threads loading and on their first call
        predict = reading.with_detector(load_model(schema.load_params(project / schema.PARAMS_FILE), project,
                                                   args.model, args.format, args.trust_model), load_detector(project))
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
    answers: list[dict] = []
    try:
        ok = classify(args.images, answers, project_folder(args.project), args)
    except KeyboardInterrupt:
        ok = None
    if args.json:
        print(json.dumps(answers, indent=2, sort_keys=True), flush=True)
    if ok is None:
        print(f"error: interrupted after {len(answers)} of {len(args.images)} images", file=sys.stderr)
        return INTERRUPTED
    return 0 if ok else 1


if __name__ == "__main__":
    runner.exit_on_error(main)
